// The text report: a summary line, then findings grouped by severity as a table, each followed by
// what was expected, what was seen and what to change.
import type { Report, ReportedFinding } from './types.ts';
import { SEVERITIES } from './types.ts';

function cell(s: string, w: number): string {
  return s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w);
}

export function formatText(r: Report): string {
  const out: string[] = [];
  const s = r.summary;
  out.push(`moat audit (${r.profile}) by ${r.actor}: grade ${r.grade}, ${r.findings.length} findings — ${SEVERITIES.map((k) => `${s[k]} ${k}`).join(', ')}; ${r.requests} requests in ${(r.durationMs / 1000).toFixed(1)} s`);
  if (r.aborted) out.push(`ABORTED: ${r.aborted}`);
  out.push(`shadow: ${r.shadow.endpoints.map((e) => `${e.scheme}://${e.host}:${e.port}`).join(', ')}; ${r.shadow.defense}`);
  for (const sev of SEVERITIES) {
    const group = r.findings.filter((f) => f.severity === sev);
    if (!group.length) continue;
    out.push('', `${sev.toUpperCase()} (${group.length})`);
    out.push(`  ${cell('STATUS', 10)} ${cell('CONF', 6)} ${cell('PROBE', 20)} ${cell('TARGET', 34)} TITLE`);
    for (const f of group) out.push(`  ${cell(f.status, 10)} ${cell(f.confidence, 6)} ${cell(f.probe, 20)} ${cell(f.target, 34)} ${f.title}`);
    for (const f of group) out.push(...details(f));
  }
  if (r.fixed.length) {
    out.push('', `FIXED since the last run (${r.fixed.length})`);
    for (const f of r.fixed) out.push(`  ${cell(f.severity, 8)} ${cell(f.probe, 20)} ${cell(f.target, 34)} ${f.title}`);
  }
  if (r.notes.length) out.push('', 'NOTES', ...r.notes.map((n) => `  - ${n}`));
  if (!r.findings.length) out.push('', 'no findings');
  return out.join('\n') + '\n';
}

function details(f: ReportedFinding): string[] {
  const lines = [
    '', `  [${f.fingerprint.slice(0, 12)}] ${f.title} — ${f.target} (CWE-${f.cwe})`,
    `    expected: ${f.expected}`, `    observed: ${f.observed}`, `    fix:      ${f.recommendation}`,
  ];
  if (f.waiver) lines.push(`    waived by ${f.waiver.actor} until ${f.waiver.expiresAt}: ${f.waiver.reason}`);
  lines.push(...f.evidence.split('\n').slice(0, 6).map((l) => `    | ${l}`));
  return lines;
}
