// The request head: request line (RFC 9112 3) and field lines (RFC 9112 5), one byte-class loop per
// state. A token (method, target, version, field name or value) that a call's input ends inside is
// retained by the host and handed back at the start of the next window; O_TOK records how much of it
// was already scanned, so no byte is scanned twice however the input is split.
import { CR, LF, SP, COLON, SLASH } from './chars';
import { cfg, C_URI, C_HEADERS, C_SPANS, spansBase, inputBase, SPAN_BYTES } from './config';
import { TCHAR, WS, FIELD_VCHAR } from './tables';
import { is } from './classes';
import {
  E_BAD_METHOD, E_METHOD_LONG, E_BAD_TARGET, E_URI_LONG, E_BAD_VERSION, E_VERSION, E_BARE_CR,
  E_BARE_LF, E_OBS_FOLD, E_BAD_NAME, E_NAME_SPACE, E_BAD_VALUE, E_FIELD_COUNT,
} from './errors';
import {
  O_EMPTIES, O_HCOUNT, O_HBYTES, O_RFLAGS, O_FIELD, O_TREQ, R_V11, R_TRAILER, R_M_HEAD,
  R_M_CONNECT, R_M_OPTIONS, R_STARTED, R_NO_VERSION, S_START, S_START_LF, S_METHOD, S_TARGET, S_VERSION,
  S_LINE_LF, S_FIELD, S_NAME, S_OWS, S_VALUE, S_VALUE_LF, S_HEAD_LF,
} from './slots';
import { emit, spanCount, setSpanCount, K_METHOD, K_TARGET, K_NAME, K_VALUE, K_TRAILER_NAME, K_TRAILER_VALUE } from './output';
import { checkTarget, originEnd } from './target';
import { scanValue, scanVisible, scanToken } from './scan';
import { fieldId, applyField } from './fields';
import { wholeLines } from './lines';
import { T_HTTP_PREFIX } from './text';
import { headDone, trailersDone } from './framing';
import * as ctx from './context';


// Visible US-ASCII (0x21-0x7E): the bytes a target or version token may hold before validation.
@inline function visible(c: u32): bool {
  return c - 0x21 <= 0x5d;
}

@inline export function onStart(p: usize): usize {
  const c = <u32>load<u8>(p);
  if (!is(c, TCHAR)) return startOther(p, c);      // a method starts with a tchar; CR, LF are not
  ctx.setFlags(ctx.flags | R_STARTED);
  store<u32>(ctx.slot, ctx.now(), O_TREQ);
  store<u32>(ctx.slot, 0, O_RFLAGS);     // respond() now answers this request, not the last one
  const q = wholeRequestLine(p);
  if (q != p) return q < ctx.end ? onField(q) : q;   // the fields in the same step (state S_FIELD)
  ctx.setTok(p);
  ctx.setState(S_METHOD);
  return p;
}

function startOther(p: usize, c: u32): usize {
  if (c == CR) { ctx.setState(S_START_LF); return p + 1; }
  return ctx.fail(c == LF ? E_BARE_LF : E_BAD_METHOD);
}

// Fast path: a request line that lies whole in the window and is valid is reported in one pass;
// anything else (incomplete, invalid, over a limit) returns p and the per-token states take over
// and give the exact verdict. Same contract as wholeLines() in lines.ts.
function wholeRequestLine(p: usize): usize {
  const e = ctx.end, uri = cfg(C_URI);
  const q = scanToken(p, e), m = <u32>(q - p);
  const flags = ctx.flags | methodFlags(p, m);
  // An origin-form target ("/" path and query: nearly every request) is checked by the same pass
  // that finds its end, which must then be the SP; other forms are found first, checked after.
  const t = q + 1, origin = (load<u8>(t) == SLASH) & ((flags & R_M_CONNECT) == 0);
  // Tests are combined with | (no short circuit) where every read is known to be in the window:
  // each if is one more lookup in WAMR classic's small block-end cache. q < r, and r + 11 <= e
  // puts the version and its CRLF (r + 1 .. r + 10) in the window; when q == e, t = e + 1 and
  // both scans return e or t, so r + 11 > e.
  const r = origin ? originEnd(t, e) : scanVisible(t, e), n = <u32>(r - t);
  if (r + 11 > e) return p;
  if (<u32>(load<u8>(q) != SP) | <u32>(load<u8>(r) != SP) | <u32>(m > uri) | <u32>(n > uri)
    | <u32>(load<u16>(r, 9) != 0x0a0d)) return p;
  const v = r + 1;
  if (!origin) {
    if (checkTarget(t, n, (flags & R_M_CONNECT) != 0, (flags & R_M_OPTIONS) != 0)) return p;
  }
  if (load<u64>(v) == HTTP_1_1) ctx.setFlags(flags | R_V11);   // nearly every request: one compare
  else {
    const before = ctx.flags;
    ctx.setFlags(flags);
    if (checkVersion(v, 8)) { ctx.setFlags(before); return p; }
  }
  // A request line is the call's first output (a completed message ends the call, and the span
  // area holds at least 4 records), so both records fit: one full-area test for the two.
  const sp = spanCount, rec = spansBase + <usize>(sp * SPAN_BYTES);
  store<u16>(rec, <u16>K_METHOD);
  store<u16>(rec, 0, 2);
  store<u16>(rec, <u16>(p - inputBase), 4);
  store<u16>(rec, <u16>m, 6);
  store<u16>(rec, <u16>K_TARGET, 8);
  store<u16>(rec, 0, 10);
  store<u16>(rec, <u16>(t - inputBase), 12);
  store<u16>(rec, <u16>n, 14);
  setSpanCount(sp + 2, cfg(C_SPANS));
  ctx.setState(S_FIELD);
  return v + 10;
}

// RFC 9112 2.2: empty lines before the request line are ignored. They cost no memory; the first
// one starts the parse deadline, which bounds how long a client may send them.
export function onStartLf(p: usize): usize {
  if (load<u8>(p) != LF) return ctx.fail(E_BARE_CR);
  if (load<u8>(ctx.slot, O_EMPTIES) == 0) {
    store<u8>(ctx.slot, 1, O_EMPTIES);
    store<u32>(ctx.slot, ctx.now(), O_TREQ);
  }
  ctx.setState(S_START);
  return p + 1;
}

// Methods are case-sensitive (RFC 9110 9.1). HEAD is the only 4-byte one that matters and is
// tested in place (so POST calls nothing); 7-byte tokens go to methodFlags7. Reads stay in the token.
@inline function methodFlags(p: usize, n: u32): u32 {
  return n == 4 ? (load<u32>(p) == 0x44414548 ? R_M_HEAD : 0) : n == 7 ? methodFlags7(p) : 0;
}

// Bytes 0-3 and 3-6 of a 7-byte token: CONNECT or OPTIONS.
function methodFlags7(p: usize): u32 {
  const w = load<u32>(p), t = load<u32>(p, 3);
  if (w == 0x4e4e4f43 && t == 0x5443454e) return R_M_CONNECT;
  if (w == 0x4954504f && t == 0x534e4f49) return R_M_OPTIONS;
  return 0;
}

export function onMethod(p: usize): usize {
  const e = ctx.end;
  p = scanToken(p, e);
  const n = <u32>(p - ctx.tok);
  if (n > cfg(C_URI)) return ctx.fail(E_METHOD_LONG);   // any token is a method, but not an endless one
  if (p == e) return p;
  if (load<u8>(p) != SP) return ctx.fail(E_BAD_METHOD);
  ctx.setFlags(ctx.flags | methodFlags(ctx.tok, n));
  emit(K_METHOD, 0, ctx.tok, n);
  ctx.setTok(p + 1);
  ctx.setState(S_TARGET);
  return p + 1;
}

export function onTarget(p: usize): usize {
  const e = ctx.end;
  p = scanVisible(p, e);
  const n = <u32>(p - ctx.tok);
  if (n > cfg(C_URI)) return ctx.fail(E_URI_LONG);
  if (p == e) return p;
  const c = <u32>load<u8>(p);
  if (c != SP && c != CR) return ctx.fail(E_BAD_TARGET);
  const err = checkTarget(ctx.tok, n, (ctx.flags & R_M_CONNECT) != 0, (ctx.flags & R_M_OPTIONS) != 0);
  if (err) return ctx.fail(err);
  if (c == CR) {                                     // "GET /" CRLF: an HTTP/0.9 request line
    ctx.setFlags(ctx.flags | R_NO_VERSION);
    ctx.setState(S_LINE_LF);
    return p + 1;
  }
  emit(K_TARGET, 0, ctx.tok, n);
  ctx.setTok(p + 1);
  ctx.setState(S_VERSION);
  return p + 1;
}

// "HTTP/1.1" as a little-endian u64.
@inline const HTTP_1_1: u64 = 0x312e312f50545448;

// HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3).
// The eight bytes are read only when there are eight; then the tests are combined with |.
@inline function checkVersion(p: usize, n: u32): u32 {
  if (n != 8) return E_BAD_VERSION;
  const major = <u32>load<u8>(p, 5) - 0x30, minor = <u32>load<u8>(p, 7) - 0x30;
  if (<u32>(load<u32>(p) != load<u32>(T_HTTP_PREFIX)) | <u32>(load<u8>(p, 4) != 0x2f) | <u32>(major > 9)
    | <u32>(load<u8>(p, 6) != 0x2e) | <u32>(minor > 9)) return E_BAD_VERSION;
  if (<u32>(major != 1) | <u32>(minor > 1)) return E_VERSION;
  ctx.setFlags(ctx.flags | (minor * R_V11));        // minor is 0 or 1 here
  return 0;
}

export function onVersion(p: usize): usize {
  const e = ctx.end;
  while (p < e && visible(load<u8>(p))) p++;
  const n = <u32>(p - ctx.tok);
  if (n > 8) return ctx.fail(E_BAD_VERSION);
  if (p == e) return p;
  const c = <u32>load<u8>(p);
  if (c != CR) return ctx.fail(c == LF ? E_BARE_LF : E_BAD_VERSION);
  const err = checkVersion(ctx.tok, n);
  if (err) return ctx.fail(err);
  ctx.setState(S_LINE_LF);
  return p + 1;
}

export function onLineLf(p: usize): usize {
  if (load<u8>(p) != LF) return ctx.fail(E_BARE_CR);
  if (ctx.flags & R_NO_VERSION) return ctx.fail(E_VERSION);
  ctx.setState(S_FIELD);
  return p + 1;
}

// p is at the CR of the empty line that ends a field section. With its LF in the window the
// section ends in this step (one dispatch less per request); else the LF is awaited as before.
@inline function sectionEnd(p: usize): usize {
  if (p + 1 < ctx.end) return onHeadLf(p + 1);
  ctx.setState(S_HEAD_LF);
  return p + 1;
}

export function onField(p: usize): usize {
  const c = <u32>load<u8>(p);
  if (c == CR) return sectionEnd(p);
  if (is(c, TCHAR)) {
    const q = wholeLines(p);
    // Lines were taken; the empty line after them is taken in the same step unless the span area
    // just filled (the call then stops first, as it does between two steps).
    if (q != p) return spanCount < cfg(C_SPANS) && q < ctx.end && load<u8>(q) == CR ? sectionEnd(q) : q;
    const n = load<u32>(ctx.slot, O_HCOUNT) + 1;
    if (n > cfg(C_HEADERS)) return ctx.fail(E_FIELD_COUNT);
    store<u32>(ctx.slot, n, O_HCOUNT);
    ctx.setTok(p);
    ctx.setState(S_NAME);
    return p;
  }
  if (is(c, WS)) return ctx.fail(E_OBS_FOLD);
  return ctx.fail(c == LF ? E_BARE_LF : E_BAD_NAME);
}

export function onName(p: usize): usize {
  const e = ctx.end, p0 = p;
  p = scanToken(p, e);
  if (!ctx.countHeader(p - p0)) return e;
  if (p == e) return p;
  const c = <u32>load<u8>(p);
  if (c != COLON) return ctx.fail(is(c, WS) ? E_NAME_SPACE : E_BAD_NAME);
  if (!ctx.countHeader(1)) return e;
  const n = <u32>(p - ctx.tok), trailer = (ctx.flags & R_TRAILER) != 0;
  const id = trailer ? 0 : fieldId(ctx.tok, n);
  store<u8>(ctx.slot, <u8>id, O_FIELD);
  emit(trailer ? K_TRAILER_NAME : K_NAME, id, ctx.tok, n);
  ctx.setTok(p + 1);
  ctx.setState(S_OWS);
  return p + 1;
}

export function onOws(p: usize): usize {
  const e = ctx.end, p0 = p;
  while (p < e && is(load<u8>(p), WS)) p++;
  if (!ctx.countHeader(p - p0)) return e;
  if (p == e) return p;
  const c = <u32>load<u8>(p);
  if (c == CR) return valueEnd(p, p, 0);
  if (!is(c, FIELD_VCHAR)) return ctx.fail(c == LF ? E_BARE_LF : E_BAD_VALUE);
  ctx.setTok(p);
  ctx.setState(S_VALUE);
  return p;
}

export function onValue(p: usize): usize {
  const e = ctx.end, p0 = p, t = ctx.tok;
  p = scanValue(p, e);
  if (!ctx.countHeader(p - p0)) return e;
  if (p == e) return p;
  const c = <u32>load<u8>(p);
  if (c != CR) return ctx.fail(c == LF ? E_BARE_LF : E_BAD_VALUE);
  let v = p;                                   // trim trailing OWS: the whole value is in the window
  while (v > t && is(load<u8>(v - 1), WS)) v--;
  return valueEnd(p, t, <u32>(v - t));
}

// The value [t, t+n) is complete (OWS trimmed) and p is at its CR.
function valueEnd(p: usize, t: usize, n: u32): usize {
  if (!ctx.countHeader(1)) return ctx.end;
  const trailer = (ctx.flags & R_TRAILER) != 0;
  const id = <u32>load<u8>(ctx.slot, O_FIELD);
  if (id != 0) {
    const f = applyField(ctx.slot, id, t, n, ctx.flags);
    if (f & 0x80000000) return ctx.fail(f & 0xff);
    ctx.setFlags(f);
  }
  emit(trailer ? K_TRAILER_VALUE : K_VALUE, id, t, n);
  ctx.setTok(p + 1);
  ctx.setState(S_VALUE_LF);
  return p + 1;
}

export function onValueLf(p: usize): usize {
  if (load<u8>(p) != LF) return ctx.fail(E_BARE_CR);
  if (!ctx.countHeader(1)) return ctx.end;
  ctx.setState(S_FIELD);
  return p + 1;
}

@inline export function onHeadLf(p: usize): usize {
  if (load<u8>(p) != LF) return ctx.fail(E_BARE_CR);
  if (ctx.flags & R_TRAILER) trailersDone(); else headDone();
  return p + 1;
}
