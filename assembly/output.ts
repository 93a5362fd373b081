// What one call tells the host: the result record and the span records written into the span area.
//
// Result record (RESULT, u32 words):
//   0 verdict   V_* bits                     4 keep      window offset of the first byte to retain
//   1 status    HTTP status for an error     5 spans     span records written by this call
//   2 code      error code (errors.ts)       6 flags     R_* flags of the request (slots.ts)
//   3 consumed  window offset parsing reached 7 length   Content-Length (low 32 bits) at head end
//   8 delay     ms to wait before answering this head (defense: a delayed client)
//   9 retry     seconds for Retry-After with a 429
//
// Span record (8 bytes): u16 kind, u16 field id (names only), u16 offset, u16 length. Offsets are
// window-relative; the window is below 64 KiB so both fit in u16.
import { cfg, C_SPANS, spansBase, inputBase, SPAN_BYTES } from './config';
import * as ctx from './context';

@inline export const V_NEED_MORE: u32 = 0;
@inline export const V_HEAD: u32 = 1;    // head complete: method, target, fields all reported
@inline export const V_DONE: u32 = 2;    // message complete
@inline export const V_PAUSE: u32 = 4;   // span area full: call again from `consumed`
@inline export const V_ERROR: u32 = 8;   // answer `status`, then close
@inline export const V_CLOSE: u32 = 16;  // close without answering

@inline export const K_METHOD: u32 = 1;
@inline export const K_TARGET: u32 = 2;
@inline export const K_NAME: u32 = 3;
@inline export const K_VALUE: u32 = 4;
@inline export const K_BODY: u32 = 5;
@inline export const K_TRAILER_NAME: u32 = 6;
@inline export const K_TRAILER_VALUE: u32 = 7;

export const RESULT = memory.data(40);

@inline export function setResult(word: u32, v: u32): void {
  store<u32>(RESULT + (word << 2), v);
}

// The span area is full when spanCount reaches cfg(C_SPANS): the writer that fills it stops the call.
export let spanCount: u32 = 0;

export function clearSpans(): void {
  spanCount = 0;
}

// For a caller that wrote records [spanCount, n) itself (n <= cap, cap = cfg(C_SPANS)).
@inline export function setSpanCount(n: u32, cap: u32): void {
  spanCount = n;
  if (n >= cap) ctx.stop();
}

// Bounded by spanCount < cfg(C_SPANS): the parse stops as soon as the area is full.
@inline export function emit(kind: u32, field: u32, p: usize, n: usize): void {
  const r = spansBase + <usize>(spanCount * SPAN_BYTES);
  store<u16>(r, <u16>kind);
  store<u16>(r, <u16>field, 2);
  store<u16>(r, <u16>(p - inputBase), 4);
  store<u16>(r, <u16>n, 6);
  spanCount++;
  if (spanCount >= cfg(C_SPANS)) ctx.stop();
}
