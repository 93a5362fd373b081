// The one typed wrapper of the module ABI (ABI.md). Loads build/moat.wasm into V8 with no imports,
// writes the config blob, and reads result, span and event records straight from linear memory.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const WASM_PATH = fileURLToPath(new URL('../build/moat.wasm', import.meta.url));

/** Defense rules the blob holds (assembly/defense.ts): 4 words each from word 32. */
export const MAX_RULES = 8;
export const RULE_FIELDS = ['kind', 'over', 'per_ms', 'for_ms'] as const;
type RuleWordKey = `rule${0 | 1 | 2 | 3 | 4 | 5 | 6 | 7}_${(typeof RULE_FIELDS)[number]}`;

function ruleWords(): Record<RuleWordKey, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < 8; i++) RULE_FIELDS.forEach((f, j) => { out[`rule${i}_${f}`] = 32 + 4 * i + j; });
  return out as Record<RuleWordKey, number>;
}

/** Config blob word indices (assembly/config.ts). */
export const ConfigWord = {
  magic: 0, slots: 1, uri_bytes: 2, header_bytes: 3, header_count: 4, body_bytes: 5, form_bytes: 6,
  upload_bytes: 7, chunk_ext_bytes: 8, client_connections: 9, client_requests: 10, sessions: 11,
  timeout_parse_ms: 12, timeout_inactivity_ms: 13, timeout_request_ms: 14, timeout_session_ms: 15,
  timeout_tls_ms: 16, flags: 17, hsts_max_age: 18, window_bytes: 19, span_records: 20,
  event_records: 21, out_bytes: 22, clients: 23, rule_count: 24, delay_ms: 25,
  ...ruleWords(),
} as const;
export type ConfigKey = Exclude<keyof typeof ConfigWord, 'magic'>;
export type ModuleConfig = Record<ConfigKey, number>;
export const CONFIG_WORDS = 64;
/** Words init() lays memory out by (assembly/config.ts layout()). */
export const LAYOUT_WORDS = ['slots', 'window_bytes', 'span_records', 'event_records', 'out_bytes', 'clients', 'rule_count'] as const;
/** u32 words of the result record (assembly/output.ts). */
export const RESULT_WORDS = 10;

/** Counters and remedies of a defense rule (assembly/defense.ts CT_* / RM_*); kind = counter | remedy << 8. */
export const DefenseCounter = { requests: 0, badRequests: 1, limitHits: 2, notFound: 3, authFailures: 4, errors: 5, connections: 6 } as const;
export const DefenseRemedy = { log: 0, alert: 1, delay: 2, ban: 3, reject: 4 } as const;
export const NEVER = 0xffffffff;
export const ConfigFlag = { stealth: 1, hsts: 2, hstsSubdomains: 4 } as const;

export const Verdict = { NEED_MORE: 0, HEAD: 1, DONE: 2, PAUSE: 4, ERROR: 8, CLOSE: 16 } as const;
export const SpanKind = { METHOD: 1, TARGET: 2, NAME: 3, VALUE: 4, BODY: 5, TRAILER_NAME: 6, TRAILER_VALUE: 7 } as const;
/** Request flags reported in FeedResult.flags (assembly/slots.ts R_*). */
export const RequestFlag = {
  V11: 1 << 0, HOST: 1 << 1, CONTENT_LENGTH: 1 << 2, TRANSFER_ENCODING: 1 << 3, EXPECT_CONTINUE: 1 << 11,
  TRAILERS: 1 << 12, FORM: 1 << 13, UPLOAD: 1 << 14, HEAD_METHOD: 1 << 15, CONNECT: 1 << 16,
  OPTIONS: 1 << 17, STARTED: 1 << 18, KEEP_ALIVE: 1 << 19, CHUNKED: 1 << 20, HEAD_DONE: 1 << 21, DONE: 1 << 22,
} as const;
export const EventKind = { REJECT: 1, LIMIT: 2, TIMEOUT: 3, RESPONSE: 4, DEFENSE: 5, CLIENTS_FULL: 6 } as const;

export interface FeedResult {
  verdict: number; status: number; code: number; consumed: number; keep: number;
  spans: number; flags: number; contentLength: number;
  /** ms to wait before answering this head (a delayed client), else 0. */
  delay: number;
  /** Retry-After seconds of a 429, else 0. */
  retryAfter: number;
}
export interface Span { kind: number; field: number; offset: number; length: number }
/** One record of the defense's client table (ABI.md "Defense"). */
export interface ClientRecord {
  client: number; lastSeen: number; offenses: number;
  /** ms left of a ban / delay at the time asked, 0 when none. */
  bannedMs: number; delayedMs: number;
  /** Per rule: events in the current window and in the previous one. */
  counts: { current: number; previous: number }[];
}
export interface ModuleEvent { time: number; kind: number; slot: number; code: number; client: number }
/** One application field for respond(); names and values are bytes (latin-1 strings). */
export type AppField = readonly [name: string, value: string];

interface Exports {
  memory: WebAssembly.Memory;
  configPtr(): number; resultPtr(): number; init(): number; inputPtr(): number; inputCap(): number;
  spansPtr(): number; outPtr(): number; eventsPtr(): number; eventsCap(): number; eventCount(): number;
  classesPtr(): number; status(code: number): number; clientsPtr(): number; forgive(client: number): number;
  open(client: number, tls: number, now: number): number; close(slot: number): void;
  feed(slot: number, from: number, to: number, now: number): number;
  respond(slot: number, status: number, length: number, appLen: number, opts: number, now: number): number;
  tick(now: number, from: number): number;
}

// Buffer's own latin-1 decoder: what toString('latin1', a, b) calls after argument checks that a
// span, bounded by the module, does not need. Hot: one call per method, target, name and value.
type LatinSlicer = Buffer & { latin1Slice(start: number, end: number): string };

let compiled: WebAssembly.Module | undefined;

/** The module's bytes: embedded in a bundle (host/bundle.mjs sets globalThis.__MOAT_WASM_B64__), else WASM_PATH. */
export function wasmBytes(): Uint8Array<ArrayBuffer> {
  const embedded = (globalThis as { __MOAT_WASM_B64__?: string }).__MOAT_WASM_B64__;
  return embedded ? Buffer.from(embedded, 'base64') : readFileSync(WASM_PATH);
}

export async function loadMoat(config: Partial<ModuleConfig> = {}): Promise<Moat> {
  compiled ??= await WebAssembly.compile(wasmBytes());
  const instance = await WebAssembly.instantiate(compiled, {});
  return new Moat(instance.exports as unknown as Exports, config);
}

export class Moat {
  readonly x: Exports;
  readonly bytes: Uint8Array;
  /** The same memory as a Buffer (latin-1 decoding without copies) and as u16 / u32 words. */
  readonly buf: Buffer;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly view: DataView;
  // Region addresses, fixed between init() calls; cached because each export call costs.
  private input = 0;
  private cap = 0;
  private spansAt = 0;
  private resultAt = 0;
  /** Bytes of linear memory in use (the high-water mark init() reports). */
  highWater = 0;
  config!: ModuleConfig;

  constructor(x: Exports, config: Partial<ModuleConfig> = {}) {
    this.x = x;
    const mem = x.memory.buffer;
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('moat host needs a little-endian machine');
    this.bytes = new Uint8Array(mem);
    this.buf = Buffer.from(mem);
    this.u16 = new Uint16Array(mem);
    this.u32 = new Uint32Array(mem);
    this.view = new DataView(mem);
    this.configure(config);
  }

  /** The module's own defaults: init() on a blank blob fills them in. */
  defaults(): ModuleConfig {
    const base = this.x.configPtr();
    for (let i = 0; i < CONFIG_WORDS; i++) this.view.setUint32(base + 4 * i, 0, true);
    this.init();
    return this.readConfig();
  }

  private readConfig(): ModuleConfig {
    const base = this.x.configPtr();
    const out = {} as ModuleConfig;
    for (const [k, i] of Object.entries(ConfigWord)) if (k !== 'magic') out[k as ConfigKey] = this.view.getUint32(base + 4 * i, true);
    return out;
  }

  /** Writes defaults + overrides and lays the module out again; every slot is closed. */
  configure(overrides: Partial<ModuleConfig>): void {
    const cfg = { ...this.defaults(), ...overrides };
    this.writeBlob(encodeConfig(cfg));
    const hw = this.init();
    if (hw < 0) throw new Error(`module refused the config: ${JSON.stringify(overrides)} (code ${-hw})`);
    this.config = cfg;
  }

  /**
   * Writes config words the module reads at each use (limits, timeouts, flags, rule thresholds)
   * into the live blob, without init(): open connections and the client table stay. Words that
   * lay out memory (LAYOUT_WORDS) cannot change this way; naming one with a new value throws.
   */
  setLiveWords(words: Partial<ModuleConfig>): void {
    const base = this.x.configPtr();
    for (const [k, v] of Object.entries(words) as [ConfigKey, number][]) {
      if (v === undefined || v === this.config[k]) continue;
      if ((LAYOUT_WORDS as readonly string[]).includes(k)) throw new Error(`config word ${k} lays out module memory: it changes only with a restart`);
      this.view.setUint32(base + 4 * ConfigWord[k], v >>> 0, true);
      this.config = { ...this.config, [k]: v };
    }
  }

  /** The client records in use, read straight from the module's table. */
  clients(now: number): ClientRecord[] {
    const n = this.config.clients, rules = this.config.rule_count, size = 20 + 8 * rules, base = this.x.clientsPtr(), v = this.view;
    const left = (until: number, on: boolean) => (on && ((until - now) | 0) > 0 ? (until - now) >>> 0 : 0);
    const out: ClientRecord[] = [];
    for (let i = 0; i < n; i++) {
      const p = base + i * size, client = v.getUint32(p, true);
      if (client === 0) continue;
      const flags = v.getUint8(p + 16);
      out.push({
        client, lastSeen: v.getUint32(p + 4, true), offenses: v.getUint16(p + 18, true),
        bannedMs: left(v.getUint32(p + 8, true), (flags & 1) !== 0), delayedMs: left(v.getUint32(p + 12, true), (flags & 2) !== 0),
        counts: Array.from({ length: rules }, (_, r) => ({ current: v.getUint16(p + 20 + 8 * r, true), previous: v.getUint16(p + 22 + 8 * r, true) })),
      });
    }
    return out;
  }

  /** Frees a client's record: an operator lifting a ban or delay. Whether it had one. */
  forgive(client: number): boolean { return this.x.forgive(client >>> 0) === 1; }

  /** init() on the blob in place; region addresses are cached again (they move with the layout). */
  init(): number {
    const hw = this.x.init();
    if (hw >= 0) this.highWater = hw;
    this.input = this.x.inputPtr();
    this.cap = this.x.inputCap();
    this.spansAt = this.x.spansPtr();
    this.resultAt = this.x.resultPtr();
    return hw;
  }

  writeBlob(blob: Uint8Array): void {
    this.bytes.set(blob, this.x.configPtr());
  }

  get inputPtr(): number { return this.input; }
  get inputCap(): number { return this.cap; }

  open(client = 0, tls = false, now = 0): number { return this.x.open(client >>> 0, tls ? 1 : 0, now >>> 0); }
  close(slot: number): void { this.x.close(slot); }

  /** Copies bytes into the input window at `at` (the host's only way in). */
  write(bytes: Uint8Array, at = 0): void {
    if (at + bytes.length > this.inputCap) throw new RangeError('input window overflow');
    this.bytes.set(bytes, this.inputPtr + at);
  }

  feed(slot: number, from: number, to: number, now = 0): FeedResult {
    this.x.feed(slot, from, to, now >>> 0);
    return this.result();
  }

  result(): FeedResult {
    const r = this.resultAt >> 2, u = this.u32;
    return { verdict: u[r], status: u[r + 1], code: u[r + 2], consumed: u[r + 3], keep: u[r + 4], spans: u[r + 5], flags: u[r + 6], contentLength: u[r + 7], delay: u[r + 8], retryAfter: u[r + 9] };
  }

  span(i: number): Span {
    const p = (this.spansAt >> 1) + 4 * i, u = this.u16;
    return { kind: u[p], field: u[p + 1], offset: u[p + 2], length: u[p + 3] };
  }

  /** Kind of span i, and its window text as latin-1, without allocating a Span. */
  spanKind(i: number): number { return this.u16[(this.spansAt >> 1) + 4 * i]; }
  spanText(i: number): string {
    const p = (this.spansAt >> 1) + 4 * i, at = this.input + this.u16[p + 2];
    return (this.buf as LatinSlicer).latin1Slice(at, at + this.u16[p + 3]);
  }
  /** Copy of span i's bytes (body data). */
  spanCopy(i: number): Buffer {
    const p = (this.spansAt >> 1) + 4 * i, at = this.input + this.u16[p + 2];
    const n = this.u16[p + 3], out = Buffer.allocUnsafe(n);
    out.set(this.bytes.subarray(at, at + n));
    return out;
  }

  /** Bytes of the input window a span points at (a view: copy before the next call). */
  spanBytes(s: Span): Uint8Array {
    const p = this.inputPtr + s.offset;
    return this.bytes.subarray(p, p + s.length);
  }

  /**
   * Writes the response head for `slot`. Returns the head bytes (a copy) or throws nothing: a
   * negative number is the module's refusal code.
   */
  respond(slot: number, status: number, length: number, fields: readonly AppField[] = [], opts = 0, now = 0): { head: Uint8Array; close: boolean } | number {
    // Names and values go straight into the input window as latin-1 (one byte per UTF-16 unit,
    // as Buffer.from(s, 'latin1') would make them), with no intermediate buffers.
    let at = 0;
    const base = this.inputPtr, cap = this.inputCap, b = this.buf, v = this.view;
    for (const [n, val] of fields) {
      const nl = n.length, vl = val.length;
      if (at + 4 + nl + vl > cap || nl > 0xffff || vl > 0xffff) return -44;
      v.setUint16(base + at, nl, true);
      v.setUint16(base + at + 2, vl, true);
      b.write(n, base + at + 4, nl, 'latin1');
      b.write(val, base + at + 4 + nl, vl, 'latin1');
      at += 4 + nl + vl;
    }
    const n = this.x.respond(slot, status, length, at, opts, now >>> 0);
    if (n < 0) return n;
    const p = this.x.outPtr();
    return { head: this.bytes.slice(p, p + n), close: this.result().verdict === Verdict.CLOSE };
  }

  /** Slots whose deadline passed at `now`, each with the verdict the module gave it. */
  *expired(now: number): Generator<{ slot: number; result: FeedResult }> {
    for (let s = this.x.tick(now >>> 0, 0); s >= 0; s = this.x.tick(now >>> 0, s + 1)) yield { slot: s, result: this.result() };
  }

  eventCount(): number { return this.x.eventCount(); }

  /** Events with sequence numbers [from, eventCount()); `lost` counts those the ring overwrote. */
  events(from: number): { events: ModuleEvent[]; next: number; lost: number } {
    const total = this.x.eventCount(), cap = this.x.eventsCap(), base = this.x.eventsPtr(), v = this.view;
    const first = Math.max(from, total - cap);
    const events: ModuleEvent[] = [];
    for (let i = first; i < total; i++) {
      const p = base + 12 * (i % cap);
      events.push({ time: v.getUint32(p, true), kind: v.getUint8(p + 4), slot: v.getUint8(p + 5), code: v.getUint16(p + 6, true), client: v.getUint32(p + 8, true) });
    }
    return { events, next: total, lost: first - from };
  }
}

export function encodeConfig(cfg: ModuleConfig): Uint8Array {
  const blob = new Uint8Array(CONFIG_WORDS * 4);
  const v = new DataView(blob.buffer);
  v.setUint32(0, 0x3154414d, true);
  for (const [k, i] of Object.entries(ConfigWord)) if (k !== 'magic') v.setUint32(4 * i, cfg[k as ConfigKey] >>> 0, true);
  return blob;
}
