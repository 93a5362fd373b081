#!/usr/bin/env node
// boards/scripts/fetch-engines.mjs: fetches the interpreter sources the board glue builds against,
// from package registries through their ordinary clients, into .cache/engines/ (git-ignored; never
// committed). Idempotent: a source tree that is already unpacked (its marker file exists) is kept.
//
//   wasm3  0.5.0  the sdist of PyPI `pywasm3` 0.5.0 (`pip download --no-binary :all:`), which carries
//                 wasm3's C sources in pywasm3-0.5.0/wasm3/       -> .cache/engines/wasm3/
//   WAMR          the crate `wamr-sys` 0.1.1 (`cargo fetch` of a throwaway project that depends on
//                 it), which carries wasm-micro-runtime/           -> .cache/engines/wamr/
//
//   node boards/scripts/fetch-engines.mjs [--quiet]
// Exits non-zero (with the client's message) when a client is missing or a download fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ENGINES = join(ROOT, '.cache', 'engines');
export const WASM3_VERSION = '0.5.0';
export const WAMR_SYS_VERSION = '0.1.1';
/** Unpacked source roots (what build-sim.mjs compiles). */
export const WASM3_SRC = join(ENGINES, 'wasm3', `pywasm3-${WASM3_VERSION}`, 'wasm3');
export const WAMR_SRC = join(ENGINES, 'wamr', `wamr-sys-${WAMR_SYS_VERSION}`, 'wasm-micro-runtime');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr || r.stdout}`);
  return r;
}

function pipCommand() {
  for (const [cmd, pre] of [['pip3', []], ['pip', []], ['python3', ['-m', 'pip']]]) {
    const r = spawnSync(cmd, [...pre, '--version'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return [cmd, pre];
  }
  throw new Error('pip is needed to fetch wasm3 (PyPI pywasm3): install python3-pip');
}

/** Unpacks a tarball into `dest` through a temporary folder, so a half-done unpack is never kept. */
function unpack(tarball, dest) {
  const tmp = `${dest}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  run('tar', ['xzf', tarball, '-C', tmp]);
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
}

export function fetchWasm3(log = () => {}) {
  if (existsSync(join(WASM3_SRC, 'wasm3.h'))) return WASM3_SRC;
  log(`fetching wasm3 ${WASM3_VERSION} (PyPI pywasm3 sdist)`);
  const dl = join(ENGINES, 'downloads');
  mkdirSync(dl, { recursive: true });
  const sdist = join(dl, `pywasm3-${WASM3_VERSION}.tar.gz`);
  if (!existsSync(sdist)) {
    const [pip, pre] = pipCommand();
    run(pip, [...pre, 'download', '--no-deps', '--no-binary', ':all:', `pywasm3==${WASM3_VERSION}`, '-d', dl],
      { env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
  }
  unpack(sdist, join(ENGINES, 'wasm3'));
  if (!existsSync(join(WASM3_SRC, 'wasm3.h'))) throw new Error(`pywasm3 sdist has no wasm3/wasm3.h under ${WASM3_SRC}`);
  return WASM3_SRC;
}

function cargoHome() {
  return process.env.CARGO_HOME || join(homedir(), '.cargo');
}

function findCrate() {
  const cache = join(cargoHome(), 'registry', 'cache');
  if (!existsSync(cache)) return null;
  for (const reg of readdirSync(cache)) {
    const f = join(cache, reg, `wamr-sys-${WAMR_SYS_VERSION}.crate`);
    if (existsSync(f)) return f;
  }
  return null;
}

export function fetchWamr(log = () => {}) {
  if (existsSync(join(WAMR_SRC, 'core', 'iwasm', 'include', 'wasm_export.h'))) return WAMR_SRC;
  log(`fetching WAMR (crate wamr-sys ${WAMR_SYS_VERSION})`);
  let crate = findCrate();
  if (!crate) {
    const proj = join(ENGINES, 'downloads', 'wamr-fetch');
    mkdirSync(join(proj, 'src'), { recursive: true });
    writeFileSync(join(proj, 'Cargo.toml'),
      `[package]\nname = "wamr-fetch"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\nwamr-sys = "=${WAMR_SYS_VERSION}"\n`);
    writeFileSync(join(proj, 'src', 'lib.rs'), '');
    run('cargo', ['fetch', '--manifest-path', join(proj, 'Cargo.toml')]);
    crate = findCrate();
    if (!crate) throw new Error(`cargo fetch did not leave wamr-sys-${WAMR_SYS_VERSION}.crate under ${cargoHome()}/registry/cache`);
  }
  unpack(crate, join(ENGINES, 'wamr'));
  if (!existsSync(join(WAMR_SRC, 'core', 'iwasm', 'include', 'wasm_export.h'))) throw new Error(`wamr-sys crate has no wasm-micro-runtime/ under ${WAMR_SRC}`);
  return WAMR_SRC;
}

export function fetchEngines(log = () => {}) {
  return { wasm3: fetchWasm3(log), wamr: fetchWamr(log) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quiet = process.argv.includes('--quiet');
  try {
    const got = fetchEngines((m) => { if (!quiet) process.stderr.write(`engines: ${m}\n`); });
    if (!quiet) process.stdout.write(`wasm3: ${got.wasm3}\nwamr:  ${got.wamr}\n`);
  } catch (e) {
    process.stderr.write(`fetch-engines: ${e.message}\n`);
    process.exit(1);
  }
}
