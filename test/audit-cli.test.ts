// `moat audit` as a user runs it: a child process on config files in a temp folder, exit codes for
// --fail-on, the three formats, the state file beside the config, usage and config errors.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configText } from './helpers/raw-http.ts';

const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));

let dir: string;
let mutated: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'moat-audit-cli-'));
  // Two medium findings (CORS * with credentials, a lax parse timeout, which is also not waited
  // out, so the run stays short) and two low ones (no https, unknown Host served).
  mutated = join(dir, 'mutated.json5');
  writeFileSync(mutated, configText(`headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Credentials': 'true' }, timeouts: { parse: '60 secs' }`));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function moat(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MOAT, 'audit', ...args], { cwd: dir });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 40_000);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}

describe('moat audit', () => {
  it('exits 3 when a finding is at or above --fail-on, and prints the text table', async () => {
    const r = await moat('--config', mutated, '--fail-on', 'medium', '--state', join(dir, 'a.state.json'));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/grade C/);
    expect(r.stdout).toMatch(/\nMEDIUM \(2\)/);
    expect(r.stdout).toMatch(/web\.timeouts\.parse/);
    expect(r.stdout).toMatch(/web\.headers/);
  }, 45_000);

  it('exits 0 when nothing reaches --fail-on; SARIF to --out; state beside the config by default', async () => {
    const out = join(dir, 'report.sarif');
    const state = `${mutated}.audit-state.json`;
    const r = await moat('--config', mutated, '--fail-on', 'high', '--format', 'sarif', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const s = JSON.parse(readFileSync(out, 'utf8'));
    expect(s.version).toBe('2.1.0');
    expect(s.runs[0].tool.driver.name).toBe('moat-audit');
    const rules = new Set(s.runs[0].tool.driver.rules.map((x: { id: string }) => x.id));
    expect(s.runs[0].results.length).toBe(3);
    for (const res of s.runs[0].results) expect(rules.has(res.ruleId)).toBe(true);
    expect(existsSync(state)).toBe(true);

    const again = await moat('--config', mutated, '--fail-on', 'none', '--format', 'json');
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(report.findings.map((f: { status: string }) => f.status)).toEqual(['open', 'open', 'open']);
    expect(report.profile).toBe('quick');
  }, 60_000);

  it('exits 1 when the audit cannot run and 2 on usage errors', async () => {
    const bad = join(dir, 'bad.json5');
    writeFileSync(bad, '{ web: { limits: { uri: "lots" } } }');
    const r1 = await moat('--config', bad);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/web\.limits\.uri/);
    const r2 = await moat('--profile', 'slow');
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--profile/);
    const r3 = await moat('--fail-on', 'sometimes');
    expect(r3.code).toBe(2);
    const r4 = await moat('--bogus');
    expect(r4.code).toBe(2);
    const help = await moat('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--fail-on/);
  }, 45_000);
});
