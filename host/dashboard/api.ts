// The operator dashboard's routes and handlers. The route guard already authenticated the caller
// (role viewer at least) and CSRF-checked every unsafe request; each endpoint here checks the role
// it needs itself, because the UI hiding a button is no protection. Every POST and every refusal
// goes to the operation log.
//
//   GET  features                 viewer    who is calling, what is configured (audit, oplog, credentials, tls)
//   GET  overview                 viewer    uptime, memory, connections, rates, TLS, audit grade and alarms
//   GET  events?since&limit       viewer    recent security events (a ring of 500)
//   GET  events/stream            viewer    the same, live, as server-sent events (Last-Event-ID or ?since)
//   GET  clients                  operator  the defense's client table
//   POST clients/unban {address}  operator
//   GET  audit                    viewer    last report (evidence for operator+), running run, error
//   POST audit/run {profile, probe?, route?}   operator for quick, admin for full; with a probe
//                                  and/or a route it is a targeted check (GET audit → check)
//   POST audit/waive {fingerprint, reason, expires}   admin
//   GET  audit/report?format=json|sarif   operator   as a download
//   GET  credentials              admin     accounts, never secrets
//   POST credentials/revoke {name}, credentials/rotate {name}   admin (rotate answers the new token once)
//   GET  oplog?from&limit         admin
import type { AppReply, AppRequest, Handler, RouteSpec } from '../types.ts';
import type { DashboardDeps, MoatServerLike } from './deps.ts';
import { makeCall, type Call } from './context.ts';
import { EventHub } from './events.ts';
import { SampleRing, readCounters } from './samples.ts';
import { overview } from './overview.ts';
import { listClients, unban } from './clients.ts';
import { AuditDesk } from './audit.ts';
import { effectiveReport } from './audit-view.ts';
import { changeAccount, listAccounts } from './credentials.ts';
import { uiHandler } from './assets.ts';
import { STRICT, problem, reply } from './reply.ts';
import { roleAtLeast, type Role } from '../auth/roles.ts';

export type { DashboardDeps } from './deps.ts';

export const DASHBOARD_BASE = '/_moat/';
const API = '/_moat/api/';

/** The routes a config needs for the dashboard (beside the usual /auth/login, /auth/logout, /auth/session). */
export const DASHBOARD_ROUTES: RouteSpec[] = [
  { match: API, methods: ['GET', 'HEAD', 'POST'], handler: 'dashboard-api', role: 'viewer' },
  // Public: the page, its script and stylesheet hold no data; everything else comes from the API.
  { match: DASHBOARD_BASE, methods: ['GET', 'HEAD'], handler: 'dashboard-ui', role: null },
];

interface Endpoint { need: Role; action: string; run(call: Call): AppReply | Promise<AppReply> }

export function dashboardHandlers(deps: DashboardDeps): Record<string, Handler> {
  const hub = new EventHub({ maxStreams: deps.maxStreams, heartbeatMs: deps.heartbeatMs });
  const samples = new SampleRing(60);
  const audit = deps.audit ? new AuditDesk(deps.audit, deps.sarif ?? null, () => deps.config().web.routes.map((r) => r.match)) : null;
  const oplog = deps.oplog ?? null;
  let oplogErrors = 0;

  // The server starts after its handlers exist: follow its events as soon as it is there.
  let attached: MoatServerLike | null = null;
  const attach = (): MoatServerLike | null => {
    if (attached) return attached;
    const s = deps.server() ?? null;
    if (s) {
      attached = s;
      s.watchSecurity(hub.push);
      clearInterval(waiting);
      samples.add(readCounters(s.metrics, Date.now()));
    }
    return s;
  };
  const waiting = setInterval(attach, 50);
  waiting.unref();
  const sampler = setInterval(() => { const s = attach(); if (s) samples.add(readCounters(s.metrics, Date.now())); }, deps.sampleMs ?? 10_000);
  sampler.unref();
  // A closed server's dashboard must not keep sampling it (nor keep it reachable): a process that
  // starts many servers — a shadow per audit run — would pile up timers.
  deps.signal?.addEventListener('abort', () => { clearInterval(waiting); clearInterval(sampler); }, { once: true });

  const server = (): MoatServerLike => {
    const s = attach();
    if (!s) throw new Error('dashboard: the server is not running');
    return s;
  };
  const notConfigured = (what: string) => problem(404, `${what}_not_configured`);

  const get: Record<string, Endpoint> = {
    features: { need: 'viewer', action: 'dashboard.features', run: (c) => reply(200, {
      user: c.caller.name, role: c.caller.role, audit: !!audit, oplog: !!oplog, credentials: !!deps.users, tls: !!deps.config().tls,
    }) },
    overview: { need: 'viewer', action: 'dashboard.overview', run: (c) => reply(200, {
      ...overview({
        server: attach(), cfg: deps.config(), startedAt: deps.startedAt, samples, tlsFailures: hub.tlsFailures,
        report: deps.audit ? effectiveReport(deps.audit) : null, auditConfigured: !!audit, evidence: roleAtLeast(c.caller.role, 'operator'),
      }),
      oplog: oplog ? { errors: oplogErrors } : null,
      streams: { open: hub.streamCount, limit: hub.maxStreams },
    }) },
    events: { need: 'viewer', action: 'events.list', run: (c) => {
      attach();
      const since = wholeNumber(c.params.get('since'), 0), limit = Math.min(wholeNumber(c.params.get('limit'), 200), 500);
      return reply(200, { events: hub.recent(since, limit), last: hub.lastId });
    } },
    'events/stream': { need: 'viewer', action: 'events.stream', run: (c) => {
      attach();
      const since = wholeNumber(c.req.header('last-event-id') ?? c.params.get('since'), hub.lastId);
      const stream = hub.open(since);
      if (!stream) return problem(503, 'too many live event streams', [['Retry-After', '10']]);
      return { status: 200, fields: [['Content-Type', 'text/event-stream; charset=utf-8'], ...STRICT], body: { stream } };
    } },
    clients: { need: 'operator', action: 'clients.list', run: () => listClients(server(), deps.config()) },
    audit: { need: 'viewer', action: 'audit.view', run: (c) => (audit ? audit.view(c) : notConfigured('audit')) },
    'audit/report': { need: 'viewer', action: 'audit.report', run: (c) => (audit ? audit.download(c) : notConfigured('audit')) },
    credentials: { need: 'admin', action: 'credential.list', run: () => (deps.users ? listAccounts(deps.users) : notConfigured('credentials')) },
    oplog: { need: 'admin', action: 'oplog.read', run: async (c) => {
      if (!oplog) return notConfigured('oplog');
      const from = c.params.get('from'), limit = Math.min(wholeNumber(c.params.get('limit'), 100), 1000) || 100;
      try {
        return reply(200, { records: await oplog.records(from ? wholeNumber(from, 1) || 1 : undefined, limit) });
      } catch (e) {
        return problem(500, `cannot read the operation log: ${(e as Error).message}`);
      }
    } },
  };
  const post: Record<string, Endpoint> = {
    'clients/unban': { need: 'operator', action: 'client.unban', run: (c) => unban(c, server()) },
    // The profile decides the role (quick: operator, full: admin), so the desk checks it.
    'audit/run': { need: 'viewer', action: 'audit.run', run: (c) => (audit ? audit.run(c) : notConfigured('audit')) },
    'audit/waive': { need: 'viewer', action: 'audit.waive', run: (c) => (audit ? audit.waive(c) : notConfigured('audit')) },
    'credentials/revoke': { need: 'admin', action: 'credential.revoke', run: (c) => (deps.users ? changeAccount(c, deps.users, 'revoke') : notConfigured('credentials')) },
    'credentials/rotate': { need: 'admin', action: 'credential.rotate', run: (c) => (deps.users ? changeAccount(c, deps.users, 'rotate') : notConfigured('credentials')) },
  };

  const api: Handler = async (req: AppRequest) => {
    if (!req.caller) return problem(401, 'authentication_required');
    const call = makeCall(req, req.caller, oplog, () => { oplogErrors++; });
    const at = req.path.indexOf(API);
    const sub = at < 0 ? '' : req.path.slice(at + API.length).replace(/\/+$/, '');
    const table = req.method === 'POST' ? post : req.method === 'GET' || req.method === 'HEAD' ? get : null;
    const ep = table && Object.hasOwn(table, sub) ? table[sub] : null;
    if (!ep) {
      if (req.method === 'POST') call.record('dashboard.unknown', 'failed', req.path);
      return problem(404, 'not_found');
    }
    const refused = call.deny(ep.need, ep.action);
    if (refused) return refused;
    return ep.run(call);
  };

  return { 'dashboard-api': api, 'dashboard-ui': uiHandler(DASHBOARD_BASE) };
}

function wholeNumber(v: string | null | undefined, fallback: number): number {
  if (v === null || v === undefined || !/^\d{1,15}$/.test(v)) return fallback;
  return Number(v);
}
