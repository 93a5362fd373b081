// State of the one feed() call in progress. The slot record is the durable state; these globals
// only cache the hot fields of the slot being fed so that handlers need not reload them per byte.
// Each global is one more initializer for wasm3 to evaluate at load (~2.7 K Thumb instructions on a
// Cortex-M4, in a throw-away runtime), so what the slot record already holds is read from there: the
// call's clock is O_TLAST (feed() stores it before any handler runs) and its error code O_ERR (zero
// while a slot is alive; reportError() stores the same code there).
import { cfg, C_HEADER, slotsBase, SLOT_BYTES } from './config';
import { E_FIELD_BYTES } from './errors';
import { O_HBYTES, O_RFLAGS, O_TLAST, O_ERR, R_KEEP_ALIVE, R_DONE } from './slots';

export let slot: usize = 0;      // slot record
export let state: u32 = 0;       // S_*
export let flags: u32 = 0;       // R_* of the request being parsed
export let tok: usize = 0;       // start of the token being scanned (retained across calls)
export let end: usize = 0;       // one past the last input byte
export let running: bool = true; // false once the call must return (an error, a message end, a full span area)

// The call's verdict bits are not kept apart: finish() reads V_HEAD and V_DONE off the flags this
// call set (R_HEAD_DONE, R_DONE), which headDone() and messageDone() set exactly where they report.
@inline export function begin(s: usize, st: u32, fl: u32, t: usize, e: usize): void {
  slot = s; state = st; flags = fl; tok = t; end = e;
  running = true;
}

@inline export function slotNo(): u32 { return <u32>(slot - slotsBase()) / SLOT_BYTES; }
@inline export function now(): u32 { return load<u32>(slot, O_TLAST); }

@inline export function setState(s: u32): void { state = s; }
@inline export function setFlags(f: u32): void { flags = f; }
@inline export function setTok(p: usize): void { tok = p; }

// Stops the call with an error; returns `end` so a handler can `return fail(...)`.
export function fail(code: u32): usize {
  store<u8>(slot, <u8>code, O_ERR);
  running = false;
  return end;
}

@inline export function stop(): void {
  running = false;
}

// Field-section byte accounting (limits.header, RFC 9110 5.4 / status 431). Returns false on excess.
export function countHeader(n: usize): bool {
  const total = <u64>load<u32>(slot, O_HBYTES) + <u64>n;
  if (total > <u64>cfg(C_HEADER)) { fail(E_FIELD_BYTES); return false; }
  store<u32>(slot, <u32>total, O_HBYTES);
  return true;
}

// Every caller returns at once and the call stops, so ctx.flags are the done request's flags when
// finish() reads them.
@inline export function messageDone(): void {
  flags |= R_DONE;
  store<u32>(slot, flags, O_RFLAGS);
  stop();
}

@inline export function keepAlive(): bool {
  return (flags & R_KEEP_ALIVE) != 0;
}
