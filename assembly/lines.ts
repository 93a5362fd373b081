// Fast path for the field section: every field line that lies whole in the window (name, colon,
// OWS, value, OWS, CRLF) is checked and reported here in one pass, without a trip through the state
// dispatcher per token. It commits a line only when the line is valid and within the limits; any
// other case returns to the per-token states in parser.ts, which then produce the exact verdict.
// So the fast path changes speed, never results; a line it gives up on is scanned by the per-token
// states once more (at most twice in all, so a trickled head still costs linear time).
import { CR, LF, COLON } from './chars';
import { cfg, C_HEADER, C_HEADERS, C_SPANS } from './config';
import { TCHAR, WS } from './tables';
import { is } from './classes';
import { O_HCOUNT, O_HBYTES, R_TRAILER } from './slots';
import { emit, spanCount, K_NAME, K_VALUE, K_TRAILER_NAME, K_TRAILER_VALUE } from './output';
import { scanValue } from './scan';
import { fieldId, applyField } from './fields';
import * as ctx from './context';

// Returns the position after the last line committed (p itself when none was).
export function wholeLines(p: usize): usize {
  const e = ctx.end, s = ctx.slot, trailer = (ctx.flags & R_TRAILER) != 0;
  const maxCount = cfg(C_HEADERS), maxBytes = <u64>cfg(C_HEADER), spanCap = cfg(C_SPANS);
  const kName = trailer ? K_TRAILER_NAME : K_NAME, kValue = trailer ? K_TRAILER_VALUE : K_VALUE;
  while (p < e && spanCount + 2 <= spanCap) {
    let q = p;
    while (q < e && is(load<u8>(q), TCHAR)) q++;
    if (q == p || q >= e || load<u8>(q) != COLON) break;
    const nameLen = <u32>(q - p);
    q++;
    while (q < e && is(load<u8>(q), WS)) q++;
    const v0 = q;
    q = scanValue(q, e);
    if (q + 1 >= e || load<u8>(q) != CR || load<u8>(q, 1) != LF) break;
    let v1 = q;
    while (v1 > v0 && is(load<u8>(v1 - 1), WS)) v1--;
    const count = load<u32>(s, O_HCOUNT) + 1;
    const bytes = <u64>load<u32>(s, O_HBYTES) + <u64>(q + 2 - p);
    if (count > maxCount || bytes > maxBytes) break;
    const id = trailer ? 0 : fieldId(p, nameLen);
    if (id != 0) {
      const f = applyField(s, id, v0, <u32>(v1 - v0), ctx.flags);
      if (f & 0x80000000) break;
      ctx.setFlags(f);
    }
    store<u32>(s, count, O_HCOUNT);
    store<u32>(s, <u32>bytes, O_HBYTES);
    emit(kName, id, p, nameLen);
    emit(kValue, id, v0, v1 - v0);
    p = q + 2;
  }
  return p;
}
