// Message bodies: Content-Length bodies and the chunked coding (RFC 9112 6.3, 7.1). Body bytes are
// never retained: each call reports the bytes it holds as one span and moves on, so a body never
// costs the module memory and never reads past its declared length into a pipelined request.
import { CR, LF, SEMI, EQ, DQUOTE, BSLASH } from './chars';
import { cfg, C_CHUNK_EXT, C_SPANS } from './config';
import { HEXDIG, TCHAR, WS, QDTEXT, FIELD_VCHAR } from './tables';
import { is } from './classes';
import { E_CHUNK_SIZE, E_CHUNK_EXT, E_CHUNK_EXT_LONG, E_CHUNK_DATA, E_BARE_CR, E_BODY_LARGE } from './errors';
import {
  O_REMAINING, O_SUB, O_EXT, O_TOTAL, O_LIMIT, R_TRAILER, S_FIELD, S_CHUNK_SIZE, S_CHUNK_EXT,
  S_CHUNK_LF, S_CHUNK_DATA, S_CHUNK_CR, S_CHUNK_DATA_LF,
} from './slots';
import { emit, spanCount, K_BODY } from './output';
import { trailersStart } from './framing';
import * as ctx from './context';

@inline const MAX_HEX_DIGITS: u32 = 16;   // a u64; more is an overflow attempt

// Delivers min(remaining, available) bytes; returns the new position and whether all were due.
function take(p: usize): usize {
  const s = ctx.slot;
  const due = load<u64>(s, O_REMAINING);
  const have = <u64>(ctx.end - p);
  const n = due < have ? due : have;
  if (n > 0) emit(K_BODY, 0, p, <usize>n);
  store<u64>(s, due - n, O_REMAINING);
  return p + <usize>n;
}

export function onBody(p: usize): usize {
  p = take(p);
  if (load<u64>(ctx.slot, O_REMAINING) == 0) ctx.messageDone();
  return p;
}

export function onChunkData(p: usize): usize {
  p = take(p);
  if (load<u64>(ctx.slot, O_REMAINING) == 0) ctx.setState(S_CHUNK_CR);
  return p;
}

export function onChunkCr(p: usize): usize {
  if (load<u8>(p) != CR) return ctx.fail(E_CHUNK_DATA);
  ctx.setState(S_CHUNK_DATA_LF);
  return p + 1;
}

export function onChunkDataLf(p: usize): usize {
  if (load<u8>(p) != LF) return ctx.fail(E_CHUNK_DATA);
  store<u8>(ctx.slot, 0, O_SUB);
  store<u64>(ctx.slot, 0, O_REMAINING);
  ctx.setState(S_CHUNK_SIZE);
  return p + 1;
}

@inline function hexValue(c: u32): u64 {
  return <u64>(c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);
}

// Fast path: whole chunks (size CRLF data CRLF, no extension) and a bare last chunk without trailers
// that lie in the window are delivered in one pass. Anything else returns to the per-byte states
// above, which give the exact verdict; nothing is committed for a chunk the fast path gives up on.
// The total is stored per chunk, so every exit is a plain return (no block around the loop, which
// WAMR classic would rescan when its end is not cached).
function wholeChunks(p: usize): usize {
  const s = ctx.slot, e = ctx.end, limit = <u64>load<u32>(s, O_LIMIT), spanCap = cfg(C_SPANS);
  let total = <u64>load<u32>(s, O_TOTAL);
  for (;;) {
    if (p >= e || spanCount >= spanCap) return p;
    let q = p, size: u64 = 0;
    while (q < e && q - p <= MAX_HEX_DIGITS && is(load<u8>(q), HEXDIG)) { size = (size << 4) | hexValue(load<u8>(q)); q++; }
    const digits = q - p;
    if (digits == 0 || digits > MAX_HEX_DIGITS || q + 1 >= e || load<u16>(q) != 0x0a0d) return p;
    if (size == 0) {
      if (q + 3 >= e || load<u16>(q, 2) != 0x0a0d) return p;
      ctx.messageDone();
      return q + 4;
    }
    const data = q + 2;
    if (total + size > limit || size > <u64>(e - data) || <u64>(e - data) - size < 2) return p;
    const end = data + <usize>size;
    if (load<u16>(end) != 0x0a0d) return p;
    emit(K_BODY, 0, data, <usize>size);
    total += size;
    store<u32>(s, <u32>total, O_TOTAL);
    p = end + 2;
  }
  return unreachable();
}

export function onChunkSize(p: usize): usize {
  if (load<u8>(ctx.slot, O_SUB) == 0) {
    const q = wholeChunks(p);
    if (q != p) return q;
  }
  return chunkSizeBytes(p);
}

// The size line byte by byte: a line split across calls, with an extension, or invalid. Its own
// function so that a body the fast path takes whole never compiles it (wasm3 compiles on first call).
function chunkSizeBytes(p: usize): usize {
  const s = ctx.slot, e = ctx.end;
  let digits = <u32>load<u8>(s, O_SUB);
  let size = load<u64>(s, O_REMAINING);
  while (p < e) {
    const c = <u32>load<u8>(p);
    if (!is(c, HEXDIG)) break;
    if (++digits > MAX_HEX_DIGITS) return ctx.fail(E_CHUNK_SIZE);
    size = (size << 4) | hexValue(c);
    p++;
  }
  store<u8>(s, <u8>digits, O_SUB);
  store<u64>(s, size, O_REMAINING);
  if (p == e) return p;
  const c = <u32>load<u8>(p);
  if (digits == 0) return ctx.fail(E_CHUNK_SIZE);
  if (c == CR) return sizeLineEnd(p);
  if (c != SEMI && !is(c, WS)) return ctx.fail(E_CHUNK_SIZE);
  store<u8>(s, <u8>X_BWS, O_SUB);
  store<u32>(s, 0, O_EXT);
  ctx.setState(S_CHUNK_EXT);
  return p;
}

// p is at the CR ending the size line; the whole chunk counts against the body limit now, before
// any of its data arrives (RFC 9112 7.1; status 413).
function sizeLineEnd(p: usize): usize {
  const s = ctx.slot;
  const total = <u64>load<u32>(s, O_TOTAL) + load<u64>(s, O_REMAINING);
  if (total > <u64>load<u32>(s, O_LIMIT)) return ctx.fail(E_BODY_LARGE);
  store<u32>(s, <u32>total, O_TOTAL);
  ctx.setState(S_CHUNK_LF);
  return p + 1;
}

export function onChunkLf(p: usize): usize {
  if (load<u8>(p) != LF) return ctx.fail(E_BARE_CR);
  if (load<u64>(ctx.slot, O_REMAINING) == 0) {
    trailersStart();
    ctx.setState(S_FIELD);
  } else {
    ctx.setState(S_CHUNK_DATA);
  }
  return p + 1;
}

// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )  (RFC 9112 7.1.1)
// Sub-states in O_SUB; each names what the next byte may be. BWS may only precede ";" or "=", so
// whitespace right before the CR is refused.
@inline const X_BWS: u32 = 1;        // BWS: more BWS or ";"
@inline const X_SEMI: u32 = 2;       // after ";": BWS then name
@inline const X_NAME: u32 = 3;       // in name: tchar, BWS, "=", ";" or CR
@inline const X_AFTER_NAME: u32 = 4; // BWS after name: "=" or ";"
@inline const X_EQ: u32 = 5;         // after "=": BWS then token or quoted-string
@inline const X_TOKEN: u32 = 6;      // in token value: tchar, BWS, ";" or CR
@inline const X_QUOTED: u32 = 7;     // in quoted-string
@inline const X_ESCAPE: u32 = 8;     // after "\" in quoted-string
@inline const X_CLOSED: u32 = 9;     // after the closing quote: BWS, ";" or CR

// Next sub-state for byte c, 0 = invalid, 0xff = the line ends here.
function extStep(x: u32, c: u32): u32 {
  const ws = is(c, WS), tc = is(c, TCHAR);
  switch (x) {
    case X_BWS: return ws ? X_BWS : c == SEMI ? X_SEMI : 0;
    case X_SEMI: return ws ? X_SEMI : tc ? X_NAME : 0;
    case X_NAME: return tc ? X_NAME : ws ? X_AFTER_NAME : c == EQ ? X_EQ : c == SEMI ? X_SEMI : c == CR ? 0xff : 0;
    case X_AFTER_NAME: return ws ? X_AFTER_NAME : c == EQ ? X_EQ : c == SEMI ? X_SEMI : 0;
    case X_EQ: return ws ? X_EQ : tc ? X_TOKEN : c == DQUOTE ? X_QUOTED : 0;
    case X_TOKEN: return tc ? X_TOKEN : ws ? X_BWS : c == SEMI ? X_SEMI : c == CR ? 0xff : 0;
    case X_QUOTED: return c == DQUOTE ? X_CLOSED : c == BSLASH ? X_ESCAPE : is(c, QDTEXT) ? X_QUOTED : 0;
    case X_ESCAPE: return ws || is(c, FIELD_VCHAR) ? X_QUOTED : 0;
    case X_CLOSED: return ws ? X_BWS : c == SEMI ? X_SEMI : c == CR ? 0xff : 0;
  }
  return 0;
}

export function onChunkExt(p: usize): usize {
  const s = ctx.slot, e = ctx.end, limit = cfg(C_CHUNK_EXT);
  let x = <u32>load<u8>(s, O_SUB), used = load<u32>(s, O_EXT);
  // Length and grammar are checked byte by byte, so the verdict cannot depend on the split.
  while (p < e) {
    const next = extStep(x, load<u8>(p));
    if (next == 0) return ctx.fail(E_CHUNK_EXT);
    if (next == 0xff) break;
    if (++used > limit) return ctx.fail(E_CHUNK_EXT_LONG);
    x = next;
    p++;
  }
  store<u32>(s, used, O_EXT);
  store<u8>(s, <u8>x, O_SUB);
  if (p == e) return p;
  return sizeLineEnd(p);
}
