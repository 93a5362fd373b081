#!/usr/bin/env node
// boards/scripts/callgrind.mjs: x86 instructions per request of the module inside each board
// simulator, counted by valgrind's callgrind (slope method: runs of N and 2N iterations over the
// request mix in bench/mix/, per request = difference / (N x requests in the mix); the run with 0
// iterations gives the one-off cost: process start + module load/compile + init + one open).
// A benchmark, not a test: prints a table (and JSON with --json).
//
//   node boards/scripts/callgrind.mjs [--n 200] [--json] [engine ...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './fetch-engines.mjs';
import { SIM_ENGINES, buildSims } from './build-sim.mjs';

const args = process.argv.slice(2);
const nAt = args.indexOf('--n');
const N = nAt >= 0 ? Number(args[nAt + 1]) : 200;
const json = args.includes('--json');
const engines = args.filter((a, i) => !a.startsWith('--') && !(nAt >= 0 && i === nAt + 1));
const MIX = join(ROOT, 'bench', 'mix');
const files = readdirSync(MIX).filter((f) => f.endsWith('.http')).sort().map((f) => join(MIX, f));
const WASM = join(ROOT, 'build', 'moat.wasm');

function instructions(bin, iterations, mode) {
  const dir = mkdtempSync(join(tmpdir(), 'moat-cg-'));
  const out = join(dir, 'cg.out');
  try {
    const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, bin, WASM, mode, String(iterations), ...files], { encoding: 'utf8' });
    if (r.error) throw new Error(`valgrind: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`valgrind ${bin} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
    const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'));
    if (!m) throw new Error('no callgrind summary');
    return Number(m[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const paths = await buildSims(engines.length ? engines : SIM_ENGINES, { log: (m) => process.stderr.write(`engines: ${m}\n`) });
const rows = [];
for (const [engine, bin] of Object.entries(paths)) {
  process.stderr.write(`callgrind: ${engine} ...\n`);
  const zero = instructions(bin, 0, '--bench');
  const slope = (mode) => Math.round((instructions(bin, 2 * N, mode) - instructions(bin, N, mode)) / (N * files.length));
  rows.push({ engine, parse: slope('--bench-parse'), parseAndRespond: slope('--bench'), oneOff: zero, n: N, requests: files.length });
}
if (json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
else {
  process.stdout.write(`x86 instructions (callgrind Ir), request mix ${files.map((f) => f.split('/').pop()).join(' ')}, N=${N}/${2 * N}\n`);
  process.stdout.write('| engine | per request: feed (parse) | per request: feed + respond | one-off: start + load + init |\n|---|---:|---:|---:|\n');
  const f = (n) => n.toLocaleString('en');
  for (const r of rows) process.stdout.write(`| ${r.engine} | ${f(r.parse)} | ${f(r.parseAndRespond)} | ${f(r.oneOff)} |\n`);
}
