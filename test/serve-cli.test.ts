// `moat serve` as a child process (node host/moat.mjs): the embedded default config with --port 0,
// --help, bad flags, and graceful shutdown on SIGTERM with a request in flight. Every child is
// killed after each test if it is still running; every wait is bounded.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, SECURITY, sleep, within } from './helpers/raw-http.ts';

const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Child {
  proc: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves once stdout matches `re` (bounded). */
  waitOut(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
}

const children: Child[] = [];
const sockets: { destroy(): void }[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await within(c.exit, 5000, 'child exit').catch(() => {});
  }
});

function moat(...args: string[]): Child {
  const proc = spawn(process.execPath, [MOAT, 'serve', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const waiters: (() => void)[] = [];
  const child: Child = {
    proc, stdout: '', stderr: '',
    exit: new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal, at: Date.now() }))),
    waitOut(re, ms = 10_000) {
      return within(new Promise((resolve) => {
        const check = () => { const m = child.stdout.match(re); if (m) resolve(m); else waiters.push(check); };
        check();
      }), ms, `stdout matching ${re} (got ${JSON.stringify(child.stdout)} / stderr ${JSON.stringify(child.stderr)})`);
    },
  };
  proc.stdout.on('data', (d) => { child.stdout += d; for (const w of waiters.splice(0)) w(); });
  proc.stderr.on('data', (d) => { child.stderr += d; });
  children.push(child);
  return child;
}

const SERVING = /moat: serving on http:\/\/127\.0\.0\.1:(\d+)\/\n/;

/** Starts `moat serve --port 0` and returns the port it printed. */
async function serve(): Promise<{ child: Child; port: number }> {
  const child = moat('--port', '0');
  const m = await child.waitOut(SERVING);
  const port = Number(m[1]);
  expect(port).toBeGreaterThan(0);
  expect(port).toBeLessThan(65536);
  return { child, port };
}

/** Connect result: 'refused' (ECONNREFUSED), or what a request on it got before the close. */
function tryConnect(port: number): Promise<'refused' | { bytes: number }> {
  return within(new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    sockets.push(s);
    let bytes = 0;
    s.on('connect', () => s.write('GET /api/status HTTP/1.1\r\nHost: a\r\n\r\n'));
    s.on('data', (d) => { bytes += d.length; });
    s.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'ECONNREFUSED') resolve('refused'); });
    s.on('close', () => resolve({ bytes }));
  }), 3000, 'a connection attempt');
}

describe('moat serve (child process)', () => {
  it('--port 0 prints the real port; / and /api/status are served; access lines go to stdout; SIGTERM → exit 0', async () => {
    const { child, port } = await serve();
    const page = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(4000) });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>Moat demo device</title>');
    for (const [n, v] of SECURITY) expect(page.headers.get(n), n).toBe(v);

    const status = await fetch(`http://127.0.0.1:${port}/api/status`, { signal: AbortSignal.timeout(4000) });
    expect(status.status).toBe(200);
    expect(status.headers.get('content-type')).toBe('application/json');
    expect(await status.json()).toMatchObject({ device: 'moat-demo', ok: true });

    await child.waitOut(/"GET \/api\/status HTTP\/1\.1" 200 \d+/, 3000);   // common log format on stdout
    expect(child.stdout).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 \d+$/m);

    await sleep(100);
    const t0 = Date.now();
    child.proc.kill('SIGTERM');
    const exit = await within(child.exit, 3000, 'exit after SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - t0).toBeLessThan(3000);
    expect(child.stdout).toContain('moat: SIGTERM: shutting down\n');
    expect(child.stderr).toBe('');
  });

  it('--help → usage on stdout, exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const child = moat(flag);
      const exit = await within(child.exit, 10_000, 'exit');
      expect(exit.code).toBe(0);
      expect(child.stdout).toMatch(/^usage: moat serve \[--config FILE\] \[--port N\]\n/);
      expect(child.stdout).toContain('--port N');
      expect(child.stdout).toContain('--config FILE');
      expect(child.stderr).toBe('');
    }
  });

  it.each([
    [['--bogus'], 'moat serve: unknown argument "--bogus" (see moat serve --help)'],
    [['--port', 'abc'], 'moat serve: --port must be 0..65535, got "abc"'],
    [['--port', '70000'], 'moat serve: --port must be 0..65535, got "70000"'],
    [['--port', '-1'], 'moat serve: --port must be 0..65535, got "-1"'],
    [['--port'], 'moat serve: --port must be 0..65535, got ""'],
    [['--config'], 'moat serve: --config needs a file'],
  ])('bad flags %j → exit 2 and one line on stderr', async (args, line) => {
    const child = moat(...args);
    const exit = await within(child.exit, 10_000, 'exit');
    expect(exit.code).toBe(2);
    expect(child.stderr).toBe(line + '\n');
    expect(child.stdout).toBe('');
  });

  it('graceful shutdown: SIGTERM mid-request → the request completes (200), new connections are refused, exit 0 within 3 s', async () => {
    const { child, port } = await serve();
    const c = await Client.connect(port, sockets);
    const body = 'abcdefghij'.repeat(5);              // 50 bytes, 10 every 100 ms → ~500 ms
    c.write(`POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`);
    let sent = 0;
    const drip = setInterval(() => { if (sent < body.length) { c.write(body.slice(sent, sent + 10)); sent += 10; } }, 100);
    try {
      await sleep(150);
      expect(sent).toBeGreaterThan(0);
      expect(sent).toBeLessThan(body.length);         // the request is in flight
      const t0 = Date.now();
      child.proc.kill('SIGTERM');
      await child.waitOut(/moat: SIGTERM: shutting down\n/, 2000);
      expect(sent).toBeLessThan(body.length);         // still in flight when the shutdown began

      // New connections: refused (or closed without a byte).
      const attempt = await tryConnect(port);
      if (attempt !== 'refused') expect(attempt.bytes).toBe(0);

      // The in-flight request still completes.
      const r = await c.read(false, 3000);
      expect(r.status, r.head + '\n' + r.body.toString()).toBe(200);
      expect(sent).toBe(body.length);
      expect(JSON.parse(r.body.toString())).toEqual({ bytes: 50, trailers: 0 });
      expect(r.headers.get('connection')).toEqual(['close']);
      await c.waitClosed(2000);

      const exit = await within(child.exit, 3000, 'exit after SIGTERM');
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.at - t0).toBeLessThan(3000);
    } finally {
      clearInterval(drip);
    }
  });

  it('SIGTERM as soon as the serving line appears is still a graceful exit 0 (5 tries)', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, async () => {
      const child = moat('--port', '0');
      await child.waitOut(SERVING);
      child.proc.kill('SIGTERM');
      return within(child.exit, 5000, 'exit');
    }));
    expect(results.map((r) => [r.code, r.signal])).toEqual(Array(5).fill([0, null]));
  });
});
