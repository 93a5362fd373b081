// TRACE: a route that answers TRACE by echoing the request hands a script the request's headers
// (cookies, Authorization) — cross-site tracing. Only routes whose methods allow TRACE can.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { authFields } from './util.ts';
import { targetName } from '../targets.ts';
import { evidence } from '../evidence.ts';

export const trace: Probe = {
  id: 'trace', class: 'trace', cwe: 693, severity: 'medium', profiles: ['quick', 'full'],
  title: 'TRACE echoes the request',
  help: 'TRACE answered with the request echoed back lets scripts read headers such as cookies.',
  targets: (ctx) => ['/', ...ctx.routes.filter((r) => r.route.methods === null || r.route.methods.includes('TRACE')).map((r) => r.path)].map((p) => targetName('TRACE', p)),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const open = ctx.routes.filter((r) => r.route.methods === null || r.route.methods.includes('TRACE'));
    const paths = [...new Set(['/', ...open.slice(0, ctx.profile === 'full' ? 50 : 4).map((r) => r.path)])];
    for (const p of paths) {
      const r = ctx.routes.find((x) => x.path === p);
      const n = ctx.nonce(6);
      const got = await ctx.request({ method: 'TRACE', target: p, headers: [...(r ? authFields(ctx, r) : []), ['X-Moat-Trace', n]] });
      if (!got.res || got.res.status !== 200 || !got.res.body.toString('latin1').includes(n)) continue;
      out.push(ctx.finding(this, {
        confidence: 'high', target: targetName('TRACE', p), kind: 'echo',
        title: 'TRACE is answered with the request echoed back',
        expected: '405 (TRACE not in the route\'s methods)',
        observed: `200 with the request's headers in the body`,
        evidence: evidence(got.res.body.toString('latin1').split(n).join('<nonce>'), [ctx.token]),
        recommendation: `list the route's methods in web.routes (e.g. methods: ['GET']) so TRACE gets 405, and do not echo requests in the "${r?.route.handler ?? '?'}" handler`,
      }));
    }
    return out;
  },
};
