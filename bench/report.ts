// bench/results/latest.md from the results object bench/run.ts writes to latest.json.
import { fmt, num, type Stat } from './lib.ts';
import type { MoatFootprint, LlhttpFootprint } from './footprint.ts';
import type { LatencyResult } from './latency.ts';
import type { ThroughputResult } from './throughput.ts';
import { SERVERS } from './throughput.ts';
import type { AuditBenchResult } from './audit.ts';
import type { DashboardResult } from './dashboard.ts';
import type { EngineRow } from './mcu.ts';

interface Results {
  date: string; mode: string; elapsedSeconds: number;
  plan: { latency: { runs: number }; throughput: { runs: number; seconds: number; connections: number }; memory: { requests: number; runs: number } };
  machine: { cpu: string; cores: number; node: string; v8: string; platform: string };
  versions: Record<string, string>;
  footprint?: { moat: MoatFootprint; llhttp: LlhttpFootprint; llhttpSimd: LlhttpFootprint };
  latency?: LatencyResult;
  throughput?: ThroughputResult;
  memory?: { requests: number; slopePer100k: Record<string, Stat>; rssStart: Stat; rssEnd: Stat; requestsPerSecond: Stat; moduleMemoryAboveHighWaterChanged: boolean };
  audit?: AuditBenchResult;
  dashboard?: DashboardResult;
  interpreters?: { available: boolean; reason: string; rows: EngineRow[] }; mcu?: { available: boolean; reason: string; result?: Record<string, any> };
  mcuBaseline?: { available: boolean; reason: string; result?: Record<string, any> };
}

const B = (n: number | null | undefined) => (n === null || n === undefined ? 'n/a' : `${num(n)}`);
const x = (a: number, b: number) => (b ? `${(a / b).toFixed(2)}×` : 'n/a');
const r2 = (s: Stat) => fmt(s, 2);
const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

export function markdown(r: Results): string {
  const o: string[] = [];
  const m = r.machine;
  o.push(`# Moat benchmarks (${r.mode})`, '');
  o.push(`${r.date} · ${m.cpu}, ${m.cores} cores · Node ${m.node} (V8 ${m.v8}) · ${m.platform}`, '');
  o.push(`Versions: moat ${r.versions.moat} (git ${r.versions.git}, moat.wasm sha256 ${r.versions.moatWasmSha256.slice(0, 12)}…) · undici ${r.versions.undici} (llhttp Wasm) · autocannon ${r.versions.autocannon} · assemblyscript ${r.versions.assemblyscript} · ${r.elapsedSeconds} s in all`, '');
  o.push('Timed figures are median [min–max] over repeated runs; ratios are taken run by run (same run, paired) and then summarized the same way. What each figure means: bench/README.md.', '');

  if (r.footprint) {
    const { moat: mo, llhttp: l, llhttpSimd: ls } = r.footprint;
    o.push('## Footprint', '');
    o.push('| | moat.wasm | llhttp Wasm (undici, scalar) | llhttp Wasm (undici, SIMD) | moat / llhttp |', '|---|---:|---:|---:|---:|');
    const row = (name: string, a: number | null, b: number | null, c: number | null, ratio = true) =>
      o.push(`| ${name} | ${B(a)} | ${B(b)} | ${B(c)} | ${ratio && a !== null && b !== null ? x(a, b) : ''} |`);
    row('raw bytes', mo.raw, l.raw, ls.raw);
    row('gzip -9 bytes', mo.gzip, l.gzip, ls.gzip);
    row('brotli -q11 bytes', mo.brotli, l.brotli, ls.brotli);
    row('code section bytes', mo.codeBytes, l.codeBytes, ls.codeBytes);
    row('functions', mo.functions, l.functions, ls.functions);
    o.push(`| largest function (bytes) | ${B(mo.largestFunction.bytes)} (func ${mo.largestFunction.index}${mo.largestFunction.export ? ` "${mo.largestFunction.export}"` : ''}) | ${B(l.largestFunction.bytes)} (${l.largestFunction.export ?? `func ${l.largestFunction.index}`}) | ${B(ls.largestFunction.bytes)} | ${x(mo.largestFunction.bytes, l.largestFunction.bytes)} |`);
    row('imports', mo.imports, l.imports, ls.imports, false);
    o.push(`| linear memory pages (min / max) | ${mo.memory.minPages} / ${mo.memory.maxPages ?? 'none'} | ${l.memory.minPages} / ${l.memory.maxPages ?? 'none (grows)'} | ${ls.memory.minPages} / ${ls.memory.maxPages ?? 'none (grows)'} | |`);
    o.push(`| memory in use (bytes) | ${B(mo.highWater)} high-water, ${mo.defaultSlots} slots | ${B(l.memoryBytesInUse)} (1 parser + 4 KiB buffer) | ${B(ls.memoryBytesInUse)} | ${x(mo.highWater, l.memoryBytesInUse)} |`);
    o.push(`| bytes per connection | ${B(mo.bytesPerSlot)} per slot | ${B(l.bytesPerParser)} per parser (malloc) | ${B(ls.bytesPerParser)} | ${x(mo.bytesPerSlot, l.bytesPerParser)} |`);
    o.push(`| bytes per client-table entry | ${mo.bytesPerClientEntry === null ? 'n/a' : B(mo.bytesPerClientEntry)} | — | — | |`, '');
    o.push(`Budgets (CI, test/bench-footprint.test.ts): moat.wasm ${num(mo.raw)} ≤ ${num(mo.budget)} B ${mo.raw <= mo.budget ? '✓' : '✗'}; memory exactly 1 page ${mo.memory.minPages === 1 && mo.memory.maxPages === 1 ? '✓' : '✗'}; high-water ${num(mo.highWater)} ≤ 65,536 B ${mo.highWater <= 65536 ? '✓' : '✗'}; module format check ${mo.formatOk ? '✓' : `✗ ${mo.violations.join('; ')}`}. Client table: ${mo.bytesPerClientEntryNote}.`, '');
  }

  if (r.latency) {
    const L = r.latency;
    o.push(`## Parser latency in V8 (ns per request, ${r.plan.latency.runs} runs)`, '');
    o.push('| requests | moat (driver) | moat (tracked client) | moat (host Feeder) | llhttp Wasm | llhttp Wasm SIMD | moat / llhttp | moat / llhttp SIMD | tracked client / llhttp SIMD | Feeder / llhttp |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of Object.keys(L.ns)) {
      const n = L.ns[c], q = L.ratios[c];
      o.push(`| ${c === 'mix' ? '**mix** (a, b, c, d)' : `${c}.http alone`} | ${fmt(n.moat)} | ${fmt(n['moat-client'])} | ${fmt(n['moat-feeder'])} | ${fmt(n.llhttp)} | ${fmt(n['llhttp-simd'])} | ${r2(q['moat/llhttp'])} | ${r2(q['moat/llhttp-simd'])} | ${r2(q['moat-client/llhttp-simd'])} | ${r2(q['moat-feeder/llhttp'])} |`);
    }
    const mix = L.ratios.mix['moat/llhttp'].median, mixS = L.ratios.mix['moat/llhttp-simd'].median, mixC = L.ratios.mix['moat-client/llhttp-simd'].median;
    o.push('', `Goal (issue 6): moat ≤ 0.5 × llhttp per request on the mix. Measured ${mix.toFixed(2)} (scalar build) / ${mixS.toFixed(2)} (SIMD build, what undici loads on x64): ${Math.max(mix, mixS) <= 0.5 ? 'met' : 'not met'}. With the per-client defense bookkeeping a tracked client adds (parsing plus counters, as \`moat serve\` runs it): ${mixC.toFixed(2)} × llhttp SIMD.`, '');
  }

  if (r.throughput) {
    const T = r.throughput;
    o.push(`## Server throughput (autocannon, ${T.connections} connections, ${T.seconds} s × ${T.runs} runs, 127.0.0.1)`, '');
    o.push(`Every server sends moat's response to \`GET /\` of the demo site: ${T.response.status}, ${T.response.headBytes} B head (${T.response.fields.map(([n]) => n).join(', ')}), ${T.response.bodyBytes} B body.`, '');
    const names: Record<string, string> = { moat: '`moat serve` (file handler)', 'moat-mem': 'moat server, in-memory handler', node: 'node:http (baseline)', raw: 'raw net (ceiling)' };
    for (const shape of Object.keys(T.cells)) {
      const sh = T.shapes.find((s) => s.name === shape)!;
      o.push(`### ${shape} (\`${sh.path}\`, ${sh.bytes} B request)`, '');
      const cpu = T.cpuRatios?.[shape] ?? null;
      o.push(`| server | req/s | p50 ms | p99 ms | req/s vs node:http |${cpu ? ' server CPU µs/req | CPU vs node:http |' : ''} errors / non-2xx |`, `|---|---:|---:|---:|---:|${cpu ? '---:|---:|' : ''}---:|`);
      for (const k of SERVERS) {
        const c = T.cells[shape][k];
        const cpuCells = cpu ? ` ${c.cpuUs ? fmt(c.cpuUs) : '–'} | ${r2(cpu[`${k}/node`])} |` : '';
        o.push(`| ${names[k]} | ${fmt(c.rps)} | ${fmt(c.p50)} | ${fmt(c.p99)} | ${r2(T.ratios[shape][`${k}/node`])} |${cpuCells} ${c.errors} / ${c.non2xx} |`);
      }
      o.push('');
    }
    const worst = Math.min(...Object.keys(T.cells).map((s) => T.ratios[s]['moat/node'].median));
    o.push(`Goal (issue 6): \`moat serve\` ≥ node:http. Lowest shape ratio ${worst.toFixed(2)}: ${worst >= 1 ? 'met' : 'not met'}.`, '');
  }

  if (r.memory) {
    const M = r.memory;
    o.push(`## Memory (${num(M.requests)} requests through one module instance, one keep-alive slot, ${r.plan.memory.runs} runs)`, '');
    o.push('| figure | slope, bytes per 100,000 requests |', '|---|---:|');
    o.push(`| RSS | ${fmt(M.slopePer100k.rss)} |`, `| V8 heap used | ${fmt(M.slopePer100k.heapUsed)} |`, `| module linear memory | ${fmt(M.slopePer100k.moduleBytes)} |`, `| module high-water mark | ${fmt(M.slopePer100k.highWater)} |`, '');
    o.push(`RSS ${MiB(M.rssStart.median)} at the first sample → ${MiB(M.rssEnd.median)} at the last (medians); ${fmt(M.requestsPerSecond)} requests/s through Feeder + respond(); module memory above the high-water mark ${M.moduleMemoryAboveHighWaterChanged ? '**changed**' : 'unchanged'}.`, '');
  }

  if (r.audit) {
    const A = r.audit, d = A.duration.percentiles, T = A.throughput, ms = (n: number) => n.toFixed(0);
    o.push(`## Self-audit (quick profile, demo config)`, '');
    o.push(`| figure | p50 | p95 | max | runs |`, '|---|---:|---:|---:|---:|');
    o.push(`| quick audit duration, ms (AuditService.run, idle machine) | ${ms(d.p50)} | ${ms(d.p95)} | ${ms(d.max)} | ${A.duration.runs} |`);
    if (T.auditMsUnderLoad) o.push(`| quick audit duration under the throughput load, ms | ${ms(T.auditMsUnderLoad.p50)} | ${ms(T.auditMsUnderLoad.p95)} | ${ms(T.auditMsUnderLoad.max)} | ${T.auditsPerRun.reduce((a, b) => a + b, 0)} |`);
    o.push('', `${A.duration.requests} requests per run; findings: ${A.duration.findings.join('; ') || 'none'}. Goal (issue): p95 ≤ 500 ms — ${d.p95 <= 500 ? 'met' : 'not met'}.`, '');
    o.push(`| \`moat serve\`, ${T.shape}, ${T.connections} connections, ${T.seconds} s × ${T.runs} runs | req/s |`, '|---|---:|');
    o.push(`| alone | ${fmt(T.alone)} |`, `| with quick audits back to back in the server's process | ${fmt(T.withAudits)} |`, `| ratio (paired) | ${r2(T.ratio)} |`, '');
    o.push(`Goal (issue): ≥ 0.95 of the throughput during audits — ${T.ratio.median >= 0.95 ? 'met' : 'not met'} (median). ${T.auditsPerRun.join(' / ')} audits per run${T.failedAudits ? `, ${T.failedAudits} failed` : ''}; ${T.errors} errors, ${T.non2xx} non-2xx.`, '');
  }

  if (r.dashboard) {
    const D = r.dashboard, f = (p: { mean: number; min: number; max: number }) => `${p.mean.toFixed(1)} [${p.min.toFixed(0)}–${p.max.toFixed(0)}]`;
    o.push(`## Dashboard operator interaction (headless chromium, ${D.interactions} interactions × ${D.repetitions} repetitions)`, '');
    o.push(`Interaction: ${D.interaction}; ${D.requestsPerRun} audit requests per run.`, '');
    o.push('| figure, ms | mean [min–max] | p95 | vs paper mean 119.5 [83–191] |', '|---|---:|---:|---:|');
    o.push(`| click → run accepted (status line) | ${f(D.started)} | ${D.started.p95.toFixed(0)} | ${(D.started.mean / D.paper.mean).toFixed(2)}× |`);
    o.push(`| click → finished report shown | ${f(D.shown)} | ${D.shown.p95.toFixed(0)} | ${(D.shown.mean / D.paper.mean).toFixed(2)}× |`);
    o.push(`| the audit run itself, server side | ${f(D.serverRun)} | ${D.serverRun.p95.toFixed(0)} | |`);
    o.push(`| page load (navigation timing, loadEventEnd) | ${f(D.pageLoad)} | ${D.pageLoad.p95.toFixed(0)} | |`, '');
    o.push('The page polls a running audit every 50 ms for its first second (then backing off to 1 s), so "finished report shown" follows the run within about one poll.', '');
  }

  o.push('## Interpreters (wasm3, WAMR) and MCU (Cortex-M4)', '');
  const I = r.interpreters;
  if (I?.available) {
    const moatRows = I.rows.filter((e) => e.subject === 'moat');
    const base = (engine: string) => I.rows.find((e) => e.subject === 'llhttp' && e.engine === engine);
    const times = (x: number) => x >= 100 ? `${num(x)}×` : x < 0.01 ? `${x.toPrecision(2)}×` : `${x.toFixed(2)}×`;
    const q = (a: number | null, b: number | null | undefined) => a != null && b ? times(a / b) : 'n/a';
    o.push(`x86 instructions per request (callgrind Ir, slope over N=${moatRows[0]?.n} and ${2 * (moatRows[0]?.n ?? 0)} runs of the ${moatRows[0]?.requests}-request mix; repeatable, unlike wall time), and wall time per request (native runs, slope, median of 3). Baseline in the same run: undici's llhttp Wasm build in the same interpreter builds (boards/baseline/llhttp_run.c: no-op callbacks, the request copied into its memory, llhttp_execute), wasm3 with its per-function stack height raised to 4000 for llhttp only. Issue 5 goals: moat ≤ 0.5× llhttp in wasm3 (x86), WAMR classic ≤ 3× WAMR fast (both on the parse column, client 0: a host that tracks no clients; the tracked-client column is what a serving host pays, the module also updating that client's defense counters per request).`, '');
    o.push('| engine | moat feed (parse) | moat feed + respond | moat feed, tracked client | moat one-off | llhttp parse | moat / llhttp | moat ns/request | llhttp ns/request | moat / llhttp (time) |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const e of moatRows) {
      const b = base(e.engine);
      o.push(`| ${e.engine} | ${B(e.parse)} | ${B(e.parseAndRespond)} | ${B(e.parseTracked ?? null)} | ${B(e.oneOff)} | ${B(b?.parse)} | ${q(e.parse, b?.parse)} | ${B(e.nsParse)} | ${B(b?.nsParse)} | ${q(e.nsParse, b?.nsParse)} |`);
    }
    const fast = moatRows.find((e) => e.engine === 'wamr-fast'), classic = moatRows.find((e) => e.engine === 'wamr-classic');
    if (fast && classic) o.push('', `WAMR classic / fast (moat, x86 instructions): ${q(classic.parse, fast.parse)}; llhttp: ${q(base('wamr-classic')?.parse ?? null, base('wamr-fast')?.parse)} (time ${q(base('wamr-classic')?.nsParse ?? null, base('wamr-fast')?.nsParse)}). llhttp one-off (start + load + first compile): ${I.rows.filter((e) => e.subject === 'llhttp').map((e) => `${e.engine} ${B(e.oneOff)}`).join(', ')}.`);
    o.push('');
  } else if (I) o.push(`- Instructions per request in wasm3 / WAMR fast / WAMR classic: ${I.reason}.`);
  const C = r.mcu;
  if (C?.available && C.result) {
    const c = C.result;
    o.push(`Emulated Cortex-M4 (${c.board}; ${c.engine}): Thumb instructions per request on the mix, slope method: feed only ${B(c.thumb_instructions_per_request_parse)} (target ${B(c.target_per_request)}; llhttp below, same run), feed + respond ${B(c.thumb_instructions_per_request)}; one-off load + compile ${B(c.one_off_instructions)} (target ${B(c.target_one_off)}). These use client 0 (a host that does not track clients); on a tracked client's connection, defense counters updated per request as \`moat serve\` does: feed only ${B(c.tracked_client?.thumb_instructions_per_request_parse)}, feed + respond ${B(c.tracked_client?.thumb_instructions_per_request)}, one-off ${B(c.tracked_client?.one_off_instructions)}. Flash and RAM per part: boards/README.md.`, '');
    const g = c.ram_8_connections;
    if (g) {
      const d = g.breakdown;
      o.push(`RAM with ${8} connections mid-request at once (${g.config}, linear memory capped at ${B(g.memory_limit)} B): heap peak ${B(g.heap_peak)} B` +
        ` (runtime + value stack ${B(d.runtime_and_value_stack)}, parsed module ${B(d.parsed_module)}, linear memory ${B(d.linear_memory)}, compiled code ${B(d.compiled_code)},` +
        ` other ${B(d.before_runtime + d.other)}) + C stack ${B(g.stack)} B = ${B(g.total)} B against a target of ${B(g.target)} B` +
        ` (${g.total <= g.target ? 'met' : 'not met'}; tested budget ${B(g.budget.total)} B); wasm3's value stack written to ${B(g.value_stack)} of ${B(g.value_stack_size)} B;` +
        ` every function compiled at load: ${B(g.all_compiled.total)} B.`, '');
    }
    const w = c.wamr_classic, wg = w?.ram_8_connections;
    if (w && wg) {
      const d = wg.breakdown;
      o.push(`The same board with the ${w.engine}, which runs the module's bytes instead of compiling them into RAM: Thumb instructions per request feed only ${B(w.thumb_instructions_per_request_parse)}` +
        ` (${(w.thumb_instructions_per_request_parse / c.thumb_instructions_per_request_parse).toFixed(2)}× wasm3's), feed + respond ${B(w.thumb_instructions_per_request)}; one-off ${B(w.one_off_instructions)};` +
        ` ${8} connections: heap peak ${B(wg.heap_peak)} B (module copy + parsed ${B(d.module)}, instance with linear memory and exec env ${B(d.instance)}, other ${B(d.before_runtime + d.runtime + d.other)})` +
        ` + C stack ${B(wg.stack)} B = ${B(wg.total)} B against ${B(wg.target)} B (${wg.total <= wg.target ? 'met' : 'not met'}; tested budget ${B(wg.budget.total)} B; .data + .bss ${B(wg.static_ram)} B besides);` +
        ` flash (interpreter + glue + module + config) ${B(w.flash?.total)} B.`, '');
    }
  } else if (C) o.push(`- Thumb instructions per request on the emulated Cortex-M4: ${C.reason}.`, '');
  const L = r.mcuBaseline;
  if (L?.available && L.result) {
    const l = L.result, own = C?.result;
    const vs = own ? ` — moat / llhttp ${(own.thumb_instructions_per_request_parse / l.thumb_instructions_per_request_parse).toFixed(2)}× per request, ${(own.one_off_instructions / l.one_off_instructions).toFixed(3)}× one-off` : '';
    o.push(`Baseline on the same board, same run: llhttp's Wasm build in ${l.engine}: ${B(l.thumb_instructions_per_request_parse)} Thumb instructions per request (slope over ${l.rounds.low} and ${l.rounds.high} rounds), one-off ${B(l.one_off_instructions)}; heap peak ${B(l.heap_peak_bytes)} B, C stack ${B(l.stack_bytes)} B; flash (interpreter + runner + module) ${B(l.flash_bytes)} B${vs}.`, '');
  } else if (L) o.push(`- llhttp on the emulated Cortex-M4: ${L.reason}.`, '');
  return o.join('\n');
}
