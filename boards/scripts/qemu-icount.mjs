#!/usr/bin/env node
// boards/scripts/qemu-icount.mjs: Thumb instructions per request inside wasm3 on the emulated
// Cortex-M4F (qemu mps2-an386), counted by the TCG plugin boards/cortex-m/icount.c, on the 4-request
// mix (bench/mix/*.http: each fed whole on one keep-alive connection and answered with 200, like the
// desktop `moat-sim --bench`). Slope method: two iteration counts, so start-up, module load and lazy
// compilation cancel. Also: the one-off cost (intercept minus a run that only reads the files), the
// heap peak and C stack high-water the image reports, and the image's section sizes.
// Prints a summary and writes bench/results/cortex-m.json.
//
//   node boards/scripts/qemu-icount.mjs [--low N] [--high N]     (default 50 and 250 rounds of the mix)
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './fetch-engines.mjs';
import { buildCortexM, printSizes, runQemu } from './build-cortex-m.mjs';

const TARGET = 35_000;          // issue 5: at most 35,000 Thumb instructions per request inside wasm3
const LOAD_TARGET = 2_000_000;  // issue 5: one-off load + compile at most 2 M instructions

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

export async function measure({ low = 50, high = 250, log = () => {} } = {}) {
  const b = await buildCortexM({ log });
  const files = readdirSync(join(ROOT, 'bench', 'mix')).filter((f) => f.endsWith('.http')).sort().map((f) => `bench/mix/${f}`);
  const count = (args) => {
    const r = runQemu(args, { plugin: true });
    if (r.status !== 0 || r.icount === null) throw new Error(`${r.command} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
    return r;
  };
  const lo = count(['--bench', String(low), ...files]);
  const hi = count(['--bench', String(high), ...files]);
  const noop = count(['--noop', ...files]);
  const plo = count(['--bench-parse', String(low), ...files]);
  const phi = count(['--bench-parse', String(high), ...files]);
  const perRequest = (hi.icount - lo.icount) / ((high - low) * files.length);
  const parsePerRequest = (phi.icount - plo.icount) / ((high - low) * files.length);
  const intercept = lo.icount - perRequest * low * files.length;
  const mem = /heap peak (\d+) of (\d+) bytes, stack (\d+) bytes/.exec(hi.stderr);
  return {
    date: new Date().toISOString(),
    board: 'qemu-system-arm -M mps2-an386 (Cortex-M4F), TCG plugin boards/cortex-m/icount.c',
    engine: 'wasm3 0.5.0 (embedded defaults, -Os, no float)',
    cflags: b.sizes.cflags,
    mix: files,
    rounds: { low, high },
    icount: { low: lo.icount, high: hi.icount, parse_low: plo.icount, parse_high: phi.icount, noop: noop.icount },
    thumb_instructions_per_request: Math.round(perRequest),
    thumb_instructions_per_request_note: 'feed (whole request) + respond(200) per request, glue calls included',
    thumb_instructions_per_request_parse: Math.round(parsePerRequest),
    thumb_instructions_per_request_parse_note: 'feed only (parsing), as llhttp 70,579 / picohttpparser 42,315 were measured',
    target_per_request: TARGET,
    one_off_instructions: Math.round(intercept - noop.icount),
    one_off_note: 'intercept of the slope minus a run that only reads the mix files: module parse + load, init, open, and wasm3 compiling each function on its first call',
    target_one_off: LOAD_TARGET,
    heap_peak_bytes: mem ? Number(mem[1]) : null,
    heap_bytes: mem ? Number(mem[2]) : null,
    stack_bytes: mem ? Number(mem[3]) : null,
    sizes: b.sizes.linked,
    elf: b.sizes.elf,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  measure({ low: arg('--low', 50), high: arg('--high', 250), log: (m) => process.stderr.write(`cortex-m: ${m}\n`) }).then((r) => {
    const b = { sizes: { linked: r.sizes, elf: r.elf, compiled: {}, toolchain: 'arm-none-eabi-gcc', heap_bytes: r.heap_bytes } };
    printSizes(b.sizes);
    const ok = (v, t) => (v <= t ? 'ok' : 'OVER');
    process.stdout.write(`Thumb instructions per request (mix, slope ${r.rounds.low}→${r.rounds.high} rounds): feed + respond ${r.thumb_instructions_per_request}` +
      ` (target ≤ ${TARGET}: ${ok(r.thumb_instructions_per_request, TARGET)}); feed only ${r.thumb_instructions_per_request_parse} (${ok(r.thumb_instructions_per_request_parse, TARGET)})\n` +
      `one-off load + compile: ${r.one_off_instructions} instructions (target ≤ ${LOAD_TARGET}: ${ok(r.one_off_instructions, LOAD_TARGET)})\n` +
      `heap peak ${r.heap_peak_bytes} B (of a ${r.heap_bytes} B fixed heap), C stack ${r.stack_bytes} B\n`);
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cortex-m.json'), JSON.stringify(r, null, 2) + '\n');
    process.stdout.write('wrote bench/results/cortex-m.json\n');
  }).catch((e) => { process.stderr.write(`qemu-icount: ${e.message}\n`); process.exit(1); });
}
