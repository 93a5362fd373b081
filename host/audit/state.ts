// Findings across runs: new → open while it stays, fixed when a run no longer sees it, regressed
// when it comes back after that; waived while an admin's waiver (reason, expiry) holds. Kept in a
// JSON state file (or only in memory), with the time of the last alarm per fingerprint.
import { readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import type { FindingStatus, Report, ReportedFinding, AuditSeverity, Profile } from './types.ts';
import { SEVERITIES, gradeOf } from './types.ts';

export interface Waiver { actor: string; reason: string; expiresAt: string; createdAt: string }

interface Tracked {
  /** Lifecycle status without waivers: new, open, fixed or regressed. */
  status: Exclude<FindingStatus, 'waived'>;
  firstSeen: string;
  lastSeen: string;
  probe: string;
  title: string;
  target: string;
  severity: AuditSeverity;
  /** Profile of the last run that saw it: a quick run cannot tell a full-only finding is fixed. */
  profile?: Profile;
}

export interface AuditState {
  version: 1;
  findings: Record<string, Tracked>;
  waivers: Record<string, Waiver>;
  /** Fingerprint → ms of the last alarm raised for it. */
  alarms: Record<string, number>;
}

export const emptyState = (): AuditState => ({ version: 1, findings: {}, waivers: {}, alarms: {} });

export function loadState(file: string): AuditState {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new Error(`audit state ${file}: ${(e as Error).message}`);
  }
  const v = JSON.parse(text) as Partial<AuditState>;
  if (v.version !== 1 || typeof v.findings !== 'object' || v.findings === null) throw new Error(`audit state ${file}: not a moat audit state file (version 1)`);
  return { version: 1, findings: v.findings, waivers: v.waivers ?? {}, alarms: v.alarms ?? {} };
}

/** Written atomically (temp file, then rename), mode 0600. */
export function saveState(file: string, state: AuditState): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function activeWaiver(state: AuditState, fingerprint: string, now: number): Waiver | null {
  const w = state.waivers[fingerprint];
  return w && Date.parse(w.expiresAt) > now ? w : null;
}

/** Gives each finding of `report` its status and fills report.fixed; updates `state` in place. */
export function applyState(report: Report, state: AuditState, now = Date.now()): Report {
  const at = new Date(now).toISOString();
  const present = new Set<string>();
  const findings: ReportedFinding[] = report.findings.map((f) => {
    present.add(f.fingerprint);
    const before = state.findings[f.fingerprint];
    let status: Tracked['status'];
    if (!before) status = 'new';
    else if (before.status === 'fixed') status = 'regressed';
    else status = 'open';
    const firstSeen = before?.firstSeen ?? at;
    state.findings[f.fingerprint] = { status, firstSeen, lastSeen: at, probe: f.probe, title: f.title, target: f.target, severity: f.severity, profile: report.profile };
    const w = activeWaiver(state, f.fingerprint, now);
    return { ...f, status: w ? 'waived' : status, firstSeen, ...(w ? { waiver: { actor: w.actor, reason: w.reason, expiresAt: w.expiresAt } } : {}) };
  });
  // Gone counts as fixed only when this run looked: the probe ran to the end, on a profile at
  // least as thorough as the one that found it, and (a route-scoped run) on the finding's route.
  const looked = new Set(report.probes.filter((p) => !p.skipped).map((p) => p.id));
  const fixed: Report['fixed'] = [];
  for (const [fp, t] of Object.entries(state.findings)) {
    if (present.has(fp) || t.status === 'fixed') continue;
    if (!looked.has(t.probe) || (t.profile === 'full' && report.profile === 'quick')) continue;
    if (report.scope?.routes && !report.scope.routes.some((m) => onRoute(t.target, m))) continue;
    t.status = 'fixed';
    fixed.push({ fingerprint: fp, probe: t.probe, title: t.title, target: t.target, severity: t.severity });
  }
  for (const [fp, w] of Object.entries(state.waivers)) if (Date.parse(w.expiresAt) <= now - 30 * 86_400_000) delete state.waivers[fp];
  const summary = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Report['summary'];
  for (const f of findings) if (f.status !== 'waived') summary[f.severity]++;
  return { ...report, findings, fixed, summary, grade: gradeOf(summary) };
}

/** Whether a finding's target ("GET /path…") lies on the route with prefix `match`; config-key targets lie on none. */
function onRoute(target: string, match: string): boolean {
  const path = /^[A-Z]+ (\/\S*)/.exec(target)?.[1];
  return path !== undefined && (match === '' || path.startsWith(match));
}

export interface WaiverActor { name: string; role?: string }

/** Records a waiver. Only an admin may waive; a reason and a future expiry are required. */
export function addWaiver(state: AuditState, fingerprint: string, actor: string | WaiverActor, reason: string, expiresAt: Date | string | number, now = Date.now()): Waiver {
  const who = typeof actor === 'string' ? { name: actor, role: 'admin' } : actor;
  if (who.role !== 'admin') throw new Error('only an admin may waive a finding');
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw new Error('a waiver needs a finding fingerprint (64 hex digits)');
  if (typeof reason !== 'string' || reason.trim() === '') throw new Error('a waiver needs a reason');
  const ms = expiresAt instanceof Date ? expiresAt.getTime() : typeof expiresAt === 'number' ? expiresAt : Date.parse(expiresAt);
  if (!Number.isFinite(ms) || ms <= now) throw new Error('a waiver needs an expiry in the future');
  const w: Waiver = { actor: who.name, reason: reason.trim().slice(0, 500), expiresAt: new Date(ms).toISOString(), createdAt: new Date(now).toISOString() };
  state.waivers[fingerprint] = w;
  return w;
}
