// The Node host's server: listeners from the config, one module instance for all of them, limits at
// accept, TLS by wrapping accepted sockets (so the connection limit applies before any handshake
// work), one tick timer for every deadline, security events drained to the log, graceful shutdown.
import net from 'node:net';
import tls from 'node:tls';
import { createHmac, randomBytes } from 'node:crypto';
import { Moat, loadMoat, ModuleConfig, EventKind, DefenseRemedy } from './module.ts';
import { Metrics } from './metrics.ts';
import { describeRule } from './defense.ts';
import type { DefenseRule } from './types.ts';
import { Connection, ConnectionHost, ServerLog, AccessEntry } from './connection.ts';
import { reasonOf } from './errors.ts';
import type { Handler, ListenSpec } from './types.ts';

export interface SecurityEntry {
  time: number; kind: string; reason: string; code: number; slot: number; client: string;
  severity?: string; rule?: string; remedy?: string; user?: string;
}
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
  /** The defense rules in module order (config.ts moduleRules), to name the rule behind an event. */
  rules?: DefenseRule[];
  metrics?: Metrics;
  /** Accept self-audit requests carrying this token from loopback (host/audit runs a shadow with one). */
  auditToken?: string;
}

const TICK_MS = 100;
const EVENT_KINDS = ['', 'reject', 'limit', 'timeout', 'response', 'defense', 'clients_full'];
const REMEDY_NAMES = Object.keys(DefenseRemedy);
const RECENT_CLIENTS = 1024;

/** Clock for the module: u32 milliseconds that wrap. */
const nowMs = () => Number(process.hrtime.bigint() / 1_000_000n) >>> 0;

/**
 * The address the defense counts by: an IPv4 address (IPv4-mapped IPv6 unwrapped), or the /64
 * prefix of an IPv6 address — one subscriber usually holds a whole /64, so counting single IPv6
 * addresses would let one client rotate through 2^64 fresh records.
 */
export function clientKey(address = ''): string {
  const a = address.toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1];
  if (!a.includes(':')) return a;
  const [head, tail = ''] = a.split('::');
  const left = head ? head.split(':') : [], right = a.includes('::') && tail ? tail.split(':') : [];
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':') + '::/64';
}

/**
 * The module's per-client key: a keyed hash of clientKey(address) (never 0, which means unknown).
 * The key is random per server, so nobody can pick an address whose hash collides with a
 * victim's record and inherit or clear its counters.
 */
export function clientHash(address = '', key: Uint8Array = FIXED_KEY): number {
  return createHmac('sha256', key).update(clientKey(address)).digest().readUInt32LE(0) || 1;
}
const FIXED_KEY = new Uint8Array(32);

const silent: ServerLogSinks = { access() {}, error() {}, security() {} };

export class MoatServer {
  readonly moat: Moat;
  private readonly listeners: { spec: ListenSpec; server: net.Server }[] = [];
  private readonly conns = new Map<number, Connection>();
  private secureContext?: tls.SecureContext;
  private readonly log: ServerLogSinks;
  private readonly host: ConnectionHost;
  private timer?: NodeJS.Timeout;
  private eventSeq = 0;
  private closingDown = false;
  private readonly hashKey = randomBytes(32);
  /** Client hash → address, for events whose connection is gone (bounded, oldest dropped). */
  private readonly recent = new Map<number, string>();
  readonly metrics: Metrics;
  private readonly watchers = new Set<(e: SecurityEntry) => void>();
  /** performance.now() of this turn's first socket read, -1 until one happens (ConnectionHost.readsBegan). */
  private readsAt = -1;
  private readonly readsEnd = () => { this.readsAt = -1; };

  private constructor(moat: Moat, private readonly opts: ServerOptions) {
    this.moat = moat;
    this.metrics = opts.metrics ?? new Metrics();
    const sinks = { ...silent, ...opts.log };
    this.log = {
      ...sinks,
      access: (e) => { this.metrics.response(e.status); sinks.access(e); },
      security: (e) => { sinks.security(e); for (const fn of this.watchers) fn(e); },
    };
    if (opts.listen.some((l) => l.scheme === 'https')) {
      if (!opts.tls) throw new Error('an https listener needs TLS options');
      this.secureContext = tls.createSecureContext(opts.tls);
    }
    this.host = {
      moat, handler: opts.handler, extraFields: opts.headers ?? [], log: this.log, now: nowMs,
      released: (c) => { this.conns.delete(c.slot); },
      auditToken: opts.auditToken,
      // Socket reads run in the loop's poll phase, setImmediate callbacks right after it: the
      // time is taken once per turn and forgotten before the next turn's reads.
      readsBegan: () => {
        if (this.readsAt < 0) { this.readsAt = performance.now(); setImmediate(this.readsEnd); }
        return this.readsAt;
      },
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

  get connectionCount(): number { return this.conns.size; }

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
    const hash = clientHash(address, this.hashKey);
    this.remember(hash, address);
    const slot = this.moat.open(hash, secure, nowMs());
    if (slot < 0) {                                    // banned or over a limit: no bytes at all
      raw.destroy();
      const reason = reasonOf(-slot);
      this.metrics.refusal(reason);
      if (reason !== 'client_banned') this.drainEvents();   // a ban refusal writes no event
      return;
    }
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

  private remember(hash: number, address: string): void {
    this.recent.delete(hash);
    this.recent.set(hash, address);
    if (this.recent.size > RECENT_CLIENTS) this.recent.delete(this.recent.keys().next().value!);
  }

  /** The address behind a client hash, while it is among the recent ones. */
  addressOf(hash: number): string { return this.recent.get(hash >>> 0) ?? ''; }

  drainEvents(): void {
    const { events, next, lost } = this.moat.events(this.eventSeq);
    this.eventSeq = next;
    if (lost) {
      this.metrics.eventsLost += lost;
      this.log.error('warn', 'security events lost (ring overrun)', { lost });
    }
    for (const ev of events) {
      // By the event's own client hash: the slot may belong to another client by now.
      const client = this.addressOf(ev.client);
      const base = { time: Date.now(), code: ev.code, slot: ev.slot, client };
      if (ev.kind === EventKind.DEFENSE) {
        const remedy = REMEDY_NAMES[ev.code >> 8] ?? String(ev.code >> 8), rule = this.opts.rules?.[ev.code & 0xff];
        const text = rule ? describeRule(rule, ev.code & 0xff) : `rule ${ev.code & 0xff}`, severity = rule?.severity ?? 'medium';
        this.metrics.remedy(remedy);
        this.log.security({ ...base, kind: 'defense', reason: remedy, remedy, severity, rule: text });
        // Alerts and bans also reach the error log, which is what an operator watches.
        if (remedy === 'alert' || remedy === 'ban') this.log.error('warn', `defense: ${remedy}`, { client, rule: text, severity });
        continue;
      }
      if (ev.kind === EventKind.CLIENTS_FULL) {
        this.log.security({ ...base, kind: 'clients_full', reason: 'client_table_full', severity: 'high' });
        continue;
      }
      if (ev.kind !== EventKind.RESPONSE) this.metrics.rejection(reasonOf(ev.code));
      this.log.security({ ...base, kind: EVENT_KINDS[ev.kind] ?? String(ev.kind), reason: reasonOf(ev.code) });
    }
  }

  /** Client records with their addresses where known (an operator's view of the defense). */
  clients(): (ReturnType<Moat['clients']>[number] & { address: string })[] {
    return this.moat.clients(nowMs()).map((c) => ({ ...c, address: this.addressOf(c.client) }));
  }

  /** Lifts any ban or delay on `address` (its record starts again from zero). */
  unban(address: string): boolean {
    return this.moat.forgive(clientHash(address, this.hashKey));
  }

  /** Calls `fn` with every security event from now on (the dashboard's live view); returns the unsubscribe. */
  watchSecurity(fn: (e: SecurityEntry) => void): () => void {
    this.watchers.add(fn);
    return () => { this.watchers.delete(fn); };
  }

  /**
   * A reloaded config (host/serve.ts): response fields and rule names from the next response on,
   * the module words read at each use (limits, timeouts, flags, rule thresholds), and the TLS
   * certificate and key from the next handshake. Open connections, the client table and the
   * listeners stay as they are.
   */
  reconfigure(c: { headers: [string, string][]; rules: DefenseRule[]; words: Partial<ModuleConfig>; tls?: tls.SecureContextOptions }): void {
    // A new certificate or key (a renewal) serves the next handshake; live TLS sessions keep theirs.
    const context = c.tls && this.secureContext ? tls.createSecureContext(c.tls) : this.secureContext;
    this.moat.setLiveWords(c.words);
    this.secureContext = context;
    this.host.extraFields = c.headers;
    this.opts.rules = c.rules;
  }

  /** Security events the host itself decides (logins, CSRF, role checks), in the same log. */
  securityEvent(e: Omit<SecurityEntry, 'time' | 'code' | 'slot'> & { code?: number; slot?: number }): void {
    this.log.security({ time: Date.now(), code: 0, slot: 0xff, ...e });
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
