// Per-account login throttle. The server already limits attempts per client address; this bounds
// guessing against one account from many addresses. After `failures` failed logins within
// `windowMs` the account is locked for `baseLockMs`, and each further lock doubles that up to
// `maxLockMs`, so a patient botnet gets a handful of guesses an hour at most.
//
// Names that match no account are throttled exactly like real ones (keyed by the name given), so
// the throttle's answers do not reveal which names exist. The table holds at most `maxAccounts`
// entries: a flood of made-up names evicts the least interesting entry, never a locked one.
import { createHash } from 'node:crypto';
import { positiveInt, positiveMs } from './options.ts';

export interface LoginThrottleOptions {
  maxAccounts?: number;
  failures?: number;
  windowMs?: number;
  baseLockMs?: number;
  maxLockMs?: number;
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterS: number };

interface Entry {
  /** Failures in the current window. */
  count: number;
  windowStart: number;
  lockedUntil: number;
  /** Locks so far: the next lock lasts baseLockMs × 2^level. */
  level: number;
  last: number;
}

/** Longer names cannot be accounts; keying them by digest keeps memory per entry small whatever is sent. */
const MAX_KEY = 64;

function keyOf(account: string): string {
  const s = String(account);
  return s.length <= MAX_KEY ? `=${s}` : `#${createHash('sha256').update(s).digest('base64url')}`;
}


export class LoginThrottle {
  readonly maxAccounts: number;
  readonly failures: number;
  readonly windowMs: number;
  readonly baseLockMs: number;
  readonly maxLockMs: number;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: LoginThrottleOptions = {}) {
    this.maxAccounts = positiveInt('maxAccounts', opts.maxAccounts ?? 1024);
    this.failures = positiveInt('failures', opts.failures ?? 5);
    this.windowMs = positiveMs('windowMs', opts.windowMs ?? 15 * 60_000);
    this.baseLockMs = positiveMs('baseLockMs', opts.baseLockMs ?? 60_000);
    this.maxLockMs = positiveMs('maxLockMs', opts.maxLockMs ?? 60 * 60_000);
    if (this.maxLockMs < this.baseLockMs) throw new RangeError(`maxLockMs (${this.maxLockMs}) must not be less than baseLockMs (${this.baseLockMs})`);
  }

  /** Accounts currently tracked. */
  get size(): number { return this.entries.size; }

  check(account: string, now: number): ThrottleVerdict {
    const e = this.entries.get(keyOf(account));
    if (e && e.lockedUntil > now) return { allowed: false, retryAfterS: Math.max(1, Math.ceil((e.lockedUntil - now) / 1000)) };
    return { allowed: true };
  }

  failure(account: string, now: number): void {
    const key = keyOf(account);
    let e = this.entries.get(key);
    if (!e) {
      if (!this.makeRoom(now)) return;
      e = { count: 0, windowStart: now, lockedUntil: 0, level: 0, last: now };
      this.entries.set(key, e);
    }
    e.last = now;
    // Attempts are refused while locked (check() first); one that slips through is already paid for.
    if (e.lockedUntil > now) return;
    if (now - e.windowStart >= this.windowMs) {
      e.count = 0;
      e.windowStart = now;
      // A long quiet spell after the last lock forgives the escalation.
      if (now - e.lockedUntil >= this.maxLockMs) e.level = 0;
    }
    if (++e.count < this.failures) return;
    e.lockedUntil = now + Math.min(this.baseLockMs * 2 ** Math.min(e.level, 52), this.maxLockMs);
    e.level++;
    e.count = 0;
    e.windowStart = now;
  }

  success(account: string): void {
    this.entries.delete(keyOf(account));
  }

  /**
   * Frees a slot if the table is full, evicting the unlocked entry that remembers least (fewest
   * failures counting past locks, then the longest idle). False when every entry is locked: the
   * newcomer is then not tracked, since dropping a lock would hand its account fresh guesses.
   */
  private makeRoom(now: number): boolean {
    if (this.entries.size < this.maxAccounts) return true;
    let victim: string | null = null, vWeight = Infinity, vLast = Infinity;
    for (const [key, e] of this.entries) {
      if (e.lockedUntil > now) continue;
      const weight = e.level * this.failures + (now - e.windowStart < this.windowMs ? e.count : 0);
      if (weight < vWeight || (weight === vWeight && e.last < vLast)) {
        victim = key; vWeight = weight; vLast = e.last;
      }
    }
    if (victim === null) return false;
    this.entries.delete(victim);
    return true;
  }
}
