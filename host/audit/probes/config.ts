// Config review: settings the shadow cannot measure because it runs with the defense rules off
// (so the audit is never banned), or that only matter over hours: the per-client request rate,
// bans for guessing and scanning, a per-client cap that equals the global one, sessions that
// never expire. No requests; findings name the key to change.
import type { Finding, Probe, ProbeContext, FindingDraft } from '../types.ts';
import { evidence } from '../evidence.ts';

type Check = (ctx: ProbeContext) => (FindingDraft & { cwe: number }) | null;

const CHECKS: Check[] = [
  (ctx) => ctx.config.web.limits.clientRequests === 0 ? {
    severity: 'low', cwe: 770, confidence: 'high', target: 'web.limits.clientRequests', kind: 'rate-off',
    title: 'No per-client request rate (web.limits.clientRequests is 0)',
    expected: 'a rate such as 1200 per minute (429 + Retry-After beyond it)', observed: 'web.limits.clientRequests: 0',
    evidence: evidence('web.limits.clientRequests: 0'), recommendation: 'set web.limits.clientRequests (default 1200)',
  } : null,
  (ctx) => {
    const rules = ctx.config.moat.defense.rules;
    const bans = (c: string) => rules.some((r) => r.counter === c && r.remedy === 'ban');
    const missing = ['authFailures', 'badRequests'].filter((c) => !bans(c));
    return missing.length ? {
      severity: missing.includes('authFailures') ? 'medium' : 'low', cwe: 307, confidence: 'high', target: 'moat.defense.rules', kind: `no-ban-${missing.join('-')}`,
      title: `No ban rule for ${missing.join(' or ')}`,
      expected: 'repeated 401/403 and malformed requests from one client lead to a ban',
      observed: `rules: ${rules.map((r) => `${r.counter}>${r.over}→${r.remedy}`).join(', ') || 'none'}`,
      evidence: evidence(JSON.stringify(rules.map((r) => ({ counter: r.counter, over: r.over, remedy: r.remedy })))),
      recommendation: `add {counter: '${missing[0]}', over: ${missing[0] === 'authFailures' ? 10 : 20}, per: '5 mins', remedy: 'ban', for: '15 mins'} to moat.defense.rules (the default config has one)`,
    } : null;
  },
  (ctx) => {
    const l = ctx.config.web.limits;
    return l.clientConnections >= l.connections ? {
      severity: 'medium', cwe: 770, confidence: 'high', target: 'web.limits.clientConnections', kind: 'cap-equals-total',
      title: 'One client may take every connection',
      expected: 'web.limits.clientConnections well below web.limits.connections',
      observed: `clientConnections ${l.clientConnections}, connections ${l.connections}`,
      evidence: evidence(`web.limits: { connections: ${l.connections}, clientConnections: ${l.clientConnections} }`),
      recommendation: 'set web.limits.clientConnections to a fraction of web.limits.connections (defaults 10 of 50)',
    } : null;
  },
  (ctx) => {
    const s = ctx.config.web.sessions;
    return s.enable && !Number.isFinite(s.timeout) ? {
      severity: 'low', cwe: 613, confidence: 'high', target: 'web.sessions.timeout', kind: 'sessions-never-expire',
      title: 'Login sessions never expire when idle',
      expected: 'an idle timeout (default: web.timeouts.session, 1 hour)', observed: 'infinite',
      evidence: evidence('web.sessions.timeout: infinite'), recommendation: "set web.sessions.timeout (e.g. '1 hour')",
    } : null;
  },
];

export const configReview: Probe = {
  id: 'config-review', class: 'config', cwe: 16, severity: 'low', profiles: ['quick', 'full'],
  title: 'Config settings the shadow cannot measure',
  help: 'Rate limits, ban rules, per-client caps and session lifetimes as configured.',
  targets: () => ['web.limits.clientRequests', 'moat.defense.rules', 'web.limits.clientConnections', 'web.sessions.timeout'],
  async run(ctx: ProbeContext): Promise<Finding[]> {
    return CHECKS.map((c) => c(ctx)).filter((d): d is FindingDraft & { cwe: number } => d !== null).map((d) => ctx.finding(this, d));
  },
};
