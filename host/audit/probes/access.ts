// Route roles: every role-bound route must answer 401 without credentials and 403 to a caller
// whose role is too low (the shadow's throwaway viewer), for unsafe methods too — those refusals
// come before the dispatch barrier, so the barrier's answer means the handler would have run.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { hostOf } from '../http.ts';
import { targetName } from '../targets.ts';
import { evidence } from '../evidence.ts';
import { sessionFor } from '../session.ts';

export const access: Probe = {
  id: 'access-control', class: 'authz', cwe: 862, severity: 'high', profiles: ['quick', 'full'],
  title: 'Role-bound routes refuse missing and insufficient credentials',
  help: 'A route with a role must answer 401 without credentials and 403 to a lower role, before its handler.',
  targets: (ctx) => ctx.routes.filter((r) => r.route.role).map((r) => targetName(r.get ? 'GET' : r.unsafe[0] ?? 'GET', r.path)),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const bound = ctx.routes.filter((r) => r.route.role && r.route.handler !== 'login');
    if (!bound.length) return out;
    const viewer = bound.some((r) => r.route.role !== 'viewer') ? await sessionFor(ctx, ctx.accounts.viewer) : null;
    const self = `${ctx.http.scheme}://${hostOf(ctx.http)}`;
    for (const r of bound) {
      for (const method of [...(r.get ? ['GET'] : []), ...r.unsafe.slice(0, 1)]) {
        const target = targetName(method, r.path);
        const body = method === 'GET' ? undefined : '{}';
        const anon = await ctx.request({ method, target: r.path, body, headers: body ? [['Content-Type', 'application/json']] : [] });
        if (anon.res && anon.res.status < 400) {
          out.push(ctx.finding(this, {
            severity: 'critical', confidence: 'high', target, kind: 'anonymous',
            title: `Route needing role ${r.route.role} answers without credentials`,
            expected: '401 without credentials',
            observed: `status ${anon.res.status}${anon.res.body.includes('"barrier"') ? ' (the dispatch barrier: the handler would have run)' : ''}`,
            evidence: evidence(anon.res.head),
            recommendation: `check web.routes: the route "${r.route.match}" declares role ${r.route.role}; the access guard must run (host/routes.ts, host/auth/access.ts)`,
          }));
          continue;
        }
        if (!viewer || r.route.role === 'viewer') continue;
        const headers: [string, string][] = [['Cookie', viewer.cookie]];
        if (body) headers.push(['Content-Type', 'application/json'], ['Origin', self], ...(viewer.csrf ? [['X-CSRF-Token', viewer.csrf] as [string, string]] : []));
        const low = await ctx.request({ method, target: r.path, body, headers });
        if (low.res && low.res.status < 400) {
          out.push(ctx.finding(this, {
            severity: 'high', cwe: 285, confidence: 'high', target, kind: 'role-too-low',
            title: `Route needing role ${r.route.role} answers a viewer`,
            expected: '403 for a caller whose role is too low',
            observed: `status ${low.res.status}${low.res.body.includes('"barrier"') ? ' (the dispatch barrier: the handler would have run)' : ''}`,
            evidence: evidence(low.res.head, [viewer.cookie, viewer.csrf]),
            recommendation: `check the role of "${r.route.match}" in web.routes and the role ladder (host/auth/roles.ts)`,
          }));
        }
      }
    }
    return out;
  },
};
