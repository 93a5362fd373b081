// SARIF 2.1.0 for code-scanning dashboards: one rule per probe (CWE in its tags), one result per
// finding with a logical location (the route or the config key) and the stable fingerprint.
import type { AuditSeverity, Probe, Report } from './types.ts';
import { PROBES } from './probes/index.ts';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

const LEVEL: Record<AuditSeverity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
const SCORE: Record<AuditSeverity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

const cweUri = (cwe: number) => `https://cwe.mitre.org/data/definitions/${cwe}.html`;
const camel = (id: string) => id.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');

export function formatSarif(r: Report, probes: readonly Probe[] = PROBES): object {
  const used = new Set(r.findings.map((f) => f.probe));
  const rules = probes.filter((p) => used.has(p.id) || (r.probes ?? []).some((x) => x.id === p.id)).map((p) => {
    const cwes = [...new Set([p.cwe, ...r.findings.filter((f) => f.probe === p.id).map((f) => f.cwe)])];
    return {
      id: p.id,
      name: camel(p.id),
      shortDescription: { text: p.title },
      fullDescription: { text: p.help ?? p.title },
      helpUri: cweUri(p.cwe),
      help: { text: `${p.help ?? p.title} (${cwes.map((c) => `CWE-${c}`).join(', ')})` },
      defaultConfiguration: { level: LEVEL[p.severity] },
      properties: { tags: ['security', p.class, ...cwes.map((c) => `external/cwe/cwe-${c}`)], 'security-severity': SCORE[p.severity], precision: 'high' },
    };
  });
  const index = new Map(rules.map((x, i) => [x.id, i]));
  const results = r.findings.filter((f) => index.has(f.probe)).map((f) => ({
    ruleId: f.probe,
    ruleIndex: index.get(f.probe)!,
    level: LEVEL[f.severity],
    message: { text: `${f.title}. Expected: ${f.expected}. Observed: ${f.observed}. Fix: ${f.recommendation}` },
    locations: [{
      logicalLocations: [{
        name: f.target,
        fullyQualifiedName: f.target,
        kind: /^[A-Z]+ \//.test(f.target) ? 'resource' : 'member',
      }],
    }],
    partialFingerprints: { 'moatAuditFingerprint/v1': f.fingerprint },
    properties: { severity: f.severity, confidence: f.confidence, status: f.status, cwe: `CWE-${f.cwe}`, class: f.class, evidence: f.evidence, 'security-severity': SCORE[f.severity] },
    ...(f.status === 'waived' && f.waiver ? { suppressions: [{ kind: 'external', status: 'accepted', justification: `${f.waiver.reason} (by ${f.waiver.actor}, until ${f.waiver.expiresAt})` }] } : {}),
  }));
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'moat-audit', version: r.version, rules } },
      automationDetails: { id: `moat-audit/${r.profile}/` },
      invocations: [{ executionSuccessful: !r.aborted, startTimeUtc: r.startedAt, endTimeUtc: r.finishedAt, ...(r.aborted ? { toolExecutionNotifications: [{ level: 'error', message: { text: r.aborted } }] } : {}) }],
      results,
    }],
  };
}
