// The users file: people (scrypt password hashes) and devices (SHA-256 digests of bearer tokens),
// each with a role, a revoked flag and a generation that every credential change bumps.
//
// The file is the single source of truth. A running server re-reads it whenever it changes on disk,
// so `moat user revoke` in another process takes effect on the next request; and sessions remember
// the generation they were made with, so a password change or revocation ends them at once. Names
// are never deleted, only revoked, so a reused name can never match an old session's generation.
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { ROLES, isRole, type Role } from './roles.ts';
import { decodeHash, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { DEVICE_TOKEN, newDeviceToken, tokenDigest } from './tokens.ts';
import { showValue } from '../units.ts';

export interface Principal {
  name: string;
  kind: 'user' | 'device';
  role: Role;
  generation: number;
}

export interface AccountSummary {
  name: string;
  kind: 'user' | 'device';
  role: Role;
  revoked: boolean;
  generation: number;
}

interface Common { role: Role; generation: number; revoked: boolean; created: string; changed: string }
type UserAccount = Common & { kind: 'user'; hash: string };
type DeviceAccount = Common & { kind: 'device'; token: string };
type Account = UserAccount | DeviceAccount;

/** A users file that cannot be read as one, or a change the store refuses (bad name, unknown user…). */
export class UserStoreError extends Error {
  constructor(message: string) { super(message); this.name = 'UserStoreError'; }
}

export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const NAME_RULE = '1 to 64 letters, digits and . _ @ -, starting with a letter or digit';
const ROLE_RULE = `must be one of ${ROLES.map((r) => `"${r}"`).join(', ')}`;
const FILE_VERSION = 1;

// Checked against when the name is unknown, revoked or a device, so a failed login costs the same
// scrypt work whether or not the name exists. Its password is random and was thrown away.
const DUMMY_HASH = 'scrypt$16384$8$1$12zSsTTPN5TXOjo8cb0oaQ==$raygn/eJmIqt54eM6vbj3/Bh2bYVPIoeHKeNS/a8IFg=';

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function nameProblem(name: unknown): string | null {
  return typeof name === 'string' && USER_NAME.test(name) ? null : NAME_RULE;
}

/** `users.alice`, or `users["a.b@c"]` when a dotted path would be ambiguous. */
function keyOf(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? `users.${name}` : `users[${JSON.stringify(name)}]`;
}

/** Identity of the file's current contents, cheap enough to take on every request; null when absent. */
function fingerprint(file: string): string | null {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : null;
}

/** A fingerprint no file has, so the next lookup tries again. */
const UNREADABLE = '(unreadable)';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseFile(file: string, text: string): Map<string, Account> {
  const bad = (path: string, value: unknown, rule: string): never => {
    throw new UserStoreError(`${file}: ${path}: ${value === undefined ? 'missing' : showValue(value)} — ${rule}`);
  };
  // Secrets (even hashed ones) are never echoed into an error message.
  const badSecret = (path: string, rule: string): never => { throw new UserStoreError(`${file}: ${path}: ${rule}`); };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserStoreError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new UserStoreError(`${file}: must be a JSON object with "version" and "users"`);
  for (const k of Object.keys(doc)) if (k !== 'version' && k !== 'users') badSecret(k, 'unknown key');
  if (doc.version !== FILE_VERSION) bad('version', doc.version, `must be ${FILE_VERSION}`);
  if (!isObject(doc.users)) bad('users', doc.users, 'must be an object of name → account');
  const accounts = new Map<string, Account>();
  for (const [name, v] of Object.entries(doc.users as Record<string, unknown>)) {
    const at = keyOf(name);
    if (nameProblem(name)) badSecret(at, `invalid name — ${NAME_RULE}`);
    if (!isObject(v)) bad(at, v, 'must be an object');
    const e = v as Record<string, unknown>;
    if (e.kind !== 'user' && e.kind !== 'device') bad(`${at}.kind`, e.kind, 'must be "user" or "device"');
    const secret = e.kind === 'user' ? 'hash' : 'token';
    for (const k of Object.keys(e)) {
      if (!['kind', 'role', secret, 'generation', 'revoked', 'created', 'changed'].includes(k)) {
        badSecret(`${at}.${k}`, k === 'hash' || k === 'token' ? `not allowed on a ${e.kind} (a ${e.kind} has "${secret}")` : 'unknown key');
      }
    }
    if (!isRole(e.role)) bad(`${at}.role`, e.role, ROLE_RULE);
    if (e.kind === 'user' && decodeHash(e.hash) === null) {
      badSecret(`${at}.hash`, `${e.hash === undefined ? 'missing' : 'not usable'} — must be an encoded scrypt hash scrypt$N$r$p$saltB64$hashB64 (N a power of two up to 2^20, r ≤ 32, p ≤ 16), as written by moat user`);
    }
    if (e.kind === 'device' && !(typeof e.token === 'string' && SHA256_HEX.test(e.token))) {
      badSecret(`${at}.token`, `${e.token === undefined ? 'missing' : 'not usable'} — must be the token's SHA-256 as 64 lower-case hex digits, as written by moat user`);
    }
    if (!Number.isSafeInteger(e.generation) || (e.generation as number) < 0) bad(`${at}.generation`, e.generation, 'must be a whole number, 0 or more');
    if (typeof e.revoked !== 'boolean') bad(`${at}.revoked`, e.revoked, 'must be true or false');
    for (const k of ['created', 'changed'] as const) {
      if (typeof e[k] !== 'string' || !ISO_TIME.test(e[k] as string) || Number.isNaN(Date.parse(e[k] as string))) {
        bad(`${at}.${k}`, e[k], 'must be an ISO 8601 date and time, e.g. "2025-01-31T12:00:00.000Z"');
      }
    }
    accounts.set(name, { ...(e as unknown as Account) });
  }
  return accounts;
}

export class UserStore {
  readonly file: string;
  private accounts: Map<string, Account>;
  /** Fingerprint of the file as last read or written. */
  private seen: string | null;
  /** Why the file on disk could not be read the last time it changed; lookups then find no one. */
  private broken: UserStoreError | null = null;
  /** In-memory changes not yet saved; until save() they win over the file. */
  private dirty = false;

  private constructor(file: string, accounts: Map<string, Account>, seen: string | null) {
    this.file = file;
    this.accounts = accounts;
    this.seen = seen;
  }

  /** A missing file is an empty store (the first `moat user add` creates it); a malformed one throws. */
  static load(file: string): UserStore {
    const { accounts, seen } = UserStore.read(file);
    return new UserStore(file, accounts, seen);
  }

  private static read(file: string): { accounts: Map<string, Account>; seen: string | null } {
    // Fingerprint first: if the file is replaced while we read, the next lookup reads it again.
    let seen: string | null, text: string;
    try {
      seen = fingerprint(file);
      if (seen === null) return { accounts: new Map(), seen };
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') return { accounts: new Map(), seen: null };
      throw new UserStoreError(`${file}: cannot read: ${err.message}`);
    }
    return { accounts: parseFile(file, text), seen };
  }

  /**
   * Re-reads the file if it changed on disk. A file that became unreadable or malformed leaves the
   * store empty (fail closed: a botched edit must not keep a revoked account working) and `broken`
   * set, which mutations report instead of overwriting the file with a guess.
   */
  private refresh(): void {
    if (this.dirty) return;
    let now: string | null;
    try {
      now = fingerprint(this.file);
    } catch (e) {
      this.accounts = new Map();
      this.broken = new UserStoreError(`${this.file}: cannot read: ${(e as Error).message}`);
      this.seen = UNREADABLE;
      return;
    }
    if (now === this.seen) return;
    try {
      const r = UserStore.read(this.file);
      this.accounts = r.accounts;
      this.seen = r.seen;
      this.broken = null;
    } catch (e) {
      this.accounts = new Map();
      this.seen = now;
      this.broken = e instanceof UserStoreError ? e : new UserStoreError(`${this.file}: ${(e as Error).message}`);
    }
  }

  /** The active account of that name, or null when unknown or revoked. */
  principal(name: string): Principal | null {
    this.refresh();
    const a = typeof name === 'string' ? this.accounts.get(name) : undefined;
    if (!a || a.revoked) return null;
    return { name, kind: a.kind, role: a.role, generation: a.generation };
  }

  async login(name: string, password: string): Promise<Principal | null> {
    this.refresh();
    const a = typeof name === 'string' ? this.accounts.get(name) : undefined;
    const usable = a && a.kind === 'user' && !a.revoked ? a : null;
    // Exactly one scrypt run on every path, so the time taken does not tell names apart.
    const ok = await verifyPassword(typeof password === 'string' ? password : '', usable ? usable.hash : DUMMY_HASH);
    if (!ok || !usable) return null;
    // The file may have changed during the (slow) check: answer only for the credential just verified.
    const p = this.principal(name);
    return p && p.kind === 'user' && p.generation === usable.generation ? p : null;
  }

  /** The active device holding this token, or null. */
  device(token: string): Principal | null {
    if (typeof token !== 'string' || !DEVICE_TOKEN.test(token)) return null;
    this.refresh();
    const want = Buffer.from(tokenDigest(token), 'hex');
    let found: string | null = null;
    for (const [name, a] of this.accounts) {
      if (a.kind === 'device' && timingSafeEqual(Buffer.from(a.token, 'hex'), want) && !a.revoked) found = name;
    }
    return found === null ? null : this.principal(found);
  }

  /** Whether a principal handed out earlier still holds: same account, not revoked, credential unchanged. */
  stillValid(p: Principal): boolean {
    const now = this.principal(p.name);
    return now !== null && now.kind === p.kind && now.role === p.role && now.generation === p.generation;
  }

  list(): AccountSummary[] {
    this.refresh();
    return [...this.accounts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, a]) => ({ name, kind: a.kind, role: a.role, revoked: a.revoked, generation: a.generation }));
  }

  async addUser(name: string, role: Role, password: string): Promise<void> {
    this.checkNew(name, role);
    const problem = passwordProblem(password);
    if (problem) throw new UserStoreError(`password: ${problem}`);
    const hash = await hashPassword(password);
    this.checkNew(name, role); // again: the store may have been changed while hashing
    const t = new Date().toISOString();
    this.accounts.set(name, { kind: 'user', role, hash, generation: 1, revoked: false, created: t, changed: t });
    this.dirty = true;
  }

  /** Adds a device and returns its token: the only time it exists in clear. */
  addDevice(name: string, role: Role): string {
    this.checkNew(name, role);
    const token = newDeviceToken(name);
    const t = new Date().toISOString();
    this.accounts.set(name, { kind: 'device', role, token: tokenDigest(token), generation: 1, revoked: false, created: t, changed: t });
    this.dirty = true;
    return token;
  }

  async setPassword(name: string, password: string): Promise<void> {
    this.existing(name, 'user');
    const problem = passwordProblem(password);
    if (problem) throw new UserStoreError(`password: ${problem}`);
    const hash = await hashPassword(password);
    const a = this.existing(name, 'user');
    this.accounts.set(name, { ...a, hash, generation: a.generation + 1, changed: new Date().toISOString() });
    this.dirty = true;
  }

  rotateDevice(name: string): string {
    const a = this.existing(name, 'device');
    const token = newDeviceToken(name);
    this.accounts.set(name, { ...a, token: tokenDigest(token), generation: a.generation + 1, changed: new Date().toISOString() });
    this.dirty = true;
    return token;
  }

  /** Revokes for good (the name stays taken). False when it was already revoked. */
  revoke(name: string): boolean {
    const a = this.existing(name, null, true);
    if (a.revoked) return false;
    this.accounts.set(name, { ...a, revoked: true, generation: a.generation + 1, changed: new Date().toISOString() });
    this.dirty = true;
    return true;
  }

  /**
   * Writes the file atomically (a temporary file, mode 0600, then rename), so a reader never sees
   * half a file. Refuses a symlink at the target, and refuses to overwrite changes another process
   * saved since this store read the file (they would be silently lost).
   */
  save(): void {
    this.refresh();
    if (this.broken) throw this.broken;
    const target = lstatSync(this.file, { throwIfNoEntry: false });
    if (target?.isSymbolicLink()) throw new UserStoreError(`${this.file}: is a symbolic link; refusing to write through it`);
    if (target && !target.isFile()) throw new UserStoreError(`${this.file}: not a regular file`);
    if (fingerprint(this.file) !== this.seen) {
      throw new UserStoreError(`${this.file}: changed on disk since it was read (by another moat user?); run the command again`);
    }
    const tmp = `${this.file}.tmp-${process.pid}`;
    rmSync(tmp, { force: true });
    // 'wx' creates a new file and fails rather than following anything already at that name.
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      try {
        writeSync(fd, this.serialize());
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    this.seen = fingerprint(this.file);
    this.broken = null;
    this.dirty = false;
  }

  private serialize(): string {
    const users: Record<string, unknown> = {};
    for (const [name, a] of [...this.accounts].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
      users[name] = a.kind === 'user'
        ? { kind: a.kind, role: a.role, hash: a.hash, generation: a.generation, revoked: a.revoked, created: a.created, changed: a.changed }
        : { kind: a.kind, role: a.role, token: a.token, generation: a.generation, revoked: a.revoked, created: a.created, changed: a.changed };
    }
    return JSON.stringify({ version: FILE_VERSION, users }, null, 2) + '\n';
  }

  /** Before a change: pick up the file's latest state, and refuse to build on one that cannot be read. */
  private prepare(): void {
    this.refresh();
    if (this.broken) throw this.broken;
  }

  private checkNew(name: string, role: Role): void {
    if (nameProblem(name)) throw new UserStoreError(`name ${showValue(name)}: ${NAME_RULE}`);
    if (!isRole(role)) throw new UserStoreError(`role ${showValue(role)}: ${ROLE_RULE}`);
    this.prepare();
    if (this.accounts.has(name)) {
      throw new UserStoreError(`name "${name}": already in ${this.file}${this.accounts.get(name)!.revoked ? ' (revoked; names are never reused)' : ''}`);
    }
  }

  private existing(name: string, kind: 'user'): UserAccount;
  private existing(name: string, kind: 'device'): DeviceAccount;
  private existing(name: string, kind: null, allowRevoked: boolean): Account;
  private existing(name: string, kind: 'user' | 'device' | null, allowRevoked = false): Account {
    if (nameProblem(name)) throw new UserStoreError(`name ${showValue(name)}: ${NAME_RULE}`);
    this.prepare();
    const a = this.accounts.get(name);
    if (!a) throw new UserStoreError(`name "${name}": no such user or device in ${this.file}`);
    if (kind && a.kind !== kind) {
      throw new UserStoreError(`name "${name}": is a ${a.kind}, not a ${kind}${a.kind === 'device' ? ' (devices get a new token with rotate)' : ' (users change their password with passwd)'}`);
    }
    if (a.revoked && !allowRevoked) throw new UserStoreError(`name "${name}": is revoked (revocation is permanent; add a new name)`);
    return a;
  }
}
