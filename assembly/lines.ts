// Fast path for the field section: every field line that lies whole in the window (name, colon,
// at most one SP, value, CRLF) is checked and reported here in one pass, without a trip through the
// state dispatcher per token. It commits a line only when the line is of that shape, valid and within
// the limits; any other case returns to the per-token states in parser.ts, which then produce the exact verdict.
// So the fast path changes speed, never results; a line it gives up on is scanned by the per-token
// states once more (at most twice in all, so a trickled head still costs linear time).
import { COLON, SP } from './chars';

@inline const CRLF16: u16 = 0x0a0d;   // CR LF as a little-endian u16
import { cfg, C_HEADER, C_HEADERS, C_SPANS, spansBase, inputBase, SPAN_BYTES } from './config';
import { TCHAR, WS } from './tables';
import { is } from './classes';
import { O_HCOUNT, O_HBYTES, R_TRAILER } from './slots';
import { spanCount, setSpanCount, K_NAME, K_VALUE, K_TRAILER_NAME, K_TRAILER_VALUE } from './output';
import { scanValueInline, scanTokenInline } from './scan';
import { LANE_01, LANE_1F, LANE_20, LANE_2D, LANE_7F, LANE_80, LANE_FA } from './text';
import { fieldIdOf, applyField } from './fields';
import * as ctx from './context';

// Returns the position after the last line committed (p itself when none was). Each committed line
// stores the line and byte counts and the span count at once, so every exit is a plain return: a
// loop left by break sits in a block, whose whole code WAMR classic rescans when its end is not in
// its small cache, once per call. Nothing called from the loop (fieldId, applyField) reads those
// counts. Both span records of a line are written, then a full area stops the call as emit() would:
// the loop only starts a line while two records fit.
export function wholeLines(p: usize): usize {
  const e = ctx.end, s = ctx.slot, trailer = (ctx.flags & R_TRAILER) != 0;
  const maxCount = cfg(C_HEADERS), maxBytes = <u64>cfg(C_HEADER), spanCap = cfg(C_SPANS);
  const kName = trailer ? K_TRAILER_NAME : K_NAME, kValue = trailer ? K_TRAILER_VALUE : K_VALUE;
  // A trailer field has no special meaning: a length no special name has makes fieldIdOf() say so.
  const idLen: u32 = trailer ? 0x10000 : 0;
  // The scans' word constants, read once per call (scan.ts says why).
  const l01 = load<u64>(LANE_01), l1f = load<u64>(LANE_1F), l20 = load<u64>(LANE_20), l2d = load<u64>(LANE_2D);
  const l7f = load<u64>(LANE_7F), l80 = load<u64>(LANE_80), lfa = load<u64>(LANE_FA);
  // Layout globals into locals: a global read is one more wasm3 operation per use.
  const spanArea = spansBase, window = inputBase;
  let count = load<u32>(s, O_HCOUNT), bytes = <u64>load<u32>(s, O_HBYTES), spans = spanCount;
  for (;;) {
    if (p >= e || spans + 2 > spanCap) return p;
    let q = scanTokenInline(p, e, l1f, l20, l2d, l7f, l80, lfa);
    if (q == p || q >= e || load<u8>(q) != COLON) return p;
    const nameLen = <u32>(q - p);
    // The colon and the one SP that usually follows it. Other OWS before or after the value (rare)
    // is left to the per-token states, which trim it: no loop entered per line for it here.
    q += 1 + <usize>((q + 1 < e) & (load<u8>(q, 1) == SP));
    if (is(load<u8>(q), WS)) return p;
    const v0 = q;
    q = scanValueInline(q, e, l01, l20, l80);
    if (q + 1 >= e || load<u16>(q) != CRLF16) return p;
    if ((q > v0) & is(load<u8>(q - 1), WS)) return p;
    const v1 = q;
    const lineBytes = bytes + <u64>(q + 2 - p);
    if (count >= maxCount || lineBytes > maxBytes) return p;
    const id = fieldIdOf(p, nameLen | idLen);
    if (id != 0) {
      const f = applyField(s, id, v0, <u32>(v1 - v0), ctx.flags);
      if (f & 0x80000000) return p;
      ctx.setFlags(f);
    }
    count++;
    bytes = lineBytes;
    store<u32>(s, count, O_HCOUNT);
    store<u32>(s, <u32>bytes, O_HBYTES);
    const r = spanArea + <usize>(spans * SPAN_BYTES);
    store<u16>(r, <u16>kName);
    store<u16>(r, <u16>id, 2);
    store<u16>(r, <u16>(p - window), 4);
    store<u16>(r, <u16>nameLen, 6);
    store<u16>(r, <u16>kValue, 8);
    store<u16>(r, <u16>id, 10);
    store<u16>(r, <u16>(v0 - window), 12);
    store<u16>(r, <u16>(v1 - v0), 14);
    spans += 2;
    setSpanCount(spans, spanCap);
    p = q + 2;
  }
  return unreachable();
}
