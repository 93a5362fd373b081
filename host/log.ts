// The host's three logs (access, error, security), written to stdout, stderr, an absolute file path,
// or nowhere (MoatConfig['log']).
//
// Rules every line follows:
// - No secrets, no bodies: targets are logged as sent, except that the values of query parameters
//   whose (decoded) name matches SECRET_KEY are replaced by "***" (and userinfo in an absolute-form
//   target, which the module refuses anyway, by "***@"). Error-log fields named like a secret are
//   logged as "***". Bodies are never passed to the logger.
// - No injection: every logged string goes through escapeLogText, which escapes control characters,
//   DEL and every non-ASCII character as \xNN (UTF-8 bytes for code points above 0xff), and '"' and
//   '\' as \" and \\ (Apache mod_log_config style), so a request can never start a new line or forge
//   a field. Each field is capped at MAX_FIELD characters.
// - Bounded memory: a destination whose stream buffer holds more than `maxBuffer` bytes (1 MiB)
//   drops lines and counts them; once it has room again (on 'drain', on the next write with room, or
//   on close) it writes one "N log lines dropped" notice. A stream error turns the destination off
//   (one message on stderr) instead of crashing the process.
//
// Each distinct destination is opened once per logger, even when several logs share it; a file is
// opened for append (created 0640 if missing) synchronously in createLogger, so a bad path fails at
// start-up rather than on the first request.
import { openSync, createWriteStream } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { Writable } from 'node:stream';
import type { MoatConfig } from './types.ts';
import { EventKind, type ModuleEvent } from './module.ts';
import { reasonOf } from './errors.ts';

export type LogConfig = MoatConfig['log'];
export type Level = LogConfig['error']['level'];

/** One completed (or refused) request, as the server reports it (host/connection.ts AccessEntry). */
export interface AccessEntry {
  /** Epoch milliseconds the request started; default: now - durationMs. */
  time?: number;
  /** Client address as text. */
  client: string;
  /** "" or "-" when the request line never completed (logged as "-" / null). */
  method: string;
  target: string;
  /** "1.0", "1.1" or "HTTP/1.1" style; "" or "-" if unknown. */
  version: string;
  status: number;
  /** Response body bytes sent. */
  bytes: number;
  durationMs: number;
  tls: boolean;
  /** A self-audit request (host/audit): tagged so it is never mistaken for real traffic. */
  audit?: boolean;
}

/**
 * A security event: either a raw module event (kind is EventKind, `time` is the module's clock and
 * is ignored; the client comes from `address` or the logger's resolveClient), or one the server
 * already resolved (kind and reason as text, time in epoch ms, client address) — host/server.ts's
 * SecurityEntry, which is also how host-side events such as a TLS handshake timeout arrive.
 */
export type SecurityEntry =
  | (ModuleEvent & { address?: string })
  | { time: number; kind: string; reason: string; code: number; slot: number; client: string; severity?: string; rule?: string; remedy?: string; user?: string };

export interface Logger {
  access(entry: AccessEntry): void;
  error(level: Level, msg: string, fields?: Record<string, unknown>): void;
  security(event: SecurityEntry): void;
  /** Events the module's ring overwrote before the host read them (ModuleEvent reader's `lost`). */
  securityLost(count: number): void;
  /** Lines dropped so far, over all destinations (bounded-buffer drops and broken streams). */
  readonly dropped: number;
  /** Flushes and closes file destinations (stdout/stderr stay open). Idempotent. */
  close(): Promise<void>;
}

export interface LoggerOptions {
  /** Epoch milliseconds; default Date.now. */
  now?: () => number;
  /** Client hash (ModuleEvent.client) → address, for security events without `address`. */
  resolveClient?: (hash: number) => string | undefined;
  /** Bytes a destination may buffer before lines are dropped; default 1 MiB. */
  maxBuffer?: number;
  /** Opens a destination ("stdout", "stderr" or an absolute path); default: real streams/files. */
  open?: (dest: string) => Writable;
  /** close() destroys a destination that has not finished flushing after this long; default 5 s. */
  closeTimeoutMs?: number;
}

export const DEFAULT_MAX_BUFFER = 1 << 20;
export const MAX_FIELD = 8192;
export const SECRET_KEY = /pass|pwd|secret|token|key|auth|session/i;
const LEVELS: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const KIND_NAMES: Record<number, string> = {
  [EventKind.REJECT]: 'reject', [EventKind.LIMIT]: 'limit', [EventKind.TIMEOUT]: 'timeout', [EventKind.RESPONSE]: 'response',
};
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// ------------------------------------------------------------------ pure formatters --

/** Makes `s` safe for one log line: see the header comment. */
export function escapeLogText(s: string, max = MAX_FIELD): string {
  let out = '';
  const n = Math.min(s.length, max);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      out += c === 0x22 ? '\\"' : c === 0x5c ? '\\\\' : s[i];
    } else if (c < 0x100) {
      out += hex(c);
    } else {
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += hex(b);
    }
  }
  return s.length > max ? `${out}...(+${s.length - max})` : out;
}

const hex = (b: number) => '\\x' + b.toString(16).padStart(2, '0');

/**
 * The target with secret-looking query values replaced by "***". Only the query changes (and
 * userinfo of an absolute-form target); parameter names are matched after percent-decoding, so
 * `pass%77ord=x` is redacted too. Separators are `&` and `;`.
 */
export function redactTarget(target: string): string {
  let t = target.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@');
  const q = t.indexOf('?');
  if (q < 0) return t;
  const query = t.slice(q + 1).replace(/[^&;]+/g, (pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    const name = pair.slice(0, eq);
    return SECRET_KEY.test(name) || SECRET_KEY.test(decodeName(name)) ? `${name}=***` : pair;
  });
  return t.slice(0, q + 1) + query;
}

function decodeName(name: string): string {
  try { return decodeURIComponent(name.replace(/\+/g, ' ')); } catch { return name; }
}

/** `25/Nov/2026:18:00:00 +0000` (UTC). */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

const httpVersion = (v: string) => (absent(v) ? '' : v.startsWith('HTTP/') ? v : `HTTP/${v}`);

/**
 * Common Log Format: `client - - [time] "METHOD target HTTP/x.y" status bytes`. The request is "-"
 * when no method was parsed; bytes is "-" for zero (Apache %b).
 */
export function formatCommon(e: AccessEntry): string {
  const request = absent(e.method)
    ? '-'
    : [e.method, absent(e.target) ? '' : redactTarget(e.target), httpVersion(e.version)].filter((x) => x !== '').map((x) => escapeLogText(x)).join(' ');
  const bytes = e.bytes > 0 ? String(Math.trunc(e.bytes)) : '-';
  return `${absent(e.client) ? '-' : escapeLogText(e.client)} ${e.audit ? 'moat-audit' : '-'} - [${clfTime(startTime(e))}] "${request}" ${Math.trunc(e.status)} ${bytes}`;
}

const absent = (s: string | undefined) => s === undefined || s === '' || s === '-';
const startTime = (e: AccessEntry) => e.time ?? Date.now() - e.durationMs;

/** One JSON object: {time, client, method, target, version, status, bytes, duration_ms, tls}. */
export function formatJsonAccess(e: AccessEntry): string {
  const text = (s: string) => (absent(s) ? null : escapeLogText(s));
  return JSON.stringify({
    time: new Date(startTime(e)).toISOString(),
    client: text(e.client),
    method: text(e.method),
    target: text(absent(e.target) ? '' : redactTarget(e.target)),
    version: text(httpVersion(e.version)),
    status: Math.trunc(e.status),
    bytes: Math.trunc(e.bytes),
    duration_ms: Math.round(e.durationMs * 1000) / 1000,
    tls: e.tls,
    ...(e.audit ? { audit: true } : {}),
  });
}

/** `2026-11-25T18:00:00.000Z [warn] message key=value key2="two words"`. */
export function formatError(time: number, level: Level, msg: string, fields: Record<string, unknown> = {}): string {
  let line = `${new Date(time).toISOString()} [${level}] ${escapeLogText(msg)}`;
  for (const [k, v] of Object.entries(fields)) {
    const key = k.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64) || '_';
    let value: string;
    if (SECRET_KEY.test(k)) value = '***';
    else if (typeof v === 'string') value = k === 'target' ? redactTarget(v) : v;
    else if (v instanceof Error) value = v.message;
    else if (v === undefined) value = 'undefined';
    else value = typeof v === 'object' && v !== null ? safeJson(v) : String(v);
    const esc = escapeLogText(value);
    line += ` ${key}=${esc === '' || /[\s="]/.test(esc) ? `"${esc}"` : esc}`;
  }
  return line;
}

function safeJson(v: object): string {
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

export function kindName(kind: number): string {
  return KIND_NAMES[kind] ?? `kind_${kind}`;
}

/**
 * One JSON object: {time, kind, reason, code, slot, client} (+ client_hash for a raw module event).
 * `now` is the wall clock, used for raw module events; `resolve` maps a client hash to an address.
 */
export function formatSecurity(now: number, ev: SecurityEntry, resolve?: (hash: number) => string | undefined): string {
  const text = (s: string | undefined) => (s === undefined || s === '' || s === '-' ? null : escapeLogText(s));
  if (typeof ev.kind === 'string') {
    const e = ev as Extract<SecurityEntry, { kind: string }>;
    const extra: Record<string, string> = {};
    for (const k of ['severity', 'rule', 'remedy', 'user'] as const) if (e[k] !== undefined) extra[k] = escapeLogText(e[k]);
    return JSON.stringify({
      time: new Date(Number.isFinite(e.time) ? e.time : now).toISOString(),
      kind: escapeLogText(e.kind), reason: escapeLogText(e.reason), code: e.code, slot: e.slot, client: text(e.client), ...extra,
    });
  }
  const m = ev as Extract<SecurityEntry, { kind: number }>;
  return JSON.stringify({
    time: new Date(now).toISOString(),
    kind: kindName(m.kind),
    reason: reasonOf(m.code),
    code: m.code,
    slot: m.slot,
    client: text(m.address ?? resolve?.(m.client >>> 0)),
    client_hash: (m.client >>> 0).toString(16).padStart(8, '0'),
  });
}

// ------------------------------------------------------------------ destinations --

/** One opened destination: bounded buffer, drop counter, at most one close. */
class Sink {
  pendingDrops = 0;
  totalDrops = 0;
  private broken = false;
  private closed?: Promise<void>;

  constructor(
    readonly dest: string,
    private readonly stream: Writable,
    private readonly owned: boolean,
    private readonly maxBuffer: number,
    private readonly notice: (n: number) => string,
    private readonly closeMs: number,
  ) {
    stream.on('drain', this.onDrain);
    stream.on('error', this.onError);
  }

  private readonly onDrain = () => this.flushNotice();
  private readonly onError = (err: Error) => {
    if (this.broken) return;
    this.broken = true;
    try { process.stderr.write(`moat: log destination ${escapeLogText(this.dest)} failed (${escapeLogText(err.message)}); its lines are dropped\n`); } catch { /* nothing left to tell */ }
  };

  write(line: string): void {
    if (this.closed || this.broken || this.stream.destroyed || this.stream.writableLength > this.maxBuffer) {
      this.pendingDrops++;
      this.totalDrops++;
      return;
    }
    this.flushNotice();
    this.stream.write(line + '\n');
  }

  private flushNotice(): void {
    if (this.pendingDrops === 0 || this.broken || this.stream.destroyed || this.stream.writableEnded) return;
    const n = this.pendingDrops;
    this.pendingDrops = 0;
    this.stream.write(this.notice(n) + '\n');
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.flushNotice();
      this.stream.off('drain', this.onDrain);
      if (!this.owned || this.broken || this.stream.destroyed) {
        if (!this.owned) this.stream.off('error', this.onError);
        return resolve();
      }
      // 'close' (not just 'finish'): a file's descriptor is closed when close() resolves. A stream
      // that never finishes (a stuck disk, a peer that never reads) is destroyed after closeMs.
      const timer = setTimeout(() => { this.stream.destroy(); resolve(); }, this.closeMs);
      const done = () => { clearTimeout(timer); resolve(); };
      this.stream.once('close', done);
      this.stream.once('error', done);
      this.stream.end();
    });
    return this.closed;
  }
}

function openDestination(dest: string): { stream: Writable; owned: boolean } {
  if (dest === 'stdout') return { stream: process.stdout, owned: false };
  if (dest === 'stderr') return { stream: process.stderr, owned: false };
  if (!isAbsolute(dest)) throw new Error(`log destination must be "stdout", "stderr", an absolute path or null: ${JSON.stringify(dest)}`);
  const fd = openSync(dest, 'a', 0o640);
  return { stream: createWriteStream(dest, { fd, autoClose: true }), owned: true };
}

// ------------------------------------------------------------------ the logger --

export function createLogger(cfg: LogConfig, opts: LoggerOptions = {}): Logger {
  const now = opts.now ?? Date.now;
  const maxBuffer = opts.maxBuffer ?? DEFAULT_MAX_BUFFER;
  const sinks = new Map<string, Sink>();
  let closed = false;

  const textNotice = (n: number) => formatError(now(), 'warn', `${n} log lines dropped`);
  const jsonNotice = (n: number) => JSON.stringify({ time: new Date(now()).toISOString(), kind: 'dropped', count: n, msg: `${n} log lines dropped` });

  function sink(dest: string | null, json: boolean): Sink | null {
    if (dest === null) return null;
    let s = sinks.get(dest);
    if (!s) {
      const { stream, owned } = opts.open ? { stream: opts.open(dest), owned: true } : openDestination(dest);
      s = new Sink(dest, stream, owned, maxBuffer, json ? jsonNotice : textNotice, opts.closeTimeoutMs ?? 5000);
      sinks.set(dest, s);
    }
    return s;
  }

  let access: Sink | null, error: Sink | null, security: Sink | null;
  try {
    access = sink(cfg.access.path, cfg.access.format === 'json');
    error = sink(cfg.error.path, false);
    security = sink(cfg.security.path, true);
  } catch (e) {
    for (const s of sinks.values()) void s.close();
    throw e;
  }
  const format = cfg.access.format === 'json' ? formatJsonAccess : formatCommon;
  const maxLevel = LEVELS[cfg.error.level] ?? LEVELS.info;

  return {
    access(entry) {
      if (!closed && access) access.write(format(entry.time === undefined ? { ...entry, time: now() - entry.durationMs } : entry));
    },
    error(level, msg, fields) {
      if (!closed && error && (LEVELS[level] ?? 0) <= maxLevel) error.write(formatError(now(), level, msg, fields));
    },
    security(ev) {
      if (closed || !security) return;
      security.write(formatSecurity(now(), ev, opts.resolveClient));
    },
    securityLost(count) {
      if (closed || !security || count <= 0) return;
      security.write(JSON.stringify({ time: new Date(now()).toISOString(), kind: 'lost', count }));
    },
    get dropped() {
      let n = 0;
      for (const s of sinks.values()) n += s.totalDrops;
      return n;
    },
    async close() {
      closed = true;
      await Promise.all([...sinks.values()].map((s) => s.close()));
    },
  };
}
