// Reflected XSS: a nonce canary with markup breakouts goes into every common query parameter and
// into the path; the canary coming back unescaped in an HTML response is a finding.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { authFields, around, bodyOf, enc, everyParam, isHtml, pick } from './util.ts';
import { under, targetName } from '../targets.ts';
import { evidence } from '../evidence.ts';

function payload(n: string): { sent: string; markers: string[] } {
  // An attribute breakout, a script-block breakout and a plain element: each marker is only
  // present in the body if the characters < > " were not escaped.
  const sent = `mz${n}"'></script><script>mz${n}()</script><mz${n}>`;
  return { sent, markers: [`<script>mz${n}()</script>`, `<mz${n}>`, `"'></script>`] };
}

export const xss: Probe = {
  id: 'xss-reflected', class: 'xss', cwe: 79, severity: 'high', profiles: ['quick', 'full'],
  title: 'Reflected cross-site scripting',
  help: 'A request value is written into an HTML response without escaping.',
  targets: (ctx) => pick(ctx).map((r) => targetName('GET', r.path)),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    for (const r of pick(ctx)) {
      const variants: { where: string; target: (p: string) => string }[] = [{ where: 'query', target: (p) => `${r.path}?${everyParam(p)}` }];
      if (ctx.profile === 'full' || r.route.match.length > 1) variants.push({ where: 'path', target: (p) => under(r.path, enc(p)) });
      for (const v of variants) {
        const n = ctx.nonce(6);
        const p = payload(n);
        const got = await ctx.request({ method: 'GET', target: v.target(p.sent), headers: authFields(ctx, r) });
        if (!got.res || !isHtml(got.res)) continue;
        const body = bodyOf(got.res);
        const hit = p.markers.find((m) => body.includes(m) && body.includes(n));
        if (!hit) continue;
        out.push(ctx.finding(this, {
          confidence: 'high', target: targetName('GET', r.path), kind: `reflected-${v.where}`,
          title: `Reflected XSS: the ${v.where} is written into HTML unescaped`,
          expected: 'request values HTML-escaped (or a non-HTML Content-Type)',
          observed: `canary markup ${JSON.stringify(hit.replace(n, '<nonce>'))} reflected verbatim in a ${got.res.status} ${got.res.header('content-type') ?? '(no Content-Type)'} response`,
          evidence: evidence(`${got.res.head.split('\r\n')[0]}\n...${around(body, hit)}`),
          recommendation: `escape request values before writing them into HTML in the "${r.route.handler}" handler (route ${r.route.match}); keep web.headers free of a weaker Content-Security-Policy`,
        }));
        break;
      }
    }
    return out;
  },
};
