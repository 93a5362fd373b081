// The audit as a service inside a running server (or a dashboard): one run at a time, the last
// report, waivers, a schedule (quick daily, full weekly, a first quick shortly after start), and
// an alarm for high or critical findings that are new or regressed — at most once per fingerprint
// per day — which the server logs as a security event and counts in its metrics.
import type { Handler, MoatConfig } from '../types.ts';
import type { ModuleConfig } from '../module.ts';
import type { Profile, Report, ReportedFinding } from './types.ts';
import { runAudit, type AuditOptions } from './run.ts';
import { PROBES } from './probes/index.ts';
import { addWaiver, applyState, emptyState, loadState, saveState, type AuditState, type Waiver, type WaiverActor } from './state.ts';

export const ALARM_EVERY_MS = 86_400_000;

export interface AuditServiceOptions {
  config: MoatConfig;
  handlers?: Record<string, Handler>;
  moduleOverrides?: Partial<ModuleConfig>;
  /** State file; null or left out = in memory only. */
  statePath?: string | null;
  /** A high or critical finding that is new or regressed (at most once per fingerprint per day). */
  onAlarm?: (finding: ReportedFinding, report: Report) => void;
  /** Budget and rate overrides for every run. */
  audit?: Omit<AuditOptions, 'profile' | 'actor' | 'handlers' | 'moduleOverrides'>;
  now?: () => number;
}

/** A targeted run: some probe ids and/or some routes (by their `match` prefix). */
export interface Scope { probes?: string[]; routes?: string[] }

export interface Schedule { quickDailyMs?: number; fullWeeklyMs?: number; firstQuickMs?: number }

export class AuditService {
  private state: AuditState;
  private current: Promise<Report> | null = null;
  private lastReport: Report | null = null;
  private lastScoped: Report | null = null;
  private timers: NodeJS.Timeout[] = [];
  private readonly now: () => number;
  private config: MoatConfig;

  constructor(private readonly o: AuditServiceOptions) {
    this.now = o.now ?? Date.now;
    this.config = o.config;
    this.state = o.statePath ? loadState(o.statePath) : emptyState();
  }

  /** Runs an audit (or a targeted check with `scope`); while one runs, a second call gets the running one. */
  run(profile: Profile = 'quick', actor = 'system', scope?: Scope): Promise<Report> {
    if (this.current) return this.current;
    const p = this.execute(profile, actor, scope).finally(() => { this.current = null; });
    this.current = p;
    return p;
  }

  get running(): boolean { return this.current !== null; }

  /**
   * The server now runs `cfg` (a reload): later runs audit it, and a quick run starts at once — or
   * right after the run in progress, which still audits the config it started with. Resolves to
   * that quick run's report.
   */
  configChanged(cfg: MoatConfig): Promise<Report> {
    this.config = cfg;
    if (!this.current) return this.run('quick', 'config-change');
    return this.current.catch(() => null).then(() => this.run('quick', 'config-change'));
  }

  /** The last whole run's report (a targeted check does not replace it: its grade covers one slice). */
  last(): Report | null { return this.lastReport; }

  /** The last targeted check's report. */
  lastCheck(): Report | null { return this.lastScoped; }

  /** The probes a targeted check may name. */
  catalog(): { id: string; class: string; title: string; profiles: Profile[] }[] {
    const only = this.o.audit?.only;
    return (this.o.audit?.probes ?? PROBES).filter((p) => !only || only.includes(p.id)).map((p) => ({ id: p.id, class: p.class, title: p.title, profiles: [...p.profiles] }));
  }

  /** Waives a finding until `expiresAt` (only an admin; a reason is required). Applies from the next report. */
  waive(fingerprint: string, actor: string | WaiverActor, reason: string, expiresAt: Date | string | number): Waiver {
    const w = addWaiver(this.state, fingerprint, actor, reason, expiresAt, this.now());
    this.persist();
    return w;
  }

  waivers(): Record<string, Waiver> { return { ...this.state.waivers }; }

  /** Quick daily and full weekly runs (timers unref'd, so they never keep the process alive). */
  schedule(s: Schedule = {}): () => void {
    this.stop();
    const quick = s.quickDailyMs ?? ALARM_EVERY_MS, full = s.fullWeeklyMs ?? 7 * ALARM_EVERY_MS;
    const quiet = (p: Profile) => { this.run(p, 'schedule').catch(() => { /* a failed run is retried by the next tick */ }); };
    const first = setTimeout(() => quiet('quick'), s.firstQuickMs ?? 60_000);
    const q = setInterval(() => quiet('quick'), quick);
    const f = setInterval(() => quiet('full'), full);
    for (const t of [first, q, f]) { t.unref(); this.timers.push(t); }
    return () => this.stop();
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  private async execute(profile: Profile, actor: string, scope?: Scope): Promise<Report> {
    const raw = await runAudit(this.config, {
      ...this.o.audit, profile, actor, handlers: this.o.handlers, moduleOverrides: this.o.moduleOverrides,
      ...(scope?.probes ? { only: scope.probes } : {}), ...(scope?.routes ? { routes: scope.routes } : {}),
    });
    // Reload: a waiver may have been added by another process since.
    if (this.o.statePath) this.state = loadState(this.o.statePath);
    const now = this.now();
    const report = applyState(raw, this.state, now);
    const alarms: ReportedFinding[] = [];
    for (const f of report.findings) {
      if ((f.severity !== 'high' && f.severity !== 'critical') || (f.status !== 'new' && f.status !== 'regressed')) continue;
      const lastAt = this.state.alarms[f.fingerprint];
      if (lastAt !== undefined && now - lastAt < ALARM_EVERY_MS) continue;
      this.state.alarms[f.fingerprint] = now;
      alarms.push(f);
    }
    this.persist();
    if (scope) this.lastScoped = report; else this.lastReport = report;
    for (const f of alarms) {
      try { this.o.onAlarm?.(f, report); } catch { /* an alarm sink must not fail the run */ }
    }
    return report;
  }

  private persist(): void {
    if (this.o.statePath) saveState(this.o.statePath, this.state);
  }
}
