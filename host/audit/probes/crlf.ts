// CRLF / response header injection: %0d%0a sequences in parameters and the path. A response header
// the audit named, or a second response in the bytes, is a finding. Moat's module refuses CR and
// LF in every application field, so an application that copies a value into a header ends up
// answering 500 response_refused instead: that is the expected outcome, not a finding.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { authFields, everyParam, pick } from './util.ts';
import { under, targetName } from '../targets.ts';
import { evidence } from '../evidence.ts';

export const crlf: Probe = {
  id: 'crlf-injection', class: 'crlf', cwe: 113, severity: 'high', profiles: ['quick', 'full'],
  title: 'CRLF injection into response headers',
  help: 'CR/LF in a request value end up in the response head, adding headers or splitting the response.',
  targets: (ctx) => pick(ctx).map((r) => targetName('GET', r.path)),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    for (const r of pick(ctx)) {
      const forms: [string, (v: string) => string][] = [['query', (v) => `${r.path}?${everyParam(v)}`]];
      if (ctx.profile === 'full') forms.push(['path', (v) => under(r.path, v.replace(/\r/g, '%0d').replace(/\n/g, '%0a').replace(/ /g, '%20').replace(/:/g, '%3a'))]);
      for (const [where, build] of forms) {
        const n = ctx.nonce(6);
        const got = await ctx.request({ method: 'GET', target: build(`x\r\nX-Injected-${n}: ${n}\r\n\r\nHTTP/1.1 200 OK\r\nX-Split-${n}: 1`), headers: authFields(ctx, r) });
        const headerHit = got.responses.some((res) => res.headers.some(([k, v]) => k.toLowerCase().includes(n) || (v.includes(n) && /[\r\n]/.test(v))));
        const split = got.responses.length > 1 || got.responses.some((res) => res.head.includes(`X-Split-${n}`));
        if (!headerHit && !split) continue;
        out.push(ctx.finding(this, {
          confidence: 'high', target: targetName('GET', r.path), kind: `${split ? 'split' : 'header'}-${where}`,
          title: split ? 'Response splitting: CR/LF in a request value starts a second response' : 'Header injection: CR/LF in a request value adds a response header',
          expected: 'CR/LF never reaches the response head (the module refuses such fields)',
          observed: split ? `${got.responses.length} responses or an injected status line in one answer` : `a header named by the audit appeared`,
          evidence: evidence(got.raw.toString('latin1').split(n).join('<nonce>')),
          recommendation: `never copy request values into response fields in the "${r.route.handler}" handler; the module's field check must stay on`,
        }));
        break;
      }
    }
    return out;
  },
};
