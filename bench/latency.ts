// Parser latency in V8: ns per request on the mix (a, b, c, d in turn) and on each request alone.
//
//   moat (driver)  build/moat.wasm driven exactly as the server drives it, without the host's
//                  allocations: copy the request into the input window, feed(), read every span
//                  record (kind, field, offset, length), feed() again from `consumed` after HEAD
//                  until DONE. One keep-alive slot, one request after another.
//   moat (client)  the same driver on a connection opened for a client hash (not 0), the clock
//                  advancing 100 ms per request: the module also updates that client's defense
//                  counters on every request, as `moat serve` does (it passes each peer's hash).
//   moat (Feeder)  the same bytes through host/feeder.ts (the class the server uses: backlog,
//                  RequestAssembler strings for method, target, fields; body chunks copied).
//   llhttp         undici's llhttp Wasm build (scalar and SIMD), no-op JS callbacks, one parser
//                  (type request), the request copied into a malloc'd buffer, llhttp_execute().
//
// Each measurement is a timed loop of whole mixes; runs interleave the parsers so drift hits all.
import { loadMoat, Moat, Verdict } from '../host/module.ts';
import { Feeder } from '../host/feeder.ts';
import { llhttpBytes, noopEnv } from './footprint.ts';
import { loadMix, MIX_NAMES, progress, stat, ratio, type Stat } from './lib.ts';
// @ts-expect-error -- plain ESM script without type declarations
import { TRACKED_CLIENT } from '../boards/scripts/build-sim.mjs';

type Driver = (req: Uint8Array) => number;

/** The tight driver: what host/feeder.ts does for a whole request, with no per-request allocation. */
export async function moatDriver(client = 0): Promise<Driver> {
  const m = await loadMoat();
  const x = m.x;
  const buf = x.memory.buffer;
  const mem = new Uint8Array(buf), u32 = new Uint32Array(buf), u16 = new Uint16Array(buf);
  const input = x.inputPtr(), res = x.resultPtr() >> 2, spans = x.spansPtr() >> 1;
  const slot = x.open(client, 0, 0);
  const step = client ? 100 : 0;   // a tracked client stays under the default 1200 requests/min rule
  let now = 0;
  return (req) => {
    mem.set(req, input);
    const to = req.length;
    let from = 0, acc = 0;
    now = (now + step) >>> 0;
    for (;;) {
      x.feed(slot, from, to, now);
      const v = u32[res], n = u32[res + 5];
      for (let i = 0, p = spans; i < n; i++, p += 4) acc += u16[p] + u16[p + 1] + u16[p + 2] + u16[p + 3];
      if (v & (Verdict.DONE | Verdict.ERROR | Verdict.CLOSE)) return v & (Verdict.ERROR | Verdict.CLOSE) ? -1 : acc;
      const consumed = u32[res + 3];
      if (consumed < to && v !== Verdict.NEED_MORE) { from = consumed; continue; }
      return -1;   // the request did not complete
    }
  };
}

/** The server's own path: host/feeder.ts with its RequestAssembler. */
export async function feederDriver(): Promise<Driver> {
  const m: Moat = await loadMoat();
  const slot = m.open(0, false, 0);
  let done = 0, failed = 0;
  const feeder = new Feeder(m, slot, (e) => {
    if (e.type === 'request') done++;
    else if (e.type === 'error' || e.type === 'close') failed++;
  });
  return (req) => {
    const before = done;
    feeder.push(req, 0);
    feeder.resume(0);
    return failed ? -1 : done - before === 1 ? 1 : -1;
  };
}

/** undici's llhttp Wasm build from JS with no-op callbacks, plus the copy into its memory. */
export function llhttpDriver(simd: boolean): Driver {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(llhttpBytes(simd)), noopEnv());
  const x = inst.exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
  const parser = x.llhttp_alloc(0);
  const at = x.malloc(4096);
  const mem = new Uint8Array(x.memory.buffer);   // no growth after this point
  const execute = x.llhttp_execute;
  return (req) => {
    mem.set(req, at);
    const ret = execute(parser, at, req.length);
    return ret === 0 ? 1 : -1;
  };
}

export interface LatencyOptions { runs: number; msPerMeasure: number; warmupMs: number }
export interface LatencyResult {
  /** ns per request: case → parser → Stat. */
  ns: Record<string, Record<string, Stat>>;
  /** moat driver / baseline, paired per run. */
  ratios: Record<string, Record<string, Stat>>;
  iterations: Record<string, Record<string, number>>;
}

export const PARSERS = ['moat', 'moat-client', 'moat-feeder', 'llhttp', 'llhttp-simd'] as const;
export const CASES = ['mix', ...MIX_NAMES] as const;

export async function latency(o: LatencyOptions): Promise<LatencyResult> {
  const mix = loadMix();
  const drivers: Record<string, Driver> = {
    moat: await moatDriver(),
    'moat-client': await moatDriver(TRACKED_CLIENT),
    'moat-feeder': await feederDriver(),
    llhttp: llhttpDriver(false),
    'llhttp-simd': llhttpDriver(true),
  };
  const sets: Record<string, Uint8Array[]> = { mix: MIX_NAMES.map((n) => mix[n]) };
  for (const n of MIX_NAMES) sets[n] = [mix[n]];

  // Correctness first: every parser must accept every request, repeatedly (keep-alive).
  for (const [p, d] of Object.entries(drivers)) {
    for (let k = 0; k < 3; k++) for (const r of sets.mix) if (d(r) < 0) throw new Error(`${p} refused a mix request`);
  }

  const loop = (d: Driver, set: Uint8Array[], iters: number): number => {
    let acc = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) for (let j = 0; j < set.length; j++) acc += d(set[j]);
    const t1 = process.hrtime.bigint();
    if (acc < 0) throw new Error('a parser failed during timing');
    return Number(t1 - t0);
  };

  // Warm-up and calibration: iterations per measurement so each takes ~msPerMeasure.
  const iterations: Record<string, Record<string, number>> = {};
  for (const c of CASES) {
    iterations[c] = {};
    for (const p of PARSERS) {
      let iters = 100, spent = 0, ns = 0;
      const until = o.warmupMs * 1e6;
      while (spent < until) { ns = loop(drivers[p], sets[c], iters); spent += ns; if (ns < 5e6) iters *= 2; }
      iterations[c][p] = Math.max(100, Math.round((iters * o.msPerMeasure * 1e6) / ns));
    }
  }
  progress(`latency: warmed up (${o.runs} runs × ${CASES.length} cases × ${PARSERS.length} parsers, ~${o.msPerMeasure} ms each)`);

  const samples: Record<string, Record<string, number[]>> = {};
  for (const c of CASES) { samples[c] = {}; for (const p of PARSERS) samples[c][p] = []; }
  for (let r = 0; r < o.runs; r++) {
    for (const c of CASES) {
      const order = r % 2 ? [...PARSERS].reverse() : PARSERS;
      for (const p of order) {
        const iters = iterations[c][p];
        samples[c][p].push(loop(drivers[p], sets[c], iters) / (iters * sets[c].length));
      }
    }
    progress(`latency: run ${r + 1}/${o.runs}: mix moat ${samples.mix.moat[r].toFixed(0)} ns, client ${samples.mix['moat-client'][r].toFixed(0)} ns, feeder ${samples.mix['moat-feeder'][r].toFixed(0)} ns, llhttp ${samples.mix.llhttp[r].toFixed(0)} ns, llhttp-simd ${samples.mix['llhttp-simd'][r].toFixed(0)} ns per request`);
  }

  const ns: LatencyResult['ns'] = {}, ratios: LatencyResult['ratios'] = {};
  for (const c of CASES) {
    ns[c] = {};
    for (const p of PARSERS) ns[c][p] = stat(samples[c][p]);
    ratios[c] = {
      'moat/llhttp': ratio(ns[c].moat, ns[c].llhttp),
      'moat/llhttp-simd': ratio(ns[c].moat, ns[c]['llhttp-simd']),
      'moat-client/llhttp-simd': ratio(ns[c]['moat-client'], ns[c]['llhttp-simd']),
      'moat-feeder/llhttp': ratio(ns[c]['moat-feeder'], ns[c].llhttp),
    };
  }
  return { ns, ratios, iterations };
}
