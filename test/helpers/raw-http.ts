// Raw HTTP/1.1 clients over node:net / node:tls for the end-to-end tests: a buffering client that
// records when the server closed, a response parser (Content-Length, chunked, close-delimited), and
// config-text helpers that build a full Moat config (listen on 127.0.0.1:0, demo routes, logs off).
// Every wait is bounded.
import net from 'node:net';
import tls from 'node:tls';
import { loadConfig } from '../../host/config.ts';

export const WAIT = 4000;

export const SECURITY: [string, string][] = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['content-security-policy', "default-src 'self'"],
  ['referrer-policy', 'no-referrer'],
];

export interface RawResponse { status: number; reason: string; headers: Map<string, string[]>; body: Buffer; head: string }

/** A raw client that buffers everything the server sends and records when the server closed. */
export class Client {
  buf = Buffer.alloc(0);
  ended = false;      // the server sent FIN (or the socket closed)
  closed = false;
  error: Error | null = null;
  /** Every byte ever received (buf is consumed by read()). */
  received = 0;
  closedAt = 0;
  private waiters: (() => void)[] = [];
  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => { this.received += d.length; this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    socket.on('end', () => { this.ended = true; this.closedAt ||= Date.now(); this.wake(); });
    socket.on('close', () => { this.ended = true; this.closed = true; this.closedAt ||= Date.now(); this.wake(); });
    socket.on('error', (e) => { this.error = e; /* reset by peer counts as closed */ });
  }
  private wake(): void { for (const w of this.waiters.splice(0)) w(); }

  static connect(port: number, track: { destroy(): void }[], opts: { localAddress?: string; ms?: number } = {}): Promise<Client> {
    const ms = opts.ms ?? WAIT;
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
      track.push(s);
      const t = setTimeout(() => { s.destroy(); reject(new Error('connect timeout')); }, ms);
      s.once('connect', () => { clearTimeout(t); resolve(new Client(s)); });
      s.once('error', (e) => { clearTimeout(t); reject(e); });
    });
  }

  static connectTls(port: number, ca: string | Buffer, track: { destroy(): void }[], opts: tls.ConnectionOptions = {}, ms = WAIT): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost', ...opts });
      track.push(s);
      const t = setTimeout(() => { s.destroy(); reject(new Error('TLS connect timeout')); }, ms);
      s.once('secureConnect', () => { clearTimeout(t); resolve(new Client(s)); });
      s.once('error', (e) => { clearTimeout(t); reject(e); });
    });
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Resolves once `pred` holds, re-checked on every event; rejects after `ms`. */
  until<T>(pred: () => T | undefined | false, ms = WAIT, what = 'condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = pred();
        if (v !== undefined && v !== false) { clearTimeout(t); resolve(v as T); return true; }
        return false;
      };
      const t = setTimeout(() => reject(new Error(`timeout waiting for ${what}; got ${JSON.stringify(this.buf.toString('latin1').slice(0, 500))} ended=${this.ended}`)), ms);
      const loop = () => { if (!check()) this.waiters.push(loop); };
      loop();
    });
  }

  /** Reads one complete response off the buffer. `headOnly` for responses to HEAD. */
  read(headOnly = false, ms = WAIT): Promise<RawResponse> {
    return this.until(() => {
      const r = parseResponse(this.buf, headOnly, this.ended);
      if (!r) return undefined;
      this.buf = this.buf.subarray(r.used);
      return r.res;
    }, ms, 'a response');
  }

  waitClosed(ms = WAIT): Promise<true> { return this.until(() => this.ended || undefined, ms, 'server close'); }
}

export function parseResponse(buf: Buffer, headOnly: boolean, ended: boolean): { res: RawResponse; used: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1');
  const [statusLine, ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(statusLine);
  if (!m) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string[]>();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i <= 0) throw new Error(`bad field line ${JSON.stringify(l)}`);
    const k = l.slice(0, i).toLowerCase();
    headers.set(k, [...(headers.get(k) ?? []), l.slice(i + 1).trim()]);
  }
  const status = Number(m[1]);
  let at = end + 4;
  let body: Buffer = Buffer.alloc(0);
  const cl = headers.get('content-length');
  const te = headers.get('transfer-encoding');
  if (!headOnly && status >= 200 && status !== 204 && status !== 304) {
    if (cl) {
      const n = Number(cl[0]);
      if (buf.length < at + n) return undefined;
      body = buf.subarray(at, at + n);
      at += n;
    } else if (te) {
      const parts: Buffer[] = [];
      for (;;) {
        const le = buf.indexOf('\r\n', at);
        if (le < 0) return undefined;
        const size = parseInt(buf.subarray(at, le).toString('latin1'), 16);
        if (size === 0) { const fin = buf.indexOf('\r\n\r\n', le); if (fin < 0) return undefined; at = fin + 4; break; }
        if (buf.length < le + 2 + size + 2) return undefined;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        at = le + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      if (!ended) return undefined;
      body = buf.subarray(at);
      at = buf.length;
    }
  }
  return { res: { status, reason: m[2], headers, body, head }, used: at };
}

export const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves `p`, or rejects after `ms` naming `what`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`timeout (${ms} ms) waiting for ${what}`)), ms); }),
  ]);
}

/** The embedded default's document root and routes, as JSON5 text for a config file. */
export function demoWebText(): string {
  const d = loadConfig();
  const routes = d.web.routes.map((r) => ({ match: r.match, ...(r.methods ? { methods: r.methods } : {}), handler: r.handler }));
  return `documents: ${JSON.stringify(d.web.documents)}, routes: ${JSON.stringify(routes)}`;
}

/**
 * A full config text: the demo site and routes, listening on `listen` (default one http endpoint on
 * 127.0.0.1:0), logs off, `web` holding extra JSON5 members for the web section and `top` extra
 * top-level members.
 */
export function configText(web = '', top = '', listen = "['http://127.0.0.1:0']"): string {
  return `{
  web: { listen: ${listen}, ${demoWebText()}${web ? ', ' + web : ''} },
  log: { access: { path: null }, error: { path: null }, security: { path: null } },
  ${top}
}`;
}
