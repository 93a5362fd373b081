// The Node host's socket loop: one module instance per server, every byte through feed(), every
// response head from respond(), one tick timer for all deadlines.
import net from 'node:net';
import { Moat, loadMoat, ModuleConfig } from './module.ts';
import { Feeder, FeedEvent } from './feeder.ts';
import { Handler, AppResponse } from './app.ts';
import { reasonOf } from './errors.ts';

export interface ServerOptions { port: number; host?: string; config?: Partial<ModuleConfig>; app: Handler; log?: (line: string) => void }

const TICK_MS = 250;
const MAX_BACKLOG = 64 * 1024;   // unparsed bytes held behind an unanswered request before reading stops

const ERROR_BODY = (status: number, reason: string) => `{"error":${status},"reason":"${reason}"}\n`;

/** Clock for the module: u32 milliseconds that wrap. */
const nowMs = () => Number(process.hrtime.bigint() / 1_000_000n) >>> 0;

function clientHash(address = ''): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193);
  return (h >>> 0) || 1;
}

export class MoatServer {
  private readonly conns = new Map<number, { socket: net.Socket; feeder: Feeder }>();
  private readonly net: net.Server;
  private timer?: NodeJS.Timeout;
  private eventSeq = 0;

  private constructor(private readonly moat: Moat, private readonly opts: ServerOptions) {
    this.net = net.createServer((s) => this.accept(s));
  }

  static async start(opts: ServerOptions): Promise<MoatServer> {
    const server = new MoatServer(await loadMoat(opts.config ?? {}), opts);
    await new Promise<void>((resolve, reject) => {
      server.net.once('error', reject);
      server.net.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
    });
    server.timer = setInterval(() => server.tick(), TICK_MS);
    return server;
  }

  get port(): number { return (this.net.address() as net.AddressInfo).port; }

  private log(line: string): void { this.opts.log?.(line); }

  private accept(socket: net.Socket): void {
    const slot = this.moat.open(clientHash(socket.remoteAddress), false, nowMs());
    this.drainEvents();
    if (slot < 0) { socket.destroy(); return; }
    const feeder = new Feeder(this.moat, slot, (e) => this.onEvent(slot, e));
    this.conns.set(slot, { socket, feeder });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      feeder.push(chunk, nowMs());
      if (feeder.pending > MAX_BACKLOG) socket.pause();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.release(slot));
  }

  private release(slot: number): void {
    if (!this.conns.has(slot)) return;
    this.conns.delete(slot);
    this.moat.close(slot);
  }

  private onEvent(slot: number, e: FeedEvent): void {
    const c = this.conns.get(slot);
    if (!c) return;
    if (e.type === 'head') {
      if (e.request.expectContinue) this.sendHead(slot, 100, -1, []);
      return;
    }
    if (e.type === 'close') { c.socket.destroy(); this.drainEvents(); return; }
    if (e.type === 'error') {
      this.send(slot, { status: e.status, fields: [['Content-Type', 'application/json']], body: ERROR_BODY(e.status, e.reason) }, false);
      this.drainEvents();
      return;
    }
    const req = e.request;
    let res: AppResponse;
    try { res = this.opts.app(req); } catch (err) { this.log(`app error: ${(err as Error).message}`); res = { status: 500, body: ERROR_BODY(500, 'app_error') }; }
    this.log(`${req.method} ${req.target} ${res.status}`);
    this.send(slot, res, req.method === 'HEAD');
  }

  private sendHead(slot: number, status: number, length: number, fields: [string, string][]): { head: Uint8Array; close: boolean } | null {
    const r = this.moat.respond(slot, status, length, fields, 0, nowMs());
    if (typeof r === 'number') { this.log(`respond refused: ${reasonOf(-r)}`); return null; }
    this.conns.get(slot)?.socket.write(r.head);
    return r;
  }

  private send(slot: number, res: AppResponse, headOnly: boolean): void {
    const c = this.conns.get(slot)!;
    const body = typeof res.body === 'string' ? Buffer.from(res.body) : res.body ?? Buffer.alloc(0);
    const r = this.sendHead(slot, res.status, body.length, res.fields ?? [])
      ?? this.sendHead(slot, 500, 0, []);                 // the app's fields were refused
    if (!r) { c.socket.destroy(); return; }
    if (!headOnly && body.length) c.socket.write(body);
    if (r.close) { c.socket.end(); return; }
    c.socket.resume();
    setImmediate(() => c.feeder.resume(nowMs()));
  }

  private tick(): void {
    for (const { slot, result } of this.moat.expired(nowMs())) {
      const c = this.conns.get(slot);
      if (!c) continue;
      this.log(`timeout slot ${slot}: ${reasonOf(result.code)}`);
      if (result.status) this.send(slot, { status: result.status, body: ERROR_BODY(result.status, reasonOf(result.code)) }, false);
      else c.socket.destroy();
    }
    this.drainEvents();
  }

  private drainEvents(): void {
    const { events, next, lost } = this.moat.events(this.eventSeq);
    this.eventSeq = next;
    if (lost) this.log(`security events lost: ${lost}`);
    for (const ev of events) this.log(`security event kind=${ev.kind} slot=${ev.slot} reason=${reasonOf(ev.code)}`);
  }

  /** Stops accepting, lets in-flight responses finish, then closes what is left. */
  async close(graceMs = 2000): Promise<void> {
    clearInterval(this.timer);
    const closed = new Promise<void>((r) => this.net.close(() => r()));
    for (const { socket, feeder } of this.conns.values()) if (!feeder.midRequest) socket.end();
    const timer = setTimeout(() => { for (const { socket } of this.conns.values()) socket.destroy(); }, graceMs);
    await closed;
    clearTimeout(timer);
  }
}
