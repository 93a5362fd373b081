// feed(): runs the state handlers over window[from, to) for one slot and writes the result record.
// The loop stops at the end of input, at the end of a message (so the host handles one request
// at a time, and pipelined bytes wait their turn), when the span area is full, or at an error.
import { cfg, C_FLAGS, C_WINDOW, C_SPANS, F_STEALTH, inputBase } from './config';
import { statusOf, E_CLOSED, E_SLOT, E_BANNED } from './errors';
import { clientOf, count, counterOfError, RM_BAN } from './defense';
import {
  slotPtr, slotValid, resetRequest, O_STATE, O_FLAGS, O_TOK, O_TLAST, O_ERR, O_CLIENT, O_REMAINING,
  R_KEEP_ALIVE, S_START, S_START_LF, S_METHOD, S_TARGET, S_VERSION, S_LINE_LF, S_FIELD,
  S_NAME, S_OWS, S_VALUE, S_VALUE_LF, S_HEAD_LF, S_BODY, S_CHUNK_SIZE, S_CHUNK_EXT, S_CHUNK_LF,
  S_CHUNK_DATA, S_CHUNK_CR, S_CHUNK_DATA_LF, S_DEAD, S_CLOSED,
} from './slots';
import { setResult, clearSpans, spanCount, V_PAUSE, V_ERROR, V_CLOSE, V_HEAD, V_DONE } from './output';
import { event, EV_REJECT, EV_LIMIT } from './events';
import {
  onStart, onStartLf, onMethod, onTarget, onVersion, onLineLf, onField, onName, onOws, onValue,
  onValueLf, onHeadLf,
} from './parser';
import { onBody, onChunkSize, onChunkExt, onChunkLf, onChunkData, onChunkCr, onChunkDataLf } from './body';
import * as ctx from './context';

// step(), onStart(), finish() and the small functions every request passes through (slotValid,
// checkVersion, sectionEnd, onHeadLf, messageDone, scanToken) are inlined: a wasm3 call costs
// op_Call and op_Entry, which zeroes the callee's locals and copies its constant table (~140 Thumb
// instructions). wholeRequestLine() stays a call: binaryen wraps an inlined body that returns early
// in a block, and WAMR classic looks every block up in its small block-end cache, rescanning the
// block's code on a miss; inlined into onStart(), its 482-byte block missed on every request.
//
// The states a valid request passes through most come first, as plain tests: a switch compiles to
// a br_table inside one block per case, and every dispatch opens all of them, each a lookup in
// WAMR classic's small block-end cache (a miss rescans the block's code). The rest is a switch.
@inline function step(st: u32, p: usize): usize {
  if (st == S_FIELD) return onField(p);
  if (st == S_START) return onStart(p);
  if (st == S_HEAD_LF) return onHeadLf(p);
  if (st == S_CHUNK_SIZE) return onChunkSize(p);
  if (st == S_BODY) return onBody(p);
  return stepOther(st, p);
}

function stepOther(st: u32, p: usize): usize {
  switch (st) {
    case S_START_LF: return onStartLf(p);
    case S_METHOD: return onMethod(p);
    case S_TARGET: return onTarget(p);
    case S_VERSION: return onVersion(p);
    case S_LINE_LF: return onLineLf(p);
    case S_NAME: return onName(p);
    case S_OWS: return onOws(p);
    case S_VALUE: return onValue(p);
    case S_VALUE_LF: return onValueLf(p);
    case S_CHUNK_EXT: return onChunkExt(p);
    case S_CHUNK_LF: return onChunkLf(p);
    case S_CHUNK_DATA: return onChunkData(p);
    case S_CHUNK_CR: return onChunkCr(p);
    case S_CHUNK_DATA_LF: return onChunkDataLf(p);
  }
  return ctx.end;
}

// States whose token is retained by the host when input ends inside it: one bit per state (all
// states are below 32), so the test is a shift, not a chain of ifs.
@inline const RETAINING: u32 = (1 << S_METHOD) | (1 << S_TARGET) | (1 << S_VERSION) | (1 << S_NAME) | (1 << S_VALUE);
@inline function retains(st: u32): bool {
  return ((RETAINING >> st) & 1) != 0;
}

// An error is sticky: the slot answers the same verdict to every later call. The first report
// counts against the client; when that trips a ban the answer is dropped too (the client is gone).
export function reportError(slotNo: u32, s: usize, code: u32, now: u32): u32 {
  const status = statusOf(code);
  let silent = status == 0 || ((cfg(C_FLAGS) & F_STEALTH) != 0 && (status == 400 || status == 429));
  if (load<u8>(s, O_STATE) != S_DEAD) {
    store<u8>(s, <u8>S_DEAD, O_STATE);
    store<u8>(s, <u8>code, O_ERR);
    const limit = status == 413 || status == 414 || status == 431 || status == 429;
    event(limit ? EV_LIMIT : EV_REJECT, slotNo, code, load<u32>(s, O_CLIENT), now);
    if (status != 0 && count(clientOf(slotNo, now), counterOfError(status), slotNo, now) & (1 << RM_BAN)) {
      silent = true;
      store<u8>(s, <u8>E_BANNED, O_ERR);        // later calls answer nothing either
    }
  }
  const v = silent ? V_CLOSE : V_ERROR;
  setResult(0, v);
  setResult(1, silent ? 0 : status);
  setResult(2, code);
  return v;
}

export function feed(slotNo: u32, from: u32, to: u32, now: u32): u32 {
  clearSpans();
  setResult(3, from); setResult(4, to); setResult(5, 0); setResult(6, 0); setResult(7, 0);
  setResult(8, 0); setResult(9, 0);
  if (<u32>!slotValid(slotNo) | <u32>(from > to) | <u32>(to > cfg(C_WINDOW))) return reportBadSlot();
  const s = slotPtr(slotNo);
  const st0 = <u32>load<u8>(s, O_STATE);
  if (st0 >= S_DEAD) return reportError(slotNo, s, st0 == S_DEAD ? load<u8>(s, O_ERR) : E_CLOSED, now);
  const base = inputBase + <usize>from;
  const t = retains(st0) ? <usize>load<u16>(s, O_TOK) : 0;
  ctx.begin(s, st0, load<u32>(s, O_FLAGS), base, inputBase + <usize>to);
  // Handlers run only when to > from, so they always find the call's clock here (ctx.now()).
  if (to > from) store<u32>(s, now, O_TLAST);
  let p = base + t;
  // A full span area stops the call from the span writers (output.ts), like an error or a message end.
  while (p < ctx.end && ctx.running) p = step(ctx.state, p);
  return finish(slotNo, s, p, now);
}

// R_HEAD_DONE >> 21 == V_HEAD, R_DONE >> 21 == V_DONE.
@inline const FLAG_TO_VERDICT: u32 = 21;

@inline function finish(slotNo: u32, s: usize, p: usize, now: u32): u32 {
  setResult(5, spanCount);
  const err = <u32>load<u8>(s, O_ERR);
  if (err) {
    setResult(3, <u32>(p - inputBase));
    return reportError(slotNo, s, err, now);
  }
  // V_HEAD and V_DONE are R_HEAD_DONE and R_DONE set by this call: O_FLAGS still holds the flags
  // it started with, and a done request never starts a call with them.
  let v = ((ctx.flags & ~load<u32>(s, O_FLAGS)) >> FLAG_TO_VERDICT) & (V_HEAD | V_DONE);
  const st = ctx.state;
  const keep = retains(st) & (p == ctx.end) ? ctx.tok : p;
  setResult(3, <u32>(p - inputBase));
  setResult(4, <u32>(keep - inputBase));
  store<u16>(s, <u16>(p - keep), O_TOK);            // 0 unless a retained token is cut off
  // Selects around one small if: a done request's fields start again at zero.
  const done = (v & V_DONE) != 0;
  setResult(6, ctx.flags);
  store<u32>(s, ctx.flags, O_FLAGS);
  if (done) resetRequest(s);
  store<u8>(s, <u8>(done ? ((ctx.flags & R_KEEP_ALIVE) ? S_START : S_CLOSED) : st), O_STATE);
  v |= <u32>(spanCount >= cfg(C_SPANS)) & <u32>(p < ctx.end) ? V_PAUSE : 0;
  setResult(0, v);
  return v;
}

function reportBadSlot(): u32 {
  setResult(0, V_ERROR);
  setResult(1, 500);
  setResult(2, E_SLOT);
  return V_ERROR;
}
