// The credentials store and its parts: roles, scrypt passwords, device tokens, the users file, and
// the per-account login throttle. Every store test works on real files in a fresh temp folder.
import { describe, it, expect, beforeAll, beforeEach, afterEach } from 'vitest';
import { createHash, scryptSync } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROLES, isRole, roleAtLeast, type Role } from '../host/auth/roles.ts';
import { decodeHash, hashParamsWeak, hashPassword, passwordProblem, verifyPassword } from '../host/auth/passwords.ts';
import { DEVICE_TOKEN, newDeviceToken, tokenDigest } from '../host/auth/tokens.ts';
import { UserStore, UserStoreError } from '../host/auth/users.ts';
import { LoginThrottle } from '../host/auth/throttle.ts';

const PW = 'correct horse battery';
const PW2 = 'another long passphrase';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'moat-users-'));
  file = join(dir, 'users.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('roles', () => {
  it('are ordered weakest first', () => {
    expect(ROLES).toEqual(['viewer', 'operator', 'admin']);
    expect(Object.isFrozen(ROLES)).toBe(true);
  });

  it('isRole accepts exactly the three names', () => {
    for (const r of ROLES) expect(isRole(r)).toBe(true);
    for (const v of ['root', 'Admin', 'admin ', '', 'toString', undefined, null, 1, ['admin']]) expect(isRole(v)).toBe(false);
  });

  it('roleAtLeast follows the order, and a non-role grants nothing', () => {
    for (const [i, have] of ROLES.entries()) {
      for (const [j, need] of ROLES.entries()) expect(roleAtLeast(have, need), `${have} >= ${need}`).toBe(i >= j);
    }
    expect(roleAtLeast('root' as Role, 'viewer')).toBe(false);
    expect(roleAtLeast('admin', 'root' as Role)).toBe(false);
  });
});

describe('passwords', () => {
  let hash: string;
  beforeAll(async () => { hash = await hashPassword(PW); });

  it('encodes scrypt$N$r$p$salt$hash with N=2^14, r=8, p=1, a 16-byte salt and a 32-byte key', () => {
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    const h = decodeHash(hash)!;
    expect([h.N, h.r, h.p, h.salt.length, h.hash.length]).toEqual([16384, 8, 1, 16, 32]);
    expect(hash).not.toContain(PW);
  });

  it('is salted: the same password hashes differently each time', async () => {
    const again = await hashPassword(PW);
    expect(again).not.toBe(hash);
    expect(await verifyPassword(PW, again)).toBe(true);
  });

  it('verifies the right password only', async () => {
    expect(await verifyPassword(PW, hash)).toBe(true);
    for (const wrong of ['', PW.toUpperCase(), PW + ' ', PW.slice(0, -1), 'correct horse batterz']) {
      expect(await verifyPassword(wrong, hash), JSON.stringify(wrong)).toBe(false);
    }
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const h = await hashPassword('caf\u00e9 au lait!');
    expect(await verifyPassword('cafe\u0301 au lait!', h)).toBe(true);
  });

  it('checks with the parameters stored in the hash (and flags weaker ones)', async () => {
    const salt = Buffer.alloc(16, 7);
    const key = scryptSync(PW, salt, 32, { N: 1024, r: 1, p: 1 });
    const old = `scrypt$1024$1$1$${salt.toString('base64')}$${key.toString('base64')}`;
    expect(await verifyPassword(PW, old)).toBe(true);
    expect(await verifyPassword(PW2, old)).toBe(false);
    expect(hashParamsWeak(old)).toBe(true);
    expect(hashParamsWeak(hash)).toBe(false);
  });

  it('hashParamsWeak flags each weaker parameter and unreadable encodings', () => {
    const [, , , , salt, key] = hash.split('$');
    const b64 = (n: number) => Buffer.alloc(n, 1).toString('base64');
    expect(hashParamsWeak(`scrypt$8192$8$1$${salt}$${key}`)).toBe(true);
    expect(hashParamsWeak(`scrypt$16384$4$1$${salt}$${key}`)).toBe(true);
    expect(hashParamsWeak(`scrypt$16384$8$1$${b64(8)}$${key}`)).toBe(true);
    expect(hashParamsWeak(`scrypt$16384$8$1$${salt}$${b64(16)}`)).toBe(true);
    expect(hashParamsWeak(`scrypt$32768$8$1$${salt}$${key}`)).toBe(false);
    expect(hashParamsWeak('not a hash')).toBe(true);
  });

  it('a malformed encoding is "no match", never an exception', async () => {
    const [, , , , salt, key] = hash.split('$');
    const bad = [
      '', 'scrypt', 'bcrypt$16384$8$1$' + salt + '$' + key, `scrypt$16384$8$1$${salt}`, `scrypt$16384$8$1$${salt}$${key}$`,
      `scrypt$16383$8$1$${salt}$${key}`, `scrypt$016384$8$1$${salt}$${key}`, `scrypt$1073741824$8$1$${salt}$${key}`,
      `scrypt$16384$0$1$${salt}$${key}`, `scrypt$16384$8$99$${salt}$${key}`, `scrypt$16384$8$1$${salt}$${key.slice(0, -2)}`,
      `scrypt$16384$8$1$$${key}`, `scrypt$16384$8$1$${salt}$!!!!`, `scrypt$-16384$8$1$${salt}$${key}`,
      null as unknown as string, 42 as unknown as string,
    ];
    for (const enc of bad) {
      expect(decodeHash(enc), String(enc)).toBeNull();
      await expect(verifyPassword(PW, enc)).resolves.toBe(false);
    }
    await expect(verifyPassword(undefined as unknown as string, hash)).resolves.toBe(false);
  });

  it('passwordProblem applies the policy and never repeats the password', () => {
    const ok = ['correct horse', 'ten chars!', '\u{1F511}'.repeat(10), '\u00e9'.repeat(512), 'x'.repeat(1024)];
    for (const pw of ok) expect(passwordProblem(pw), pw).toBeNull();
    const refused: [string, RegExp][] = [
      ['', /required/],
      ['nine char', /at least 10 characters/],
      ['\u{1F511}'.repeat(9), /at least 10 characters/],
      ['x'.repeat(1025), /at most 1024 bytes/],
      ['\u00e9'.repeat(513), /at most 1024 bytes/],
      ['line one\nline two', /control characters/],
      ['tab\tseparated words', /control characters/],
      ['nul\0inside password', /control characters/],
      ['delete\x7f character here', /control characters/],
      ['next line\u0085 is C1', /control characters/],
      ['lone \ud800 surrogate!', /valid Unicode/],
    ];
    for (const [pw, why] of refused) {
      const problem = passwordProblem(pw);
      expect(problem, JSON.stringify(pw)).toMatch(why);
      if (pw.length > 3) expect(problem).not.toContain(pw);
    }
  });
});

describe('device tokens', () => {
  it('are moat_ + base64url of 32 random bytes, different every time', () => {
    const a = newDeviceToken('cam1'), b = newDeviceToken('cam1');
    expect(a).toMatch(DEVICE_TOKEN);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(5), 'base64url')).toHaveLength(32);
    expect(a).not.toContain('cam1');
  });

  it('are stored as a SHA-256 hex digest', () => {
    const t = newDeviceToken('cam1');
    expect(tokenDigest(t)).toBe(createHash('sha256').update(t).digest('hex'));
    expect(tokenDigest(t)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('UserStore', () => {
  it('a missing file is an empty store, and loading does not create it', () => {
    const s = UserStore.load(file);
    expect(s.list()).toEqual([]);
    expect(s.principal('alice')).toBeNull();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('saves users and devices with hashes only: mode 0600, nothing secret in clear, no temp file left', async () => {
    const s = UserStore.load(file);
    await s.addUser('alice', 'admin', PW);
    const token = s.addDevice('cam1', 'operator');
    s.save();
    expect(readdirSync(dir)).toEqual(['users.json']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(PW);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(5));
    const doc = JSON.parse(text);
    expect(doc.version).toBe(1);
    expect(Object.keys(doc.users)).toEqual(['alice', 'cam1']);
    const alice = doc.users.alice, cam = doc.users.cam1;
    expect(Object.keys(alice)).toEqual(['kind', 'role', 'hash', 'generation', 'revoked', 'created', 'changed']);
    expect(alice).toMatchObject({ kind: 'user', role: 'admin', generation: 1, revoked: false });
    expect(alice.hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(alice.hash).not.toBe(PW);
    expect(Date.parse(alice.created)).toBeGreaterThan(Date.now() - 60_000);
    expect(Object.keys(cam)).toEqual(['kind', 'role', 'token', 'generation', 'revoked', 'created', 'changed']);
    expect(cam).toMatchObject({ kind: 'device', role: 'operator', token: tokenDigest(token), generation: 1, revoked: false });
  });

  it('logs users in by password and devices in by token, from a freshly loaded file', async () => {
    const w = UserStore.load(file);
    await w.addUser('alice', 'admin', PW);
    const token = w.addDevice('cam1', 'operator');
    w.save();
    const s = UserStore.load(file);
    expect(await s.login('alice', PW)).toEqual({ name: 'alice', kind: 'user', role: 'admin', generation: 1 });
    expect(await s.login('alice', PW2)).toBeNull();
    expect(await s.login('nobody', PW)).toBeNull();
    expect(await s.login('cam1', token)).toBeNull(); // a device cannot log in with a password
    expect(s.device(token)).toEqual({ name: 'cam1', kind: 'device', role: 'operator', generation: 1 });
    expect(s.device(newDeviceToken('cam1'))).toBeNull();
    expect(s.device(token + 'x')).toBeNull();
    expect(s.device('')).toBeNull();
    expect(s.principal('alice')).toEqual({ name: 'alice', kind: 'user', role: 'admin', generation: 1 });
  });

  it('spends a full scrypt check on an unknown name', async () => {
    const s = UserStore.load(file);
    const t0 = performance.now();
    expect(await s.login('nobody', PW)).toBeNull();
    // One scrypt at N=2^14, r=8 takes tens of milliseconds; skipping it would take well under one.
    expect(performance.now() - t0).toBeGreaterThan(5);
  });

  it('list() shows no secrets', async () => {
    const s = UserStore.load(file);
    await s.addUser('alice', 'viewer', PW);
    s.addDevice('cam1', 'operator');
    const rows = s.list();
    expect(rows).toEqual([
      { name: 'alice', kind: 'user', role: 'viewer', revoked: false, generation: 1 },
      { name: 'cam1', kind: 'device', role: 'operator', revoked: false, generation: 1 },
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/scrypt|hash|token/);
  });

  it('a new password bumps the generation: the old one stops working and old principals are no longer valid', async () => {
    const s = UserStore.load(file);
    await s.addUser('alice', 'admin', PW);
    s.save();
    const before = (await s.login('alice', PW))!;
    expect(s.stillValid(before)).toBe(true);
    await s.setPassword('alice', PW2);
    s.save();
    expect(s.stillValid(before)).toBe(false);
    expect(await s.login('alice', PW)).toBeNull();
    const after = (await s.login('alice', PW2))!;
    expect(after.generation).toBe(2);
    expect(s.stillValid(after)).toBe(true);
  });

  it('rotating a device token retires the old one', () => {
    const s = UserStore.load(file);
    const old = s.addDevice('cam1', 'operator');
    s.save();
    const p = s.device(old)!;
    const fresh = s.rotateDevice('cam1');
    s.save();
    expect(fresh).not.toBe(old);
    expect(s.device(old)).toBeNull();
    expect(s.device(fresh)).toMatchObject({ name: 'cam1', generation: 2 });
    expect(s.stillValid(p)).toBe(false);
  });

  it('revocation ends everything and is permanent', async () => {
    const s = UserStore.load(file);
    await s.addUser('alice', 'admin', PW);
    const token = s.addDevice('cam1', 'viewer');
    s.save();
    const pa = s.principal('alice')!, pc = s.device(token)!;
    expect(s.revoke('alice')).toBe(true);
    expect(s.revoke('cam1')).toBe(true);
    expect(s.revoke('alice')).toBe(false);
    s.save();
    expect(s.principal('alice')).toBeNull();
    expect(await s.login('alice', PW)).toBeNull();
    expect(s.device(token)).toBeNull();
    expect(s.stillValid(pa)).toBe(false);
    expect(s.stillValid(pc)).toBe(false);
    expect(s.list().map((r) => [r.name, r.revoked, r.generation])).toEqual([['alice', true, 2], ['cam1', true, 2]]);
    await expect(s.setPassword('alice', PW2)).rejects.toThrow(/revoked/);
    expect(() => s.rotateDevice('cam1')).toThrow(/revoked/);
    await expect(s.addUser('alice', 'admin', PW2)).rejects.toThrow(/already/);
  });

  it('an already-loaded store sees a revocation saved by another process', async () => {
    const w = UserStore.load(file);
    await w.addUser('alice', 'admin', PW);
    const token = w.addDevice('cam1', 'operator');
    w.save();
    const server = UserStore.load(file);
    const pa = (await server.login('alice', PW))!, pc = server.device(token)!;
    const cli = UserStore.load(file);
    cli.revoke('alice');
    cli.revoke('cam1');
    cli.save();
    expect(server.principal('alice')).toBeNull();
    expect(server.stillValid(pa)).toBe(false);
    expect(server.device(token)).toBeNull();
    expect(server.stillValid(pc)).toBe(false);
  });

  it('an already-loaded store sees a hand edit made in place', async () => {
    const w = UserStore.load(file);
    await w.addUser('alice', 'admin', PW);
    w.save();
    const server = UserStore.load(file);
    const p = server.principal('alice')!;
    const ino = statSync(file).ino;
    writeFileSync(file, readFileSync(file, 'utf8').replace('"role": "admin"', '"role": "viewer"'));
    expect(statSync(file).ino).toBe(ino);
    expect(server.principal('alice')).toMatchObject({ role: 'viewer' });
    expect(server.stillValid(p)).toBe(false);
  });

  it('fails closed when the file disappears or turns malformed, and recovers when it is fixed', async () => {
    const w = UserStore.load(file);
    await w.addUser('alice', 'admin', PW);
    w.save();
    const good = readFileSync(file, 'utf8');
    const server = UserStore.load(file);
    const p = server.principal('alice')!;
    writeFileSync(file, good.replace('"role": "admin"', '"role": "root"'));
    expect(server.principal('alice')).toBeNull();
    expect(server.stillValid(p)).toBe(false);
    expect(await server.login('alice', PW)).toBeNull();
    expect(() => server.revoke('alice')).toThrow(`${file}: users.alice.role: "root" — must be one of "viewer", "operator", "admin"`);
    expect(() => server.save()).toThrow(/users\.alice\.role/);
    expect(readFileSync(file, 'utf8')).toContain('"root"'); // not overwritten with a guess
    rmSync(file);
    expect(server.principal('alice')).toBeNull();
    writeFileSync(file, good);
    expect(server.stillValid(p)).toBe(true);
  });

  describe('a malformed file: the error names the file, the key path and the rule', () => {
    let valid: Record<string, unknown>;
    beforeAll(async () => {
      valid = { kind: 'user', role: 'admin', hash: await hashPassword(PW), generation: 1, revoked: false, created: '2025-01-31T12:00:00.000Z', changed: '2025-01-31T12:00:00.000Z' };
    });
    const device = () => ({ ...valid, kind: 'device', hash: undefined, token: 'ab'.repeat(32) });
    const doc = (users: Record<string, unknown>) => JSON.stringify({ version: 1, users });
    const CASES: [string, () => string, string][] = [
      ['not JSON', () => '{ "version": 1,', 'not valid JSON: '],
      ['an array', () => '[]', 'must be a JSON object with "version" and "users"'],
      ['a wrong version', () => JSON.stringify({ version: 2, users: {} }), 'version: 2 — must be 1'],
      ['no version', () => JSON.stringify({ users: {} }), 'version: missing — must be 1'],
      ['an unknown top-level key', () => JSON.stringify({ version: 1, users: {}, admins: [] }), 'admins: unknown key'],
      ['users not an object', () => JSON.stringify({ version: 1, users: [] }), 'users: [] — must be an object of name → account'],
      ['a bad name', () => doc({ 'bad name': valid }), 'users["bad name"]: invalid name — 1 to 64 letters, digits and . _ @ -, starting with a letter or digit'],
      ['a name too long', () => doc({ ['a'.repeat(65)]: valid }), `users.${'a'.repeat(65)}: invalid name`],
      ['an entry not an object', () => doc({ alice: 'admin' }), 'users.alice: "admin" — must be an object'],
      ['a bad kind', () => doc({ alice: { ...valid, kind: 'robot' } }), 'users.alice.kind: "robot" — must be "user" or "device"'],
      ['a bad role', () => doc({ alice: { ...valid, role: 'root' } }), 'users.alice.role: "root" — must be one of "viewer", "operator", "admin"'],
      ['a missing role', () => doc({ 'a.b@c': { ...valid, role: undefined } }), 'users["a.b@c"].role: missing — must be one of "viewer", "operator", "admin"'],
      ['a missing hash', () => doc({ alice: { ...valid, hash: undefined } }), 'users.alice.hash: missing — must be an encoded scrypt hash'],
      ['a bad hash', () => doc({ alice: { ...valid, hash: 'plaintext-secret' } }), 'users.alice.hash: not usable — must be an encoded scrypt hash'],
      ['a token on a user', () => doc({ alice: { ...valid, token: 'ab'.repeat(32) } }), 'users.alice.token: not allowed on a user (a user has "hash")'],
      ['a hash on a device', () => doc({ cam: { ...device(), hash: valid.hash } }), 'users.cam.hash: not allowed on a device (a device has "token")'],
      ['a bad device digest', () => doc({ cam: { ...device(), token: 'AB'.repeat(32) } }), 'users.cam.token: not usable — must be the token\'s SHA-256 as 64 lower-case hex digits'],
      ['a plaintext password key', () => doc({ alice: { ...valid, password: 'plaintext-secret' } }), 'users.alice.password: unknown key'],
      ['a negative generation', () => doc({ alice: { ...valid, generation: -1 } }), 'users.alice.generation: -1 — must be a whole number, 0 or more'],
      ['a fractional generation', () => doc({ alice: { ...valid, generation: 1.5 } }), 'users.alice.generation: 1.5 — must be a whole number, 0 or more'],
      ['a string generation', () => doc({ alice: { ...valid, generation: '1' } }), 'users.alice.generation: "1" — must be a whole number, 0 or more'],
      ['a bad revoked flag', () => doc({ alice: { ...valid, revoked: 'no' } }), 'users.alice.revoked: "no" — must be true or false'],
      ['a bad date', () => doc({ alice: { ...valid, changed: 'yesterday' } }), 'users.alice.changed: "yesterday" — must be an ISO 8601 date and time'],
    ];
    for (const [what, text, message] of CASES) {
      it(what, () => {
        writeFileSync(file, text());
        let err: unknown;
        try { UserStore.load(file); } catch (e) { err = e; }
        expect(err).toBeInstanceOf(UserStoreError);
        const m = (err as Error).message;
        expect(m.startsWith(`${file}: ${message}`), m).toBe(true);
        expect(m).not.toContain('plaintext-secret');
        expect(m).not.toContain('scrypt$16384');
      });
    }

    it('a well-formed file with both kinds loads', () => {
      writeFileSync(file, doc({ alice: valid, 'cam-1.lab@site': device() }));
      expect(UserStore.load(file).list().map((r) => r.name)).toEqual(['alice', 'cam-1.lab@site']);
    });
  });

  it('refuses bad names, roles, passwords, duplicates and wrong kinds', async () => {
    const s = UserStore.load(file);
    await s.addUser('alice', 'admin', PW);
    s.addDevice('cam1', 'viewer');
    await expect(s.addUser('bad name', 'admin', PW)).rejects.toThrow(/name "bad name": 1 to 64 letters/);
    expect(() => s.addDevice('-lead', 'admin')).toThrow(UserStoreError);
    expect(() => s.addDevice('a'.repeat(65), 'admin')).toThrow(/name/);
    await expect(s.addUser('bob', 'root' as Role, PW)).rejects.toThrow(/role "root": must be one of "viewer", "operator", "admin"/);
    await expect(s.addUser('bob', 'admin', 'short')).rejects.toThrow(/password: must be at least 10 characters/);
    await expect(s.addUser('alice', 'viewer', PW2)).rejects.toThrow(/already/);
    expect(() => s.addDevice('alice', 'viewer')).toThrow(/already/);
    await expect(s.setPassword('nobody', PW2)).rejects.toThrow(/no such user/);
    await expect(s.setPassword('cam1', PW2)).rejects.toThrow(/is a device/);
    expect(() => s.rotateDevice('alice')).toThrow(/is a user/);
    expect(() => s.revoke('nobody')).toThrow(/no such user/);
    expect(s.list().map((r) => r.name)).toEqual(['alice', 'cam1']);
  });

  it('save refuses to write through a symlink', () => {
    const real = join(dir, 'real.json');
    writeFileSync(real, JSON.stringify({ version: 1, users: {} }));
    symlinkSync(real, file);
    const s = UserStore.load(file);
    s.addDevice('cam1', 'viewer');
    expect(() => s.save()).toThrow(/symbolic link/);
    expect(JSON.parse(readFileSync(real, 'utf8')).users).toEqual({});
    expect(readdirSync(dir).sort()).toEqual(['real.json', 'users.json']);
  });

  it('save refuses to overwrite changes another process saved meanwhile', () => {
    const a = UserStore.load(file), b = UserStore.load(file);
    a.addDevice('cam1', 'viewer');
    b.addDevice('cam2', 'viewer');
    b.save();
    expect(() => a.save()).toThrow(/changed on disk/);
    expect(UserStore.load(file).list().map((r) => r.name)).toEqual(['cam2']);
  });
});

describe('LoginThrottle', () => {
  const T0 = 1_000_000_000;
  const fail = (t: LoginThrottle, account: string, n: number, now: number) => { for (let i = 0; i < n; i++) t.failure(account, now); };

  it('locks after 5 failures for 60 s, reports Retry-After, and unlocks when the time has passed', () => {
    const t = new LoginThrottle();
    fail(t, 'alice', 4, T0);
    expect(t.check('alice', T0)).toEqual({ allowed: true });
    t.failure('alice', T0);
    expect(t.check('alice', T0)).toEqual({ allowed: false, retryAfterS: 60 });
    expect(t.check('alice', T0 + 59_001)).toEqual({ allowed: false, retryAfterS: 1 });
    expect(t.check('alice', T0 + 60_000)).toEqual({ allowed: true });
    expect(t.check('bob', T0)).toEqual({ allowed: true });
  });

  it('doubles each further lock up to the one-hour cap', () => {
    const t = new LoginThrottle();
    let now = T0;
    const seen: number[] = [];
    for (let i = 0; i < 9; i++) {
      fail(t, 'alice', 5, now);
      const v = t.check('alice', now);
      expect(v.allowed).toBe(false);
      seen.push((v as { retryAfterS: number }).retryAfterS);
      now += seen[i] * 1000;
      expect(t.check('alice', now).allowed).toBe(true);
    }
    expect(seen).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
  });

  it('counts failures within the window only', () => {
    const t = new LoginThrottle();
    fail(t, 'alice', 4, T0);
    fail(t, 'alice', 4, T0 + 15 * 60_000);
    expect(t.check('alice', T0 + 15 * 60_000).allowed).toBe(true);
    t.failure('alice', T0 + 15 * 60_000 + 1);
    expect(t.check('alice', T0 + 15 * 60_000 + 1).allowed).toBe(false);
  });

  it('a success clears the account', () => {
    const t = new LoginThrottle();
    fail(t, 'alice', 4, T0);
    t.success('alice');
    fail(t, 'alice', 4, T0);
    expect(t.check('alice', T0).allowed).toBe(true);
    expect(t.size).toBe(1);
  });

  it('forgives the escalation after a long quiet spell', () => {
    const t = new LoginThrottle();
    fail(t, 'alice', 5, T0);
    fail(t, 'alice', 5, T0 + 60_000);
    expect(t.check('alice', T0 + 60_000)).toEqual({ allowed: false, retryAfterS: 120 });
    const later = T0 + 180_000 + 60 * 60_000;
    fail(t, 'alice', 5, later);
    expect(t.check('alice', later)).toEqual({ allowed: false, retryAfterS: 60 });
  });

  it('throttles names that match no account the same way, including absurdly long ones', () => {
    const t = new LoginThrottle();
    const long = 'x'.repeat(1 << 20);
    fail(t, 'no-such-user', 5, T0);
    fail(t, long, 5, T0);
    expect(t.check('no-such-user', T0)).toEqual({ allowed: false, retryAfterS: 60 });
    expect(t.check(long, T0)).toEqual({ allowed: false, retryAfterS: 60 });
    expect(t.check(long + 'y', T0).allowed).toBe(true);
  });

  it('stays within maxAccounts under 10,000 distinct names and keeps the locked entry', () => {
    const t = new LoginThrottle();
    fail(t, 'alice', 5, T0);
    for (let i = 0; i < 10_000; i++) t.failure(`guess-${i}`, T0 + i);
    expect(t.size).toBeLessThanOrEqual(1024);
    expect(t.size).toBe(1024);
    expect(t.check('alice', T0 + 10_000)).toEqual({ allowed: false, retryAfterS: 50 });
  });

  it('evicts the entry with the fewest failures, and tracks no newcomer when all are locked', () => {
    const t = new LoginThrottle({ maxAccounts: 3 });
    fail(t, 'a', 3, T0);
    fail(t, 'b', 1, T0 + 1);
    fail(t, 'c', 2, T0);
    t.failure('d', T0 + 2); // evicts b
    fail(t, 'a', 2, T0 + 3);
    fail(t, 'c', 3, T0 + 3);
    expect(t.check('a', T0 + 3).allowed).toBe(false);
    expect(t.check('c', T0 + 3).allowed).toBe(false);
    fail(t, 'b', 4, T0 + 3); // b starts afresh: evicts d, the only unlocked entry
    fail(t, 'b', 1, T0 + 3);
    expect(t.check('b', T0 + 3).allowed).toBe(false);
    expect(t.size).toBe(3);
    fail(t, 'e', 5, T0 + 4); // every entry locked: e is not tracked, and no lock is dropped
    expect(t.size).toBe(3);
    expect(t.check('e', T0 + 4).allowed).toBe(true);
    for (const k of ['a', 'b', 'c']) expect(t.check(k, T0 + 4).allowed, k).toBe(false);
  });

  it('refuses nonsense options', () => {
    expect(() => new LoginThrottle({ maxAccounts: 0 })).toThrow(RangeError);
    expect(() => new LoginThrottle({ failures: 1.5 })).toThrow(RangeError);
    expect(() => new LoginThrottle({ windowMs: -1 })).toThrow(RangeError);
    expect(() => new LoginThrottle({ baseLockMs: 10_000, maxLockMs: 1_000 })).toThrow(RangeError);
  });
});
