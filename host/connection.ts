// One client connection: socket bytes → Feeder → module verdicts → handler → respond() → socket.
// One request is answered at a time; the feeder stays paused at a message boundary until the
// response is fully written, so a pipelining or slow-reading client cannot make the host buffer
// more than one response and one socket read of input.
import type { Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Moat, RequestFlag, FeedResult } from './module.ts';
import { Feeder, FeedEvent } from './feeder.ts';
import { IncomingRequest } from './app-request.ts';
import type { HttpRequest } from './request.ts';
import { reasonOf } from './errors.ts';
import { errorReply } from './routes.ts';
import type { AppReply, Handler } from './types.ts';

export interface AccessEntry {
  client: string; method: string; target: string; version: string; status: number;
  bytes: number; durationMs: number; tls: boolean; audit?: boolean;
}
export interface ServerLog {
  access(e: AccessEntry): void;
  error(level: 'error' | 'warn' | 'info' | 'debug', msg: string, fields?: Record<string, unknown>): void;
}
export interface ConnectionHost {
  moat: Moat;
  handler: Handler;
  /** Fields from config `web.headers`, sent on every response. */
  extraFields: [string, string][];
  log: ServerLog;
  now(): number;
  /** Called once the socket is gone and the slot closed. */
  released(conn: Connection): void;
  /** The self-audit's per-run token: a loopback request carrying it in X-Moat-Audit is an audit request. */
  auditToken?: string;
  /**
   * performance.now() of the first socket read of this event-loop turn (the same value for every
   * read of the turn). Every chunk read in the turn had its first byte in the kernel before then,
   * since epoll reported its socket readable before the turn's reads began.
   */
  readsBegan?(): number;
}

const MAX_BACKLOG = 64 * 1024;   // unparsed input held behind an unanswered request before reading stops
const RESPOND_CLOSE = 1;
const READ_BUFFER = 64 * 1024;   // libuv reads a socket into buffers of this size
const NO_FIELDS: [string, string][] = [];
const ONE_BUFFER_MAX = 16 * 1024;   // bodies up to this size are copied behind their head (writeWith)
const DRAIN_MS = 2000;              // a lingering close reads and drops input at most this long

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** Only loopback clients can be the audit, and only with this run's token (compared in constant time). */
function isAudit(req: IncomingRequest, token: string | undefined): boolean {
  if (!token || !LOOPBACK.test(req.client.address)) return false;
  const got = Buffer.from(req.header('x-moat-audit') ?? ''), want = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The config's fields (web.headers) and a reply's own; a field the reply sets itself replaces the config's. */
function withExtra(extra: [string, string][], own: [string, string][]): [string, string][] {
  if (!extra.length) return own;
  const mine = own.length ? new Set(own.map(([n]) => n.toLowerCase())) : null;
  return [...(mine ? extra.filter(([n]) => !mine.has(n.toLowerCase())) : extra), ...own];
}

/** Body of the JSON error replies (the same shape as routes.ts errorReply). */
const errorBody = (status: number, reason: string) => errorReply(status, reason).body as string;

export class Connection {
  readonly feeder: Feeder;
  readonly openedAt: number;
  /** False until a TLS handshake completes (always true on plain TCP). */
  secure: boolean;
  private current: IncomingRequest | null = null;
  private currentStarted = 0;
  private parsedCurrent = false;   // the module reported DONE for the current request
  private answered = false;        // a head for the current request went out
  private closing = false;
  private gone = false;
  /** A response is being written (send() has not returned). */
  private sending = false;
  /**
   * The module closed the exchange while the response was still leaving (e.g. an answer sent
   * before the request body ended, then more of that body): input is read and dropped, so the
   * response is not cut off by a destroy or a reset over unread bytes, until the socket ends or
   * DRAIN_MS pass (a lingering close).
   */
  private draining = false;
  /** readsBegan() of the chunk the next request starts, when it starts one (see onHead). */
  private firstByteBy: number | undefined = undefined;
  /**
   * Whether a chunk's first byte is known to predate readsBegan(): only on plain TCP (a TLS record
   * can start in the middle of a read), never once the socket was paused (chunks may have waited
   * in the stream), and not right after a read that filled libuv's buffer (the next read of the
   * same turn can return bytes that arrived during the turn).
   */
  private turnTimes: boolean;
  private afterFullRead = false;

  constructor(private readonly host: ConnectionHost, readonly socket: Socket, readonly slot: number,
              readonly client: { address: string; tls: boolean }) {
    this.openedAt = host.now();
    this.secure = !client.tls;
    this.turnTimes = !client.tls && host.readsBegan !== undefined;
    this.feeder = new Feeder(host.moat, slot, (e) => this.onEvent(e), true);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.release());
  }

  /** Starts reading (after the TLS handshake on TLS). */
  start(): void {
    this.secure = true;
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      if (this.draining) return;
      // With nothing unparsed, this chunk's first byte starts the next request.
      if (this.turnTimes && !this.afterFullRead && this.feeder.pending === 0 && !this.feeder.midRequest) this.firstByteBy = this.host.readsBegan!();
      this.afterFullRead = chunk.length >= READ_BUFFER;
      this.feeder.push(chunk, this.host.now());
      if (this.feeder.pending > MAX_BACKLOG) { this.turnTimes = false; this.socket.pause(); }
    });
  }

  /** True while a request is being received or answered (graceful shutdown waits for these). */
  get busy(): boolean { return this.current !== null || this.feeder.midRequest; }

  private release(): void {
    if (this.gone) return;
    this.gone = true;
    this.current?.fail(new Error('connection closed'));
    this.host.moat.close(this.slot);
    this.host.released(this);
  }

  private onEvent(e: FeedEvent): void {
    switch (e.type) {
      case 'head': return this.onHead(e.request, e.delay);
      case 'body': this.current?.push(e.chunk); return;
      case 'request':
        this.parsedCurrent = true;
        this.current?.end(e.request.trailers);
        if (this.answered) this.next();
        return;
      case 'error': return this.onError(e.status, e.code, e.retryAfter);
      case 'close':
        if (this.sending || this.socket.writableEnded) return this.drain();
        this.socket.destroy();
        return;
    }
  }

  private onHead(head: Omit<HttpRequest, 'body'>, delay: number): void {
    const req = new IncomingRequest(head, this.client);
    req.audit = isAudit(req, this.host.auditToken);
    // When its first byte reached the host: the turn's read time if this request began a chunk,
    // else now (a pipelined request's bytes may have arrived during this turn's reads).
    req.receivedBy = this.firstByteBy ?? performance.now();
    this.firstByteBy = undefined;
    this.current = req;
    this.currentStarted = Date.now();
    this.parsedCurrent = false;
    this.answered = false;
    if (head.flags & RequestFlag.EXPECT_CONTINUE) { const h = this.head(100, -1, [], 0); if (h) this.socket.write(h.bytes); }
    void this.run(req, head.flags, delay);
  }

  private async run(req: IncomingRequest, flags: number, delay: number): Promise<void> {
    let reply: AppReply;
    // A client the defense rules slowed down waits before its handler runs: scanning gets slow
    // while the request itself stays valid. The slot stays held, which the per-client connection
    // limit bounds.
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (this.current !== req || this.gone) return;
    try {
      reply = await this.host.handler(req);
    } catch (err) {
      this.host.log.error('error', 'handler failed', { target: req.target, message: (err as Error).message });
      reply = errorReply(500, 'handler_error');
    }
    if (this.current !== req || this.answered || this.gone) {           // an error or timeout answered first
      if (reply.body && typeof reply.body === 'object' && 'stream' in reply.body) reply.body.stream.destroy();
      return;
    }
    await this.send(req, reply, (flags & RequestFlag.HEAD_METHOD) !== 0);
  }

  /** A response head from the module and whether the connection must close after it; null (logged) when the module refused it. */
  private head(status: number, length: number, fields: [string, string][], opts: number): { bytes: Uint8Array; close: boolean } | null {
    const r = this.host.moat.respond(this.slot, status, length, fields, opts, this.host.now());
    if (typeof r === 'number') {
      this.host.log.error('error', 'response refused by the module', { status, reason: reasonOf(-r) });
      return null;
    }
    return { bytes: r.head, close: r.close };
  }

  /**
   * Head and buffered body: a small body is copied behind the head and leaves in one write() (one
   * buffer, no writev: less stream work than the corked pair); a larger one goes corked (writev),
   * as node:http does. Returns socket.write()'s answer (false: over the high-water mark).
   */
  private writeWith(head: Uint8Array, body: Buffer): boolean {
    if (body.length <= ONE_BUFFER_MAX) {
      const out = Buffer.allocUnsafe(head.length + body.length);
      out.set(head, 0);
      out.set(body, head.length);
      return this.socket.write(out);
    }
    this.socket.cork();
    this.socket.write(head);
    const ok = this.socket.write(body);
    this.socket.uncork();
    return ok;
  }

  private drain(): void {
    this.draining = true;
    this.closing = true;
    this.socket.resume();
    // The clock starts once the response has left: a long answer to a slow reader is not cut.
    const linger = () => { setTimeout(() => this.socket.destroy(), DRAIN_MS).unref(); };
    if (this.socket.writableFinished) linger(); else this.socket.once('finish', linger);
  }

  private async send(req: IncomingRequest, reply: AppReply, headOnly: boolean): Promise<void> {
    this.answered = true;
    this.sending = true;
    try {
      await this.sendReply(req, reply, headOnly);
    } finally {
      this.sending = false;
    }
  }

  private async sendReply(req: IncomingRequest, reply: AppReply, headOnly: boolean): Promise<void> {
    const body = reply.body;
    let buf: Buffer | null = null, stream: Readable | null = null, length = -1;
    if (typeof body === 'string') buf = Buffer.from(body);
    else if (Buffer.isBuffer(body)) buf = body;
    else if (body) { stream = body.stream; length = body.length ?? -1; }
    if (buf) length = buf.length;
    if (!body) length = 0;
    let status = reply.status;
    let head = this.head(status, length, withExtra(this.host.extraFields, reply.fields ?? NO_FIELDS), this.closing ? RESPOND_CLOSE : 0);
    if (!head) {                                   // the app's fields were refused: a plain 500, then close
      stream?.destroy();
      stream = null;
      status = 500;
      buf = Buffer.from(errorBody(500, 'response_refused'));
      head = this.head(500, buf.length, [['Content-Type', 'application/json']], RESPOND_CLOSE);
      if (!head) { this.socket.destroy(); return; }
    }
    let bytes = 0;
    if (headOnly) { stream?.destroy(); this.socket.write(head.bytes); }
    else if (buf) {
      bytes = buf.length;
      // No promise unless the socket is over its high-water mark (almost never for a small body).
      if (!this.writeWith(head.bytes, buf)) await this.drained();
    } else { this.socket.write(head.bytes); if (stream) bytes = await this.pipe(stream, length < 0 && req.version === '1.1'); }
    this.host.log.access({ client: this.client.address, method: req.method, target: req.target, version: req.version, status, bytes, durationMs: Date.now() - this.currentStarted, tls: this.client.tls, audit: req.audit });
    if (head.close || this.closing) { this.closing = true; this.socket.end(); return; }
    if (this.parsedCurrent) this.next();
  }

  /** The current exchange is over: let the feeder parse the next pipelined request. */
  private next(): void {
    this.current = null;
    // Nothing waiting behind the answered request (the usual keep-alive case): unpause the parser
    // now. Pipelined input is parsed in a later turn, so one client cannot hold the loop.
    if (this.feeder.pending === 0) this.resumeInput();
    else setImmediate(this.resumeLater);
  }

  private readonly resumeLater = () => this.resumeInput();

  private resumeInput(): void {
    if (this.gone) return;
    this.feeder.resume(this.host.now());
    // Read again only once the input held behind answered requests is below the bound.
    if (this.feeder.pending <= MAX_BACKLOG && this.socket.isPaused()) this.socket.resume();
  }

  private write(buf: Buffer): Promise<void> {
    if (this.gone || this.socket.write(buf)) return Promise.resolve();
    return this.drained();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => { this.socket.once('drain', resolve).once('close', resolve); });
  }

  /** Streams a body with backpressure; chunked framing when the length is unknown on HTTP/1.1. */
  private async pipe(stream: Readable, chunked: boolean): Promise<number> {
    let n = 0;
    try {
      for await (const c of stream) {
        const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c);
        if (!chunk.length) continue;
        n += chunk.length;
        await this.write(chunked ? Buffer.concat([Buffer.from(chunk.length.toString(16) + '\r\n'), chunk, Buffer.from('\r\n')]) : chunk);
        if (this.gone) { stream.destroy(); break; }
      }
      if (chunked) await this.write(Buffer.from('0\r\n\r\n'));
    } catch (err) {
      this.host.log.error('error', 'response body stream failed', { message: (err as Error).message });
      this.closing = true;
      this.socket.destroy();
    }
    return n;
  }

  private onError(status: number, code: number, retryAfter = 0): void {
    const req = this.current;
    req?.fail(new Error(reasonOf(code)));
    if (this.answered) { this.socket.destroy(); return; }     // a head already went out
    this.answered = true;
    this.closing = true;
    const reason = reasonOf(code);
    const body = Buffer.from(errorBody(status, reason));
    const fields = withExtra(this.host.extraFields, [['Content-Type', 'application/json']]);
    if (status === 429 && retryAfter > 0) fields.push(['Retry-After', String(retryAfter)]);
    const head = this.head(status, body.length, fields, RESPOND_CLOSE);
    if (!head) { this.socket.destroy(); return; }
    this.writeWith(head.bytes, body);
    this.socket.end();
    this.host.log.access({ client: this.client.address, method: req?.method ?? '-', target: req?.target ?? '-', version: req?.version ?? '-', status, bytes: body.length, durationMs: req ? Date.now() - this.currentStarted : 0, tls: this.client.tls, audit: req?.audit });
  }

  /** A deadline passed (module tick): answer 408 when nothing went out yet, else just close. */
  expire(result: FeedResult): void {
    if (result.status && !this.answered && this.secure) this.onError(result.status, result.code);
    else this.socket.destroy();
  }

  /** Graceful shutdown: idle connections close now, busy ones after their response. */
  shutdown(): void {
    this.closing = true;
    if (!this.busy) this.socket.end();
  }
}
