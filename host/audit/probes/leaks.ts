// Information leaks in answers, error answers above all: stack traces, file system paths,
// framework or version banners in the body, Server / X-Powered-By headers.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import type { ParsedResponse } from '../http.ts';
import { hostOf } from '../http.ts';
import { authFields, around, bodyOf, pick } from './util.ts';
import { targetName } from '../targets.ts';
import { evidence } from '../evidence.ts';

const STACK = /(?:^|\n)\s*at [^\n]{0,200}?\(?(?:file:\/\/|node:|\/)[^\n)]*:\d+:\d+\)?/;
const PATH = /(?:\/(?:home|usr|var|opt|srv|root|tmp|etc|app|work)\/[\w.@-]+(?:\/[\w.@-]+)+|[A-Z]:\\(?:[\w.-]+\\)+[\w.-]+)/;
const BANNER = /\b(?:Express|Koa|Fastify|nginx\/\d[\d.]*|Apache\/\d[\d.]*|Node\.js v?\d+[\d.]*|node\/v?\d+[\d.]*|PHP\/\d[\d.]*|Werkzeug\/\d[\d.]*)/;

interface Seen { target: string; res: ParsedResponse }

export const leaks: Probe = {
  id: 'info-leak', class: 'info-leak', cwe: 209, severity: 'medium', profiles: ['quick', 'full'],
  title: 'Information leaks in answers and error answers',
  help: 'Answers must not reveal stack traces, file paths or software versions.',
  targets: (ctx) => ['error answers', ...pick(ctx).map((r) => targetName('GET', r.path))],
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const seen: Seen[] = [];
    const nf = await ctx.request({ method: 'GET', target: `/moat-audit-missing-${ctx.nonce(3)}` });
    if (nf.res) seen.push({ target: 'error answers', res: nf.res });
    const bad = await ctx.raw(`GET /%zz HTTP/1.1\r\nHost: ${hostOf(ctx.http)}\r\nX-Moat-Audit: ${ctx.token}\r\n\r\n`, { expect: 1, waitMs: 1500 });
    if (bad.responses[0]) seen.push({ target: 'error answers', res: bad.responses[0] });
    for (const r of pick(ctx)) {
      // Odd but valid values are what makes handlers fail; the full profile also reads the plain answer.
      for (const q of ctx.profile === 'full' ? [`?id=${ctx.nonce(2)}%ff&q=%c0`, ''] : [`?id=${ctx.nonce(2)}%ff&q=%c0`]) {
        const got = await ctx.request({ method: 'GET', target: r.path + q, headers: authFields(ctx, r) });
        if (got.res) seen.push({ target: targetName('GET', r.path), res: got.res });
      }
    }
    const add = (s: Seen, kind: string, severity: 'medium' | 'low', title: string, observed: string, ev: string, rec: string) => {
      if (out.some((f) => f.target === s.target && f.title === title)) return;
      out.push(ctx.finding(this, { severity, confidence: 'high', target: s.target, kind, title, expected: 'generic error bodies; no software banners', observed, evidence: evidence(ev), recommendation: rec, cwe: kind === 'banner-header' ? 200 : 209 }));
    };
    for (const s of seen) {
      const body = bodyOf(s.res);
      const stack = STACK.exec(body);
      if (stack) add(s, 'stack-trace', 'medium', 'A stack trace is sent to the client', `status ${s.res.status} body holds a stack frame`, around(body, stack[0].trim(), 150), 'log errors server-side and answer a generic body (routes.ts errorReply); never send err.stack');
      else {
        const path = PATH.exec(body);
        if (path) add(s, 'file-path', 'low', 'A server file path is sent to the client', `status ${s.res.status} body names ${path[0]}`, around(body, path[0], 100), 'answer errors without file names');
      }
      const banner = BANNER.exec(body);
      if (banner) add(s, 'banner-body', 'low', 'A software banner is sent in the body', `body names ${banner[0]}`, around(body, banner[0], 80), 'remove software names and versions from answers');
      for (const h of ['server', 'x-powered-by']) {
        const v = s.res.header(h);
        if (v) add(s, 'banner-header', 'low', `The ${h === 'server' ? 'Server' : 'X-Powered-By'} header names the software`, `${h}: ${v}`, `${h}: ${v}`, `remove the ${h} field (web.headers or the handler)`);
      }
    }
    return out;
  },
};
