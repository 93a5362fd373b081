// The response head injector: respond() writes the whole head into the output area. The module owns
// the status line, framing (Content-Length / Transfer-Encoding / Connection) and the security fields;
// the application only contributes validated fields. A field that could split the head or smuggle a
// response (CR, LF, NUL, a non-token name, a framing name) fails the whole call: nothing is emitted.
//
// Application fields arrive in the input window from offset 0 as records
//   [u16 name length][u16 value length][name bytes][value bytes]
// so a CR or LF inside a value is data to refuse, never a delimiter.
import { cfg, C_OUT, C_WINDOW, C_FLAGS, C_HSTS_AGE, F_HSTS, F_HSTS_SUBDOMAINS, outBase, inputBase } from './config';
import { TCHAR, FIELD_VCHAR, WS } from './tables';
import { is } from './classes';
import {
  E_SLOT, E_RESP_STATUS, E_RESP_NAME, E_RESP_VALUE, E_RESP_FRAMING, E_RESP_SPACE,
} from './errors';
import {
  slotPtr, slotValid, O_STATE, O_RFLAGS, O_CONN, O_TLAST, O_CLIENT, C_TLS, R_V11, R_KEEP_ALIVE,
  R_DONE, S_DEAD, S_CLOSED,
} from './slots';
import { setResult, V_CLOSE } from './output';
import { event, EV_RESPONSE } from './events';
import { findName, sameName } from './fields';
import { clientOf, count, counterOfReply, CT_COUNT, RM_BAN } from './defense';
import {
  REASONS, SECURITY_LINES, FRAMING_NAMES, DROPPED_NAMES, T_HTTP11, T_HTTP11_LEN, T_CL, T_CL_LEN,
  T_CHUNKED, T_CHUNKED_LEN, T_CLOSE, T_CLOSE_LEN, T_KEEP, T_KEEP_LEN, T_HSTS, T_HSTS_LEN,
  T_SUBDOMAINS, T_SUBDOMAINS_LEN,
} from './text';

@inline export const RESPOND_CLOSE: u32 = 1;   // opts: the host will close after this response

// Bytes written to the output area; FULL once a write did not fit. FULL plus any length stays above
// every area size (below 64 KiB), so the one bounds test of each write also keeps a full area full,
// and no separate flag (another Wasm global for wasm3 to set up at load) is needed.
let pos: u32 = 0;
@inline const FULL: u32 = 0x80000000;

// All writes go through put(), which checks the output area's bound before copying.
// Eight bytes at a time: a source of 8 bytes or more ends with one u64 that may overlap the
// previous one. Reads stay in [p, p + n), writes in [pos, pos + n) of the output area, and the
// source (text data or the input window) never overlaps the output area.
function put(p: usize, n: u32): void {
  if (pos + n > cfg(C_OUT)) { pos = FULL; return; }
  const d = outBase + <usize>pos;
  if (n >= 8) {
    for (let i: usize = 0; i + 8 < <usize>n; i += 8) store<u64>(d + i, load<u64>(p + i));
    store<u64>(d + <usize>n - 8, load<u64>(p + <usize>n - 8));
  } else {
    for (let i: usize = 0; i < <usize>n; i++) store<u8>(d + i, load<u8>(p + i));
  }
  pos += n;
}

// One bounds check for the whole number. A number that does not fit leaves the area full, and a
// full area fails the whole call, so no partial number is ever reported.
function putDecimal(v: u32): void {
  let div: u32 = 1, n: u32 = 1;
  while (v / div >= 10) { div *= 10; n++; }
  if (pos + n > cfg(C_OUT)) { pos = FULL; return; }
  const d = outBase;
  for (; div > 0; div /= 10) store<u8>(d + pos++, <u8>(0x30 + (v / div) % 10));
}

// Two bytes, b0 | b1 << 8 (CR LF, ": "): one call and one bounds check instead of two.
function put2(v: u32): void {
  if (pos + 2 > cfg(C_OUT)) { pos = FULL; return; }
  store<u16>(outBase + pos, <u16>v);
  pos += 2;
}

@inline function crlf(): void { put2(0x0a0d); }

function putStatusLine(status: u32): void {
  put(T_HTTP11, T_HTTP11_LEN);
  putDecimal(status);
  put(T_HTTP11 + T_HTTP11_LEN - 1, 1);            // the SP that ends "HTTP/1.1 "
  for (let q = REASONS; load<u16>(q) != 0; q += 3 + <usize>load<u8>(q, 2)) {
    if (<u32>load<u16>(q) == status) { put(q + 3, load<u8>(q, 2)); break; }
  }
  crlf();
}

// Index bit of the default security field this name replaces, or 0.
function securityBit(p: usize, n: u32): u32 {
  let bit: u32 = 1;
  for (let q = SECURITY_LINES; load<u8>(q) != 0; q += 2 + <usize>load<u8>(q, 1), bit <<= 1) {
    if (sameName(p, n, q + 2, load<u8>(q))) return bit;
  }
  return sameName(p, n, T_HSTS, 25) ? 0x80000000 : 0;   // "Strict-Transport-Security"
}

@inline function validValue(p: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) {
    const c = <u32>load<u8>(p + i);
    if (!is(c, FIELD_VCHAR) && !is(c, WS)) return false;
  }
  return true;
}

@inline function validName(p: usize, n: u32): bool {
  if (n == 0) return false;
  for (let i: u32 = 0; i < n; i++) if (!is(load<u8>(p + i), TCHAR)) return false;
  return true;
}

// Writes the application fields; returns the replaced-security-field bits or (1 << 30) | error.
function putAppFields(appLen: u32, slot: u32, now: u32): u32 {
  let q = inputBase, mask: u32 = 0;
  const e = inputBase + <usize>appLen;
  while (q < e) {
    if (q + 4 > e) return 0x40000000 | E_RESP_NAME;
    const nl = <u32>load<u16>(q), vl = <u32>load<u16>(q, 2);
    const name = q + 4, value = name + <usize>nl;
    if (value + <usize>vl > e) return 0x40000000 | E_RESP_VALUE;
    if (!validName(name, nl)) return 0x40000000 | E_RESP_NAME;
    if (!validValue(value, vl)) return 0x40000000 | E_RESP_VALUE;
    if (findName(name, nl, FRAMING_NAMES)) return 0x40000000 | E_RESP_FRAMING;
    q = value + <usize>vl;
    if (findName(name, nl, DROPPED_NAMES)) {
      event(EV_RESPONSE, slot, 0, load<u32>(slotPtr(slot) + O_CLIENT), now);
      continue;
    }
    mask |= securityBit(name, nl);
    put(name, nl); put2(0x203a); put(value, vl); crlf();
  }
  return mask;
}

function putSecurity(mask: u32, tls: bool): void {
  let bit: u32 = 1;
  for (let q = SECURITY_LINES; load<u8>(q) != 0; q += 2 + <usize>load<u8>(q, 1), bit <<= 1) {
    if (!(mask & bit)) put(q + 2, load<u8>(q, 1));
  }
  const f = cfg(C_FLAGS);
  if (tls && (f & F_HSTS) && !(mask & 0x80000000)) {
    put(T_HSTS, T_HSTS_LEN);
    putDecimal(cfg(C_HSTS_AGE));
    if (f & F_HSTS_SUBDOMAINS) put(T_SUBDOMAINS, T_SUBDOMAINS_LEN);
    crlf();
  }
}

// Every refusal is a security event: an application emitting bad fields may be under attack.
function refuse(slot: u32, s: usize, code: u32, now: u32): i32 {
  event(EV_RESPONSE, slot, code, load<u32>(s, O_CLIENT), now);
  return -<i32>code;
}

// Returns the head length in the output area, or -(error code). The result record's verdict is
// V_CLOSE when the connection must close once this response is sent.
export function respond(slot: u32, status: u32, length: i32, appLen: u32, opts: u32, now: u32): i32 {
  if (!slotValid(slot)) return -<i32>E_SLOT;
  const s = slotPtr(slot);
  if (status < 100 || status > 599) return refuse(slot, s, E_RESP_STATUS, now);
  if (appLen > cfg(C_WINDOW)) return refuse(slot, s, E_RESP_SPACE, now); // records lie in the window
  pos = 0;
  putStatusLine(status);
  // Most answers carry no application fields: the record walker is then never called (a first
  // call compiles it on wasm3).
  const mask = appLen ? putAppFields(appLen, slot, now) : 0;
  if (mask & 0x40000000) return refuse(slot, s, mask & 0xff, now);
  const st = <u32>load<u8>(s, O_STATE), rf = load<u32>(s, O_RFLAGS);
  // The application's answers feed the client's counters (the module's own error answers were
  // counted when the error was found); one that gets the client banned ends the connection.
  const counter = st == S_DEAD || status < 400 ? CT_COUNT : counterOfReply(status);   // < 400 counts nothing
  const ban = counter != CT_COUNT && (count(clientOf(slot, now), counter, slot, now) & (1 << RM_BAN)) != 0;
  let closing = false;
  if (status >= 200) {
    closing = ban || (opts & RESPOND_CLOSE) != 0 || st == S_DEAD || st == S_CLOSED || !(rf & R_KEEP_ALIVE) || !(rf & R_DONE);
    if (status != 204 && status != 304) {
      if (length >= 0) { put(T_CL, T_CL_LEN); putDecimal(<u32>length); crlf(); }
      else if (rf & R_V11) put(T_CHUNKED, T_CHUNKED_LEN);
      else closing = true;                            // HTTP/1.0: the close ends the body
    }
    if (closing) put(T_CLOSE, T_CLOSE_LEN);
    else if (!(rf & R_V11)) put(T_KEEP, T_KEEP_LEN);
    putSecurity(mask, (load<u8>(s, O_CONN) & C_TLS) != 0);
  }
  crlf();
  if (pos == FULL) return refuse(slot, s, E_RESP_SPACE, now);
  if (closing && st != S_DEAD) store<u8>(s, <u8>S_CLOSED, O_STATE);
  store<u32>(s, now, O_TLAST);
  setResult(0, closing ? V_CLOSE : 0);
  return <i32>pos;
}
