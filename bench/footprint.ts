// Footprint: module bytes (raw / gzip -9 / brotli -q11), functions and the largest body, linear
// memory, and what one connection costs in memory — for build/moat.wasm and for undici's llhttp
// Wasm builds (the base64 the npm package ships). Exact numbers: no timing, so CI can gate on them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync, brotliCompressSync, constants as zc } from 'node:zlib';
import { checkWasm, summarize, MAX_MODULE_BYTES } from '../test/helpers/wasm-check.ts';
import { walkSections, WasmReader } from '../test/helpers/wasm-sections.ts';
import { Moat, WASM_PATH } from '../host/module.ts';

const require = createRequire(import.meta.url);

export interface ModuleShape {
  raw: number; gzip: number; brotli: number;
  functions: number; imports: number;
  largestFunction: { index: number; bytes: number; export: string | null };
  codeBytes: number;
  memory: { minPages: number; maxPages: number | null };
}

/** Sizes and structure of any core module, read from its sections. */
export function moduleShape(bytes: Uint8Array): ModuleShape {
  let importedFuncs = 0, imports = 0;
  const bodies: number[] = [];
  const exportsByFunc = new Map<number, string>();
  let memory = { minPages: 0, maxPages: null as number | null };
  let codeBytes = 0;
  for (const s of walkSections(bytes)) {
    const r = new WasmReader(bytes, s.start, s.end);
    if (s.id === 2) {
      const n = r.u32();
      imports = n;
      for (let i = 0; i < n; i++) {
        r.name(); r.name();
        const kind = r.u8();
        if (kind === 0) { r.u32(); importedFuncs++; }
        else if (kind === 1) { r.u8(); const f = r.u8(); r.u32(); if (f & 1) r.u32(); }
        else if (kind === 2) { const f = r.u8(); const min = r.u32(); const max = f & 1 ? r.u32() : null; memory = { minPages: min, maxPages: max }; }
        else if (kind === 3) { r.u8(); r.u8(); }
        else throw new Error(`import kind ${kind}`);
      }
    } else if (s.id === 5) {
      if (r.u32() > 0) { const f = r.u8(); const min = r.u32(); const max = f & 1 ? r.u32() : null; memory = { minPages: min, maxPages: max }; }
    } else if (s.id === 7) {
      const n = r.u32();
      for (let i = 0; i < n; i++) { const name = r.name(); const kind = r.u8(); const idx = r.u32(); if (kind === 0 && !exportsByFunc.has(idx)) exportsByFunc.set(idx, name); }
    } else if (s.id === 10) {
      codeBytes = s.size;
      const n = r.u32();
      for (let i = 0; i < n; i++) { const size = r.u32(); bodies.push(size); r.skip(size); }
    }
  }
  let big = 0;
  for (let i = 1; i < bodies.length; i++) if (bodies[i] > bodies[big]) big = i;
  const index = importedFuncs + big;
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length,
    functions: bodies.length, imports,
    largestFunction: { index, bytes: bodies[big] ?? 0, export: exportsByFunc.get(index) ?? null },
    codeBytes,
    memory,
  };
}

export interface MoatFootprint extends ModuleShape {
  budget: number;
  formatOk: boolean;
  violations: string[];
  summary: string;
  /** Bytes of linear memory init() lays out with the default config (50 slots). */
  highWater: number;
  highWaterAt: Record<string, number>;
  defaultSlots: number;
  bytesPerSlot: number;
  /** No per-client table exists yet (per-client counting scans the slots). */
  bytesPerClientEntry: number | null;
  bytesPerClientEntryNote: string;
}

export async function moatFootprint(bytes: Uint8Array<ArrayBuffer> = readFileSync(WASM_PATH)): Promise<MoatFootprint> {
  const shape = moduleShape(bytes);
  const check = await checkWasm(bytes);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const m = new Moat(instance.exports as unknown as ConstructorParameters<typeof Moat>[0]);
  const defaults = m.defaults();
  m.configure({});
  const highWater = m.highWater;
  const at: Record<string, number> = {};
  for (const slots of [1, 64]) { m.configure({ slots }); at[`slots=${slots}`] = m.highWater; }
  // The defense's client table: one record per client, 20 bytes + 8 per rule (the default rules).
  let perClient: number | null = null;
  for (const n of [1, 64]) { m.configure({ slots: 64, clients: n }); at[`slots=64,clients=${n}`] = m.highWater; }
  const dc = (at['slots=64,clients=64'] - at['slots=64,clients=1']) / 63;
  if (dc > 0) perClient = dc;
  return {
    ...shape,
    budget: MAX_MODULE_BYTES,
    formatOk: check.ok,
    violations: check.violations.map((v) => `[${v.rule}] ${v.message}`),
    summary: summarize(check.info),
    highWater,
    highWaterAt: { [`slots=${defaults.slots} (default)`]: highWater, ...at },
    defaultSlots: defaults.slots,
    bytesPerSlot: (at['slots=64'] - at['slots=1']) / 63,
    bytesPerClientEntry: perClient,
    bytesPerClientEntryNote: perClient === null ? 'n/a: the client table did not grow with moat.defense.clients' : `high-water delta per client record (${defaults.rule_count} rules)`,
  };
}

export interface LlhttpFootprint extends ModuleShape {
  file: string;
  /** Linear memory after instantiation, one parser and undici's first 4096-byte input buffer. */
  memoryBytesInUse: number;
  /** malloc'd bytes per parser (llhttp_alloc twice; includes the allocator's header). */
  bytesPerParser: number;
}

/** The bytes of undici's llhttp Wasm build: `simd` false = llhttp-wasm.js, true = llhttp_simd-wasm.js. */
export function llhttpBytes(simd: boolean): Uint8Array<ArrayBuffer> {
  const b = require(`undici/lib/llhttp/${simd ? 'llhttp_simd-wasm.js' : 'llhttp-wasm.js'}`) as Buffer;
  return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
}

export const noopEnv = () => ({
  env: {
    wasm_on_message_begin: () => 0, wasm_on_url: () => 0, wasm_on_status: () => 0,
    wasm_on_header_field: () => 0, wasm_on_header_value: () => 0, wasm_on_headers_complete: () => 0,
    wasm_on_body: () => 0, wasm_on_message_complete: () => 0,
  },
});

export function llhttpFootprint(simd: boolean): LlhttpFootprint {
  const bytes = llhttpBytes(simd);
  const shape = moduleShape(bytes);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), noopEnv());
  const x = inst.exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
  (x._initialize as unknown as (() => void) | undefined)?.();
  const p1 = x.llhttp_alloc(0), p2 = x.llhttp_alloc(0);
  x.llhttp_free(p2);
  x.malloc(4096);
  return {
    file: `undici/lib/llhttp/${simd ? 'llhttp_simd-wasm.js' : 'llhttp-wasm.js'}`,
    ...shape,
    memoryBytesInUse: x.memory.buffer.byteLength,
    bytesPerParser: Math.abs(p2 - p1),
  };
}

export async function footprint() {
  return { moat: await moatFootprint(), llhttp: llhttpFootprint(false), llhttpSimd: llhttpFootprint(true) };
}
