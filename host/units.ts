// Config value units: sizes ("100K", "1MB" or a JSON integer of bytes), durations ("30 secs",
// "5 mins", "infinite") and counts (a JSON integer or a string of digits). The words follow Ioto's
// config files, case-insensitive. Every refusal is a ConfigError whose message is exactly
// `<key.path>: <JSON of the value> — <rule>`.

export class ConfigError extends Error {
  /** Key path the error is about (e.g. "web.limits.body"), or null for file-level errors. */
  readonly key: string | null;
  constructor(message: string, key: string | null = null) {
    super(message);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** JSON of a value for a message, shortened past 60 characters. */
export function showValue(value: unknown): string {
  let s: string;
  try {
    s = value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 60 ? s.slice(0, 59) + '…' : s;
}

export function fail(path: string, value: unknown, rule: string): never {
  throw new ConfigError(`${path}: ${showValue(value)} — ${rule}`, path);
}

/** Largest value a module config word holds. */
export const U32_MAX = 0xffffffff;

const KIB = 1024, MIB = 1024 * KIB, GIB = 1024 * MIB;
const SIZE_UNITS: Record<string, number> = {
  b: 1, byte: 1, bytes: 1,
  k: KIB, kb: KIB, kib: KIB,
  m: MIB, mb: MIB, mib: MIB,
  g: GIB, gb: GIB, gib: GIB,
};
const SIZE_UNIT_LIST = 'bytes, K, KB, M, MB, G, GB';

const SEC = 1000, MIN = 60 * SEC, HOUR = 60 * MIN, DAY = 24 * HOUR;
const DURATION_UNITS: Record<string, number> = {
  msec: 1, msecs: 1, millisecond: 1, milliseconds: 1,
  sec: SEC, secs: SEC, second: SEC, seconds: SEC,
  min: MIN, mins: MIN, minute: MIN, minutes: MIN,
  hr: HOUR, hrs: HOUR, hour: HOUR, hours: HOUR,
  day: DAY, days: DAY,
  week: 7 * DAY, weeks: 7 * DAY,
  month: 30 * DAY, months: 30 * DAY,
  year: 365 * DAY, years: 365 * DAY,
};
const DURATION_UNIT_LIST = 'msecs, secs, mins, hours, days, weeks, months, years';
/** Short forms people write that mean different things to different programs ("5m"). */
const AMBIGUOUS_UNITS = new Set(['ms', 's', 'm', 'h', 'd', 'w', 'y', 'mo', 'mn', 'mi', 'yr', 'yrs', 'wk', 'wks']);
const INFINITE_WORDS = new Set(['infinite', 'never', 'forever', 'unlimited']);

// Optional sign, a decimal number, optional white space, optional unit word.
const AMOUNT = /^([+-]?)(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)$/;

export interface SizeOptions { unlimited?: boolean }

/**
 * Bytes of a size: a JSON integer (bytes) or a string "<whole number>[ ]<unit>" with unit bytes,
 * K/KB/KiB, M/MB/MiB or G/GB/GiB (1024-based, case-insensitive). "unlimited"/"infinite" give
 * Infinity only when `opts.unlimited`; results above U32_MAX are refused (the module words are u32).
 */
export function parseSize(value: unknown, path: string, opts: SizeOptions = {}): number {
  let bytes: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) fail(path, value, 'a size in bytes must be a whole number, 0 or more');
    bytes = value;
  } else if (typeof value === 'string') {
    const s = value.trim();
    if (INFINITE_WORDS.has(s.toLowerCase())) {
      if (opts.unlimited) return Infinity;
      fail(path, value, 'this size cannot be unlimited');
    }
    const m = AMOUNT.exec(s);
    if (!m) fail(path, value, `a size is a whole number with a unit (${SIZE_UNIT_LIST}), as in "100K"`);
    const [, sign, digits, unitWord] = m;
    if (unitWord === '') fail(path, value, `a size in a string needs a unit (${SIZE_UNIT_LIST}); write bytes as a JSON number`);
    const mult = SIZE_UNITS[unitWord.toLowerCase()];
    if (mult === undefined) fail(path, value, `unknown size unit "${unitWord}" (use ${SIZE_UNIT_LIST})`);
    if (sign === '-') fail(path, value, 'a size cannot be negative');
    const n = Number(digits);
    if (!Number.isInteger(n)) {
      const total = n * mult;
      fail(path, value, `the count before the unit must be a whole number${Number.isInteger(total) ? ` (write "${formatSize(total)}")` : ''}`);
    }
    bytes = n * mult;
  } else {
    fail(path, value, `a size is a JSON integer of bytes or a string with a unit (${SIZE_UNIT_LIST}), as in "100K"`);
  }
  if (bytes > U32_MAX) fail(path, value, `too large: at most ${U32_MAX} bytes`);
  return bytes;
}

export interface DurationOptions {
  /** Accept "infinite" / "never" / "forever" / "unlimited" (→ Infinity). Default true. */
  infinite?: boolean;
  /** Accept zero. Default false. */
  zero?: boolean;
  /** Largest finite value in ms (default 2^31 − 1, what the module's wrapping u32 clock can compare). */
  max?: number;
  /** Text for the too-long rule. */
  maxRule?: string;
}

/** Largest finite timeout: the module compares u32 millisecond clocks that wrap. */
export const MAX_TIMEOUT_MS = 0x7fffffff;
const MAX_TIMEOUT_RULE = `too long: the module's clock allows at most ${MAX_TIMEOUT_MS} ms (about 24.8 days); use "infinite" for no limit`;

/**
 * Milliseconds of a duration "<whole number>[ ]<unit>" (units msecs … years, case-insensitive;
 * month = 30 days, year = 365 days), or Infinity for "infinite" / "never" / "forever" /
 * "unlimited". A bare number has no unit and is refused, as are short forms like "5m".
 */
export function parseDuration(value: unknown, path: string, opts: DurationOptions = {}): number {
  const { infinite = true, zero = false, max = MAX_TIMEOUT_MS, maxRule = MAX_TIMEOUT_RULE } = opts;
  if (typeof value === 'number') fail(path, value, `a duration needs a unit (${DURATION_UNIT_LIST}), as in "30 secs"`);
  if (typeof value !== 'string') fail(path, value, 'a duration is a string such as "30 secs" or "infinite"');
  const s = value.trim();
  if (INFINITE_WORDS.has(s.toLowerCase())) {
    if (infinite) return Infinity;
    fail(path, value, 'this duration cannot be infinite');
  }
  const m = AMOUNT.exec(s);
  if (!m) fail(path, value, `a duration is a whole number with a unit (${DURATION_UNIT_LIST}), as in "30 secs"`);
  const [, sign, digits, unitWord] = m;
  if (unitWord === '') fail(path, value, `a duration needs a unit (${DURATION_UNIT_LIST}), as in "30 secs"`);
  const unit = unitWord.toLowerCase();
  const mult = DURATION_UNITS[unit];
  if (mult === undefined) {
    if (AMBIGUOUS_UNITS.has(unit)) fail(path, value, `"${unitWord}" is ambiguous: spell the unit out (${DURATION_UNIT_LIST})`);
    fail(path, value, `unknown duration unit "${unitWord}" (use ${DURATION_UNIT_LIST})`);
  }
  if (sign === '-') fail(path, value, 'a duration cannot be negative');
  const n = Number(digits);
  if (!Number.isInteger(n)) {
    const total = n * mult;
    fail(path, value, `the count before the unit must be a whole number${Number.isInteger(total) ? ` (write "${formatDuration(total)}")` : ''}`);
  }
  const ms = n * mult;
  if (ms === 0 && !zero) fail(path, value, 'must be more than zero (use "infinite" for no limit)');
  if (ms > max) fail(path, value, maxRule);
  return ms;
}

/** A count: a JSON integer or a string of digits, 0 ≤ n ≤ U32_MAX. */
export function parseCount(value: unknown, path: string): number {
  let n: number;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) n = value;
  else if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) n = Number(value);
  else fail(path, value, 'a count is a whole number, 0 or more (a JSON integer or a string of digits)');
  if (n > U32_MAX) fail(path, value, `too large: at most ${U32_MAX}`);
  return n;
}

/** "100K", "1M", "1G" when exact, else "<n> bytes". */
export function formatSize(bytes: number): string {
  if (bytes === Infinity) return 'unlimited';
  for (const [name, mult] of [['G', GIB], ['M', MIB], ['K', KIB]] as const) {
    if (bytes >= mult && bytes % mult === 0) return `${bytes / mult}${name}`;
  }
  return `${bytes} bytes`;
}

/** "5 secs", "1 hour", "infinite": the largest unit that divides the value. */
export function formatDuration(ms: number): string {
  if (ms === Infinity) return 'infinite';
  const units: [string, string, number][] = [
    ['year', 'years', 365 * DAY], ['week', 'weeks', 7 * DAY], ['day', 'days', DAY], ['hour', 'hours', HOUR],
    ['min', 'mins', MIN], ['sec', 'secs', SEC], ['msec', 'msecs', 1],
  ];
  for (const [one, many, mult] of units) {
    if (ms >= mult && ms % mult === 0) return `${ms / mult} ${ms === mult ? one : many}`;
  }
  return `${ms} msecs`;
}
