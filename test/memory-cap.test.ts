// The memory cap below one page (DESIGN.md; moat_load_capped() in boards/glue/moat_wasm3.c and
// moat_wamr.c): each simulator capped at the config's high-water mark rounded up to 1 KiB (host/fit.ts's
// rule, the kit's MOAT_MEMORY_LIMIT) allocates only that much linear memory and answers like V8; a cap
// below the high-water mark is refused by init() with a clear error, whether at load or on a later
// configure().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMoat, type Moat } from '../host/module.ts';
import { inspectConnection } from '../host/inspect.ts';
import { linearMemory } from '../host/fit.ts';
import { ensureSimulator, loadEngine, type EngineMoat } from '../host/engines.ts';
import { ENGINES } from '../host/fit.ts';

const REQUEST = Buffer.from('POST /upload?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
  'GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 'latin1');

for (const engine of ENGINES) describe(`${engine} with a memory cap below one page`, () => {
  let v8: Moat;
  let cap = 0;
  const open: EngineMoat[] = [];
  beforeAll(async () => {
    await ensureSimulator(engine);
    v8 = await loadMoat();
    cap = linearMemory(v8.highWater);
  }, 300_000);
  afterAll(() => { for (const m of open) m.dispose(); });

  it('allocates only the cap and answers like V8', async () => {
    expect(cap).toBeLessThan(65536);
    expect(cap % 1024).toBe(0);
    const m = await loadEngine(engine, {}, { memoryLimit: cap });
    open.push(m);
    expect(m.bytes.length).toBe(cap);          // the simulator's memory size (m3_GetMemory, WAMR's app address range) is the cap
    expect(m.highWater).toBe(v8.highWater);
    for (const bytewise of [false, true]) {
      const got = inspectConnection(m, REQUEST, { bytewise });
      expect(got).toEqual(inspectConnection(v8, REQUEST, { bytewise }));
      expect(got.requests.map((r) => r.target)).toEqual(['/upload?x=1', '/next']);
    }
  });

  it('refuses a cap below the high-water mark with a clear error', async () => {
    const low = cap - 1024;
    expect(low).toBeLessThan(v8.highWater);
    await expect(loadEngine(engine, {}, { memoryLimit: low }))
      .rejects.toThrow(`init: high-water mark ${v8.highWater} bytes exceeds the memory limit ${low} bytes (raise the limit to at least ${cap})`);
  });

  it('refuses a later config that needs more than the cap', async () => {
    const m = await loadEngine(engine, {}, { memoryLimit: cap });
    open.push(m);
    expect(() => m.configure({ window_bytes: m.config.window_bytes + 4096 })).toThrow(/init: high-water mark \d+ bytes exceeds the memory limit \d+ bytes/);
  });
});
