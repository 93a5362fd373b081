// The self-audit (host/audit/): findings on a deliberately broken app, none of medium or above on
// the demo, exactly the expected ones on a mutated config; no state route ever runs, nothing
// persists, a live server is untouched; statuses across runs, waivers, alarms; SARIF structure.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../host/config.ts';
import { startFromConfig, type Running } from '../host/serve.ts';
import { UserStore } from '../host/auth/users.ts';
import { generateDevCert } from '../host/cert.ts';
import type { MoatConfig } from '../host/types.ts';
import { runAudit } from '../host/audit/run.ts';
import { AuditService } from '../host/audit/service.ts';
import { formatSarif } from '../host/audit/format-sarif.ts';
import { formatText } from '../host/audit/format-text.ts';
import { evidence, mask, EVIDENCE_MAX } from '../host/audit/evidence.ts';
import { PROBES } from '../host/audit/probes/index.ts';
import type { Finding, Report } from '../host/audit/types.ts';
import { applyState, emptyState } from '../host/audit/state.ts';
import { Limiter, AuditAborted, BudgetExhausted } from '../host/audit/limiter.ts';
import { fingerprintOf } from '../host/audit/evidence.ts';
import { createVulnerableApp, type VulnerableApp } from './fixtures/audit/vulnerable-app.ts';
import { configText } from './helpers/raw-http.ts';

const LOGS_OFF: MoatConfig['log'] = { access: { path: null, format: 'common' }, error: { path: null, level: 'error' }, security: { path: null } };
const tmp = mkdtempSync(join(tmpdir(), 'moat-audit-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function demoConfig(): MoatConfig {
  const cfg = loadConfig();
  cfg.web.listen = [{ scheme: 'http', host: '127.0.0.1', port: 0 }];
  cfg.log = LOGS_OFF;
  return cfg;
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const atOrAbove = (f: Finding, s: string) => ['critical', 'high', 'medium', 'low', 'info'].indexOf(f.severity) <= ['critical', 'high', 'medium', 'low', 'info'].indexOf(s);

describe('the vulnerable fixture app (quick profile)', () => {
  let app: VulnerableApp;
  let report: Report;
  let usersBefore: string;
  beforeAll(async () => {
    app = await createVulnerableApp();
    usersBefore = sha(app.usersFile);
    report = await runAudit(app.config, { profile: 'quick', handlers: app.handlers });
  }, 30_000);
  afterAll(() => app.cleanup());

  const has = (probe: string, target: string, severity: string) =>
    report.findings.find((f) => f.probe === probe && f.target === target && f.severity === severity);

  it.each([
    ['xss-reflected', 'xss', 'GET /hello', 'high'],
    ['ssti', 'ssti', 'GET /greet', 'critical'],
    ['injection', 'injection', 'GET /items', 'high'],
    ['injection', 'injection', 'POST /api/search', 'high'],
    ['path-traversal', 'path-traversal', 'GET /download', 'critical'],
    ['cors', 'cors', 'GET /cors', 'high'],
    ['trace', 'trace', 'TRACE /trace', 'medium'],
    ['info-leak', 'info-leak', 'GET /boom', 'medium'],
    ['credentials', 'credentials', 'auth.users: admin', 'critical'],
    ['credentials', 'credentials', 'auth.users: legacy', 'medium'],
  ])('%s flags %s on %s as %s', (probe, cls, target, severity) => {
    const f = has(probe, target, severity);
    expect(f, JSON.stringify(report.findings.map((x) => [x.probe, x.target, x.severity]))).toBeDefined();
    expect(f!.class).toBe(cls);
    expect(f!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(f!.recommendation.length).toBeGreaterThan(10);
  });

  it('finds nothing on the header-echo route: the module refuses CR/LF in application fields', async () => {
    expect(report.findings.filter((f) => f.target === 'GET /echo-header')).toEqual([]);
    expect(report.findings.filter((f) => f.class === 'crlf')).toEqual([]);
    // The probe did reach it: the same request straight to a server is refused with a 500.
    const r = await startFromConfig(app.config, { handlers: app.handlers });
    try {
      const res = await fetch(`http://127.0.0.1:${r.server.port}/echo-header?v=a%0d%0aX-Injected:%201`);
      expect(res.status).toBe(500);
      expect(res.headers.get('x-injected')).toBeNull();
      expect(await res.text()).toContain('response_refused');
    } finally { await r.close(200); }
  });

  it('finds the guards in place: roles refuse anonymous and viewer callers, CSRF refuses cross-site requests', () => {
    const runs = Object.fromEntries(report.probes.map((p) => [p.id, p]));
    expect(runs['access-control'].requests).toBeGreaterThanOrEqual(3);       // viewer login, 401, 403
    expect(runs.csrf.requests).toBeGreaterThanOrEqual(8);
    expect(report.findings.filter((f) => f.class === 'authz' || f.class === 'csrf' || f.class === 'smuggling' || f.class === 'limits')).toEqual([]);
  });

  it('never ran a state-changing handler, left no sentinel and did not touch the live users file', () => {
    expect(app.calls).toEqual({ settings: 0, reset: 0 });
    expect(readdirSync(app.dir).filter((n) => n.includes('sentinel'))).toEqual([]);
    expect(sha(app.usersFile)).toBe(usersBefore);
    expect(report.requests).toBeLessThanOrEqual(150);
    expect(report.probes.filter((p) => p.skipped)).toEqual([]);
    expect(report.shadow.defense).toMatch(/rule_count 0/);
  });

  it('keeps evidence bounded and masks secrets', () => {
    for (const f of report.findings) {
      expect(Buffer.byteLength(f.evidence)).toBeLessThanOrEqual(EVIDENCE_MAX);
      expect(f.evidence).not.toMatch(/moat-session=[A-Za-z0-9]/);
      expect(f.evidence).not.toMatch(/X-Moat-Audit: [^*\s]/i);
      expect(f.evidence).not.toMatch(/"password":"[^*]/);
    }
    expect(mask('Cookie: moat-session=abc\nAuthorization: Bearer moat_xyz\n{"password":"hunter22"}')).toBe('Cookie: ***\nAuthorization: ***\n{"password":"***"}');
    expect(Buffer.byteLength(evidence('x'.repeat(5000)))).toBeLessThanOrEqual(EVIDENCE_MAX);
  });

  it('writes SARIF 2.1.0 with every result pointing at a rule', () => {
    const s = formatSarif(report) as any;
    expect(s.$schema).toMatch(/sarif-2\.1\.0/);
    expect(s.version).toBe('2.1.0');
    const driver = s.runs[0].tool.driver;
    expect(driver.name).toBe('moat-audit');
    const ids = new Set<string>();
    for (const rule of driver.rules) {
      expect(typeof rule.id).toBe('string');
      expect(typeof rule.name).toBe('string');
      expect(rule.shortDescription.text.length).toBeGreaterThan(0);
      expect(rule.helpUri).toMatch(/^https:\/\/cwe\.mitre\.org\/data\/definitions\/\d+\.html$/);
      expect(rule.properties.tags.some((t: string) => /^external\/cwe\/cwe-\d+$/.test(t))).toBe(true);
      expect(['error', 'warning', 'note']).toContain(rule.defaultConfiguration.level);
      ids.add(rule.id);
    }
    expect(s.runs[0].results.length).toBe(report.findings.length);
    for (const r of s.runs[0].results) {
      expect(ids.has(r.ruleId)).toBe(true);
      expect(driver.rules[r.ruleIndex].id).toBe(r.ruleId);
      expect(['error', 'warning', 'note']).toContain(r.level);
      expect(r.message.text.length).toBeGreaterThan(0);
      expect(r.locations[0].logicalLocations[0].name.length).toBeGreaterThan(0);
      expect(r.partialFingerprints['moatAuditFingerprint/v1']).toMatch(/^[0-9a-f]{64}$/);
    }
    const crit = s.runs[0].results.find((r: any) => r.ruleId === 'ssti');
    expect(crit.level).toBe('error');
    expect(s.runs[0].results.find((r: any) => r.ruleId === 'trace').level).toBe('warning');
  });

  it('prints a text table grouped by severity, worst first', () => {
    const text = formatText(report);
    const order = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'].map((h) => text.indexOf(`\n${h} (`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(report.grade).toBe('F');
  });
});

describe('clean and mutated configs', () => {
  it('the demo config gives no finding of medium or above', async () => {
    const r = await runAudit(demoConfig(), { profile: 'quick' });
    expect(r.findings.filter((f) => atOrAbove(f, 'medium')), JSON.stringify(r.findings, null, 1)).toEqual([]);
    expect(r.aborted).toBeNull();
    expect(r.probes.filter((p) => p.skipped)).toEqual([]);
    expect(r.probes.map((p) => p.id).sort()).toEqual(PROBES.map((p) => p.id).sort());
  }, 30_000);

  it('CORS * with credentials in web.headers and a 60 s parse timeout give exactly the expected findings', async () => {
    const cfg = parseConfig(configText(`headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Credentials': 'true' }, timeouts: { parse: '60 secs' }`), join(tmp, 'mutated.json5'));
    const r = await runAudit(cfg, { profile: 'quick' });
    const got = r.findings.map((f) => `${f.probe} ${f.target} ${f.severity}`).sort();
    expect(got).toEqual([
      'cors web.headers medium',
      'slow-client-timeouts web.timeouts.parse medium',
      'tls web.listen low',
    ]);
    expect(r.notes.some((n) => /parse timeout not measured/.test(n))).toBe(true);
  }, 30_000);

  it('flags web.hosts ["*"] (any Host served), and not the default "auto" nor a list of names', async () => {
    const open = parseConfig(configText(`hosts: ['*']`), join(tmp, 'any-host.json5'));
    const r = await runAudit(open, { profile: 'quick', only: ['unknown-host'] });
    expect(r.findings.map((f) => `${f.probe} ${f.target} ${f.severity}`)).toEqual(['unknown-host web.hosts low']);
    expect(r.findings[0].recommendation).toMatch(/web\.hosts holds "\*"/);
    expect(r.findings[0].evidence).toContain('evil.example');
    for (const hosts of [`['auto']`, `['device.example']`]) {
      const ok = await runAudit(parseConfig(configText(`hosts: ${hosts}`), join(tmp, 'hosts.json5')), { profile: 'quick', only: ['unknown-host'] });
      expect(ok.findings, hosts).toEqual([]);
      expect(ok.probes[0]).toMatchObject({ id: 'unknown-host', requests: 2 });   // Host field and absolute-form target both refused
    }
  }, 30_000);

  it('reports a module that enforces looser limits, timeouts and caps than the config says', async () => {
    const cfg = demoConfig();
    cfg.web.timeouts.parse = 1000;
    const r = await runAudit(cfg, { profile: 'quick', only: ['oversize-limits', 'slow-client-timeouts', 'connection-caps'], moduleOverrides: { uri_bytes: 12 * 1024, timeout_parse_ms: 20_000, client_connections: 40 } });
    const got = r.findings.map((f) => `${f.probe} ${f.target} ${f.severity}`).sort();
    expect(got).toEqual(['connection-caps web.limits.clientConnections medium', 'oversize-limits web.limits.uri medium', 'slow-client-timeouts web.timeouts.parse medium']);
  }, 30_000);

  it('quick judges a 5 s parse timeout from the module\'s config words, without waiting it out', async () => {
    const r = await runAudit(demoConfig(), { profile: 'quick', only: ['slow-client-timeouts'], moduleOverrides: { timeout_parse_ms: 0xffffffff } });
    expect(r.findings.map((f) => `${f.probe} ${f.target} ${f.severity}`)).toEqual(['slow-client-timeouts web.timeouts.parse medium']);
    expect(r.findings[0].observed).toMatch(/timeout_parse_ms = never/);
    expect(r.probes[0].requests).toBe(0);                     // no live wait: the words prove it
    const ok = await runAudit(demoConfig(), { profile: 'quick', only: ['slow-client-timeouts'] });
    expect(ok.findings).toEqual([]);
    expect(ok.notes.some((n) => /not measured live.*timeout_parse_ms word is 5000 ms/.test(n))).toBe(true);
  }, 30_000);

  it('reviews the config settings the shadow cannot measure', async () => {
    const cfg = parseConfig(configText(`limits: { clientRequests: 0, connections: 6, clientConnections: 6 }, sessions: { timeout: 'infinite' }`, 'moat: { defense: { rules: [] } },'), join(tmp, 'lax.json5'));
    const r = await runAudit(cfg, { profile: 'quick', only: ['config-review'] });
    expect(r.findings.map((f) => `${f.target} ${f.severity}`).sort()).toEqual([
      'moat.defense.rules medium', 'web.limits.clientConnections medium', 'web.limits.clientRequests low', 'web.sessions.timeout low',
    ]);
    expect(r.requests).toBe(1);                               // the throwaway admin's login only
  });

  it('stays within the request budget and says so', async () => {
    const r = await runAudit(demoConfig(), { profile: 'quick', maxRequests: 12, only: ['request-smuggling', 'oversize-limits', 'security-headers'] });
    expect(r.requests).toBeLessThanOrEqual(12);
    expect(r.probes.some((p) => /budget/.test(p.skipped ?? ''))).toBe(true);
    expect(r.notes.some((n) => /budget/.test(n))).toBe(true);
  }, 30_000);
});

describe('leftovers of an interrupted run', () => {
  it('removes an old sentinel beside the document root, never a young one or a look-alike file of the user', async () => {
    const root = mkdtempSync(join(tmp, 'left-'));
    mkdirSync(join(root, 'site'));
    writeFileSync(join(root, 'site', 'index.html'), '<p>hi</p>');
    const old = Date.now() / 1000 - 2 * 3600;
    const stale = 'moat-audit-sentinel-0123456789ab.txt', young = 'moat-audit-sentinel-ba9876543210.txt', mine = 'moat-audit-sentinel-aaaaaaaaaaaa.txt';
    writeFileSync(join(root, stale), `moat-sentinel-${'c'.repeat(32)}`);
    writeFileSync(join(root, young), `moat-sentinel-${'d'.repeat(32)}`);
    writeFileSync(join(root, mine), 'my own notes');
    utimesSync(join(root, stale), old, old);
    utimesSync(join(root, mine), old, old);
    const cfg = parseConfig(`{ web: { listen: ['http://127.0.0.1:0'], documents: './site', routes: [{ match: '/', methods: ['GET', 'HEAD'], handler: 'file' }] },
      log: { access: { path: null }, error: { path: null }, security: { path: null } } }`, join(root, 'moat.json5'));
    const r = await runAudit(cfg, { profile: 'quick', only: ['path-traversal'] });
    expect(r.findings).toEqual([]);
    expect(r.notes.some((n) => /removed 1 sentinel file/.test(n))).toBe(true);
    expect(readdirSync(root).sort()).toEqual([mine, young, 'site'].sort());   // and this run's own sentinel is gone too
    expect(readFileSync(join(root, mine), 'utf8')).toBe('my own notes');
  }, 30_000);
});

describe('https listeners', () => {
  it('checks TLS versions, suites, the certificate and HSTS on a shadow https listener', async () => {
    const soon = await generateDevCert({ out: join(tmp, 'certs-soon'), days: 10 });
    const both = "['http://127.0.0.1:0', 'https://127.0.0.1:0']";
    const tlsText = (c: { certPath: string; keyPath: string }, hsts: string) => `tls: { certificate: ${JSON.stringify(c.certPath)}, key: ${JSON.stringify(c.keyPath)}${hsts} },`;
    const weak = parseConfig(configText(`timeouts: { parse: '1 sec' }`, tlsText(soon, ''), both), join(tmp, 'tls.json5'));
    const r = await runAudit(weak, { profile: 'quick' });
    expect(r.shadow.endpoints.map((e) => e.scheme)).toEqual(['http', 'https']);
    expect(r.findings.map((f) => `${f.probe} ${f.target} ${f.severity}`).sort()).toEqual([
      'security-headers tls.hsts medium',
      'tls tls.certificate medium',
    ]);
    expect(r.findings.find((f) => f.target === 'tls.certificate')!.title).toMatch(/expires in (9|10) days/);

    const good = await generateDevCert({ out: join(tmp, 'certs-good'), days: 365 });
    const only = parseConfig(configText(`timeouts: { parse: '1 sec' }`, tlsText(good, ", hsts: { maxAge: '1 year' }"), "['https://127.0.0.1:0']"), join(tmp, 'tls2.json5'));
    const r2 = await runAudit(only, { profile: 'quick' });
    expect(r2.findings.map((f) => `${f.probe} ${f.target} ${f.severity}`)).toEqual([]);
    expect(r2.probes.find((p) => p.id === 'request-smuggling')!.requests).toBeGreaterThan(0);
  }, 40_000);
});

describe('a live server during a run', () => {
  let live: Running;
  let cfg: MoatConfig;
  beforeAll(async () => {
    cfg = demoConfig();
    cfg.auth.users = join(tmp, 'live-users.json');
    const store = UserStore.load(cfg.auth.users);
    await store.addUser('owner', 'admin', 'a long live passphrase');
    store.save();
    live = await startFromConfig(cfg);
  });
  afterAll(() => live.close(200));

  it('keeps its client table, bans, sessions, metrics and users file', async () => {
    const base = `http://127.0.0.1:${live.server.port}`;
    const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'owner', password: 'a long live passphrase' }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    await fetch(`${base}/nope`);
    const sessions = async () => /moat_sessions_active (\d+)/.exec(await (await fetch(`${base}/metrics`, { headers: { cookie } })).text())?.[1];
    expect(await sessions()).toBe('1');
    const snap = () => ({
      clients: live.server.clients().map((c) => ({ address: c.address, offenses: c.offenses, banned: c.bannedMs > 0, delayed: c.delayedMs > 0, counts: c.counts.map((x) => x.current + x.previous) })),
      ok: live.server.metrics.value('requests', '200'), nf: live.server.metrics.value('requests', '404'), bad: live.server.metrics.value('requests', '400'),
      refused: live.server.metrics.value('refused', 'client_connection_limit'),
    });
    const users = sha(cfg.auth.users!);
    const before = snap();
    const r = await runAudit(cfg, { profile: 'quick' });
    expect(r.requests).toBeGreaterThan(30);
    expect(snap()).toEqual(before);
    expect(sha(cfg.auth.users!)).toBe(users);
    expect(await sessions()).toBe('1');
    const me = await fetch(`${base}/auth/session`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(Object.keys(JSON.parse(readFileSync(cfg.auth.users!, 'utf8')).users)).toEqual(['owner']);
  }, 40_000);
});

describe('AuditService: statuses, alarms, waivers', () => {
  let app: VulnerableApp;
  beforeAll(async () => { app = await createVulnerableApp(); });
  afterAll(() => app.cleanup());

  it('new → open → fixed → regressed, with one alarm per fingerprint per day', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const alarms: string[] = [];
    const statePath = join(tmp, 'state.json');
    const make = () => new AuditService({ config: app.config, handlers: app.handlers, statePath, now: () => now, audit: { only: ['xss-reflected'] }, onAlarm: (f) => alarms.push(`${f.status} ${f.target}`) });
    const svc = make();
    const a = svc.run('quick', 'tester'), b = svc.run('quick', 'other');
    expect(b).toBe(a);
    const r1 = await a;
    const xss = () => svc.last()!.findings.find((f) => f.probe === 'xss-reflected');
    expect(r1.actor).toBe('tester');
    expect(xss()?.status).toBe('new');
    expect(alarms).toEqual(['new GET /hello']);
    const fp = xss()!.fingerprint;

    now += 3600_000;
    await svc.run();
    expect(xss()?.status).toBe('open');
    expect(xss()?.fingerprint).toBe(fp);

    app.broken.xss = false;
    const r3 = await svc.run();
    expect(xss()).toBeUndefined();
    expect(r3.fixed.map((f) => f.fingerprint)).toEqual([fp]);

    app.broken.xss = true;
    await make().run();                                  // a fresh service reads the state file
    expect(JSON.parse(readFileSync(statePath, 'utf8')).findings[fp].status).toBe('regressed');
    expect(alarms).toEqual(['new GET /hello']);         // the same day: no second alarm

    app.broken.xss = false;
    await svc.run();
    app.broken.xss = true;
    now += 25 * 3600_000;
    await svc.run();
    expect(xss()?.status).toBe('regressed');
    expect(alarms).toEqual(['new GET /hello', 'regressed GET /hello']);
  }, 40_000);

  it('a waiver by an admin hides a finding until it expires', async () => {
    let now = Date.now();
    const svc = new AuditService({ config: app.config, handlers: app.handlers, now: () => now, audit: { only: ['trace'] } });
    const r1 = await svc.run();
    const f = r1.findings.find((x) => x.probe === 'trace')!;
    expect(f.status).toBe('new');
    expect(r1.summary.medium).toBe(1);
    expect(() => svc.waive(f.fingerprint, { name: 'op', role: 'operator' }, 'because', now + 3600_000)).toThrow(/admin/);
    expect(() => svc.waive(f.fingerprint, { name: 'root', role: 'admin' }, '', now + 3600_000)).toThrow(/reason/);
    expect(() => svc.waive(f.fingerprint, { name: 'root', role: 'admin' }, 'lab device', now - 1)).toThrow(/future/);
    svc.waive(f.fingerprint, { name: 'root', role: 'admin' }, 'lab device, TRACE needed by the test rig', now + 3600_000);
    const r2 = await svc.run();
    const w = r2.findings.find((x) => x.fingerprint === f.fingerprint)!;
    expect(w.status).toBe('waived');
    expect(w.waiver).toMatchObject({ actor: 'root', reason: 'lab device, TRACE needed by the test rig' });
    expect(r2.summary.medium).toBe(0);
    now += 2 * 3600_000;
    const r3 = await svc.run();
    expect(r3.findings.find((x) => x.fingerprint === f.fingerprint)!.status).toBe('open');
    expect(r3.summary.medium).toBe(1);
  }, 30_000);

  it('a targeted check runs one probe on one route and leaves the last whole report in place', async () => {
    const svc = new AuditService({ config: app.config, handlers: app.handlers });
    const whole = await new AuditService({ config: app.config, handlers: app.handlers, audit: { only: ['trace', 'xss-reflected'] } }).run();
    expect(whole.findings.map((f) => f.probe).sort()).toEqual(expect.arrayContaining(['trace', 'xss-reflected']));
    const xssRoute = app.config.web.routes.find((r) => whole.findings.some((f) => f.probe === 'xss-reflected' && f.target.startsWith(`GET ${r.match}`)))!;
    expect(xssRoute).toBeDefined();
    const check = await svc.run('quick', 'op', { probes: ['xss-reflected'], routes: [xssRoute.match] });
    expect(check.scope).toEqual({ probes: ['xss-reflected'], routes: [xssRoute.match] });
    expect(check.probes.map((p) => p.id)).toEqual(['xss-reflected']);
    expect(check.notes.join('\n')).not.toMatch(/no session for the throwaway admin/);   // login lies outside the scope
    expect(check.findings.length).toBeGreaterThan(0);
    for (const f of check.findings) expect(f.target.startsWith(`GET ${xssRoute.match}`)).toBe(true);
    expect(svc.lastCheck()).toBe(check);
    expect(svc.last()).toBeNull();
    const other = await svc.run('quick', 'op', { probes: ['xss-reflected'], routes: ['/'] });
    expect(other.findings).toEqual([]);
    expect(svc.catalog().find((p) => p.id === 'xss-reflected')?.profiles).toContain('quick');
  }, 30_000);

  it('schedules with unref\'d timers and a first quick run soon after start', async () => {
    const svc = new AuditService({ config: app.config, handlers: app.handlers, audit: { only: ['trace'] } });
    const stop = svc.schedule({ firstQuickMs: 10, quickDailyMs: 86_400_000, fullWeeklyMs: 7 * 86_400_000 });
    const deadline = Date.now() + 10_000;
    while (!svc.last() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    stop();
    expect(svc.last()?.actor).toBe('schedule');
    expect(svc.last()?.profile).toBe('quick');
  }, 15_000);
});

describe('state and restraint, without a server', () => {
  const finding = (probe: string, target: string): Finding => ({
    probe, class: probe, cwe: 89, severity: 'high', confidence: 'medium', title: 't', target, expected: 'e', observed: 'o', evidence: '',
    recommendation: 'r', fingerprint: fingerprintOf(probe, target, 'kind'),
  });
  const report = (profile: 'quick' | 'full', findings: Finding[], ran: string[]): Report => ({
    tool: 'moat-audit', version: '1', profile, actor: 'x', startedAt: '', finishedAt: '', durationMs: 0, requests: 0,
    limits: { maxRequests: 1, perSecond: 1, maxConnections: 1 }, aborted: null,
    shadow: { endpoints: [], defense: '', logs: '', users: '' },
    probes: ran.map((id) => ({ id, targets: 1, requests: 1, ms: 1, findings: 0 })),
    findings: findings.map((f) => ({ ...f, status: 'new' as const, firstSeen: '' })), fixed: [], notes: [],
    summary: { critical: 0, high: 0, medium: 0, low: 0, info: 0 }, grade: 'A',
  });

  it('a quick run, or a run whose probe did not finish, does not mark a finding fixed', () => {
    const st = emptyState();
    const f = finding('injection', 'GET /items');
    expect(applyState(report('full', [f], ['injection']), st).findings[0].status).toBe('new');
    expect(applyState(report('quick', [], ['injection']), st).fixed).toEqual([]);
    expect(applyState(report('full', [], []), st).fixed).toEqual([]);
    const done = applyState(report('full', [], ['injection']), st);
    expect(done.fixed.map((x) => x.fingerprint)).toEqual([f.fingerprint]);
    expect(applyState(report('quick', [f], ['injection']), st).findings[0].status).toBe('regressed');
  });

  it('a route-scoped check marks fixed only findings on its route', () => {
    const st = emptyState();
    const a = finding('injection', 'GET /items?q=1'), b = finding('injection', 'GET /users'), c = finding('injection', 'web.headers');
    applyState(report('full', [a, b, c], ['injection']), st);
    const scoped = { ...report('full', [], ['injection']), scope: { probes: ['injection'], routes: ['/items'] } };
    expect(applyState(scoped, st).fixed.map((x) => x.target)).toEqual(['GET /items?q=1']);
    expect(st.findings[b.fingerprint].status).toBe('new');
    expect(st.findings[c.fingerprint].status).toBe('new');
    const everyRoute = { ...report('full', [], ['injection']), scope: { probes: ['injection'], routes: null } };
    expect(applyState(everyRoute, st).fixed.map((x) => x.target).sort()).toEqual(['GET /users', 'web.headers']);
  });

  it('fingerprints ignore nonces and evidence: probe, target and kind only', () => {
    expect(fingerprintOf('xss-reflected', 'GET /a', 'reflected-query')).toBe(fingerprintOf('xss-reflected', 'GET /a', 'reflected-query'));
    expect(fingerprintOf('xss-reflected', 'GET /a', 'reflected-query')).not.toBe(fingerprintOf('xss-reflected', 'GET /b', 'reflected-query'));
  });

  it('the limiter paces requests, stops at the budget and aborts after repeated errors', async () => {
    const l = new Limiter({ maxRequests: 5, perSecond: 50, maxErrors: 3 });
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await l.take();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(70);           // 5 at 50/s: 4 gaps of 20 ms
    await expect(l.take()).rejects.toBeInstanceOf(BudgetExhausted);
    const unpaced = new Limiter({ maxRequests: 3, perSecond: 0, maxErrors: 3 });   // rate 0: budget only
    await unpaced.take(2); await unpaced.take();
    await expect(unpaced.take()).rejects.toBeInstanceOf(BudgetExhausted);
    const e = new Limiter({ maxRequests: 100, perSecond: 1000, maxErrors: 3 });
    e.outcome(false); e.outcome(false); e.outcome(true); e.outcome(false); e.outcome(false);
    await e.take();
    e.outcome(false);
    await expect(e.take()).rejects.toBeInstanceOf(AuditAborted);
  });
});
