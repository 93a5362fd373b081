// Helpers for the end-to-end defense and auth tests (test/defense.test.ts, test/auth.test.ts):
// configs built with validateConfig (listen on 127.0.0.1:0, logs to files in a temp folder or off),
// one-request exchanges on fresh connections from a chosen loopback address (on Linux all of
// 127.0.0.0/8 reaches a server on 127.0.0.1, so 127.0.0.2, 127.0.0.3… are distinct clients), and
// bounded polling of the JSON security log. Every wait is bounded.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HANDLERS, validateConfig } from '../../host/config.ts';
import type { MoatConfig } from '../../host/types.ts';
import { afterAll } from 'vitest';
import { Client, WAIT, parseResponse, sleep, type RawResponse } from './raw-http.ts';

export interface LogFiles { dir: string; access: string; error: string; security: string }

const tempDirs: string[] = [];

/** Sockets and servers a test file opens: closed, and the temp folders removed, after all its tests. */
export function openedByFile(): { track: { destroy(): void }[]; servers: { close(graceMs?: number): Promise<void> }[] } {
  const o = { track: [] as { destroy(): void }[], servers: [] as { close(graceMs?: number): Promise<void> }[] };
  afterAll(async () => {
    for (const c of o.track) c.destroy();
    for (const s of o.servers) await s.close(200);
    removeTempDirs();
  });
  return o;
}

/** A fresh temp folder, removed by removeTempDirs(). */
export function tempDir(prefix = 'moat-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder tempDir() / tempLogs() made (call after the servers are closed). */
export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A fresh temp folder with the three log paths in it (the files appear when the server starts). */
export function tempLogs(prefix = 'moat-e2e-'): LogFiles {
  const dir = tempDir(prefix);
  return { dir, access: join(dir, 'access.log'), error: join(dir, 'error.log'), security: join(dir, 'security.log') };
}

type Obj = Record<string, unknown>;

/**
 * A validated config: `obj` merged over the embedded default, with web.listen set to `listen`
 * (default one http endpoint on 127.0.0.1:0) and the logs going to `logs` (null = all off).
 * Extra handler names (custom handlers passed to startFromConfig) are allowed in routes.
 */
export function testConfig(obj: Obj, opts: { logs?: LogFiles | null; handlers?: string[]; baseDir?: string; listen?: string[] } = {}): MoatConfig {
  const logs = opts.logs ?? null;
  const web = { ...((obj.web as Obj | undefined) ?? {}), listen: opts.listen ?? ['http://127.0.0.1:0'] };
  const log = logs
    ? { access: { path: logs.access, format: 'common' }, error: { path: logs.error, level: 'debug' }, security: { path: logs.security } }
    : { access: { path: null }, error: { path: null }, security: { path: null } };
  return validateConfig({ ...obj, web, log }, {
    baseDir: opts.baseDir ?? logs?.dir ?? tmpdir(),
    handlers: [...DEFAULT_HANDLERS, ...(opts.handlers ?? [])],
  });
}

export interface Exchange {
  /** The response, or null when the server closed without sending a single byte. */
  res: RawResponse | null;
  /** Bytes received on the connection in all. */
  received: number;
  /** Milliseconds from writing the request to the response (or the close). */
  ms: number;
  client: Client | null;
}

export interface ExchangeOptions {
  /** Local (client) address, e.g. '127.0.0.2'. */
  from?: string;
  ms?: number;
  /** Leave the connection open afterwards (it is still tracked for cleanup). */
  keep?: boolean;
}

/**
 * One request on a fresh connection. A connection the server drops at accept (a banned client)
 * yields res null and received 0, whether the client saw a FIN, a reset or a failed connect.
 */
export async function exchange(port: number, raw: string, track: { destroy(): void }[], opts: ExchangeOptions = {}): Promise<Exchange> {
  const ms = opts.ms ?? WAIT;
  let c: Client;
  const t0 = Date.now();
  try {
    c = await Client.connect(port, track, { localAddress: opts.from, ms });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ECONNRESET' || code === 'EPIPE') return { res: null, received: 0, ms: Date.now() - t0, client: null };
    throw e;
  }
  return send(c, raw, { ms, keep: opts.keep });
}

/** One request on an open connection: its response, or null when the server closes first. */
export async function send(c: Client, raw: string, opts: { ms?: number; keep?: boolean; headOnly?: boolean } = {}): Promise<Exchange> {
  const t0 = Date.now();
  c.write(raw);
  const out = await c.until(() => {
    const r = c.buf.length ? parseResponse(c.buf, opts.headOnly ?? false, c.ended) : undefined;
    if (r) { c.buf = c.buf.subarray(r.used); return { res: r.res }; }
    if (c.ended) return { res: null };
    return undefined;
  }, opts.ms ?? WAIT, 'a response or a close');
  const ms = Date.now() - t0;
  if (!opts.keep) c.socket.destroy();
  return { res: out.res, received: c.received, ms, client: c };
}

/** A GET with Host, and any extra field lines ("Name: value\r\n"). */
export const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

/** A request the parser refuses with 400: a control character in the request-target. */
export const BAD_REQUEST = 'GET /\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

/** A POST with a body and Content-Length. */
export function post(path: string, body: string, extra = '', type = 'application/json'): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

/** The single value of a response field (asserted to be present exactly once by the caller's expect). */
export function field(res: RawResponse, name: string): string[] {
  return res.headers.get(name.toLowerCase()) ?? [];
}

/** Parsed lines of a JSON-lines log file ([] while it does not exist). */
export function jsonLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls `pred` every 20 ms until it returns something other than undefined/false; rejects after `ms`. */
export async function eventually<T>(pred: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = pred();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() >= end) throw new Error(`timeout (${ms} ms) waiting for ${what}`);
    await sleep(20);
  }
}

/** The first security-log entry matching `pred`, waiting for it up to `ms`. */
export function securityEntry(file: string, pred: (e: Record<string, unknown>) => boolean, ms = 2000, what = 'a security log entry'): Promise<Record<string, unknown>> {
  return eventually(() => jsonLines(file).find(pred), ms, `${what} in ${file}`);
}
