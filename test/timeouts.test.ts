// Deadlines through tick() (Moat.expired) with explicit `now` values: parse timeout (408), idle
// keep-alive inactivity (close silently), slots within their deadlines, the u32 wrap, and events.
import { describe, expect, it } from 'vitest';
import { loadMoat, Moat, Verdict, EventKind, NEVER, type ModuleConfig } from '../host/module.ts';
import { reasonOf } from '../host/errors.ts';

const CFG: Partial<ModuleConfig> = {
  timeout_parse_ms: 1000, timeout_inactivity_ms: 5000, timeout_request_ms: 20000, timeout_session_ms: NEVER,
};
const FULL = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

async function fresh(cfg: Partial<ModuleConfig> = CFG): Promise<Moat> {
  return loadMoat(cfg);
}

function feed(moat: Moat, slot: number, text: string, now: number) {
  const b = Buffer.from(text, 'latin1');
  moat.write(b, 0);
  return moat.feed(slot, 0, b.length, now >>> 0);
}

const expiredAt = (moat: Moat, now: number) => [...moat.expired(now >>> 0)];

describe('parse timeout', () => {
  it('a slot whose head is incomplete past timeouts.parse is returned with 408', async () => {
    const moat = await fresh();
    const slot = moat.open(5, false, 100);
    expect(feed(moat, slot, 'GET / HTTP/1.1\r\nHost: a\r\n', 200).verdict).toBe(Verdict.NEED_MORE);
    expect(expiredAt(moat, 1199)).toEqual([]);
    const before = moat.eventCount();
    const got = expiredAt(moat, 1200);
    expect(got).toHaveLength(1);
    expect(got[0].slot).toBe(slot);
    expect(got[0].result.verdict).toBe(Verdict.ERROR);
    expect(got[0].result.status).toBe(408);
    expect(reasonOf(got[0].result.code)).toBe('parse_timeout');
    // An event of kind 3 (timeout) with the code, the slot, the client and the time.
    const { events } = moat.events(before);
    expect(events).toEqual([{ time: 1200, kind: EventKind.TIMEOUT, slot, code: got[0].result.code, client: 5 }]);
  });

  it('is reported once, and the slot then answers the 408 sticky and closes after responding', async () => {
    const moat = await fresh();
    const slot = moat.open(0, false, 0);
    feed(moat, slot, 'GET /abc', 0);
    expect(expiredAt(moat, 1000).map((e) => e.slot)).toEqual([slot]);
    expect(expiredAt(moat, 1001)).toEqual([]);
    expect(expiredAt(moat, 99999)).toEqual([]);
    const r = feed(moat, slot, ' HTTP/1.1\r\nHost: a\r\n\r\n', 1002);
    expect(r.verdict).toBe(Verdict.ERROR);
    expect(r.status).toBe(408);
    const res = moat.respond(slot, 408, 0, [], 0, 1003);
    if (typeof res === 'number') throw new Error(`respond refused ${res}`);
    expect(res.close).toBe(true);
    expect(Buffer.from(res.head).toString('latin1')).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*Connection: close\r\n/);
  });

  it('counts from the first byte of the request, even if bytes keep trickling in', async () => {
    const moat = await fresh();
    const slot = moat.open(0, false, 0);
    feed(moat, slot, 'GET / HTTP/1.1\r\n', 500);
    for (let t = 600; t < 1500; t += 100) {
      expect(expiredAt(moat, t)).toEqual([]);
      feed(moat, slot, `X-${t}: y\r\n`, t);
    }
    const got = expiredAt(moat, 1500);
    expect(got.map((e) => [e.slot, e.result.status])).toEqual([[slot, 408]]);
  });

  it('does not apply once the head is complete (the request timeout does)', async () => {
    const moat = await fresh();
    const slot = moat.open(0, false, 0);
    const r = feed(moat, slot, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nab', 0);
    expect(r.verdict & Verdict.HEAD).toBeTruthy();
    // keep the connection active so inactivity does not fire
    for (let t = 1000; t < 20000; t += 1000) {
      moat.write(Buffer.from('c'), 0);
      const rr = moat.feed(slot, 0, 1, t);
      expect(rr.verdict, `t=${t}`).toBe(Verdict.NEED_MORE);
      expect(expiredAt(moat, t), `t=${t}`).toEqual([]);
    }
    const got = expiredAt(moat, 20000);
    expect(got).toHaveLength(1);
    expect(got[0].result.status).toBe(408);
    expect(reasonOf(got[0].result.code)).toBe('request_timeout');
  });
});

describe('inactivity', () => {
  it('an idle keep-alive slot past inactivity expires with status 0 (close silently)', async () => {
    const moat = await fresh();
    const slot = moat.open(9, false, 0);
    expect(feed(moat, slot, FULL, 10).verdict & Verdict.DONE).toBeTruthy();
    const res = moat.respond(slot, 200, 0, [], 0, 20);
    expect(typeof res === 'number' ? res : res.close).toBe(false);
    expect(expiredAt(moat, 5019)).toEqual([]);
    const before = moat.eventCount();
    const got = expiredAt(moat, 5020);
    expect(got).toHaveLength(1);
    expect(got[0].slot).toBe(slot);
    expect(got[0].result.verdict).toBe(Verdict.CLOSE);
    expect(got[0].result.status).toBe(0);
    expect(reasonOf(got[0].result.code)).toBe('inactivity_timeout');
    expect(moat.events(before).events).toEqual([{ time: 5020, kind: EventKind.TIMEOUT, slot, code: got[0].result.code, client: 9 }]);
  });

  it('an idle slot is not subject to the parse timeout', async () => {
    const moat = await fresh();
    const slot = moat.open(0, false, 0);
    feed(moat, slot, FULL, 0);
    moat.respond(slot, 204, 0, [], 0, 0);
    expect(expiredAt(moat, 1000)).toEqual([]);
    expect(expiredAt(moat, 4999)).toEqual([]);
    expect(expiredAt(moat, 5000).map((e) => e.result.status)).toEqual([0]);
  });
});

describe('session', () => {
  it('an idle connection older than timeouts.session closes silently; one mid-request gets 408', async () => {
    const moat = await fresh({ timeout_parse_ms: NEVER, timeout_inactivity_ms: NEVER, timeout_request_ms: NEVER, timeout_session_ms: 10000 });
    const idle = moat.open(0, false, 0);
    const busy = moat.open(0, false, 0);
    for (let t = 0; t < 10000; t += 1000) {
      feed(moat, idle, FULL, t); moat.respond(idle, 200, 0, [], 0, t);
      expect(expiredAt(moat, t)).toEqual([]);
    }
    feed(moat, busy, 'GET / HTTP/1.1\r\n', 9000);
    const got = expiredAt(moat, 10000).map((e) => [e.slot, e.result.status, reasonOf(e.result.code)]);
    expect(got).toEqual([[idle, 0, 'session_timeout'], [busy, 408, 'request_timeout']]);
  });
});

describe('slots within their deadlines', () => {
  it('are not returned, and only the expired ones are, in slot order', async () => {
    const moat = await fresh();
    const a = moat.open(0, false, 0);      // mid-head since t=0 → parse timeout at 1000
    const b = moat.open(0, false, 0);      // mid-head since t=900 → parse timeout at 1900
    const c = moat.open(0, false, 0);      // idle keep-alive since t=0 → inactivity at 5000
    const d = moat.open(0, false, 0);      // idle keep-alive since t=800
    feed(moat, a, 'GET / HTTP/1.1\r\n', 0);
    feed(moat, b, 'GET / HTTP/1.1\r\n', 900);
    feed(moat, c, FULL, 0); moat.respond(c, 200, 0, [], 0, 0);
    feed(moat, d, FULL, 800); moat.respond(d, 200, 0, [], 0, 800);
    expect(expiredAt(moat, 999)).toEqual([]);
    expect(expiredAt(moat, 1000).map((e) => [e.slot, e.result.status])).toEqual([[a, 408]]);
    expect(expiredAt(moat, 1899)).toEqual([]);
    expect(expiredAt(moat, 1900).map((e) => [e.slot, e.result.status])).toEqual([[b, 408]]);
    expect(expiredAt(moat, 4999)).toEqual([]);
    expect(expiredAt(moat, 5800).map((e) => [e.slot, e.result.status])).toEqual([[c, 0], [d, 0]]);
  });

  it('closed slots are never returned', async () => {
    const moat = await fresh();
    const a = moat.open(0, false, 0);
    feed(moat, a, 'GET / HT', 0);
    moat.close(a);
    expect(expiredAt(moat, 100000)).toEqual([]);
  });

  it('NEVER disables a deadline', async () => {
    const moat = await fresh({ timeout_parse_ms: NEVER, timeout_inactivity_ms: NEVER, timeout_request_ms: NEVER, timeout_session_ms: NEVER });
    const a = moat.open(0, false, 0);
    feed(moat, a, 'GET / HT', 0);
    const b = moat.open(0, false, 0);
    for (const t of [1000, 1e6, 0x7fffffff, 0xfffffffe]) expect(expiredAt(moat, t)).toEqual([]);
    expect(b).toBeGreaterThanOrEqual(0);
  });
});

describe('u32 wrap', () => {
  const START = 0xffffff00;   // 256 ms before the wrap
  it('a parse deadline across the wrap', async () => {
    const moat = await fresh();
    const slot = moat.open(0, false, START);
    feed(moat, slot, 'GET / HTTP/1.1\r\n', START);
    expect(expiredAt(moat, START + 10)).toEqual([]);
    expect(expiredAt(moat, 0xffffffff)).toEqual([]);
    expect(expiredAt(moat, 0)).toEqual([]);
    expect(expiredAt(moat, (START + 999) >>> 0)).toEqual([]);           // 743 after the wrap
    const got = expiredAt(moat, (START + 1000) >>> 0);
    expect(got.map((e) => [e.slot, e.result.status])).toEqual([[slot, 408]]);
  });

  it('an inactivity deadline across the wrap', async () => {
    const moat = await fresh();
    const slot = moat.open(0, false, START);
    feed(moat, slot, FULL, START);
    moat.respond(slot, 200, 0, [], 0, START + 50);
    expect(expiredAt(moat, 0)).toEqual([]);
    expect(expiredAt(moat, (START + 50 + 4999) >>> 0)).toEqual([]);
    expect(expiredAt(moat, (START + 50 + 5000) >>> 0).map((e) => e.result.status)).toEqual([0]);
  });

  it('a request started just after the wrap', async () => {
    const moat = await fresh();
    const slot = moat.open(0, false, 0xfffffff0);
    feed(moat, slot, 'GET / H', 5);
    expect(expiredAt(moat, 1004)).toEqual([]);
    expect(expiredAt(moat, 1005).map((e) => e.result.status)).toEqual([408]);
  });
});
