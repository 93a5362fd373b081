// Replays the bytes of one connection through the module exactly as the server feeds a socket, and
// reports what an application would have received. Used by `moat inspect` and the conformance tests.
import { Moat, ModuleConfig } from './module.ts';
import { Feeder } from './feeder.ts';
import { reasonOf } from './errors.ts';

export interface Limits { uri_bytes?: number; header_bytes?: number; header_count?: number; body_bytes?: number; chunk_ext_bytes?: number }
export interface InspectedRequest {
  method: string; target: string; version: '1.0' | '1.1'; headers: [string, string][];
  body_b64: string; trailers: [string, string][]; keep_alive: boolean;
}
export interface InspectResult { requests: InspectedRequest[]; error: null | { status: number | null; reason: string } }
export interface InspectOptions { limits?: Limits; chunks?: number[]; bytewise?: boolean }

export const LIMIT_KEYS: readonly (keyof Limits)[] = ['uri_bytes', 'header_bytes', 'header_count', 'body_bytes', 'chunk_ext_bytes'];

/** Lays the module out for these limits; the window grows to hold the longest token they allow. */
export function applyLimits(moat: Moat, limits: Limits = {}): void {
  const want: Partial<ModuleConfig> = {};
  for (const k of LIMIT_KEYS) {
    const v = limits[k];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1 || v > 0xffffffff) throw new RangeError(`limits.${k}: ${v} is not a positive integer`);
    want[k] = v;
  }
  const base = moat.defaults();
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

export function inspectConnection(moat: Moat, raw: Uint8Array, opts: InspectOptions = {}): InspectResult {
  applyLimits(moat, opts.limits);
  const slot = moat.open(0, false, 0);
  if (slot < 0) throw new Error(`no slot: ${reasonOf(-slot)}`);
  const requests: InspectedRequest[] = [];
  let error: InspectResult['error'] = null, closed = false;
  const feeder = new Feeder(moat, slot, (e) => {
    if (e.type === 'request') {
      const r = e.request;
      requests.push({ method: r.method, target: r.target, version: r.version, headers: r.headers, body_b64: r.body.toString('base64'), trailers: r.trailers, keep_alive: r.keepAlive });
      closed = !r.keepAlive;
    } else if (e.type === 'error') error = { status: e.status, reason: e.reason };
    else if (e.type === 'close') error = { status: null, reason: e.reason };
  });
  try {
    for (const piece of pieces(raw, opts)) {
      feeder.push(piece, 0);
      while (feeder.isPaused && !closed) feeder.resume(0);
      if (error || closed) break;
    }
  } finally {
    moat.close(slot);
  }
  if (!error && !closed && feeder.midRequest) error = { status: null, reason: 'incomplete' };
  return { requests, error };
}
