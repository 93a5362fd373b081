// Fields that decide framing or routing, checked when their value is complete (RFC 9112 6, 9.3;
// RFC 9110 7.2, 10.1.1). Reads stay inside the value token [p, p + n).
import { TCHAR, WS, DIGIT } from './tables';
import { is } from './classes';
import {
  E_NONE, E_HOST_DUP, E_CL_DUP, E_CL_BAD,
} from './errors';
import {
  R_HOST, R_CL, R_TE, R_TE_CHUNKED, R_TE_TWICE, R_TE_LAST, R_TE_OTHER, R_TE_SYNTAX,
  R_CONN_CLOSE, R_CONN_KEEP, R_EXPECT, R_FORM, R_UPLOAD, R_V11, O_REMAINING,
} from './slots';
import {
  SPECIAL_NAMES, FIELD_BY_LENGTH, LANE_20, T_CHUNKED_NAME, T_CHUNKED_NAME_LEN, T_CLOSE_NAME, T_CLOSE_NAME_LEN, T_KEEP_NAME,
  T_KEEP_NAME_LEN, T_CONTINUE, T_CONTINUE_LEN, T_FORM, T_FORM_LEN, T_MULTIPART, T_MULTIPART_LEN,
} from './text';
import { checkHost } from './target';

@inline export const F_HOST: u32 = 1;
@inline export const F_CONTENT_LENGTH: u32 = 2;
@inline export const F_TRANSFER_ENCODING: u32 = 3;
@inline export const F_CONNECTION: u32 = 4;
@inline export const F_EXPECT: u32 = 5;
@inline export const F_CONTENT_TYPE: u32 = 6;

// Case-insensitive compare of [p, p+n) with a name of letters, digits and "-" (and the few other
// bytes of the text blobs that have bit 0x20 set): OR-ing 0x20 into both lower-cases letters and
// leaves those other bytes unchanged. Eight bytes at a time, the last eight (or four) overlapping
// the ones before; every read stays inside both names.
export function sameName(p: usize, n: u32, name: usize, len: u32): bool {
  if (n != len) return false;
  if (n >= 8) {
    const l20 = load<u64>(LANE_20), last = <usize>n - 8;
    for (let i: usize = 0; i < last; i += 8) if ((load<u64>(p + i) | l20) != (load<u64>(name + i) | l20)) return false;
    return (load<u64>(p + last) | l20) == (load<u64>(name + last) | l20);
  }
  if (n >= 4) {
    const last = <usize>n - 4;
    return ((load<u32>(p) | 0x20202020) == (load<u32>(name) | 0x20202020))
      & ((load<u32>(p + last) | 0x20202020) == (load<u32>(name + last) | 0x20202020));
  }
  for (let i: usize = 0; i < <usize>n; i++) if ((load<u8>(p + i) | 0x20) != (load<u8>(name + i) | 0x20)) return false;
  return true;
}

// Index + 1 of the name in a [u8 len][bytes]... list, or 0.
export function findName(p: usize, n: u32, list: usize): u32 {
  let id: u32 = 1;
  for (let q = list; load<u8>(q) != 0; q += 1 + <usize>load<u8>(q), id++) {
    if (sameName(p, n, q + 1, load<u8>(q))) return id;
  }
  return 0;
}

// The special names all differ in length (4 to 17 bytes), so the length picks the one candidate
// (FIELD_BY_LENGTH, text.ts). They are lower-case letters and "-", so OR-ing 0x20 into the request's
// bytes is the whole case-insensitive compare of the first four, made before any call (most names
// of a request that have a special name's length differ there, e.g. User-Agent / Connection).
// Inlined into wholeLines() (lines.ts), the hot caller; fieldId() is the call for onName().
@inline export function fieldIdOf(p: usize, n: u32): u32 {
  if (n - 4 > 13) return 0;
  const at = FIELD_BY_LENGTH + <usize>((n - 4) << 1);
  const id = <u32>load<u8>(at);
  if (id == 0) return 0;
  const q = SPECIAL_NAMES + <usize>load<u8>(at, 1);
  if ((load<u32>(p) | 0x20202020) != load<u32>(q)) return 0;
  return n == 4 || sameName(p + 4, n - 4, q + 4, n - 4) ? id : 0;
}

export function fieldId(p: usize, n: u32): u32 { return fieldIdOf(p, n); }

function parseContentLength(s: usize, p: usize, n: u32): u32 {
  if (n == 0) return E_CL_BAD;
  let v: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const c = <u32>load<u8>(p + i);
    if (!is(c, DIGIT)) return E_CL_BAD;
    const d = <u64>(c - 0x30);
    // v * 10 + d overflows a u64 exactly when v > (2^64 - 1 - d) / 10, i.e. v > 1844674407370955161
    // or v equal to it and d > 5; compared, not divided (a u64 division is a library call on a
    // 32-bit core).
    if (v >= 0x1999999999999999 && (v > 0x1999999999999999 || d > 5)) return E_CL_BAD;
    v = v * 10 + d;
  }
  store<u64>(s, v, O_REMAINING);
  return E_NONE;
}

// Applies elementFlags() to each comma-separated element with OWS trimmed; empty elements are
// skipped (RFC 9110 5.6.1). Returns the OR of the flags the elements produce.
// The loop leaves by return: a while loop's body would sit in an if that WAMR classic rescans on a
// block-cache miss.
function listFlags(p: usize, n: u32, which: u32, flags: u32): u32 {
  let i: u32 = 0;
  for (;;) {
    if (i > n) return flags;
    let a = i;
    while (a < n && load<u8>(p + a) != 0x2c) a++;
    let b = i, e = a;
    while (b < e && is(load<u8>(p + b), WS)) b++;
    while (e > b && is(load<u8>(p + e - 1), WS)) e--;
    if (e > b) flags = elementFlags(p + b, e - b, which, flags);
    i = a + 1;
  }
  return unreachable();
}

@inline function isToken(p: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) if (!is(load<u8>(p + i), TCHAR)) return false;
  return true;
}

// Set on the flags by each Transfer-Encoding element, cleared before applyField() returns: a line
// with none is malformed. Above every R_* bit and below applyField()'s error bit.
@inline const R_SEEN: u32 = 1 << 30;

@inline function elementFlags(p: usize, n: u32, which: u32, flags: u32): u32 {
  if (which == F_TRANSFER_ENCODING) return codingFlags(p, n, flags) | R_SEEN;
  if (sameName(p, n, T_CLOSE_NAME, T_CLOSE_NAME_LEN)) return flags | R_CONN_CLOSE;
  if (sameName(p, n, T_KEEP_NAME, T_KEEP_NAME_LEN)) return flags | R_CONN_KEEP;
  return flags;
}

// transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9112 7): a coding we do not
// know is 501 with or without parameters; chunked defines none, so chunked;x is malformed.
function codingFlags(p: usize, n: u32, flags: u32): u32 {
  let t: u32 = 0;
  while (t < n && load<u8>(p + t) != 0x3b) t++;
  const params = t < n;
  while (t > 0 && is(load<u8>(p + t - 1), WS)) t--;
  if (t == 0 || !isToken(p, t)) return flags | R_TE_SYNTAX;
  if (sameName(p, t, T_CHUNKED_NAME, T_CHUNKED_NAME_LEN)) {
    if (params) return flags | R_TE_SYNTAX;
    return (flags & R_TE_CHUNKED ? flags | R_TE_TWICE : flags) | R_TE_CHUNKED | R_TE_LAST;
  }
  return (flags | R_TE_OTHER) & ~R_TE_LAST;
}

function hasPrefix(p: usize, n: u32, text: usize, len: u32): bool {
  if (n < len || !sameName(p, len, text, len)) return false;
  if (n == len) return true;
  const c = <u32>load<u8>(p + len);
  return c == 0x3b || is(c, WS);
}

// Applies one complete field value; returns the new request flags, or sets *err via the return
// convention: flags in the low bits never reach 1 << 31, so an error is returned as (1 << 31) | code.
// Plain tests rather than a switch: every id the parser reports opens one small if, not a nest of
// blocks (see step() in machine.ts on WAMR classic's block-end cache).
export function applyField(s: usize, id: u32, p: usize, n: u32, flags: u32): u32 {
  if (id == F_HOST) {
    if (flags & R_HOST) return 0x80000000 | E_HOST_DUP;
    const err = checkHost(p, n);
    return err ? 0x80000000 | err : flags | R_HOST;
  }
  if (id == F_CONTENT_LENGTH) {
    if (flags & R_CL) return 0x80000000 | E_CL_DUP;
    const err = parseContentLength(s, p, n);
    return err ? 0x80000000 | err : flags | R_CL;
  }
  if (id == F_CONNECTION) return listFlags(p, n, id, flags);
  if (id == F_CONTENT_TYPE) {
    if (hasPrefix(p, n, T_FORM, T_FORM_LEN)) return flags | R_FORM;
    if (hasPrefix(p, n, T_MULTIPART, T_MULTIPART_LEN)) return flags | R_UPLOAD;
    return flags;
  }
  if (id == F_TRANSFER_ENCODING) {
    const f = listFlags(p, n, id, flags | R_TE);
    return f & R_SEEN ? f & ~R_SEEN : f | R_TE_SYNTAX;   // a line with no coding at all
  }
  if (id == F_EXPECT) return (flags & R_V11) && sameName(p, n, T_CONTINUE, T_CONTINUE_LEN) ? flags | R_EXPECT : flags;
  return flags;
}
