// State of the one feed() call in progress. The slot record is the durable state; these globals
// only cache the hot fields of the slot being fed so that handlers need not reload them per byte.
import { cfg, C_HEADER } from './config';
import { E_FIELD_BYTES } from './errors';
import { O_HBYTES, O_RFLAGS, R_KEEP_ALIVE, R_DONE } from './slots';
import { V_DONE } from './output';

export let slot: usize = 0;      // slot record
export let slotNo: u32 = 0;
export let state: u32 = 0;       // S_*
export let flags: u32 = 0;       // R_* of the request being parsed
export let tok: usize = 0;       // start of the token being scanned (retained across calls)
export let end: usize = 0;       // one past the last input byte
export let now: u32 = 0;
export let running: bool = true; // false once the call must return
export let err: u32 = 0;         // error code, 0 = none
export let verdict: u32 = 0;     // V_* bits gathered so far
export let doneFlags: u32 = 0;   // flags of the request that completed in this call

@inline export function begin(no: u32, s: usize, st: u32, fl: u32, t: usize, e: usize, n: u32): void {
  slotNo = no; slot = s; state = st; flags = fl; tok = t; end = e; now = n;
  running = true; err = 0; verdict = 0; doneFlags = 0;
}

@inline export function setState(s: u32): void { state = s; }
@inline export function setFlags(f: u32): void { flags = f; }
@inline export function setTok(p: usize): void { tok = p; }

// Stops the call with an error; returns `end` so a handler can `return fail(...)`.
export function fail(code: u32): usize {
  err = code;
  running = false;
  return end;
}

// Records a verdict bit without stopping the call.
export function mark(v: u32): void {
  verdict |= v;
}

@inline export function stop(v: u32): void {
  verdict |= v;
  running = false;
}

// Field-section byte accounting (limits.header, RFC 9110 5.4 / status 431). Returns false on excess.
export function countHeader(n: usize): bool {
  const total = <u64>load<u32>(slot, O_HBYTES) + <u64>n;
  if (total > <u64>cfg(C_HEADER)) { fail(E_FIELD_BYTES); return false; }
  store<u32>(slot, <u32>total, O_HBYTES);
  return true;
}

export function messageDone(): void {
  flags |= R_DONE;
  doneFlags = flags;
  store<u32>(slot, flags, O_RFLAGS);
  stop(V_DONE);
}

@inline export function keepAlive(): bool {
  return (flags & R_KEEP_ALIVE) != 0;
}
