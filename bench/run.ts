// `npm run bench` (quick, about 2–3 minutes) or `npm run bench -- --full`: rebuilds build/moat.wasm
// if its sources changed, runs every benchmark against its baseline in the same run, prints progress
// on stderr, and writes bench/results/latest.json and bench/results/latest.md (or into --out=DIR).
// `--only=footprint,latency,throughput,memory,audit,dashboard,interpreters,mcu` runs a subset (the results then hold only those).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WASM_PATH } from '../host/module.ts';
import { footprint } from './footprint.ts';
import { throughput, type ThroughputOptions, type ThroughputResult } from './throughput.ts';
import type { LatencyOptions, LatencyResult } from './latency.ts';
import type { MemoryRun } from './memory.ts';
import { interpreters, mcu, mcuBaseline } from './mcu.ts';
import { auditBench, type AuditOptions } from './audit.ts';
import { dashboardBench, type DashboardOptions } from './dashboard.ts';
import { childResult, machine, packageVersion, progress, stat, ROOT, type Stat } from './lib.ts';
import { markdown } from './report.ts';

const argv = process.argv.slice(2);
const full = argv.includes('--full');
const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
// Another results folder, so a trial of one section does not replace the committed latest.*.
const outDir = argv.find((a) => a.startsWith('--out='))?.slice(6);
const want = (s: string) => !only || only.includes(s);

const plan = full
  ? { latency: { runs: 15, msPerMeasure: 200, warmupMs: 500 } as LatencyOptions,
      throughput: { runs: 3, seconds: 15, warmupSeconds: 3, connections: 50 } as ThroughputOptions,
      memory: { requests: 1_000_000, runs: 3 },
      audit: { runs: 50, throughputRuns: 5, seconds: 15, warmupSeconds: 3, connections: 50 } as AuditOptions,
      dashboard: { interactions: 100, repetitions: 10 } as DashboardOptions }
  : { latency: { runs: 7, msPerMeasure: 60, warmupMs: 150 } as LatencyOptions,
      throughput: { runs: 2, seconds: 5, warmupSeconds: 1, connections: 50 } as ThroughputOptions,
      memory: { requests: 100_000, runs: 3 },
      audit: { runs: 20, throughputRuns: 3, seconds: 10, warmupSeconds: 1, connections: 50 } as AuditOptions,
      dashboard: { interactions: 10, repetitions: 3 } as DashboardOptions };

for (const dep of ['undici', 'autocannon']) {
  if (packageVersion(dep) === 'not installed') throw new Error(`${dep} is not installed: run npm install (the bench baselines are devDependencies)`);
}

const t0 = Date.now();
progress(`${full ? 'full' : 'quick'} run; building build/moat.wasm if needed`);
execFileSync(process.execPath, [fileURLToPath(new URL('../host/build.mjs', import.meta.url))], { stdio: ['ignore', 'inherit', 'inherit'] });
const wasm = readFileSync(WASM_PATH);

const git = (args: string[]) => { try { return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return ''; } };
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  mode: full ? 'full' : 'quick',
  plan,
  machine: machine(),
  versions: {
    moat: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
    moatWasmSha256: createHash('sha256').update(wasm).digest('hex'),
    git: `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'assembly', 'host']) ? ' (assembly/ or host/ modified)' : ''}`,
    node: process.version,
    undici: packageVersion('undici'),
    autocannon: packageVersion('autocannon'),
    assemblyscript: packageVersion('assemblyscript'),
  },
};

if (want('footprint')) {
  progress('footprint: moat.wasm and undici llhttp Wasm builds');
  results.footprint = await footprint();
}
if (want('latency')) {
  progress('latency: parsers in V8 (child process)');
  results.latency = await childResult<LatencyResult>('./child.ts', ['latency', JSON.stringify(plan.latency)]);
}
if (want('memory')) {
  const runs: MemoryRun[] = [];
  for (let r = 1; r <= plan.memory.runs; r++) {
    progress(`memory: run ${r}/${plan.memory.runs}, ${plan.memory.requests.toLocaleString('en-US')} requests (child process, --expose-gc)`);
    runs.push(await childResult<MemoryRun>('./child.ts', ['memory', JSON.stringify({ requests: plan.memory.requests, run: r, runs: plan.memory.runs })], ['--expose-gc']));
  }
  const s = (k: keyof MemoryRun['slope']): Stat => stat(runs.map((r) => r.slope[k]));
  results.memory = {
    requests: plan.memory.requests,
    slopePer100k: { rss: s('rss'), heapUsed: s('heapUsed'), moduleBytes: s('moduleBytes'), highWater: s('highWater') },
    rssStart: stat(runs.map((r) => r.samples[0].rss)), rssEnd: stat(runs.map((r) => r.samples[r.samples.length - 1].rss)),
    requestsPerSecond: stat(runs.map((r) => r.requests / r.seconds)),
    moduleMemoryAboveHighWaterChanged: runs.some((r) => r.moduleMemoryChanged),
    runs,
  };
}
if (want('throughput')) {
  progress(`throughput: ${plan.throughput.runs} runs × 2 shapes × 4 servers × ${plan.throughput.seconds} s, ${plan.throughput.connections} connections`);
  results.throughput = (await throughput(plan.throughput)) satisfies ThroughputResult;
}
if (want('audit')) {
  progress(`audit: ${plan.audit.runs} quick audits, then throughput alone / with audits, ${plan.audit.throughputRuns} runs × ${plan.audit.seconds} s`);
  results.audit = await auditBench(plan.audit);
}
if (want('dashboard')) {
  progress(`dashboard: ${plan.dashboard.interactions} interactions × ${plan.dashboard.repetitions} repetitions in headless chromium`);
  results.dashboard = await dashboardBench(plan.dashboard);
}
if (want('interpreters')) {
  progress('interpreters: callgrind instruction counts in wasm3, WAMR fast, WAMR classic (slope method)');
  results.interpreters = interpreters(full);
}
if (want('mcu')) {
  progress('mcu: Thumb instruction counts on the emulated Cortex-M4 (qemu + TCG plugin)');
  results.mcu = mcu();
  progress('mcu: the baseline, llhttp\'s Wasm build in wasm3 on the same board');
  results.mcuBaseline = mcuBaseline();
}
results.elapsedSeconds = Math.round((Date.now() - t0) / 1000);

const dir = outDir ? `${outDir.replace(/\/+$/, '')}/` : fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}latest.json`, JSON.stringify(results, null, 2) + '\n');
const md = markdown(results as never);
writeFileSync(`${dir}latest.md`, md);
process.stdout.write(md);
progress(`done in ${results.elapsedSeconds} s: ${dir}latest.json, ${dir}latest.md`);
