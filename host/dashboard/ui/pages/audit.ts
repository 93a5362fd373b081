// The self-audit: run it (quick: operator, full: admin), watch it run, read the findings with their
// evidence and recommendation, waive one (admin), download the report (operator).
import { h, clear, table, time } from '../dom.ts';
import { severity } from '../severity.ts';
import { explain } from '../api.ts';
import { roleAtLeast } from '../../../auth/roles.ts';
import { alertLine, statusLine, type Page, type PageCtx } from '../page.ts';

interface Finding {
  probe: string; class: string; cwe: number; severity: string; confidence: string; title: string; target: string;
  expected: string; observed: string; evidence?: string; recommendation: string; fingerprint: string; status: string;
  waiver?: { actor: string; reason: string; expiresAt: string };
}
interface RunSummary { grade: string; counts: Record<string, number>; profile: string | null; actor: string | null; finishedAt: string | null; aborted: string | null }
interface AuditView {
  running: { profile: string | null; actor: string | null; startedAt: string | null; probe?: string; route?: string } | null;
  error: string | null;
  last: RunSummary | null;
  findings: Finding[];
  check: (RunSummary & { scope: { probes: string[] | null; routes: string[] | null } | null; findings: Finding[] }) | null;
  catalog: { id: string; class: string; title: string; profiles: string[] }[];
  routes: string[];
}

const RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
/** The columns of both findings tables (the last run's and the last check's), and a finding's row in them. */
const COLUMNS = ['Severity', 'Finding', 'Target', 'Status'];
const row = (f: Finding) => [severity(f.severity), f.title, h('code', {}, f.target), f.status];

export const auditPage: Page = {
  id: 'audit', title: 'Self-audit', need: 'viewer',
  async render(ctx: PageCtx) {
    if (!ctx.me.audit) { ctx.root.append(h('p', { id: 'not-configured' }, 'The self-audit is not configured on this server.')); return; }
    const operator = roleAtLeast(ctx.me.role, 'operator'), admin = roleAtLeast(ctx.me.role, 'admin');
    const status = statusLine('audit-status');
    const err = alertLine('audit-error');
    const progress = h('div', { id: 'audit-progress' });
    const summary = h('div', { id: 'audit-summary' });
    const findings = h('div', { id: 'audit-findings' });
    const controls = h('div', { class: 'actions' });
    const buttons: HTMLButtonElement[] = [];
    const start = async (body: Record<string, string>, what: string) => {
      err.textContent = '';
      try {
        await ctx.api.post('audit/run', body);
        status.textContent = `The ${what} started.`;
        lastWhat = what;
        wasRunning = true;                        // a run over before the next load still reports finishing
        pollMs = 50;
        polls = 0;
      } catch (e) {
        err.textContent = explain(e);
      }
      await load();
    };
    const runButton = (profile: 'quick' | 'full', label: string) => {
      const b = h('button', { type: 'button', id: `run-${profile}` }, label);
      b.addEventListener('click', () => { void start({ profile }, `${profile} audit`); });
      buttons.push(b);
      controls.append(b);
    };
    if (operator) runButton('quick', 'Run quick audit');
    if (admin) runButton('full', 'Run full audit');
    if (operator) {
      controls.append(
        h('a', { href: '/_moat/api/audit/report?format=json', download: 'moat-audit.json', id: 'download-json', class: 'button' }, 'Download JSON report'),
        h('a', { href: '/_moat/api/audit/report?format=sarif', download: 'moat-audit.sarif', id: 'download-sarif', class: 'button' }, 'Download SARIF report'));
    }
    // A targeted check: one probe class on one route (or every route), e.g. after changing that route.
    const checkForm = h('form', { id: 'check-form', class: 'check', 'aria-label': 'Check one probe on one route' });
    const checkResult = h('section', { id: 'check-result', 'aria-labelledby': 'check-heading' });
    const drawCheckForm = (v: AuditView) => {
      if (!operator || checkForm.firstChild) return;
      const probes = v.catalog.filter((p) => p.profiles.includes('quick') || admin);
      const probe = h('select', { id: 'check-probe', name: 'probe' },
        ...probes.map((p) => h('option', { value: p.id }, `${p.title} (${p.id})`)));
      const route = h('select', { id: 'check-route', name: 'route' }, h('option', { value: '*' }, 'every route'),
        ...v.routes.map((r) => h('option', { value: r }, r === '' ? '(empty prefix)' : r)));
      const b = h('button', { type: 'submit', id: 'run-check' }, 'Run check');
      buttons.push(b);
      checkForm.append(h('div', {}, h('label', { for: probe.id }, 'Probe'), probe), h('div', {}, h('label', { for: route.id }, 'Route'), route), b);
      checkForm.addEventListener('submit', (e) => {
        e.preventDefault();
        const p = probes.find((x) => x.id === probe.value);
        const body: Record<string, string> = { profile: p && !p.profiles.includes('quick') ? 'full' : 'quick', probe: probe.value };
        if (route.value !== '*') body.route = route.value;
        void start(body, 'check');
      });
    };
    const drawCheck = (v: AuditView) => {
      clear(checkResult);
      const c = v.check;
      if (!c) return;
      const scope = `${c.scope?.probes?.join(', ') ?? 'every probe'} on ${c.scope?.routes ? c.scope.routes.join(', ') || '(empty prefix)' : 'every route'}`;
      checkResult.append(h('h2', { id: 'check-heading' }, 'Last check'),
        h('p', { id: 'check-summary' }, `${scope}: ${c.findings.length} finding${c.findings.length === 1 ? '' : 's'}`,
          c.finishedAt ? h('span', {}, ', run by ', c.actor ?? 'unknown', ', finished ', time(c.finishedAt)) : '', c.aborted ? ` (aborted: ${c.aborted})` : '', '.'),
        table('Findings of the last check', COLUMNS, c.findings.map(row), { id: 'check-findings', empty: 'No findings.' }));
    };
    ctx.root.append(controls, checkForm, status, err, progress, summary, findings, checkResult);

    let poll: ReturnType<typeof setTimeout> | undefined;
    ctx.onLeave(() => clearTimeout(poll));
    let wasRunning = false;
    let lastWhat = 'audit';
    // Poll fast at first (a quick audit of one probe class takes tens of ms), then back off to 1 s.
    let pollMs = 50, polls = 0;

    const load = async (): Promise<void> => {
      clearTimeout(poll);
      let v: AuditView;
      try {
        v = await ctx.api.get<AuditView>('audit');
      } catch (e) {
        if (!ctx.left) err.textContent = explain(e);
        return;
      }
      if (ctx.left) return;
      clear(progress);
      drawCheckForm(v);
      for (const b of buttons) b.disabled = v.running !== null;
      if (v.running) {
        const r = v.running;
        progress.append(h('p', {}, h('progress', { 'aria-label': 'Audit in progress' }), ' ',
          r.profile ? `The ${r.probe || r.route !== undefined ? 'check' : `${r.profile} audit`} started by ${r.actor ?? 'the schedule'} is running` : 'A scheduled audit is running',
          r.startedAt ? h('span', {}, ' since ', time(r.startedAt)) : '', '.'));
        wasRunning = true;
        poll = setTimeout(() => { void load(); }, pollMs);
        // Every 50 ms for the first second (a one-probe check ends within it), then backing off to 1 s.
        if (++polls >= 20) pollMs = Math.min(1000, pollMs * 2);
      } else if (wasRunning) {
        pollMs = 50;
        polls = 0;
        wasRunning = false;
        status.textContent = `The ${lastWhat} finished.`;
      }
      if (v.error) err.textContent = v.error;
      drawSummary(v);
      drawFindings(v.findings);
      drawCheck(v);
    };

    const drawSummary = (v: AuditView) => {
      clear(summary);
      if (!v.last) { summary.append(h('p', {}, 'No audit has run yet.')); return; }
      const l = v.last;
      summary.append(h('p', { class: 'grade' }, 'Grade ', h('strong', { id: 'grade' }, l.grade),
        l.finishedAt ? h('span', {}, ' — ', l.profile ?? '', ' run by ', l.actor ?? 'unknown', ', finished ', time(l.finishedAt)) : '',
        l.aborted ? ` (aborted: ${l.aborted})` : ''));
    };

    const drawFindings = (list: Finding[]) => {
      clear(findings);
      const sorted = list.slice().sort((a, b) => (RANK[a.severity] ?? 9) - (RANK[b.severity] ?? 9));
      findings.append(table('Findings, worst first', COLUMNS, sorted.map(row), { id: 'findings', empty: 'No findings.', more: sorted.map(details) }));
    };

    const details = (f: Finding): HTMLElement => {
      const d = h('details', { class: 'finding' }, h('summary', {}, 'Details', h('span', { class: 'visually-hidden' }, ` of ${f.title}`)),
        h('dl', { class: 'facts' },
          h('div', {}, h('dt', {}, 'Expected'), h('dd', {}, f.expected)),
          h('div', {}, h('dt', {}, 'Observed'), h('dd', {}, f.observed)),
          f.evidence !== undefined ? h('div', {}, h('dt', {}, 'Evidence'), h('dd', {}, h('pre', { class: 'evidence' }, f.evidence))) : null,
          h('div', {}, h('dt', {}, 'Recommendation'), h('dd', {}, f.recommendation)),
          h('div', {}, h('dt', {}, 'Class'), h('dd', {}, `${f.class} (CWE-${f.cwe}), confidence ${f.confidence}, probe ${f.probe}`)),
          h('div', {}, h('dt', {}, 'Fingerprint'), h('dd', {}, h('code', {}, f.fingerprint))),
          f.waiver ? h('div', {}, h('dt', {}, 'Waiver'), h('dd', {}, `${f.waiver.reason} — by ${f.waiver.actor}, until ${f.waiver.expiresAt.slice(0, 10)}`)) : null));
      if (admin && f.status !== 'waived' && f.status !== 'fixed') d.append(waiveForm(f));
      return d;
    };

    const waiveForm = (f: Finding): HTMLElement => {
      const key = f.fingerprint.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40);
      const reason = h('input', { id: `waive-reason-${key}`, name: 'reason', required: true, maxlength: 200, autocomplete: 'off' });
      const inMonth = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
      const expires = h('input', { id: `waive-expires-${key}`, name: 'expires', type: 'date', required: true, value: inMonth });
      const form = h('form', { class: 'waive', 'aria-label': `Waive ${f.title}` },
        h('div', {}, h('label', { for: reason.id }, 'Reason for the waiver'), reason),
        h('div', {}, h('label', { for: expires.id }, 'Waiver expires on'), expires),
        h('button', { type: 'submit' }, 'Waive finding'));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        try {
          await ctx.api.post('audit/waive', { fingerprint: f.fingerprint, reason: reason.value, expires: `${expires.value}T23:59:59Z` });
          status.textContent = `Waived "${f.title}".`;
        } catch (x) {
          err.textContent = explain(x);
        }
        await load();
      });
      return form;
    };

    await load();
  },
};
