// End of the head: which framing the request uses (RFC 9112 6.1-6.3, 9.3), decided once and in a
// fixed order so that the verdict never depends on the order or the split of the fields.
import { cfg, C_BODY, C_FORM, C_UPLOAD } from './config';
import {
  E_HOST_MISSING, E_TE_HTTP10, E_TE_CL, E_TE_BAD, E_TE_CODING, E_BODY_LARGE, E_RATE_LIMIT, E_BANNED,
} from './errors';
import { clientOf, count, banned, delayOf, CT_REQUESTS, RM_REJECT, RETRY_SHIFT } from './defense';
import {
  O_REMAINING, O_LIMIT, O_RFLAGS, O_CLIENT, O_HBYTES, O_HCOUNT, R_V11, R_HOST, R_CL, R_TE, R_TE_TWICE,
  R_TE_LAST, R_TE_OTHER, R_TE_SYNTAX, R_CONN_CLOSE, R_CONN_KEEP, R_FORM, R_UPLOAD, R_KEEP_ALIVE,
  R_CHUNKED, R_HEAD_DONE, R_TRAILER, S_BODY, S_CHUNK_SIZE,
} from './slots';
import { setResult } from './output';
import * as ctx from './context';

function bodyLimit(f: u32): u32 {
  return f & R_FORM ? cfg(C_FORM) : f & R_UPLOAD ? cfg(C_UPLOAD) : cfg(C_BODY);
}

@inline function framingError(f: u32): u32 {
  if ((f & (R_V11 | R_HOST | R_TE)) == (R_V11 | R_HOST)) return 0;   // the usual head, one test
  if ((f & R_V11) && !(f & R_HOST)) return E_HOST_MISSING;
  if (!(f & R_TE)) return 0;
  if (!(f & R_V11)) return E_TE_HTTP10;                 // RFC 9112 6.1: faulty framing
  if (f & R_CL) return E_TE_CL;                         // smuggling-safe: refuse, never pick one
  if ((f & R_TE_SYNTAX) || (f & R_TE_TWICE) || !(f & R_TE_LAST)) return E_TE_BAD; // RFC 9112 6.3
  if (f & R_TE_OTHER) return E_TE_CODING;               // RFC 9112 6.1: 501 for unknown codings
  return 0;
}

export function headDone(): void {
  let f = ctx.flags;
  const err = framingError(f);
  if (err) { ctx.fail(err); return; }
  const limit = bodyLimit(f);
  const s = ctx.slot;
  if ((f & R_CL) && load<u64>(s, O_REMAINING) > <u64>limit) { ctx.fail(E_BODY_LARGE); return; }
  if (load<u32>(s, O_CLIENT) && !admit(ctx.slotNo(), ctx.now())) return;   // 0: an unknown client
  const keep = f & R_V11 ? !(f & R_CONN_CLOSE) : (f & R_CONN_KEEP) && !(f & R_CONN_CLOSE);
  f |= R_HEAD_DONE | (keep ? R_KEEP_ALIVE : 0);
  store<u32>(s, limit, O_LIMIT);
  // The head is reported with the call's verdict, but parsing goes on into the body: the spans keep
  // their order (head spans first), and only the message end stops the call.
  setResult(7, <u32>load<u64>(s, O_REMAINING));
  if (f & R_TE) {
    f |= R_CHUNKED;
    store<u64>(s, 0, O_REMAINING);
    ctx.setState(S_CHUNK_SIZE);
  } else if ((f & R_CL) && load<u64>(s, O_REMAINING) != 0) {
    ctx.setState(S_BODY);
  } else {
    ctx.setFlags(f);
    ctx.messageDone();
    return;
  }
  ctx.setFlags(f);
  store<u32>(s, f, O_RFLAGS);
}

// The client's record counts the request; false when a ban or a rate rule refuses it. Apart from
// headDone() (one test less per request for an untracked client, and no code to compile for it).
function admit(slotNo: u32, now: u32): bool {
  const e = clientOf(slotNo, now);
  if (!e) return true;
  if (banned(e, now)) { ctx.fail(E_BANNED); return false; }   // banned on another connection since
  const tripped = count(e, CT_REQUESTS, slotNo, now);
  if (tripped & (1 << RM_REJECT)) {
    setResult(9, tripped >> RETRY_SHIFT);   // Retry-After: the rest of the rule's window
    ctx.fail(E_RATE_LIMIT);
    return false;
  }
  setResult(8, delayOf(e, now));
  return true;
}

// The trailer section reuses the field states; its counts start again from zero.
export function trailersStart(): void {
  store<u32>(ctx.slot, 0, O_HBYTES);
  store<u32>(ctx.slot, 0, O_HCOUNT);
  ctx.setFlags(ctx.flags | R_TRAILER);
}

export function trailersDone(): void {
  ctx.messageDone();
}
