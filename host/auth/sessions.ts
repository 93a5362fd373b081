// Server-side sessions in a fixed-size table. A device has little memory and an attacker has many
// login attempts, so the table never grows past `max`, and when it is full a newcomer is refused
// rather than someone else being logged out. Only a SHA-256 of each token is kept, so a heap dump
// or a debug print of the store does not hand out live sessions.
import { createHash, randomBytes } from 'node:crypto';
import { positiveInt, positiveMs } from './options.ts';

export interface Session {
  user: string;
  role: string;
  /** The user's credential generation at login; the caller compares it to detect revocation. */
  generation: number;
  csrf: string;
  created: number;
  lastSeen: number;
}

export interface SessionStoreOptions {
  max: number;
  idleMs: number;
  absoluteMs?: number;
  perUser?: number;
}

const TOKEN_BYTES = 32;
const DEFAULT_ABSOLUTE_MS = 12 * 60 * 60 * 1000;


/** Table key for a token; a missing token is hashed too so every lookup costs the same. */
function keyOf(token: string | undefined): string {
  return createHash('sha256').update(token ?? '').digest('base64url');
}

function newSecret(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export class SessionStore {
  readonly max: number;
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly perUser: number;
  private readonly sessions = new Map<string, Session>();
  /** user → their table keys, so per-user limits and revocation do not scan the table. */
  private readonly byUser = new Map<string, Set<string>>();

  constructor(opts: SessionStoreOptions) {
    this.max = positiveInt('max', opts.max);
    this.idleMs = positiveMs('idleMs', opts.idleMs);
    this.absoluteMs = positiveMs('absoluteMs', opts.absoluteMs ?? DEFAULT_ABSOLUTE_MS);
    this.perUser = positiveInt('perUser', opts.perUser ?? Math.max(1, Math.floor(this.max / 4)));
    if (this.perUser > this.max) throw new RangeError(`perUser (${this.perUser}) must not exceed max (${this.max})`);
  }

  get size(): number { return this.sessions.size; }

  create(p: { name: string; role: string; generation: number }, now: number): { token: string; session: Session } | null {
    this.sweep(now);
    const own = this.byUser.get(p.name);
    if (own && own.size >= this.perUser) this.remove(this.leastRecent(own));
    else if (this.sessions.size >= this.max) return null;
    const token = newSecret();
    const key = keyOf(token);
    const session: Session = { user: p.name, role: p.role, generation: p.generation, csrf: newSecret(), created: now, lastSeen: now };
    this.sessions.set(key, session);
    let keys = this.byUser.get(p.name);
    if (!keys) this.byUser.set(p.name, keys = new Set());
    keys.add(key);
    return { token, session: { ...session } };
  }

  /** The session for a token, refreshing its idle timer; a copy, so callers cannot edit the table. */
  get(token: string | undefined, now: number): Session | null {
    const key = keyOf(token);
    const s = this.sessions.get(key);
    if (!s) return null;
    if (this.expired(s, now)) { this.remove(key); return null; }
    if (now > s.lastSeen) s.lastSeen = now;
    return { ...s };
  }

  destroy(token: string | undefined): boolean {
    const key = keyOf(token);
    if (!this.sessions.has(key)) return false;
    this.remove(key);
    return true;
  }

  /** Ends every session of a user (their credentials changed or were revoked). */
  destroyUser(name: string): number {
    const keys = this.byUser.get(name);
    if (!keys) return 0;
    const n = keys.size;
    for (const key of [...keys]) this.remove(key);
    return n;
  }

  sweep(now: number): number {
    let n = 0;
    for (const [key, s] of this.sessions) {
      if (this.expired(s, now)) { this.remove(key); n++; }
    }
    return n;
  }

  private expired(s: Session, now: number): boolean {
    return now - s.lastSeen >= this.idleMs || now - s.created >= this.absoluteMs;
  }

  private leastRecent(keys: Set<string>): string {
    let oldest = '', seen = Infinity;
    for (const key of keys) {
      const s = this.sessions.get(key)!;
      if (s.lastSeen < seen) { seen = s.lastSeen; oldest = key; }
    }
    return oldest;
  }

  private remove(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    this.sessions.delete(key);
    const keys = this.byUser.get(s.user);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.byUser.delete(s.user);
  }
}
