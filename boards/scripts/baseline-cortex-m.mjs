#!/usr/bin/env node
// boards/scripts/baseline-cortex-m.mjs: the baseline on the emulated Cortex-M4F, undici's llhttp Wasm
// build inside wasm3 (boards/baseline/llhttp_run.c, no-op callbacks), built like the moat image
// (same CPU flags, -Os, newlib, boards/cortex-m/startup.c + sbrk.c + moat.ld) into
// .cache/cortex-m/llhttp-cm.elf, and counted like it (qemu-icount.mjs: TCG plugin, slope method on
// bench/mix/). Two differences, both forced by llhttp: wasm3's per-function stack height is raised to
// build-baseline.mjs's LLHTTP_STACK_HEIGHT (its 33 KB function), and the fixed heap and stack are
// larger (HEAP_BYTES, STACK_BYTES below). Prints a summary; `measureBaseline()` returns the figures.
//
//   node boards/scripts/baseline-cortex-m.mjs [--low N] [--high N]   (default 5 and 25 rounds of the mix)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, fetchWasm3 } from './fetch-engines.mjs';
import { CFLAGS, CPU, OUT, PLUGIN, buildCortexM, cArraySource, countQemu, installArm, mapSizes, mixFiles, run } from './build-cortex-m.mjs';
import { LLHTTP_STACK_HEIGHT, WASM3_BASELINE_FLAGS, llhttpWasm } from './build-baseline.mjs';
import { stampHolds } from './build-sim.mjs';

export const LLHTTP_ELF = join(OUT, 'llhttp-cm.elf');
const HEAP_BYTES = 1024 * 1024;   // llhttp in wasm3 peaks near 300 KB
const STACK_BYTES = 128 * 1024;   // wasm3 compiling llhttp's big function recurses deeply
const CM = join(ROOT, 'boards', 'cortex-m');
const BASE = join(ROOT, 'boards', 'baseline');
const DEFINES = WASM3_BASELINE_FLAGS.filter((f) => f.startsWith('-D'));

/** Builds the llhttp image when missing or stale; returns its section sizes per part. */
export function buildBaselineCortexM({ log = () => {} } = {}) {
  installArm(log);
  const src = fetchWasm3(log);
  const wasm = readFileSync(llhttpWasm());
  const gen = join(OUT, 'llhttp-gen'), obj = join(OUT, 'llhttp-obj');
  mkdirSync(gen, { recursive: true });
  mkdirSync(obj, { recursive: true });
  const groups = {
    interpreter: readdirSync(src).filter((f) => f.endsWith('.c')).sort().map((f) => join(src, f)),
    runner: [join(BASE, 'llhttp_run.c')],
    module: [join(gen, 'llhttp_wasm.c')],
    board: [join(CM, 'startup.c'), join(CM, 'sbrk.c'), join(CM, 'stackmark.c')],
  };
  const ldflags = [...CPU, '--specs=rdimon.specs', '-Wl,--gc-sections',
    `-Wl,--defsym=HEAP_SIZE=${HEAP_BYTES}`, `-Wl,--defsym=STACK_SIZE=${STACK_BYTES}`];
  const h = createHash('sha256');
  h.update(JSON.stringify([CFLAGS, DEFINES, ldflags, src]));
  h.update(wasm);
  for (const f of [...groups.interpreter, ...groups.runner, ...groups.board, join(CM, 'moat.ld'), fileURLToPath(import.meta.url)]) h.update(readFileSync(f));
  const stamp = h.digest('hex').slice(0, 16);
  const sizesFile = join(OUT, 'llhttp-sizes.json');
  if (stampHolds(LLHTTP_ELF, stamp) && existsSync(sizesFile)) return JSON.parse(readFileSync(sizesFile, 'utf8'));
  log('building .cache/cortex-m/llhttp-cm.elf');
  writeFileSync(join(gen, 'llhttp_wasm.c'), cArraySource('llhttp_wasm', wasm, "undici's llhttp.wasm"));
  const objects = [];
  const groupOfObj = new Map();
  for (const [part, files] of Object.entries(groups)) {
    for (const f of files) {
      const o = join(obj, `${part}-${f.split('/').pop().replace(/\.c$/, '.o')}`);
      const flags = [...CFLAGS, '-w'];
      if (part === 'interpreter' || part === 'runner') flags.push(...DEFINES, `-I${src}`);
      if (part === 'runner') flags.push('-DBASELINE_WASM3', '-DBASELINE_EMBEDDED');
      run('arm-none-eabi-gcc', [...flags, '-c', f, '-o', o]);
      objects.push(o);
      groupOfObj.set(o, part);
    }
  }
  const map = join(OUT, 'llhttp-cm.map');
  run('arm-none-eabi-gcc', [...ldflags, '-T', join(CM, 'moat.ld'), `-Wl,-Map=${map}`, '-o', LLHTTP_ELF, ...objects, '-lm']);
  const linked = mapSizes(readFileSync(map, 'utf8'), (file) => groupOfObj.get(file) ?? 'libc');
  const sizes = { stack_height: LLHTTP_STACK_HEIGHT, heap_bytes: HEAP_BYTES, stack_bytes: STACK_BYTES, linked };
  writeFileSync(sizesFile, JSON.stringify(sizes, null, 2) + '\n');
  writeFileSync(`${LLHTTP_ELF}.stamp`, stamp);
  return sizes;
}

/** Thumb instructions per request (slope), one-off load + compile, heap peak and C stack. */
export async function measureBaseline({ low = 5, high = 25, log = () => {} } = {}) {
  if (!existsSync(PLUGIN)) await buildCortexM({ log });   // the TCG plugin comes with the moat image
  const sizes = buildBaselineCortexM({ log });
  const files = mixFiles();
  const count = (n) => countQemu(['-', '--bench', String(n), ...files], { elf: LLHTTP_ELF, timeout: 300 });
  const zero = count(0), lo = count(low), hi = count(high);
  const perRequest = (hi.icount - lo.icount) / ((high - low) * files.length);
  const intercept = lo.icount - perRequest * low * files.length;
  const mem = /heap peak (\d+) bytes, stack (\d+) bytes/.exec(hi.stderr);
  const flash = ['interpreter', 'runner', 'module'].reduce((s, p) => s + (sizes.linked[p]?.text ?? 0) + (sizes.linked[p]?.data ?? 0), 0);
  return {
    engine: `wasm3 0.5.0 (embedded defaults but d_m3MaxFunctionStackHeight ${LLHTTP_STACK_HEIGHT}, -Os, no float)`,
    rounds: { low, high },
    thumb_instructions_per_request_parse: Math.round(perRequest),
    one_off_instructions: Math.round(intercept),
    one_off_note: 'intercept of the slope: start-up, reading the mix files, module parse + load, _initialize, and wasm3 compiling llhttp_execute on its first call',
    load_only_instructions: zero.icount,
    heap_peak_bytes: mem ? Number(mem[1]) : null,
    stack_bytes: mem ? Number(mem[2]) : null,
    flash_bytes: flash,
    sizes: sizes.linked,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, d) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : d; };
  measureBaseline({ low: arg('--low', 5), high: arg('--high', 25), log: (m) => process.stderr.write(`baseline-cm: ${m}\n`) })
    .then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'))
    .catch((e) => { process.stderr.write(`baseline-cortex-m: ${e.stack}\n`); process.exit(1); });
}
