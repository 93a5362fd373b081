// One audit run: start the shadow, log the throwaway admin in, run every probe of the profile
// within the request budget and rate, and collect findings. State (new/open/fixed…) is applied
// afterwards by state.ts; this file knows nothing of earlier runs.
import { randomBytes } from 'node:crypto';
import type { Handler, MoatConfig } from '../types.ts';
import type { ModuleConfig } from '../module.ts';
import type { Finding, FindingDraft, Probe, ProbeContext, ProbeRun, Profile, Report, Endpoint } from './types.ts';
import { SEVERITIES, gradeOf } from './types.ts';
import { PROBES } from './probes/index.ts';
import { startShadow, SHADOW_DEFENSE, SHADOW_LOGS } from './shadow.ts';
import { routeTargets } from './targets.ts';
import { buildRequest, exchangeRaw } from './http.ts';
import { Limiter, BudgetExhausted, AuditAborted } from './limiter.ts';
import { fingerprintOf } from './evidence.ts';
import { sessionFor } from './session.ts';

export const AUDIT_VERSION = '1';
export const PROFILE_BUDGET: Record<Profile, number> = { quick: 150, full: 1500 };
/** Requests per second; 0 = one at a time, unpaced (the quick profile's 150 requests to a loopback shadow). */
export const PROFILE_RATE: Record<Profile, number> = { quick: 0, full: 200 };
/** An unpaced run takes at most about this share of an event loop that is busy with other work. */
export const BUSY_SHARE = 0.05;

export interface AuditOptions {
  profile?: Profile;
  actor?: string;
  /** Application handlers, as given to startFromConfig. */
  handlers?: Record<string, Handler>;
  moduleOverrides?: Partial<ModuleConfig>;
  maxRequests?: number;
  perSecond?: number;
  /** Unpaced runs: the share of a busy event loop (a loaded live server beside) the audit may take; 0 = never yield. */
  share?: number;
  /** Transport errors in a row that abort the run. */
  maxErrors?: number;
  /** Only these probe ids (default: every probe of the profile). */
  only?: string[];
  /** Only the routes with these `match` prefixes (default: every route); a route-scoped run skips config-only targets' verdicts on fixes (see state.ts). */
  routes?: string[];
  probes?: readonly Probe[];
}

export async function runAudit(cfg: MoatConfig, opts: AuditOptions = {}): Promise<Report> {
  const profile = opts.profile ?? 'quick';
  const started = Date.now();
  const limiter = new Limiter({ maxRequests: opts.maxRequests ?? PROFILE_BUDGET[profile], perSecond: opts.perSecond ?? PROFILE_RATE[profile], maxErrors: opts.maxErrors ?? 8, share: opts.share ?? BUSY_SHARE });
  const shadow = await startShadow(cfg, { handlers: opts.handlers, moduleOverrides: opts.moduleOverrides });
  const notes: string[] = [];
  const runs: ProbeRun[] = [];
  const findings: Finding[] = [];
  try {
    const http = shadow.endpoints.find((e) => e.scheme === 'http') ?? shadow.endpoints[0];
    const https = shadow.endpoints.find((e) => e.scheme === 'https') ?? null;
    // Each probe gets its own view of the context, so its requests are counted to it even when
    // a background probe runs at the same time.
    const contextFor = (rec: ProbeRun | null): ProbeContext => ({
      profile, config: cfg, endpoints: shadow.endpoints, http, https,
      routes, accounts: shadow.accounts, adminCookie: admin?.cookie ?? null, adminCsrf: admin?.csrf ?? null, token: shadow.token,
      nonce: (bytes = 8) => randomBytes(bytes).toString('hex'),
      async request(spec) {
        const ep: Endpoint = spec.endpoint ?? http;
        await take(rec, 1);
        const request = buildRequest(spec, ep, shadow.token);
        const x = await exchangeRaw(ep, request, { expect: 1, waitMs: spec.waitMs ?? 3000, head: spec.method === 'HEAD' });
        limiter.outcome(!x.error);
        return { ...x, res: x.responses[0] ?? null, request };
      },
      async raw(data, o = {}) {
        await take(rec, o.count ?? 1);
        const x = await exchangeRaw(o.endpoint ?? http, data, o);
        limiter.outcome(!x.error);
        return x;
      },
      spend: (n) => take(rec, n),
      finding(probe: Probe, d: FindingDraft): Finding {
        return {
          probe: probe.id, class: probe.class, cwe: d.cwe ?? probe.cwe, severity: d.severity ?? probe.severity, confidence: d.confidence,
          title: d.title, target: d.target, expected: d.expected, observed: d.observed, evidence: d.evidence,
          recommendation: d.recommendation, fingerprint: fingerprintOf(probe.id, d.target, d.kind),
        };
      },
      note: (t) => { notes.push(t); },
      moduleWords: () => shadow.words(),
    });
    const take = async (rec: ProbeRun | null, n: number) => { await limiter.take(n); if (rec) rec.requests += n; };
    const every = routeTargets(shadow.config);
    const routes = opts.routes ? every.filter((r) => opts.routes!.includes(r.route.match)) : every;
    let admin: { cookie: string; csrf: string | null } | null = null;
    // The login route may lie outside a route-scoped check's routes.
    admin = await sessionFor({ ...contextFor(null), routes: every }, shadow.accounts.admin).catch(() => null);
    if (!admin) notes.push('no session for the throwaway admin: role-bound routes and CSRF checks are limited');

    const selected = (opts.probes ?? PROBES).filter((p) => p.profiles.includes(profile) && (!opts.only || opts.only.includes(p.id)));
    const runOne = async (p: Probe): Promise<void> => {
      const t0 = Date.now();
      const rec: ProbeRun = { id: p.id, targets: 0, requests: 0, ms: 0, findings: 0 };
      runs.push(rec);
      const ctx = contextFor(rec);
      try {
        rec.targets = p.targets(ctx).length;
        const got = await p.run(ctx);
        findings.push(...got);
        rec.findings = got.length;
      } catch (e) {
        if (e instanceof BudgetExhausted || e instanceof AuditAborted) rec.skipped = e.message;
        else { rec.skipped = `probe failed: ${(e as Error).message}`; notes.push(`${p.id}: ${(e as Error).message}`); }
      }
      rec.ms = Date.now() - t0;
    };
    // A background probe holds a second connection; a device with very few slots gets them one at a time.
    const beside = cfg.web.limits.connections >= 8;
    const background = selected.filter((p) => p.background && beside).map(runOne);
    for (const p of selected.filter((x) => !x.background || !beside)) {
      if (limiter.aborted) { runs.push({ id: p.id, targets: 0, requests: 0, ms: 0, findings: 0, skipped: `aborted: ${limiter.aborted}` }); continue; }
      await runOne(p);
    }
    await Promise.all(background);
    if (limiter.yieldedMs >= 1) notes.push(`the process was busy: the run yielded ${Math.round(limiter.yieldedMs)} ms to other work (at most ${(limiter.opts.share ?? 0) * 100} % of a busy event loop)`);
    if (limiter.used >= limiter.opts.maxRequests) notes.push(`request budget (${limiter.opts.maxRequests}) reached; later probes were cut short`);
  } finally {
    await shadow.close();
  }
  const finished = Date.now();
  const summary = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Report['summary'];
  for (const f of findings) summary[f.severity]++;
  return {
    tool: 'moat-audit', version: AUDIT_VERSION, profile, actor: opts.actor ?? 'system',
    ...(opts.only || opts.routes ? { scope: { probes: opts.only ?? null, routes: opts.routes ?? null } } : {}),
    startedAt: new Date(started).toISOString(), finishedAt: new Date(finished).toISOString(), durationMs: finished - started,
    requests: limiter.used,
    limits: { maxRequests: limiter.opts.maxRequests, perSecond: limiter.opts.perSecond, maxConnections: cfg.web.limits.clientConnections + 1 },
    aborted: limiter.aborted,
    shadow: { endpoints: shadow.endpoints, defense: SHADOW_DEFENSE, logs: SHADOW_LOGS, users: 'a copy of the users file in a temp folder, with a throwaway admin, a throwaway viewer and a revoked throwaway device; deleted after the run' },
    probes: runs,
    findings: findings.map((f) => ({ ...f, status: 'new' as const, firstSeen: new Date(started).toISOString() })),
    fixed: [],
    notes,
    summary,
    grade: gradeOf(summary),
  };
}
