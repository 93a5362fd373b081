// The dashboard's JSON API over real HTTP (no browser): role checks inside every endpoint with the
// refusals in the operation log, the route guard's CSRF checks in front of every POST, the audit,
// credential and client actions, the live event stream and its bounds, and "not configured".
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { rmSync } from 'node:fs';
import { FakeAudit, HOSTILE, finding, login, call, makeAccounts, startDashboard, type Accounts, type DashServer, type Login } from './helpers/dashboard.ts';
import { CSP } from '../host/dashboard/reply.ts';

let acc: Accounts;
let srv: DashServer;
const who: Record<'viewer' | 'operator' | 'admin', Login> = {} as never;

const waitFor = async <T>(fn: () => Promise<T | undefined | false> | T | undefined | false, ms: number, what: string): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timeout (${ms} ms) waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

beforeAll(async () => {
  acc = await makeAccounts();
  srv = await startDashboard({ users: acc.file, audit: new FakeAudit([finding(), finding({ fingerprint: 'b'.repeat(64), severity: 'low', status: 'open', target: `GET /${HOSTILE}` })], 200), maxStreams: 2, heartbeatMs: 200 });
  for (const r of ['viewer', 'operator', 'admin'] as const) who[r] = await login(srv.base, r);
}, 30_000);

afterAll(async () => {
  await srv?.close();
  if (acc) rmSync(acc.dir, { recursive: true, force: true });
});

describe('dashboard page and assets', () => {
  it('serves the page, script and stylesheet with the strict policy and no caching', async () => {
    for (const [path, type] of [['/_moat/', 'text/html'], ['/_moat/app.js', 'text/javascript'], ['/_moat/style.css', 'text/css']] as const) {
      const res = await fetch(srv.base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect((await res.text()).length).toBeGreaterThan(100);
    }
    const html = await (await fetch(srv.base + '/_moat/')).text();
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
    expect((await fetch(srv.base + '/_moat/secret.txt')).status).toBe(404);
    expect((await fetch(srv.base + '/_moat/', { method: 'POST' })).status).toBe(405);
  });

  it('answers the API only to a logged-in caller, with the policy and no-store', async () => {
    const anon = await call(srv.base, null, 'GET', 'overview');
    expect(anon.status).toBe(401);
    const r = await call(srv.base, who.viewer, 'GET', 'overview');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(CSP);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const o = r.json as { uptimeMs: number; connections: { used: number; limit: number }; memory: { modulePages: number; moduleHighWater: number }; traffic: unknown; tls: unknown; audit: { last: unknown; alarms: unknown[] } };
    expect(o.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(o.connections.limit).toBe(200);
    expect(o.connections.used).toBeGreaterThanOrEqual(1);
    expect(o.memory.modulePages).toBe(1);
    expect(o.memory.moduleHighWater).toBeGreaterThan(0);
    expect(o.traffic).toMatchObject({ requestsPerMin: expect.any(Number), errorRate: expect.any(Number) });
    expect(o.tls).toBeNull();
    expect(o.audit).toEqual({ last: null, alarms: [] });
  });
});

describe('roles inside the API', () => {
  it('refuses what a role may not do with 403 and records each refusal', async () => {
    const cases: [keyof typeof who, 'GET' | 'POST', string, unknown, number][] = [
      ['viewer', 'GET', 'clients', undefined, 403],
      ['viewer', 'POST', 'clients/unban', { address: '127.0.0.9' }, 403],
      ['viewer', 'GET', 'credentials', undefined, 403],
      ['viewer', 'GET', 'oplog', undefined, 403],
      ['viewer', 'GET', 'audit/report?format=json', undefined, 403],
      ['viewer', 'POST', 'audit/run', { profile: 'quick' }, 403],
      ['operator', 'POST', 'audit/run', { profile: 'full' }, 403],
      ['operator', 'POST', 'audit/waive', { fingerprint: 'a'.repeat(64), reason: 'x', expires: '2099-01-01' }, 403],
      ['operator', 'GET', 'credentials', undefined, 403],
      ['operator', 'POST', 'credentials/revoke', { name: 'viewer' }, 403],
      ['operator', 'POST', 'credentials/rotate', { name: 'sensor-1' }, 403],
      ['operator', 'GET', 'oplog', undefined, 403],
      ['operator', 'GET', 'clients', undefined, 200],
      ['admin', 'GET', 'credentials', undefined, 200],
      ['admin', 'GET', 'oplog', undefined, 200],
    ];
    for (const [role, method, path, body, want] of cases) {
      const before = srv.oplog!.entries.length;
      const r = await call(srv.base, who[role], method, path, body);
      expect(r.status, `${role} ${method} ${path}`).toBe(want);
      if (want === 403) {
        expect(r.json).toEqual({ error: 403, reason: 'forbidden' });
        const rec = srv.oplog!.entries.slice(before);
        expect(rec, `${role} ${method} ${path}`).toEqual([expect.objectContaining({ actor: role, role, outcome: 'denied' })]);
      }
    }
    expect(srv.audit!.runs).toEqual([]);
  });

  it('records every POST, including failed ones', async () => {
    const before = srv.oplog!.entries.length;
    expect((await call(srv.base, who.operator, 'POST', 'clients/unban', { address: 'not-an-ip' })).status).toBe(400);
    expect((await call(srv.base, who.operator, 'POST', 'clients/unban', 'address=1.2.3.4', { headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await call(srv.base, who.operator, 'POST', 'clients/unban', '{oops')).status).toBe(400);
    expect((await call(srv.base, who.operator, 'POST', 'clients/unban', { address: '127.0.0.77' })).status).toBe(200);
    expect((await call(srv.base, who.operator, 'POST', 'nothing/here', {})).status).toBe(404);
    expect(srv.oplog!.entries.slice(before).map((e) => [e.action, e.outcome, e.client])).toEqual([
      ['client.unban', 'failed', '127.0.0.1'], ['client.unban', 'failed', '127.0.0.1'], ['client.unban', 'failed', '127.0.0.1'],
      ['client.unban', 'ok', '127.0.0.1'], ['dashboard.unknown', 'failed', '127.0.0.1'],
    ]);
  });
});

describe('CSRF in front of the dashboard API', () => {
  it('refuses a session POST without the token, with a foreign Origin or cross-site fetch metadata, before the handler runs', async () => {
    const before = srv.oplog!.entries.length;
    const body = { name: 'sensor-1' };
    const attempts: { csrf: boolean; headers: Record<string, string> }[] = [
      { csrf: false, headers: {} },
      { csrf: true, headers: { 'x-csrf-token': 'x'.repeat(43) } },
      { csrf: true, headers: { origin: 'http://127.0.0.1:1' } },
      { csrf: true, headers: { 'sec-fetch-site': 'same-site' } },
      { csrf: true, headers: { 'sec-fetch-site': 'cross-site' } },
    ];
    for (const a of attempts) {
      const r = await call(srv.base, who.admin, 'POST', 'credentials/rotate', body, a);
      expect(r.status, JSON.stringify(a)).toBe(403);
      expect(String(r.json.reason)).toMatch(/^csrf_/);
    }
    // The handler never ran: nothing in the operation log, and the device's token still works.
    expect(srv.oplog!.entries.length).toBe(before);
    expect((await fetch(`${srv.base}/_moat/api/overview`, { headers: { authorization: `Bearer ${acc.deviceToken}` } })).status).toBe(200);
    // With the token and a same-origin Origin it goes through.
    const ok = await call(srv.base, who.operator, 'POST', 'clients/unban', { address: '127.0.0.78' }, { headers: { origin: srv.base, 'sec-fetch-site': 'same-origin' } });
    expect(ok.status).toBe(200);
  });
});

describe('self-audit through the API', () => {
  it('runs quick for an operator, full for an admin only, one at a time, and shows progress', async () => {
    const started = await call(srv.base, who.operator, 'POST', 'audit/run', { profile: 'quick' });
    expect(started.status).toBe(202);
    expect((await call(srv.base, who.admin, 'POST', 'audit/run', { profile: 'full' })).status).toBe(409);
    const during = await call(srv.base, who.viewer, 'GET', 'audit');
    expect(during.json.running).toMatchObject({ profile: 'quick', actor: 'operator' });
    await waitFor(async () => (await call(srv.base, who.viewer, 'GET', 'audit')).json.running === null, 3000, 'the run to finish');
    expect(srv.audit!.runs).toEqual([{ profile: 'quick', actor: 'operator' }]);
    expect(srv.oplog!.find('audit.run', 'ok').map((e) => e.target)).toEqual(['quick']);
    expect((await call(srv.base, who.admin, 'POST', 'audit/run', { profile: 'full' })).status).toBe(202);
    await waitFor(async () => (await call(srv.base, who.viewer, 'GET', 'audit')).json.running === null, 3000, 'the full run to finish');
  });

  it('runs a targeted check of one probe on one route, validated, without replacing the last report', async () => {
    const lastBefore = (await call(srv.base, who.viewer, 'GET', 'audit')).json.last;
    const bad: [keyof typeof who, unknown, number][] = [
      ['viewer', { profile: 'quick', probe: 'headers.csp', route: '/api/status' }, 403],
      ['operator', { profile: 'quick', probe: 'no-such-probe' }, 400],
      ['operator', { profile: 'quick', probe: 'smuggling' }, 400],     // a full-profile probe
      ['operator', { profile: 'full', probe: 'smuggling' }, 403],      // full needs an admin
      ['operator', { profile: 'quick', probe: 'headers.csp', route: '/not-a-route' }, 400],
      ['operator', { profile: 'quick', probe: 7 }, 400],
    ];
    for (const [role, body, want] of bad) expect((await call(srv.base, who[role], 'POST', 'audit/run', body)).status, JSON.stringify(body)).toBe(want);
    expect(srv.audit!.runs.filter((r) => r.scope)).toEqual([]);
    const view0 = (await call(srv.base, who.operator, 'GET', 'audit')).json as { catalog: { id: string }[]; routes: string[] };
    expect(view0.catalog.map((p) => p.id)).toEqual(['headers.csp', 'smuggling']);
    expect(view0.routes).toContain('/api/status');

    type View = { last: unknown; check: { scope: unknown; findings: { target: string; evidence?: string }[] } };
    const check = async (body: object) => {
      expect((await call(srv.base, who.operator, 'POST', 'audit/run', body)).status).toBe(202);
      await waitFor(async () => (await call(srv.base, who.viewer, 'GET', 'audit')).json.running === null, 3000, 'the check to finish');
      return (await call(srv.base, who.viewer, 'GET', 'audit')).json as View;
    };
    const one = await check({ profile: 'quick', probe: 'headers.csp', route: '/api/status' });
    expect(srv.audit!.runs.at(-1)).toEqual({ profile: 'quick', actor: 'operator', scope: { probes: ['headers.csp'], routes: ['/api/status'] } });
    expect(one.check.scope).toEqual({ probes: ['headers.csp'], routes: ['/api/status'] });
    expect(one.check.findings).toEqual([]);
    const every = await check({ profile: 'quick', probe: 'headers.csp' });
    expect(every.check.scope).toEqual({ probes: ['headers.csp'], routes: null });
    expect(every.check.findings.map((f) => f.target)).toEqual(['GET /', expect.stringMatching(/^GET \//)]);
    for (const f of every.check.findings) expect(f).not.toHaveProperty('evidence');
    expect(every.last).toEqual(lastBefore);
    expect(srv.oplog!.find('audit.run', 'ok').map((e) => e.target)).toEqual(expect.arrayContaining(['quick headers.csp /api/status', 'quick headers.csp']));
  });

  it('shows evidence to operators but not viewers, grades the report and raises alarms', async () => {
    const v = (await call(srv.base, who.viewer, 'GET', 'audit')).json as { findings: Record<string, unknown>[]; last: { grade: string; counts: Record<string, number> } };
    expect(v.findings).toHaveLength(2);
    for (const f of v.findings) expect(f).not.toHaveProperty('evidence');
    expect(v.last.grade).toBe('D');
    expect(v.last.counts).toMatchObject({ high: 1, low: 1 });
    const o = (await call(srv.base, who.operator, 'GET', 'audit')).json as { findings: Record<string, unknown>[] };
    expect(o.findings[0].evidence).toContain('HTTP/1.1 200 OK');
    const ov = (await call(srv.base, who.viewer, 'GET', 'overview')).json as { audit: { alarms: { fingerprint: string; evidence?: string }[] } };
    expect(ov.audit.alarms.map((f) => f.fingerprint)).toEqual(['a'.repeat(64)]);
    expect(ov.audit.alarms[0]).not.toHaveProperty('evidence');
  });

  it('downloads the report as JSON and SARIF for operators', async () => {
    const j = await call(srv.base, who.operator, 'GET', 'audit/report?format=json');
    expect(j.status).toBe(200);
    expect(j.headers.get('content-disposition')).toMatch(/^attachment; filename="moat-audit-\d+T?\d*\.json"$/);
    expect((j.json as { findings: unknown[] }).findings).toHaveLength(2);
    const s = await call(srv.base, who.operator, 'GET', 'audit/report?format=sarif');
    expect(s.headers.get('content-type')).toBe('application/sarif+json');
    const sarif = s.json as { version: string; runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; level: string; partialFingerprints: Record<string, string> }[] }[] };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results.map((r) => [r.ruleId, r.level])).toEqual([['headers.csp', 'error'], ['headers.csp', 'note']]);
    expect(sarif.runs[0].results[0].partialFingerprints.moatFingerprint).toBe('a'.repeat(64));
    expect((await call(srv.base, who.operator, 'GET', 'audit/report?format=xml')).status).toBe(400);
  });

  it('lets an admin waive a finding with a reason and an expiry in the coming year', async () => {
    const fp = 'a'.repeat(64);
    expect((await call(srv.base, who.admin, 'POST', 'audit/waive', { fingerprint: fp, reason: 'accepted', expires: '2000-01-01' })).status).toBe(400);
    expect((await call(srv.base, who.admin, 'POST', 'audit/waive', { fingerprint: 'c'.repeat(64), reason: 'x', expires: new Date(Date.now() + 86_400_000).toISOString() })).status).toBe(404);
    const ok = await call(srv.base, who.admin, 'POST', 'audit/waive', { fingerprint: fp, reason: 'accepted for the lab', expires: new Date(Date.now() + 7 * 86_400_000).toISOString() });
    expect(ok.status).toBe(200);
    expect(srv.audit!.waived).toEqual([expect.objectContaining({ fingerprint: fp, actor: 'admin', reason: 'accepted for the lab' })]);
    expect(srv.oplog!.find('audit.waive').map((e) => e.outcome)).toEqual(['denied', 'failed', 'failed', 'ok']);
    const ov = (await call(srv.base, who.viewer, 'GET', 'overview')).json as { audit: { alarms: unknown[]; last: { grade: string } } };
    expect(ov.audit.alarms).toEqual([]);
    expect(ov.audit.last.grade).toBe('B');
  });
});

describe('credentials through the API', () => {
  it('lists accounts without secrets, rotates a device token once and revokes at once', async () => {
    const list = await call(srv.base, who.admin, 'GET', 'credentials');
    expect(list.text).not.toMatch(/scrypt|"hash"|"token"/);
    expect((list.json as { accounts: { name: string; kind: string }[] }).accounts.map((a) => `${a.name}:${a.kind}`)).toEqual(['admin:user', 'operator:user', 'sensor-1:device', 'viewer:user']);
    const bearer = (t: string) => fetch(`${srv.base}/_moat/api/overview`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.status);
    expect(await bearer(acc.deviceToken)).toBe(200);
    const rot = await call(srv.base, who.admin, 'POST', 'credentials/rotate', { name: 'sensor-1' });
    expect(rot.status).toBe(200);
    const token = String(rot.json.token);
    expect(await bearer(acc.deviceToken)).toBe(401);
    expect(await bearer(token)).toBe(200);
    expect((await call(srv.base, who.admin, 'POST', 'credentials/rotate', { name: 'viewer' })).status).toBe(400);
    expect((await call(srv.base, who.admin, 'POST', 'credentials/revoke', { name: 'admin' })).status).toBe(409);
    expect((await call(srv.base, who.admin, 'POST', 'credentials/revoke', { name: HOSTILE })).status).toBe(400);
    expect((await call(srv.base, who.admin, 'POST', 'credentials/revoke', { name: 'sensor-1' })).status).toBe(200);
    expect(await bearer(token)).toBe(401);
    const ops = srv.oplog!.entries.filter((e) => e.action.startsWith('credential.') && e.actor === 'admin' && e.outcome !== 'denied');
    expect(ops.map((e) => [e.action, e.outcome, e.target])).toEqual([
      ['credential.rotate', 'ok', 'sensor-1'], ['credential.rotate', 'failed', 'viewer'], ['credential.revoke', 'failed', 'admin'],
      ['credential.revoke', 'failed', HOSTILE], ['credential.revoke', 'ok', 'sensor-1'],
    ]);
    expect(JSON.stringify(srv.oplog!.entries)).not.toContain(token);
  });
});

describe('security events', () => {
  it('lists recent events and streams new ones as server-sent events with heartbeats', async () => {
    const ac = new AbortController();
    const res = await fetch(`${srv.base}/_moat/api/events/stream`, { headers: { cookie: who.viewer.cookie }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    const reader = res.body!.getReader();
    let text = '';
    const pump = (async () => { for (;;) { const { value, done } = await reader.read(); if (done) break; text += Buffer.from(value).toString(); } })().catch(() => {});
    await fetch(`${srv.base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'nobody-here', password: 'wrong password!' }) });
    await waitFor(() => text.includes('"reason":"login_failed"') && text.includes(': heartbeat'), 3000, 'the event and a heartbeat on the stream');
    const m = /id: (\d+)\nevent: security\ndata: (\{.*"login_failed".*\})\n\n/.exec(text);
    expect(JSON.parse(m![2])).toMatchObject({ kind: 'auth', reason: 'login_failed', user: '(unknown account)', client: '127.0.0.1' });
    const list = await call(srv.base, who.viewer, 'GET', 'events');
    expect((list.json as { events: { reason: string }[] }).events.some((e) => e.reason === 'login_failed')).toBe(true);
    ac.abort();
    await pump;
    // Once the client is gone the next heartbeat fails and the stream's place is free again.
    await waitFor(async () => ((await call(srv.base, who.viewer, 'GET', 'overview')).json as { streams: { open: number } }).streams.open === 0, 3000, 'the stream to end');
  });

  it('bounds the number of live streams', async () => {
    const acs = [new AbortController(), new AbortController()];
    const open = await Promise.all(acs.map((ac) => fetch(`${srv.base}/_moat/api/events/stream`, { headers: { cookie: who.viewer.cookie }, signal: ac.signal })));
    expect(open.map((r) => r.status)).toEqual([200, 200]);
    const third = await call(srv.base, who.viewer, 'GET', 'events/stream');
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('10');
    for (const ac of acs) ac.abort();
    await waitFor(async () => ((await call(srv.base, who.viewer, 'GET', 'overview')).json as { streams: { open: number } }).streams.open === 0, 3000, 'the streams to end');
  });
});

describe('not configured', () => {
  it('answers 404 for the audit, the operation log and credentials when they are absent', async () => {
    const bare = await startDashboard({ users: acc.file, audit: null, oplog: null });
    try {
      const admin = await login(bare.base, 'admin');
      for (const path of ['audit', 'oplog']) {
        const r = await call(bare.base, admin, 'GET', path);
        expect(r.status, path).toBe(404);
        expect(r.json.reason).toBe(`${path}_not_configured`);
      }
      expect((await call(bare.base, admin, 'POST', 'audit/run', { profile: 'quick' })).status).toBe(404);
      const f = await call(bare.base, admin, 'GET', 'features');
      expect(f.json).toMatchObject({ audit: false, oplog: false, credentials: true, role: 'admin' });
      expect(((await call(bare.base, admin, 'GET', 'overview')).json as { audit: unknown }).audit).toBeNull();
    } finally {
      await bare.close();
    }
  });
});
