// Opening and closing slots, with the connection limits (limits.connections = slot count,
// limits.clientConnections per client address hash; 0 = unknown client, not counted) and the
// client's defense record: a banned client is refused before any slot work.
import { cfg, C_SLOTS, C_CLIENT_CONNS } from './config';
import { E_CONN_LIMIT, E_CLIENT_CONN_LIMIT, E_BANNED } from './errors';
import { slotPtr, O_CONN, O_CLIENT, O_TOPEN, O_TREQ, O_TLAST, O_CIDX, C_OPEN, C_TLS, SLOT_WORDS } from './slots';
import { event, EV_LIMIT } from './events';
import { lookup, recordAt, count, banned, CT_CONNECTIONS, CT_LIMIT } from './defense';

// Returns the slot number, or -(error code) when a ban or a limit refuses the connection.
// An unknown client (0) has no record and no per-client limit. The two cases are separate
// functions and open() only picks one: wasm3 compiles an export when the host looks it up at load
// and anything else on its first call, so a host that does not track clients never compiles the
// defense calls, and one that does never compiles the untracked case.
export function open(client: u32, tls: u32, now: u32): i32 {
  return client ? openTracked(client, tls, now) : openUntracked(tls, now);
}

function openUntracked(tls: u32, now: u32): i32 {
  const n = cfg(C_SLOTS);
  for (let i: u32 = 0; i < n; i++) {
    if (!(load<u8>(slotPtr(i), O_CONN) & C_OPEN)) { claim(i, tls, now); return <i32>i; }
  }
  event(EV_LIMIT, 0xff, E_CONN_LIMIT, 0, now);
  return -<i32>E_CONN_LIMIT;
}

function openTracked(client: u32, tls: u32, now: u32): i32 {
  const cidx = lookup(client, 0xff, now);
  const e = recordAt(cidx);
  count(e, CT_CONNECTIONS, 0xff, now);
  if (banned(e, now)) return -<i32>E_BANNED;    // no event per refusal: a banned flood must not fill the ring
  const n = cfg(C_SLOTS);
  let free: i32 = -1, same: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const s = slotPtr(i);
    if (load<u8>(s, O_CONN) & C_OPEN) {
      if (load<u32>(s, O_CLIENT) == client) same++;
    } else if (free < 0) {
      free = <i32>i;
    }
  }
  const code = free < 0 ? E_CONN_LIMIT : same >= cfg(C_CLIENT_CONNS) ? E_CLIENT_CONN_LIMIT : 0;
  if (code) {
    event(EV_LIMIT, 0xff, code, client, now);
    if (e) count(e, CT_LIMIT, 0xff, now);
    return -<i32>code;
  }
  const s = claim(<u32>free, tls, now);
  store<u32>(s, client, O_CLIENT);
  store<u16>(s, <u16>cidx, O_CIDX);
  return free;
}

// A free slot opened: every field zero (no client, no record) but the connection bits and clocks.
@inline function claim(i: u32, tls: u32, now: u32): usize {
  const s = slotPtr(i);
  for (let k: u32 = 0; k < SLOT_WORDS; k++) store<u32>(s + (k << 2), 0);
  store<u8>(s, <u8>(C_OPEN | (tls != 0 ? C_TLS : 0)), O_CONN);
  store<u32>(s, now, O_TOPEN);
  store<u32>(s, now, O_TREQ);
  store<u32>(s, now, O_TLAST);
  return s;
}

export function close(slot: u32): void {
  if (slot < cfg(C_SLOTS)) store<u8>(slotPtr(slot) + O_CONN, 0);
}
