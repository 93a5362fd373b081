// The dashboard's parts on their own: the metric sample ring, the event ring and its stream bounds,
// certificate days, grading and alarms, SARIF, and the browser bundle (rebuilt when stale, never
// parsing data as markup, within its size budget).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SampleRing, readCounters } from '../host/dashboard/samples.ts';
import { EventHub } from '../host/dashboard/events.ts';
import { certificate } from '../host/dashboard/overview.ts';
import { alarms, effectiveReport, grade, findingView } from '../host/dashboard/audit-view.ts';
import { toSarif } from '../host/dashboard/sarif.ts';
import { dashboardHandlers } from '../host/dashboard/api.ts';
import { buildDashboard, isStale } from '../host/dashboard/build.mjs';
import { generateDevCert } from '../host/cert.ts';
import { loadConfig } from '../host/config.ts';
import { finding } from './helpers/dashboard.ts';

describe('sample ring', () => {
  it('keeps a bounded number of samples and turns counter differences into rates', () => {
    const ring = new SampleRing(3);
    for (let i = 0; i < 5; i++) ring.add({ time: i * 10_000, requests: i * 100, serverErrors: i * 5, clientErrors: i * 10, bans: i });
    expect(ring.length).toBe(3);
    // Oldest kept: t=20 s, 200 requests. Now: t=60 s, 600 requests.
    const r = ring.rates({ time: 60_000, requests: 600, serverErrors: 30, clientErrors: 60, bans: 6 });
    expect(r).toEqual({ windowMs: 40_000, requestsPerMin: 600, errorRate: 20 / 400, clientErrorRate: 40 / 400, bans: 4, series: [100, 100, 200] });
    expect(new SampleRing().rates({ time: 1, requests: 1, serverErrors: 0, clientErrors: 0, bans: 0 }).windowMs).toBe(0);
  });

  it('sums the per-status counters', () => {
    const counts: Record<string, number> = { '200': 7, '404': 2, '503': 1 };
    const s = readCounters({ value: (f, l) => (f === 'requests' ? counts[l] ?? 0 : f === 'defense' && l === 'ban' ? 3 : 0) }, 5);
    expect(s).toEqual({ time: 5, requests: 10, serverErrors: 1, clientErrors: 2, bans: 3 });
  });
});

describe('event hub', () => {
  const ev = (i: number) => ({ time: i, kind: 'reject', reason: i % 2 ? 'bad_request' : 'tls_handshake_timeout', code: 1, slot: 0, client: '127.0.0.1' });

  it('keeps the newest events in a fixed ring and counts TLS failures', () => {
    const hub = new EventHub({ ringSize: 3 });
    for (let i = 1; i <= 5; i++) hub.push(ev(i));
    expect(hub.recent().map((e) => e.id)).toEqual([3, 4, 5]);
    expect(hub.recent(4).map((e) => e.id)).toEqual([5]);
    expect(hub.recent(0, 1).map((e) => e.id)).toEqual([5]);
    expect(hub.tlsFailures).toBe(2);
  });

  it('bounds live streams, replays after the last id, sends heartbeats and frees a closed stream', async () => {
    const hub = new EventHub({ maxStreams: 1, heartbeatMs: 20 });
    hub.push(ev(1));
    hub.push(ev(2));
    const s = hub.open(1)!;
    expect(hub.open(0)).toBeNull();
    hub.push(ev(3));
    await new Promise((r) => setTimeout(r, 60));
    let text = '';
    for (let c = s.read(); c !== null; c = s.read()) text += c.toString();
    expect(text.match(/^id: \d+$/gm)).toEqual(['id: 2', 'id: 3']);
    expect(text).toContain(': heartbeat');
    s.destroy();
    await new Promise((r) => setImmediate(r));
    expect(hub.streamCount).toBe(0);
    expect(hub.open(0)).not.toBeNull();
  });
});

describe('dashboard timers', () => {
  it('stop sampling the server once the signal aborts (a closed server is not kept alive by its dashboard)', async () => {
    let calls = 0;
    const closed = new AbortController();
    dashboardHandlers({ server: () => { calls++; return null; }, config: () => loadConfig(), users: null, startedAt: Date.now(), sampleMs: 10, signal: closed.signal });
    await new Promise((r) => setTimeout(r, 120));
    expect(calls).toBeGreaterThan(3);
    closed.abort();
    const at = calls;
    await new Promise((r) => setTimeout(r, 150));
    expect(calls).toBe(at);
  });
});

describe('certificate', () => {
  it('reports the days left on the configured certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moat-dash-cert-'));
    try {
      const c = await generateDevCert({ out: dir, days: 30 });
      const cfg = { ...loadConfig(), tls: { certificate: c.certPath, key: c.keyPath, hsts: null } };
      const r = certificate(cfg, Date.now()) as { daysLeft: number };
      expect(r.daysLeft).toBeGreaterThanOrEqual(29);
      expect(r.daysLeft).toBeLessThanOrEqual(30);
      expect((certificate(cfg, Date.now() + 40 * 86_400_000) as { daysLeft: number }).daysLeft).toBeLessThan(0);
      expect(certificate({ ...cfg, tls: null }, Date.now())).toBeNull();
      expect(certificate({ ...cfg, tls: { ...cfg.tls, certificate: join(dir, 'missing.crt') } }, Date.now())).toHaveProperty('error');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('audit views', () => {
  it('grades by the worst open finding, alarms on new or regressed high and critical ones, hides evidence', () => {
    const r = { findings: [finding({ severity: 'critical', status: 'waived' }), finding({ severity: 'high', status: 'open' }), finding({ severity: 'medium', status: 'regressed' })] };
    expect(grade(r)).toBe('D');
    expect(grade({ findings: [] })).toBe('A');
    expect(grade({ findings: [], grade: 'B+' })).toBe('B+');
    expect(alarms(r)).toEqual([]);
    expect(alarms({ findings: [finding({ severity: 'critical', status: 'regressed' })] })).toHaveLength(1);
    expect(findingView(finding(), false)).not.toHaveProperty('evidence');
    expect(findingView(finding(), true)).toHaveProperty('evidence');
  });

  it('applies waivers made since the last report, unless they expired', () => {
    const report = { findings: [finding({ fingerprint: 'f1'.repeat(32) }), finding({ fingerprint: 'f2'.repeat(32) })] };
    const now = Date.parse('2030-01-01T00:00:00Z');
    const audit = {
      run: async () => report, last: () => report, waive: () => {},
      waivers: () => ({ ['f1'.repeat(32)]: { actor: 'admin', reason: 'ok', expiresAt: '2030-02-01T00:00:00Z' }, ['f2'.repeat(32)]: { actor: 'admin', reason: 'old', expiresAt: '2029-12-01T00:00:00Z' } }),
    };
    const r = effectiveReport(audit, now)!;
    expect(r.findings.map((f) => f.status)).toEqual(['waived', 'new']);
    expect(r.findings[0].waiver).toEqual({ actor: 'admin', reason: 'ok', expiresAt: '2030-02-01T00:00:00Z' });
    expect(report.findings[0].status).toBe('new');
    expect(effectiveReport({ ...audit, last: () => null })).toBeNull();
  });

  it('writes SARIF 2.1.0 with one rule per probe and waived findings suppressed', () => {
    const s = toSarif({ findings: [finding(), finding({ fingerprint: 'e'.repeat(64), status: 'waived', waiver: { actor: 'a', reason: 'lab only', expiresAt: '2099-01-01T00:00:00Z' } })] }) as {
      runs: { tool: { driver: { rules: unknown[] } }; results: { suppressions?: { justification: string }[] }[] }[];
    };
    expect(s.runs[0].tool.driver.rules).toHaveLength(1);
    expect(s.runs[0].results[0].suppressions).toBeUndefined();
    expect(s.runs[0].results[1].suppressions).toEqual([{ kind: 'external', justification: 'lab only' }]);
  });
});

describe('browser bundle', () => {
  it('is built when missing, never parses data as markup, and stays small', async () => {
    const out = mkdtempSync(join(tmpdir(), 'moat-dash-build-'));
    try {
      expect(isStale(out)).toBe(true);
      const size = await buildDashboard(out);
      expect(isStale(out)).toBe(false);
      const js = readFileSync(join(out, 'app.js'), 'utf8');
      expect(js.length).toBe(size);
      expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
      expect(gzipSync(js, { level: 9 }).length).toBeLessThan(12 * 1024);
      const html = readFileSync(join(out, 'index.html'), 'utf8');
      expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
