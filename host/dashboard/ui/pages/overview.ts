// Overview: the open alarms first, then the audit grade and findings by severity, then health.
import { h, bytes, duration, facts, table, time, clear } from '../dom.ts';
import { severity } from '../severity.ts';
import { explain } from '../api.ts';
import { alertLine, type Page, type PageCtx } from '../page.ts';

interface Finding { severity: string; title: string; target: string; status: string }
interface Overview {
  uptimeMs: number;
  memory: { moduleBytes: number; modulePages: number; moduleHighWater: number; hostRss: number; hostHeapUsed: number; bufferedBytes: number };
  connections: { used: number; limit: number };
  traffic: { windowMs: number; requestsPerMin: number; errorRate: number; clientErrorRate: number; bans: number } | null;
  tls: { failures: number; certificate: { daysLeft: number; notAfter: string } | { error: string } | null } | null;
  audit: { last: { grade: string; counts: Record<string, number>; finishedAt: string | null; profile: string | null } | null; alarms: Finding[] } | null;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function draw(box: HTMLElement, o: Overview): void {
  clear(box);
  const alarms = o.audit?.alarms ?? [];
  if (alarms.length) {
    box.append(h('section', { class: 'banner', 'aria-labelledby': 'alarms-h', id: 'alarms' },
      h('h2', { id: 'alarms-h' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), `${alarms.length} open alarm${alarms.length === 1 ? '' : 's'}`),
      h('ul', {}, ...alarms.map((f) => h('li', {}, severity(f.severity), ' ', f.title, ' — ', h('code', {}, f.target), ` (${f.status})`)))));
  }
  const audit = h('section', { 'aria-labelledby': 'grade-h' }, h('h2', { id: 'grade-h' }, 'Self-audit'));
  if (!o.audit) audit.append(h('p', {}, 'The self-audit is not configured.'));
  else if (!o.audit.last) audit.append(h('p', {}, 'No audit has run yet.'));
  else {
    const l = o.audit.last;
    audit.append(
      h('p', { class: 'grade' }, 'Grade ', h('strong', { id: 'grade' }, l.grade), l.finishedAt ? h('span', {}, ' — last run ', time(l.finishedAt), l.profile ? ` (${l.profile})` : '') : ''),
      table('Open findings by severity', ['Severity', 'Open findings'], Object.entries(l.counts).map(([s, n]) => [severity(s), String(n)])),
    );
  }
  box.append(audit);
  const m = o.memory, t = o.traffic, cert = o.tls?.certificate;
  box.append(h('section', { 'aria-labelledby': 'health-h' }, h('h2', { id: 'health-h' }, 'Health'), facts([
    ['Uptime', duration(o.uptimeMs)],
    ['Connections', `${o.connections.used} of ${o.connections.limit}`],
    ['Module memory', `${bytes(m.moduleBytes)} (${m.modulePages} page${m.modulePages === 1 ? '' : 's'}), tables use ${bytes(m.moduleHighWater)}`],
    ['Host memory', `${bytes(m.hostRss)} resident, ${bytes(m.hostHeapUsed)} heap, ${bytes(m.bufferedBytes)} buffered`],
    ['Requests', t ? `${t.requestsPerMin} per minute over ${duration(t.windowMs)}` : 'no samples yet'],
    ['Error rate', t ? `${pct(t.errorRate)} server errors, ${pct(t.clientErrorRate)} client errors` : 'no samples yet'],
    ['Bans', t ? `${t.bans} in the window` : 'no samples yet'],
    ['TLS', o.tls ? `${o.tls.failures} failed handshakes` : 'not configured'],
    ['Certificate', !cert ? 'none' : 'error' in cert ? cert.error : `${cert.daysLeft} days left (until ${cert.notAfter.slice(0, 10)})`],
  ])));
}

export const overviewPage: Page = {
  id: 'overview', title: 'Overview', need: 'viewer',
  async render(ctx: PageCtx) {
    const box = h('div', { id: 'overview' });
    const err = alertLine('overview-error');
    ctx.root.append(err, box);
    const load = async () => {
      try {
        const o = await ctx.api.get<Overview>('overview');
        if (!ctx.left) { err.textContent = ''; draw(box, o); }
      } catch (e) {
        if (!ctx.left) err.textContent = explain(e);
      }
    };
    await load();
    const timer = setInterval(load, 10_000);
    ctx.onLeave(() => clearInterval(timer));
  },
};
