// Request and error rates for the overview. Metrics only count up, so rates come from the
// difference between periodic samples of the counters, kept in a fixed ring (a device's memory
// must not grow with uptime).
import type { MetricsLike } from './deps.ts';

export interface Sample { time: number; requests: number; serverErrors: number; clientErrors: number; bans: number }

export interface Rates {
  /** Span the figures cover, ms (0 before two samples exist). */
  windowMs: number;
  requestsPerMin: number;
  /** Share of responses in the window that were 5xx (0…1). */
  errorRate: number;
  /** Share that were 4xx (0…1). */
  clientErrorRate: number;
  bans: number;
  /** Requests per sample interval, oldest first, for a sparkline-like text summary. */
  series: number[];
}

// Statuses are a closed set, so totals come from summing the per-status counters.
const STATUSES = Array.from({ length: 500 }, (_, i) => String(100 + i));

export function readCounters(m: MetricsLike, time: number): Sample {
  let requests = 0, serverErrors = 0, clientErrors = 0;
  for (const s of STATUSES) {
    const n = m.value('requests', s);
    if (!n) continue;
    requests += n;
    if (s[0] === '5') serverErrors += n;
    else if (s[0] === '4') clientErrors += n;
  }
  return { time, requests, serverErrors, clientErrors, bans: m.value('defense', 'ban') };
}

export class SampleRing {
  private readonly ring: Sample[] = [];
  constructor(readonly size = 60) {}

  add(s: Sample): void {
    this.ring.push(s);
    if (this.ring.length > this.size) this.ring.shift();
  }

  get length(): number { return this.ring.length; }

  /** Rates between the oldest kept sample and `now` (a fresh reading, so the latest requests count). */
  rates(now: Sample): Rates {
    const first = this.ring[0];
    if (!first || now.time <= first.time) return { windowMs: 0, requestsPerMin: 0, errorRate: 0, clientErrorRate: 0, bans: 0, series: [] };
    const windowMs = now.time - first.time;
    const requests = now.requests - first.requests;
    const series: number[] = [];
    const all = [...this.ring, now];
    for (let i = 1; i < all.length; i++) series.push(all[i].requests - all[i - 1].requests);
    return {
      windowMs,
      requestsPerMin: Math.round((requests * 60_000) / windowMs * 10) / 10,
      errorRate: requests > 0 ? (now.serverErrors - first.serverErrors) / requests : 0,
      clientErrorRate: requests > 0 ? (now.clientErrors - first.clientErrors) / requests : 0,
      bans: now.bans - first.bans,
      series,
    };
  }
}
