// Path traversal against a sentinel: the audit writes a file with random content just outside the
// document root (the only file it ever reads back), asks for it through every GET route with
// dot-segments in their plain, encoded, double-encoded, overlong-UTF-8, backslash and NUL forms,
// and removes it afterwards. The content coming back is critical: any file could be read.
import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Finding, Probe, ProbeContext, RouteTarget } from '../types.ts';
import { authFields, around, bodyOf, enc, everyParam, pick } from './util.ts';
import { targetName } from '../targets.ts';
import { evidence } from '../evidence.ts';
import { SENTINEL_CONTENT, SENTINEL_FILE, sweepLeftovers } from '../leftovers.ts';

const PATH_FORMS: [string, (name: string) => string, boolean][] = [
  ['plain', (n) => `../${n}`, true],
  ['encoded-dots', (n) => `%2e%2e/${n}`, true],
  ['encoded-slash', (n) => `..%2f${n}`, true],
  ['double-encoded', (n) => `%252e%252e%252f${n}`, true],
  ['overlong-utf8', (n) => `%c0%ae%c0%ae/${n}`, true],
  ['encoded-backslash', (n) => `..%5c${n}`, true],
  ['nul', (n) => `../${n}%00.html`, false],
  ['backslash', (n) => `..\\${n}`, false],
  ['dot-dot-slash-twice', (n) => `....//${n}`, false],
];
const PARAM_FORMS: [string, (name: string, abs: string) => string, boolean][] = [
  ['param-plain', (n) => `../${n}`, true],
  ['param-absolute', (_, abs) => abs, true],
  ['param-backslash', (n) => `..\\${n}`, false],
  ['param-encoded', (n) => `%2e%2e%2f${n}`, false],
  ['param-nul', (n) => `../${n}\0.txt`, false],
];

interface Sentinel { dir: string; name: string; content: string; file: string; temp: boolean }

function place(ctx: ProbeContext): Sentinel | null {
  const name = `moat-audit-sentinel-${ctx.nonce(6)}.txt`, content = `moat-sentinel-${randomBytes(16).toString('hex')}`;
  const docs = ctx.config.web.documents;
  if (docs) {
    const stale = sweepLeftovers(dirname(docs), SENTINEL_FILE, { content: SENTINEL_CONTENT });
    if (stale.length) ctx.note(`path traversal: removed ${stale.length} sentinel file(s) an interrupted run left in ${dirname(docs)}`);
  } else sweepLeftovers(tmpdir(), /^moat-audit-sentinel-/);
  const dir = docs ? dirname(docs) : mkdtempSync(join(tmpdir(), 'moat-audit-sentinel-'));
  const file = join(dir, name);
  try {
    writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    ctx.note(`path traversal: could not place the sentinel in ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); traversal not tested`);
    if (!docs) rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return { dir, name, content, file, temp: !docs };
}

function withPath(r: RouteTarget, rest: string): string {
  return (r.path.endsWith('/') ? r.path : r.path + '/') + rest;
}

export const traversal: Probe = {
  id: 'path-traversal', class: 'path-traversal', cwe: 22, severity: 'critical', profiles: ['quick', 'full'],
  title: 'Path traversal out of the document root',
  help: 'A request path or parameter reaches a file outside the folder it should be confined to.',
  targets: (ctx) => [...ctx.routes.filter((r) => r.route.handler === 'file'), ...pick(ctx).filter((r) => r.route.handler !== 'file')].map((r) => targetName('GET', r.path)),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const full = ctx.profile === 'full';
    const fileRoutes = ctx.routes.filter((r) => r.get && r.route.handler === 'file');
    const paramRoutes = pick(ctx).filter((r) => r.route.handler !== 'file');
    if (!fileRoutes.length && !paramRoutes.length) return [];
    const s = place(ctx);
    if (!s) return [];
    const out: Finding[] = [];
    const hit = (r: RouteTarget, form: string, sent: string, body: string, status: number) => out.push(ctx.finding(this, {
      confidence: 'high', target: targetName('GET', r.path), kind: form.startsWith('param') ? 'param' : 'path',
      title: `Path traversal: a file outside the document root is served (${form})`,
      expected: '400 or 404 for any path leaving the document root',
      observed: `the sentinel's random content came back (status ${status}) for ${sent.replace(s.name, '<sentinel>')}`,
      evidence: evidence(`GET ${sent.replace(s.name, '<sentinel>')}\n...${around(body, s.content, 40).replace(s.content, '<sentinel content>')}`),
      recommendation: r.route.handler === 'file'
        ? 'the static handler must refuse dot-segments in every encoding (host/static.ts parsePath); check web.documents has no symlink out'
        : `resolve the requested name inside a fixed folder and refuse anything whose real path leaves it, in the "${r.route.handler}" handler`,
    }));
    try {
      for (const r of fileRoutes) {
        for (const [form, make, quick] of PATH_FORMS) {
          if (!quick && !full) continue;
          const target = withPath(r, make(s.name));
          const got = await ctx.request({ method: 'GET', target, headers: authFields(ctx, r) });
          if (bodyOf(got.res).includes(s.content)) { hit(r, form, target, bodyOf(got.res), got.res!.status); break; }
        }
      }
      for (const r of paramRoutes) {
        for (const [form, make, quick] of PARAM_FORMS) {
          if (!quick && !full) continue;
          const target = `${r.path}?${everyParam(make(s.name, s.file))}`;
          const got = await ctx.request({ method: 'GET', target, headers: authFields(ctx, r) });
          if (bodyOf(got.res).includes(s.content)) { hit(r, form, `${r.path}?file=${enc(make(s.name, '<abs>'))}`, bodyOf(got.res), got.res!.status); break; }
        }
      }
    } finally {
      rmSync(s.temp ? s.dir : s.file, { recursive: true, force: true });
    }
    return out;
  },
};
