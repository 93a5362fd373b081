// Every probe, in the order a run takes them (background probes start first and run beside).
import type { Probe } from '../types.ts';
import { timeouts } from './timeouts.ts';
import { headers } from './headers.ts';
import { tlsProbe } from './tls.ts';
import { credentials } from './credentials.ts';
import { csrf } from './csrf.ts';
import { access } from './access.ts';
import { cors } from './cors.ts';
import { hostHeader } from './host.ts';
import { trace } from './trace.ts';
import { leaks } from './leaks.ts';
import { configReview } from './config.ts';
import { xss } from './xss.ts';
import { ssti } from './ssti.ts';
import { injection } from './injection.ts';
import { traversal } from './traversal.ts';
import { crlf } from './crlf.ts';
import { smuggling } from './smuggling.ts';
import { limits } from './limits.ts';
import { connections } from './connections.ts';

// Fixed-cost server-wide probes come first and the per-route ones after, so a budget that runs
// out on a large route table cuts the long tail rather than the framing and limit checks.
export const PROBES: readonly Probe[] = [
  timeouts, configReview, headers, tlsProbe, credentials, access, csrf, smuggling, limits, connections, hostHeader, trace,
  traversal, xss, ssti, injection, crlf, cors, leaks,
];
