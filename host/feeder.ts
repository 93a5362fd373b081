// Drives one connection's bytes through the module: the window protocol of ABI.md (retained token
// first, then new bytes; call again from `consumed` after a message end or a full span
// area). It stops after each complete request until resume(), so responses go out in order and a
// pipelining client cannot make the host parse ahead without bound.
import { Moat, Verdict, RequestFlag } from './module.ts';
import { RequestAssembler, HttpRequest } from './request.ts';
import { reasonOf } from './errors.ts';

export type FeedEvent =
  | { type: 'head'; request: Omit<HttpRequest, 'body'>; delay: number }
  | { type: 'body'; chunk: Buffer }
  | { type: 'request'; request: HttpRequest }
  | { type: 'error'; status: number; code: number; reason: string; retryAfter: number }
  | { type: 'close'; code: number; reason: string };

const NOTHING = new Uint8Array(0);

export class Feeder {
  private retained: Uint8Array = NOTHING;
  private backlog: Uint8Array[] = [];
  private backlogBytes = 0;
  private paused = false;
  private ended = false;
  private inRequest = false;
  private delay = 0;              // the defense delay the module gave the head being assembled
  readonly assembler: RequestAssembler;

  /** `streamBody`: body bytes arrive as 'body' events; otherwise the 'request' event carries them. */
  constructor(private readonly moat: Moat, readonly slot: number, private readonly emit: (e: FeedEvent) => void, streamBody = false) {
    this.assembler = new RequestAssembler(streamBody ? (chunk) => emit({ type: 'body', chunk }) : undefined,
      (request) => emit({ type: 'head', request, delay: this.delay }));
  }

  /** Bytes waiting behind a completed request (the host stops reading the socket above a bound). */
  get pending(): number { return this.backlogBytes; }
  /** True when input ended inside a request (its bytes are incomplete). */
  get midRequest(): boolean { return this.inRequest || this.retained.length > 0; }
  get isPaused(): boolean { return this.paused; }

  push(bytes: Uint8Array, now: number): void {
    if (this.ended || bytes.length === 0) return;
    this.backlog.push(bytes);
    this.backlogBytes += bytes.length;
    this.pump(now);
  }

  resume(now: number): void {
    this.paused = false;
    this.pump(now);
  }

  private take(max: number): Uint8Array {
    if (this.backlog.length === 1 && this.backlog[0].length <= max) {    // the common case: no copy
      const piece = this.backlog[0];
      this.backlog = [];
      this.backlogBytes = 0;
      return piece;
    }
    const all = this.backlog.length === 1 ? this.backlog[0] : Buffer.concat(this.backlog);
    const piece = all.subarray(0, max);
    const rest = all.subarray(max);
    this.backlog = rest.length ? [rest] : [];
    this.backlogBytes = rest.length;
    return piece;
  }

  private pump(now: number): void {
    const m = this.moat;
    while (!this.paused && !this.ended && this.backlogBytes > 0) {
      const piece = this.take(m.inputCap - this.retained.length);
      m.write(this.retained, 0);
      m.write(piece, this.retained.length);
      const to = this.retained.length + piece.length;
      let from = 0;
      for (;;) {
        const r = m.feed(this.slot, from, to, now);
        this.delay = r.delay;
        this.assembler.spans(m, r.spans, r.verdict & Verdict.HEAD ? r.flags : -1);
        if (r.verdict & (Verdict.ERROR | Verdict.CLOSE)) {
          this.ended = true;
          this.inRequest = false;
          this.retained = NOTHING;
          if (r.verdict & Verdict.ERROR) this.emit({ type: 'error', status: r.status, code: r.code, reason: reasonOf(r.code), retryAfter: r.retryAfter });
          else this.emit({ type: 'close', code: r.code, reason: reasonOf(r.code) });
          return;
        }
        this.inRequest = (r.flags & RequestFlag.STARTED) !== 0;
        if (r.verdict & Verdict.DONE) {
          this.inRequest = false;
          this.retained = NOTHING;
          // Unparsed bytes go back to the front of the backlog until resume().
          if (r.consumed < to) {
            const rest = m.bytes.slice(m.inputPtr + r.consumed, m.inputPtr + to);
            this.backlog.unshift(rest);
            this.backlogBytes += rest.length;
          }
          this.paused = true;
          this.emit({ type: 'request', request: this.assembler.done() });
          break;
        }
        if (r.consumed < to && r.verdict !== Verdict.NEED_MORE) { from = r.consumed; continue; }
        this.retained = r.keep === to ? NOTHING : m.bytes.slice(m.inputPtr + r.keep, m.inputPtr + to);
        break;
      }
    }
  }
}
