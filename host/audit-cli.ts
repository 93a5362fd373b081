// `moat audit`: the self-audit from the command line, against a shadow instance of the config.
// Exit codes: 0 no finding at or above --fail-on, 3 findings at or above it, 1 the audit could not
// run (bad config, shadow failed to start…), 2 usage.
import { writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { loadConfig } from './config.ts';
import { runAudit } from './audit/run.ts';
import { applyState, emptyState, loadState, saveState } from './audit/state.ts';
import { formatReport, FORMATS, type Format } from './audit/format.ts';
import { severityRank, type AuditSeverity, type Profile } from './audit/types.ts';

const USAGE = `usage: moat audit [--config FILE] [--profile quick|full] [--format text|json|sarif] [--out FILE]
                  [--fail-on critical|high|medium|low|none] [--state FILE] [--max-requests N] [--rate N]
Probes a shadow instance of the config (loopback, port 0, logs off, a copy of the users file) with
detection-only requests derived from the routes and the config, and reports findings.
  --config FILE     JSON5 config (default: the embedded demo config)
  --profile P       quick (about 150 requests, default) or full (about 1500)
  --format F        text (default), json or sarif (SARIF 2.1.0)
  --out FILE        write the report there instead of stdout
  --fail-on S       exit 3 when a finding (not waived) is at or above S (default high; none = never)
  --state FILE      statuses across runs (new/open/fixed/regressed/waived); default
                    <config>.audit-state.json next to --config, none for the embedded config
  --max-requests N  request budget of the run
  --rate N          requests per second
exit: 0 nothing at/above --fail-on, 3 findings at/above it, 1 the audit could not run, 2 usage`;

const FAIL_ON = ['critical', 'high', 'medium', 'low', 'none'] as const;

function usage(msg: string): number {
  process.stderr.write(`moat audit: ${msg}\n(see moat audit --help)\n`);
  return 2;
}

export async function auditCommand(args: string[]): Promise<number> {
  let file: string | undefined, out: string | undefined, state: string | undefined;
  let profile: Profile = 'quick', format: Format = 'text', failOn: (typeof FAIL_ON)[number] = 'high';
  let maxRequests: number | undefined, rate: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string | undefined => args[++i];
    if (a === '--help' || a === '-h') { process.stdout.write(USAGE + '\n'); return 0; }
    if (a === '--config') { file = value(); if (!file) return usage('--config needs a file'); }
    else if (a === '--out') { out = value(); if (!out) return usage('--out needs a file'); }
    else if (a === '--state') { state = value(); if (!state) return usage('--state needs a file'); }
    else if (a === '--profile') {
      const v = value();
      if (v !== 'quick' && v !== 'full') return usage(`--profile must be quick or full, got ${JSON.stringify(v ?? '')}`);
      profile = v;
    } else if (a === '--format') {
      const v = value() as Format;
      if (!FORMATS.includes(v)) return usage(`--format must be text, json or sarif, got ${JSON.stringify(v ?? '')}`);
      format = v;
    } else if (a === '--fail-on') {
      const v = value() as (typeof FAIL_ON)[number];
      if (!FAIL_ON.includes(v)) return usage(`--fail-on must be one of ${FAIL_ON.join(', ')}, got ${JSON.stringify(v ?? '')}`);
      failOn = v;
    } else if (a === '--max-requests' || a === '--rate') {
      const v = value();
      if (!v || !/^[1-9]\d{0,5}$/.test(v)) return usage(`${a} must be a positive whole number, got ${JSON.stringify(v ?? '')}`);
      if (a === '--rate') rate = Number(v); else maxRequests = Number(v);
    } else return usage(`unknown argument ${JSON.stringify(a)}`);
  }
  let cfg;
  try {
    cfg = loadConfig(file);
  } catch (e) {
    process.stderr.write(`moat audit: ${(e as Error).message}\n`);
    return 1;
  }
  const statePath = state ?? (file ? join(dirname(file), `${basename(file)}.audit-state.json`) : undefined);
  let report;
  try {
    const st = statePath ? loadState(statePath) : emptyState();
    const raw = await runAudit(cfg, { profile, actor: process.env.USER ?? 'cli', maxRequests, perSecond: rate });
    report = applyState(raw, st);
    if (statePath) saveState(statePath, st);
  } catch (e) {
    process.stderr.write(`moat audit: could not run: ${(e as Error).message}\n`);
    return 1;
  }
  const text = formatReport(report, format);
  try {
    if (out) writeFileSync(out, text);
    else process.stdout.write(text);
  } catch (e) {
    process.stderr.write(`moat audit: cannot write ${out}: ${(e as Error).message}\n`);
    return 1;
  }
  if (failOn === 'none') return 0;
  const bar = severityRank(failOn as AuditSeverity);
  const failing = report.findings.filter((f) => f.status !== 'waived' && severityRank(f.severity) >= bar);
  if (out || format !== 'text') process.stderr.write(`moat audit: ${report.findings.length} findings, ${failing.length} at or above ${failOn}\n`);
  return failing.length ? 3 : 0;
}
