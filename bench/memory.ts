// Memory over many requests: one module instance, one slot kept open (keep-alive), the mix fed
// through host/feeder.ts and answered with respond() — the server's per-request module calls —
// N requests in all. RSS, V8 heap and the module's memory are sampled every 10 % (after a forced
// GC when --expose-gc is on); the slope is a least-squares fit, in bytes per 100,000 requests.
import { loadMoat } from '../host/module.ts';
import { Feeder } from '../host/feeder.ts';
import { loadMix, MIX_NAMES, progress } from './lib.ts';

export interface MemoryOptions { requests: number; run: number; runs: number }
export interface MemorySample { requests: number; rss: number; heapUsed: number; heapTotal: number; external: number; moduleBytes: number; highWater: number }
export interface MemoryRun {
  requests: number; seconds: number; samples: MemorySample[];
  /** Bytes per 100,000 requests, least squares over the samples. */
  slope: { rss: number; heapUsed: number; moduleBytes: number; highWater: number };
  moduleMemoryChanged: boolean;
}

/** Requests before the first sample: V8 grows its young generation over the first ~100k. */
export const WARMUP = 100_000;

const gc = (globalThis as { gc?: () => void }).gc;

function slope(xs: number[], ys: number[]): number {
  const n = xs.length, mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2; }
  return den ? num / den : 0;
}

export async function memory(o: MemoryOptions): Promise<MemoryRun> {
  const mix = loadMix();
  const reqs = MIX_NAMES.map((n) => mix[n]);
  const m = await loadMoat();
  const slot = m.open(0, false, 0);
  let done = 0, failed = 0;
  const feeder = new Feeder(m, slot, (e) => {
    if (e.type === 'request') done++;
    else if (e.type === 'error' || e.type === 'close') failed++;
  });
  const one = (i: number) => {
    feeder.push(reqs[i & 3], 0);
    const r = m.respond(slot, 200, 0, [], 0, 0);
    if (typeof r === 'number' || r.close) failed++;
    feeder.resume(0);
  };
  // Warm-up (JIT, pools) before the first sample.
  for (let i = 0; i < WARMUP; i++) one(i);
  for (let i = 0; i < 3; i++) gc?.();   // let V8 shrink what the warm-up grew before the first sample
  const snapshot0 = m.bytes.slice(m.highWater);   // bytes above the high-water mark: must never change
  const samples: MemorySample[] = [];
  const sample = (requests: number) => {
    gc?.();
    const mu = process.memoryUsage();
    samples.push({ requests, rss: mu.rss, heapUsed: mu.heapUsed, heapTotal: mu.heapTotal, external: mu.external, moduleBytes: m.x.memory.buffer.byteLength, highWater: m.highWater });
  };
  sample(0);
  const step = o.requests / 10;
  const t0 = performance.now();
  for (let k = 1; k <= 10; k++) {
    for (let i = (k - 1) * step; i < k * step; i++) one(i);
    sample(k * step);
    if (failed) throw new Error(`memory: ${failed} requests failed`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const above = m.bytes.slice(m.highWater);
  const moduleMemoryChanged = !above.every((b, i) => b === snapshot0[i]);
  if (done < o.requests) throw new Error(`memory: only ${done} requests completed`);
  const xs = samples.map((s) => s.requests);
  const per = (key: keyof MemorySample) => slope(xs, samples.map((s) => s[key])) * 100_000;
  const r: MemoryRun = {
    requests: o.requests, seconds, samples,
    slope: { rss: per('rss'), heapUsed: per('heapUsed'), moduleBytes: per('moduleBytes'), highWater: per('highWater') },
    moduleMemoryChanged,
  };
  progress(`memory: run ${o.run}/${o.runs}: ${o.requests.toLocaleString('en-US')} requests in ${seconds.toFixed(1)} s, RSS ${(samples[0].rss / 2 ** 20).toFixed(1)} → ${(samples[10].rss / 2 ** 20).toFixed(1)} MiB, slope ${r.slope.rss.toFixed(0)} B RSS / ${r.slope.heapUsed.toFixed(0)} B heap per 100k`);
  return r;
}
