#!/usr/bin/env node
// boards/scripts/qemu-icount.mjs: Thumb instructions per request inside wasm3 (and WAMR classic, the
// image that meets the RAM target) on the emulated
// Cortex-M4F (qemu mps2-an386), counted by the TCG plugin boards/cortex-m/icount.c, on the 4-request
// mix (bench/mix/*.http: each fed whole on one keep-alive connection and answered with 200, like the
// desktop `moat-sim --bench`). Slope method: two iteration counts, so start-up, module load and lazy
// compilation cancel. Also: the one-off cost (intercept minus a run that only reads the files), the
// heap peak and C stack high-water the image reports, and the image's section sizes. And issue 5's
// RAM target: the 8-connection run (main.c --ram on the board config, every connection mid-request
// at once) with its heap peak, where the heap went, and the C stack and wasm3 value-stack high-water.
// The top level is wasm3's image; `wamr_classic` holds the same figures for WAMR classic's image.
// Prints a summary and writes bench/results/cortex-m.json.
//
//   node boards/scripts/qemu-icount.mjs [--low N] [--high N]     (default 50 and 250 rounds of the mix)
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './fetch-engines.mjs';
import { TRACKED_CLIENT } from './build-sim.mjs';
import { buildCortexM, countQemu, imageFiles, mixFiles, printSizes, runRam, RAM_CONNECTIONS, RAM_PIECE, RAM_ROUNDS, RAM_STACK_BUDGET, RAM_TARGET } from './build-cortex-m.mjs';

const TARGET = 35_000;          // issue 5: at most 35,000 Thumb instructions per request inside wasm3
const LOAD_TARGET = 2_000_000;  // issue 5: one-off load + compile at most 2 M instructions

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** The figures of one image (`engine`: a key of build-cortex-m.mjs IMAGES). */
async function measureImage(engine, { low, high, log }) {
  const b = await buildCortexM({ log, engine });
  const img = imageFiles(engine), elf = img.elf;
  const files = mixFiles();
  // Instructions per request between `low` and `high` rounds of `mode`, and the low run (for the intercept).
  const slope = (prefix, mode) => {
    const lo = countQemu([...prefix, mode, String(low), ...files], { elf, timeout: 600 }), hi = countQemu([...prefix, mode, String(high), ...files], { elf, timeout: 600 });
    return { lo, hi, perRequest: (hi.icount - lo.icount) / ((high - low) * files.length) };
  };
  const noop = countQemu(['--noop', ...files], { elf });
  const oneOff = (s) => s.lo.icount - s.perRequest * low * files.length - noop.icount;
  const full = slope([], '--bench'), parse = slope([], '--bench-parse');
  const mem = /heap peak (\d+) of (\d+) bytes, stack (\d+) bytes/.exec(full.hi.stderr);
  // The same on a tracked client's connection (main.c --client): what a server that passes the
  // peer's address hash to open() pays, per-client defense counters included.
  const tracked = ['--client', String(TRACKED_CLIENT)];
  const cFull = slope(tracked, '--bench'), cParse = slope(tracked, '--bench-parse');
  const ram = runRam({ elf });
  if (ram.status !== 0 || !ram.memory) throw new Error(`${ram.command} exited ${ram.status}:\n${ram.stderr.slice(-2000)}`);
  const m = ram.memory;
  const wasm3 = engine === 'wasm3';
  const all = wasm3 ? runRam({ elf, compileAll: true }) : null;
  if (all && (all.status !== 0 || !all.memory)) throw new Error(`${all.command} exited ${all.status}:\n${all.stderr.slice(-2000)}`);
  const linked = b.sizes.linked, part = (k) => (linked[k]?.text ?? 0) + (linked[k]?.data ?? 0);
  return {
    date: new Date().toISOString(),
    board: 'qemu-system-arm -M mps2-an386 (Cortex-M4F), TCG plugin boards/cortex-m/icount.c',
    engine: wasm3 ? 'wasm3 0.5.0 (embedded defaults, -Os, no float)' : 'WAMR classic interpreter (wamr-sys 0.1.1, -Os, newlib-nano, bare-metal platform boards/cortex-m/wamr/)',
    cflags: b.sizes.cflags,
    mix: files,
    rounds: { low, high },
    icount: { low: full.lo.icount, high: full.hi.icount, parse_low: parse.lo.icount, parse_high: parse.hi.icount, noop: noop.icount },
    thumb_instructions_per_request: Math.round(full.perRequest),
    thumb_instructions_per_request_note: 'feed (whole request) + respond(200) per request, glue calls included',
    thumb_instructions_per_request_parse: Math.round(parse.perRequest),
    thumb_instructions_per_request_parse_note: 'feed only (parsing), as llhttp 70,579 / picohttpparser 42,315 were measured',
    target_per_request: TARGET,
    one_off_instructions: Math.round(oneOff(full)),
    one_off_note: wasm3 ? 'intercept of the slope minus a run that only reads the mix files: module parse + load, init, open, and wasm3 compiling each function on its first call'
      : 'intercept of the slope minus a run that only reads the mix files: copying, parsing and validating the module, instantiating it, init, open',
    target_one_off: LOAD_TARGET,
    tracked_client: {
      client: TRACKED_CLIENT,
      thumb_instructions_per_request: Math.round(cFull.perRequest),
      thumb_instructions_per_request_parse: Math.round(cParse.perRequest),
      one_off_instructions: Math.round(oneOff(cFull)),
      note: 'the same runs on a connection opened for a client hash (not 0) with the clock advancing 100 ms per request: the module also updates that client\'s defense counters per request (what `moat serve` does); the figures above use client 0, a host that does not track clients',
    },
    heap_peak_bytes: mem ? Number(mem[1]) : null,
    heap_bytes: mem ? Number(mem[2]) : null,
    stack_bytes: mem ? Number(mem[3]) : null,
    ram_8_connections: {
      config: b.memory.board_config,
      run: `--ram ${RAM_ROUNDS} ${RAM_PIECE}: ${RAM_CONNECTIONS} connections, each request of the mix fed in ${RAM_PIECE}-byte pieces round-robin so all are mid-request at once, then completed and answered with 200`,
      heap_peak: m.heap_peak,
      stack: m.stack,
      value_stack: m.value_stack,
      value_stack_size: m.value_stack_size,
      memory_limit: m.memory_limit,
      board_high_water: b.memory.board_high_water,
      code_pages: m.code_pages,
      breakdown: m.breakdown,
      total: m.heap_peak + m.stack,
      total_note: wasm3 ? 'heap peak (newlib malloc break high-water: wasm3 runtime, value stack, parsed module, linear memory, compiled code) + C stack high-water'
        : 'heap peak (newlib-nano malloc break high-water: the module\'s copy and WAMR\'s parsed module, the instance with linear memory and the exec env with its Wasm stack) + C stack high-water',
      ...(all ? { all_compiled: { heap_peak: all.memory.heap_peak, stack: all.memory.stack, compiled_code: all.memory.breakdown.compiled_code, code_pages: all.memory.code_pages,
        total: all.memory.heap_peak + all.memory.stack,
        note: 'the same run with every function compiled at load (m3_CompileModule): the heap whatever paths later requests take (wasm3 compiles lazily, so an error path first taken later grows the lazy figure)' } } : {}),
      static_ram: ['interpreter', 'glue'].reduce((a, k) => a + (linked[k]?.data ?? 0) + (linked[k]?.bss ?? 0), 0),
      static_ram_note: '.data + .bss of interpreter and glue, outside the heap and not part of the target\'s heap peak + C stack',
      target: RAM_TARGET,
      budget: { heap: img.heapBudget, stack: RAM_STACK_BUDGET, total: img.heapBudget + RAM_STACK_BUDGET },
      budget_note: 'what test/cortex-m.test.ts enforces (the run on an image linked with a heap of exactly budget.heap)' +
        (m.heap_peak + m.stack <= RAM_TARGET ? '' : '; the target is not met: boards/README.md "RAM with 8 connections"'),
    },
    flash: { interpreter: part('interpreter'), glue: part('glue'), module: part('module'), config: part('config'),
      total: ['interpreter', 'glue', 'module', 'config'].reduce((a, k) => a + part(k), 0), note: '.text + .data image of each part as linked (libc not included)' },
    sizes: b.sizes.linked,
    elf: b.sizes.elf,
  };
}

export async function measure({ low = 50, high = 250, log = () => {} } = {}) {
  const r = await measureImage('wasm3', { low, high, log });
  const w = await measureImage('wamr-classic', { low, high, log });
  delete w.date; delete w.board; delete w.mix; delete w.rounds; delete w.target_per_request; delete w.target_one_off;
  return { ...r, wamr_classic: w };
}

function summary(r, rounds, out = process.stdout) {
  const ok = (v, t) => (v <= t ? 'ok' : 'OVER');
  out.write(`${r.engine}: Thumb instructions per request (mix, slope ${rounds.low}→${rounds.high} rounds): feed + respond ${r.thumb_instructions_per_request}` +
    ` (target ≤ ${TARGET}: ${ok(r.thumb_instructions_per_request, TARGET)}); feed only ${r.thumb_instructions_per_request_parse} (${ok(r.thumb_instructions_per_request_parse, TARGET)})\n` +
    `  one-off load + compile: ${r.one_off_instructions} instructions (target ≤ ${LOAD_TARGET}: ${ok(r.one_off_instructions, LOAD_TARGET)})\n` +
    `  tracked client (defense counters per request): feed + respond ${r.tracked_client.thumb_instructions_per_request}, feed only ${r.tracked_client.thumb_instructions_per_request_parse}, one-off ${r.tracked_client.one_off_instructions}\n` +
    `  heap peak ${r.heap_peak_bytes} B (of a ${r.heap_bytes} B fixed heap), C stack ${r.stack_bytes} B; flash: interpreter + glue + module + config ${r.flash.total} B\n`);
  const g = r.ram_8_connections, d = g.breakdown;
  out.write(`  ${RAM_CONNECTIONS} connections (${g.config}, memory limit ${g.memory_limit} B): heap peak ${g.heap_peak} B = ` +
    Object.entries(d).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(' + ') + ` (${g.code_pages} code pages); C stack ${g.stack} B; value stack ${g.value_stack} of ${g.value_stack_size} B;` +
    ` total ${g.total} B (target ≤ ${g.target}: ${ok(g.total, g.target)}; budget ${g.budget.total}: ${ok(g.total, g.budget.total)}); static .data + .bss ${g.static_ram} B` +
    (g.all_compiled ? `; every function compiled at load: heap peak ${g.all_compiled.heap_peak} B (code ${g.all_compiled.compiled_code} B), C stack ${g.all_compiled.stack} B, total ${g.all_compiled.total} B` : '') + '\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  measure({ low: arg('--low', 50), high: arg('--high', 250), log: (m) => process.stderr.write(`cortex-m: ${m}\n`) }).then((r) => {
    for (const x of [r, r.wamr_classic]) {
      printSizes({ linked: x.sizes, elf: x.elf, compiled: {}, toolchain: `arm-none-eabi-gcc, ${x.engine}`, heap_bytes: x.heap_bytes });
      summary(x, r.rounds);
    }
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cortex-m.json'), JSON.stringify(r, null, 2) + '\n');
    process.stdout.write('wrote bench/results/cortex-m.json\n');
  }).catch((e) => { process.stderr.write(`qemu-icount: ${e.message}\n`); process.exit(1); });
}
