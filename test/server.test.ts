// MoatServer over real sockets on 127.0.0.1 with the demo app. Raw node:net clients; every wait has
// a timeout so nothing hangs, and every test closes its server and sockets.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, GET, SECURITY, WAIT, type RawResponse as Response } from './helpers/raw-http.ts';
import type { MoatServer } from '../host/server.ts';
import { loadConfig } from '../host/config.ts';
import { startFromConfig } from '../host/serve.ts';
import type { ModuleConfig } from '../host/module.ts';


const servers: MoatServer[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(200)));
});

async function start(config: Partial<ModuleConfig> = {}): Promise<MoatServer> {
  const cfg = loadConfig();
  cfg.web.listen = [{ scheme: 'http', host: '127.0.0.1', port: 0 }];
  cfg.log = { access: { path: null, format: 'common' }, error: { path: null, level: 'error' }, security: { path: null } };
  const { server } = await startFromConfig(cfg, { moduleOverrides: config });
  servers.push(server);
  return server;
}

const one = (r: Response, name: string) => {
  const v = r.headers.get(name.toLowerCase()) ?? [];
  expect(v, `${name} in ${JSON.stringify(r.head)}`).toHaveLength(1);
  return v[0];
};
const none = (r: Response, name: string) => expect(r.headers.get(name.toLowerCase()), `${name} in ${JSON.stringify(r.head)}`).toBeUndefined();

function expectSecurity(r: Response): void {
  for (const [n, v] of SECURITY) expect(one(r, n)).toBe(v);
}


describe('MoatServer over real sockets', () => {
  it('GET / → 200 with the 4 security fields and the right Content-Length', async () => {
    const server = await start();
    const c = await Client.connect(server.port, sockets);
    c.write(GET('/'));
    const r = await c.read();
    expect(r.status).toBe(200);
    expect(r.reason).toBe('OK');
    expectSecurity(r);
    expect(Number(one(r, 'Content-Length'))).toBe(r.body.length);
    expect(r.body.length).toBeGreaterThan(0);
    expect(r.body.toString()).toContain('Moat demo device');
    expect(one(r, 'Content-Type')).toBe('text/html; charset=utf-8');
    none(r, 'Transfer-Encoding');
    none(r, 'Connection');
    none(r, 'Server');
  });

  it('keep-alive: two requests on one socket', async () => {
    const server = await start();
    const c = await Client.connect(server.port, sockets);
    c.write(GET('/'));
    const a = await c.read();
    expect(a.status).toBe(200);
    c.write(GET('/api/status'));
    const b = await c.read();
    expect(b.status).toBe(200);
    expect(one(b, 'Content-Type')).toBe('application/json');
    expect(JSON.parse(b.body.toString())).toMatchObject({ device: 'moat-demo', ok: true });
    expect(c.ended).toBe(false);
    c.write(GET('/nope'));
    expect((await c.read()).status).toBe(404);
  });

  it('pipelining: two requests in one write → two responses in order', async () => {
    const server = await start();
    const c = await Client.connect(server.port, sockets);
    c.write(GET('/style.css') + GET('/api/status') + GET('/'));
    const a = await c.read();
    const b = await c.read();
    const d = await c.read();
    expect([a.status, b.status, d.status]).toEqual([200, 200, 200]);
    expect(one(a, 'Content-Type')).toBe('text/css; charset=utf-8');
    expect(one(b, 'Content-Type')).toBe('application/json');
    expect(one(d, 'Content-Type')).toBe('text/html; charset=utf-8');
    expect(c.buf.length).toBe(0);
  });

  it.each([
    ['bare LF → 400', 'GET / HTTP/1.1\r\nHost: a\n\r\n', 400],
    ['bare LF request line → 400', 'GET / HTTP/1.1\nHost: a\n\n', 400],
    ['Transfer-Encoding: gzip, chunked → 501', 'POST /api/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501],
    ['CL + TE → 400', 'POST /api/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ])('malformed (%s) with Connection: close, then the server closes', async (_, raw, status) => {
    const server = await start();
    const c = await Client.connect(server.port, sockets);
    c.write(raw);
    const r = await c.read();
    expect(r.status).toBe(status);
    expect(one(r, 'Connection')).toBe('close');
    expectSecurity(r);
    expect(Number(one(r, 'Content-Length'))).toBe(r.body.length);
    await c.waitClosed();
    expect(c.buf.length).toBe(0);
  });

  it('an over-limit body (Content-Length 200000) → 413 and close', async () => {
    const server = await start();
    const c = await Client.connect(server.port, sockets);
    c.write('POST /api/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n');
    const r = await c.read();
    expect(r.status).toBe(413);
    expect(r.reason).toBe('Content Too Large');
    expect(one(r, 'Connection')).toBe('close');
    await c.waitClosed();
  });

  it('HEAD / → the GET headers without a body', async () => {
    const server = await start();
    const g = await Client.connect(server.port, sockets);
    g.write(GET('/'));
    const getRes = await g.read();
    const c = await Client.connect(server.port, sockets);
    c.write('HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const r = await c.read(true);
    expect(r.status).toBe(200);
    expect(Number(one(r, 'Content-Length'))).toBe(getRes.body.length);
    expectSecurity(r);
    // Nothing follows the head: the next bytes on the connection are the next response.
    c.write(GET('/api/status'));
    await c.until(() => c.buf.length >= 12 || undefined, WAIT, 'next response');
    expect(c.buf.subarray(0, 12).toString('latin1')).toBe('HTTP/1.1 200');
    const next = await c.read();
    expect(one(next, 'Content-Type')).toBe('application/json');
  });

  it('Expect: 100-continue POST /api/echo → 100 Continue, then 200', async () => {
    const server = await start();
    const c = await Client.connect(server.port, sockets);
    c.write('POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    await c.until(() => c.buf.length >= 25 || undefined, WAIT, '100 Continue');
    expect(c.buf.toString('latin1')).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    c.buf = Buffer.alloc(0);
    c.write('hello');
    const r = await c.read();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ bytes: 5, trailers: 0 });
  });

  it('Expect: 100-continue with an over-limit Content-Length → 413 and no 100 Continue', async () => {
    const server = await start();
    const c = await Client.connect(server.port, sockets);
    c.write('POST /api/echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 200000\r\n\r\n');
    const r = await c.read();
    expect(r.status).toBe(413);
    expect(r.head).not.toContain('100 Continue');
    expect(one(r, 'Connection')).toBe('close');
    await c.waitClosed();
  });

  it('a pipelined request after Connection: close is not answered', async () => {
    const server = await start();
    const c = await Client.connect(server.port, sockets);
    c.write(GET('/api/status', 'Connection: close\r\n') + GET('/'));
    const r = await c.read();
    expect(r.status).toBe(200);
    expect(one(r, 'Connection')).toBe('close');
    await c.waitClosed();
    expect(c.buf.length).toBe(0);
  });

  it('POST /api/echo with a chunked body → 200 JSON with the byte count', async () => {
    const server = await start();
    const c = await Client.connect(server.port, sockets);
    c.write('POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n');
    c.write('5;ext=1\r\nhello\r\n');
    await new Promise((r) => setTimeout(r, 20));
    c.write('A\r\n0123456789\r\n0\r\nX-Sum: 15\r\n\r\n');
    const r = await c.read();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ bytes: 15, trailers: 1 });
    expect(Number(one(r, 'Content-Length'))).toBe(r.body.length);
    none(r, 'Connection');
  });

  it('a connection that sends half a head and stalls is answered 408 and closed after the parse timeout', async () => {
    const server = await start({ timeout_parse_ms: 500 });
    const c = await Client.connect(server.port, sockets);
    const t0 = Date.now();
    c.write('GET / HTTP/1.1\r\nHost: a\r\n');
    const r = await c.read(false, 3000);
    const elapsed = Date.now() - t0;
    expect(r.status).toBe(408);
    expect(r.reason).toBe('Request Timeout');
    expect(one(r, 'Connection')).toBe('close');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(1500);
    await c.waitClosed(2000);
  });

  it('a head trickled in one byte at a time is still cut off by the parse timeout', async () => {
    const server = await start({ timeout_parse_ms: 500 });
    const c = await Client.connect(server.port, sockets);
    const head = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + 'y'.repeat(200);
    const t0 = Date.now();
    let i = 0;
    const timer = setInterval(() => { if (i < head.length && !c.ended) c.write(head[i++]); }, 40);
    try {
      const r = await c.read(false, 3000);
      expect(r.status).toBe(408);
      expect(one(r, 'Connection')).toBe('close');
      expect(Date.now() - t0).toBeLessThan(1500);
      await c.waitClosed(2000);
    } finally {
      clearInterval(timer);
    }
  });

  it('an idle keep-alive connection is closed silently after the inactivity timeout', async () => {
    const server = await start({ timeout_inactivity_ms: 400 });
    const c = await Client.connect(server.port, sockets);
    c.write(GET('/api/status'));
    expect((await c.read()).status).toBe(200);
    const t0 = Date.now();
    await c.waitClosed(3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(c.buf.length).toBe(0);
  });

  it('connection limit: with slots 2 a third concurrent connection is closed without any bytes', async () => {
    const server = await start({ slots: 2 });
    const a = await Client.connect(server.port, sockets);
    const b = await Client.connect(server.port, sockets);
    a.write(GET('/api/status'));
    b.write(GET('/api/status'));
    expect((await a.read()).status).toBe(200);
    expect((await b.read()).status).toBe(200);
    const c = await Client.connect(server.port, sockets);
    c.write(GET('/'));
    await c.waitClosed();
    expect(c.buf.length).toBe(0);
    // The first two still work.
    a.write(GET('/'));
    b.write(GET('/style.css'));
    expect((await a.read()).status).toBe(200);
    expect((await b.read()).status).toBe(200);
    expect(a.ended || b.ended).toBe(false);
  });

  it('a slot freed by a closed connection is reused', async () => {
    const server = await start({ slots: 1 });
    const a = await Client.connect(server.port, sockets);
    a.write(GET('/', 'Connection: close\r\n'));
    const r = await a.read();
    expect(one(r, 'Connection')).toBe('close');
    await a.waitClosed();
    await new Promise((res) => setTimeout(res, 50));
    const b = await Client.connect(server.port, sockets);
    b.write(GET('/api/status'));
    expect((await b.read()).status).toBe(200);
  });
});
