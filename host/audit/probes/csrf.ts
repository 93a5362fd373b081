// CSRF on every state-changing route, with the shadow's throwaway admin session: a cross-site
// request carrying the session (and even its CSRF token) must be refused with 403, and so must a
// same-origin one without the token. Both checks happen before the dispatch barrier, so the
// barrier's answer ("handler would have run") is the finding.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { hostOf } from '../http.ts';
import { targetName } from '../targets.ts';
import { evidence } from '../evidence.ts';

export const csrf: Probe = {
  id: 'csrf', class: 'csrf', cwe: 352, severity: 'high', profiles: ['quick', 'full'],
  title: 'Cross-site request forgery on state-changing routes',
  help: 'An unsafe request from another origin, or without the session\'s CSRF token, must be refused before its handler.',
  targets: (ctx) => ctx.routes.filter((r) => r.unsafe.length).map((r) => targetName(r.unsafe[0], r.path)),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const state = ctx.routes.filter((r) => r.unsafe.length);
    if (!state.length) return out;
    if (!ctx.adminCookie) { ctx.note('csrf: no session for the throwaway admin (no login route?); CSRF not tested'); return out; }
    const self = `${ctx.http.scheme}://${hostOf(ctx.http)}`;
    for (const r of state) {
      const method = r.unsafe[0], target = targetName(method, r.path);
      const session: [string, string][] = [['Cookie', ctx.adminCookie], ['Content-Type', 'application/json']];
      const cases: { kind: string; title: string; headers: [string, string][] }[] = [
        { kind: 'cross-site', title: 'a cross-site request with the session cookie is not refused', headers: [...session, ...(ctx.adminCsrf ? [['X-CSRF-Token', ctx.adminCsrf] as [string, string]] : []), ['Origin', `http://evil-${ctx.nonce(3)}.example`], ['Sec-Fetch-Site', 'cross-site']] },
        { kind: 'missing-token', title: 'a request with the session cookie but no CSRF token is not refused', headers: [...session, ['Origin', self], ['Sec-Fetch-Site', 'same-origin']] },
      ];
      if (ctx.profile === 'full') cases.push({ kind: 'null-origin', title: 'a request from Origin: null with the session cookie is not refused', headers: [...session, ...(ctx.adminCsrf ? [['X-CSRF-Token', ctx.adminCsrf] as [string, string]] : []), ['Origin', 'null']] });
      for (const c of cases) {
        const got = await ctx.request({ method, target: r.path, headers: c.headers, body: '{}' });
        if (!got.res || got.res.status === 403) continue;
        if (got.res.status >= 400 && got.res.status !== 200) continue;     // refused for another reason (405, 401…)
        out.push(ctx.finding(this, {
          confidence: 'high', target, kind: c.kind,
          title: `CSRF: ${c.title}`,
          expected: '403 before the handler',
          observed: `status ${got.res.status}${got.res.body.includes('"barrier"') ? ' (the dispatch barrier: the handler would have run)' : ''}`,
          evidence: evidence(`${method} ${r.path}\n${c.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n→ ${got.res.head.split('\r\n')[0]} ${got.res.body.toString('latin1').slice(0, 120)}`, [ctx.adminCookie, ctx.adminCsrf]),
          recommendation: 'the access guard (host/auth/access.ts, host/auth/csrf.ts) must run for this route; keep web.sessions.sameSite Strict',
        }));
      }
    }
    return out;
  },
};
