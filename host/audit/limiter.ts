// The audit's own restraint: a request budget per run, a request rate per second, and an abort
// after repeated transport errors, so a run can never turn into a load test of the device.
// A rate of 0 paces by concurrency alone (one request in flight at a time) within the budget: the
// quick profile's default, since every request goes to the loopback shadow, and at 100/s the
// pacing alone was most of a quick run's time.
export class BudgetExhausted extends Error {
  constructor(max: number) { super(`request budget of ${max} exhausted`); this.name = 'BudgetExhausted'; }
}
export class AuditAborted extends Error {
  constructor(why: string) { super(why); this.name = 'AuditAborted'; }
}

export interface LimiterOptions { maxRequests: number; perSecond: number; maxErrors: number }

export class Limiter {
  used = 0;
  private errorsInRow = 0;
  private next = 0;
  aborted: string | null = null;

  constructor(readonly opts: LimiterOptions) {}

  /** Waits for a slot in the rate and takes `n` requests from the budget, or throws. */
  async take(n = 1): Promise<void> {
    if (this.aborted) throw new AuditAborted(this.aborted);
    if (this.used + n > this.opts.maxRequests) throw new BudgetExhausted(this.opts.maxRequests);
    this.used += n;
    if (!(this.opts.perSecond > 0)) return;
    const gap = 1000 / this.opts.perSecond;
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + gap * n;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }

  /** Records a transport outcome; too many failures in a row abort the run. */
  outcome(ok: boolean): void {
    if (ok) { this.errorsInRow = 0; return; }
    if (++this.errorsInRow >= this.opts.maxErrors && !this.aborted) this.aborted = `${this.errorsInRow} transport errors in a row`;
  }
}
