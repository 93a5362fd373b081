// `moat config check|compile` as a user runs them: child processes on files in a temp folder.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeConfig, loadMoat } from '../host/module.ts';
import { moduleDefaults } from '../host/config.ts';

const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));
const DEFAULT = fileURLToPath(new URL('../host/default-config.json5', import.meta.url));

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'moat-config-cli-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function moat(...args: string[]) {
  const r = spawnSync(process.execPath, [MOAT, 'config', ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const GOOD = `{
  // a device on port 9000 with tight limits
  web: { listen: ['http://:9000', 'http://[::1]:9001'], limits: { connections: 8, uri: '2K', header: '4K', body: '16K' },
         timeouts: { session: 'infinite' } },
  moat: { stealth: true },
}`;

describe('moat config check', () => {
  it('prints FILE: ok and a summary, exit 0', () => {
    const f = file('good.json5', GOOD);
    const r = moat('check', f);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${f}: ok`);
    expect(lines).toContain('  listen: http://:9000, http://[::1]:9001');
    expect(lines).toContain('  documents: none');
    expect(lines).toContain('  limits: connections 8 (10 per client), uri 2K, header 4K / 100 fields, body 16K, form 10K, upload 1M; input window 16K');
    expect(lines).toContain('  timeouts: parse 5 secs, inactivity 5 mins, request 5 mins, session infinite, tls 10 secs');
    expect(lines).toContain('  routes: none');
    expect(lines).toContain('  tls: off; stealth on');
  });

  it('checks the embedded default file', () => {
    const r = moat('check', DEFAULT);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${DEFAULT}: ok\n  listen: http://127.0.0.1:8080\n`);
    expect(r.stdout).toContain('  routes: /api/status GET → status, /api/echo POST → echo, /auth/login POST → login, /auth/logout POST → logout, /auth/session GET → session, /metrics GET → metrics (operator), /_moat/api/ GET|HEAD|POST → dashboard-api (viewer), /_moat/ GET|HEAD → dashboard-ui, / GET|HEAD → file\n');
  });

  const BAD: [string, string, (f: string) => string][] = [
    ['a unit error', "{ web: { timeouts: { parse: '5m' } } }",
      (f) => `${f}: web.timeouts.parse: "5m" — "m" is ambiguous: spell the unit out (msecs, secs, mins, hours, days, weeks, months, years)`],
    ['an unknown key', '{ web: { limits: { bodyy: 1 } } }', (f) => `${f}: web.limits.bodyy: unknown key`],
    ['https without tls', "{ web: { listen: ['https://:8443'] } }", (f) => `${f}: web.listen[0]: "https://:8443" — https needs the tls section (certificate and key)`],
    ['a limit the module cannot hold', "{ web: { limits: { uri: '16K' } } }",
      (f) => `${f}: web.limits.uri: "16K" — must be smaller than the module's 16384-byte input window, moat.window (at most 16383 bytes)`],
    ['a syntax error', '{\n  web: {\n    listen: [http],\n', (f) => `${f}:3:14: invalid character 'h'`],
  ];
  for (const [what, text, message] of BAD) {
    it(`${what}: one line on stderr, exit 1`, () => {
      const f = file(`bad-${what.replace(/\W+/g, '-')}.json5`, text);
      const r = moat('check', f);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(message(f) + '\n');
    });
  }

  it('a missing file: exit 1', () => {
    const r = moat('check', join(dir, 'absent.json5'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${join(dir, 'absent.json5')}: cannot read the config file (not found)\n`);
  });

  it('usage errors: exit 2 with one line', () => {
    for (const [args, line] of [
      [['check'], 'moat config: check: missing FILE'],
      [['check', 'a', 'b'], 'moat config: check: one FILE at a time'],
      [['check', '--strict', 'a'], 'moat config: check: unknown option --strict'],
      [['frobnicate'], 'moat config: unknown subcommand "frobnicate" (check, compile)'],
      [[], 'moat config: missing subcommand: check or compile (moat config --help)'],
      [['compile', 'x.json5', '-o'], 'moat config: compile: -o needs a file name'],
      [['compile', 'x.json5', '--cc'], 'moat config: compile: unknown option --cc'],
      [['compile'], 'moat config: compile: missing FILE'],
    ] as [string[], string][]) {
      const r = moat(...args);
      expect([args, r.code, r.stderr]).toEqual([args, 2, line + '\n']);
    }
  });

  it('--help prints the usage, exit 0', () => {
    for (const args of [['--help'], ['check', '--help'], ['compile', '-h']]) {
      const r = moat(...args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: moat config check FILE\n {7}moat config compile FILE \[-o OUT\] \[--c\]\n/);
    }
  });
});

describe('moat config compile', () => {
  it('writes FILE.bin: 256 bytes, "MAT1" first, the words of the config', async () => {
    const f = file('device.json5', GOOD);
    const r = moat('compile', f);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = join(dir, 'device.bin');
    expect(r.stdout).toBe(`${f} → ${out} (256 bytes)\n`);
    const blob = readFileSync(out);
    expect(blob.length).toBe(256);
    const word = (i: number) => blob.readUInt32LE(4 * i);
    expect(word(0)).toBe(0x3154414d);
    expect(blob.subarray(0, 4).toString('latin1')).toBe('MAT1');
    expect([word(1), word(2), word(3), word(5)]).toEqual([8, 2048, 4096, 16384]);
    expect(word(15)).toBe(0xffffffff);
    expect(word(17)).toBe(1);
    // a real module takes it
    const m = await loadMoat();
    m.writeBlob(blob);
    expect(m.init()).toBeGreaterThan(0);
    expect(m.x.inputCap()).toBe(moduleDefaults().window_bytes);
  });

  it('-o names the output; the default config compiles to the module defaults', () => {
    const out = join(dir, 'custom-name.blob');
    const r = moat('compile', DEFAULT, '-o', out);
    expect(r.code).toBe(0);
    expect(readFileSync(out).toString('hex')).toBe(Buffer.from(encodeConfig(moduleDefaults())).toString('hex'));
  });

  it('-o - writes the blob to stdout', () => {
    const r = spawnSync(process.execPath, [MOAT, 'config', 'compile', DEFAULT, '-o', '-'], { cwd: dir, timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(Buffer.from(r.stdout).toString('hex')).toBe(Buffer.from(encodeConfig(moduleDefaults())).toString('hex'));
  });

  it('--c writes C source with the same bytes', () => {
    const f = file('board.json5', GOOD);
    const r = moat('compile', f, '--c');
    expect(r.code).toBe(0);
    const out = join(dir, 'board.c');
    expect(r.stdout).toBe(`${f} → ${out} (C source, 256 bytes)\n`);
    const c = readFileSync(out, 'utf8');
    expect(c).toMatch(/^\/\* Moat module config compiled from board\.json5 /);
    expect(c).toContain('const unsigned char moat_config[256] = {\n  0x4d, 0x41, 0x54, 0x31, 0x08, 0x00, 0x00, 0x00,');
    expect(c.endsWith('};\nconst unsigned int moat_config_len = 256;\n')).toBe(true);
    const body = /moat_config\[256\] = \{([^}]*)\}/.exec(c)![1];
    const bytes = body.split(',').map((s) => s.trim()).filter(Boolean);
    expect(bytes.every((b) => /^0x[0-9a-f]{2}$/.test(b))).toBe(true);
    moat('compile', f, '-o', join(dir, 'board.bin'));
    expect(Buffer.from(bytes.map((b) => parseInt(b, 16))).equals(readFileSync(join(dir, 'board.bin')))).toBe(true);
  });

  it('a bad config writes nothing, exit 1', () => {
    const f = file('broken.json5', "{ web: { limits: { connections: 1000 } } }");
    const r = moat('compile', f);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${f}: web.limits.connections: 1000 — the module holds at most 255 connections\n`);
    expect(existsSync(join(dir, 'broken.bin'))).toBe(false);
  });
});
