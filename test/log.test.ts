// host/log.ts: exact formatter output, redaction, injection escaping, level filtering, file
// destinations and the bounded buffer (drop counter) under a stream that never drains.
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  createLogger, escapeLogText, formatCommon, formatError, formatJsonAccess, formatSecurity, redactTarget,
  type AccessEntry, type LogConfig,
} from '../host/log.ts';
import { EventKind } from '../host/module.ts';
import { REASONS } from '../host/errors.ts';

const T = Date.UTC(2026, 10, 25, 18, 0, 0); // 25/Nov/2026:18:00:00 +0000
const entry = (over: Partial<AccessEntry> = {}): AccessEntry => ({
  time: T, client: '127.0.0.1', method: 'GET', target: '/path', version: '1.1', status: 200,
  bytes: 1234, durationMs: 1.23456, tls: false, ...over,
});
const cfg = (over: Partial<{ access: string | null; format: 'common' | 'json'; error: string | null; level: LogConfig['error']['level']; security: string | null }> = {}): LogConfig => ({
  access: { path: over.access === undefined ? 'A' : over.access, format: over.format ?? 'common' },
  error: { path: over.error === undefined ? 'E' : over.error, level: over.level ?? 'info' },
  security: { path: over.security === undefined ? 'S' : over.security },
});

/** A writable that records lines; `stall` makes it never call back (so it never drains). */
class Capture extends Writable {
  chunks: string[] = [];
  /** Every write() call, including those still buffered. */
  accepted: string[] = [];
  pending: (() => void)[] = [];
  constructor(private stall = false) { super({ highWaterMark: 64 }); }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    if (this.stall) this.pending.push(() => cb()); else cb();
  }
  override write(chunk: any, ...rest: any[]): boolean {
    this.accepted.push(String(chunk));
    return super.write(chunk, ...rest);
  }
  get lines(): string[] { return this.chunks.join('').split('\n').filter(Boolean); }
  release(): void { this.stall = false; for (const cb of this.pending.splice(0)) cb(); }
}

function captured(c: LogConfig, extra: Parameters<typeof createLogger>[1] = {}) {
  const streams = new Map<string, Capture>();
  const logger = createLogger(c, {
    now: () => T,
    open: (dest) => { const s = new Capture(); streams.set(dest, s); return s; },
    ...extra,
  });
  return { logger, streams, lines: (dest: string) => streams.get(dest)?.lines ?? [] };
}

describe('formatters', () => {
  it('Common Log Format, exactly', () => {
    expect(formatCommon(entry())).toBe('127.0.0.1 - - [25/Nov/2026:18:00:00 +0000] "GET /path HTTP/1.1" 200 1234');
    expect(formatCommon(entry({ version: 'HTTP/1.0', bytes: 0, status: 304, time: Date.UTC(2026, 0, 5, 3, 4, 5) })))
      .toBe('127.0.0.1 - - [05/Jan/2026:03:04:05 +0000] "GET /path HTTP/1.0" 304 -');
    // The server reports "-" (or "") for parts of a request line that never completed.
    expect(formatCommon(entry({ method: '-', target: '-', version: '-', status: 400, bytes: 52 })))
      .toBe('127.0.0.1 - - [25/Nov/2026:18:00:00 +0000] "-" 400 52');
    expect(formatCommon(entry({ client: '' }))).toMatch(/^- - - \[/);
  });

  it('JSON access lines, exactly', () => {
    expect(formatJsonAccess(entry({ tls: true }))).toBe(
      '{"time":"2026-11-25T18:00:00.000Z","client":"127.0.0.1","method":"GET","target":"/path","version":"HTTP/1.1",' +
      '"status":200,"bytes":1234,"duration_ms":1.235,"tls":true}');
    expect(JSON.parse(formatJsonAccess(entry({ method: '-', target: '', version: '-', bytes: 0 })))).toEqual({
      time: '2026-11-25T18:00:00.000Z', client: '127.0.0.1', method: null, target: null, version: null,
      status: 200, bytes: 0, duration_ms: 1.235, tls: false,
    });
  });

  it('error lines, exactly, with fields quoted and secrets hidden', () => {
    expect(formatError(T, 'warn', 'handler failed', { status: 500, target: '/a?token=abc&x=1', message: 'bad thing', password: 'hunter2', empty: '' }))
      .toBe('2026-11-25T18:00:00.000Z [warn] handler failed status=500 target="/a?token=***&x=1" message="bad thing" password=*** empty=""');
    expect(formatError(T, 'error', 'x', { 'bad name\n': { a: 1 }, err: new Error('boom') }))
      .toBe('2026-11-25T18:00:00.000Z [error] x bad_name_="{\\"a\\":1}" err=boom');
  });

  it('security lines: raw module events and server-resolved events', () => {
    const raw = { time: 123, kind: EventKind.LIMIT, slot: 3, code: 28, client: 0xdeadbeef, address: '10.0.0.9' };
    expect(formatSecurity(T, raw)).toBe(
      '{"time":"2026-11-25T18:00:00.000Z","kind":"limit","reason":"body_too_large","code":28,"slot":3,"client":"10.0.0.9","client_hash":"deadbeef"}');
    expect(REASONS[28]).toBe('body_too_large');
    const resolved = JSON.parse(formatSecurity(T, { time: 0, kind: EventKind.REJECT, slot: 0, code: 12, client: 7 }, (h) => (h === 7 ? '::1' : undefined)));
    expect(resolved).toMatchObject({ kind: 'reject', reason: 'bare_lf', client: '::1', client_hash: '00000007' });
    expect(JSON.parse(formatSecurity(T, { time: 0, kind: 9, slot: 0, code: 999, client: 1 }))).toMatchObject({ kind: 'kind_9', reason: 'error_999', client: null });
    expect(formatSecurity(0, { time: T + 1000, kind: 'timeout', reason: 'tls_handshake_timeout', code: 0, slot: 2, client: '192.0.2.1' })).toBe(
      '{"time":"2026-11-25T18:00:01.000Z","kind":"timeout","reason":"tls_handshake_timeout","code":0,"slot":2,"client":"192.0.2.1"}');
    expect(JSON.parse(formatSecurity(T, { time: T, kind: 'response', reason: 'x', code: 4, slot: 1, client: '' })).client).toBeNull();
  });
});

describe('redaction', () => {
  it('replaces the values of secret-looking query keys and nothing else', () => {
    expect(redactTarget('/login?user=bob&password=hunter2&next=/x')).toBe('/login?user=bob&password=***&next=/x');
    expect(redactTarget('/a?PWD=1;session_id=2&api_key=3&auth=4&Token=5&secret=6&q=7'))
      .toBe('/a?PWD=***;session_id=***&api_key=***&auth=***&Token=***&secret=***&q=7');
    expect(redactTarget('/a?pass%77ord=x&ok=y')).toBe('/a?pass%77ord=***&ok=y');
    expect(redactTarget('/a?token&x=1')).toBe('/a?token&x=1');            // no value, nothing to hide
    expect(redactTarget('/a?token=')).toBe('/a?token=***');
    expect(redactTarget('/password/reset?x=1')).toBe('/password/reset?x=1'); // path left as sent
    expect(redactTarget('/plain')).toBe('/plain');
    expect(redactTarget('http://u:pw@h/a?key=1')).toBe('http://***@h/a?key=***');
    expect(redactTarget('/a?%zz=1&%zz_token=2')).toBe('/a?%zz=1&%zz_token=***'); // undecodable names still matched raw
  });

  it('is applied to logged targets', () => {
    expect(formatCommon(entry({ target: '/?token=abc' }))).toContain('"GET /?token=*** HTTP/1.1"');
    expect(JSON.parse(formatJsonAccess(entry({ target: '/?session=abc&a=b' }))).target).toBe('/?session=***&a=b');
  });
});

describe('injection escaping', () => {
  it('escapes control characters, DEL, non-ASCII, quotes and backslashes', () => {
    expect(escapeLogText('a\r\nb\x00\x1b[31m\x7f')).toBe('a\\x0d\\x0ab\\x00\\x1b[31m\\x7f');
    expect(escapeLogText('caf\u00e9')).toBe('caf\\xe9');
    expect(escapeLogText('\u20ac\u{1F600}')).toBe('\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80');
    expect(escapeLogText('say "hi" \\ bye')).toBe('say \\"hi\\" \\\\ bye');
    expect(escapeLogText('x'.repeat(20), 8)).toBe('xxxxxxxx...(+12)');
  });

  it('no field can start a new line or close the quoted request', () => {
    const evil = entry({ client: '1.2.3.4\n5', method: 'GET', target: '/a"\r\n127.0.0.1 - - [x] "GET /forged HTTP/1.1" 200 1', version: '1.1' });
    const clf = formatCommon(evil);
    expect(clf).not.toMatch(/[\r\n]/);
    expect(clf).toBe('1.2.3.4\\x0a5 - - [25/Nov/2026:18:00:00 +0000] "GET /a\\"\\x0d\\x0a127.0.0.1 - - [x] \\"GET /forged HTTP/1.1\\" 200 1 HTTP/1.1" 200 1234');
    const json = formatJsonAccess(evil);
    expect(json).not.toMatch(/[\r\n]/);
    expect(JSON.parse(json).target).toBe('/a\\"\\x0d\\x0a127.0.0.1 - - [x] \\"GET /forged HTTP/1.1\\" 200 1');
    const err = formatError(T, 'info', 'msg\nforged [error] line', { v: 'a\nb' });
    expect(err).toBe('2026-11-25T18:00:00.000Z [info] msg\\x0aforged [error] line v=a\\x0ab');
  });

  it('the logger writes exactly one line per call', () => {
    const { logger, lines } = captured(cfg({ format: 'json' }));
    logger.access(entry({ target: '/\n\n\n' }));
    logger.error('error', 'a\nb\r\nc');
    logger.security({ time: T, kind: 'reject', reason: 'x\ny', code: 1, slot: 0, client: '\n' });
    expect(lines('A')).toHaveLength(1);
    expect(lines('E')).toHaveLength(1);
    expect(lines('S')).toHaveLength(1);
  });
});

describe('logger', () => {
  it('filters error lines by level (error < warn < info < debug)', () => {
    const seen: Record<string, string[]> = {};
    for (const level of ['error', 'warn', 'info', 'debug'] as const) {
      const { logger, lines } = captured(cfg({ level }));
      for (const l of ['debug', 'info', 'warn', 'error'] as const) logger.error(l, `m-${l}`);
      seen[level] = lines('E').map((x) => x.split(' ')[1]);
    }
    expect(seen).toEqual({
      error: ['[error]'],
      warn: ['[warn]', '[error]'],
      info: ['[info]', '[warn]', '[error]'],
      debug: ['[debug]', '[info]', '[warn]', '[error]'],
    });
  });

  it('writes each log in its format; null destinations are off; a shared destination is opened once', () => {
    const { logger, streams, lines } = captured(cfg({ access: 'X', error: null, security: 'X', format: 'json' }));
    logger.access(entry());
    logger.error('error', 'nowhere');
    logger.security({ time: 0, kind: EventKind.TIMEOUT, slot: 1, code: 35, client: 5 });
    logger.securityLost(3);
    expect([...streams.keys()]).toEqual(['X']);
    const out = lines('X').map((l) => JSON.parse(l));
    expect(out).toEqual([
      JSON.parse(formatJsonAccess(entry())),
      { time: '2026-11-25T18:00:00.000Z', kind: 'timeout', reason: 'request_timeout', code: 35, slot: 1, client: null, client_hash: '00000005' },
      { time: '2026-11-25T18:00:00.000Z', kind: 'lost', count: 3 },
    ]);
    const off = createLogger(cfg({ access: null, error: null, security: null }), { open: () => { throw new Error('opened'); } });
    off.access(entry());
    off.error('error', 'x');
    off.security({ time: 0, kind: 1, slot: 0, code: 1, client: 0 });
    expect(off.dropped).toBe(0);
  });

  it('fills in the request time from now - duration and resolves clients for module events', () => {
    const { logger, lines } = captured(cfg(), { now: () => T + 2000, resolveClient: (h) => (h === 42 ? '198.51.100.7' : undefined) });
    const { time: _t, ...noTime } = entry({ durationMs: 1000 });
    logger.access(noTime);
    logger.security({ time: 5, kind: EventKind.REJECT, slot: 0, code: 3, client: 42 });
    expect(lines('A')).toEqual(['127.0.0.1 - - [25/Nov/2026:18:00:01 +0000] "GET /path HTTP/1.1" 200 1234']);
    expect(JSON.parse(lines('S')[0])).toMatchObject({ time: '2026-11-25T18:00:02.000Z', kind: 'reject', reason: 'bad_target', client: '198.51.100.7' });
  });

  it('refuses a relative file path', () => {
    expect(() => createLogger(cfg({ access: 'logs/access.log', error: null, security: null }))).toThrow(/absolute path/);
  });
});

describe('file destinations', () => {
  let dir = '';
  afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); dir = ''; });

  it('creates, appends to and closes real files', async () => {
    dir = mkdtempSync(join(tmpdir(), 'moat-log-'));
    const access = join(dir, 'access.log'), error = join(dir, 'error.log'), security = join(dir, 'security.log');
    writeFileSync(access, 'earlier line\n');
    const logger = createLogger({ access: { path: access, format: 'common' }, error: { path: error, level: 'warn' }, security: { path: security } }, { now: () => T });
    logger.access(entry());
    logger.access(entry({ target: '/b?secret=s', status: 404, bytes: 0 }));
    logger.error('info', 'filtered out');
    logger.error('warn', 'disk almost full', { free: 12 });
    logger.security({ time: 0, kind: EventKind.RESPONSE, slot: 4, code: 41, client: 1, address: '::1' });
    await logger.close();
    await logger.close(); // idempotent
    logger.access(entry()); // after close: ignored, not thrown
    expect(readFileSync(access, 'utf8')).toBe(
      'earlier line\n' +
      '127.0.0.1 - - [25/Nov/2026:18:00:00 +0000] "GET /path HTTP/1.1" 200 1234\n' +
      '127.0.0.1 - - [25/Nov/2026:18:00:00 +0000] "GET /b?secret=*** HTTP/1.1" 404 -\n');
    expect(readFileSync(error, 'utf8')).toBe('2026-11-25T18:00:00.000Z [warn] disk almost full free=12\n');
    expect(JSON.parse(readFileSync(security, 'utf8'))).toEqual({
      time: '2026-11-25T18:00:00.000Z', kind: 'response', reason: 'response_bad_field_name', code: 41, slot: 4, client: '::1', client_hash: '00000001',
    });
    expect(statSync(error).mode & 0o777 & ~0o640).toBe(0);
  });

  it('one file shared by all three logs is opened once and keeps every line in order', async () => {
    dir = mkdtempSync(join(tmpdir(), 'moat-log-'));
    const path = join(dir, 'all.log');
    const logger = createLogger({ access: { path, format: 'json' }, error: { path, level: 'debug' }, security: { path } }, { now: () => T });
    for (let i = 0; i < 200; i++) { logger.access(entry({ status: 200 + (i % 3) })); logger.error('debug', `n${i}`); }
    await logger.close();
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(400);
    expect(lines[399]).toBe('2026-11-25T18:00:00.000Z [debug] n199');
  });

  it('fails at creation when the file cannot be opened', () => {
    dir = mkdtempSync(join(tmpdir(), 'moat-log-'));
    expect(() => createLogger(cfg({ access: join(dir, 'no', 'such', 'dir', 'a.log'), error: null, security: null }))).toThrow(/ENOENT/);
  });
});

describe('bounded buffer', () => {
  it('drops and counts lines while a stream never drains, then reports them once it does', async () => {
    const stuck = new Capture(true);
    const logger = createLogger(cfg({ error: null, security: null }), { now: () => T, open: () => stuck, maxBuffer: 1000, closeTimeoutMs: 50 });
    const line = formatCommon(entry());                          // 71 bytes + newline
    for (let i = 0; i < 100; i++) logger.access(entry());
    // Accepted while the buffer held at most 1000 bytes: ceil(1001 / 72) = 14 lines, 1008 bytes.
    expect(stuck.writableLength).toBe(14 * (line.length + 1));
    expect(logger.dropped).toBe(86);
    // Memory stays bounded however much is logged.
    for (let i = 0; i < 10_000; i++) logger.access(entry());
    expect(stuck.writableLength).toBe(14 * (line.length + 1));
    expect(logger.dropped).toBe(10_086);
    // The consumer catches up: 'drain' writes the notice, then logging goes on.
    stuck.release();
    await new Promise((r) => setImmediate(r));
    logger.access(entry({ status: 201 }));
    const lines = stuck.lines;
    expect(lines).toHaveLength(14 + 2);
    expect(lines[14]).toBe('2026-11-25T18:00:00.000Z [warn] 10086 log lines dropped');
    expect(lines[15]).toContain('" 201 1234');
    await logger.close();
  });

  it('a JSON destination gets a JSON notice; close() reports pending drops and does not hang on a stuck stream', async () => {
    const stuck = new Capture(true);
    const logger = createLogger(cfg({ access: null, error: null }), { now: () => T, open: () => stuck, maxBuffer: 10, closeTimeoutMs: 50 });
    for (let i = 0; i < 5; i++) logger.security({ time: T, kind: 'reject', reason: 'r', code: 1, slot: 0, client: 'c' });
    expect(logger.dropped).toBe(4);
    const started = Date.now();
    await logger.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(stuck.destroyed).toBe(true);
    const lines = stuck.accepted.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1])).toEqual({ time: '2026-11-25T18:00:00.000Z', kind: 'dropped', count: 4, msg: '4 log lines dropped' });
  });

  it('a failing stream turns the destination off instead of throwing', async () => {
    const bad = new Writable({ write(_c, _e, cb) { cb(new Error('EIO: disk gone')); } });
    const logger = createLogger(cfg({ error: null, security: null }), { open: () => bad, closeTimeoutMs: 50 });
    const errWrite = process.stderr.write;
    const stderr: string[] = [];
    process.stderr.write = ((s: string) => { stderr.push(String(s)); return true; }) as typeof process.stderr.write;
    try {
      logger.access(entry());
      await new Promise((r) => setImmediate(r));
      logger.access(entry());
      logger.access(entry());
    } finally {
      process.stderr.write = errWrite;
    }
    expect(logger.dropped).toBe(2);
    expect(stderr.join('')).toMatch(/log destination A failed \(EIO: disk gone\)/);
    await logger.close();
  });
});
