// host/bundle.mjs: dist/moat.mjs is the whole `moat` command in one file. It is copied (with
// dist/site) into an empty folder — no node_modules, no build/, no host/ — and run there with plain
// node: the wasm, the default config and every dependency must come from the bundle itself.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

let bundled: SpawnSyncReturns<string>;
let base = '';
let app = '';

/** Relative paths of every file under `dir`, sorted. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p); else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function run(args: string[], input = '', nodeArgs: string[] = []) {
  return spawnSync(process.execPath, [...nodeArgs, 'moat.mjs', ...args], {
    cwd: app, input, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_PATH: '', NODE_OPTIONS: '' },
  });
}

beforeAll(() => {
  bundled = spawnSync(process.execPath, [join(ROOT, 'host', 'bundle.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  base = realpathSync(mkdtempSync(join(tmpdir(), 'moat-bundle-')));
  app = join(base, 'app');          // the parent has no build/ either: WASM_PATH cannot be found
  mkdirSync(app);
  if (bundled.status === 0) {
    cpSync(join(DIST, 'moat.mjs'), join(app, 'moat.mjs'));
    if (existsSync(join(DIST, 'site'))) cpSync(join(DIST, 'site'), join(app, 'site'), { recursive: true });
  }
}, 300_000);

afterAll(() => { if (base) rmSync(base, { recursive: true, force: true }); });

describe('node host/bundle.mjs', () => {
  it('writes one executable ESM file with a node shebang and prints its size', () => {
    expect(bundled.stderr).not.toMatch(/failed/);
    expect(bundled.status).toBe(0);
    expect(bundled.stdout).toMatch(/moat: dist\/moat\.mjs [\d,]+ B raw \/ [\d,]+ B gzip \(embedded: wasm [\d,]+ B/);
    const text = readFileSync(join(DIST, 'moat.mjs'), 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(join(DIST, 'moat.mjs')).mode & 0o111).not.toBe(0);
    // Only Node built-ins are imported; the wasm is inside, byte for byte.
    const specifiers = [...text.matchAll(/^import\s[^;]*?from\s*"([^"]+)"|^import\s*"([^"]+)"/gm)].map((m) => m[1] ?? m[2]);
    expect(specifiers.length).toBeGreaterThan(0);
    for (const s of specifiers) expect(s).toMatch(/^node:|^(fs|path|url|net|tls|os|crypto|stream|events|util|zlib|module|readline|child_process|buffer|http|https|assert|process|string_decoder|worker_threads|timers)(\/|$)/);
    const wasm = readFileSync(join(ROOT, 'build', 'moat.wasm')).toString('base64');
    expect(text).toContain(wasm);
  });

  it('embeds host/default-config.json5 and copies host/site/ to dist/site/', () => {
    expect(bundled.status).toBe(0);
    // (the text itself is compared at run time below: esbuild may re-quote the literal)
    expect(existsSync(join(ROOT, 'host', 'default-config.json5'))).toBe(true);
    expect(bundled.stdout).toMatch(/default config [\d,]+ B/);
    expect(readFileSync(join(DIST, 'moat.mjs'), 'utf8')).toContain('globalThis.__MOAT_DEFAULT_CONFIG__ = ');
    const site = files(join(ROOT, 'host', 'site'));
    expect(site.length).toBeGreaterThan(0);
    expect(files(join(DIST, 'site'))).toEqual(site);
    for (const f of site) expect(readFileSync(join(DIST, 'site', f))).toEqual(readFileSync(join(ROOT, 'host', 'site', f)));
  });
});

describe('dist/moat.mjs in an empty folder', () => {
  it('has nothing to lean on: no node_modules up the tree, no build/moat.wasm next to it', () => {
    expect(bundled.status).toBe(0);
    for (let d = app; ; d = dirname(d)) {
      expect(existsSync(join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
      if (dirname(d) === d) break;
    }
    expect(existsSync(join(app, '..', 'build', 'moat.wasm'))).toBe(false);
    expect(readdirSync(app).sort()).toEqual(existsSync(join(DIST, 'site')) ? ['moat.mjs', 'site'] : ['moat.mjs']);
  });

  it('--help exits 0 with the usage text', () => {
    const r = run(['--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: moat <command>/m);
    expect(r.stdout).toMatch(/^\s+inspect\s/m);
  });

  it('inspect parses JSON lines through the embedded module', () => {
    const input = [
      JSON.stringify({ id: 'ok', raw_b64: b64('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc') }),
      JSON.stringify({ id: 2, raw_b64: b64('GET /' + 'a'.repeat(40) + ' HTTP/1.1\r\nHost: x\r\n\r\n'), limits: { uri_bytes: 20 } }),
      JSON.stringify({ id: 3, raw_b64: b64('GET / HTTP/1.1\nHost: x\r\n\r\n') }),
    ].join('\n') + '\n';
    const r = run(['inspect'], input);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({
      id: 'ok', error: null, requests: [
        { method: 'GET', target: '/a?b=1', version: '1.1', headers: [['Host', 'x'], ['Content-Length', '3']], body_b64: b64('abc'), trailers: [], keep_alive: true },
      ],
    });
    expect(lines[1]).toMatchObject({ id: 2, requests: [], error: { status: 414, reason: 'uri_too_long' } });
    expect(lines[2]).toMatchObject({ id: 3, requests: [], error: { status: 400, reason: 'bare_lf' } });
  });

  it('sets the embedded globals before any host code, with the site folder next to the bundle', () => {
    // Runs before the bundle (--import) and reports the globals when the process exits.
    const code = `process.on('exit', () => process.stderr.write('EMBED ' + JSON.stringify({
      site: globalThis.__MOAT_SITE_DIR__, config: globalThis.__MOAT_DEFAULT_CONFIG__, wasm: (globalThis.__MOAT_WASM_B64__ ?? '').length,
    }) + '\\n'));`;
    const probe = 'data:text/javascript,' + encodeURIComponent(code);
    const r = run(['help'], '', ['--import', probe]);
    expect(r.status).toBe(0);
    const m = /^EMBED (.*)$/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const g = JSON.parse(m![1]);
    expect(g.site).toBe(join(app, 'site') + '/');
    expect(g.config).toBe(readFileSync(join(ROOT, 'host', 'default-config.json5'), 'utf8'));
    expect(g.wasm).toBe(readFileSync(join(ROOT, 'build', 'moat.wasm')).toString('base64').length);
  });

  it('serve answers /api/status on --port and stops on SIGTERM', async () => {
    expect(bundled.status).toBe(0);
    const port = await freePort();
    const child = spawn(process.execPath, ['moat.mjs', 'serve', '--port', String(port)], {
      cwd: app, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_PATH: '', NODE_OPTIONS: '' },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 15_000;
      let res: Response | undefined;
      while (!res && Date.now() < deadline && child.exitCode === null) {
        res = await fetch(`http://127.0.0.1:${port}/api/status`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        if (!res) await new Promise((r) => setTimeout(r, 100));
      }
      expect(res, `no answer from the bundle's server; its output:\n${output}`).toBeDefined();
      expect(res!.status).toBe(200);
      expect(res!.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res!.json()).toMatchObject({ ok: true });
    } finally {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
  }, 30_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
