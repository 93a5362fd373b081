// End to end: servers built by startFromConfig from the embedded default (loadConfig()) or from
// config text (parseConfig), on 127.0.0.1 port 0, with Node's fetch, node:https and raw node:net /
// node:tls clients. Every wait is bounded; every server and socket is closed after each test.
import tls from 'node:tls';
import https from 'node:https';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../host/config.ts';
import { startFromConfig, type Running } from '../host/serve.ts';
import { generateDevCert, type DevCert } from '../host/cert.ts';
import type { MoatConfig } from '../host/types.ts';
import type { ModuleConfig } from '../host/module.ts';
import { Client, GET, SECURITY, WAIT, configText, sleep, within, type RawResponse } from './helpers/raw-http.ts';

const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SITE = fileURLToPath(new URL('../host/site/', import.meta.url));

const tmp = mkdtempSync(join(tmpdir(), 'moat-e2e-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const running: Running[] = [];
const sockets: { destroy(): void }[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(running.splice(0).map((r) => r.close(200)));
});

const LOGS_OFF: MoatConfig['log'] = { access: { path: null, format: 'common' }, error: { path: null, level: 'error' }, security: { path: null } };

/** The embedded default config on 127.0.0.1:0 with logs off (or `log`). */
async function startDefault(moduleOverrides: Partial<ModuleConfig> = {}, log: MoatConfig['log'] = LOGS_OFF): Promise<Running> {
  const cfg = loadConfig();
  cfg.web.listen = [{ scheme: 'http', host: '127.0.0.1', port: 0 }];
  cfg.log = log;
  const r = await startFromConfig(cfg, { moduleOverrides });
  running.push(r);
  return r;
}

/** A server from JSON5 config text (as if read from a file in the temp folder). */
async function startText(text: string, moduleOverrides: Partial<ModuleConfig> = {}): Promise<Running> {
  const cfg = parseConfig(text, join(tmp, 'moat.json5'));
  const r = await startFromConfig(cfg, { moduleOverrides });
  running.push(r);
  return r;
}

const connect = (port: number, localAddress?: string) => Client.connect(port, sockets, { localAddress });

const one = (r: RawResponse, name: string) => {
  const v = r.headers.get(name.toLowerCase()) ?? [];
  expect(v, `${name} in ${JSON.stringify(r.head)}`).toHaveLength(1);
  return v[0];
};
const none = (r: RawResponse, name: string) => expect(r.headers.get(name.toLowerCase()), `${name} in ${JSON.stringify(r.head)}`).toBeUndefined();

/** The 4 security fields exactly once each, and no Server / X-Powered-By. */
function expectSecurity(r: RawResponse): void {
  for (const [n, v] of SECURITY) expect(one(r, n), n).toBe(v);
  none(r, 'Server');
  none(r, 'X-Powered-By');
}
function expectSecurityFetch(h: Headers): void {
  for (const [n, v] of SECURITY) expect(h.get(n), n).toBe(v);
  expect(h.get('server')).toBeNull();
  expect(h.get('x-powered-by')).toBeNull();
}

/** One raw request on a fresh connection → its response. */
async function exchange(port: number, raw: string, headOnly = false): Promise<{ r: RawResponse; c: Client }> {
  const c = await connect(port);
  c.write(raw);
  return { r: await c.read(headOnly), c };
}

/** A legit request on a fresh connection still works (after a refusal). */
async function stillServes(port: number): Promise<void> {
  const { r } = await exchange(port, GET('/api/status', 'Connection: close\r\n'));
  expect(r.status).toBe(200);
  expect(JSON.parse(r.body.toString())).toMatchObject({ device: 'moat-demo', ok: true });
}

const post = (path: string, body: string, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

// ---------------------------------------------------------------------------------------------------

describe('the demo site (embedded default config)', () => {
  it('GET / over fetch → the demo page from the document root, text/html', async () => {
    const { server } = await startDefault();
    const res = await fetch(`http://127.0.0.1:${server.port}/`, { signal: AbortSignal.timeout(WAIT) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const body = await res.text();
    expect(body).toBe(readFileSync(join(SITE, 'index.html'), 'utf8'));
    expect(body).toContain('<title>Moat demo device</title>');
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(body));
    expect(res.headers.get('etag')).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expectSecurityFetch(res.headers);
  });

  it('GET /style.css over fetch → text/css with the file bytes', async () => {
    const { server } = await startDefault();
    const res = await fetch(`http://127.0.0.1:${server.port}/style.css`, { signal: AbortSignal.timeout(WAIT) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(SITE, 'style.css')))).toBe(true);
    expectSecurityFetch(res.headers);
  });

  it('GET /api/status over fetch → JSON', async () => {
    const { server } = await startDefault();
    const res = await fetch(`http://127.0.0.1:${server.port}/api/status`, { signal: AbortSignal.timeout(WAIT) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const j = await res.json() as Record<string, unknown>;
    expect(j).toMatchObject({ device: 'moat-demo', ok: true });
    expect(typeof j.uptime_s).toBe('number');
    expect(typeof j.memory_rss).toBe('number');
    expectSecurityFetch(res.headers);
  });

  it('POST /api/echo with a fixed body over fetch → the byte count', async () => {
    const { server } = await startDefault();
    const body = 'x'.repeat(1000) + 'é';                  // 1002 bytes in UTF-8
    const res = await fetch(`http://127.0.0.1:${server.port}/api/echo`, { method: 'POST', body, signal: AbortSignal.timeout(WAIT) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: 1002, trailers: 0 });
    expectSecurityFetch(res.headers);
  });

  it('POST /api/echo with a chunked body (raw, split writes, trailer) → the de-chunked byte count', async () => {
    const { server } = await startDefault();
    const c = await connect(server.port);
    c.write('POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n');
    c.write('4\r\nabcd\r\n');
    await sleep(20);
    c.write('10;note=x\r\n0123456789abcdef\r\n');
    await sleep(20);
    c.write('0\r\nX-Check: 20\r\n\r\n');
    const r = await c.read();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ bytes: 20, trailers: 1 });
    none(r, 'Connection');
    expectSecurity(r);
  });

  it('pipelined requests in one write → responses in order on one connection', async () => {
    const { server } = await startDefault();
    const c = await connect(server.port);
    c.write(GET('/style.css') + post('/api/echo', 'hello') + GET('/api/status') + GET('/nope') + GET('/'));
    const rs = [await c.read(), await c.read(), await c.read(), await c.read(), await c.read()];
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 404, 200]);
    expect(one(rs[0], 'Content-Type')).toBe('text/css; charset=utf-8');
    expect(JSON.parse(rs[1].body.toString())).toEqual({ bytes: 5, trailers: 0 });
    expect(JSON.parse(rs[2].body.toString())).toMatchObject({ device: 'moat-demo' });
    expect(one(rs[4], 'Content-Type')).toBe('text/html; charset=utf-8');
    expect(c.buf.length).toBe(0);
    expect(c.ended).toBe(false);
  });

  it('keep-alive: two requests one after the other on one raw socket', async () => {
    const { server } = await startDefault();
    const c = await connect(server.port);
    const localPort = c.socket.localPort;
    c.write(GET('/api/status'));
    const a = await c.read();
    expect(a.status).toBe(200);
    none(a, 'Connection');
    await sleep(50);
    expect(c.ended).toBe(false);
    c.write(post('/api/echo', 'abc'));
    const b = await c.read();
    expect(b.status).toBe(200);
    expect(JSON.parse(b.body.toString())).toEqual({ bytes: 3, trailers: 0 });
    expect(c.socket.localPort).toBe(localPort);
    expect(c.ended).toBe(false);
  });

  it('Expect: 100-continue → 100 Continue before the body, then 200', async () => {
    const { server } = await startDefault();
    const c = await connect(server.port);
    c.write('POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n');
    await c.until(() => c.buf.length >= 25 || undefined, WAIT, '100 Continue');
    expect(c.buf.toString('latin1')).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    c.buf = Buffer.alloc(0);
    c.write('hello world');
    const r = await c.read();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ bytes: 11, trailers: 0 });
    expectSecurity(r);
  });

  it('HEAD / → the GET fields, no body, connection reusable', async () => {
    const { server } = await startDefault();
    const c = await connect(server.port);
    c.write('HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const r = await c.read(true);
    expect(r.status).toBe(200);
    expect(Number(one(r, 'Content-Length'))).toBe(readFileSync(join(SITE, 'index.html')).length);
    c.write(GET('/api/status'));
    const next = await c.read();
    expect(next.status).toBe(200);
    expect(one(next, 'Content-Type')).toBe('application/json');
  });

  it('logs to temp files: the access log has the request, the security log the rejection', async () => {
    const access = join(tmp, 'access.log'), security = join(tmp, 'security.log');
    const r = await startDefault({}, { access: { path: access, format: 'json' }, error: { path: null, level: 'error' }, security: { path: security } });
    const { server } = r;
    expect((await exchange(server.port, GET('/api/status?x=1'))).r.status).toBe(200);
    expect((await exchange(server.port, 'GET / HTTP/1.1\r\nHost a\r\n\r\n')).r.status).toBe(400);
    await sleep(150);                                       // one tick drains the module's events
    await r.close(200);
    running.splice(running.indexOf(r), 1);
    const lines = readFileSync(access, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toContainEqual(expect.objectContaining({ method: 'GET', target: '/api/status?x=1', status: 200, client: '127.0.0.1', tls: false }));
    expect(readFileSync(security, 'utf8')).toContain('space_before_colon');
  });
});

// ---------------------------------------------------------------------------------------------------

describe('every response class carries the 4 security fields and no Server / X-Powered-By', () => {
  let port = 0;
  let ctl: Running;
  beforeAll(async () => {
    const cfg = parseConfig(configText(`timeouts: { parse: '400 msecs' }`), join(tmp, 'moat.json5'));
    ctl = await startFromConfig(cfg);
    port = ctl.server.port;
  });
  afterAll(async () => { await ctl.close(200); });

  const cases: [number, () => Promise<RawResponse>, string?][] = [
    [200, async () => (await exchange(port, GET('/'))).r],
    [304, async () => {
      const first = (await exchange(port, GET('/'))).r;
      const etag = one(first, 'ETag');
      const r = (await exchange(port, GET('/', `If-None-Match: ${etag}\r\n`))).r;
      expect(one(r, 'ETag')).toBe(etag);
      expect(r.body.length).toBe(0);
      none(r, 'Content-Length');
      return r;
    }],
    [404, async () => (await exchange(port, GET('/no/such/file.html'))).r],
    [405, async () => {
      const r = (await exchange(port, 'DELETE /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).r;
      expect(one(r, 'Allow')).toBe('GET, HEAD');
      return r;
    }],
    [400, async () => (await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nBad@Field: x\r\n\r\n')).r, 'bad_field_name'],
    [413, async () => (await exchange(port, 'POST /api/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n')).r, 'body_too_large'],
    [414, async () => (await exchange(port, GET('/' + 'a'.repeat(9000)))).r, 'uri_too_long'],
    [431, async () => (await exchange(port, GET('/', `X-Big: ${'b'.repeat(11000)}\r\n`))).r, 'fields_too_large'],
    [501, async () => (await exchange(port, 'POST /api/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n')).r, 'te_coding_not_implemented'],
    [505, async () => (await exchange(port, 'GET / HTTP/2.0\r\nHost: a\r\n\r\n')).r, 'version_not_supported'],
    [408, async () => {
      const c = await connect(port);
      c.write('GET / HTTP/1.1\r\nHost: a\r\n');
      return c.read(false, 3000);
    }, 'parse_timeout'],
  ];
  it.each(cases)('%i', async (status, run, reason) => {
    const r = await run();
    expect(r.status).toBe(status);
    expectSecurity(r);
    if (reason) {
      expect(one(r, 'Connection')).toBe('close');
      expect(JSON.parse(r.body.toString())).toEqual({ error: status, reason });
    }
  });
});

describe('web.headers and stealth from config text', () => {
  it('web.headers fields are on app responses and on module error responses (400, 413, 505, 408)', async () => {
    const { server } = await startText(configText(`headers: { 'Cache-Control': 'no-store', 'X-Device': 'demo' }, timeouts: { parse: '300 msecs' }`));
    const ok = (await exchange(server.port, GET('/api/status'))).r;
    const notFound = (await exchange(server.port, GET('/nope'))).r;
    const bad = (await exchange(server.port, 'GET / HTTP/1.1\r\nHost a\r\n\r\n')).r;
    const big = (await exchange(server.port, 'POST /api/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 999999\r\n\r\n')).r;
    const ver = (await exchange(server.port, 'GET / HTTP/2.0\r\nHost: a\r\n\r\n')).r;
    const c = await connect(server.port);
    c.write('GET / HTTP/1.1\r\n');
    const late = await c.read(false, 3000);
    expect([ok, notFound, bad, big, ver, late].map((r) => r.status)).toEqual([200, 404, 400, 413, 505, 408]);
    // "Extra response fields sent on every response" (host/types.ts, default-config.json5).
    for (const r of [ok, notFound, bad, big, ver, late]) {
      expect(r.headers.get('cache-control'), `${r.status}: ${r.head}`).toEqual(['no-store']);
      expect(r.headers.get('x-device'), `${r.status}: ${r.head}`).toEqual(['demo']);
      expectSecurity(r);
    }
  });

  it('a field the handler sets itself replaces the web.headers field of the same name (never both)', async () => {
    const { server } = await startText(configText(`headers: { 'Cache-Control': 'public, max-age=60', 'X-Device': 'demo' }`));
    const css = (await exchange(server.port, GET('/style.css'))).r;     // the file handler sends Cache-Control: no-cache
    expect(css.status).toBe(200);
    expect(css.headers.get('cache-control')).toEqual(['no-cache']);
    expect(css.headers.get('x-device')).toEqual(['demo']);
    const status = (await exchange(server.port, GET('/api/status'))).r;  // sets none: the config's
    expect(status.headers.get('cache-control')).toEqual(['public, max-age=60']);
  });

  it('moat.stealth: a malformed request gets no bytes at all, a good one is still served', async () => {
    const { server } = await startText(configText('', 'moat: { stealth: true },'));
    const c = await connect(server.port);
    c.write('GET / HTTP/1.1\r\nHost a\r\n\r\n');
    await c.waitClosed();
    expect(c.received).toBe(0);
    await stillServes(server.port);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('limits set through config text', () => {
  const LIMITS = `limits: { body: '1K', form: '512 bytes', upload: '2K', uri: 512, header: '1K', headers: 5, chunkExt: 16, connections: 3, clientConnections: 2 }`;

  it('the config text resolves to the expected numbers', () => {
    const cfg = parseConfig(configText(LIMITS), join(tmp, 'moat.json5'));
    expect(cfg.web.limits).toMatchObject({ body: 1024, form: 512, upload: 2048, uri: 512, header: 1024, headers: 5, chunkExt: 16, connections: 3, clientConnections: 2 });
  });

  const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-F${i}: v\r\n`).join('');
  const chunked = (sizeLine: string, data: string) =>
    `POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n${sizeLine}\r\n${data}\r\n0\r\n\r\n`;
  const FORM = 'Content-Type: application/x-www-form-urlencoded\r\n';
  const UPLOAD = 'Content-Type: multipart/form-data; boundary=zz\r\n';

  // [limit, request at the limit (→ 200), request just past it, status, reason]
  const cases: [string, string, string, number, string][] = [
    ['body (Content-Length)', post('/api/echo', 'a'.repeat(1024)), post('/api/echo', 'a'.repeat(1025)), 413, 'body_too_large'],
    ['body (chunked)', chunked('400', 'a'.repeat(1024)), chunked('401', 'a'.repeat(1025)), 413, 'body_too_large'],
    ['form', post('/api/echo', 'a'.repeat(512), FORM), post('/api/echo', 'a'.repeat(513), FORM), 413, 'body_too_large'],
    ['upload', post('/api/echo', 'a'.repeat(2048), UPLOAD), post('/api/echo', 'a'.repeat(2049), UPLOAD), 413, 'body_too_large'],
    ['uri', GET('/api/status?' + 'q'.repeat(512 - 12)), GET('/api/status?' + 'q'.repeat(513 - 12)), 414, 'uri_too_long'],
    ['header (bytes)', GET('/api/status', `X-Pad: ${'p'.repeat(900)}\r\n`), GET('/api/status', `X-Pad: ${'p'.repeat(1100)}\r\n`), 431, 'fields_too_large'],
    ['headers (count)', GET('/api/status', fields(4)), GET('/api/status', fields(5)), 431, 'too_many_fields'],
    ['chunkExt', chunked('1;' + 'e'.repeat(15), 'x'), chunked('1;' + 'e'.repeat(16), 'x'), 413, 'chunk_ext_too_long'],
  ];
  it.each(cases)('%s: at the limit → 200, past it → %i, then a legit request is still served', async (_, okReq, badReq, status, reason) => {
    const { server } = await startText(configText(LIMITS));
    const a = await exchange(server.port, okReq);
    expect(a.r.status).toBe(200);
    a.c.socket.destroy();
    const b = await exchange(server.port, badReq);
    expect(b.r.status).toBe(status);
    expect(JSON.parse(b.r.body.toString())).toEqual({ error: status, reason });
    expect(one(b.r, 'Connection')).toBe('close');
    expectSecurity(b.r);
    await b.c.waitClosed();
    await sleep(20);
    await stillServes(server.port);
  });

  it('clientConnections 2 / connections 3: the extra connection is closed without a byte; the others keep working', async () => {
    const { server } = await startText(configText(LIMITS));
    const a = await connect(server.port, '127.0.0.1');
    const b = await connect(server.port, '127.0.0.1');
    for (const c of [a, b]) { c.write(GET('/api/status')); expect((await c.read()).status).toBe(200); }

    // A third connection from the same address: over clientConnections.
    const sameClient = await connect(server.port, '127.0.0.1');
    sameClient.write(GET('/api/status'));
    await sameClient.waitClosed();
    expect(sameClient.received).toBe(0);

    // Another address is still let in (3 connections in all) ...
    const other = await connect(server.port, '127.0.0.2');
    other.write(GET('/api/status'));
    expect((await other.read()).status).toBe(200);

    // ... but a fourth, from a third address, is over connections.
    const fourth = await connect(server.port, '127.0.0.3');
    fourth.write(GET('/api/status'));
    await fourth.waitClosed();
    expect(fourth.received).toBe(0);

    // The admitted ones still work; after one closes, a new connection is served.
    a.write(GET('/style.css'));
    expect((await a.read()).status).toBe(200);
    b.socket.destroy();
    other.socket.destroy();
    await sleep(50);
    await stillServes(server.port);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('timeouts set through config text', () => {
  it('the durations resolve to milliseconds', () => {
    const cfg = parseConfig(configText(`timeouts: { parse: '300 msecs', inactivity: '400 msecs', request: '600 msecs', session: '700 msecs', tls: '500 msecs' }`), join(tmp, 'moat.json5'));
    expect(cfg.web.timeouts).toEqual({ parse: 300, inactivity: 400, request: 600, session: 700, tls: 500 });
  });

  it('parse: half a head → 408 after ~300 ms, then close; a whole head in time is served', async () => {
    const { server } = await startText(configText(`timeouts: { parse: '300 msecs' }`));
    const c = await connect(server.port);
    const t0 = Date.now();
    c.write('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const r = await c.read(false, 3000);
    const elapsed = Date.now() - t0;
    expect(r.status).toBe(408);
    expect(JSON.parse(r.body.toString())).toEqual({ error: 408, reason: 'parse_timeout' });
    expect(one(r, 'Connection')).toBe('close');
    expectSecurity(r);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1000);
    await c.waitClosed(2000);
    await stillServes(server.port);
  });

  it('inactivity: an idle keep-alive connection is closed silently after ~400 ms', async () => {
    const { server } = await startText(configText(`timeouts: { inactivity: '400 msecs' }`));
    const c = await connect(server.port);
    c.write(GET('/api/status'));
    expect((await c.read()).status).toBe(200);
    const t0 = Date.now();
    await c.waitClosed(3000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(1200);
    expect(c.buf.length).toBe(0);                          // nothing sent with the close
    await stillServes(server.port);
  });

  it('request: a body trickled slowly (each byte well within inactivity) → 408 after ~600 ms', async () => {
    const { server } = await startText(configText(`timeouts: { request: '600 msecs' }`));
    const c = await connect(server.port);
    const t0 = Date.now();
    c.write('POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n');
    const timer = setInterval(() => { if (!c.ended) c.write('z'); }, 50);
    try {
      const r = await c.read(false, 3000);
      const elapsed = Date.now() - t0;
      expect(r.status).toBe(408);
      expect(JSON.parse(r.body.toString())).toEqual({ error: 408, reason: 'request_timeout' });
      expectSecurity(r);
      expect(elapsed).toBeGreaterThanOrEqual(550);
      expect(elapsed).toBeLessThan(1500);
      await c.waitClosed(2000);
    } finally {
      clearInterval(timer);
    }
    await stillServes(server.port);
  });

  it('session: a busy keep-alive connection is closed once its ~700 ms lifetime is over', async () => {
    const { server } = await startText(configText(`timeouts: { session: '700 msecs' }`));
    const c = await connect(server.port);
    const t0 = Date.now();
    let served = 0;
    while (!c.ended && Date.now() - t0 < 3000) {
      c.write(GET('/api/status'));
      try {
        const r = await c.read(false, 1000);
        expect(r.status).toBe(200);
        served++;
      } catch {
        break;                                             // closed before answering
      }
      await sleep(100);
    }
    await c.waitClosed(1000);
    const lifetime = c.closedAt - t0;
    expect(served).toBeGreaterThanOrEqual(3);
    expect(lifetime).toBeGreaterThanOrEqual(650);
    expect(lifetime).toBeLessThan(1500);
    await stillServes(server.port);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('TLS (dev certificate from host/cert.ts)', () => {
  let cert: DevCert;
  let ca: Buffer;
  beforeAll(async () => {
    cert = await generateDevCert({ out: join(tmp, 'tls') });
    ca = readFileSync(cert.certPath);
  });

  async function startTls(timeouts = ''): Promise<{ https: number; http: number }> {
    const text = configText(timeouts, `tls: { certificate: ${JSON.stringify(cert.certPath)}, key: ${JSON.stringify(cert.keyPath)}, hsts: { maxAge: '1 day' } },`,
      "['https://127.0.0.1:0', 'http://127.0.0.1:0']");
    const cfg = parseConfig(text, join(tmp, 'moat.json5'));
    expect(cfg.tls).toEqual({ certificate: cert.certPath, key: cert.keyPath, hsts: { maxAge: 86400, subdomains: false } });
    const { server } = await startText(text);
    const [s, p] = server.addresses;
    expect([s.scheme, p.scheme]).toEqual(['https', 'http']);
    return { https: s.port, http: p.port };
  }

  function httpsGet(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return within(new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path, ca, servername: 'localhost', agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }));
        res.on('error', reject);
      });
      sockets.push(req);
      req.on('error', reject);
      req.end();
    }), WAIT, `https GET ${path}`);
  }

  it('https with the dev cert trusted → 200 with HSTS max-age=86400; the http listener sends no HSTS', async () => {
    const ports = await startTls();
    const s = await httpsGet(ports.https, '/api/status');
    expect(s.status).toBe(200);
    expect(JSON.parse(s.body)).toMatchObject({ device: 'moat-demo', ok: true });
    expect(s.headers['strict-transport-security']).toBe('max-age=86400');
    for (const [n, v] of SECURITY) expect(s.headers[n], n).toBe(v);
    expect(s.headers.server).toBeUndefined();

    const page = await httpsGet(ports.https, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['strict-transport-security']).toBe('max-age=86400');

    const plain = await fetch(`http://127.0.0.1:${ports.http}/api/status`, { signal: AbortSignal.timeout(WAIT) });
    expect(plain.status).toBe(200);
    await plain.arrayBuffer();
    expect(plain.headers.get('strict-transport-security')).toBeNull();
    expectSecurityFetch(plain.headers);

    // HSTS also on an error response over TLS, and never on one over plain HTTP.
    const tlsErr = await Client.connectTls(ports.https, ca, sockets);
    tlsErr.write('GET / HTTP/1.1\r\nHost a\r\n\r\n');
    const e1 = await tlsErr.read();
    expect(e1.status).toBe(400);
    expect(one(e1, 'Strict-Transport-Security')).toBe('max-age=86400');
    const e2 = (await exchange(ports.http, 'GET / HTTP/1.1\r\nHost a\r\n\r\n')).r;
    expect(e2.status).toBe(400);
    none(e2, 'Strict-Transport-Security');
  });

  function handshake(port: number, opts: tls.ConnectionOptions): Promise<{ ok: true; protocol: string | null; cipher: string } | { ok: false; error: NodeJS.ErrnoException }> {
    return within(new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...opts });
      sockets.push(s);
      s.once('secureConnect', () => { resolve({ ok: true, protocol: s.getProtocol(), cipher: s.getCipher().name }); s.destroy(); });
      s.once('error', (error) => resolve({ ok: false, error }));
    }), WAIT, 'a TLS handshake');
  }

  it('a TLS 1.1 client is refused by the server (protocol_version alert)', async () => {
    const { https: port } = await startTls();
    const r = await handshake(port, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });

  it('a CBC-only TLS 1.2 client is refused; an AEAD TLS 1.2 client is accepted', async () => {
    const { https: port } = await startTls();
    const cbc = await handshake(port, {
      minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA:AES128-SHA256',
    });
    expect(cbc.ok).toBe(false);
    if (!cbc.ok) expect(cbc.error.code).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    const aead = await handshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    expect(aead.ok).toBe(true);
    if (aead.ok) {
      expect(aead.protocol).toBe('TLSv1.2');
      expect(aead.cipher).toMatch(/GCM|CHACHA20/);
    }
  });

  it('tls timeout: a TCP connection that never sends a ClientHello is closed after ~500 ms without a byte', async () => {
    const { https: port } = await startTls(`timeouts: { tls: '500 msecs' }`);
    const c = await connect(port);
    const t0 = Date.now();
    await c.waitClosed(3000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(500 + 700);
    expect(c.received).toBe(0);
  });

  it('tls timeout does not cut a connection whose handshake completed', async () => {
    const { https: port } = await startTls(`timeouts: { tls: '300 msecs' }`);
    const c = await Client.connectTls(port, ca, sockets);
    await sleep(700);
    expect(c.ended).toBe(false);
    c.write(GET('/api/status'));
    const r = await c.read();
    expect(r.status).toBe(200);
    expect(one(r, 'Strict-Transport-Security')).toBe('max-age=86400');
  });
});

// ---------------------------------------------------------------------------------------------------

describe('static traversal attempts over raw sockets', () => {
  const secret = readFileSync(join(ROOT, 'package.json'), 'utf8');
  const targets = [
    '/../package.json', '/../../package.json', '/%2e%2e/package.json', '/%2E%2E/%2e%2e/package.json',
    '/..%2fpackage.json', '/..%2Fpackage.json', '/%2e%2e%2fpackage.json', '/%252e%252e/package.json',
    '/%252e%252e%252fpackage.json', '/.%2e/package.json', '/%2e./package.json', '/./../package.json',
    '/..\\package.json', '/..%5cpackage.json', '/%5c..%5cpackage.json', '/..%255cpackage.json',
    '/index.html%00', '/%00/../package.json', '/style.css%00.html', '/%c0%ae%c0%ae/package.json',
    '/%e0%80%ae%e0%80%ae/package.json', '//../package.json', '/site/../../package.json',
    'http://127.0.0.1/../package.json', '/.git/config', '/..;/package.json',
  ];
  it.each(targets)('GET %s → 400 or 404, never 200', async (target) => {
    const { server } = await startDefault();
    const c = await connect(server.port);
    c.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const r = await c.read();
    expect([400, 404]).toContain(r.status);
    expect(r.body.toString()).not.toContain('"name": "moat"');
    expect(r.body.toString()).not.toBe(secret);
    expectSecurity(r);
  });

  it('control: the same server serves /style.css (so the refusals above are the paths)', async () => {
    const { server } = await startDefault();
    expect((await exchange(server.port, GET('/style.css'))).r.status).toBe(200);
  });

  it('a temp document root: symlinks out of it and hidden files → 404; a normal file → 200', async () => {
    const root = join(tmp, 'docroot');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<p>root</p>');
    writeFileSync(join(root, '.hidden'), 'hidden');
    writeFileSync(join(tmp, 'outside.txt'), 'TOP SECRET');
    symlinkSync(join(tmp, 'outside.txt'), join(root, 'leak.txt'));
    symlinkSync(ROOT, join(root, 'sub', 'repo'));
    // A later duplicate key wins in JSON5, so this replaces the demo document root.
    const { server } = await startText(configText(`documents: ${JSON.stringify(root)}`));
    const get = async (t: string) => (await exchange(server.port, GET(t, 'Connection: close\r\n'))).r;
    const idx = await get('/');
    expect(idx.status).toBe(200);
    expect(idx.body.toString()).toBe('<p>root</p>');
    for (const t of ['/leak.txt', '/sub/repo/package.json', '/.hidden', '/sub/repo/', '/sub/']) {
      const r = await get(t);
      expect(r.status, t).toBe(404);
      expect(r.body.toString(), t).not.toContain('TOP SECRET');
      expect(r.body.toString(), t).not.toContain('"name": "moat"');
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('config errors: moat serve --config FILE exits 1 with one line naming key, value and rule', () => {
  // [config text, key path, JSON of the value, rule]
  const cases: [string, string, string, string][] = [
    [`{web: {limits: {body: '10 parsecs'}}}`, 'web.limits.body', '"10 parsecs"', 'unknown size unit "parsecs" (use bytes, K, KB, M, MB, G, GB)'],
    [`{web: {limits: {uri: '512'}}}`, 'web.limits.uri', '"512"', 'a size in a string needs a unit (bytes, K, KB, M, MB, G, GB); write bytes as a JSON number'],
    [`{web: {limits: {body: '1.5K'}}}`, 'web.limits.body', '"1.5K"', 'the count before the unit must be a whole number (write "1536 bytes")'],
    [`{web: {limits: {connections: 300}}}`, 'web.limits.connections', '300', 'the module holds at most 255 connections'],
    [`{web: {limits: {headers: -1}}}`, 'web.limits.headers', '-1', 'a count is a whole number, 0 or more (a JSON integer or a string of digits)'],
    [`{web: {limits: {header: '16K'}}}`, 'web.limits.header', '"16K"', "must be smaller than the module's 16384-byte input window, moat.window (at most 16383 bytes)"],
    [`{web: {limits: {body: 0}}}`, 'web.limits.body', '0', 'must be at least 1'],
    [`{web: {timeouts: {parse: 5}}}`, 'web.timeouts.parse', '5', 'a duration needs a unit (msecs, secs, mins, hours, days, weeks, months, years), as in "30 secs"'],
    [`{web: {timeouts: {parse: '5m'}}}`, 'web.timeouts.parse', '"5m"', '"m" is ambiguous: spell the unit out (msecs, secs, mins, hours, days, weeks, months, years)'],
    [`{web: {timeouts: {inactivity: '0 secs'}}}`, 'web.timeouts.inactivity', '"0 secs"', 'must be more than zero (use "infinite" for no limit)'],
    [`{web: {timeouts: {request: '30 days'}}}`, 'web.timeouts.request', '"30 days"', `too long: the module's clock allows at most 2147483647 ms (about 24.8 days); use "infinite" for no limit`],
    [`{web: {listen: ['ftp://127.0.0.1:21']}}`, 'web.listen[0]', '"ftp://127.0.0.1:21"', 'the scheme must be http or https'],
    [`{web: {listen: ['http://127.0.0.1:70000']}}`, 'web.listen[0]', '"http://127.0.0.1:70000"', 'the port must be a number from 0 to 65535'],
    [`{web: {listen: ['https://127.0.0.1:0']}}`, 'web.listen[0]', '"https://127.0.0.1:0"', 'https needs the tls section (certificate and key)'],
    [`{web: {headers: {'Content-Length': '5'}}}`, 'web.headers["Content-Length"]', '"5"', 'a framing field: the module writes it'],
    [`{web: {routes: [{match: '/x', handler: 'status', methods: ['get']}]}}`, 'web.routes[0].methods[0]', '"get"', 'methods are case-sensitive: write "GET"'],
    [`{web: {routes: [{match: '/x', handler: 'nope'}]}}`, 'web.routes[0].handler', '"nope"', 'unknown handler (known: file, status, echo, login, logout, session, metrics, dashboard-api, dashboard-ui)'],
    [`{log: {access: {format: 'xml'}}}`, 'log.access.format', '"xml"', 'must be one of "common", "json"'],
    [`{moat: {stealth: 'yes'}}`, 'moat.stealth', '"yes"', 'must be true or false'],
    [`{web: {hosts: ['auto', 'http://device.example']}}`, 'web.hosts[1]', '"http://device.example"', 'must be "auto", "*", a host name, "*." followed by a host name, an IPv4 address or an IPv6 address (no port, no scheme)'],
    [`{web: {sessions: {sameSite: 'lax'}}}`, 'web.sessions.sameSite', '"lax"', 'must be one of "Strict", "Lax", "None"'],
  ];

  function serveWith(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return within(new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [MOAT, 'serve', '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      sockets.push({ destroy: () => child.kill('SIGKILL') });
      let stdout = '', stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    }), 15_000, `moat serve --config ${file}`);
  }

  it('has at least 8 cases', () => expect(cases.length).toBeGreaterThanOrEqual(8));

  it('every bad config → exit 1 and exactly "moat serve: <key>: <value> — <rule>"', async () => {
    const dir = join(tmp, 'bad-configs');
    mkdirSync(dir, { recursive: true });
    // Four children at a time: twenty node processes at once starve each other on a small machine.
    const results: Awaited<ReturnType<typeof serveWith>>[] = [];
    for (let i = 0; i < cases.length; i += 4) {
      results.push(...await Promise.all(cases.slice(i, i + 4).map(async ([text], j) => {
        const file = join(dir, `bad${i + j}.json5`);
        writeFileSync(file, text);
        return serveWith(file);
      })));
    }
    cases.forEach(([text, key, value, rule], i) => {
      const r = results[i];
      const what = `${text} → ${JSON.stringify(r)}`;
      expect(r.code, what).toBe(1);
      expect(r.stdout, what).toBe('');
      expect(r.stderr, what).toBe(`moat serve: ${key}: ${value} — ${rule}\n`);
      // One line naming the key path, the value and the rule.
      const line = r.stderr.trimEnd();
      expect(line.split('\n')).toHaveLength(1);
      expect(line).toContain(key);
      expect(line).toContain(value);
      expect(line.endsWith(rule)).toBe(true);
    });
  }, 90_000);

  it('a JSON5 syntax error names the file, line and column', async () => {
    const file = join(tmp, 'syntax.json5');
    writeFileSync(file, `{web: {limits: {body: '1K'},}`);
    const r = await serveWith(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`moat serve: ${file}:1:30: invalid end of input\n`);
  });

  it('a good config file in the same way starts (control)', async () => {
    const file = join(tmp, 'good.json5');
    writeFileSync(file, `{web: {listen: ['http://127.0.0.1:0']}, log: {access: {path: null}, error: {path: null}, security: {path: null}}}`);
    const child = spawn(process.execPath, [MOAT, 'serve', '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    sockets.push({ destroy: () => child.kill('SIGKILL') });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    await within(new Promise<void>((resolve) => child.stdout.on('data', () => { if (/serving on http:\/\/127\.0\.0\.1:\d+\/\n.*Ctrl-C stops/s.test(out)) resolve(); })), 10_000, 'serving line');
    await sleep(200);   // past start-up (SIGTERM right at the serving line is test/serve-cli.test.ts's business)
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await within(exit, 5000, 'exit')).toBe(0);
  });
});
