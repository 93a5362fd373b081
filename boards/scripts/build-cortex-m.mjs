#!/usr/bin/env node
// boards/scripts/build-cortex-m.mjs: the Cortex-M4F images (qemu mps2-an386) of an interpreter +
// boards/glue + build/moat.wasm + the default config, built with arm-none-eabi-gcc and newlib into
// .cache/cortex-m/. Two interpreters (IMAGES): wasm3 (moat-cm.elf, the image issue 5 measures for
// speed) and WAMR's classic interpreter (moat-cm-wamr-classic.elf, which runs the module's bytes as
// they are instead of compiling them into RAM; boards/cortex-m/wamr/ is its bare-metal platform).
//
//   1. installs the toolchain and qemu (boards/scripts/install-arm.sh: Debian packages, idempotent)
//   2. fetches the interpreter's sources (fetch-engines.mjs: PyPI pywasm3 sdist, crate wamr-sys)
//   3. generates moat_wasm.c (build/moat.wasm as a C array) and moat_config.c
//      (`moat config compile host/default-config.json5 --c`), compiles wasm3, the glue, the module,
//      the config and boards/cortex-m/ one object each, links moat-cm.elf with a map file, and writes
//      sizes.json: .text (code + read-only data) / .data / .bss of each part after --gc-sections
//   4. writes cases.bin (the conformance corpus, format at the top of boards/cortex-m/main.c)
//   5. builds the TCG instruction-count plugin libicount.so (boards/cortex-m/icount.c, host gcc)
// Idempotent: the ELF carries a stamp (hash of flags, sources, module and config); a current one is kept.
//
//   node boards/scripts/build-cortex-m.mjs [--engine wasm3|wamr-classic] [--quiet] [--force] [--run]
//     --run  also runs the corpus under qemu and prints a summary line (the comparison with V8 is
//            test/cortex-m.test.ts); capped at the corpus's memory limit, or the full page with --no-cap
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import JSON5 from 'json5';
import { ROOT, fetchWamr, fetchWasm3 } from './fetch-engines.mjs';
import { HARNESS, WASM3_FLAGS, pool, runAsync, stampHolds } from './build-sim.mjs';

export const OUT = join(ROOT, '.cache', 'cortex-m');
export const ELF = join(OUT, 'moat-cm.elf');
export const CASES = join(OUT, 'cases.bin');
export const PLUGIN = join(OUT, 'libicount.so');
/** Issue 5's RAM target for the 8-connection run: heap peak + C stack, all-in. */
export const RAM_TARGET = 48 * 1024;
/** The C stack each image's 8-connection run is held to (its budget's other part: IMAGES heapBudget). */
export const RAM_STACK_BUDGET = 3 * 1024;
/** The `--ram` run: rounds of one request per connection, fed in pieces of this many bytes. */
export const RAM_ROUNDS = 20;
export const RAM_PIECE = 16;
export const RAM_CONNECTIONS = 8;
const CM = join(ROOT, 'boards', 'cortex-m');
const GLUE = join(ROOT, 'boards', 'glue');
const WASM = join(ROOT, 'build', 'moat.wasm');
const CORPUS = join(ROOT, 'test', 'corpus');
const CONFIG_SRC = join(ROOT, 'host', 'default-config.json5');
/** The 8-connection board config (issue 5's RAM target): the image's second blob, `--ram`. */
export const BOARD_CONFIG_SRC = join(ROOT, 'boards', 'configs', 'stm32f4-8.json5');

export const CPU = ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16'];
export const CFLAGS = [...CPU, '-Os', '-g0', '-std=gnu11', '-ffunction-sections', '-fdata-sections', '-fno-stack-protector', '-Wall'];
/** wasm3's embedded defaults: the -D flags of the desktop build (build-sim.mjs), at -Os. */
export const WASM3_DEFINES = WASM3_FLAGS.filter((f) => f.startsWith('-D') && !f.startsWith('-DMOAT_WASM3_STACK_BYTES='));
/** wasm3's value stack on the board (glue parameter MOAT_WASM3_STACK_BYTES; the desktop keeps 4 KiB). */
export const VALUE_STACK_BYTES = 2816;
/** Fixed heap (linker script .heap) and the stack the linker keeps free below the top of RAM. */
export const HEAP_SIZE = 256 * 1024;
/**
 * newlib's own malloc, not newlib-nano's (--specs=nano.specs): nano's realloc copies on every growth,
 * and wasm3 grows its function table one entry per function while parsing, so nano cost ~200 K Thumb
 * instructions more at load (one-off 1.93 M -> 2.12 M, over issue 5's 2 M) for 1.2 KB less heap peak
 * on the 8-connection run (70,368 -> 69,120 B) and 28 KB less libc flash (libc is outside the flash target).
 */
export const LDFLAGS = [...CPU, '--specs=rdimon.specs', '-Wl,--gc-sections', `-Wl,--defsym=HEAP_SIZE=${HEAP_SIZE}`];

/**
 * WAMR's classic interpreter as this image builds it: the options of the desktop build
 * (boards/sim/wamr.cmake) for a Thumb-2 core with an FPU, on boards/cortex-m/wamr/'s bare-metal
 * platform; all memory from malloc (MOAT_WAMR_POOL_BYTES 0), so the heap high-water counts it.
 */
export const WAMR_DEFINES = ['-DBH_PLATFORM_MOAT_BAREMETAL', '-DBUILD_TARGET_THUMB_VFP', '-DBH_MALLOC=wasm_runtime_malloc',
  '-DBH_FREE=wasm_runtime_free', '-DWASM_ENABLE_INTERP=1', '-DWASM_ENABLE_FAST_INTERP=0', '-DWASM_ENABLE_AOT=0',
  '-DWASM_ENABLE_JIT=0', '-DWASM_ENABLE_LIBC_BUILTIN=0', '-DWASM_ENABLE_LIBC_WASI=0', '-DWASM_ENABLE_MULTI_MODULE=0',
  '-DWASM_ENABLE_MINI_LOADER=0', '-DWASM_ENABLE_SHARED_MEMORY=0', '-DWASM_ENABLE_BULK_MEMORY=0', '-DWASM_DISABLE_HW_BOUND_CHECK=1',
  '-DMOAT_WAMR_POOL_BYTES=0'];
/** WAMR's sources for that build (what runtime_lib.cmake picks for it, without the C API, timers and queues). */
const WAMR_SOURCES = ['shared/mem-alloc/mem_alloc.c', 'shared/mem-alloc/ems/ems_alloc.c', 'shared/mem-alloc/ems/ems_hmu.c',
  'shared/mem-alloc/ems/ems_kfc.c', 'shared/utils/bh_assert.c', 'shared/utils/bh_common.c', 'shared/utils/bh_hashmap.c',
  'shared/utils/bh_list.c', 'shared/utils/bh_log.c', 'shared/utils/bh_vector.c',
  'iwasm/common/wasm_native.c', 'iwasm/common/wasm_exec_env.c', 'iwasm/common/wasm_memory.c', 'iwasm/common/wasm_runtime_common.c',
  'iwasm/common/arch/invokeNative_thumb_vfp.s', 'iwasm/interpreter/wasm_runtime.c', 'iwasm/interpreter/wasm_interp_classic.c',
  'iwasm/interpreter/wasm_loader.c'];
const WAMR_INCLUDES = ['iwasm/interpreter', 'iwasm/libraries/libc-builtin', 'iwasm/include', 'shared/platform/include',
  'shared/mem-alloc', 'iwasm/common', 'shared/utils'];
/** The exec env's Wasm operand and frame stack on the board (glue parameter MOAT_WAMR_STACK_BYTES). */
export const WAMR_STACK_BYTES = 3072;

/**
 * The images. `probe`: its measurement file, linked with --wrap around the calls in `wraps` (so the
 * interpreter and the glue stay unchanged) to record the heap after each load step. `heapBudget`:
 * the fixed heap of the -budget link, on which the 8-connection run must pass (with a C stack of at
 * most RAM_STACK_BUDGET); the -short link has 4 KiB less and must fail cleanly, not fault. WAMR
 * classic's budget is RAM_TARGET; wasm3's is what it reaches (boards/README.md "RAM with 8
 * connections" says why). `valueStack`: the interpreter's own value stack (the glue's MOAT_*_STACK_BYTES).
 */
export const IMAGES = {
  wasm3: { base: 'moat-cm', glue: 'moat_wasm3.c', probe: 'probe.c', heapBudget: 70 * 1024, valueStack: VALUE_STACK_BYTES,
    wraps: ['m3_NewRuntime', 'm3_ParseModule', 'm3_LoadModule'] },
  'wamr-classic': { base: 'moat-cm-wamr-classic', glue: 'moat_wamr.c', probe: 'probe_wamr.c', heapBudget: RAM_TARGET - RAM_STACK_BUDGET, valueStack: WAMR_STACK_BYTES,
    wraps: ['wasm_runtime_full_init', 'wasm_runtime_load', 'wasm_runtime_create_exec_env'], libs: ['-lm'], ldflags: ['--specs=nano.specs'] },
};
/** An image's files under .cache/cortex-m/ (wasm3's keep their first names). */
export function imageFiles(engine = 'wasm3') {
  const im = IMAGES[engine];
  if (!im) throw new Error(`no Cortex-M image for engine ${engine} (${Object.keys(IMAGES).join(', ')})`);
  const w3 = engine === 'wasm3';
  return { engine, ...im, elf: join(OUT, `${im.base}.elf`), budget: join(OUT, `${im.base}-budget.elf`), short: join(OUT, `${im.base}-short.elf`),
    map: join(OUT, `${im.base}.map`), sizes: join(OUT, w3 ? 'sizes.json' : `sizes-${engine}.json`), obj: join(OUT, w3 ? 'obj' : `obj-${engine}`),
    ldflags: [...LDFLAGS, ...(im.ldflags ?? []), ...im.wraps.map((f) => `-Wl,--wrap=${f}`)], libs: im.libs ?? [] };
}
/** The exact emulator command line (../shared/notes/qemu-cortex-m.md): never -nographic. */
export const QEMU = ['qemu-system-arm', '-M', 'mps2-an386', '-display', 'none', '-serial', 'none', '-monitor', 'none'];

const log0 = () => {};

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${(r.stderr || '') + (r.stdout || '')}`.slice(0, 6000));
  return r;
}

/** Step 1: the Debian packages (skips apt entirely when they are installed). */
export function installArm(log = log0) {
  const t0 = Date.now();
  const r = spawnSync('bash', [join(ROOT, 'boards', 'scripts', 'install-arm.sh'), '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`install-arm.sh failed (${r.status}):\n${r.stderr}${r.stdout}`);
  const s = (Date.now() - t0) / 1000;
  if (s > 2) log(`installed gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm in ${s.toFixed(1)} s`);
}

function ensureModule(log) {
  if (existsSync(WASM)) return;
  log('building build/moat.wasm');
  run(process.execPath, [join(ROOT, 'host', 'build.mjs')]);
}

/** `bytes` as a C const array `symbol` (4-byte aligned, for an interpreter to parse in place) and `symbol_len`. */
export function cArraySource(symbol, bytes, what) {
  const rows = [];
  for (let i = 0; i < bytes.length; i += 16) rows.push('  ' + Array.from(bytes.subarray(i, i + 16), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ') + ',');
  return `/* ${what} (${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}), generated by boards/scripts/build-cortex-m.mjs or baseline-cortex-m.mjs. */\n` +
    `const unsigned char ${symbol}[${bytes.length}] __attribute__((aligned(4))) = {\n${rows.join('\n')}\n};\n` +
    `const unsigned int ${symbol}_len = ${bytes.length};\n`;
}

/** The C array of the module's exact bytes. */
const wasmSource = (bytes) => cArraySource('moat_wasm', bytes, 'build/moat.wasm');

/** The 256 config bytes of `moat config compile --c` output. */
function configBytes(configC) {
  const body = /moat_config\w*\[256\]\s*=\s*\{([^}]*)\}/.exec(configC)[1];
  return Buffer.from(body.match(/0x[0-9a-f]{2}/gi).map((h) => parseInt(h, 16)));
}

/** Rounding of the glue's memory cap (host/fit.ts CAP_ROUND / linearMemory()). */
export const CAP_ROUND = 1024;
export const capOf = (highWater) => Math.min(65536, Math.ceil(highWater / CAP_ROUND) * CAP_ROUND);

/**
 * High-water marks (init()'s result, run on V8) of the image's configs: the compiled default blob, and
 * each corpus case's limits laid over it exactly as boards/cortex-m/main.c inspect() does
 * (words 2, 3, 4, 5, 8; window word 19 = max(window, max(uri, header) + 1024)).
 */
export function highWaters(wasm, blob, cases = []) {
  const x = new WebAssembly.Instance(new WebAssembly.Module(wasm), {}).exports;
  const mem = () => Buffer.from(x.memory.buffer);
  const run = (b) => { mem().set(b, x.configPtr()); return x.init(); };
  const base = run(blob);
  let corpus = base;
  for (const c of cases) {
    const b = Buffer.from(blob);
    [2, 3, 4, 5, 8].forEach((w, k) => { const v = c.limits?.[LIMITS[k]]; if (v) b.writeUInt32LE(v, 4 * w); });
    const longest = Math.max(b.readUInt32LE(8), b.readUInt32LE(12)) + 1024;
    b.writeUInt32LE(Math.max(blob.readUInt32LE(4 * 19), longest), 4 * 19);
    const hw = run(b);
    if (hw > corpus) corpus = hw;
  }
  return { base, corpus };
}

function configSource(src = CONFIG_SRC, symbol = 'moat_config') {
  const r = run(process.execPath, [join(ROOT, 'host', 'moat.mjs'), 'config', 'compile', src, '--c', '-o', '-']);
  if (!/moat_config\[256\]/.test(r.stdout)) throw new Error(`moat config compile --c printed no moat_config[256]:\n${r.stdout.slice(0, 400)}`);
  return r.stdout.replace(/\bmoat_config(?=\[|_len\b)/g, symbol);
}

/** The board config blob: `moat config compile` of BOARD_CONFIG_SRC (its moat.window sizes the input window). */
export function boardConfigBlob() {
  return configBytes(configSource(BOARD_CONFIG_SRC));
}

/** The same blob as C, named moat_config_board (the `--ram` mode's config). */
const boardConfigSource = () => configSource(BOARD_CONFIG_SRC, 'moat_config_board');

/** Object groups: which part of the image each object belongs to. */
function parts(img, src, gen) {
  const c = (dir, files) => files.map((f) => join(dir, f));
  return {
    interpreter: img.engine === 'wasm3' ? c(src, readdirSync(src).filter((f) => f.endsWith('.c')).sort())
      : [...c(join(src, 'core'), WAMR_SOURCES), join(CM, 'wamr', 'platform.c')],
    glue: c(GLUE, ['moat_engine.c', img.glue]),
    module: [join(gen, 'moat_wasm.c')],
    config: [join(gen, 'moat_config.c')],
    board: c(CM, ['startup.c', 'sbrk.c', 'stackmark.c']),
    driver: [join(CM, 'main.c'), join(HARNESS, 'bench_loop.c'), join(gen, 'moat_config_board.c')],
    probe: [join(CM, img.probe), join(CM, 'probe_heap.c')],
  };
}

function flagsFor(part, img, src, memory) {
  const f = [...CFLAGS, `-I${GLUE}`, `-I${HARNESS}`];
  if (part === 'driver') f.push(`-DMOAT_MEMORY_LIMIT=${memory.default_limit}u`, `-DMOAT_BOARD_MEMORY_LIMIT=${memory.board_limit}u`);
  if (part !== 'interpreter' && part !== 'glue' && part !== 'probe') return f;
  if (img.engine === 'wasm3') return [...f, ...WASM3_DEFINES, `-DMOAT_WASM3_STACK_BYTES=${img.valueStack}`, `-I${src}`, '-w'];
  // WAMR's platform header comes first: it is the only platform this build has.
  return [...f, ...WAMR_DEFINES, `-DMOAT_WAMR_STACK_BYTES=${img.valueStack}`, `-I${join(CM, 'wamr')}`,
    ...WAMR_INCLUDES.map((d) => `-I${join(src, 'core', d)}`), '-w'];
}

function stampOf(img, src, groups, extra) {
  const h = createHash('sha256');
  h.update(JSON.stringify([CFLAGS, WASM3_DEFINES, WAMR_DEFINES, img, src, extra]));
  for (const files of Object.values(groups)) for (const f of files) if (existsSync(f) && !f.startsWith(OUT)) { h.update(f.slice(ROOT.length)); h.update(readFileSync(f)); }
  // Headers too: the objects' own sources are hashed above, what they include here is not.
  for (const f of [join(CM, 'moat.ld'), join(CM, 'icount.c'), join(GLUE, 'moat_engine.h'), join(HARNESS, 'bench_loop.h'),
    join(CM, 'wamr', 'platform_internal.h'), fileURLToPath(import.meta.url)]) h.update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

/**
 * Sums the linked image's input sections per object from the GNU ld map: text = .text + .rodata
 * (+ vectors, exidx), data = .data, bss = .bss, after --gc-sections. Library members (libc, libgcc,
 * librdimon) are grouped as "libc".
 */
export function mapSizes(mapText, groupOf) {
  const at = mapText.indexOf('Linker script and memory map');
  const lines = mapText.slice(at).split('\n');
  const sizes = {};
  let out = null, pending = null;
  const add = (sec, size, file) => {
    if (!out || !size) return;
    const kind = out === '.data' ? 'data' : out === '.bss' ? 'bss' : ['.text', '.ARM.exidx', '.ARM.extab'].includes(out) ? 'text' : null;
    if (!kind) return;
    const g = groupOf(file.trim());
    sizes[g] ??= { text: 0, data: 0, bss: 0 };
    sizes[g][kind] += size;
  };
  for (const ln of lines) {
    const top = /^(\.[\w.]+)\s/.exec(ln) || /^(\.[\w.]+)$/.exec(ln);
    if (top) { out = top[1]; pending = null; continue; }
    const full = /^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/.exec(ln);
    if (full && !full[1].startsWith('*')) { add(full[1], parseInt(full[3], 16), full[4]); pending = null; continue; }
    const name = /^ (\.\S+)$/.exec(ln);
    if (name) { pending = name[1]; continue; }
    const cont = /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/.exec(ln);
    if (cont && pending) { add(pending, parseInt(cont[2], 16), cont[3]); pending = null; continue; }
    pending = null;
  }
  return sizes;
}

/** Object-file sizes before linking (arm-none-eabi-size, Berkeley format: text includes rodata). */
function objectSizes(objs) {
  const r = run('arm-none-eabi-size', ['-t', ...objs]);
  const total = r.stdout.trim().split('\n').pop().trim().split(/\s+/).map(Number);
  return { text: total[0], data: total[1], bss: total[2] };
}

/** Steps 2-5 for one image (`engine`: a key of IMAGES). Returns { elf, cases, plugin, sizes, built }. */
export async function buildCortexM({ force = false, log = log0, engine = 'wasm3' } = {}) {
  const img = imageFiles(engine);
  const ELF = img.elf;
  installArm(log);
  const src = engine === 'wasm3' ? fetchWasm3(log) : fetchWamr(log);
  ensureModule(log);
  mkdirSync(OUT, { recursive: true });
  const gen = join(OUT, 'gen');
  mkdirSync(gen, { recursive: true });
  const wasm = readFileSync(WASM);
  const wasmC = wasmSource(wasm);
  const configC = configSource();
  const boardC = boardConfigSource();
  const groups = parts(img, src, gen);
  // The image's default cap: the compiled default config's high-water mark rounded up to 1 KiB
  // (the rule of host/fit.ts, MOAT_MEMORY_LIMIT in the kit). The corpus lays larger limits over that
  // config, so runCorpus() passes the cap of the largest of them (--memory-limit).
  const hw = highWaters(wasm, configBytes(configC), loadCases());
  const board = highWaters(wasm, configBytes(boardC)).base;
  const memory = { default_high_water: hw.base, default_limit: capOf(hw.base), corpus_high_water: hw.corpus, corpus_limit: capOf(hw.corpus),
    board_config: BOARD_CONFIG_SRC.slice(ROOT.length + 1), board_high_water: board, board_limit: capOf(board) };
  const stamp = stampOf(img, src, groups, [wasmC, configC, boardC, HEAP_SIZE, memory]);
  const stampFile = `${ELF}.stamp`;
  let built = false;
  if (force || !stampHolds(ELF, stamp) || !existsSync(img.budget) || !existsSync(img.short) || !existsSync(PLUGIN) || !existsSync(img.sizes)) {
    const t0 = Date.now();
    log(`building .cache/cortex-m/${img.base}.elf`);
    rmSync(stampFile, { force: true });
    writeFileSync(join(gen, 'moat_wasm.c'), wasmC);
    writeFileSync(join(gen, 'moat_config.c'), configC);
    writeFileSync(join(gen, 'moat_config_board.c'), boardC);
    const objDir = img.obj;
    rmSync(objDir, { recursive: true, force: true });
    const jobs = [], objects = {}, groupOfObj = new Map();
    for (const [part, files] of Object.entries(groups)) {
      mkdirSync(join(objDir, part), { recursive: true });
      objects[part] = files.map((f) => join(objDir, part, f.split('/').pop().replace(/\.[cs]$/, '.o')));
      files.forEach((f, i) => {
        groupOfObj.set(objects[part][i], part);
        jobs.push(() => runAsync('arm-none-eabi-gcc', [...flagsFor(part, img, src, memory), '-c', f, '-o', objects[part][i]]));
      });
    }
    await pool(jobs, Math.max(1, cpus().length));
    const map = img.map;
    const tmp = `${ELF}.tmp`;
    run('arm-none-eabi-gcc', [...img.ldflags, '-T', join(CM, 'moat.ld'), `-Wl,-Map=${map}`, '-o', tmp, ...Object.values(objects).flat(), ...img.libs]);
    renameSync(tmp, ELF);
    // The budget variants differ only in the size of the fixed heap (a later --defsym wins).
    for (const [elf, heap] of [[img.budget, img.heapBudget], [img.short, img.heapBudget - 4096]]) {
      run('arm-none-eabi-gcc', [...img.ldflags, `-Wl,--defsym=HEAP_SIZE=${heap}`, '-T', join(CM, 'moat.ld'), '-o', `${elf}.tmp`, ...Object.values(objects).flat(), ...img.libs]);
      renameSync(`${elf}.tmp`, elf);
    }
    // Sizes per part, as linked (map file) and as compiled (object files).
    const linked = mapSizes(readFileSync(map, 'utf8'), (file) => groupOfObj.get(file) ?? (/\.a\(|\/lib\w*\.a|crt|libgcc/.test(file) ? 'libc' : 'other'));
    const compiled = Object.fromEntries(Object.entries(objects).map(([p, o]) => [p, objectSizes(o)]));
    const sec = Object.fromEntries(run('arm-none-eabi-size', ['-A', ELF]).stdout.split('\n')
      .map((l) => /^(\.[\w.]+)\s+(\d+)\s+\d+/.exec(l)).filter(Boolean).map((m) => [m[1], Number(m[2])]));
    const sizes = {
      engine, toolchain: run('arm-none-eabi-gcc', ['--version']).stdout.split('\n')[0],
      cflags: CFLAGS.join(' '), ...(engine === 'wasm3' ? { wasm3_defines: WASM3_DEFINES.join(' ') } : { wamr_defines: WAMR_DEFINES.join(' ') }),
      value_stack_bytes: img.valueStack, heap_bytes: HEAP_SIZE,
      ldflags: img.ldflags.join(' '),
      module_bytes: wasm.length,
      memory_limit: memory,
      linked, compiled,
      elf: { text: (sec['.text'] ?? 0) + (sec['.ARM.exidx'] ?? 0) + (sec['.ARM.extab'] ?? 0), data: sec['.data'] ?? 0, bss: sec['.bss'] ?? 0,
        heap: sec['.heap'] ?? 0, driver_buffers: sec['.harness'] ?? 0 },
    };
    writeFileSync(img.sizes, JSON.stringify(sizes, null, 2) + '\n');
    buildPlugin();
    writeFileSync(stampFile, stamp);
    built = true;
    log(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  writeCases();
  writeFileSync(join(OUT, 'memory-limit.json'), JSON.stringify(memory, null, 2) + '\n');
  return { elf: ELF, cases: CASES, plugin: PLUGIN, sizes: JSON.parse(readFileSync(img.sizes, 'utf8')), memory, built };
}

/** The TCG plugin (host gcc): counts executed guest instructions, prints "icount N" at exit. */
function buildPlugin() {
  const cc = process.env.CC || 'gcc';
  run(cc, ['-O2', '-shared', '-fPIC', '-o', `${PLUGIN}.tmp`, join(CM, 'icount.c')]);
  renameSync(`${PLUGIN}.tmp`, PLUGIN);
}

// ---- the corpus as the image reads it -----------------------------------------------------------

function textOf(t) {
  if (typeof t === 'string') return t;
  return t.map((p) => typeof p === 'string' ? p : p.repeat.repeat(p.times)).join('');
}
const LIMITS = ['uri_bytes', 'header_bytes', 'header_count', 'body_bytes', 'chunk_ext_bytes'];

/** Every case of test/corpus/*.json5 (files sorted, cases in order): name, raw bytes, limits. */
export function loadCases() {
  const cases = [];
  for (const file of readdirSync(CORPUS).filter((f) => f.endsWith('.json5')).sort()) {
    for (const c of JSON5.parse(readFileSync(join(CORPUS, file), 'utf8'))) {
      cases.push({ file, name: c.name, raw: Buffer.from(textOf(c.raw), 'latin1'), limits: c.limits });
    }
  }
  return cases;
}

export function encodeCases(cases) {
  const parts = [Buffer.from('MCI1'), Buffer.alloc(4)];
  parts[1].writeUInt32LE(cases.length);
  for (const c of cases) {
    const h = Buffer.alloc(24);
    LIMITS.forEach((k, i) => h.writeUInt32LE(c.limits?.[k] ?? 0, 4 * i));
    h.writeUInt32LE(c.raw.length, 20);
    parts.push(h, c.raw, Buffer.alloc((4 - (c.raw.length % 4)) % 4));
  }
  return Buffer.concat(parts);
}

export function writeCases(cases = loadCases()) {
  const bin = encodeCases(cases);
  if (!existsSync(CASES) || !readFileSync(CASES).equals(bin)) writeFileSync(CASES, bin);
  return cases;
}

// ---- running under qemu -------------------------------------------------------------------------

/**
 * Runs the image under qemu with semihosting arguments `args` (cwd: the repository root, so relative
 * paths are host files). `plugin`: load libicount.so. Returns { status, stdout, stderr, icount }.
 */
export function runQemu(args, { plugin = false, timeout = 120, elf = ELF } = {}) {
  for (const a of args) if (/[\s,]/.test(a)) throw new Error(`semihosting argument with a space or comma: ${a}`);
  const semi = ['enable=on', 'target=native', 'arg=moat-cm', ...args.map((a) => `arg=${a}`)].join(',');
  const cmd = ['timeout', String(timeout), ...QEMU, '-semihosting-config', semi];
  if (plugin) cmd.push('-plugin', PLUGIN, '-d', 'plugin');
  cmd.push('-kernel', elf);
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: ROOT, encoding: 'latin1', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new Error(`qemu: ${r.error.message}`);
  const m = /icount (\d+)/.exec(r.stderr);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, icount: m ? Number(m[1]) : null, command: cmd.join(' ') };
}

/**
 * Runs the corpus on the image: one parsed line per case and mode. `memoryLimit`: the cap on linear
 * memory (default: the one build wrote for the corpus's largest config; 0 = the full page).
 */
export function runCorpus({ memoryLimit, elf = ELF } = {}) {
  if (memoryLimit === undefined) memoryLimit = JSON.parse(readFileSync(join(OUT, 'memory-limit.json'), 'utf8')).corpus_limit;
  const r = runQemu(['--memory-limit', String(memoryLimit), CASES.slice(ROOT.length + 1)], { elf, timeout: 600 });
  if (r.status !== 0) throw new Error(`${r.command} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  return { lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr: r.stderr };
}

/**
 * The image's memory lines on stderr (main.c): heap peak, C stack and value-stack high-water marks,
 * and where the heap went. `breakdown` adds up to heap_peak exactly.
 */
export function parseMemory(stderr) {
  const a = /memory limit (\d+), heap peak (\d+) of (\d+) bytes, stack (\d+) bytes, value stack (\d+) of (\d+) bytes/.exec(stderr);
  const b = /heap in use: before runtime (\d+), runtime (\d+), parsed (\d+), loaded (\d+), at exit (\d+); code pages (\d+), (\d+) bytes \((\d+) filled\)/.exec(stderr);
  if (!a || !b) return null;
  const [limit, peak, heapSize, stack, vUsed, vSize] = a.slice(1).map(Number);
  const [before, runtime, parsed, loaded, , pages, code, filled] = b.slice(1).map(Number);
  const head = { memory_limit: limit, heap_peak: peak, heap_size: heapSize, stack, value_stack: vUsed, value_stack_size: vSize, code_pages: pages, code_filled: filled };
  // probe_wamr.c's steps: runtime init, module copy + load, instance + exec env (no code is compiled).
  if (/# wamr/.test(stderr)) return { ...head, breakdown: {
    before_runtime: before,                     // libc's own allocations
    runtime: runtime - before,                  // WAMR's runtime (its allocator is malloc: nothing kept)
    module: parsed - runtime,                   // the module's private copy (the classic loader rewrites it) + WASMModule
    instance: loaded - parsed,                  // linear memory (the cap), globals, function instances, exec env with its Wasm stack
    other: peak - loaded,                       // malloc's chunk headers, and the loader's freed scratch that the break still covers
  } };
  return {
    ...head,
    breakdown: {
      before_runtime: before,                  // libc's own allocations, the glue's moat_t, wasm3's environment
      runtime_and_value_stack: runtime - before,
      parsed_module: parsed - runtime,          // M3Module, one M3Function per function, types, exports
      linear_memory: loaded - parsed,           // memoryLimit bytes + wasm3's memory header, globals, table
      compiled_code: code,                      // wasm3's code pages, filled lazily as functions first run
      other: peak - loaded - code,              // per-function constant tables, export lookups, malloc chunk headers
    },
  };
}

/**
 * The 8-connection run (main.c --ram) on the bench mix. `elf`: which link (an imageFiles() elf,
 * budget or short); `compileAll`: every function compiled at load rather than on first call. Returns { status, lines (parsed JSON), memory (parseMemory), stderr }.
 */
export function runRam({ elf = ELF, rounds = RAM_ROUNDS, piece = RAM_PIECE, plugin = false, compileAll = false } = {}) {
  const r = runQemu([...(compileAll ? ['--compile-all'] : []), '--ram', String(rounds), String(piece), ...mixFiles()], { elf, plugin });
  const lines = r.status === 0 ? r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  return { status: r.status, lines, memory: parseMemory(r.stderr), stderr: r.stderr, icount: r.icount, command: r.command };
}

/** runQemu with the instruction-count plugin; throws unless the run succeeded and was counted. */
export function countQemu(args, opts = {}) {
  const r = runQemu(args, { ...opts, plugin: true });
  if (r.status !== 0 || r.icount === null) throw new Error(`${r.command} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  return r;
}

/** bench/mix/*.http, relative to the repository (the image opens them over semihosting). */
export function mixFiles() {
  return readdirSync(join(ROOT, 'bench', 'mix')).filter((f) => f.endsWith('.http')).sort().map((f) => `bench/mix/${f}`);
}

export function printSizes(sizes, out = process.stdout) {
  const rows = ['interpreter', 'glue', 'module', 'config', 'board', 'driver', 'probe', 'libc', 'other'].filter((k) => sizes.linked[k]);
  out.write(`cortex-m: sizes as linked (${sizes.toolchain}; -Os, --gc-sections), bytes:\n`);
  out.write('  part          .text   .data    .bss   (as compiled .text/.data/.bss)\n');
  for (const k of rows) {
    const l = sizes.linked[k], c = sizes.compiled[k];
    out.write(`  ${k.padEnd(12)} ${String(l.text).padStart(6)} ${String(l.data).padStart(7)} ${String(l.bss).padStart(7)}` +
      (c ? `   (${c.text}/${c.data}/${c.bss})` : '') + '\n');
  }
  out.write(`  elf          ${String(sizes.elf.text).padStart(6)} ${String(sizes.elf.data).padStart(7)} ${String(sizes.elf.bss).padStart(7)}   (+ fixed heap ${sizes.elf.heap}; the driver's scratch buffers, ${sizes.elf.driver_buffers} B NOLOAD, are not firmware RAM)\n`);
  const fw = ['interpreter', 'glue', 'module', 'config'].reduce((a, k) => a + (sizes.linked[k]?.text ?? 0) + (sizes.linked[k]?.data ?? 0), 0);
  out.write(`  interpreter + glue + module + config: ${fw} B flash (.text + .data image), libc not included\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quiet = args.includes('--quiet');
  const log = (m) => { if (!quiet) process.stderr.write(`cortex-m: ${m}\n`); };
  const engine = args.includes('--engine') ? args[args.indexOf('--engine') + 1] : 'wasm3';
  buildCortexM({ force: args.includes('--force'), log, engine }).then((b) => {
    if (!quiet) { printSizes(b.sizes); process.stdout.write(`elf: ${b.elf}\n`); }
    if (args.includes('--run')) {
      const t0 = Date.now();
      const nocap = args.includes('--no-cap');
      const { lines, stderr } = runCorpus({ elf: b.elf, ...(nocap ? { memoryLimit: 0 } : {}) });
      const errs = lines.filter((l) => l.error).length;
      process.stdout.write(`cortex-m: ${lines.length} runs (${lines.length / 2} cases whole + bytewise), ${errs} ended in an error, ${((Date.now() - t0) / 1000).toFixed(1)} s under qemu\n${stderr}`);
    }
  }).catch((e) => { process.stderr.write(`build-cortex-m: ${e.message}\n`); process.exit(1); });
}
