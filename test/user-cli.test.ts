// `moat user` as an administrator runs it: child processes on a users file in a fresh temp folder,
// passwords piped on stdin.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserStore } from '../host/auth/users.ts';
import { DEVICE_TOKEN, tokenDigest } from '../host/auth/tokens.ts';

const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));
const PW = 'correct horse battery';
const PW2 = 'a brand new passphrase';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'moat-user-cli-'));
  file = join(dir, 'users.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function moat(args: string[], input = '') {
  const r = spawnSync(process.execPath, [MOAT, 'user', ...args], { cwd: dir, input, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Nothing secret anywhere a person or a log could see it. */
function expectHidden(secret: string, ...outputs: string[]) {
  for (const o of outputs) expect(o).not.toContain(secret);
  if (existsSync(file)) expect(readFileSync(file, 'utf8')).not.toContain(secret);
}

describe('moat user add', () => {
  it('adds a user with the password from stdin, one trailing newline stripped', async () => {
    const r = moat(['add', 'alice', '--role', 'admin', '--file', file], PW + '\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`moat user: added user "alice" (admin) to ${file}\n`);
    expectHidden(PW, r.stdout, r.stderr);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await UserStore.load(file).login('alice', PW)).toMatchObject({ name: 'alice', role: 'admin', generation: 1 });
  });

  it('strips a CRLF too, and only one newline', async () => {
    expect(moat(['add', 'bob', '--role', 'viewer', '--file', file], PW + '\r\n').code).toBe(0);
    expect(await UserStore.load(file).login('bob', PW)).not.toBeNull();
    const r = moat(['add', 'carol', '--role', 'viewer', '--file', file], PW + '\n\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('moat user add: password (stdin) — must not contain control characters (newlines, tabs, escapes)\n');
  });

  it('refuses an empty or too-short password and writes nothing', () => {
    const empty = moat(['add', 'alice', '--role', 'admin', '--file', file], '');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^moat user add: password \(stdin\) — empty/);
    const short = moat(['add', 'alice', '--role', 'admin', '--file', file], 'tiny9char\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toBe('moat user add: password (stdin) — must be at least 10 characters\n');
    expect(short.stdout).toBe('');
    expectHidden('tiny9char', short.stderr);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a password that is not UTF-8 or too long', () => {
    const r = spawnSync(process.execPath, [MOAT, 'user', 'add', 'alice', '--role', 'admin', '--file', file],
      { cwd: dir, input: Buffer.from([0x70, 0x61, 0x73, 0x73, 0xff, 0xfe, 0x77, 0x6f, 0x72, 0x64, 0x21, 0x21]), encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('moat user add: password (stdin) — must be valid UTF-8 text\n');
    const long = moat(['add', 'alice', '--role', 'admin', '--file', file], 'x'.repeat(100_000));
    expect(long.code).toBe(1);
    expect(long.stderr).toBe('moat user add: password (stdin) — must be at most 1024 bytes\n');
    expect(existsSync(file)).toBe(false);
  });

  it('--device prints the token once, stores only its digest, and reads no password', () => {
    const r = moat(['add', 'cam1', '--role', 'operator', '--device', '--file', file]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const token = lines[0];
    expect(token).toMatch(DEVICE_TOKEN);
    expect(r.stdout).toContain('not stored in clear');
    expect(r.stdout).toContain('cannot be shown again');
    expect(r.stdout.split(token).length).toBe(2); // shown exactly once
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(token);
    expect(text).toContain(tokenDigest(token));
    expect(UserStore.load(file).device(token)).toMatchObject({ name: 'cam1', kind: 'device', role: 'operator' });
  });

  it('refuses a bad name, a bad role and a duplicate (exit 1), naming the argument and the rule', () => {
    const name = moat(['add', 'bad name', '--role', 'admin', '--file', file], PW);
    expect(name.code).toBe(1);
    expect(name.stderr).toBe('moat user add: NAME "bad name" — 1 to 64 letters, digits and . _ @ -, starting with a letter or digit\n');
    const role = moat(['add', 'alice', '--role', 'root', '--file', file], PW);
    expect(role.code).toBe(1);
    expect(role.stderr).toBe('moat user add: --role "root" — must be one of "viewer", "operator", "admin"\n');
    expect(existsSync(file)).toBe(false);
    expect(moat(['add', 'alice', '--role', 'admin', '--device', '--file', file]).code).toBe(0);
    const dup = moat(['add', 'alice', '--role', 'viewer', '--file', file], PW);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/^moat user add: NAME "alice" — already in /);
  });

  it('refuses a password given on the command line without echoing it (exit 2)', () => {
    const r = moat(['add', 'alice', 'Sup3r-secret-pass', '--role', 'admin', '--file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/passwords are read from stdin/);
    expectHidden('Sup3r-secret-pass', r.stdout, r.stderr);
    const dash = moat(['add', 'alice', '-Sup3r:secret', '--role', 'admin', '--file', file]);
    expect(dash.code).toBe(2);
    expectHidden('Sup3r:secret', dash.stdout, dash.stderr);
    expect(existsSync(file)).toBe(false);
  });
});

describe('moat user usage errors (exit 2)', () => {
  const CASES: [string, string[], string][] = [
    ['no subcommand', [], 'moat user: missing subcommand: add, passwd, revoke, rotate or list (moat user --help)\n'],
    ['an unknown subcommand', ['delete', 'alice'], 'moat user: unknown subcommand "delete" (add, passwd, revoke, rotate, list)\n'],
    ['no --file', ['list'], 'moat user list: --file FILE is required (the users file)\n'],
    ['--file without a value', ['list', '--file'], 'moat user list: --file needs a value\n'],
    ['no NAME', ['revoke', '--file', 'u.json'], 'moat user revoke: missing NAME\n'],
    ['no --role', ['add', 'alice', '--file', 'u.json'], 'moat user add: --role ROLE is required (viewer, operator or admin)\n'],
    ['an option the subcommand does not take', ['passwd', 'alice', '--role', 'admin', '--file', 'u.json'], 'moat user passwd: unknown option --role (moat user --help)\n'],
    ['--password', ['add', 'alice', '--password', 'x', '--role', 'admin', '--file', 'u.json'], 'moat user add: unknown option --password (moat user --help)\n'],
  ];
  for (const [what, args, stderr] of CASES) {
    it(what, () => {
      const r = moat(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(stderr);
      expect(r.stdout).toBe('');
    });
  }

  it('--help prints the usage, exit 0; moat --help lists the command', () => {
    const r = moat(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: moat user add NAME --role ROLE \[--device\] --file FILE \[--oplog FILE\]\n/);
    const top = spawnSync(process.execPath, [MOAT, '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(top.stdout).toContain('  user      manage users and device credentials in a users file (add|passwd|revoke|rotate|list)\n');
  });
});

describe('moat user passwd, revoke, rotate, list', () => {
  beforeEach(() => {
    expect(moat(['add', 'alice', '--role', 'admin', '--file', file], PW + '\n').code).toBe(0);
  });

  it('passwd sets a new password and bumps the generation', async () => {
    const r = moat(['passwd', 'alice', '--file', file], PW2 + '\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectHidden(PW2, r.stdout, r.stderr);
    const s = UserStore.load(file);
    expect(await s.login('alice', PW)).toBeNull();
    expect(await s.login('alice', PW2)).toMatchObject({ generation: 2 });
  });

  it('passwd refuses unknown names, devices and bad passwords (exit 1)', () => {
    expect(moat(['add', 'cam1', '--role', 'viewer', '--device', '--file', file]).code).toBe(0);
    const unknown = moat(['passwd', 'bob', '--file', file], PW2);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`moat user passwd: NAME "bob" — no such user in ${file}\n`);
    const device = moat(['passwd', 'cam1', '--file', file], PW2);
    expect(device.code).toBe(1);
    expect(device.stderr).toMatch(/is a device/);
    const weak = moat(['passwd', 'alice', '--file', file], 'short');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/password \(stdin\) — must be at least 10 characters/);
    expect(UserStore.load(file).list().find((r) => r.name === 'alice')!.generation).toBe(1);
  });

  it('revoke ends the account (exit 0), is idempotent, and refuses unknown names (exit 1)', async () => {
    const r = moat(['revoke', 'alice', '--file', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/revoked user "alice"/);
    const s = UserStore.load(file);
    expect(s.principal('alice')).toBeNull();
    expect(await s.login('alice', PW)).toBeNull();
    expect(moat(['revoke', 'alice', '--file', file])).toMatchObject({ code: 0, stdout: 'moat user: "alice" was already revoked\n' });
    const unknown = moat(['revoke', 'bob', '--file', file]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`moat user revoke: NAME "bob" — no such user or device in ${file}\n`);
    const again = moat(['passwd', 'alice', '--file', file], PW2);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is revoked/);
  });

  it('rotate gives a device a new token and refuses users', () => {
    const first = moat(['add', 'cam1', '--role', 'operator', '--device', '--file', file]).stdout.split('\n')[0];
    const r = moat(['rotate', 'cam1', '--file', file]);
    expect(r.code).toBe(0);
    const second = r.stdout.split('\n')[0];
    expect(second).toMatch(DEVICE_TOKEN);
    expect(second).not.toBe(first);
    expect(r.stdout).toContain('cannot be shown again');
    const s = UserStore.load(file);
    expect(s.device(first)).toBeNull();
    expect(s.device(second)).toMatchObject({ name: 'cam1', generation: 2 });
    const user = moat(['rotate', 'alice', '--file', file]);
    expect(user.code).toBe(1);
    expect(user.stderr).toMatch(/^moat user rotate: NAME "alice" — is a user/);
  });

  it('list shows a table, and --json shows no hash or token', () => {
    const token = moat(['add', 'cam1', '--role', 'operator', '--device', '--file', file]).stdout.split('\n')[0];
    expect(moat(['revoke', 'cam1', '--file', file]).code).toBe(0);
    const table = moat(['list', '--file', file]);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe([
      'NAME   KIND    ROLE      STATUS   GENERATION',
      'alice  user    admin     active   1',
      'cam1   device  operator  revoked  2',
      '',
    ].join('\n'));
    const json = moat(['list', '--file', file, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { name: 'alice', kind: 'user', role: 'admin', revoked: false, generation: 1 },
      { name: 'cam1', kind: 'device', role: 'operator', revoked: true, generation: 2 },
    ]);
    for (const out of [json.stdout, table.stdout]) {
      expect(out).not.toMatch(/hash|token|scrypt/i);
      expect(out).not.toContain(tokenDigest(token));
      expectHidden(token, out);
      expectHidden(PW, out);
    }
  });

  it('list on a missing file says so; on a malformed file names the key and the rule (exit 1)', () => {
    expect(moat(['list', '--file', join(dir, 'none.json')])).toMatchObject({ code: 0, stdout: `no users or devices in ${join(dir, 'none.json')}\n` });
    writeFileSync(file, readFileSync(file, 'utf8').replace('"role": "admin"', '"role": "root"'));
    const r = moat(['list', '--file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`moat user list: ${file}: users.alice.role: "root" — must be one of "viewer", "operator", "admin"\n`);
  });
});

describe('moat user --oplog', () => {
  it('appends each change to the hash-chained operation log, without the secret, and the chain verifies', async () => {
    const { verifyOpLog, readOpLog } = await import('../host/oplog.ts');
    const log = join(dir, 'oplog.jsonl');
    expect(moat(['add', 'alice', '--role', 'admin', '--file', file, '--oplog', log], PW + '\n').code).toBe(0);
    const dev = moat(['add', 'cam1', '--role', 'viewer', '--device', '--file', file, '--oplog', log]);
    expect(dev.code).toBe(0);
    const token = dev.stdout.split('\n')[0];
    expect(moat(['revoke', 'cam1', '--file', file, '--oplog', log]).code).toBe(0);
    // A refused change is not an action taken: nothing is appended.
    expect(moat(['revoke', 'nobody', '--file', file, '--oplog', log]).code).toBe(1);
    expect(verifyOpLog(log)).toMatchObject({ ok: true, records: 3 });
    expect(readOpLog(log).map((r) => [r.action, r.target, r.outcome])).toEqual([
      ['user.add', 'alice', 'ok'], ['user.add', 'cam1', 'ok'], ['user.revoke', 'cam1', 'ok'],
    ]);
    const text = readFileSync(log, 'utf8');
    expect(text).not.toContain(PW);
    expect(text).not.toContain(token);
  });
});
