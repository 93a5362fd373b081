// Security events for the dashboard: a fixed ring of the recent ones (filled from the server's
// watchSecurity) and the live server-sent-event streams. Streams are few and bounded because each
// one holds a connection slot of a small device for as long as the page is open.
import { Readable } from 'node:stream';
import type { SecurityEventLike } from './deps.ts';

export interface DashEvent extends SecurityEventLike { id: number }

export interface HubOptions { ringSize?: number; maxStreams?: number; heartbeatMs?: number }

export class EventHub {
  private readonly ring: DashEvent[] = [];
  private readonly streams = new Set<Readable>();
  private seq = 0;
  /** TLS handshakes that failed or timed out, as seen in the events. */
  tlsFailures = 0;
  readonly ringSize: number;
  readonly maxStreams: number;
  private readonly heartbeatMs: number;

  constructor(o: HubOptions = {}) {
    this.ringSize = o.ringSize ?? 500;
    this.maxStreams = o.maxStreams ?? 4;
    this.heartbeatMs = o.heartbeatMs ?? 15_000;
  }

  /** The watchSecurity callback. */
  readonly push = (e: SecurityEventLike): void => {
    const ev: DashEvent = { id: ++this.seq, time: e.time, kind: e.kind, reason: e.reason, code: e.code, slot: e.slot, client: e.client,
      ...(e.severity !== undefined ? { severity: e.severity } : {}), ...(e.rule !== undefined ? { rule: e.rule } : {}),
      ...(e.remedy !== undefined ? { remedy: e.remedy } : {}), ...(e.user !== undefined ? { user: e.user } : {}) };
    if (/tls/i.test(e.reason)) this.tlsFailures++;
    this.ring.push(ev);
    if (this.ring.length > this.ringSize) this.ring.shift();
    const frame = Buffer.from(`id: ${ev.id}\nevent: security\ndata: ${JSON.stringify(ev)}\n\n`);
    for (const s of this.streams) s.push(frame);
  };

  /** Events after `since` (by id), newest last, at most `limit`. */
  recent(since = 0, limit = this.ringSize): DashEvent[] {
    const after = this.ring.filter((e) => e.id > since);
    return after.slice(Math.max(0, after.length - limit));
  }

  get lastId(): number { return this.seq; }
  get streamCount(): number { return this.streams.size; }

  /**
   * A new live stream starting after event `since`, or null when the limit is reached. The stream
   * ends when the connection writes fail (host/connection.ts destroys it then), which the heartbeat
   * makes happen within one period of the client leaving.
   */
  open(since: number): Readable | null {
    if (this.streams.size >= this.maxStreams) return null;
    const s = new Readable({ read() {} });
    this.streams.add(s);
    const beat = setInterval(() => s.push(': heartbeat\n\n'), this.heartbeatMs);
    beat.unref();
    const done = () => { clearInterval(beat); this.streams.delete(s); };
    s.once('close', done);
    s.once('end', done);
    s.push(`retry: 3000\n: connected\n\n`);
    for (const ev of this.recent(since)) s.push(`id: ${ev.id}\nevent: security\ndata: ${JSON.stringify(ev)}\n\n`);
    return s;
  }
}
