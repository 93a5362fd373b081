// The self-audit through the dashboard: one run at a time (a run sends real requests at a shadow
// instance, so two at once would only fight over the budget), waivers, and report downloads.
import type { AppReply } from '../types.ts';
import type { AuditLike, Profile, ReportLike } from './deps.ts';
import { readBody, type Call } from './context.ts';
import { roleAtLeast } from '../auth/roles.ts';
import { effectiveReport, findingView, summary } from './audit-view.ts';
import { toSarif } from './sarif.ts';
import { STRICT, problem, reply, text } from './reply.ts';

const FINGERPRINT = /^[A-Za-z0-9:_-]{8,128}$/;
const MAX_WAIVER_MS = 366 * 86_400_000;

export class AuditDesk {
  private running: { profile: Profile | null; actor: string | null; startedAt: string | null; probe?: string; route?: string } | null = null;
  private error: string | null = null;

  /** `routes`: the `match` prefixes of the configured routes, which a targeted check may name. */
  constructor(private readonly audit: AuditLike, private readonly sarif: ((r: ReportLike) => object) | null = null,
    private readonly routes: () => readonly string[] = () => []) {}

  /** The run this desk started, or one the audit runs by itself (its schedule). */
  private current() {
    return this.running ?? (this.audit.running ? { profile: null, actor: null, startedAt: null } : null);
  }

  view(call: Call): AppReply {
    const evidence = roleAtLeast(call.caller.role, 'operator');
    const r = effectiveReport(this.audit);
    const c = this.audit.lastCheck?.() ?? null;
    return reply(200, {
      running: this.current(), error: this.error, evidence,
      last: summary(r),
      findings: r ? r.findings.map((f) => findingView(f, evidence)) : [],
      check: c ? { ...summary(c), scope: c.scope ?? null, findings: c.findings.map((f) => findingView(f, evidence)) } : null,
      catalog: this.audit.catalog?.() ?? [],
      routes: this.routes(),
    });
  }

  async run(call: Call): Promise<AppReply> {
    const got = await readBody(call, 'audit.run');
    if (!got.ok) return got.reply;
    const body = got.body;
    const profile = body.profile as Profile;
    const probe = body.probe === undefined ? undefined : text(body, 'probe', 40);
    const route = body.route === undefined ? undefined : typeof body.route === 'string' && body.route.length <= 200 ? body.route : null;
    if (profile !== 'quick' && profile !== 'full') {
      call.record('audit.run', 'failed', undefined, { reason: 'bad profile' });
      return problem(400, 'expected {"profile": "quick" | "full", "probe"?: a probe of that profile, "route"?: a configured route\'s match}');
    }
    const what = [profile, probe, route].filter((x) => typeof x === 'string').join(' ');
    const refused = call.deny(profile === 'full' ? 'admin' : 'operator', 'audit.run', what);
    if (refused) return refused;
    const badProbe = probe === null || (probe !== undefined && !(this.audit.catalog?.() ?? []).some((p) => p.id === probe && p.profiles.includes(profile)));
    const badRoute = route === null || (route !== undefined && !this.routes().includes(route));
    if (badProbe || badRoute || probe === null || route === null) {     // the nulls again only narrow the types below
      const bad = badProbe ? 'unknown probe' : 'unknown route';
      call.record('audit.run', 'failed', what, { reason: bad });
      return problem(400, `${bad}: "probe" must be a probe of the ${profile} profile (GET audit → catalog), "route" a configured route's match (GET audit → routes)`);
    }
    if (this.current()) {
      call.record('audit.run', 'failed', profile, { reason: 'already running' });
      return problem(409, 'an audit is already running');
    }
    const started = { profile, actor: call.caller.name, startedAt: new Date().toISOString(), ...(probe ? { probe } : {}), ...(route !== undefined ? { route } : {}) };
    this.running = started;
    this.error = null;
    const scope = probe || route !== undefined ? { ...(probe ? { probes: [probe] } : {}), ...(route !== undefined ? { routes: [route] } : {}) } : undefined;
    let pending: Promise<unknown>;
    try {
      pending = scope ? this.audit.run(profile, call.caller.name, scope) : this.audit.run(profile, call.caller.name);
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(
      () => { if (this.running === started) this.running = null; },
      (e: unknown) => {
        if (this.running === started) this.running = null;
        this.error = `audit run failed: ${(e as Error)?.message ?? String(e)}`;
        call.record('audit.run', 'failed', what, { reason: this.error });
      },
    );
    call.record('audit.run', 'ok', what);
    return reply(202, { started: true, ...started });
  }

  async waive(call: Call): Promise<AppReply> {
    const refused = call.deny('admin', 'audit.waive');
    if (refused) return refused;
    const got = await readBody(call, 'audit.waive');
    if (!got.ok) return got.reply;
    const body = got.body;
    const fingerprint = text(body, 'fingerprint', 128), reason = text(body, 'reason', 200), expires = text(body, 'expires', 40);
    const at = expires === null ? NaN : Date.parse(expires);
    const now = Date.now();
    if (!fingerprint || !FINGERPRINT.test(fingerprint) || !reason || !(at > now && at <= now + MAX_WAIVER_MS)) {
      call.record('audit.waive', 'failed', fingerprint ?? undefined, { reason: 'bad request' });
      return problem(400, 'expected {"fingerprint", "reason" (1-200 characters), "expires" (a date in the coming year)}');
    }
    if (!this.audit.last()?.findings.some((f) => f.fingerprint === fingerprint)) {
      call.record('audit.waive', 'failed', fingerprint, { reason: 'no such finding' });
      return problem(404, 'no finding with that fingerprint in the last report');
    }
    const expiresAt = new Date(at).toISOString();
    try {
      await this.audit.waive(fingerprint, call.caller.name, reason, expiresAt);
    } catch (e) {
      call.record('audit.waive', 'failed', fingerprint, { reason: (e as Error).message });
      return problem(400, (e as Error).message);
    }
    call.record('audit.waive', 'ok', fingerprint, { note: reason, expiresAt });
    return reply(200, { waived: fingerprint, expiresAt });
  }

  download(call: Call): AppReply {
    const refused = call.deny('operator', 'audit.report');
    if (refused) return refused;
    const format = call.params.get('format') ?? 'json';
    if (format !== 'json' && format !== 'sarif') return problem(400, 'format must be json or sarif');
    const r = this.audit.last();
    if (!r) return problem(404, 'no audit report yet');
    const stamp = (r.finishedAt ?? new Date().toISOString()).replace(/[^0-9T]/g, '').slice(0, 15);
    const body = JSON.stringify(format === 'sarif' ? (this.sarif ?? toSarif)(r) : r, null, 2);
    return {
      status: 200,
      fields: [['Content-Type', format === 'sarif' ? 'application/sarif+json' : 'application/json; charset=utf-8'], ...STRICT,
        ['Content-Disposition', `attachment; filename="moat-audit-${stamp}.${format === 'sarif' ? 'sarif' : 'json'}"`]],
      body,
    };
  }
}
