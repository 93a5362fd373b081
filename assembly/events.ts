// The security event ring: a fixed number of 12-byte records, overwritten oldest first. The host
// reads records [last seen .. eventTotal); if more than the ring holds arrived meanwhile it knows
// exactly how many it lost, so a flood cannot grow memory or hide that it happened.
//
// Record: u32 time ms, u8 kind, u8 slot, u16 code, u32 client hash.
import { cfg, C_EVENTS, eventsBase, EVENT_BYTES } from './config';

@inline export const EV_REJECT: u32 = 1;    // request refused by the parser (code = error)
@inline export const EV_LIMIT: u32 = 2;     // a limit was hit (413, 414, 431, connection limits)
@inline export const EV_TIMEOUT: u32 = 3;   // a deadline passed
@inline export const EV_RESPONSE: u32 = 4;  // respond() refused or dropped an application field
@inline export const EV_DEFENSE: u32 = 5;   // a defense rule tripped (code = remedy << 8 | rule)
@inline export const EV_CLIENTS_FULL: u32 = 6; // every client record holds a live ban: client untracked

// Events ever written. It lives in the first word of memory, below the static data (which the
// compiler starts at 8 with asconfig's memoryBase 0): as a Wasm global it would be one more
// initializer for wasm3 to evaluate at load.
@inline const EVENT_TOTAL: usize = 0;
@inline export function eventTotal(): u32 { return load<u32>(EVENT_TOTAL); }

export function event(kind: u32, slot: u32, code: u32, client: u32, now: u32): void {
  const total = eventTotal();
  const r = eventsBase + <usize>((total % cfg(C_EVENTS)) * EVENT_BYTES);
  store<u32>(r, now);
  store<u8>(r, <u8>kind, 4);
  store<u8>(r, <u8>slot, 5);
  store<u16>(r, <u16>code, 6);
  store<u32>(r, client, 8);
  store<u32>(EVENT_TOTAL, total + 1);
}

export function resetEvents(): void {
  store<u32>(EVENT_TOTAL, 0);
}
