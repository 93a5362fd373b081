// The module's ABI: exports only. Documented in ABI.md; host/module.ts is its one typed wrapper.
import {
  CONFIG, CONFIG_MAGIC, C_MAGIC, loadDefaults, layout, slotsBase, inputBase, spansBase, outBase, eventsBase, clientsBase, cfg,
  C_WINDOW, C_EVENTS,
} from './config';
import { E_CONFIG, statusOf } from './errors';
import { CLASS_TABLE } from './tables';
import { RESULT } from './output';
import { eventTotal, resetEvents } from './events';
import { tick as tickSlots } from './timeouts';
import { rulesValid, forgive as forgiveClient } from './defense';

export function configPtr(): usize { return CONFIG; }
export function resultPtr(): usize { return RESULT; }

// Lays out every table from the config blob and closes all slots. Returns the high-water mark
// (bytes of linear memory the module uses) or -E_CONFIG.
export function init(): i32 {
  if (cfg(C_MAGIC) != CONFIG_MAGIC) loadDefaults();     // a blank blob: every value at its default
  const highWater = layout();
  if (!highWater || !rulesValid()) return -<i32>E_CONFIG;
  // The slot table and the client table are adjacent: one pass zeroes both (every slot closed,
  // every client record free), 32 bytes per step. Both are 4-byte multiples from an 8-aligned base.
  let p = slotsBase();
  for (; p + 32 <= eventsBase; p += 32) {
    store<u64>(p, 0); store<u64>(p, 0, 8); store<u64>(p, 0, 16); store<u64>(p, 0, 24);
  }
  for (; p < eventsBase; p += 4) store<u32>(p, 0);
  resetEvents();
  return <i32>highWater;
}

export function inputPtr(): usize { return inputBase; }
export function inputCap(): u32 { return cfg(C_WINDOW); }
export function spansPtr(): usize { return spansBase; }
export function outPtr(): usize { return outBase; }
export function eventsPtr(): usize { return eventsBase; }
export function eventsCap(): u32 { return cfg(C_EVENTS); }
export function eventCount(): u32 { return eventTotal(); }
export function classesPtr(): usize { return CLASS_TABLE; }
export function clientsPtr(): usize { return clientsBase; }
export function status(code: u32): u32 { return statusOf(code); }

// wasm3 compiles every export when the host looks it up at load, and everything else on its first
// call. So the calls every host makes at once are exported as they are, not wrapped (a wrapper is
// one call more and one function more to parse): open(client, tls, now): i32, close(slot),
// feed(slot, from, to, now): u32, respond(slot, status, length, appLen, opts, now): i32. The
// occasional ones get a small wrapper, which keeps their body from being compiled before it runs.
export { open, close } from './connections';
export { feed } from './machine';
export { respond } from './headers';
export function tick(now: u32, from: u32): i32 { return tickSlots(now, from); }
export function forgive(client: u32): u32 { return forgiveClient(client) ? 1 : 0; }
