// Per-client defense end to end: a real server from startFromConfig on 127.0.0.1, raw clients
// from distinct loopback addresses (127.0.0.2, 127.0.0.3, … are distinct clients to the module).
// Bans (connections dropped at accept with zero bytes, open ones closed from tick()), the 429 rate
// rule with Retry-After (and its silent stealth form), delay then ban for a 404 scanner, a ban's
// expiry, bans surviving client-table pressure, and the embedded default config's own rules.
// Short windows and durations keep the file fast; every wait is bounded.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../host/config.ts';
import { startFromConfig, type Running } from '../host/serve.ts';
import { Client, sleep } from './helpers/raw-http.ts';
import {
  BAD_REQUEST, eventually, exchange, field, get, jsonLines, removeTempDirs, securityEntry, send, tempLogs, testConfig, type LogFiles,
} from './helpers/defense.ts';

const running: Running[] = [];
const sockets: { destroy(): void }[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(running.splice(0).map((r) => r.close(200)));
});
afterAll(() => removeTempDirs());

const ROUTES = [{ match: '/api/status', methods: ['GET'], handler: 'status' }];

async function start(obj: Record<string, unknown>, logs: LogFiles | null = null): Promise<Running> {
  const r = await startFromConfig(testConfig(obj, { logs }));
  running.push(r);
  return r;
}

/** A connection from `from` is dropped at accept: no response, not one byte. */
async function expectRefused(port: number, from: string, raw = get('/api/status')): Promise<void> {
  const x = await exchange(port, raw, sockets, { from, ms: 2000 });
  expect(x.res, `${from} got an answer`).toBeNull();
  expect(x.received).toBe(0);
}

async function expectServed(port: number, from: string, path = '/api/status', status = 200): Promise<void> {
  const x = await exchange(port, get(path), sockets, { from, ms: 2000 });
  expect(x.res?.status, `${from} GET ${path}`).toBe(status);
}

/** Sends `n` malformed requests from `from`, each on a fresh connection; the statuses (null = silent close). */
async function badRequests(port: number, from: string, n: number): Promise<(number | null)[]> {
  const out: (number | null)[] = [];
  for (let i = 0; i < n; i++) {
    const x = await exchange(port, BAD_REQUEST, sockets, { from, ms: 2000 });
    if (x.res === null) expect(x.received, 'a silent close sends nothing').toBe(0);
    out.push(x.res?.status ?? null);
  }
  return out;
}

describe('bans', () => {
  it('a bad-request flood from one client gets it banned; a second client is served throughout', async () => {
    const logs = tempLogs();
    const r = await start({
      web: { routes: ROUTES },
      moat: { defense: { rules: [{ counter: 'badRequests', over: 5, per: '10 secs', remedy: 'ban', for: '30 secs' }] } },
    }, logs);
    const port = r.server.port;

    // The other client keeps making normal requests on its keep-alive connection while the flood
    // runs. (One connection: a fresh one could take the slot the ban freed before the tick logs the
    // ban, which the slot-reuse test below is about.)
    const first = await exchange(port, get('/api/status'), sockets, { from: '127.0.0.3', keep: true });
    expect(first.res?.status).toBe(200);
    const good: number[] = [];
    let flooding = true;
    const other = (async () => {
      while (flooding && !first.client!.ended) {
        const x = await send(first.client!, get('/api/status'), { keep: true, ms: 2000 });
        good.push(x.res?.status ?? 0);
        await sleep(2);
      }
    })();

    try {
      // 5 bad requests are answered 400; the 6th trips the rule and is dropped without an answer.
      expect(await badRequests(port, '127.0.0.2', 6)).toEqual([400, 400, 400, 400, 400, null]);
      // From now on every connection of the banned client is dropped at accept, whatever it sends.
      for (const raw of [get('/api/status'), BAD_REQUEST, 'GET / HTTP/1.1\r\n']) await expectRefused(port, '127.0.0.2', raw);
      await sleep(150);
    } finally {
      flooding = false;
    }
    await other;
    expect(good.length).toBeGreaterThanOrEqual(3);
    expect(good).toEqual(good.map(() => 200));
    expect(first.client!.ended).toBe(false);

    const ban = await securityEntry(logs.security, (e) => e.kind === 'defense', 2000, 'the ban');
    expect(ban).toMatchObject({
      kind: 'defense', reason: 'ban', remedy: 'ban', severity: 'high', client: '127.0.0.2',
      rule: 'rule 0: badRequests > 5 per 10 secs -> ban for 30 secs',
    });
    // One event per rule and window, not one per refused connection.
    await sleep(250);
    expect(jsonLines(logs.security).filter((e) => e.kind === 'defense')).toHaveLength(1);
    expect(r.server.metrics.value('defense', 'ban')).toBe(1);
    expect(r.server.metrics.value('refused', 'client_banned')).toBe(3);
    await expectServed(port, '127.0.0.3');               // and on a fresh connection
  });

  // Regression: the entry's client once came from whichever connection held the event's slot when
  // the tick drained the ring; a slot freed by the ban and taken by another client before the next
  // tick got the ban blamed on that other client. The address now comes from the event's hash.
  it('the defense entry names the banned client even when another client takes its slot before the tick', async () => {
    const logs = tempLogs();
    const r = await start({
      web: { routes: ROUTES },
      moat: { defense: { rules: [{ counter: 'badRequests', over: 1, per: '10 secs', remedy: 'ban', for: '30 secs' }] } },
    }, logs);
    const port = r.server.port;
    const settle = async (n: number) => {
      const end = Date.now() + 2000;
      while (r.server.connectionCount !== n) {
        if (Date.now() > end) throw new Error(`timeout waiting for ${n} open connections`);
        await new Promise((res) => setImmediate(res));
      }
    };
    let probes = 0;
    for (let attempt = 0; attempt < 10 && probes < 3; attempt++) {
      const from = `127.0.0.${20 + attempt}`;
      expect((await exchange(port, BAD_REQUEST, sockets, { from })).res?.status).toBe(400);
      await settle(0);
      const drained = r.server.metrics.value('defense', 'ban');
      // The second bad request trips the ban on slot 0 (no other connection is open) …
      expect((await exchange(port, BAD_REQUEST, sockets, { from })).res).toBeNull();
      await settle(0);
      // … and 127.0.0.3 connects right after, taking slot 0 again.
      const holder = await Client.connect(port, sockets, { localAddress: '127.0.0.3' });
      await settle(1);
      // Only a probe where the tick had not drained the ban before 127.0.0.3 was accepted counts.
      const valid = r.server.metrics.value('defense', 'ban') === drained;
      const entries = await eventually(() => {
        const d = jsonLines(logs.security).filter((e) => e.kind === 'defense');
        return d.length > attempt && d;
      }, 2000, `defense entry ${attempt + 1}`);
      if (valid) {
        probes++;
        expect(entries[attempt].client, `defense entry ${attempt + 1}`).toBe(from);
      }
      holder.socket.destroy();
      await settle(0);
    }
    expect(probes).toBeGreaterThanOrEqual(3);
  });

  it('an open keep-alive connection is closed, without a byte, once its client is banned elsewhere', async () => {
    const r = await start({
      web: { routes: ROUTES },
      moat: { defense: { rules: [{ counter: 'badRequests', over: 2, per: '10 secs', remedy: 'ban', for: '30 secs' }] } },
    });
    const port = r.server.port;
    const kept = await exchange(port, get('/api/status'), sockets, { from: '127.0.0.2', keep: true });
    expect(kept.res?.status).toBe(200);
    const k = kept.client!;
    const bystander = await exchange(port, get('/api/status'), sockets, { from: '127.0.0.3', keep: true });
    expect(bystander.res?.status).toBe(200);
    const before = k.received;
    await sleep(250);                      // a few ticks: nothing happens to an idle, unbanned client
    expect(k.ended).toBe(false);

    expect(await badRequests(port, '127.0.0.2', 3)).toEqual([400, 400, null]);
    const banned = Date.now();
    await k.waitClosed(1000);
    expect(k.closedAt - banned).toBeLessThan(600);
    expect(k.received).toBe(before);       // closed silently: no 4xx, no bytes at all
    expect(k.buf.length).toBe(0);

    // The other client's keep-alive connection is untouched.
    expect(bystander.client!.ended).toBe(false);
    expect((await send(bystander.client!, get('/api/status'), { keep: true })).res?.status).toBe(200);
  });

  it('a ban expires on time: refused during "for", accepted again right after', async () => {
    const r = await start({
      web: { routes: ROUTES },
      moat: { defense: { rules: [{ counter: 'badRequests', over: 2, per: '10 secs', remedy: 'ban', for: '1 sec' }] } },
    });
    const port = r.server.port;
    expect(await badRequests(port, '127.0.0.2', 3)).toEqual([400, 400, null]);
    const banned = Date.now();
    let refused = 0;
    let servedAt = 0;
    while (Date.now() - banned < 3000) {
      const x = await exchange(port, get('/api/status'), sockets, { from: '127.0.0.2', ms: 2000 });
      if (x.res) {
        expect(x.res.status).toBe(200);
        servedAt = Date.now();
        break;
      }
      expect(x.received).toBe(0);
      refused++;
      await sleep(50);
    }
    expect(servedAt, 'served again within 3 s').toBeGreaterThan(0);
    expect(refused).toBeGreaterThanOrEqual(5);
    expect(servedAt - banned).toBeGreaterThanOrEqual(850);
    expect(servedAt - banned).toBeLessThan(1700);
    await expectServed(port, '127.0.0.2');
  });

  it('bans survive client-table pressure: 51 newcomers through an 8-record table do not lift a ban', async () => {
    const logs = tempLogs();
    const r = await start({
      web: { routes: ROUTES },
      moat: { defense: { clients: 8, rules: [{ counter: 'badRequests', over: 1, per: '1 min', remedy: 'ban', for: '1 min' }] } },
    }, logs);
    const port = r.server.port;
    expect(await badRequests(port, '127.0.0.2', 2)).toEqual([400, null]);   // 2 offenses on record
    await expectRefused(port, '127.0.0.2');

    // Each newcomer makes a valid request and three 404s: 3 offenses, more than the banned record
    // holds, so "fewest offenses first" alone would evict the banned record; only the live ban keeps it.
    for (let i = 10; i <= 60; i++) {
      const from = `127.0.0.${i}`;
      const x = await exchange(port, get('/api/status'), sockets, { from, keep: true });
      expect(x.res?.status, from).toBe(200);
      for (let j = 0; j < 3; j++) expect((await send(x.client!, get(`/nope/${j}`), { keep: true })).res?.status, from).toBe(404);
      x.client!.socket.destroy();
    }
    await expectRefused(port, '127.0.0.2');
    await expectRefused(port, '127.0.0.2', BAD_REQUEST);
    await expectServed(port, '127.0.0.61');
    await sleep(250);
    expect(jsonLines(logs.security).filter((e) => e.kind === 'clients_full')).toHaveLength(0);
  });
});

describe('a full client table', () => {
  /**
   * clients: 2, both records banned; a third client (127.0.0.4) makes 4 requests on one keep-alive
   * connection and keeps it open for ten ticks. The clients_full entries logged meanwhile.
   */
  async function fullTable(): Promise<Record<string, unknown>[]> {
    const logs = tempLogs();
    const r = await start({
      web: { routes: ROUTES },
      moat: { defense: { clients: 2, rules: [{ counter: 'badRequests', over: 0, per: '10 secs', remedy: 'ban', for: '30 secs' }] } },
    }, logs);
    const port = r.server.port;
    for (const from of ['127.0.0.2', '127.0.0.3']) expect(await badRequests(port, from, 1)).toEqual([null]);
    await eventually(() => jsonLines(logs.security).filter((e) => e.kind === 'defense').length === 2, 2000, 'both bans logged');
    // Untracked rather than lifting a ban for it, but served.
    const k = await exchange(port, get('/api/status'), sockets, { from: '127.0.0.4', keep: true });
    expect(k.res?.status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await send(k.client!, get('/api/status'), { keep: true })).res?.status).toBe(200);
    await expectRefused(port, '127.0.0.2');
    await expectRefused(port, '127.0.0.3');
    await sleep(1000);
    expect(k.client!.ended).toBe(false);
    return jsonLines(logs.security).filter((e) => e.kind === 'clients_full');
  }

  it('every record holding a live ban: a newcomer is served untracked, no ban is lifted, the full table is logged', async () => {
    const full = await fullTable();
    expect(full.length).toBeGreaterThanOrEqual(1);
    expect(full[0]).toMatchObject({ kind: 'clients_full', reason: 'client_table_full', severity: 'high', client: '127.0.0.4' });
  });

  // Regression: a client that found no record was looked up again (and reported again) on every
  // request and tick; its slot now remembers that it is untracked.
  it('… and is reported once, not on every request and tick', async () => {
    expect(await fullTable()).toHaveLength(1);
  });
});

describe('request rate (web.limits.clientRequests)', () => {
  for (const stealth of [false, true]) {
    it(stealth ? 'stealth: the request over the limit gets a silent close' : 'the request over the limit gets 429 with Retry-After', async () => {
      const r = await start({ web: { routes: ROUTES, limits: { clientRequests: 5 } }, moat: { stealth, defense: { rules: [] } } });
      const port = r.server.port;
      for (let i = 0; i < 5; i++) await expectServed(port, '127.0.0.2');
      const x = await exchange(port, get('/api/status'), sockets, { from: '127.0.0.2' });
      if (stealth) {
        expect(x.res).toBeNull();
        expect(x.received).toBe(0);
      } else {
        expect(x.res?.status).toBe(429);
        const retry = field(x.res!, 'Retry-After');
        expect(retry).toHaveLength(1);
        expect(retry[0]).toMatch(/^[1-9]\d*$/);
        expect(Number(retry[0])).toBeLessThanOrEqual(60);      // the rest of the 1-minute window
        expect(field(x.res!, 'Connection')).toEqual(['close']);
        expect(JSON.parse(x.res!.body.toString())).toEqual({ error: 429, reason: 'rate_limited' });
      }
      // Still limited on the next try, and the limit is per client: another address is served.
      const again = await exchange(port, get('/api/status'), sockets, { from: '127.0.0.2' });
      expect(again.res?.status ?? null).toBe(stealth ? null : 429);
      await expectServed(port, '127.0.0.3');
    });
  }
});

describe('a 404 scanner', () => {
  it('is delayed once the first notFound rule trips, then banned by the second', async () => {
    const logs = tempLogs();
    const r = await start({
      web: { routes: ROUTES },
      moat: {
        defense: {
          delay: '300 msecs',
          rules: [
            { counter: 'notFound', over: 3, per: '10 secs', remedy: 'delay', for: '10 secs' },
            { counter: 'notFound', over: 6, per: '10 secs', remedy: 'ban', for: '10 secs' },
          ],
        },
      },
    }, logs);
    const port = r.server.port;
    const scan = (i: number) => exchange(port, get(`/scan/${i}`), sockets, { from: '127.0.0.2', ms: 3000 });

    // 4 404s, answered at once (the 4th trips the delay rule; the delay applies from the next request).
    for (let i = 1; i <= 4; i++) {
      const x = await scan(i);
      expect(x.res?.status).toBe(404);
      if (i <= 3) expect(x.ms).toBeLessThan(250);
    }
    // (Logged before another client connects: see the slot-reuse test.)
    const delay = await securityEntry(logs.security, (e) => e.kind === 'defense' && e.remedy === 'delay', 2000, 'the delay');
    expect(delay).toMatchObject({ client: '127.0.0.2', severity: 'medium', rule: 'rule 0: notFound > 3 per 10 secs -> delay for 10 secs' });
    // Now every answer to the scanner waits moat.defense.delay; another client's 404 does not.
    const [slow, fast] = await Promise.all([scan(5), exchange(port, get('/missing'), sockets, { from: '127.0.0.3' })]);
    expect(slow.res?.status).toBe(404);
    expect(slow.ms).toBeGreaterThanOrEqual(290);
    expect(fast.res?.status).toBe(404);
    expect(fast.ms).toBeLessThan(200);
    const delayed = await exchange(port, get('/api/status'), sockets, { from: '127.0.0.2', ms: 3000 });
    expect(delayed.res?.status).toBe(200);                    // delayed, not refused: the request is valid
    expect(delayed.ms).toBeGreaterThanOrEqual(290);

    // 404s 6 and 7: the 7th exceeds the ban rule; it is still answered, with Connection: close.
    expect((await scan(6)).res?.status).toBe(404);
    const last = await scan(7);
    expect(last.res?.status).toBe(404);
    expect(last.ms).toBeGreaterThanOrEqual(290);
    expect(field(last.res!, 'Connection')).toEqual(['close']);
    await expectRefused(port, '127.0.0.2');
    const ban = await securityEntry(logs.security, (e) => e.kind === 'defense' && e.remedy === 'ban', 2000, 'the ban');
    expect(ban).toMatchObject({ client: '127.0.0.2', severity: 'high', rule: 'rule 1: notFound > 6 per 10 secs -> ban for 10 secs' });
    await expectServed(port, '127.0.0.3');
    expect(jsonLines(logs.security).filter((e) => e.kind === 'defense')).toHaveLength(2);
  });
});

describe('the embedded default config', () => {
  it('bans a client after more than 20 bad requests in a minute, with no rules configured', async () => {
    const cfg = loadConfig();
    cfg.web.listen = [{ scheme: 'http', host: '127.0.0.1', port: 0 }];
    cfg.log = { access: { path: null, format: 'common' }, error: { path: null, level: 'error' }, security: { path: null } };
    expect(cfg.moat.defense.rules[0]).toMatchObject({ counter: 'badRequests', over: 20, per: 60_000, remedy: 'ban', for: 300_000 });
    const r = await startFromConfig(cfg);
    running.push(r);
    const port = r.server.port;
    const statuses = await badRequests(port, '127.0.0.2', 21);
    expect(statuses).toEqual([...Array(20).fill(400), null]);
    await expectRefused(port, '127.0.0.2');
    await expectRefused(port, '127.0.0.2', get('/'));
    await expectServed(port, '127.0.0.3', '/');
    await eventually(() => r.server.metrics.value('defense', 'ban') === 1, 2000, 'the ban counted');
  });
});
