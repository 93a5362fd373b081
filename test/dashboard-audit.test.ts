// The dashboard as `moat serve` wires it (host/serve.ts: the real AuditService, a real operation
// log file), in chromium: an operator runs a quick audit from the audit page, and the findings
// table shows exactly the findings of the JSON report the API serves; the run is in the oplog,
// whose hash chain verifies.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './helpers/chromium.ts';
import { validateConfig } from '../host/config.ts';
import { startFromConfig, type Running } from '../host/serve.ts';
import { verifyOpLog } from '../host/oplog.ts';
import { makeAccounts, PASSWORD, type Accounts } from './helpers/dashboard.ts';

let acc: Accounts;
let running: Running;
let browser: Browser;
let base: string;
let oplogFile: string;
let dir: string;

beforeAll(async () => {
  acc = await makeAccounts();
  dir = mkdtempSync(join(tmpdir(), 'moat-dash-audit-'));
  oplogFile = join(dir, 'oplog.jsonl');
  // A config with real findings: credentialed CORS for any origin through web.headers.
  const cfg = validateConfig({
    web: {
      listen: ['http://127.0.0.1:0'],
      headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Credentials': 'true' },
      timeouts: { parse: '1 sec' },
      routes: [
        { match: '/auth/login', methods: ['POST'], handler: 'login' },
        { match: '/auth/logout', methods: ['POST'], handler: 'logout' },
        { match: '/auth/session', methods: ['GET'], handler: 'session' },
        { match: '/api/status', methods: ['GET'], handler: 'status' },
        { match: '/_moat/api/', methods: ['GET', 'HEAD', 'POST'], handler: 'dashboard-api', role: 'viewer' },
        { match: '/_moat/', methods: ['GET', 'HEAD'], handler: 'dashboard-ui' },
      ],
    },
    auth: { users: acc.file },
    log: { access: { path: null }, error: { path: null }, security: { path: null }, operations: { path: oplogFile } },
    moat: { audit: { schedule: false, state: null } },
  }, { baseDir: dir });
  running = await startFromConfig(cfg);
  base = `http://127.0.0.1:${running.server.port}`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await running?.close(500);
  for (const d of [acc?.dir, dir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('audit from the dashboard (real AuditService)', () => {
  it('an operator runs a quick audit; the findings table matches the JSON report; the oplog records the run', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${base}/_moat/`, { timeout: 10_000 });
    await page.fill('#login-user', 'operator');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.locator('#nav').waitFor({ state: 'visible', timeout: 5000 });
    await page.click('#nav a[data-page="audit"]', { timeout: 5000 });
    await page.locator('#page-audit').waitFor({ timeout: 5000 });
    await page.click('#run-quick');
    await expect.poll(() => page.textContent('#audit-status'), { timeout: 30_000, interval: 250 }).toBe('The quick audit finished.');
    await page.locator('#findings').waitFor({ timeout: 5000 });

    // The table's rows (not the detail rows) against the report.
    const rows = await page.locator('#findings tbody tr:not(.more)').evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.children, (c) => (c.textContent ?? '').trim())));
    const report = await page.evaluate(async () => (await (await fetch('/_moat/api/audit/report?format=json')).json()) as { findings: { severity: string; title: string; target: string; status: string }[] });
    expect(report.findings.length).toBeGreaterThan(0);
    expect(report.findings.some((f) => f.title.toLowerCase().includes('cors') || f.target.includes('Access-Control'))).toBe(true);
    const fromTable = rows.map(([sev, title, target, status]) => [sev.replace(/[^a-z]/g, ''), title, target, status]).sort();
    const fromReport = report.findings.map((f) => [f.severity, f.title, f.target, f.status]).sort();
    expect(fromTable).toEqual(fromReport);

    // A targeted check from the same page: one probe class on one route.
    const gradeBefore = await page.textContent('#grade');
    await page.selectOption('#check-probe', 'cors');
    await page.selectOption('#check-route', '/api/status');
    await page.click('#run-check');
    await expect.poll(() => page.textContent('#audit-status'), { timeout: 30_000, interval: 100 }).toBe('The check finished.');
    await page.locator('#check-findings').waitFor({ timeout: 5000 });
    const checkRows = await page.locator('#check-findings tbody tr').evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.children, (c) => (c.textContent ?? '').trim())));
    const view = await page.evaluate(async () => (await (await fetch('/_moat/api/audit')).json()) as { check: { scope: unknown; findings: { severity: string; title: string; target: string; status: string; probe: string }[] } });
    expect(view.check.scope).toEqual({ probes: ['cors'], routes: ['/api/status'] });
    expect(view.check.findings.length).toBeGreaterThan(0);
    expect(view.check.findings.every((f) => f.probe === 'cors')).toBe(true);
    expect(checkRows.map(([sev, title, target, status]) => [sev.replace(/[^a-z]/g, ''), title, target, status]).sort())
      .toEqual(view.check.findings.map((f) => [f.severity, f.title, f.target, f.status]).sort());
    expect(await page.textContent('#check-summary')).toMatch(/^cors on \/api\/status: \d+ findings?/);
    expect(await page.textContent('#grade')).toBe(gradeBefore);     // a check never replaces the whole run's report

    const v = verifyOpLog(oplogFile);
    expect(v.ok).toBe(true);
    const text = readFileSync(oplogFile, 'utf8');
    expect(text).toMatch(/"actor":"operator".*"action":"audit\.run"|"action":"audit\.run".*"actor":"operator"/);
    expect(text).toContain('"target":"quick cors /api/status"');
    await ctx.close();
  }, 60_000);
});
