// Server-side template injection: template expressions with random factors in every common
// parameter; the product showing up in the answer means something evaluated the input.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { authFields, around, bodyOf, pick, query, PARAMS, randInt } from './util.ts';
import { targetName } from '../targets.ts';
import { evidence } from '../evidence.ts';

const SYNTAXES: [string, (a: number, b: number) => string][] = [
  ['mustache', (a, b) => `{{${a}*${b}}}`],
  ['dollar', (a, b) => `\${${a}*${b}}`],
  ['erb', (a, b) => `<%=${a}*${b}%>`],
  ['hash', (a, b) => `#{${a}*${b}}`],
];

export const ssti: Probe = {
  id: 'ssti', class: 'ssti', cwe: 1336, severity: 'critical', profiles: ['quick', 'full'],
  title: 'Server-side template injection',
  help: 'A request value is evaluated as a template expression.',
  targets: (ctx) => pick(ctx).map((r) => targetName('GET', r.path)),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    for (const r of pick(ctx)) {
      // One request carries every syntax, each with its own factors, spread over the parameters.
      const cases = SYNTAXES.map(([name, f]) => {
        const a = randInt(1000, 9999), b = randInt(1000, 9999);
        return { name, expr: f(a, b), product: String(a * b) };
      });
      // Every parameter carries every syntax, so whichever one the handler reads, each is tried.
      const all = cases.map((c) => c.expr).join(' ');
      const values: Record<string, string> = Object.fromEntries(PARAMS.map((p) => [p, all]));
      const got = await ctx.request({ method: 'GET', target: `${r.path}?${query(values)}`, headers: authFields(ctx, r) });
      const body = bodyOf(got.res);
      const hit = cases.find((c) => body.includes(c.product));
      if (!got.res || !hit) continue;
      out.push(ctx.finding(this, {
        confidence: 'high', target: targetName('GET', r.path), kind: `evaluated-${hit.name}`,
        title: `Template injection: ${hit.name} expressions in request values are evaluated`,
        expected: 'request values treated as data, never as a template',
        observed: `${JSON.stringify(hit.expr)} answered with its product ${hit.product} (status ${got.res.status})`,
        evidence: evidence(`sent ${hit.expr}\n...${around(body, hit.product)}`),
        recommendation: `never pass request values to a template engine as template text in the "${r.route.handler}" handler; render them as variables with autoescaping`,
      }));
    }
    return out;
  },
};
