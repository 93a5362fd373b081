// Oversize limits, configured vs observed: a request just over each web.limits size must get its
// status (414 URI, 431 fields, 413 body) and a close, without the server reading the rest (bodies
// are announced by Content-Length and never sent).
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { hostOf } from '../http.ts';
import { evidence } from '../evidence.ts';

interface Case { key: string; status: number; quick: boolean; build(h: string, t: string, limit: number): string }

const OVER = 16;
const CASES: Case[] = [
  { key: 'uri', status: 414, quick: true, build: (h, t, n) => `GET /?${'a'.repeat(n + OVER)} HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\n\r\n` },
  { key: 'header', status: 431, quick: true, build: (h, t, n) => `GET / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nX-Pad: ${'a'.repeat(n + OVER)}\r\n\r\n` },
  { key: 'headers', status: 431, quick: true, build: (h, t, n) => `GET / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\n${Array.from({ length: n + 1 }, (_, i) => `X-N${i}: 1\r\n`).join('')}\r\n` },
  { key: 'body', status: 413, quick: true, build: (h, t, n) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${n + 1}\r\n\r\n` },
  { key: 'form', status: 413, quick: false, build: (h, t, n) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${n + 1}\r\n\r\n` },
  { key: 'upload', status: 413, quick: false, build: (h, t, n) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nContent-Type: multipart/form-data; boundary=moat\r\nContent-Length: ${n + 1}\r\n\r\n` },
  { key: 'chunkExt', status: 413, quick: false, build: (h, t, n) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nTransfer-Encoding: chunked\r\n\r\n1;e=${'a'.repeat(n + OVER)}\r\nx\r\n0\r\n\r\n` },
];

export const limits: Probe = {
  id: 'oversize-limits', class: 'limits', cwe: 770, severity: 'medium', profiles: ['quick', 'full'],
  title: 'Size limits enforced as configured',
  help: 'A request just over a configured size limit must be refused with the right status and the connection closed.',
  targets: (ctx) => CASES.filter((c) => c.quick || ctx.profile === 'full').map((c) => `web.limits.${c.key}`),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const host = hostOf(ctx.http);
    const l = ctx.config.web.limits as unknown as Record<string, number>;
    for (const c of CASES) {
      if (!c.quick && ctx.profile !== 'full') continue;
      const limit = l[c.key];
      if (!Number.isFinite(limit) || limit > 16 * 1024 * 1024 * 1024) continue;
      const x = await ctx.raw(c.build(host, ctx.token, limit), { waitMs: 2500 });
      if (x.error) continue;
      const first = x.responses[0];
      const key = `web.limits.${c.key}`;
      const quietClose = !first && x.closed && ctx.config.moat.stealth;
      if (quietClose) continue;
      if (!first || first.status !== c.status) {
        out.push(ctx.finding(this, {
          confidence: 'high', target: key, kind: 'wrong-status',
          title: `Limit ${key} (${limit}) not enforced as configured`,
          expected: `${c.status} just over ${limit}, then close`,
          observed: first ? `status ${first.status}` : `no answer (${x.closed ? 'closed' : 'still open'} after ${x.ms} ms)`,
          evidence: evidence(x.raw.toString('latin1').slice(0, 300)),
          recommendation: `check ${key} in the config and that the module build matches it (moat config check)`,
        }));
      } else if (!x.closed) {
        out.push(ctx.finding(this, {
          severity: 'low', confidence: 'medium', target: key, kind: 'kept-open',
          title: `Connection kept open after ${c.status} for ${key}`,
          expected: `${c.status} then close (the server stops reading)`,
          observed: `still open after ${x.ms} ms`,
          evidence: evidence(first.head),
          recommendation: 'refusals for size limits must close the connection; report it as a host bug',
        }));
      }
    }
    return out;
  },
};
