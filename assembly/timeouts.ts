// Deadlines (timeouts.parse / request / inactivity / session), checked by one sweep from the host's
// tick timer rather than a timer per connection. Times are u32 ms that wrap; differences are taken
// modulo 2^32, so a deadline works across the wrap as long as it is below ~24 days.
import { cfg, C_SLOTS, C_T_PARSE, C_T_REQUEST, C_T_INACTIVITY, C_T_SESSION, NEVER } from './config';
import { E_PARSE_TIMEOUT, E_REQ_TIMEOUT, E_IDLE_TIMEOUT, E_SESSION_TIMEOUT, E_BANNED } from './errors';
import { clientOf, count, banned, sweepClients, CT_LIMIT, RM_BAN } from './defense';
import {
  slotPtr, O_CONN, O_STATE, O_FLAGS, O_TOK, O_EMPTIES, O_TOPEN, O_TREQ, O_TLAST, O_CLIENT, C_OPEN,
  O_ERR, R_HEAD_DONE, S_START, S_DEAD, S_CLOSED,
} from './slots';
import { setResult, V_ERROR, V_CLOSE } from './output';
import { event, EV_TIMEOUT } from './events';
import { statusOf } from './errors';

@inline function over(now: u32, since: u32, limit: u32): bool {
  return limit != NEVER && now - since >= limit;
}

// The error code a slot has earned at `now`, or 0.
@inline function expired(s: usize, now: u32): u32 {
  const st = <u32>load<u8>(s, O_STATE);
  if (st == S_DEAD || st == S_CLOSED) return 0;       // the host is already closing it
  const idle = st == S_START && load<u8>(s, O_EMPTIES) == 0 && load<u16>(s, O_TOK) == 0;
  const tReq = load<u32>(s, O_TREQ);
  if (!idle) {
    if (!(load<u32>(s, O_FLAGS) & R_HEAD_DONE) && over(now, tReq, cfg(C_T_PARSE))) return E_PARSE_TIMEOUT;
    if (over(now, tReq, cfg(C_T_REQUEST))) return E_REQ_TIMEOUT;
  }
  if (over(now, load<u32>(s, O_TLAST), cfg(C_T_INACTIVITY))) return idle ? E_IDLE_TIMEOUT : E_REQ_TIMEOUT;
  if (over(now, load<u32>(s, O_TOPEN), cfg(C_T_SESSION))) return idle ? E_SESSION_TIMEOUT : E_REQ_TIMEOUT;
  return 0;
}

// Returns the first slot >= from whose deadline passed or whose client was banned meanwhile
// (marking it dead and writing status / code / verdict into the result record), or -1. The host
// loops from the returned slot + 1.
export function tick(now: u32, from: u32): i32 {
  const n = cfg(C_SLOTS);
  if (from == 0) sweepClients(now);
  for (let i = from; i < n; i++) {
    const s = slotPtr(i);
    if (!(load<u8>(s, O_CONN) & C_OPEN)) continue;
    if (load<u8>(s, O_STATE) == S_DEAD) continue;       // the host is already closing it
    const e = clientOf(i, now);
    let code = expired(s, now), status = statusOf(code);
    if (code != 0) {
      event(EV_TIMEOUT, i, code, load<u32>(s, O_CLIENT), now);
      if (status != 0 && count(e, CT_LIMIT, i, now) & (1 << RM_BAN)) { code = E_BANNED; status = 0; }
    } else if (banned(e, now)) {
      code = E_BANNED;                                    // banned on another connection meanwhile
    } else continue;
    store<u8>(s, <u8>S_DEAD, O_STATE);
    store<u8>(s, <u8>code, O_ERR);
    setResult(0, status ? V_ERROR : V_CLOSE);
    setResult(1, status);
    setResult(2, code);
    return <i32>i;
  }
  return -1;
}
