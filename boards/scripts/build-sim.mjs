#!/usr/bin/env node
// boards/scripts/build-sim.mjs: builds the desktop board simulators into .cache/engines/bin/:
//   moat-sim-wasm3         boards/sim/main.c + boards/glue/{moat_engine,moat_wasm3}.c + wasm3 (cc)
//   moat-sim-wamr-fast     ... + moat_wamr.c + WAMR fast interpreter (cmake, boards/sim/CMakeLists.txt)
//   moat-sim-wamr-classic  ... + WAMR classic interpreter
// Fetches the interpreter sources first (fetch-engines.mjs). Idempotent: each binary carries a stamp
// (a hash of its flags and of every source it is built from); a binary whose stamp matches is kept.
//
//   node boards/scripts/build-sim.mjs [--quiet] [--force] [wasm3|wamr-fast|wamr-classic ...]
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES, ROOT, fetchWamr, fetchWasm3 } from './fetch-engines.mjs';

export const BIN = join(ENGINES, 'bin');
export const SIM_ENGINES = ['wasm3', 'wamr-fast', 'wamr-classic'];
const GLUE = join(ROOT, 'boards', 'glue');
const SIM = join(ROOT, 'boards', 'sim');
/** The drivers' shared --bench loop (boards/harness/bench_loop.c). */
export const HARNESS = join(ROOT, 'boards', 'harness');

/** wasm3 with its embedded-platform defaults (m3_config_platforms.h, ESP32 / Arduino section). */
export const WASM3_FLAGS = [
  '-O2', '-g0', '-std=gnu11', '-fomit-frame-pointer', '-fno-stack-protector',
  '-Dd_m3MaxFunctionStackHeight=128',  // embedded default (ESP32/ESP8266/Teensy); desktop default 2000
  '-Dd_m3CodePageAlignSize=1024',      // embedded default; desktop 4096
  '-Dd_m3MaxConstantTableSize=64',     // embedded default; desktop 120
  '-Dd_m3VerboseErrorMessages=0',      // embedded default
  '-Dd_m3HasFloat=0',                  // the module has no float ops (as wasm3's 47 KB -Os MCU figure)
  '-DMOAT_WASM3_STACK_BYTES=4096',     // wasm3 value stack (heap); see boards/README.md
];
/** WAMR cmake options shared by both interpreter builds (boards/sim/CMakeLists.txt sets the rest). */
export const WAMR_CMAKE = ['-DCMAKE_BUILD_TYPE=Release', '-DCMAKE_C_FLAGS=-O2 -g0'];

/** The client address hash the benchmarks open their tracked-client connection for (any non-zero
 * hash): the module then updates that client's defense counters per request, as `moat serve` does. */
export const TRACKED_CLIENT = 0x9e3779b9;

export function simPath(engine) { return join(BIN, `moat-sim-${engine}`); }

export function hashFiles(h, files) {
  for (const f of files.sort()) { h.update(f.slice(ROOT.length)); h.update(readFileSync(f)); }
}

function stampOf(engine, src) {
  const h = createHash('sha256');
  h.update(engine);
  h.update(JSON.stringify(engine === 'wasm3' ? WASM3_FLAGS : WAMR_CMAKE));
  h.update(src);  // the source tree's path names its package version
  hashFiles(h, [join(SIM, 'main.c'), join(SIM, 'CMakeLists.txt'), join(SIM, 'wamr.cmake'), ...readdirSync(GLUE).map((f) => join(GLUE, f)),
    ...readdirSync(HARNESS).map((f) => join(HARNESS, f)), fileURLToPath(import.meta.url)]);
  return h.digest('hex').slice(0, 16);
}

/** True when `file` exists and `file`.stamp holds `stamp`: the one freshness test of every built binary here. */
export function stampHolds(file, stamp) {
  return existsSync(file) && existsSync(`${file}.stamp`) && readFileSync(`${file}.stamp`, 'utf8') === stamp;
}

export function runAsync(cmd, args, opts = {}) {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let outText = '';
    p.stdout.on('data', (d) => { outText += d; });
    p.stderr.on('data', (d) => { outText += d; });
    p.on('error', (e) => rej(new Error(`${cmd}: ${e.message}`)));
    p.on('close', (code) => code === 0 ? res(outText) : rej(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${outText.slice(-4000)}`)));
  });
}

export async function pool(jobs, n) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, async () => { while (next < jobs.length) await jobs[next++](); }));
}

export function cc() { return process.env.CC || 'cc'; }

/** Compiles each of `sources` with `flags` into `objDir` (in parallel) and links them into `out`. */
export async function ccBuild(sources, flags, objDir, out, libs = []) {
  rmSync(objDir, { recursive: true, force: true });
  mkdirSync(objDir, { recursive: true });
  const objects = sources.map((s, i) => join(objDir, `${i}-${s.split('/').pop().replace(/\.c$/, '.o')}`));
  await pool(sources.map((s, i) => () => runAsync(cc(), [...flags, '-c', s, '-o', objects[i]])), Math.max(1, cpus().length));
  await runAsync(cc(), ['-o', out, ...objects, ...libs]);
}

/** Builds `target` of the cmake project in `project` on WAMR's fast or classic interpreter, moved to `out`. */
export async function cmakeWamr(project, target, src, engine, buildDir, out) {
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  await runAsync('cmake', ['-S', project, '-B', buildDir, `-DWAMR_ROOT_DIR=${src}`,
    `-DWAMR_BUILD_FAST_INTERP=${engine === 'wamr-fast' ? 1 : 0}`, ...WAMR_CMAKE]);
  await runAsync('cmake', ['--build', buildDir, '--parallel', String(Math.max(1, cpus().length))]);
  renameSync(join(buildDir, target), out);
}

const wasm3Sources = (src) => readdirSync(src).filter((f) => f.endsWith('.c')).map((f) => join(src, f));

/** wasm3's sources plus `extra`, with `flags`: the one recipe for every wasm3 binary here. */
export const buildWasm3 = (src, extra, flags, objDir, out) =>
  ccBuild([...wasm3Sources(src), ...extra], [...flags, '-w', `-I${src}`], objDir, out, ['-lm', '-pthread']);

const buildSim = (src, engine, out) => engine === 'wasm3'
  ? buildWasm3(src, [join(GLUE, 'moat_engine.c'), join(GLUE, 'moat_wasm3.c'), join(SIM, 'main.c'), join(HARNESS, 'bench_loop.c')], [...WASM3_FLAGS, '-pthread', `-I${GLUE}`, `-I${HARNESS}`], join(ENGINES, 'build', 'wasm3'), out)
  : cmakeWamr(SIM, 'moat-sim', src, engine, join(ENGINES, 'build', engine), out);

/**
 * For each engine, builds the binary `pathOf(engine)` with `build(src, engine, out)` unless its stamp
 * file holds `stampOf(engine, src)` (or `force`). The one build loop of the simulators and baselines.
 */
export async function buildStamped(engines, { pathOf, stampOf: stamp, build, force = false, log = () => {} }) {
  mkdirSync(BIN, { recursive: true });
  const paths = {};
  for (const engine of engines) {
    if (!SIM_ENGINES.includes(engine)) throw new Error(`unknown engine ${engine} (${SIM_ENGINES.join(', ')})`);
    const src = engine === 'wasm3' ? fetchWasm3(log) : fetchWamr(log);
    const want = stamp(engine, src);
    const bin = pathOf(engine);
    paths[engine] = bin;
    if (!force && stampHolds(bin, want)) continue;
    log(`building ${bin.slice(ROOT.length + 1)}`);
    const t0 = Date.now();
    const tmp = `${bin}.tmp`;
    rmSync(`${bin}.stamp`, { force: true });
    await build(src, engine, tmp);
    renameSync(tmp, bin);
    writeFileSync(`${bin}.stamp`, want);
    log(`built ${bin.slice(ROOT.length + 1)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return paths;
}

/** Builds the simulators that are missing or stale; returns their paths. `log` gets progress lines. */
export const buildSims = (engines = SIM_ENGINES, { force = false, log = () => {} } = {}) =>
  buildStamped(engines, { pathOf: simPath, stampOf, build: buildSim, force, log });

/** Synchronous check used by host/engines.ts: true when `engine`'s binary is built and current. */
export function simReady(engine) {
  try {
    const src = engine === 'wasm3' ? fetchWasm3() : fetchWamr();
    return stampHolds(simPath(engine), stampOf(engine, src));
  } catch { return false; }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quiet = args.includes('--quiet');
  const force = args.includes('--force');
  const wanted = args.filter((a) => !a.startsWith('--'));
  buildSims(wanted.length ? wanted : SIM_ENGINES, { force, log: (m) => { if (!quiet) process.stderr.write(`engines: ${m}\n`); } })
    .then((p) => { if (!quiet) for (const [k, v] of Object.entries(p)) process.stdout.write(`${k}: ${v}\n`); })
    .catch((e) => { process.stderr.write(`build-sim: ${e.message}\n`); process.exit(1); });
}
