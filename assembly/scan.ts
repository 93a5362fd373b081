// Word-at-a-time scanning for the long runs of a request head (field names and values, targets):
// eight bytes are tested with a few integer operations (SWAR), and the first byte that stops the
// scan is found from the lowest flagged bit of the word, never by a byte loop. The field loop's
// scans read whole words past the input's end (below); scanVisible() reads a full word at p when
// p + 8 <= e and otherwise the u64 ending at e, shifted so that its bytes below p drop out and zero
// bytes (which always stop a scan) fill the top: bytes of the window or of the regions laid out
// below it (e >= inputBase > 8). (Written as the field loop's do-while, it measured 3% slower in
// WAMR classic, whose block cache the shift of every later function's code reshuffles.)
import { TCHAR, FIELD_VCHAR, WS } from './tables';
import { is } from './classes';
import { LANE_01, LANE_21, LANE_80 } from './text';

// The word constants are lNN: the byte 0xNN in all eight lanes (l01 is the usual "ones", l80 the
// "high bits"). They come from text.ts (LANE_NN) into locals, once per call: WAMR classic decodes an
// i64.const's 10-byte LEB128 every time it runs one, and inside these loops that was a tenth of its
// time per request; V8, wasm3 and WAMR fast read a local and a constant alike.

// The 8 bytes from p, or the e - p < 8 bytes left followed by zero bytes.
@inline function word(p: usize, e: usize): u64 {
  return e - p >= 8 ? load<u64>(p) : load<u64>(e - 8) >> (<u64>(8 - (e - p)) << 3);
}

// Index of the lowest flagged byte of a mask, 8 when none is (ctz of 0 is 64). The masks below use
// the classic "hasless" / "haszero" tricks: a flagged byte may be a false positive only above a true
// one, so the lowest flagged byte is exact.
@inline function firstFlagged(m: u64): usize {
  return <usize>(ctz(m) >> 3);
}

// The word loops of the field loop (lines.ts) read whole words from p < e on, past e by up to 7
// bytes: the layout leaves 8 bytes after the input window (config.ts), and a position found at or
// past e is taken as e, so bytes past e never change a result. They are do-while loops that leave
// at their end: no block around them and no return from inside (WAMR classic looks a block's end
// up in a small cache on every entry, and a miss rescans its code).

// Returns the first position in [p, e) whose byte is not a field-value byte (VCHAR, obs-text, SP,
// HTAB), or e; p <= e. A word of visible ASCII and SP passes with three operations: a byte below
// 0x20 borrows into its own high bit, 0x7F carries into it and obs-text has it. The first byte a
// word flags is looked up in the class table: an HTAB or obs-text byte is stepped over, anything
// else (CR, another CTL, DEL) ends the value.
@inline export function scanValueInline(p: usize, e: usize, l01: u64, l20: u64, l80: u64): usize {
  let q: usize;
  do {
    let m: u64;
    do {
      const w = load<u64>(p);
      m = ((w - l20) | (w + l01) | w) & l80;
      p += 8;
    } while (!m & (p < e));
    q = min(p - 8 + firstFlagged(m), e);
    p = q + 1;
  } while ((q < e) & is(load<u8>(q), FIELD_VCHAR | WS));
  return q;
}

// Returns the first position in [p, e) whose byte is not visible US-ASCII (0x21-0x7E), or e.
// (w + l01) flags 0x7F and above; a carry only leaves a byte of 0xFF, itself flagged below it.
export function scanVisible(p: usize, e: usize): usize {
  const l01 = load<u64>(LANE_01), l21 = load<u64>(LANE_21), l80 = load<u64>(LANE_80);
  for (;;) {
    if (p >= e) return p;
    const w = word(p, e);
    const m = ((w | (w + l01) | ((w - l21) & ~w))) & l80;
    if (m) {
      const q = p + firstFlagged(m);
      return q < e ? q : e;
    }
    p += 8;
  }
  return unreachable();
}

// Returns the first position in [p, e) whose byte is not a tchar (a field name), or e; p < e.
// Words of letters and "-" (nearly every name) pass an exact word test; the first other byte of a
// word is then looked up in the class table: a tchar (a digit, "_", ...) is stepped over, anything
// else ends the token. Per byte below 0x80: a letter has w | 0x20 in 0x61-0x7A, and the sums below
// stay inside the byte. A byte of 0x80 or more is flagged by its own high bit; what its sums carry
// or borrow into the bytes above it can only flag those too, so the lowest flagged byte is exact.
@inline export function scanTokenInline(p: usize, e: usize, l1f: u64, l20: u64, l2d: u64, l7f: u64, l80: u64, lfa: u64): usize {
  let q: usize;
  do {
    let m: u64;
    do {
      const w = load<u64>(p);
      const y = w | l20;
      const letter = (y + l1f) & (lfa - y);         // high bit: 0x61 <= y <= 0x7A
      const d = w ^ l2d;
      const notDash = (d + l7f) | d;                // high bit: byte is not "-"
      m = (w | (notDash & ~letter)) & l80;
      p += 8;
    } while (!m & (p < e));
    q = min(p - 8 + firstFlagged(m), e);
    p = q + 1;
  } while ((q < e) & is(load<u8>(q), TCHAR));
  return q;
}

// The byte loops: a value or a name cut by the end of input (the per-token states), a method.
export function scanValue(p: usize, e: usize): usize {
  for (;;) {
    if (p >= e || !is(load<u8>(p), FIELD_VCHAR | WS)) return p;
    p++;
  }
  return unreachable();
}

// Reads the byte at e too (the window is followed by spare bytes): no branch per byte for the bound.
@inline export function scanToken(p: usize, e: usize): usize {
  while (<u32>(p < e) & <u32>is(load<u8>(p), TCHAR)) p++;
  return p;
}
