// Operator interaction time in the dashboard, measured in a real browser (headless Debian chromium
// through playwright-core, launched as test/dashboard.test.ts does) against a real server, the way
// the seed paper measured its operator console: repetitions of a fresh page load (navigation
// timing) followed by N interactions, each timed inside the page with performance.now().
//
// The paper's interaction is "run one probe class on one route": the operator picks a probe and a
// route in the audit page's check form and clicks "Run check" (POST audit/run {profile, probe,
// route}); here the `trace` probe on the route `/` of the demo config, one TRACE request. Two
// times per click: until the page says the check started (the server accepted it), and until the
// page shows the finished check's findings — which includes the page's poll while it runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startFromConfig, type Running } from '../host/serve.ts';
import { UserStore } from '../host/auth/users.ts';
import { AuditService } from '../host/audit/service.ts';
import { formatSarif } from '../host/audit/format-sarif.ts';
import type { Report } from '../host/audit/types.ts';
import { dashboardHandlers } from '../host/dashboard/api.ts';
import { demoConfig, percentiles, type Percentiles } from './audit.ts';
import { progress } from './lib.ts';

export interface DashboardOptions { interactions: number; repetitions: number }
export interface DashboardResult {
  interactions: number; repetitions: number; probe: string; requestsPerRun: number;
  interaction: string;
  started: Percentiles; shown: Percentiles; pageLoad: Percentiles;
  /** The audit run itself, server side (report.durationMs): the rest of `shown` is the page's poll. */
  serverRun: Percentiles;
  paper: { mean: number; min: number; max: number };
  samples: { started: number[]; shown: number[]; pageLoad: number[]; serverRun: number[] };
}

/** The seed paper's figure for its operator interaction (ms). */
export const PAPER = { mean: 119.5, min: 83, max: 191 };
const PROBE = 'trace';
const ROUTE = '/';
const PASSWORD = 'bench operator password, long enough';

// One interaction, run in the page. A string, not a function: tsx (esbuild keepNames) would wrap
// a function's inner names in a helper the page does not have. The click handler sets the status
// line once the POST is answered, then redraws the summary on every poll; the run is shown once a
// redraw has no progress bar.
const CLICK = `new Promise((resolve, reject) => {
  const status = document.getElementById('audit-status'), prog = document.getElementById('audit-progress');
  const summary = document.getElementById('check-result'), button = document.getElementById('run-check');
  let startedAt = 0;
  const t0 = performance.now();
  const onStatus = new MutationObserver(() => {
    if (!startedAt && status.textContent === 'The check started.') startedAt = performance.now() - t0;
  });
  const onSummary = new MutationObserver(() => {
    if (!startedAt || prog.querySelector('progress')) return;
    stop(); resolve({ started: startedAt, shown: performance.now() - t0 });
  });
  const timer = setTimeout(() => {
    stop(); reject(new Error('no finished run after 30 s (status: ' + status.textContent + '; error: ' + document.getElementById('audit-error').textContent + ')'));
  }, 30000);
  function stop() { onStatus.disconnect(); onSummary.disconnect(); clearTimeout(timer); }
  onStatus.observe(status, { childList: true, characterData: true, subtree: true });
  onSummary.observe(summary, { childList: true, subtree: true });
  button.click();
})`;

export async function dashboardBench(o: DashboardOptions): Promise<DashboardResult> {
  const dir = mkdtempSync(join(tmpdir(), 'moat-bench-dash-'));
  const users = join(dir, 'users.json');
  const store = UserStore.load(users);
  await store.addUser('operator', 'operator', PASSWORD);
  store.save();
  const cfg = demoConfig();
  cfg.auth.users = users;
  // A thousand clicks and polls from one browser are more than the rate rule's requests a minute.
  cfg.web.limits.clientRequests = 0;
  const audit = new AuditService({ config: cfg });
  let running: Running | undefined;
  const handlers = dashboardHandlers({
    server: () => running?.server, config: () => cfg, users, audit, oplog: null,
    sarif: (r) => formatSarif(r as unknown as Report), startedAt: Date.now(),
  });
  running = await startFromConfig(cfg, { handlers });
  const base = `http://127.0.0.1:${running.server.port}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/_moat/`, { timeout: 10_000 });
    await page.locator('#login-user').waitFor({ state: 'visible', timeout: 5000 });
    await page.fill('#login-user', 'operator');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.locator('a[data-page="audit"]').waitFor({ state: 'visible', timeout: 5000 });
    const started: number[] = [], shown: number[] = [], pageLoad: number[] = [], serverMs: number[] = [];
    for (let rep = 0; rep < o.repetitions; rep++) {
      await page.goto('about:blank');
      await page.goto(`${base}/_moat/#/audit`, { timeout: 10_000 });
      await page.waitForSelector('#run-check:not([disabled])', { timeout: 10_000 });
      await page.selectOption('#check-probe', PROBE);
      await page.selectOption('#check-route', ROUTE);
      pageLoad.push(await page.evaluate(`(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; })()`) as number);
      for (let i = 0; i < o.interactions; i++) {
        await page.waitForSelector('#run-check:not([disabled])', { timeout: 10_000 });
        const t = await page.evaluate(CLICK) as { started: number; shown: number };
        started.push(t.started); shown.push(t.shown); serverMs.push(audit.lastCheck()?.durationMs ?? NaN);
      }
      const s = percentiles(started.slice(-o.interactions)), w = percentiles(shown.slice(-o.interactions));
      progress(`dashboard: repetition ${rep + 1}/${o.repetitions}: page load ${pageLoad[rep].toFixed(0)} ms; run accepted mean ${s.mean.toFixed(1)} ms [${s.min.toFixed(0)}–${s.max.toFixed(0)}], report shown mean ${w.mean.toFixed(0)} ms [${w.min.toFixed(0)}–${w.max.toFixed(0)}]`);
    }
    return {
      interactions: o.interactions, repetitions: o.repetitions, probe: PROBE, requestsPerRun: audit.lastCheck()?.requests ?? 0,
      interaction: `audit page, check form: probe ${PROBE} on route ${ROUTE}, "Run check"`,
      started: percentiles(started), shown: percentiles(shown), pageLoad: percentiles(pageLoad), serverRun: percentiles(serverMs), paper: PAPER,
      samples: { started, shown, pageLoad, serverRun: serverMs },
    };
  } finally {
    await browser.close();
    await running.close(300);
    rmSync(dir, { recursive: true, force: true });
  }
}
