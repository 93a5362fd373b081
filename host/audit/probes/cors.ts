// CORS: Moat has no CORS feature, so Access-Control-Allow-* can only come from web.headers or a
// handler. An arbitrary Origin reflected with credentials, "null" allowed, or "*" with credentials
// lets other sites read answers meant for this device's users.
import type { Finding, Probe, ProbeContext, RouteTarget } from '../types.ts';
import type { ParsedResponse } from '../http.ts';
import { authFields } from './util.ts';
import { targetName } from '../targets.ts';
import { evidence } from '../evidence.ts';

function fromConfig(ctx: ProbeContext): boolean {
  return ctx.config.web.headers.some(([k]) => k.toLowerCase().startsWith('access-control-'));
}

function where(ctx: ProbeContext, r: RouteTarget): string {
  return fromConfig(ctx) ? 'web.headers' : targetName('GET', r.path);
}

export const cors: Probe = {
  id: 'cors', class: 'cors', cwe: 942, severity: 'high', profiles: ['quick', 'full'],
  title: 'Permissive CORS',
  help: 'Access-Control-Allow-Origin must not reflect arbitrary origins or allow "null" with credentials.',
  targets: (ctx) => ctx.routes.filter((r) => r.get).map((r) => targetName('GET', r.path)),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const get = ctx.routes.filter((r) => r.get && r.route.handler !== 'logout');
    const list = ctx.profile === 'full' ? get : [...get.filter((r) => !r.builtin), ...get.filter((r) => r.builtin)].slice(0, 8);
    const seen = new Set<string>();
    const add = (r: RouteTarget, res: ParsedResponse, kind: string, severity: 'high' | 'medium', title: string, observed: string) => {
      const target = where(ctx, r);
      if (seen.has(target + kind)) return;
      seen.add(target + kind);
      out.push(ctx.finding(this, {
        severity, confidence: 'high', target, kind, title,
        expected: 'no Access-Control-Allow-Origin, or a fixed list of trusted origins without credentials',
        observed,
        evidence: evidence(res.head, [ctx.adminCookie]),
        recommendation: fromConfig(ctx)
          ? 'remove Access-Control-Allow-Origin / -Credentials from web.headers (Moat serves same-origin pages; it has no CORS feature)'
          : `the "${r.route.handler}" handler must not reflect Origin; allow a fixed list of origins, never with credentials`,
      }));
    };
    for (const r of list) {
      const origin = `https://evil-${ctx.nonce(4)}.example`;
      const got = await ctx.request({ method: 'GET', target: r.path, headers: [...authFields(ctx, r), ['Origin', origin]] });
      const res = got.res;
      if (!res) continue;
      const acao = res.header('access-control-allow-origin'), creds = /^true$/i.test(res.header('access-control-allow-credentials') ?? '');
      if (acao === origin) {
        add(r, res, creds ? 'reflected-credentials' : 'reflected', creds ? 'high' : 'medium',
          `CORS reflects any Origin${creds ? ' with credentials' : ''}`, `Access-Control-Allow-Origin: <the audit's origin>${creds ? ', Access-Control-Allow-Credentials: true' : ''}`);
      } else if (acao?.trim() === '*' && creds) {
        add(r, res, 'wildcard-credentials', 'medium', 'CORS allows "*" together with credentials', 'Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true');
      }
      if (ctx.profile === 'full' || r === list[0]) {
        const n = await ctx.request({ method: 'GET', target: r.path, headers: [...authFields(ctx, r), ['Origin', 'null']] });
        if (n.res?.header('access-control-allow-origin')?.trim() === 'null') {
          add(r, n.res, 'null-origin', 'medium', 'CORS allows the "null" origin (sandboxed frames, file: pages)', 'Access-Control-Allow-Origin: null');
        }
      }
      if (fromConfig(ctx) && out.length) break;
    }
    return out;
  },
};
