// Word-at-a-time scanning for the long runs of a request head (field values, targets): eight bytes
// are tested with a few integer operations (SWAR), and the first byte that stops the scan is found
// from the lowest flagged bit of the word, never by a byte loop. A full word is the u64 at p with
// p + 8 <= e; the last, shorter piece is read as the u64 ending at e, shifted so that its bytes
// below p drop out and zero bytes (which always stop a scan) fill the top: those are bytes of the
// window or of the regions laid out below it, inside the module's memory (e >= inputBase > 8).
import { TCHAR } from './tables';
import { classOf, is } from './classes';

@inline const ONES: u64 = 0x0101010101010101;
@inline const HIGH: u64 = 0x8080808080808080;

// The 8 bytes from p, or the e - p < 8 bytes left followed by zero bytes.
@inline function word(p: usize, e: usize): u64 {
  return e - p >= 8 ? load<u64>(p) : load<u64>(e - 8) >> (<u64>(8 - (e - p)) << 3);
}

// Index of the lowest flagged byte of a nonzero mask. The masks below use the classic "hasless" /
// "haszero" tricks: a flagged byte may be a false positive only above a true one, so the lowest
// flagged byte is exact.
@inline function firstFlagged(m: u64): usize {
  return <usize>(ctz(m) >> 3);
}

// Returns the first position in [p, e) whose byte is not a field-value byte (VCHAR, obs-text, SP,
// HTAB), or e. A word's stop candidates are CTLs and DEL; an HTAB among them is stepped over.
// The loops test their bound first and leave by return: a while loop's body would sit inside an
// if, whose whole length WAMR classic rescans on a block-cache miss, once per call.
@inline export function scanValueInline(p: usize, e: usize): usize {
  for (;;) {
    if (p >= e) return p;
    const w = word(p, e);
    // Quick test, exact for words without obs-text: a byte below 0x20 borrows into its own high
    // bit, 0x7F carries into it; a word it does not pass takes the exact test below.
    if (!(((w - ONES * 0x20) | (w + ONES) | w) & HIGH)) { p += 8; continue; }
    const x = w ^ (ONES * 0x7f);
    const m = (((w - ONES * 0x20) & ~w) | ((x - ONES) & ~x)) & HIGH;   // below 0x20, or 0x7F
    if (!m) { p += 8; continue; }          // only a full word can be clean
    const q = p + firstFlagged(m);
    if (q >= e || load<u8>(q) != 0x09) return q < e ? q : e;
    p = q + 1;
  }
  return unreachable();
}

// Returns the first position in [p, e) whose byte is not visible US-ASCII (0x21-0x7E), or e.
// (w + ONES) flags 0x7F and above; a carry only leaves a byte of 0xFF, itself flagged below it.
export function scanVisible(p: usize, e: usize): usize {
  for (;;) {
    if (p >= e) return p;
    const w = word(p, e);
    const m = ((w | (w + ONES) | ((w - ONES * 0x21) & ~w))) & HIGH;
    if (m) {
      const q = p + firstFlagged(m);
      return q < e ? q : e;
    }
    p += 8;
  }
  return unreachable();
}

// Returns the first position in [p, e) whose byte is not a tchar (a method or a field name), or e.
// Four bytes per step while four remain, each tested without a bounds check; then byte by byte.
// The loop leaves by return (no if or block spanning its body: WAMR classic).
@inline export function scanTokenInline(p: usize, e: usize): usize {
  for (;;) {
    if (p + 4 > e) {
      while (p < e && is(load<u8>(p), TCHAR)) p++;
      return p;
    }
    if (!(classOf(load<u8>(p)) & TCHAR)) return p;
    if (!(classOf(load<u8>(p, 1)) & TCHAR)) return p + 1;
    if (!(classOf(load<u8>(p, 2)) & TCHAR)) return p + 2;
    if (!(classOf(load<u8>(p, 3)) & TCHAR)) return p + 3;
    p += 4;
  }
  return unreachable();
}

export function scanValue(p: usize, e: usize): usize { return scanValueInline(p, e); }
export function scanToken(p: usize, e: usize): usize { return scanTokenInline(p, e); }
