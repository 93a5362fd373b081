// Connection slots: one fixed 64-byte record per connection, all zero = closed / start state.
//
//  0 u8  state      parser state (S_*)            32 u32 total     chunked body bytes so far
//  1 u8  sub        chunk-size digits / ext state 36 u32 limit     body limit chosen at head end
//  2 u8  field      id of the field being read    40 u32 tOpen     ms, connection opened
//  3 u8  empties    empty lines before request    44 u32 tReq      ms, first byte of request
//  4 u16 tok        bytes of the retained token   48 u32 tLast     ms, last bytes in or out
//                   already scanned               52 u32 client    host's hash of client address
//  6 u16 (spare)                                    56 u32 rflags    flags of the request being answered
//  8 u32 flags      request flags (R_*)           60 u8  conn      C_* bits
// 12 u32 hbytes     field section bytes           61 u8  err       sticky error code
// 16 u32 hcount     field lines
// 20 u32 extBytes   chunk-ext bytes on this line   62 u16 cidx    client record + 1 (defense.ts), 0 none, 0xffff untracked
// 24 u64 remaining  body / chunk bytes still due; chunk size while its digits are read
//
// Every access goes through slotPtr(), which is only reached with slot < cfg(C_SLOTS), so all
// offsets stay inside the slot table that layout() sized.
import { cfg, C_SLOTS, slotsBase, SLOT_BYTES } from './config';

@inline export const O_STATE: u32 = 0;
@inline export const O_SUB: u32 = 1;
@inline export const O_FIELD: u32 = 2;
@inline export const O_EMPTIES: u32 = 3;
@inline export const O_TOK: u32 = 4;
@inline export const O_FLAGS: u32 = 8;
@inline export const O_HBYTES: u32 = 12;
@inline export const O_HCOUNT: u32 = 16;
@inline export const O_EXT: u32 = 20;
@inline export const O_REMAINING: u32 = 24;
@inline export const O_TOTAL: u32 = 32;
@inline export const O_LIMIT: u32 = 36;
@inline export const O_TOPEN: u32 = 40;
@inline export const O_TREQ: u32 = 44;
@inline export const O_TLAST: u32 = 48;
@inline export const O_CLIENT: u32 = 52;
@inline export const O_RFLAGS: u32 = 56;
@inline export const O_CONN: u32 = 60;
@inline export const O_ERR: u32 = 61;
@inline export const O_CIDX: u32 = 62;

// Connection bits (O_CONN).
@inline export const C_OPEN: u32 = 1;
@inline export const C_TLS: u32 = 2;

// Request flags (O_FLAGS); the host sees them in the result record. Append-only.
@inline export const R_V11: u32 = 1 << 0;
@inline export const R_HOST: u32 = 1 << 1;
@inline export const R_CL: u32 = 1 << 2;
@inline export const R_TE: u32 = 1 << 3;
@inline export const R_TE_CHUNKED: u32 = 1 << 4;
@inline export const R_TE_TWICE: u32 = 1 << 5;
@inline export const R_TE_LAST: u32 = 1 << 6;
@inline export const R_TE_OTHER: u32 = 1 << 7;
@inline export const R_TE_SYNTAX: u32 = 1 << 8;
@inline export const R_CONN_CLOSE: u32 = 1 << 9;
@inline export const R_CONN_KEEP: u32 = 1 << 10;
@inline export const R_EXPECT: u32 = 1 << 11;
@inline export const R_TRAILER: u32 = 1 << 12;
@inline export const R_FORM: u32 = 1 << 13;
@inline export const R_UPLOAD: u32 = 1 << 14;
@inline export const R_M_HEAD: u32 = 1 << 15;
@inline export const R_M_CONNECT: u32 = 1 << 16;
@inline export const R_M_OPTIONS: u32 = 1 << 17;
@inline export const R_STARTED: u32 = 1 << 18;
@inline export const R_KEEP_ALIVE: u32 = 1 << 19;
@inline export const R_CHUNKED: u32 = 1 << 20;
@inline export const R_HEAD_DONE: u32 = 1 << 21;
@inline export const R_DONE: u32 = 1 << 22;
@inline export const R_NO_VERSION: u32 = 1 << 23; // request line ended after the target (HTTP/0.9)

// Parser states (O_STATE).
@inline export const S_START: u32 = 0;
@inline export const S_START_LF: u32 = 1;
@inline export const S_METHOD: u32 = 2;
@inline export const S_TARGET: u32 = 3;
@inline export const S_VERSION: u32 = 4;
@inline export const S_LINE_LF: u32 = 5;
@inline export const S_FIELD: u32 = 6;
@inline export const S_NAME: u32 = 7;
@inline export const S_OWS: u32 = 8;
@inline export const S_VALUE: u32 = 9;
@inline export const S_VALUE_LF: u32 = 10;
@inline export const S_HEAD_LF: u32 = 11;
@inline export const S_BODY: u32 = 12;
@inline export const S_CHUNK_SIZE: u32 = 13;
@inline export const S_CHUNK_EXT: u32 = 14;
@inline export const S_CHUNK_LF: u32 = 15;
@inline export const S_CHUNK_DATA: u32 = 16;
@inline export const S_CHUNK_CR: u32 = 17;
@inline export const S_CHUNK_DATA_LF: u32 = 18;
@inline export const S_DEAD: u32 = 19;       // an error was reported; nothing more is parsed
@inline export const S_CLOSED: u32 = 20;     // the last request did not keep the connection alive

@inline export const SLOT_WORDS: u32 = 16;

@inline export function slotPtr(slot: u32): usize {
  return slotsBase() + <usize>(slot * SLOT_BYTES);
}

@inline export function slotValid(slot: u32): bool {
  return slot < cfg(C_SLOTS) && (load<u8>(slotPtr(slot) + O_CONN) & C_OPEN) != 0;
}

// Per-request fields start again at zero; connection fields (times, client, conn bits) stay.
export function resetRequest(s: usize): void {
  store<u64>(s, 0);
  store<u64>(s, 0, 8);
  store<u64>(s, 0, 16);
  store<u64>(s, 0, 24);
  store<u64>(s, 0, 32);
}
