// Unknown Host: a request naming a host the device does not answer to must be refused (421) before
// any route runs, whether the name comes in the Host field or in an absolute-form target. Served,
// a DNS-rebinding page (the attacker's name re-pointed at the device) can read the device's answers
// through a victim's browser. Reported low: sessions are SameSite=Strict, cookies host-only, and
// unsafe requests need a same-origin Origin, which limits what a rebinding page gains.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { authFields } from './util.ts';
import { evidence } from '../evidence.ts';
import { hostOf } from '../http.ts';

export const hostHeader: Probe = {
  id: 'unknown-host', class: 'host', cwe: 350, severity: 'low', profiles: ['quick', 'full'],
  title: 'Requests for an unknown Host are served',
  help: 'A request naming a Host the device does not own is answered normally (DNS rebinding).',
  targets: () => ['web.hosts'],
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const r = ctx.routes.find((x) => x.get && !x.route.role && x.route.handler !== 'logout') ?? ctx.routes.find((x) => x.get);
    if (!r) return [];
    const host = `evil-${ctx.nonce(3)}.example`;
    const tries: { how: string; spec: Parameters<ProbeContext['request']>[0] }[] = [
      { how: 'Host field', spec: { method: 'GET', target: r.path, host, headers: authFields(ctx, r) } },
      { how: 'absolute-form target', spec: { method: 'GET', target: `http://${host}${r.path}`, host: hostOf(ctx.http), headers: authFields(ctx, r) } },
    ];
    for (const t of tries) {
      const got = await ctx.request(t.spec);
      if (!got.res || got.res.status >= 300) continue;
      const shown = (s: string) => s.replace(host, 'evil.example');
      return [ctx.finding(this, {
        confidence: 'high', target: 'web.hosts', kind: 'served',
        title: 'A request for Host evil.example is answered (DNS rebinding)',
        expected: 'requests for names the device does not use refused with 421',
        observed: `GET ${shown(t.spec.target)} naming an unknown host in the ${t.how} → ${got.res.status}`,
        evidence: evidence(`GET ${shown(t.spec.target)}\nHost: ${shown(t.spec.host ?? '')}\n→ ${got.res.head.split('\r\n')[0]}`),
        recommendation: ctx.config.web.hosts.includes('*')
          ? 'web.hosts holds "*": list the names the device answers to instead (["auto"] covers its host name, .local name and addresses)'
          : 'web.hosts must list only the device\'s own names; the host check (host/hosts.ts) must run before routing',
      })];
    }
    return [];
  },
};
