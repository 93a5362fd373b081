// Slowloris: 200 connections trickling a head one byte every 100 ms must neither starve normal
// clients nor outlive the parse timeout. Config from text: connections 255, clientConnections 255,
// parse timeout 1 sec. The trickling sockets come from 127.0.0.2, the normal client from 127.0.0.1.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../host/config.ts';
import { startFromConfig, type Running } from '../host/serve.ts';
import { Client, GET, configText, sleep, within } from './helpers/raw-http.ts';

const running: Running[] = [];
const sockets: { destroy(): void }[] = [];
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t);
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(running.splice(0).map((r) => r.close(200)));
});

const TRICKLERS = 200;
const PARSE_MS = 1000;
const HEAD = 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'y'.repeat(200);   // never completes in time

describe('slowloris', () => {
  it(`${TRICKLERS} trickling connections: normal requests still served, every trickler cut off within parse timeout + 1.5 s`, async () => {
    const text = configText(`limits: { connections: 255, clientConnections: 255 }, timeouts: { parse: '1 sec' }`);
    const cfg = parseConfig(text, join(tmpdir(), 'moat-slowloris.json5'));
    expect(cfg.web.limits.connections).toBe(255);
    expect(cfg.web.limits.clientConnections).toBe(255);
    expect(cfg.web.timeouts.parse).toBe(PARSE_MS);
    const r = await startFromConfig(cfg);
    running.push(r);
    const port = r.server.port;
    const t0 = Date.now();

    // Open the tricklers (in batches, so the listen backlog never overflows) and start each one's drip.
    const slow: { c: Client; opened: number; sent: number }[] = [];
    for (let i = 0; i < TRICKLERS; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, TRICKLERS - i) }, () => Client.connect(port, sockets, { localAddress: '127.0.0.2' })));
      for (const c of batch) {
        const s = { c, opened: Date.now(), sent: 0 };
        slow.push(s);
        const drip = () => { if (!c.ended && s.sent < HEAD.length) c.write(HEAD[s.sent++]); };
        drip();
        timers.push(setInterval(drip, 100));
      }
    }
    expect(slow).toHaveLength(TRICKLERS);
    await sleep(150);
    expect(slow.filter((s) => s.c.ended)).toHaveLength(0);   // nobody refused at accept: all were admitted

    // Meanwhile: 20 sequential requests on fresh connections, all 200.
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await Client.connect(port, sockets);
      c.write(GET('/api/status', 'Connection: close\r\n'));
      const res = await c.read(false, 2000);
      statuses.push(res.status);
      c.socket.destroy();
    }
    expect(statuses).toEqual(Array(20).fill(200));
    expect(slow.filter((s) => !s.c.ended).length).toBeGreaterThan(0);   // the normal requests ran during the attack

    // Every trickler is closed by the server (408 or a bare close) within parse timeout + 1.5 s.
    await within(Promise.all(slow.map((s) => s.c.waitClosed(PARSE_MS + 2500))), PARSE_MS + 3000, 'all tricklers closed');
    const lifetimes = slow.map((s) => s.c.closedAt - s.opened);
    expect(Math.max(...lifetimes)).toBeLessThanOrEqual(PARSE_MS + 1500);
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(PARSE_MS - 100);
    for (const s of slow) {
      const got = s.c.buf.toString('latin1');
      if (got) expect(got.startsWith('HTTP/1.1 408 Request Timeout\r\n'), got.slice(0, 60)).toBe(true);
      expect(s.sent).toBeLessThan(HEAD.length);                         // cut off before the head was done
    }
    // And the server is usable after the attack.
    const after = await Client.connect(port, sockets);
    after.write(GET('/api/status'));
    expect((await after.read()).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 15_000);
});
