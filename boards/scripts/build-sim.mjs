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

export function simPath(engine) { return join(BIN, `moat-sim-${engine}`); }

export function hashFiles(h, files) {
  for (const f of files.sort()) { h.update(f.slice(ROOT.length)); h.update(readFileSync(f)); }
}

function stampOf(engine, src) {
  const h = createHash('sha256');
  h.update(engine);
  h.update(JSON.stringify(engine === 'wasm3' ? WASM3_FLAGS : WAMR_CMAKE));
  h.update(src);  // the source tree's path names its package version
  hashFiles(h, [join(SIM, 'main.c'), join(SIM, 'CMakeLists.txt'), ...readdirSync(GLUE).map((f) => join(GLUE, f)), fileURLToPath(import.meta.url)]);
  return h.digest('hex').slice(0, 16);
}

function upToDate(engine, stamp) {
  const bin = simPath(engine);
  return existsSync(bin) && existsSync(`${bin}.stamp`) && readFileSync(`${bin}.stamp`, 'utf8') === stamp;
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

async function buildWasm3(src, out) {
  const obj = join(ENGINES, 'build', 'wasm3');
  rmSync(obj, { recursive: true, force: true });
  mkdirSync(obj, { recursive: true });
  const sources = [...readdirSync(src).filter((f) => f.endsWith('.c')).map((f) => join(src, f)),
    join(GLUE, 'moat_engine.c'), join(GLUE, 'moat_wasm3.c'), join(SIM, 'main.c')];
  const objects = sources.map((s, i) => join(obj, `${i}-${s.split('/').pop().replace(/\.c$/, '.o')}`));
  const flags = [...WASM3_FLAGS, '-w', '-pthread', `-I${src}`, `-I${GLUE}`];
  await pool(sources.map((s, i) => () => runAsync(cc(), [...flags, '-c', s, '-o', objects[i]])), Math.max(1, cpus().length));
  await runAsync(cc(), ['-o', out, ...objects, '-lm', '-pthread']);
}

async function buildWamr(src, engine, out) {
  const dir = join(ENGINES, 'build', engine);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await runAsync('cmake', ['-S', SIM, '-B', dir, `-DWAMR_ROOT_DIR=${src}`,
    `-DWAMR_BUILD_FAST_INTERP=${engine === 'wamr-fast' ? 1 : 0}`, ...WAMR_CMAKE]);
  await runAsync('cmake', ['--build', dir, '--parallel', String(Math.max(1, cpus().length))]);
  renameSync(join(dir, 'moat-sim'), out);
}

/** Builds the simulators that are missing or stale; returns their paths. `log` gets progress lines. */
export async function buildSims(engines = SIM_ENGINES, { force = false, log = () => {} } = {}) {
  mkdirSync(BIN, { recursive: true });
  const paths = {};
  for (const engine of engines) {
    if (!SIM_ENGINES.includes(engine)) throw new Error(`unknown engine ${engine} (${SIM_ENGINES.join(', ')})`);
    const src = engine === 'wasm3' ? fetchWasm3(log) : fetchWamr(log);
    const stamp = stampOf(engine, src);
    const bin = simPath(engine);
    paths[engine] = bin;
    if (!force && upToDate(engine, stamp)) continue;
    log(`building ${bin.slice(ROOT.length + 1)}`);
    const t0 = Date.now();
    const tmp = `${bin}.tmp`;
    rmSync(`${bin}.stamp`, { force: true });
    if (engine === 'wasm3') await buildWasm3(src, tmp); else await buildWamr(src, engine, tmp);
    renameSync(tmp, bin);
    writeFileSync(`${bin}.stamp`, stamp);
    log(`built ${engine} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return paths;
}

/** Synchronous check used by host/engines.ts: true when `engine`'s binary is built and current. */
export function simReady(engine) {
  try {
    const src = engine === 'wasm3' ? fetchWasm3() : fetchWamr();
    return upToDate(engine, stampOf(engine, src));
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
