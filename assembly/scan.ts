// Word-at-a-time scanning for the long runs of a request head (field values, targets): eight bytes
// are tested with a few integer operations (SWAR), and only a word that may hold a stop byte is
// looked at byte by byte. Reads are u64 loads at p with p + 8 <= end, inside the caller's window.
import { FIELD_VCHAR, WS } from './tables';
import { is } from './classes';

@inline const ONES: u64 = 0x0101010101010101;
@inline const HIGH: u64 = 0x8080808080808080;

// Nonzero when some byte of w is below n (n <= 128): the classic "hasless" bit trick.
@inline function hasLess(w: u64, n: u64): u64 {
  return (w - ONES * n) & ~w & HIGH;
}

// Nonzero when some byte of w equals b.
@inline function hasByte(w: u64, b: u64): u64 {
  const x = w ^ (ONES * b);
  return (x - ONES) & ~x & HIGH;
}

// Field-value bytes: VCHAR, obs-text, SP, HTAB. A word is clean when no byte is a CTL or DEL;
// HTAB is a CTL here, so a word holding one takes the byte loop (correct, just slower).
@inline function valueWordClean(w: u64): bool {
  return (hasLess(w, 0x20) | hasByte(w, 0x7f)) == 0;
}

// Visible US-ASCII 0x21-0x7E (a target or version before its grammar check).
@inline function visibleWordClean(w: u64): bool {
  return ((w & HIGH) | ((w + ONES) & HIGH) | hasLess(w, 0x21)) == 0;
}

// Returns the first position in [p, e) whose byte is not a field-value byte, or e.
export function scanValue(p: usize, e: usize): usize {
  for (;;) {
    while (p + 8 <= e && valueWordClean(load<u64>(p))) p += 8;
    const stop = p + 8 < e ? p + 8 : e;
    while (p < stop && is(load<u8>(p), FIELD_VCHAR | WS)) p++;
    if (p < stop || p == e) break;
  }
  return p;
}

// Returns the first position in [p, e) whose byte is not visible US-ASCII, or e.
export function scanVisible(p: usize, e: usize): usize {
  for (;;) {
    while (p + 8 <= e && visibleWordClean(load<u64>(p))) p += 8;
    const stop = p + 8 < e ? p + 8 : e;
    while (p < stop && <u32>load<u8>(p) - 0x21 <= 0x5d) p++;
    if (p < stop || p == e) break;
  }
  return p;
}
