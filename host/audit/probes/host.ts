// Unknown Host: Moat has no allowed-hosts setting and answers any syntactically valid Host, so a
// DNS-rebinding page can talk to the device through a victim's browser (same-origin to the
// attacker's name). Reported low: sessions are SameSite=Strict, cookies are host-only, and unsafe
// requests need a same-origin Origin, which limits what a rebinding page gains.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { authFields } from './util.ts';
import { evidence } from '../evidence.ts';

export const hostHeader: Probe = {
  id: 'unknown-host', class: 'host', cwe: 350, severity: 'low', profiles: ['quick', 'full'],
  title: 'Requests for an unknown Host are served',
  help: 'A request naming a Host the device does not own is answered normally (DNS rebinding).',
  targets: () => ['web.listen'],
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const r = ctx.routes.find((x) => x.get && !x.route.role && x.route.handler !== 'logout') ?? ctx.routes.find((x) => x.get);
    if (!r) return [];
    const host = `evil-${ctx.nonce(3)}.example`;
    const got = await ctx.request({ method: 'GET', target: r.path, host, headers: authFields(ctx, r) });
    if (!got.res || got.res.status >= 300) return [];
    return [ctx.finding(this, {
      confidence: 'high', target: 'web.listen', kind: 'served',
      title: 'A request with Host: evil.example is answered (no Host allow-list)',
      expected: 'requests for names the device does not use refused (421/400)',
      observed: `GET ${r.path} with an unknown Host → ${got.res.status}`,
      evidence: evidence(`GET ${r.path}\nHost: ${host.replace(/-[0-9a-f]+\./, '.')}\n→ ${got.res.head.split('\r\n')[0]}`),
      recommendation: 'Moat has no Host allow-list setting: bind web.listen to the device\'s own address (not 0.0.0.0), keep role routes behind login; a Host check in the host (routes.ts) would close this',
    })];
  },
};
