// The module's ABI: exports only. Documented in ABI.md; host/module.ts is its one typed wrapper.
import {
  CONFIG, loadDefaultsIfBlank, layout, highWater, inputBase, spansBase, outBase, eventsBase, clientsBase, cfg,
  C_WINDOW, C_EVENTS, C_SLOTS,
} from './config';
import { E_CONFIG, statusOf } from './errors';
import { CLASS_TABLE } from './tables';
import { RESULT } from './output';
import { eventTotal, resetEvents } from './events';
import { feed as feedSlot } from './machine';
import { open as openSlot, close as closeSlot } from './connections';
import { respond as respondSlot } from './headers';
import { tick as tickSlots } from './timeouts';
import { slotPtr } from './slots';
import { rulesValid, resetClients, forgive as forgiveClient } from './defense';

export function configPtr(): usize { return CONFIG; }
export function resultPtr(): usize { return RESULT; }

// Lays out every table from the config blob and closes all slots. Returns the high-water mark
// (bytes of linear memory the module uses) or -E_CONFIG.
export function init(): i32 {
  loadDefaultsIfBlank();
  if (!layout() || !rulesValid()) return -<i32>E_CONFIG;
  for (let i: u32 = 0; i < cfg(C_SLOTS); i++) store<u8>(slotPtr(i) + 60, 0);
  resetClients();
  resetEvents();
  return <i32>highWater;
}

export function inputPtr(): usize { return inputBase; }
export function inputCap(): u32 { return cfg(C_WINDOW); }
export function spansPtr(): usize { return spansBase; }
export function outPtr(): usize { return outBase; }
export function eventsPtr(): usize { return eventsBase; }
export function eventsCap(): u32 { return cfg(C_EVENTS); }
export function eventCount(): u32 { return eventTotal; }
export function classesPtr(): usize { return CLASS_TABLE; }
export function clientsPtr(): usize { return clientsBase; }
export function forgive(client: u32): u32 { return forgiveClient(client) ? 1 : 0; }
export function status(code: u32): u32 { return statusOf(code); }

export function open(client: u32, tls: u32, now: u32): i32 { return openSlot(client, tls != 0, now); }
export function close(slot: u32): void { closeSlot(slot); }
export function feed(slot: u32, from: u32, to: u32, now: u32): u32 { return feedSlot(slot, from, to, now); }
export function respond(slot: u32, status: u32, length: i32, appLen: u32, opts: u32, now: u32): i32 {
  return respondSlot(slot, status, length, appLen, opts, now);
}
export function tick(now: u32, from: u32): i32 { return tickSlots(now, from); }
