// The self-audit's cost: how long a quick audit of the demo config takes (server side, the
// issue's goal is p95 ≤ 500 ms), and how much legitimate traffic keeps of its throughput while
// quick audits run back to back in the server's own process (goal ≥ 95 %).
import { loadConfig } from '../host/config.ts';
import { AuditService } from '../host/audit/service.ts';
import type { MoatConfig } from '../host/types.ts';
import { cannon, shapes, startServer, stopServer, type ServerHandle } from './throughput.ts';
import { progress, sleep, stat, type Stat } from './lib.ts';

export interface AuditOptions { runs: number; throughputRuns: number; seconds: number; warmupSeconds: number; connections: number }
export interface Percentiles { p50: number; p95: number; max: number; min: number; mean: number }
export interface AuditBenchResult {
  duration: { runs: number; ms: number[]; percentiles: Percentiles; requests: number; findings: string[] };
  throughput: {
    runs: number; seconds: number; connections: number; shape: string;
    alone: Stat; withAudits: Stat; ratio: Stat;
    auditsPerRun: number[]; auditMsUnderLoad: Percentiles | null; failedAudits: number; errors: number; non2xx: number;
  };
}

/** Nearest-rank percentile. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function percentiles(xs: number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), max: s[s.length - 1], min: s[0], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** The embedded default config (demo site) as a bench server runs it: loopback port 0, logs off. */
export function demoConfig(): MoatConfig {
  const cfg = loadConfig();
  cfg.web.listen = [{ scheme: 'http', host: '127.0.0.1', port: 0 }];
  cfg.log = { access: { path: null, format: 'common' }, error: { path: null, level: 'error' }, security: { path: null } };
  cfg.moat.audit.schedule = false;
  return cfg;
}

async function durations(runs: number): Promise<AuditBenchResult['duration']> {
  const service = new AuditService({ config: demoConfig() });
  await service.run('quick', 'bench');                        // warm-up: module compile, tsx, JIT
  const ms: number[] = [];
  let last = null;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = await service.run('quick', 'bench');
    ms.push(performance.now() - t0);
  }
  const p = percentiles(ms);
  progress(`audit: ${runs} quick audits of the demo config: p50 ${p.p50.toFixed(0)} ms, p95 ${p.p95.toFixed(0)} ms, max ${p.max.toFixed(0)} ms`);
  return { runs, ms, percentiles: p, requests: last!.requests, findings: last!.findings.map((f) => `${f.severity} ${f.probe} ${f.target}`) };
}

function stopAudits(s: ServerHandle): Promise<{ audits: number; durations: number[]; failed: number }> {
  return new Promise((resolve) => {
    s.child.once('message', (m) => resolve(m as { audits: number; durations: number[]; failed: number }));
    s.child.send({ audit: 'stop' });
  });
}

async function underLoad(o: AuditOptions): Promise<AuditBenchResult['throughput']> {
  const shape = shapes()[0];
  const server = await startServer('moat-audit');
  try {
    if (o.warmupSeconds > 0) await cannon(server.port, shape, o.warmupSeconds, o.connections);
    const alone: number[] = [], withAudits: number[] = [], ratios: number[] = [], auditsPerRun: number[] = [], auditMs: number[] = [];
    let failed = 0, errors = 0, non2xx = 0;
    for (let run = 0; run < o.runs; run++) {
      // Alternate which comes first, so drift over the run does not favour one side.
      for (const audits of run % 2 ? [true, false] : [false, true]) {
        if (audits) server.child.send({ audit: 'start' });
        const r = await cannon(server.port, shape, o.seconds, o.connections);
        errors += r.errors; non2xx += r.non2xx;
        if (audits) {
          const got = await stopAudits(server);
          withAudits.push(r.requests.average); auditsPerRun.push(got.audits); auditMs.push(...got.durations); failed += got.failed;
        } else alone.push(r.requests.average);
        progress(`audit: run ${run + 1}/${o.runs} ${audits ? 'with quick audits back to back' : 'alone'}: ${Math.round(r.requests.average).toLocaleString('en-US')} req/s${audits ? `, ${auditsPerRun[auditsPerRun.length - 1]} audits` : ''}`);
        await sleep(200);
      }
      ratios.push(withAudits[run] / alone[run]);
    }
    return {
      runs: o.runs, seconds: o.seconds, connections: o.connections, shape: shape.name,
      alone: stat(alone), withAudits: stat(withAudits), ratio: stat(ratios),
      auditsPerRun, auditMsUnderLoad: auditMs.length ? percentiles(auditMs) : null, failedAudits: failed, errors, non2xx,
    };
  } finally {
    await stopServer(server);
  }
}

export async function auditBench(o: AuditOptions): Promise<AuditBenchResult> {
  const duration = await durations(o.runs);
  progress(`audit: throughput of ${o.connections} connections alone and beside back-to-back quick audits, ${o.throughputRuns} runs × ${o.seconds} s`);
  const throughput = await underLoad({ ...o, runs: o.throughputRuns });
  return { duration, throughput };
}
