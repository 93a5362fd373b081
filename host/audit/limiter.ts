// The audit's own restraint: a request budget per run, a request rate per second, and an abort
// after repeated transport errors, so a run can never turn into a load test of the device.
// A rate of 0 paces by concurrency alone (one request in flight at a time) within the budget: the
// quick profile's default, since every request goes to the loopback shadow, and at 100/s the
// pacing alone was most of a quick run's time. Unpaced, it still yields to a busy process: an audit
// service shares the live server's event loop (and its shadow runs in it too), so when a turn of
// the loop comes late — live traffic queued — it sleeps after each request long enough to keep its
// share of the loop near `share`, and runs unslowed on an idle one.
export class BudgetExhausted extends Error {
  constructor(max: number) { super(`request budget of ${max} exhausted`); this.name = 'BudgetExhausted'; }
}
export class AuditAborted extends Error {
  constructor(why: string) { super(why); this.name = 'AuditAborted'; }
}

export interface LimiterOptions {
  maxRequests: number; perSecond: number; maxErrors: number;
  /** Unpaced runs: the share of a busy event loop the audit may take (0 or absent: never yields). */
  share?: number;
}

/** A whole turn of the event loop slower than this means other work is queued (measured on 2 cores:
 *  about 0.04 ms idle with the audit running, 1–2 ms beside a saturated server). */
export const BUSY_LAG_MS = 0.5;
/** Longest sleep after one request when yielding. */
export const MAX_YIELD_MS = 100;

export class Limiter {
  used = 0;
  private errorsInRow = 0;
  private next = 0;
  private lastTake = 0;
  aborted: string | null = null;
  /** Time spent sleeping to leave a busy event loop to others. */
  yieldedMs = 0;

  constructor(readonly opts: LimiterOptions) {}

  /** Waits for a slot in the rate and takes `n` requests from the budget, or throws. */
  async take(n = 1): Promise<void> {
    if (this.aborted) throw new AuditAborted(this.aborted);
    if (this.used + n > this.opts.maxRequests) throw new BudgetExhausted(this.opts.maxRequests);
    this.used += n;
    if (!(this.opts.perSecond > 0)) return this.yieldIfBusy();
    const gap = 1000 / this.opts.perSecond;
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + gap * n;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }

  private async yieldIfBusy(): Promise<void> {
    const share = this.opts.share ?? 0;
    if (!(share > 0 && share < 1)) return;
    const t0 = performance.now();
    // The time since the last take is roughly what one request of ours cost the loop (more, when
    // it queued behind others): a generous estimate, so the share errs low.
    const cost = this.lastTake ? t0 - this.lastTake : 0;
    // Two hops: the first only reaches this iteration's check phase; the second waits for a whole
    // turn, through the poll phase where queued sockets (live traffic) are served.
    await new Promise<void>((r) => setImmediate(r));
    const t1 = performance.now();
    await new Promise<void>((r) => setImmediate(r));
    const lag = performance.now() - t1;
    if (lag > BUSY_LAG_MS && cost > 0) {
      const ms = Math.min(MAX_YIELD_MS, cost * (1 - share) / share);
      this.yieldedMs += ms;
      await new Promise((r) => setTimeout(r, ms));
    }
    this.lastTake = performance.now();
  }

  /** Records a transport outcome; too many failures in a row abort the run. */
  outcome(ok: boolean): void {
    if (ok) { this.errorsInRow = 0; return; }
    if (++this.errorsInRow >= this.opts.maxErrors && !this.aborted) this.aborted = `${this.errorsInRow} transport errors in a row`;
  }
}
