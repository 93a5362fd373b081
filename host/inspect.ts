// Replays the bytes of one connection through the module exactly as the server feeds a socket, and
// reports what an application would have received. Used by `moat inspect` and the conformance tests.
import { Moat, ModuleConfig, Verdict, SpanKind, RequestFlag } from './module.ts';
import { reasonOf } from './errors.ts';

export interface Limits { uri_bytes?: number; header_bytes?: number; header_count?: number; body_bytes?: number; chunk_ext_bytes?: number }
export interface InspectedRequest {
  method: string; target: string; version: '1.0' | '1.1'; headers: [string, string][];
  body_b64: string; trailers: [string, string][]; keep_alive: boolean;
}
export interface InspectResult { requests: InspectedRequest[]; error: null | { status: number | null; reason: string } }
export interface InspectOptions { limits?: Limits; chunks?: number[]; bytewise?: boolean }

const LIMIT_KEYS: (keyof Limits)[] = ['uri_bytes', 'header_bytes', 'header_count', 'body_bytes', 'chunk_ext_bytes'];
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Re-lays the module out only when the limits differ from those it has. */
export function applyLimits(moat: Moat, limits: Limits = {}): void {
  const want: Partial<ModuleConfig> = {};
  for (const k of LIMIT_KEYS) {
    const v = limits[k];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1 || v > 0xffffffff) throw new RangeError(`limits.${k}: ${v} is not a positive integer`);
    want[k] = v;
  }
  const base = moat.defaults();
  // Window must exceed the longest retained token: grow it with the limits, within the page.
  const longest = Math.max(want.uri_bytes ?? base.uri_bytes, want.header_bytes ?? base.header_bytes);
  want.window_bytes = Math.max(base.window_bytes, longest + 1024);
  moat.configure(want);
}

/** Splits `raw` into the feed sizes a socket might deliver. */
function pieces(raw: Uint8Array, opts: InspectOptions): Uint8Array[] {
  if (opts.bytewise) return Array.from(raw, (_, i) => raw.subarray(i, i + 1));
  if (!opts.chunks) return [raw];
  const out: Uint8Array[] = [];
  let at = 0;
  for (const n of opts.chunks) { if (at >= raw.length) break; out.push(raw.subarray(at, at + n)); at += n; }
  if (at < raw.length) out.push(raw.subarray(at));
  return out;
}

class Collector {
  requests: InspectedRequest[] = [];
  cur: (InspectedRequest & { body: Buffer[] }) | null = null;

  span(moat: Moat, i: number): void {
    const s = moat.span(i);
    const text = latin1(moat.spanBytes(s));
    if (s.kind === SpanKind.METHOD) {
      this.cur = { method: text, target: '', version: '1.1', headers: [], body_b64: '', trailers: [], keep_alive: false, body: [] };
      return;
    }
    const r = this.cur!;
    switch (s.kind) {
      case SpanKind.TARGET: r.target = text; break;
      case SpanKind.NAME: r.headers.push([text, '']); break;
      case SpanKind.VALUE: r.headers[r.headers.length - 1][1] = text; break;
      case SpanKind.TRAILER_NAME: r.trailers.push([text, '']); break;
      case SpanKind.TRAILER_VALUE: r.trailers[r.trailers.length - 1][1] = text; break;
      case SpanKind.BODY: r.body.push(Buffer.from(moat.spanBytes(s))); break;
    }
  }

  head(flags: number): void {
    this.cur!.version = flags & RequestFlag.V11 ? '1.1' : '1.0';
    this.cur!.keep_alive = (flags & RequestFlag.KEEP_ALIVE) !== 0;
  }

  done(): InspectedRequest {
    const { body, ...req } = this.cur!;
    req.body_b64 = Buffer.concat(body).toString('base64');
    this.requests.push(req);
    this.cur = null;
    return req;
  }
}

export function inspectConnection(moat: Moat, raw: Uint8Array, opts: InspectOptions = {}): InspectResult {
  applyLimits(moat, opts.limits);
  const slot = moat.open(0, false, 0);
  if (slot < 0) throw new Error(`no slot: ${reasonOf(-slot)}`);
  const out = new Collector();
  const cap = moat.inputCap;
  let retained: Uint8Array = new Uint8Array(0);
  let inRequest = false;
  try {
    for (const piece of pieces(raw, opts)) {
      let at = 0;
      while (at < piece.length) {
        // Retained token first, then as many new bytes as the window holds.
        const n = Math.min(piece.length - at, cap - retained.length);
        moat.write(retained, 0);
        moat.write(piece.subarray(at, at + n), retained.length);
        at += n;
        const to = retained.length + n;
        let from = 0;
        for (;;) {
          const r = moat.feed(slot, from, to);
          for (let i = 0; i < r.spans; i++) out.span(moat, i);
          if (r.verdict & (Verdict.ERROR | Verdict.CLOSE)) {
            return { requests: out.requests, error: { status: r.status || null, reason: reasonOf(r.code) } };
          }
          if (r.verdict & Verdict.HEAD) out.head(r.flags);
          inRequest = (r.flags & RequestFlag.STARTED) !== 0;
          if (r.verdict & Verdict.DONE) {
            inRequest = false;
            if (!out.done().keep_alive) return { requests: out.requests, error: null };
          }
          if (r.consumed < to && r.verdict !== Verdict.NEED_MORE) { from = r.consumed; continue; }
          retained = moat.bytes.slice(moat.inputPtr + r.keep, moat.inputPtr + to);
          break;
        }
      }
    }
  } finally {
    moat.close(slot);
  }
  if (inRequest || retained.length > 0) return { requests: out.requests, error: { status: null, reason: 'incomplete' } };
  return { requests: out.requests, error: null };
}
