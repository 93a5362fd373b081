// The demo site in a real browser (Debian chromium through playwright-core): it renders, its
// stylesheet loads under the module's default Content-Security-Policy, and no console error or
// CSP violation appears.
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './helpers/chromium.ts';
import { loadConfig } from '../host/config.ts';
import { startFromConfig, type Running } from '../host/serve.ts';

let running: Running;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const cfg = loadConfig();
  cfg.web.listen = [{ scheme: 'http', host: '127.0.0.1', port: 0 }];
  cfg.log = { access: { path: null, format: 'common' }, error: { path: null, level: 'error' }, security: { path: null } };
  running = await startFromConfig(cfg);
  base = `http://127.0.0.1:${running.server.port}`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await running?.close(500);
});

describe('demo site in chromium', () => {
  it('renders the page with its stylesheet and no console errors', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    const res = await page.goto(base + '/', { timeout: 15_000 });
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toBe("default-src 'self'");
    expect(await page.title()).toBe('Moat demo device');
    await expect(page.locator('h1').textContent()).resolves.toContain('Moat demo device');
    // The stylesheet applied: style.css sets body margin 0 where the browser default is 8px.
    const margin = await page.locator('body').evaluate((el) => getComputedStyle(el).marginTop);
    expect(margin).toBe('0px');
    expect(problems).toEqual([]);
    await page.close();
  }, 30_000);

  it('follows the link to the status API and shows JSON', async () => {
    const page = await browser.newPage();
    await page.goto(base + '/', { timeout: 15_000 });
    await Promise.all([page.waitForURL('**/api/status', { timeout: 10_000 }), page.click('a[href="/api/status"]')]);
    const text = await page.locator('body').textContent();
    expect(JSON.parse(text ?? '')).toMatchObject({ device: 'moat-demo', ok: true });
    await page.close();
  }, 30_000);
});
