// The quick footprint part of the benchmarks (bench/footprint.ts), as CI's gate. It fails only on
// exact budgets — module size, one fixed memory page, the high-water mark — never on timings.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { moatFootprint, llhttpFootprint, type MoatFootprint } from '../bench/footprint.ts';
import { WASM_PATH } from '../host/module.ts';

const PAGE = 65536;

describe('bench footprint budgets', () => {
  let fp: MoatFootprint;
  beforeAll(async () => { fp = await moatFootprint(readFileSync(WASM_PATH)); });

  it('moat.wasm is at most 16384 bytes', () => {
    expect(fp.budget).toBe(16384);
    expect(fp.raw).toBeLessThanOrEqual(16384);
  });

  it('has exactly one linear-memory page that cannot grow', () => {
    expect(fp.memory).toEqual({ minPages: 1, maxPages: 1 });
  });

  it('lays out its tables within that page (high-water mark ≤ 65536)', () => {
    expect(fp.highWater).toBeGreaterThan(0);
    expect(fp.highWater).toBeLessThanOrEqual(PAGE);
    for (const hw of Object.values(fp.highWaterAt)) expect(hw).toBeLessThanOrEqual(PAGE);
  });

  it('reports the figures the benchmark table shows', () => {
    expect(fp.gzip).toBeGreaterThan(0);
    expect(fp.brotli).toBeGreaterThan(0);
    expect(fp.functions).toBeGreaterThan(0);
    expect(fp.largestFunction.bytes).toBeGreaterThan(0);
    expect(fp.bytesPerSlot).toBeGreaterThan(0);
    // The baseline is read from the installed undici package, not vendored.
    const l = llhttpFootprint(false);
    expect(l.raw).toBeGreaterThan(0);
    expect(l.largestFunction.bytes).toBeGreaterThan(0);
  });
});
