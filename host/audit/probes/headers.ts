// Security headers on every response class: 200, 404, 400 (a module error), 304 (when the 200
// carried an ETag) and 405 — error answers are pages too, and a missing frame or sniffing rule on
// them is enough for clickjacking or content sniffing. HSTS on https listeners.
import type { Finding, Probe, ProbeContext, AuditSeverity, Endpoint } from '../types.ts';
import type { ParsedResponse } from '../http.ts';
import { hostOf } from '../http.ts';
import { authFields } from './util.ts';
import { evidence } from '../evidence.ts';

interface Check { name: string; severity: AuditSeverity; cwe: number; ok(r: ParsedResponse): boolean; fix: string; https?: boolean }

const csp = (r: ParsedResponse) => r.all('content-security-policy').join(',').toLowerCase();
const CHECKS: Check[] = [
  { name: 'X-Content-Type-Options', severity: 'medium', cwe: 693, ok: (r) => (r.header('x-content-type-options') ?? '').trim().toLowerCase() === 'nosniff', fix: 'the module sends nosniff unless a handler or web.headers overrides it: remove the override' },
  { name: 'X-Frame-Options', severity: 'medium', cwe: 1021, ok: (r) => /^(deny|sameorigin)$/i.test((r.header('x-frame-options') ?? '').trim()) || csp(r).includes('frame-ancestors'), fix: 'keep the module\'s X-Frame-Options: DENY (or a CSP frame-ancestors) on every answer; do not override it in handlers or web.headers' },
  { name: 'Content-Security-Policy', severity: 'medium', cwe: 693, ok: (r) => csp(r).trim() !== '', fix: "keep the module's Content-Security-Policy (default-src 'self'); a handler replacing it must send one as strict" },
  { name: 'Referrer-Policy', severity: 'low', cwe: 200, ok: (r) => (r.header('referrer-policy') ?? '').trim() !== '', fix: 'keep the module\'s Referrer-Policy: no-referrer' },
  { name: 'Strict-Transport-Security', severity: 'medium', cwe: 319, https: true, ok: (r) => /max-age=\d*[1-9]/i.test(r.header('strict-transport-security') ?? ''), fix: "set tls.hsts (e.g. { maxAge: '1 year' })" },
];

async function classes(ctx: ProbeContext, ep: Endpoint, full: boolean): Promise<[string, ParsedResponse][]> {
  const got: [string, ParsedResponse][] = [];
  const okRoute = ctx.routes.find((r) => r.get && r.route.match.length <= 1) ?? ctx.routes.find((r) => r.get && !r.route.role) ?? ctx.routes.find((r) => r.get);
  if (okRoute) {
    const a = await ctx.request({ method: 'GET', target: okRoute.path, headers: authFields(ctx, okRoute), endpoint: ep });
    if (a.res) {
      got.push([String(a.res.status), a.res]);
      const etag = a.res.header('etag');
      if (etag && full) {
        const b = await ctx.request({ method: 'GET', target: okRoute.path, headers: [...authFields(ctx, okRoute), ['If-None-Match', etag]], endpoint: ep });
        if (b.res) got.push([String(b.res.status), b.res]);
      }
    }
  }
  const nf = await ctx.request({ method: 'GET', target: `/moat-audit-missing-${ctx.nonce(4)}`, endpoint: ep });
  if (nf.res) got.push([String(nf.res.status), nf.res]);
  const bad = await ctx.raw(`GET /%zz HTTP/1.1\r\nHost: ${hostOf(ep)}\r\nX-Moat-Audit: ${ctx.token}\r\n\r\n`, { endpoint: ep, expect: 1, waitMs: 1500 });
  if (bad.responses[0]) got.push([String(bad.responses[0].status), bad.responses[0]]);
  const limited = ctx.routes.find((r) => r.route.methods && !r.route.methods.includes('DELETE'));
  if (limited && full) {
    const m = await ctx.request({ method: 'DELETE', target: limited.path, endpoint: ep });
    if (m.res) got.push([String(m.res.status), m.res]);
  }
  return got;
}

export const headers: Probe = {
  id: 'security-headers', class: 'headers', cwe: 693, severity: 'medium', profiles: ['quick', 'full'],
  title: 'Security headers on every response class',
  help: 'Every answer (200, 404, 400, 304, 405) must carry X-Content-Type-Options, a framing rule, a CSP and a Referrer-Policy; https answers HSTS.',
  targets: (ctx) => ctx.endpoints.map((e) => `${e.scheme} responses`),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const full = ctx.profile === 'full';
    for (const ep of ctx.endpoints) {
      const seen = await classes(ctx, ep, full || ep === ctx.http);
      for (const c of CHECKS) {
        if (c.https && ep.scheme !== 'https') continue;
        const missing = seen.filter(([, r]) => !c.ok(r));
        if (!missing.length) continue;
        const codes = [...new Set(missing.map(([k]) => k))];
        const target = c.https ? 'tls.hsts' : `web.headers: ${c.name}`;
        if (out.some((f) => f.target === target)) continue;          // once, whichever listener showed it
        out.push(ctx.finding(this, {
          severity: c.severity, cwe: c.cwe, confidence: 'high', target, kind: `missing-${c.name.toLowerCase()}`,
          title: `${c.name} missing or weak on ${codes.join(', ')} answers${ep.scheme === 'https' ? ' (https)' : ''}`,
          expected: `${c.name} on every answer`,
          observed: `missing or weak on status ${codes.join(', ')}`,
          evidence: evidence(missing[0][1].head),
          recommendation: c.fix,
        }));
      }
    }
    return out;
  },
};
