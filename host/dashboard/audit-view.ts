// How the dashboard reads a self-audit report: a grade, counts by severity, the open alarms, and
// the findings as each role may see them (evidence can hold request bytes, so viewers get none).
import type { AuditLike, FindingLike, ReportLike, Severity } from './deps.ts';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
const ALARM_SEVERITIES = new Set<string>(['critical', 'high']);
const ALARM_STATUSES = new Set<string>(['new', 'regressed']);
const CLOSED = new Set<string>(['waived', 'fixed']);

/** Findings that still count: not waived, not fixed. */
export const isOpen = (f: FindingLike) => !CLOSED.has(f.status);

export function counts(r: ReportLike): Record<Severity, number> {
  const c = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const f of r.findings) if (isOpen(f) && f.severity in c) c[f.severity]++;
  return c;
}

/** The report's own grade when it has one, else one letter from the worst open finding. */
export function grade(r: ReportLike): string {
  if (typeof r.grade === 'string' && r.grade) return r.grade;
  const c = counts(r);
  return c.critical ? 'F' : c.high ? 'D' : c.medium ? 'C' : c.low ? 'B' : 'A';
}

/** High and critical findings that are new or came back: what an operator must look at now. */
export function alarms(r: ReportLike | null): FindingLike[] {
  return r ? r.findings.filter((f) => ALARM_SEVERITIES.has(f.severity) && ALARM_STATUSES.has(f.status)) : [];
}

export function summary(r: ReportLike | null) {
  if (!r) return null;
  return {
    grade: grade(r), counts: counts(r), profile: r.profile ?? null, actor: r.actor ?? null,
    startedAt: r.startedAt ?? null, finishedAt: r.finishedAt ?? null, aborted: r.aborted ?? null,
    findings: r.findings.length,
  };
}

/** A finding for the API: no evidence unless the caller may see it. */
export function findingView(f: FindingLike, evidence: boolean) {
  const base = {
    probe: f.probe, class: f.class, cwe: f.cwe, severity: f.severity, confidence: f.confidence, title: f.title,
    target: f.target, expected: f.expected, observed: f.observed, recommendation: f.recommendation,
    fingerprint: f.fingerprint, status: f.status, ...(f.waiver ? { waiver: f.waiver } : {}),
  };
  return evidence ? { ...base, evidence: f.evidence } : base;
}

/**
 * The last report with waivers made since it was written already applied (the audit applies them
 * from its next run), so a waived alarm stops alarming as soon as an admin waives it.
 */
export function effectiveReport(audit: AuditLike, now = Date.now()): ReportLike | null {
  const r = audit.last();
  const waivers = audit.waivers?.() ?? {};
  if (!r) return null;
  return {
    ...r,
    findings: r.findings.map((f) => {
      const w = Object.hasOwn(waivers, f.fingerprint) ? waivers[f.fingerprint] : undefined;
      if (!w || f.status === 'waived' || f.status === 'fixed' || !(Date.parse(w.expiresAt) > now)) return f;
      return { ...f, status: 'waived', waiver: { actor: w.actor, reason: w.reason, expiresAt: w.expiresAt } };
    }),
  };
}
