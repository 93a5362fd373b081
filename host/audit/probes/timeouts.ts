// Slow clients: a partial request head must be closed within web.timeouts.parse plus a margin, or
// one slow client per slot holds the device's few connections forever (slowloris). A parse
// timeout above 30 s is reported as too lax even when enforced. Runs beside the other probes from
// its own loopback address, since it mostly waits.
//
// The deadline is the module's: the shadow runs the same module bytes, so its config words, read
// back from linear memory after init(), prove what it enforces without waiting it out. Waiting it
// out on top proves the host ticks; that costs the whole timeout, so the quick profile does it only
// for short timeouts and the full profile for any it can afford.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { hostOf } from '../http.ts';
import { evidence } from '../evidence.ts';
import { NEVER } from '../../module.ts';

export const LAX_PARSE_MS = 30_000;
const MARGIN_MS = 1500;
/** Longest parse timeout the probe waits out live: a quick run must stay within its 500 ms goal. */
export const WAIT_CAP = { quick: 1000, full: 35_000 } as const;
export const SLOW_CLIENT_ADDRESS = '127.0.0.3';

export const timeouts: Probe = {
  id: 'slow-client-timeouts', class: 'timeouts', cwe: 400, severity: 'medium', profiles: ['quick', 'full'],
  title: 'Slow clients are cut off by the parse timeout',
  help: 'A client that sends a request head slowly must be disconnected within web.timeouts.parse.',
  background: true,
  targets: () => ['web.timeouts.parse'],
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const parse = ctx.config.web.timeouts.parse;
    const key = 'web.timeouts.parse';
    if (!Number.isFinite(parse) || parse > LAX_PARSE_MS) {
      out.push(ctx.finding(this, {
        confidence: 'high', target: key, kind: 'too-lax',
        title: `Parse timeout too lax (${Number.isFinite(parse) ? `${parse / 1000} s` : 'infinite'})`,
        expected: `at most ${LAX_PARSE_MS / 1000} s (default 5 s)`,
        observed: `web.timeouts.parse = ${Number.isFinite(parse) ? `${parse} ms` : 'infinite'}`,
        evidence: evidence(`web.timeouts.parse: ${Number.isFinite(parse) ? `${parse} ms` : 'infinite'}`),
        recommendation: "set web.timeouts.parse to a few seconds (e.g. '5 secs'): each slow client holds one of web.limits.connections slots until it expires",
      }));
    }
    if (!Number.isFinite(parse)) {
      ctx.note('slow clients: parse timeout not measured (infinite)');
      return out;
    }
    const word = ctx.moduleWords().timeout_parse_ms;
    const shown = word === NEVER ? 'never' : `${word} ms`;
    if (word === NEVER || word > parse) {
      out.push(ctx.finding(this, {
        confidence: 'high', target: key, kind: 'not-enforced',
        title: 'A partial request head is not cut off by the parse timeout',
        expected: `the module's timeout_parse_ms word at most ${parse} ms`,
        observed: `the module enforces timeout_parse_ms = ${shown}`,
        evidence: evidence(`web.timeouts.parse: ${parse} ms; module config word timeout_parse_ms: ${shown}`),
        recommendation: 'the module\'s deadline for web.timeouts.parse must fire; check that the config reaches the module (moduleOverrides, toModuleConfig)',
      }));
      return out;                                          // nothing a live wait would add
    }
    if (parse > WAIT_CAP[ctx.profile]) {
      ctx.note(`slow clients: parse timeout not measured live (${parse} ms is longer than the ${ctx.profile} profile waits); the module's timeout_parse_ms word is ${shown}`);
      return out;
    }
    const partial = `GET / HTTP/1.1\r\nHost: ${hostOf(ctx.http)}\r\nX-Moat-Audit: ${ctx.token}\r\nX-Slow: 1\r\n`;
    let x = await ctx.raw(partial, { waitMs: parse + MARGIN_MS, localAddress: SLOW_CLIENT_ADDRESS });
    if (x.error) x = await ctx.raw(partial, { waitMs: parse + MARGIN_MS });
    if (x.error) return out;
    if (!x.closed) {
      out.push(ctx.finding(this, {
        confidence: 'high', target: key, kind: 'not-enforced',
        title: 'A partial request head is not cut off by the parse timeout',
        expected: `408 or close within ${parse} ms + ${MARGIN_MS} ms`,
        observed: `still open after ${x.ms} ms`,
        evidence: evidence(x.raw.toString('latin1') || '(nothing received)'),
        recommendation: 'the module\'s deadline for web.timeouts.parse must fire; check that the host ticks (server.ts) and the config reaches the module',
      }));
    }
    return out;
  },
};
