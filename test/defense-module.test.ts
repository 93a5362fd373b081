// The module's per-client defense driven through the ABI (assembly/defense.ts): rule thresholds on
// the sliding window, each remedy, the eviction policy, the sweep across the clock's wrap, and
// the same transcript on every engine (wasm3, WAMR fast and classic) as in V8. End-to-end
// behaviour over sockets is in defense.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DefenseCounter, DefenseRemedy, EventKind, loadMoat, NEVER, Verdict, type Moat, type ModuleConfig } from '../host/module.ts';
import { ensureSimulator, loadEngine, SIM_ENGINE_NAMES, type EngineMoat } from '../host/engines.ts';

const ENGINES = (process.env.MOAT_ENGINES ?? SIM_ENGINE_NAMES.join(',')).split(',').filter((e) => e && e !== 'none') as (typeof SIM_ENGINE_NAMES)[number][];
type Rule = [counter: keyof typeof DefenseCounter, over: number, per: number, remedy: keyof typeof DefenseRemedy, dur: number];

/** Module words for `rules` (and a few small tables), everything else at the module defaults. */
function words(rules: Rule[], extra: Partial<ModuleConfig> = {}): Partial<ModuleConfig> {
  const w: Record<string, number> = {
    slots: 8, client_connections: 8, clients: 4, delay_ms: 750, rule_count: rules.length,
    timeout_parse_ms: 1000, timeout_inactivity_ms: NEVER, timeout_request_ms: NEVER, timeout_session_ms: NEVER,
  };
  for (let i = 0; i < 8; i++) {
    const r = rules[i];
    w[`rule${i}_kind`] = r ? DefenseCounter[r[0]] | (DefenseRemedy[r[3]] << 8) : 0;
    w[`rule${i}_over`] = r?.[1] ?? 0;
    w[`rule${i}_per_ms`] = r?.[2] ?? 0;
    w[`rule${i}_for_ms`] = r?.[4] ?? 0;
  }
  return { ...w, ...extra } as Partial<ModuleConfig>;
}

const GOOD = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1');
const BAD = Buffer.from('GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1');

function feed(m: Moat, slot: number, bytes: Buffer, now: number) {
  m.write(bytes);
  return m.feed(slot, 0, bytes.length, now);
}

/** One request on a fresh connection of `client`: the open result and the feed verdict. */
function request(m: Moat, client: number, bytes: Buffer, now: number) {
  const slot = m.open(client, false, now);
  if (slot < 0) return { slot, verdict: -1, status: 0, code: -slot, delay: 0, retryAfter: 0 };
  const r = feed(m, slot, bytes, now);
  m.close(slot);
  // status and code are only written with an error verdict (ABI.md).
  const failed = (r.verdict & (Verdict.ERROR | Verdict.CLOSE)) !== 0;
  return { slot, verdict: r.verdict, status: failed ? r.status : 0, code: failed ? r.code : 0, delay: r.delay, retryAfter: r.retryAfter };
}

const defenseEvents = (m: Moat, from = 0) => m.events(from).events.filter((e) => e.kind === EventKind.DEFENSE).map((e) => [e.code >> 8, e.code & 0xff, e.client]);

describe('defense in the module (V8)', () => {
  let m: Moat;
  beforeAll(async () => { m = await loadMoat(); });

  it('a ban rule trips on the first bad request past `over`, once, and refuses the client until `for` ends', () => {
    m.configure(words([['badRequests', 3, 10_000, 'ban', 5_000]]));
    for (let i = 0; i < 3; i++) expect(request(m, 7, BAD, 100 + i)).toMatchObject({ verdict: Verdict.ERROR, status: 400 });
    expect(defenseEvents(m)).toEqual([]);
    // The 4th: the ban trips while answering it, so the answer is dropped too.
    expect(request(m, 7, BAD, 110)).toMatchObject({ verdict: Verdict.CLOSE, status: 0 });
    expect(defenseEvents(m)).toEqual([[DefenseRemedy.ban, 0, 7]]);
    expect(m.open(7, false, 120)).toBe(-48);
    expect(m.open(7, false, 110 + 4_999)).toBe(-48);
    // Another client is untouched.
    expect(request(m, 8, GOOD, 130)).toMatchObject({ verdict: Verdict.DONE | Verdict.HEAD });
    // The ban ends on time.
    const slot = m.open(7, false, 110 + 5_000);
    expect(slot).toBeGreaterThanOrEqual(0);
    m.close(slot);
    expect(defenseEvents(m)).toHaveLength(1);
  });

  it('the window slides: the previous window still weighs in, a window later it no longer does', () => {
    m.configure(words([['requests', 10, 1_000, 'reject', 0]]));
    for (let i = 0; i < 10; i++) expect(request(m, 7, GOOD, i).verdict & Verdict.DONE).toBe(Verdict.DONE);
    const r = request(m, 7, GOOD, 10);
    expect(r).toMatchObject({ verdict: Verdict.ERROR, status: 429, code: 49 });
    expect(r.retryAfter).toBe(1);
    // Half into the next window half of the previous 11 still count: 5.5 + new ones.
    expect(request(m, 7, GOOD, 1_500).status).toBe(0);          // 5 + 1 (rounded down) = 6 <= 10
    let refusedAt = -1;
    for (let i = 0; i < 10 && refusedAt < 0; i++) if (request(m, 7, GOOD, 1_500).status === 429) refusedAt = i;
    expect(refusedAt).toBe(4);                                   // 5 from the old window + 6 new > 10
    // Two windows later nothing is left.
    for (let i = 0; i < 10; i++) expect(request(m, 7, GOOD, 3_100).status).toBe(0);
  });

  it('a delay rule sets the delay word on every head while it lasts', () => {
    m.configure(words([['connections', 2, 10_000, 'delay', 1_000]]));
    expect(request(m, 7, GOOD, 0).delay).toBe(0);
    expect(request(m, 7, GOOD, 1).delay).toBe(0);
    expect(request(m, 7, GOOD, 2).delay).toBe(750);             // third connection trips it
    expect(request(m, 7, GOOD, 900).delay).toBe(750);
    expect(request(m, 9, GOOD, 900).delay).toBe(0);
    expect(defenseEvents(m)).toEqual([[DefenseRemedy.delay, 0, 7]]);
  });

  it('application statuses count: 404 and 401/403 and 5xx feed their counters through respond()', () => {
    m.configure(words([['notFound', 1, 10_000, 'log', 0], ['authFailures', 1, 10_000, 'alert', 0], ['errors', 1, 10_000, 'ban', 60_000]]));
    const slot = m.open(7, false, 0);
    for (const status of [404, 404, 401, 403, 500]) {
      feed(m, slot, GOOD, 1);
      m.respond(slot, status, 0, [], 0, 2);
    }
    expect(defenseEvents(m)).toEqual([[DefenseRemedy.log, 0, 7], [DefenseRemedy.alert, 1, 7]]);
    // The second 5xx bans: that response closes the connection, and the client is refused.
    feed(m, slot, GOOD, 3);
    const r = m.respond(slot, 503, 0, [], 0, 4);
    expect(typeof r === 'number' ? r : r.close).toBe(true);
    expect(defenseEvents(m)).toEqual([[DefenseRemedy.log, 0, 7], [DefenseRemedy.alert, 1, 7], [DefenseRemedy.ban, 2, 7]]);
    expect(m.open(7, false, 5)).toBe(-48);
    m.close(slot);
  });

  it('a ban found on one connection closes the client\'s other open connections at the next tick, silently', () => {
    m.configure(words([['badRequests', 0, 10_000, 'ban', 60_000]]));
    const a = m.open(7, false, 0), b = m.open(7, false, 0), other = m.open(8, false, 0);
    expect(feed(m, a, BAD, 1).verdict).toBe(Verdict.CLOSE);
    const expired = [...m.expired(2)].map(({ slot, result }) => [slot, result.verdict, result.status, result.code]);
    expect(expired).toEqual([[b, Verdict.CLOSE, 0, 48]]);
    expect([...m.expired(3)]).toEqual([]);                      // reported once
    for (const s of [a, b, other]) m.close(s);
  });

  it('a request on another open connection of a just-banned client gets no answer, even before the tick', () => {
    m.configure(words([['badRequests', 0, 10_000, 'ban', 60_000]]));
    const a = m.open(7, false, 0), b = m.open(7, false, 0), other = m.open(8, false, 0);
    expect(feed(m, b, GOOD, 1).verdict & Verdict.DONE).toBe(Verdict.DONE);
    expect(feed(m, a, BAD, 2).verdict).toBe(Verdict.CLOSE);
    const r = feed(m, b, GOOD, 3);
    expect([r.verdict, r.status, r.code]).toEqual([Verdict.CLOSE, 0, 48]);
    expect(feed(m, other, GOOD, 4).verdict & Verdict.DONE).toBe(Verdict.DONE);
    expect(feed(m, other, GOOD, 4).verdict & Verdict.DONE).toBe(Verdict.DONE);
    for (const s of [a, b, other]) m.close(s);
  });

  it('eviction never drops a live ban: a flood of new addresses cannot clear an offender', () => {
    m.configure(words([['badRequests', 0, 10_000, 'ban', 60_000]], { clients: 4 }));
    expect(request(m, 7, BAD, 0).verdict).toBe(Verdict.CLOSE);
    for (let c = 100; c < 400; c++) expect(request(m, c, GOOD, 10 + c).verdict & Verdict.DONE).toBe(Verdict.DONE);
    expect(m.open(7, false, 1_000)).toBe(-48);
  });

  it('eviction prefers clean records, so a client with offenses keeps its count under address rotation', () => {
    m.configure(words([['badRequests', 2, 60_000, 'ban', 60_000]], { clients: 4 }));
    request(m, 7, BAD, 0);
    request(m, 7, BAD, 1);                                       // two offenses, one short of the ban
    for (let c = 100; c < 200; c++) request(m, c, GOOD, 10 + c);  // rotate through many clean addresses
    expect(request(m, 7, BAD, 500).verdict).toBe(Verdict.CLOSE);  // third: still counted → banned
    expect(m.open(7, false, 501)).toBe(-48);
  });

  it('a table full of live bans leaves a newcomer untracked (one event) instead of lifting a ban', () => {
    m.configure(words([['badRequests', 0, 10_000, 'ban', 60_000]], { clients: 2 }));
    request(m, 7, BAD, 0);
    request(m, 8, BAD, 0);
    const before = m.eventCount();
    expect(request(m, 9, GOOD, 1).verdict & Verdict.DONE).toBe(Verdict.DONE);
    expect(m.events(before).events.some((e) => e.kind === EventKind.CLIENTS_FULL && e.client === 9)).toBe(true);
    expect(m.open(7, false, 2)).toBe(-48);
    expect(m.open(8, false, 2)).toBe(-48);
  });

  it('bans and windows stay correct across the u32 clock wrap', () => {
    m.configure(words([['badRequests', 0, 10_000, 'ban', 1_000]]));
    const t0 = 0xffffff00;
    expect(request(m, 7, BAD, t0).verdict).toBe(Verdict.CLOSE);
    expect(m.open(7, false, (t0 + 500) >>> 0)).toBe(-48);       // past the wrap, still banned
    [...m.expired((t0 + 1_100) >>> 0)];                         // the sweep clears the ended ban
    const s = m.open(7, false, (t0 + 1_200) >>> 0);
    expect(s).toBeGreaterThanOrEqual(0);
    m.close(s);
    // Half the clock later an old ended ban must not come back.
    [...m.expired((t0 + 0x80000100) >>> 0)];
    const s2 = m.open(7, false, (t0 + 0x80000200) >>> 0);
    expect(s2).toBeGreaterThanOrEqual(0);
    m.close(s2);
  });

  it('init refuses a rule without a window, and the table grows the high-water mark by 20 + 8 per rule', () => {
    expect(() => m.configure(words([['requests', 1, 0, 'reject', 0]]))).toThrow();
    m.configure(words([['requests', 1, 1000, 'reject', 0], ['errors', 1, 1000, 'log', 0]], { clients: 1 }));
    const one = m.highWater;
    m.configure(words([['requests', 1, 1000, 'reject', 0], ['errors', 1, 1000, 'log', 0]], { clients: 11 }));
    expect(m.highWater - one).toBe(10 * (20 + 8 * 2));
  });

  it('clients() reads the table and forgive() lifts a ban at once', () => {
    m.configure(words([['badRequests', 1, 10_000, 'ban', 60_000], ['requests', 100, 10_000, 'log', 0]]));
    request(m, 7, BAD, 0);
    request(m, 7, BAD, 1);
    request(m, 8, GOOD, 2);
    const byClient = new Map(m.clients(1_000).map((c) => [c.client, c]));
    expect(byClient.get(7)).toMatchObject({ offenses: 2, bannedMs: 59_001, delayedMs: 0, counts: [{ current: 2, previous: 0 }, { current: 0, previous: 0 }] });
    expect(byClient.get(8)).toMatchObject({ offenses: 0, bannedMs: 0, counts: [{ current: 0, previous: 0 }, { current: 1, previous: 0 }] });
    expect(m.open(7, false, 1_000)).toBe(-48);
    expect(m.forgive(7)).toBe(true);
    expect(m.forgive(7)).toBe(false);
    const s = m.open(7, false, 1_001);
    expect(s).toBeGreaterThanOrEqual(0);
    m.close(s);
  });

  it('client 0 (unknown) is never tracked or banned', () => {
    m.configure(words([['badRequests', 0, 10_000, 'ban', 60_000]]));
    for (let i = 0; i < 5; i++) expect(request(m, 0, BAD, i)).toMatchObject({ verdict: Verdict.ERROR, status: 400 });
    expect(defenseEvents(m)).toEqual([]);
  });
});

/** A script over every remedy; each engine must see exactly what V8 sees. */
function transcript(m: Moat): unknown[] {
  const log: unknown[] = [];
  m.configure(words([['badRequests', 2, 5_000, 'ban', 2_000], ['requests', 6, 1_000, 'reject', 0], ['notFound', 1, 5_000, 'delay', 3_000],
    ['connections', 9, 5_000, 'alert', 0]], { clients: 4 }));
  for (let t = 0; t < 160; t++) {
    const client = 1 + (t % 5);
    const bytes = t % 11 === 0 ? BAD : GOOD;
    const slot = m.open(client, false, t * 37);
    if (slot < 0) { log.push(['refused', t, slot]); continue; }
    const r = feed(m, slot, bytes, t * 37 + 1);
    log.push(['feed', t, r.verdict, r.status, r.code, r.delay, r.retryAfter]);
    if (r.verdict & Verdict.HEAD) {
      const a = m.respond(slot, t % 4 === 0 ? 404 : 200, 0, [], 0, t * 37 + 2);
      log.push(['respond', t, typeof a === 'number' ? a : a.close]);
    }
    log.push(['tick', t, [...m.expired(t * 37 + 3)].map((e) => [e.slot, e.result.verdict, e.result.code])]);
    m.close(slot);
  }
  log.push(['events', m.events(0)]);
  return log;
}

describe('defense transcript on every engine', () => {
  let expected: unknown[];
  beforeAll(async () => { expected = transcript(await loadMoat()); });

  for (const name of ENGINES) {
    describe(name, () => {
      let e: EngineMoat;
      beforeAll(async () => { await ensureSimulator(name); e = await loadEngine(name); }, 120_000);
      afterAll(() => e?.dispose());
      it('matches V8', () => {
        expect(transcript(e)).toEqual(expected);
      });
    });
  }
});
