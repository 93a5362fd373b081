#!/usr/bin/env node
// boards/scripts/callgrind.mjs: x86 instructions per request of the module inside each board
// simulator, counted by valgrind's callgrind (slope method: runs of N and 2N iterations over the
// request mix in bench/mix/, per request = difference / (N x requests in the mix); the run with 0
// iterations gives the one-off cost: process start + module load/compile + init + one open).
// The baseline, undici's llhttp Wasm build in the same interpreters (boards/baseline/llhttp_run.c,
// no-op callbacks), is counted the same way in the same run (--no-baseline skips it). WAMR classic
// spends ~0.5 s (3.8 G instructions) per llhttp request, so its slope comes from runs of 0 and 1 mix
// and is counted only with --classic-baseline; without it that row has the wall time only.
// "feed, tracked client": the parse slope on a connection of a client hash (--client), the module
// updating that client's defense counters per request as `moat serve` does.
// Wall time: the same binaries run natively at n and 2n mixes, n doubled until a run takes 0.3 s
// (median of 3 slopes), ns per request.
// A benchmark, not a test: prints a table (and JSON with --json).
//
//   node boards/scripts/callgrind.mjs [--n 200] [--json] [--no-baseline] [--classic-baseline] [engine ...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './fetch-engines.mjs';
import { SIM_ENGINES, TRACKED_CLIENT, buildSims } from './build-sim.mjs';
import { buildBaselines } from './build-baseline.mjs';

const args = process.argv.slice(2);
const nAt = args.indexOf('--n');
const N = nAt >= 0 ? Number(args[nAt + 1]) : 200;
const json = args.includes('--json');
const engines = args.filter((a, i) => !a.startsWith('--') && !(nAt >= 0 && i === nAt + 1));
const MIX = join(ROOT, 'bench', 'mix');
const files = readdirSync(MIX).filter((f) => f.endsWith('.http')).sort().map((f) => join(MIX, f));
const WASM = join(ROOT, 'build', 'moat.wasm');

function instructions(bin, wasm, iterations, mode, options = []) {
  const dir = mkdtempSync(join(tmpdir(), 'moat-cg-'));
  const out = join(dir, 'cg.out');
  try {
    const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, bin, wasm, ...options, mode, String(iterations), ...files], { encoding: 'utf8' });
    if (r.error) throw new Error(`valgrind: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`valgrind ${bin} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
    const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'));
    if (!m) throw new Error('no callgrind summary');
    return Number(m[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Native run time in ns (the process, start-up included: the slope cancels it). */
function wall(bin, wasm, iterations, mode) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(bin, [wasm, mode, String(iterations), ...files], { encoding: 'utf8' });
  const ns = Number(process.hrtime.bigint() - t0);
  if (r.status !== 0) throw new Error(`${bin} failed (${r.status}):\n${(r.stderr || String(r.error)).slice(-2000)}`);
  return ns;
}

/** Slope of native runs at n and 2n mixes, n doubled until a run takes 0.3 s (start-up jitter is ~ms). */
function wallPerRequest(bin, wasm, mode) {
  let n = 1;
  while (wall(bin, wasm, n, mode) < 3e8) n *= 2;
  const slopes = [];
  for (let k = 0; k < 3; k++) slopes.push((wall(bin, wasm, 2 * n, mode) - wall(bin, wasm, n, mode)) / (n * files.length));
  return Math.round(slopes.sort((a, b) => a - b)[1]);
}

const wanted = engines.length ? engines : SIM_ENGINES;
const log = (m) => process.stderr.write(`engines: ${m}\n`);
const paths = await buildSims(wanted, { log });
const rows = [];
for (const [engine, bin] of Object.entries(paths)) {
  process.stderr.write(`callgrind: moat in ${engine} ...\n`);
  const zero = instructions(bin, WASM, 0, '--bench');
  const slope = (mode, options) => Math.round((instructions(bin, WASM, 2 * N, mode, options) - instructions(bin, WASM, N, mode, options)) / (N * files.length));
  rows.push({ subject: 'moat', engine, parse: slope('--bench-parse'), parseAndRespond: slope('--bench'), oneOff: zero,
    parseTracked: slope('--bench-parse', ['--client', String(TRACKED_CLIENT)]),
    nsParse: wallPerRequest(bin, WASM, '--bench-parse'), n: N, requests: files.length });
}
if (!args.includes('--no-baseline')) {
  const { wasm, paths: base } = await buildBaselines(wanted, { log });
  for (const [engine, bin] of Object.entries(base)) {
    process.stderr.write(`callgrind: llhttp in ${engine} ...\n`);
    const classic = engine === 'wamr-classic';
    const zero = instructions(bin, wasm, 0, '--bench');
    const n = classic ? 1 : N;
    const parse = !classic ? Math.round((instructions(bin, wasm, 2 * N, '--bench') - instructions(bin, wasm, N, '--bench')) / (N * files.length))
      : args.includes('--classic-baseline') ? Math.round((instructions(bin, wasm, 1, '--bench') - zero) / files.length) : null;
    rows.push({ subject: 'llhttp', engine, parse, parseAndRespond: null, parseTracked: null, oneOff: zero,
      nsParse: wallPerRequest(bin, wasm, '--bench'), n, requests: files.length });
  }
}
if (json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
else {
  process.stdout.write(`x86 instructions (callgrind Ir), request mix ${files.map((f) => f.split('/').pop()).join(' ')}, N=${N}/${2 * N}\n`);
  process.stdout.write('| parser | engine | per request: feed (parse) | per request: feed + respond | feed, tracked client | one-off: start + load + init | wall ns per request (parse) |\n|---|---|---:|---:|---:|---:|---:|\n');
  const f = (n) => n == null ? '—' : n.toLocaleString('en');
  for (const r of rows) process.stdout.write(`| ${r.subject} | ${r.engine} | ${f(r.parse)} | ${f(r.parseAndRespond)} | ${f(r.parseTracked)} | ${f(r.oneOff)} | ${f(r.nsParse)} |\n`);
}
