// Checks for the numeric options of the auth tables: a nonsense limit is a programming error, so
// it throws at construction instead of silently disabling a bound.

export function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

export function positiveMs(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number of milliseconds, got ${v}`);
  return v;
}
