// Opening and closing slots, with the connection limits (limits.connections = slot count,
// limits.clientConnections per client address hash; 0 = unknown client, not counted) and the
// client's defense record: a banned client is refused before any slot work.
import { cfg, C_SLOTS, C_CLIENT_CONNS } from './config';
import { E_CONN_LIMIT, E_CLIENT_CONN_LIMIT, E_BANNED } from './errors';
import { slotPtr, O_CONN, O_CLIENT, O_TOPEN, O_TREQ, O_TLAST, O_CIDX, C_OPEN, C_TLS, SLOT_WORDS } from './slots';
import { event, EV_LIMIT } from './events';
import { lookup, recordAt, count, banned, CT_CONNECTIONS, CT_LIMIT } from './defense';

// Returns the slot number, or -(error code) when a ban or a limit refuses the connection.
// An unknown client (0) has no record: the defense calls are skipped, not just made to return at
// once, so a host that does not track clients never compiles them on wasm3 (compiled on first call).
export function open(client: u32, tls: u32, now: u32): i32 {
  let e: usize = 0, cidx: u32 = 0;
  if (client) {
    cidx = lookup(client, 0xff, now);
    e = recordAt(cidx);
    count(e, CT_CONNECTIONS, 0xff, now);
    if (banned(e, now)) return -<i32>E_BANNED;    // no event per refusal: a banned flood must not fill the ring
  }
  const n = cfg(C_SLOTS);
  let free: i32 = -1, same: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const s = slotPtr(i);
    if (load<u8>(s, O_CONN) & C_OPEN) {
      if (client != 0 && load<u32>(s, O_CLIENT) == client) same++;
    } else if (free < 0) {
      free = <i32>i;
    }
  }
  const code = free < 0 ? E_CONN_LIMIT : client != 0 && same >= cfg(C_CLIENT_CONNS) ? E_CLIENT_CONN_LIMIT : 0;
  if (code) {
    event(EV_LIMIT, 0xff, code, client, now);
    if (e) count(e, CT_LIMIT, 0xff, now);
    return -<i32>code;
  }
  const s = slotPtr(<u32>free);
  for (let i: u32 = 0; i < SLOT_WORDS; i++) store<u32>(s + (i << 2), 0);
  store<u8>(s, <u8>(C_OPEN | (tls != 0 ? C_TLS : 0)), O_CONN);
  store<u32>(s, client, O_CLIENT);
  store<u32>(s, now, O_TOPEN);
  store<u32>(s, now, O_TREQ);
  store<u32>(s, now, O_TLAST);
  store<u16>(s, <u16>cidx, O_CIDX);
  return free;
}

export function close(slot: u32): void {
  if (slot < cfg(C_SLOTS)) store<u8>(slotPtr(slot) + O_CONN, 0);
}
