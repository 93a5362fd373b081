// The Node host's server: listeners from the config, one module instance for all of them, limits at
// accept, TLS by wrapping accepted sockets (so the connection limit applies before any handshake
// work), one tick timer for every deadline, security events drained to the log, graceful shutdown.
import net from 'node:net';
import tls from 'node:tls';
import { Moat, loadMoat, ModuleConfig } from './module.ts';
import { Connection, ConnectionHost, ServerLog, AccessEntry } from './connection.ts';
import { reasonOf } from './errors.ts';
import type { Handler, ListenSpec } from './types.ts';

export interface SecurityEntry { time: number; kind: string; reason: string; code: number; slot: number; client: string }
export interface ServerLogSinks extends ServerLog { security(e: SecurityEntry): void }

export interface ServerOptions {
  listen: ListenSpec[];
  module?: Partial<ModuleConfig>;
  handler: Handler;
  /** Fields for every response (config web.headers). */
  headers?: [string, string][];
  /** Secure context options for https listeners (host/tls.ts builds them). */
  tls?: tls.SecureContextOptions & { minVersion?: tls.SecureVersion };
  /** TLS handshake deadline, ms (config timeouts.tls). */
  tlsTimeoutMs?: number;
  log?: Partial<ServerLogSinks>;
}

const TICK_MS = 100;
const EVENT_KINDS = ['', 'reject', 'limit', 'timeout', 'response'];

/** Clock for the module: u32 milliseconds that wrap. */
const nowMs = () => Number(process.hrtime.bigint() / 1_000_000n) >>> 0;

/** FNV-1a of the peer address: the module's per-client key (never 0, which means unknown). */
export function clientHash(address = ''): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193);
  return (h >>> 0) || 1;
}

const silent: ServerLogSinks = { access() {}, error() {}, security() {} };

export class MoatServer {
  readonly moat: Moat;
  private readonly listeners: { spec: ListenSpec; server: net.Server }[] = [];
  private readonly conns = new Map<number, Connection>();
  private readonly secureContext?: tls.SecureContext;
  private readonly log: ServerLogSinks;
  private readonly host: ConnectionHost;
  private timer?: NodeJS.Timeout;
  private eventSeq = 0;
  private closingDown = false;

  private constructor(moat: Moat, private readonly opts: ServerOptions) {
    this.moat = moat;
    this.log = { ...silent, ...opts.log };
    if (opts.listen.some((l) => l.scheme === 'https')) {
      if (!opts.tls) throw new Error('an https listener needs TLS options');
      this.secureContext = tls.createSecureContext(opts.tls);
    }
    this.host = {
      moat, handler: opts.handler, extraFields: opts.headers ?? [], log: this.log, now: nowMs,
      released: (c) => { this.conns.delete(c.slot); },
    };
  }

  static async start(opts: ServerOptions): Promise<MoatServer> {
    const s = new MoatServer(await loadMoat(opts.module ?? {}), opts);
    try {
      for (const spec of opts.listen) await s.listen(spec);
    } catch (err) {
      await s.close(0);
      throw err;
    }
    s.timer = setInterval(() => s.tick(), TICK_MS);
    s.timer.unref();
    return s;
  }

  private listen(spec: ListenSpec): Promise<void> {
    const server = net.createServer({ pauseOnConnect: false }, (socket) => this.accept(socket, spec.scheme === 'https'));
    this.listeners.push({ spec, server });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(spec.port, spec.host || undefined, () => { server.off('error', reject); resolve(); });
    });
  }

  /** Bound addresses, in listen order (port 0 in the config becomes the real port here). */
  get addresses(): { scheme: 'http' | 'https'; host: string; port: number }[] {
    return this.listeners.map(({ spec, server }) => {
      const a = server.address() as net.AddressInfo;
      return { scheme: spec.scheme, host: a.address, port: a.port };
    });
  }

  get port(): number { return this.addresses[0].port; }

  /** Bytes the host holds for its clients: unsent output plus unparsed input (a metric, and the
   *  bound the backpressure test checks). */
  bufferedBytes(): number {
    let n = 0;
    for (const c of this.conns.values()) n += c.socket.writableLength + c.feeder.pending;
    return n;
  }

  private accept(raw: net.Socket, secure: boolean): void {
    if (this.closingDown) { raw.destroy(); return; }
    const address = raw.remoteAddress ?? '';
    const slot = this.moat.open(clientHash(address), secure, nowMs());
    if (slot < 0) { raw.destroy(); this.drainEvents(); return; }       // over a limit: no bytes at all
    const socket = secure ? new tls.TLSSocket(raw, { isServer: true, secureContext: this.secureContext }) : raw;
    const conn = new Connection(this.host, socket, slot, { address, tls: secure });
    this.conns.set(slot, conn);
    if (!secure) { conn.start(); return; }
    raw.on('close', () => socket.destroy());
    socket.once('secure', () => conn.start());
    socket.on('error', (err) => this.log.error('debug', 'tls error', { client: address, message: err.message }));
  }

  private tick(): void {
    const now = nowMs();
    for (const { slot, result } of this.moat.expired(now)) {
      const c = this.conns.get(slot);
      if (c) {
        this.log.error('debug', 'deadline passed', { slot, client: c.client.address, reason: reasonOf(result.code) });
        c.expire(result);
      }
    }
    const tlsLimit = this.opts.tlsTimeoutMs ?? 10_000;
    for (const c of this.conns.values()) {
      if (!c.secure && ((now - c.openedAt) >>> 0) >= tlsLimit) {
        this.log.security({ time: Date.now(), kind: 'timeout', reason: 'tls_handshake_timeout', code: 0, slot: c.slot, client: c.client.address });
        c.socket.destroy();
      }
    }
    this.drainEvents();
  }

  drainEvents(): void {
    const { events, next, lost } = this.moat.events(this.eventSeq);
    this.eventSeq = next;
    if (lost) this.log.error('warn', 'security events lost (ring overrun)', { lost });
    for (const ev of events) {
      this.log.security({
        time: Date.now(), kind: EVENT_KINDS[ev.kind] ?? String(ev.kind), reason: reasonOf(ev.code), code: ev.code,
        slot: ev.slot, client: this.conns.get(ev.slot)?.client.address ?? '',
      });
    }
  }

  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes the rest. */
  async close(graceMs = 5000): Promise<void> {
    this.closingDown = true;
    const stopped = Promise.all(this.listeners.map(({ server }) => new Promise<void>((r) => server.close(() => r()))));
    for (const c of this.conns.values()) c.shutdown();
    const deadline = Date.now() + graceMs;
    while (this.conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.conns.values()) c.socket.destroy();
    clearInterval(this.timer);
    this.drainEvents();
    await stopped;
  }
}

export type { AccessEntry };
