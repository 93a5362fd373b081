#!/usr/bin/env node
// boards/scripts/build-baseline.mjs: the baseline of the interpreter benchmarks, undici's llhttp Wasm
// build run by boards/baseline/llhttp_run.c, into .cache/engines/bin/llhttp-run-{wasm3,wamr-fast,wamr-classic}
// and .cache/engines/llhttp.wasm (the bytes undici's npm package carries, never committed).
// Same interpreters and flags as the moat simulators (build-sim.mjs) except one: wasm3's per-function
// stack height, which llhttp's 33 KB function needs raised to at least 3600 (moat runs at 128).
// Idempotent like build-sim.mjs (stamped binaries).
//
//   node boards/scripts/build-baseline.mjs [--quiet] [--force] [wasm3|wamr-fast|wamr-classic ...]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES, ROOT, fetchWamr, fetchWasm3 } from './fetch-engines.mjs';
import { BIN, SIM_ENGINES, WAMR_CMAKE, WASM3_FLAGS, cc, hashFiles, pool, runAsync } from './build-sim.mjs';

const DIR = join(ROOT, 'boards', 'baseline');
export const LLHTTP_WASM = join(ENGINES, 'llhttp.wasm');
export const LLHTTP_STACK_HEIGHT = 4000;
export const WASM3_BASELINE_FLAGS = [
  ...WASM3_FLAGS.filter((f) => !f.startsWith('-Dd_m3MaxFunctionStackHeight=') && !f.startsWith('-DMOAT_')),
  `-Dd_m3MaxFunctionStackHeight=${LLHTTP_STACK_HEIGHT}`,
];

export function baselinePath(engine) { return join(BIN, `llhttp-run-${engine}`); }

/** undici's llhttp.wasm (scalar: the interpreters run no SIMD), written only when it changed. */
export function llhttpWasm() {
  const require = createRequire(join(ROOT, 'package.json'));
  const bytes = require('undici/lib/llhttp/llhttp-wasm.js');
  if (!existsSync(LLHTTP_WASM) || !readFileSync(LLHTTP_WASM).equals(bytes)) {
    mkdirSync(ENGINES, { recursive: true });
    writeFileSync(`${LLHTTP_WASM}.tmp`, bytes);
    renameSync(`${LLHTTP_WASM}.tmp`, LLHTTP_WASM);
  }
  return LLHTTP_WASM;
}

function stampOf(engine, src) {
  const h = createHash('sha256');
  h.update(engine);
  h.update(JSON.stringify(engine === 'wasm3' ? WASM3_BASELINE_FLAGS : WAMR_CMAKE));
  h.update(src);
  hashFiles(h, [...readdirSync(DIR).map((f) => join(DIR, f)), fileURLToPath(import.meta.url)]);
  return h.digest('hex').slice(0, 16);
}

async function buildWasm3(src, out) {
  const obj = join(ENGINES, 'build', 'baseline-wasm3');
  rmSync(obj, { recursive: true, force: true });
  mkdirSync(obj, { recursive: true });
  const sources = [...readdirSync(src).filter((f) => f.endsWith('.c')).map((f) => join(src, f)), join(DIR, 'llhttp_run.c')];
  const objects = sources.map((s, i) => join(obj, `${i}-${s.split('/').pop().replace(/\.c$/, '.o')}`));
  const flags = [...WASM3_BASELINE_FLAGS, '-DBASELINE_WASM3', '-w', `-I${src}`];
  await pool(sources.map((s, i) => () => runAsync(cc(), [...flags, '-c', s, '-o', objects[i]])), Math.max(1, cpus().length));
  await runAsync(cc(), ['-o', out, ...objects, '-lm']);
}

async function buildWamr(src, engine, out) {
  const dir = join(ENGINES, 'build', `baseline-${engine}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await runAsync('cmake', ['-S', DIR, '-B', dir, `-DWAMR_ROOT_DIR=${src}`,
    `-DWAMR_BUILD_FAST_INTERP=${engine === 'wamr-fast' ? 1 : 0}`, ...WAMR_CMAKE]);
  await runAsync('cmake', ['--build', dir, '--parallel', String(Math.max(1, cpus().length))]);
  renameSync(join(dir, 'llhttp-run'), out);
}

/** Builds the baseline runners that are missing or stale; returns { wasm, paths }. */
export async function buildBaselines(engines = SIM_ENGINES, { force = false, log = () => {} } = {}) {
  mkdirSync(BIN, { recursive: true });
  const paths = {};
  for (const engine of engines) {
    if (!SIM_ENGINES.includes(engine)) throw new Error(`unknown engine ${engine} (${SIM_ENGINES.join(', ')})`);
    const src = engine === 'wasm3' ? fetchWasm3(log) : fetchWamr(log);
    const stamp = stampOf(engine, src);
    const bin = baselinePath(engine);
    paths[engine] = bin;
    if (!force && existsSync(bin) && existsSync(`${bin}.stamp`) && readFileSync(`${bin}.stamp`, 'utf8') === stamp) continue;
    log(`building ${bin.slice(ROOT.length + 1)}`);
    const tmp = `${bin}.tmp`;
    rmSync(`${bin}.stamp`, { force: true });
    if (engine === 'wasm3') await buildWasm3(src, tmp); else await buildWamr(src, engine, tmp);
    renameSync(tmp, bin);
    writeFileSync(`${bin}.stamp`, stamp);
  }
  return { wasm: llhttpWasm(), paths };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quiet = args.includes('--quiet');
  const wanted = args.filter((a) => !a.startsWith('--'));
  buildBaselines(wanted.length ? wanted : SIM_ENGINES, { force: args.includes('--force'), log: (m) => { if (!quiet) process.stderr.write(`baseline: ${m}\n`); } })
    .then(({ wasm, paths }) => { if (!quiet) { process.stdout.write(`llhttp.wasm: ${wasm}\n`); for (const [k, v] of Object.entries(paths)) process.stdout.write(`${k}: ${v}\n`); } })
    .catch((e) => { process.stderr.write(`build-baseline: ${e.message}\n`); process.exit(1); });
}
