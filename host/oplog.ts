// The operation log: every operator action, and every denied attempt at one, as one JSON object per
// line, append-only and hash-chained, so that editing, deleting, reordering or cutting records is
// found by `moat oplog verify` (verifyOpLog) and named by line.
//
// Record format (one line, UTF-8, ending in "\n"), keys in exactly this order:
//
//   seq      1, 2, 3… — equal to the line number in an intact log
//   time     ISO 8601 UTC with milliseconds (Date#toISOString)
//   actor    who acted: a user or device name, or whatever the caller knows about an anonymous one
//   role     the actor's role at the time, or null (an unauthenticated attempt)
//   action   what was attempted, e.g. "user.revoke"
//   target   (optional) what it was done to
//   outcome  "ok", "denied" or "failed"
//   detail   (optional) at most 16 entries of string, finite number or boolean; keys sorted
//   client   (optional) the client address
//   prev     the previous record's hash (64 zeros in the first record)
//   hash     hex SHA-256, or HMAC-SHA256 when the log has a key, of the canonical JSON
//
// The canonical JSON of a record is JSON.stringify of an object with the keys above except `hash`, in
// that order, optional keys left out when absent and detail keys sorted by UTF-16 code unit. A line
// is that text with `,"hash":"…"` inserted before the final brace — so the line itself is canonical,
// and verification also refuses a record that parses to the right hash but was re-serialized.
// Detail keys must start with a letter: JavaScript orders integer-like keys first whatever the
// insertion order, which would make "sorted" and "as parsed" disagree.
//
// Why a key: without one, anyone who can write the file can rewrite every record from some point on
// and recompute every hash, and the chain still verifies — plain SHA-256 only catches accidents and
// careless edits. With an HMAC key kept away from the log (and from whoever can write it), a forged
// or rewritten record cannot be given a valid hash. The chain then makes deletion and reordering
// visible too; cutting records off the END stays invisible to the file alone, so an auditor should
// note the head hash verify prints, and compare it later.
//
// Record content is made safe where it is written: text fields are capped at MAX_TEXT characters, and
// characters that could break a line or fool a reader (C0/C1 controls, DEL, U+2028/2029, bidi and
// other invisible formatting controls, lone surrogates) are written as visible escapes (\xNN or
// \u{NNNN}; a backslash becomes \\), so one record is always one line, and a record never carries
// a secret: a detail entry whose key looks like one (SECRET_DETAIL) is stored as "***".
//
// One writer at a time: an append re-reads the tail if the file grew since (another process
// appended), but two processes appending at the very same moment could still fork the chain. A
// file that shrank or was replaced since it was opened is refused rather than silently restarted.
import { closeSync, constants as fsc, fstatSync, fsyncSync, openSync, readSync, statSync, writeSync, readFileSync } from 'node:fs';
import { createHash, createHmac } from 'node:crypto';
import { redactTarget } from './log.ts';

export type Outcome = 'ok' | 'denied' | 'failed';
export type DetailValue = string | number | boolean;

export interface OpEntry {
  actor: string;
  role: string | null;
  action: string;
  target?: string;
  outcome: Outcome;
  detail?: Record<string, DetailValue>;
  client?: string;
}

export interface OpRecord extends OpEntry {
  seq: number;
  time: string;
  prev: string;
  hash: string;
}

export type VerifyResult = { ok: true; records: number; head: string } | { ok: false; line: number; reason: string };

/** A log that cannot be opened, read or continued, or an entry append refuses. */
export class OpLogError extends Error {
  constructor(message: string) { super(message); this.name = 'OpLogError'; }
}

export const ZERO_HASH = '0'.repeat(64);
export const MAX_TEXT = 256;
export const MAX_DETAIL_KEYS = 16;
/** No legal record comes near this (about 17 KiB at worst); it bounds what a reader buffers. */
export const MAX_LINE = 32 * 1024;
/** Most records one records()/readOpLog call returns. */
export const MAX_READ = 1000;
export const MIN_KEY_BYTES = 16;
export const SECRET_DETAIL = /pass|pwd|secret|token|key|cookie|session|auth/i;
export const OUTCOMES: readonly Outcome[] = Object.freeze(['ok', 'denied', 'failed'] as const);
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const CHUNK = 64 * 1024;
const KEYS = ['seq', 'time', 'actor', 'role', 'action', 'target', 'outcome', 'detail', 'client', 'prev', 'hash'];
const REQUIRED = ['seq', 'time', 'actor', 'role', 'action', 'outcome', 'prev', 'hash'];
// What cleanText escapes; a stored string containing any of these was not written by append.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSAFE_ONE = new RegExp(`^(?:${UNSAFE.source})$`);

// ------------------------------------------------------------------ record text --

/** `s` with unsafe characters escaped and backslashes doubled, capped at `max` characters ("…" marks a cut). */
export function cleanText(s: string, max = MAX_TEXT): string {
  const pieces: string[] = [];
  let total = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    let piece: string;
    if (ch === '\\') piece = '\\\\';
    else if (!UNSAFE_ONE.test(ch)) piece = ch;
    else if (c < 0x100) piece = `\\x${c.toString(16).padStart(2, '0')}`;
    else piece = `\\u{${c.toString(16).padStart(4, '0')}}`;
    pieces.push(piece);
    total += piece.length;
    // Enough to know it will be cut; the rest of a huge string is never looked at.
    if (total > max) break;
  }
  if (total <= max) return pieces.join('');
  // Cut between pieces, so neither an escape nor a surrogate pair is split.
  let out = '';
  for (const p of pieces) {
    if (out.length + p.length > max - 1) break;
    out += p;
  }
  return out + '…';
}

/** The record's canonical JSON: the text its hash covers (see the header comment). */
export function canonicalJson(r: Omit<OpRecord, 'hash'>): string {
  const o: Record<string, unknown> = { seq: r.seq, time: r.time, actor: r.actor, role: r.role, action: r.action };
  if (r.target !== undefined) o.target = r.target;
  o.outcome = r.outcome;
  if (r.detail !== undefined) o.detail = Object.fromEntries(Object.entries(r.detail).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (r.client !== undefined) o.client = r.client;
  o.prev = r.prev;
  return JSON.stringify(o);
}

function digest(text: string, key: Buffer | undefined): string {
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(text, 'utf8').digest('hex');
}

function lineOf(canonical: string, hash: string): string {
  return `${canonical.slice(0, -1)},"hash":"${hash}"}`;
}

/** What is wrong with a parsed line as a record, or null. Checks shape only, not the chain or hash. */
function shapeProblem(o: unknown): string | null {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'not a JSON object';
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!KEYS.includes(k)) return `unknown field ${JSON.stringify(cleanText(k, 64))}`;
  for (const k of REQUIRED) if (!(k in r)) return `missing field "${k}"`;
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) return 'seq must be a whole number from 1';
  if (typeof r.time !== 'string' || !ISO_TIME.test(r.time) || Number.isNaN(Date.parse(r.time))) return 'time must be an ISO 8601 UTC time';
  for (const k of ['actor', 'action', 'target', 'client', 'role'] as const) {
    const v = r[k];
    if (v === undefined || (k === 'role' && v === null)) continue;
    const p = textProblem(v, k === 'actor' || k === 'action' || k === 'role');
    if (p) return `${k} ${p}`;
  }
  if (!OUTCOMES.includes(r.outcome as Outcome)) return 'outcome must be "ok", "denied" or "failed"';
  if (r.detail !== undefined) {
    const d = r.detail;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return 'detail must be an object';
    const entries = Object.entries(d);
    if (entries.length > MAX_DETAIL_KEYS) return `detail has more than ${MAX_DETAIL_KEYS} entries`;
    for (const [k, v] of entries) {
      if (!DETAIL_KEY.test(k)) return `detail key ${JSON.stringify(cleanText(k, 64))} is not a name`;
      if (SECRET_DETAIL.test(k) && v !== '***') return `detail.${k} holds an unmasked secret`;
      if (typeof v === 'string') {
        const p = textProblem(v, false);
        if (p) return `detail.${k} ${p}`;
      } else if (!(typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
        return `detail.${k} must be a string, a finite number or a boolean`;
      }
    }
  }
  if (typeof r.prev !== 'string' || !HEX64.test(r.prev)) return 'prev must be 64 lowercase hex digits';
  if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) return 'hash must be 64 lowercase hex digits';
  return null;
}

function textProblem(v: unknown, required: boolean): string | null {
  if (typeof v !== 'string') return 'must be a string';
  if (required && v === '') return 'must not be empty';
  if (v.length > MAX_TEXT) return `is longer than ${MAX_TEXT} characters`;
  if (UNSAFE.test(v)) return 'has control or invisible characters';
  return null;
}

/**
 * One line's bytes as a record, checked on its own (shape, hash, canonical form); the chain (seq
 * and prev against the line before) is the caller's.
 */
function checkLine(bytes: Buffer, key: Buffer | undefined): { rec: OpRecord } | { reason: string } {
  if (bytes.length > MAX_LINE) return { reason: `line too long (over ${MAX_LINE} bytes)` };
  let text: string, parsed: unknown;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { reason: 'malformed JSON (not UTF-8)' };
  }
  try {
    parsed = JSON.parse(text);
  } catch {
    return { reason: 'malformed JSON' };
  }
  const p = shapeProblem(parsed);
  if (p) return { reason: `bad record: ${p}` };
  const rec = parsed as OpRecord;
  const { hash, ...rest } = rec;
  const canonical = canonicalJson(rest);
  if (digest(canonical, key) !== hash) {
    // Say which way the mismatch goes when we can tell: a record hashed with plain SHA-256 in a
    // keyed log is what a forger without the key writes.
    if (key && digest(canonical, undefined) === hash) return { reason: 'hash mismatch (plain SHA-256, not the HMAC of this key: written without the key)' };
    return { reason: 'hash mismatch' };
  }
  if (lineOf(canonical, hash) !== text) return { reason: 'not in canonical form (re-serialized or edited by hand)' };
  return { rec };
}

/** Where the chain breaks at `line` given the record before, or null. */
function chainProblem(rec: OpRecord, line: number, prevHash: string): string | null {
  if (rec.seq > line) return `sequence gap (expected ${line}, found ${rec.seq})`;
  if (rec.seq < line) return `sequence out of order (expected ${line}, found ${rec.seq})`;
  if (rec.prev !== prevHash) {
    return line === 1 ? 'broken chain (the first record\'s prev must be 64 zeros)' : `broken chain (prev does not match line ${line - 1})`;
  }
  return null;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ------------------------------------------------------------------ reading --

interface Line { line: number; bytes: Buffer; terminated: boolean }

/**
 * The file's lines, in chunks: memory stays at about CHUNK + MAX_LINE whatever the file's size. A
 * line's bytes are only valid until the next one is asked for. A run of more than MAX_LINE bytes
 * without a newline is yielded unterminated (and over-long) and ends the walk.
 */
function* readLines(fd: number): Generator<Line> {
  const chunk = Buffer.allocUnsafe(CHUNK);
  let carry = Buffer.alloc(0);
  let line = 0, pos = 0;
  for (;;) {
    const n = readSync(fd, chunk, 0, CHUNK, pos);
    if (n === 0) break;
    pos += n;
    const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    let start = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
      yield { line: ++line, bytes: data.subarray(start, nl), terminated: true };
      start = nl + 1;
    }
    carry = Buffer.from(data.subarray(start));
    if (carry.length > MAX_LINE) {
      yield { line: line + 1, bytes: carry, terminated: false };
      return;
    }
  }
  if (carry.length > 0) yield { line: line + 1, bytes: carry, terminated: false };
}

/** Lines in the file, counting an unterminated last one. Only for naming the line of an error. */
function countLines(fd: number, size: number): number {
  const chunk = Buffer.allocUnsafe(CHUNK);
  let count = 0, pos = 0, last = 10;
  while (pos < size) {
    const n = readSync(fd, chunk, 0, Math.min(CHUNK, size - pos), pos);
    if (n === 0) break;
    for (let i = chunk.indexOf(10); i >= 0 && i < n; i = chunk.indexOf(10, i + 1)) count++;
    last = chunk[n - 1];
    pos += n;
  }
  return last === 10 ? count : count + 1;
}

function openRead(file: string): number {
  try {
    return openSync(file, fsc.O_RDONLY);
  } catch (e) {
    throw new OpLogError(`${file}: cannot read the operation log: ${ioReason(e)}`);
  }
}

function ioReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file';
  if (err.code === 'EACCES' || err.code === 'EPERM') return 'permission denied';
  if (err.code === 'ELOOP') return 'is a symbolic link; refusing to write through it';
  if (err.code === 'EISDIR') return 'is a directory';
  return err.message;
}

/**
 * The last record, checked on its own — what open() and an append after another writer need to
 * continue the chain — or null for an empty file. Throws an OpLogError naming the line otherwise.
 */
function readTail(file: string, fd: number, size: number, key: Buffer | undefined): OpRecord | null {
  if (size === 0) return null;
  const len = Math.min(size, MAX_LINE + 2);
  const buf = Buffer.alloc(len);
  const n = readSync(fd, buf, 0, len, size - len);
  const fail = (reason: string): never => {
    throw new OpLogError(`${file}:${countLines(fd, size)}: ${reason}; the chain is not continued past a bad record (moat oplog verify ${file})`);
  };
  if (n !== len) fail('the file changed while it was read');
  if (buf[len - 1] !== 10) fail('truncated last line');
  const nl = buf.lastIndexOf(10, len - 2);
  if (nl < 0 && len < size) fail(`line too long (over ${MAX_LINE} bytes)`);
  const checked = checkLine(buf.subarray(nl + 1, len - 1), key);
  if ('reason' in checked) {
    fail(checked.reason === 'hash mismatch' ? 'hash mismatch (a wrong key, or a log written with a key opened without one, or the other way round?)' : checked.reason);
  }
  return (checked as { rec: OpRecord }).rec;
}

/**
 * Streams `file` and checks every record: JSON shape, seq consecutive from 1, each prev the hash of
 * the line before, each hash (HMAC-SHA256 with `key`, else SHA-256), canonical form, and a newline
 * after the last record. Stops at the first problem. Throws an OpLogError if the file cannot be read.
 */
export function verifyOpLog(file: string, opts: { key?: Buffer } = {}): VerifyResult {
  const key = checkedKey(opts.key);
  const fd = openRead(file);
  try {
    let count = 0, head = ZERO_HASH;
    for (const l of readLines(fd)) {
      if (l.bytes.length > MAX_LINE) return { ok: false, line: l.line, reason: `line too long (over ${MAX_LINE} bytes)` };
      if (!l.terminated) return { ok: false, line: l.line, reason: 'truncated last line' };
      const checked = checkLine(l.bytes, key);
      // A chain break is the more telling reason: a moved or renumbered record also fails its hash.
      if ('reason' in checked) {
        const rec = tryParse(l.bytes);
        const chain = rec && chainProblem(rec, l.line, head);
        return { ok: false, line: l.line, reason: chain ?? checked.reason };
      }
      const chain = chainProblem(checked.rec, l.line, head);
      if (chain) return { ok: false, line: l.line, reason: chain };
      head = checked.rec.hash;
      count = l.line;
    }
    return { ok: true, records: count, head };
  } catch (e) {
    if (e instanceof OpLogError) throw e;
    throw new OpLogError(`${file}: cannot read the operation log: ${ioReason(e)}`);
  } finally {
    closeSync(fd);
  }
}

/** The line as a record when its shape is right, whatever its hash says; else null. */
function tryParse(bytes: Buffer): OpRecord | null {
  try {
    const o = JSON.parse(UTF8.decode(bytes));
    return shapeProblem(o) === null ? o as OpRecord : null;
  } catch {
    return null;
  }
}

/**
 * At most `limit` records (default 100, at most MAX_READ): from line `from` on, or the last ones when
 * `from` is not given. Each record's shape is checked, not the chain or hashes (verifyOpLog does
 * that); a bad line throws an OpLogError naming it. Memory is bounded by `limit` records, not the
 * file's size.
 */
export function readOpLog(file: string, opts: { from?: number; limit?: number } = {}): OpRecord[] {
  const limit = opts.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_READ) throw new OpLogError(`records: limit ${limit} — must be a whole number from 1 to ${MAX_READ}`);
  if (opts.from !== undefined && (!Number.isSafeInteger(opts.from) || opts.from < 1)) throw new OpLogError(`records: from ${opts.from} — must be a whole number from 1`);
  const fd = openRead(file);
  try {
    return opts.from === undefined ? readLast(file, fd, limit) : readFrom(file, fd, opts.from, limit);
  } catch (e) {
    if (e instanceof OpLogError) throw e;
    throw new OpLogError(`${file}: cannot read the operation log: ${ioReason(e)}`);
  } finally {
    closeSync(fd);
  }
}

/** The line as a record (shape checked); `line` is called only to name a bad one. */
function parseRecord(file: string, line: () => number, bytes: Buffer, terminated: boolean): OpRecord {
  const fail = (reason: string): never => { throw new OpLogError(`${file}:${line()}: ${reason}`); };
  if (bytes.length > MAX_LINE) fail(`line too long (over ${MAX_LINE} bytes)`);
  if (!terminated) fail('truncated last line');
  let o: unknown;
  try {
    o = JSON.parse(UTF8.decode(bytes));
  } catch {
    fail('malformed JSON');
  }
  const p = shapeProblem(o);
  if (p) fail(`bad record: ${p}`);
  return o as OpRecord;
}

function readFrom(file: string, fd: number, from: number, limit: number): OpRecord[] {
  const out: OpRecord[] = [];
  for (const l of readLines(fd)) {
    // Lines before `from` are skipped unread; an unterminated one is the end, so `from` is past it.
    if (l.line < from && l.terminated) continue;
    out.push(parseRecord(file, () => l.line, l.bytes, l.terminated));
    if (out.length === limit) break;
  }
  return out;
}

function readLast(file: string, fd: number, limit: number): OpRecord[] {
  const size = fstatSync(fd).size;
  if (size === 0) return [];
  // Read backwards until the buffer holds `limit` whole lines (or the file's start).
  let buf = Buffer.alloc(0), pos = size, newlines = 0;
  const chunk = Buffer.allocUnsafe(CHUNK);
  while (pos > 0 && newlines <= limit) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    const n = readSync(fd, chunk, 0, len, pos);
    if (n !== len) throw new OpLogError(`${file}: changed while it was read`);
    for (let i = chunk.indexOf(10); i >= 0 && i < len; i = chunk.indexOf(10, i + 1)) newlines++;
    buf = Buffer.concat([chunk.subarray(0, len), buf]);
    if (buf.length > (limit + 1) * (MAX_LINE + 1) + CHUNK) break;
  }
  const terminated = buf[buf.length - 1] === 10;
  const parts: Buffer[] = [];
  let end = terminated ? buf.length - 1 : buf.length;
  while (parts.length < limit) {
    const nl = buf.lastIndexOf(10, end - 1);
    if (nl < 0 && pos > 0) break;
    parts.unshift(buf.subarray(nl + 1, end));
    if (nl < 0) break;
    end = nl;
  }
  // Line numbers are only needed to name a bad line, so the whole file is counted only then.
  let total: number | undefined;
  const lineNo = (i: number) => (total ??= countLines(fd, size)) - (parts.length - 1 - i);
  return parts.map((bytes, i) => parseRecord(file, () => lineNo(i), bytes, i < parts.length - 1 || terminated));
}

// ------------------------------------------------------------------ keys --

function checkedKey(key: Buffer | undefined): Buffer | undefined {
  if (key === undefined) return undefined;
  if (!Buffer.isBuffer(key) || key.length < MIN_KEY_BYTES) throw new OpLogError(`operation log key: must be at least ${MIN_KEY_BYTES} bytes`);
  return key;
}

/**
 * An HMAC key from a file: its bytes less one trailing newline (so `openssl rand -hex 32 > F` and raw
 * random bytes both work), at least MIN_KEY_BYTES. The file must not be open to group or others —
 * whoever can read the key can forge records.
 */
export function readKeyFile(file: string): Buffer {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new OpLogError(`${file}: cannot read the key file: ${ioReason(e)}`);
  }
  if (!st.isFile()) throw new OpLogError(`${file}: the key file is not a regular file`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new OpLogError(`${file}: the key file is open to group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (e) {
    throw new OpLogError(`${file}: cannot read the key file: ${ioReason(e)}`);
  }
  if (key.length > 0 && key[key.length - 1] === 10) key = key.subarray(0, key[key.length - 2] === 13 ? -2 : -1);
  if (key.length < MIN_KEY_BYTES) throw new OpLogError(`${file}: the key must be at least ${MIN_KEY_BYTES} bytes (it has ${key.length})`);
  return key;
}

// ------------------------------------------------------------------ writing --

const APPEND_FLAGS = fsc.O_RDWR | fsc.O_APPEND | fsc.O_CREAT | (fsc.O_NOFOLLOW ?? 0);

function openAppend(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, APPEND_FLAGS, 0o600);
  } catch (e) {
    throw new OpLogError(`${file}: cannot open the operation log: ${ioReason(e)}`);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new OpLogError(`${file}: the operation log is not a regular file`);
  }
  return fd;
}

/** The entry as stored: checked (a caller's mistake throws) and cleaned (content never does). */
function normalize(e: OpEntry): Omit<OpRecord, 'seq' | 'time' | 'prev' | 'hash'> {
  const text = (name: string, v: unknown, required: boolean): string => {
    if (typeof v !== 'string') throw new OpLogError(`append: ${name} must be a string`);
    if (required && v === '') throw new OpLogError(`append: ${name} must not be empty`);
    return cleanText(v);
  };
  if (typeof e !== 'object' || e === null) throw new OpLogError('append: the entry must be an object');
  const out: Omit<OpRecord, 'seq' | 'time' | 'prev' | 'hash'> = {
    actor: text('actor', e.actor, true),
    role: e.role === null ? null : text('role', e.role, true),
    action: text('action', e.action, true),
    outcome: e.outcome,
  };
  if (!OUTCOMES.includes(e.outcome)) throw new OpLogError(`append: outcome ${JSON.stringify(e.outcome) ?? 'undefined'} — must be "ok", "denied" or "failed"`);
  // A target may be a request target; its secret-looking query values never reach the log.
  if (e.target !== undefined) {
    if (typeof e.target !== 'string') throw new OpLogError('append: target must be a string');
    out.target = cleanText(redactTarget(e.target));
  }
  if (e.detail !== undefined) {
    if (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail)) throw new OpLogError('append: detail must be an object');
    const entries = Object.entries(e.detail);
    if (entries.length > MAX_DETAIL_KEYS) throw new OpLogError(`append: detail has ${entries.length} entries — at most ${MAX_DETAIL_KEYS}`);
    const d: [string, DetailValue][] = [];
    for (const [k, v] of entries) {
      if (!DETAIL_KEY.test(k)) throw new OpLogError(`append: detail key ${JSON.stringify(cleanText(k, 64))} — 1 to 64 letters, digits and _ . -, starting with a letter`);
      if (!(typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
        throw new OpLogError(`append: detail.${k} must be a string, a finite number or a boolean`);
      }
      // Masked whatever the type: a numeric PIN is as secret as a string one.
      d.push([k, SECRET_DETAIL.test(k) ? '***' : typeof v === 'string' ? cleanText(v) : v]);
    }
    if (d.length > 0) out.detail = Object.fromEntries(d);
  }
  if (e.client !== undefined) out.client = text('client', e.client, false);
  return out;
}

export class OpLog {
  readonly file: string;
  private readonly key: Buffer | undefined;
  private readonly now: () => number;
  private seq: number;
  private last: string;
  // What the file looked like after our last read or write: anything else means another writer.
  private size: number;
  private readonly dev: number;
  private readonly ino: number;

  private constructor(file: string, key: Buffer | undefined, now: () => number, tail: OpRecord | null, size: number, dev: number, ino: number) {
    this.file = file;
    this.key = key;
    this.now = now;
    this.seq = tail?.seq ?? 0;
    this.last = tail?.hash ?? ZERO_HASH;
    this.size = size;
    this.dev = dev;
    this.ino = ino;
  }

  /**
   * Opens `file`, creating it (mode 0600) if missing, and continues its chain from the last record,
   * which must be intact and hashed with the same key (or both without). Only that record is checked
   * here; verifyOpLog checks them all. Throws an OpLogError naming the file (and line) otherwise.
   * `now` (epoch ms) is for tests.
   */
  static open(file: string, opts: { key?: Buffer; now?: () => number } = {}): OpLog {
    const key = checkedKey(opts.key);
    const fd = openAppend(file);
    try {
      const st = fstatSync(fd);
      const tail = readTail(file, fd, st.size, key);
      return new OpLog(file, key, opts.now ?? Date.now, tail, st.size, st.dev, st.ino);
    } finally {
      closeSync(fd);
    }
  }

  /** Records so far. */
  get length(): number { return this.seq; }

  /** The last record's hash (64 zeros while the log is empty). */
  get head(): string { return this.last; }

  /** Appends one record and fsyncs it before returning it; throws an OpLogError if it cannot. */
  append(entry: OpEntry): OpRecord {
    const body = normalize(entry);
    const fd = openAppend(this.file);
    try {
      const st = fstatSync(fd);
      if (st.dev !== this.dev || st.ino !== this.ino) {
        throw new OpLogError(`${this.file}: replaced since it was opened (${this.seq} records then); refusing to start a new chain in it`);
      }
      if (st.size < this.size) throw new OpLogError(`${this.file}: shrank since it was opened (${this.seq} records then); refusing to continue the chain`);
      if (st.size > this.size) {
        // Grown by another writer is fine if what we last wrote (or read) is still where it was:
        // the end of our last record is its hash. Anything else is a different file's content.
        if (this.seq > 0) {
          const mark = Buffer.from(`"hash":"${this.last}"}\n`);
          const at = Buffer.alloc(mark.length);
          if (readSync(fd, at, 0, mark.length, this.size - mark.length) !== mark.length || !at.equals(mark)) {
            throw new OpLogError(`${this.file}: rewritten since it was opened (record ${this.seq} is no longer where it was); refusing to continue the chain`);
          }
        }
        const tail = readTail(this.file, fd, st.size, this.key);
        this.seq = tail!.seq;
        this.last = tail!.hash;
        this.size = st.size;
      }
      const rec: Omit<OpRecord, 'hash'> = { seq: this.seq + 1, time: new Date(this.now()).toISOString(), ...body, prev: this.last };
      const canonical = canonicalJson(rec);
      const hash = digest(canonical, this.key);
      const data = Buffer.from(lineOf(canonical, hash) + '\n', 'utf8');
      if (data.length > MAX_LINE) throw new OpLogError(`append: the record would be ${data.length} bytes — at most ${MAX_LINE}`);
      // One write of the whole line: O_APPEND puts it at the end even if someone else wrote meanwhile.
      // A short write leaves a truncated line; the next append or open then refuses to go on.
      const n = writeSync(fd, data);
      if (n !== data.length) throw new OpLogError(`${this.file}: short write (${n} of ${data.length} bytes); the log needs attention`);
      fsyncSync(fd);
      this.seq = rec.seq;
      this.last = hash;
      this.size = st.size + data.length;
      return { ...rec, hash };
    } finally {
      closeSync(fd);
    }
  }

  /** At most `limit` records (default 100): from seq `from` on, or the last ones. See readOpLog. */
  records(from?: number, limit?: number): OpRecord[] {
    return readOpLog(this.file, { from, limit });
  }
}
