// The audit's raw HTTP/1.1 client: bytes exactly as written (no normalisation, so malformed and
// ambiguous requests reach the server as the probe built them), responses parsed leniently enough
// to count how many came back on one connection. Every wait is bounded.
import net from 'node:net';
import tls from 'node:tls';
import type { Endpoint } from './types.ts';

export interface ParsedResponse {
  status: number;
  head: string;
  headers: [string, string][];
  body: Buffer;
  header(name: string): string | undefined;
  all(name: string): string[];
}

export interface Exchange {
  responses: ParsedResponse[];
  /** The server closed (FIN or reset) before the client gave up. */
  closed: boolean;
  /** Milliseconds from the write until the close (or the give-up). */
  ms: number;
  raw: Buffer;
  /** Connect or TLS failure: nothing was exchanged. */
  error: string | null;
  /** Bytes left over that do not parse as a response. */
  rest: Buffer;
}

export interface RawOptions {
  endpoint?: Endpoint;
  /** Stop once this many responses are in (the connection is then dropped). */
  expect?: number;
  /** Give up after this long without the expected responses or a close. */
  waitMs?: number;
  localAddress?: string;
  /** The first request is a HEAD (no body follows its head). */
  head?: boolean;
  /** Bytes sent later, after `delayMs` (a second write on the same connection). */
  then?: { data: Buffer | string; delayMs: number };
  tls?: tls.ConnectionOptions;
}

export interface RequestSpec {
  method: string;
  target: string;
  headers?: [string, string][];
  body?: Buffer | string;
  /** Send the run's X-Moat-Audit token (default true). */
  audit?: boolean;
  /** Host header value (default the endpoint's address). */
  host?: string;
  endpoint?: Endpoint;
  waitMs?: number;
}

export interface HttpResult extends Exchange {
  /** The first response, or null when none came. */
  res: ParsedResponse | null;
  request: string;
}

function makeResponse(status: number, head: string, headers: [string, string][], body: Buffer): ParsedResponse {
  return {
    status, head, headers, body,
    header: (n) => headers.find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1],
    all: (n) => headers.filter(([k]) => k.toLowerCase() === n.toLowerCase()).map(([, v]) => v),
  };
}

/** Responses at the start of `buf`; `ended` lets a close-delimited body finish. */
export function parseResponses(buf: Buffer, ended: boolean, firstIsHead = false): { responses: ParsedResponse[]; rest: Buffer } {
  const responses: ParsedResponse[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const head = buf.subarray(at, end).toString('latin1');
    const [line, ...lines] = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(line);
    if (!m) break;
    const status = Number(m[1]);
    const headers: [string, string][] = [];
    for (const l of lines) {
      const i = l.indexOf(':');
      if (i > 0) headers.push([l.slice(0, i), l.slice(i + 1).trim()]);
    }
    let p = end + 4;
    let body: Buffer = Buffer.alloc(0);
    const noBody = (firstIsHead && responses.length === 0) || status < 200 || status === 204 || status === 304;
    const cl = headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1];
    const te = headers.find(([k]) => k.toLowerCase() === 'transfer-encoding')?.[1];
    if (!noBody) {
      if (te && /chunked/i.test(te)) {
        const parts: Buffer[] = [];
        let done = false;
        for (;;) {
          const le = buf.indexOf('\r\n', p);
          if (le < 0) break;
          const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
          if (!Number.isFinite(size)) break;
          if (size === 0) { const fin = buf.indexOf('\r\n\r\n', le); if (fin < 0) break; p = fin + 4; done = true; break; }
          if (buf.length < le + 2 + size + 2) break;
          parts.push(buf.subarray(le + 2, le + 2 + size));
          p = le + 2 + size + 2;
        }
        if (!done) break;
        body = Buffer.concat(parts);
      } else if (cl !== undefined) {
        const n = Number(cl);
        if (!Number.isSafeInteger(n) || buf.length < p + n) break;
        body = buf.subarray(p, p + n);
        p += n;
      } else {
        if (!ended) break;
        body = buf.subarray(p);
        p = buf.length;
      }
    }
    if (status >= 100 && status < 200) { at = p; continue; }   // interim answers are not responses
    responses.push(makeResponse(status, head, headers, body));
    at = p;
  }
  return { responses, rest: buf.subarray(at) };
}

/** Writes `data` on a fresh connection and collects what comes back. */
export function exchangeRaw(ep: Endpoint, data: Buffer | string, opts: RawOptions = {}): Promise<Exchange> {
  const waitMs = opts.waitMs ?? 3000;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0), closed = false, settled = false, started = Date.now();
    let later: NodeJS.Timeout | undefined;
    const base = { host: ep.host, port: ep.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) };
    const socket: net.Socket = ep.scheme === 'https'
      ? tls.connect({ ...base, rejectUnauthorized: false, servername: undefined, ...opts.tls })
      : net.connect(base);
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(later);
      const { responses, rest } = parseResponses(buf, closed, opts.head);
      socket.destroy();
      resolve({ responses, closed, ms: Date.now() - started, raw: buf, error, rest });
    };
    const timer = setTimeout(() => finish(connected ? null : 'connect timeout'), waitMs + 2000);
    let connected = false;
    const check = () => {
      if (opts.expect !== undefined && parseResponses(buf, closed, opts.head).responses.length >= opts.expect) finish(null);
    };
    socket.once(ep.scheme === 'https' ? 'secureConnect' : 'connect', () => {
      connected = true;
      started = Date.now();
      clearTimeout(timer);
      // From here the wait is the caller's.
      timerRef = setTimeout(() => finish(null), waitMs);
      socket.write(bytes);
      if (opts.then) {
        const t = opts.then;
        later = setTimeout(() => { if (!socket.destroyed) socket.write(typeof t.data === 'string' ? Buffer.from(t.data, 'latin1') : t.data); }, t.delayMs);
      }
    });
    let timerRef: NodeJS.Timeout | undefined;
    socket.on('data', (d: Buffer) => { buf = Buffer.concat([buf, d]); check(); });
    socket.on('end', () => { closed = true; clearTimeout(timerRef); finish(null); });
    socket.on('close', () => { closed = true; clearTimeout(timerRef); finish(connected ? null : 'connection refused or reset'); });
    socket.on('error', (e) => { if (!connected) { clearTimeout(timerRef); finish(e.message); } });
  });
}

/** A request's bytes: request line, Host, the audit token, the given fields, Content-Length for a body. */
export function buildRequest(spec: RequestSpec, ep: Endpoint, token: string | null): string {
  const lines = [`${spec.method} ${spec.target} HTTP/1.1`, `Host: ${spec.host ?? hostOf(ep)}`];
  if (token && spec.audit !== false) lines.push(`X-Moat-Audit: ${token}`);
  for (const [k, v] of spec.headers ?? []) lines.push(`${k}: ${v}`);
  const body = spec.body === undefined ? null : Buffer.from(spec.body);
  if (body && !(spec.headers ?? []).some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))) lines.push(`Content-Length: ${body.length}`);
  if (!(spec.headers ?? []).some(([k]) => /^connection$/i.test(k))) lines.push('Connection: close');
  return lines.join('\r\n') + '\r\n\r\n' + (body ? body.toString('latin1') : '');
}

export function hostOf(ep: Endpoint): string {
  return `${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`;
}
