// Helpers for the dashboard tests: a real server (startFromConfig) with the dashboard routes and
// handlers, a users file with one account per role and a device, stand-ins for the self-audit and
// the operation log (the dashboard only knows them structurally), and logins over plain HTTP.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HANDLERS, validateConfig } from '../../host/config.ts';
import { startFromConfig, type Running } from '../../host/serve.ts';
import { UserStore } from '../../host/auth/users.ts';
import { DASHBOARD_ROUTES, dashboardHandlers } from '../../host/dashboard/api.ts';
import type { AuditLike, FindingLike, OpEntryLike, OpLogLike, Profile, ReportLike } from '../../host/dashboard/deps.ts';

export const PASSWORD = 'correct horse battery staple';
export const HOSTILE = '<img src=x onerror=alert(1)>';

export interface Accounts { dir: string; file: string; deviceToken: string }

/** viewer, operator, admin (all with PASSWORD) and device "sensor-1" (role viewer). */
export async function makeAccounts(): Promise<Accounts> {
  const dir = mkdtempSync(join(tmpdir(), 'moat-dash-'));
  const file = join(dir, 'users.json');
  const store = UserStore.load(file);
  for (const role of ['viewer', 'operator', 'admin'] as const) await store.addUser(role, role, PASSWORD);
  const deviceToken = store.addDevice('sensor-1', 'viewer');
  store.save();
  return { dir, file, deviceToken };
}

export class MemoryOpLog implements OpLogLike {
  readonly entries: (OpEntryLike & { seq: number; time: string })[] = [];
  append(e: OpEntryLike) {
    const r = { ...e, seq: this.entries.length + 1, time: new Date().toISOString() };
    this.entries.push(r);
    return r;
  }
  records(from?: number, limit = 100) {
    return from === undefined ? this.entries.slice(-limit) : this.entries.filter((r) => r.seq >= from).slice(0, limit);
  }
  find(action: string, outcome?: string) {
    return this.entries.filter((r) => r.action === action && (outcome === undefined || r.outcome === outcome));
  }
}

export function finding(over: Partial<FindingLike> = {}): FindingLike {
  return {
    probe: 'headers.csp', class: 'headers', cwe: 693, severity: 'high', confidence: 'high', title: 'Weak Content-Security-Policy',
    target: 'GET /', expected: "default-src 'self'", observed: 'none', evidence: 'HTTP/1.1 200 OK\r\nServer: x',
    recommendation: 'Set a strict policy.', fingerprint: 'a'.repeat(64), status: 'new', ...over,
  };
}

/** An audit stand-in: run() takes `runMs` and then reports `findings`; waivers apply from the next run, as in host/audit. */
export class FakeAudit implements AuditLike {
  report: ReportLike | null = null;
  check: ReportLike | null = null;
  runs: { profile: Profile; actor: string; scope?: { probes?: string[]; routes?: string[] } }[] = [];
  waived: { fingerprint: string; actor: string; reason: string; expiresAt: string }[] = [];
  constructor(public findings: FindingLike[], public runMs = 300) {}
  async run(profile: Profile, actor: string, scope?: { probes?: string[]; routes?: string[] }): Promise<ReportLike> {
    this.runs.push({ profile, actor, ...(scope ? { scope } : {}) });
    const startedAt = new Date().toISOString();
    await new Promise((r) => setTimeout(r, this.runMs));
    const w = this.waivers();
    const findings = this.findings.map((f) => (Object.hasOwn(w, f.fingerprint) ? { ...f, status: 'waived', waiver: w[f.fingerprint] } : { ...f }));
    const r: ReportLike = { findings, profile, actor, startedAt, finishedAt: new Date().toISOString(), aborted: null, version: '0.1.0' };
    if (!scope) return (this.report = r);
    // A check sees the findings of its probes on its routes only.
    r.scope = { probes: scope.probes ?? null, routes: scope.routes ?? null };
    r.findings = findings.filter((f) => (!scope.probes || scope.probes.includes(f.probe)) && (!scope.routes || scope.routes.some((m) => f.target.startsWith(`GET ${m}`))));
    return (this.check = r);
  }
  last() { return this.report; }
  lastCheck() { return this.check; }
  catalog() {
    return [
      { id: 'headers.csp', class: 'headers', title: 'Security headers', profiles: ['quick', 'full'] as Profile[] },
      { id: 'smuggling', class: 'smuggling', title: 'Request smuggling', profiles: ['full'] as Profile[] },
    ];
  }
  waive(fingerprint: string, actor: string, reason: string, expiresAt: string) {
    this.waived.push({ fingerprint, actor, reason, expiresAt });
  }
  waivers() {
    return Object.fromEntries(this.waived.map((w) => [w.fingerprint, { actor: w.actor, reason: w.reason, expiresAt: w.expiresAt }]));
  }
}

export interface DashServer { running: Running; base: string; port: number; oplog: MemoryOpLog | null; audit: FakeAudit | null; close(): Promise<void> }

export interface DashOptions {
  users: string;
  audit?: FakeAudit | null;
  oplog?: MemoryOpLog | null;
  /** web.sessions.timeout, e.g. '2 secs'. */
  sessionTimeout?: string;
  /** Bad requests from one client before a ban. */
  banAfter?: number;
  heartbeatMs?: number;
  maxStreams?: number;
}

export async function startDashboard(o: DashOptions): Promise<DashServer> {
  const routes = [
    { match: '/api/status', methods: ['GET'], handler: 'status' },
    { match: '/auth/login', methods: ['POST'], handler: 'login' },
    { match: '/auth/logout', methods: ['POST'], handler: 'logout' },
    { match: '/auth/session', methods: ['GET'], handler: 'session' },
    ...DASHBOARD_ROUTES.map((r) => ({ match: r.match, handler: r.handler, ...(r.methods ? { methods: r.methods } : {}), ...(r.role ? { role: r.role } : {}) })),
  ];
  const cfg = validateConfig({
    web: {
      listen: ['http://127.0.0.1:0'], documents: null, routes,
      limits: { connections: 200, clientConnections: 150 },
      sessions: o.sessionTimeout ? { timeout: o.sessionTimeout } : {},
    },
    log: { access: { path: null }, error: { path: null }, security: { path: null } },
    auth: { users: o.users },
    // Only the flood rule: the role tests provoke 403s on purpose and must not get the browser banned.
    moat: { defense: { rules: [{ counter: 'badRequests', over: o.banAfter ?? 20, per: '1 min', remedy: 'ban', for: '5 mins' }] } },
  }, { baseDir: tmpdir(), handlers: [...DEFAULT_HANDLERS, 'dashboard-api', 'dashboard-ui'] });
  let running: Running | undefined;
  const oplog = o.oplog === undefined ? new MemoryOpLog() : o.oplog;
  const audit = o.audit === undefined ? new FakeAudit([finding()]) : o.audit;
  const handlers = dashboardHandlers({
    server: () => running?.server, config: () => cfg, users: o.users, audit, oplog, startedAt: Date.now(),
    heartbeatMs: o.heartbeatMs ?? 1000, maxStreams: o.maxStreams,
  });
  running = await startFromConfig(cfg, { handlers });
  const port = running.server.port;
  const r = running;
  return { running: r, base: `http://127.0.0.1:${port}`, port, oplog, audit, close: () => r.close(300) };
}

export interface Login { cookie: string; csrf: string }

export async function login(base: string, user: string, password = PASSWORD): Promise<Login> {
  const res = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
  if (res.status !== 200) throw new Error(`login ${user}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { csrf: string };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  return { cookie, csrf: body.csrf };
}

/** A dashboard API call as a logged-in user (the CSRF token on POSTs unless `csrf: false`). */
export async function call(base: string, who: Login | null, method: 'GET' | 'POST', path: string, body?: unknown, opts: { csrf?: boolean; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (who) headers.cookie = who.cookie;
  if (method === 'POST') {
    headers['content-type'] ??= 'application/json';
    if (who && opts.csrf !== false) headers['x-csrf-token'] ??= who.csrf;
  }
  const res = await fetch(`${base}/_moat/api/${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json: json as Record<string, unknown> & { [k: string]: unknown } };
}
