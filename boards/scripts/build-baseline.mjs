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
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES, ROOT } from './fetch-engines.mjs';
import { BIN, SIM_ENGINES, WAMR_CMAKE, WASM3_FLAGS, buildStamped, buildWasm3, cmakeWamr, hashFiles } from './build-sim.mjs';

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
  hashFiles(h, [...readdirSync(DIR).map((f) => join(DIR, f)), join(ROOT, 'boards', 'sim', 'wamr.cmake'), fileURLToPath(import.meta.url)]);
  return h.digest('hex').slice(0, 16);
}

const buildRunner = (src, engine, out) => engine === 'wasm3'
  ? buildWasm3(src, [join(DIR, 'llhttp_run.c')], [...WASM3_BASELINE_FLAGS, '-DBASELINE_WASM3'], join(ENGINES, 'build', 'baseline-wasm3'), out)
  : cmakeWamr(DIR, 'llhttp-run', src, engine, join(ENGINES, 'build', `baseline-${engine}`), out);

/** Builds the baseline runners that are missing or stale; returns { wasm, paths }. */
export async function buildBaselines(engines = SIM_ENGINES, { force = false, log = () => {} } = {}) {
  const paths = await buildStamped(engines, { pathOf: baselinePath, stampOf, build: buildRunner, force, log });
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
