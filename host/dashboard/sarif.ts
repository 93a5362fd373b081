// A self-audit report as SARIF 2.1.0, the format code-scanning tools import: one rule per probe,
// one result per finding, the fingerprint as the partial fingerprint so tools track it across runs.
import type { ReportLike, Severity } from './deps.ts';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
// GitHub's convention: a numeric "security-severity" orders results within a level.
const SCORE: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

export function toSarif(r: ReportLike): object {
  const rules = new Map<string, object>();
  for (const f of r.findings) {
    if (rules.has(f.probe)) continue;
    rules.set(f.probe, {
      id: f.probe,
      name: f.class,
      shortDescription: { text: f.title },
      help: { text: f.recommendation },
      properties: { tags: ['security', `external/cwe/cwe-${f.cwe}`], 'security-severity': SCORE[f.severity] ?? '0.0' },
    });
  }
  const ids = [...rules.keys()];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'moat-audit', ...(r.version ? { version: r.version } : {}), rules: [...rules.values()] } },
      ...(r.startedAt ? { invocations: [{ executionSuccessful: !r.aborted, startTimeUtc: r.startedAt, ...(r.finishedAt ? { endTimeUtc: r.finishedAt } : {}) }] } : {}),
      results: r.findings.map((f) => ({
        ruleId: f.probe,
        ruleIndex: ids.indexOf(f.probe),
        level: LEVEL[f.severity] ?? 'note',
        message: { text: `${f.title}: expected ${f.expected}; observed ${f.observed}` },
        locations: [{ logicalLocations: [{ name: f.target, kind: 'resource' }] }],
        partialFingerprints: { moatFingerprint: f.fingerprint },
        ...(f.status === 'waived' ? { suppressions: [{ kind: 'external', justification: f.waiver?.reason ?? 'waived' }] } : {}),
        properties: { severity: f.severity, confidence: f.confidence, status: f.status, cwe: f.cwe, evidence: f.evidence },
      })),
    }],
  };
}
