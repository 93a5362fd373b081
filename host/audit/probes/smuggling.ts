// Request smuggling: ambiguous framing (CL+TE, TE+CL, duplicate Content-Length, a coding after
// chunked, Transfer-Encoding disguised by whitespace or obs-fold, bare LF or CR line ends, an
// oversize chunk size), each followed on the same connection by a pipelined canary request. The
// expected answer is one 400/501 and a close; a canary that still gets answered means the server
// and any proxy in front of it could disagree on where requests end.
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { hostOf } from '../http.ts';
import { evidence } from '../evidence.ts';

type Variant = [id: string, quick: boolean, build: (host: string, tok: string) => string];

const VARIANTS: Variant[] = [
  ['cl-te', true, (h, t) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['te-cl', true, (h, t) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`],
  ['duplicate-cl', true, (h, t) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nContent-Length: 0\r\nContent-Length: 7\r\n\r\n`],
  ['te-chunked-identity', true, (h, t) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`],
  ['bare-lf', true, (h, t) => `GET / HTTP/1.1\nHost: ${h}\nX-Moat-Audit: ${t}\n\n`],
  ['te-space-before-colon', false, (h, t) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n`],
  ['te-obs-fold', false, (h, t) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`],
  ['te-tab-value', false, (h, t) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nTransfer-Encoding:\tchunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`],
  ['bare-cr', false, (h, t) => `GET / HTTP/1.1\rHost: ${h}\r\nX-Moat-Audit: ${t}\r\n\r\n`],
  ['oversize-chunk', false, (h, t) => `POST / HTTP/1.1\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nx\r\n0\r\n\r\n`],
  ['http10-te', false, (h, t) => `POST / HTTP/1.0\r\nHost: ${h}\r\nX-Moat-Audit: ${t}\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n`],
];

/** The target a variant is reported under: the request it sent, and its framing trick. */
const framing = (id: string) => `${/^bare/.test(id) ? 'GET' : 'POST'} / [${id}]`;

export const smuggling: Probe = {
  id: 'request-smuggling', class: 'smuggling', cwe: 444, severity: 'high', profiles: ['quick', 'full'],
  title: 'Request smuggling / desync',
  help: 'Ambiguous message framing is accepted, so a pipelined request can be hidden in another.',
  targets: (ctx) => VARIANTS.filter((v) => v[1] || ctx.profile === 'full').map((v) => framing(v[0])),
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const host = hostOf(ctx.http);
    for (const [id, quick, build] of VARIANTS) {
      if (!quick && ctx.profile !== 'full') continue;
      const n = ctx.nonce(6);
      const canary = `GET /?moat-canary=${n} HTTP/1.1\r\nHost: ${host}\r\nX-Moat-Audit: ${ctx.token}\r\nConnection: close\r\n\r\n`;
      const x = await ctx.raw(build(host, ctx.token) + canary, { count: 2, waitMs: 3000 });
      if (x.error) continue;
      const first = x.responses[0];
      const target = framing(id);
      const shown = evidence(x.raw.toString('latin1').slice(0, 400), [ctx.token]);
      if (x.responses.length >= 2) {
        out.push(ctx.finding(this, {
          severity: 'high', confidence: 'high', target, kind: 'canary-answered',
          title: `Request smuggling: the pipelined canary was answered after ${id} framing`,
          expected: '400 (or 501) and the connection closed; nothing after it is read',
          observed: `${x.responses.length} responses (${x.responses.map((r) => r.status).join(', ')}) on one connection`,
          evidence: shown,
          recommendation: 'keep the module\'s strict framing (no option relaxes it); a proxy in front must normalise or refuse the same messages',
        }));
      } else if (first && first.status < 400) {
        out.push(ctx.finding(this, {
          severity: 'medium', confidence: 'medium', target, kind: 'ambiguous-accepted',
          title: `Ambiguous framing accepted (${id})`,
          expected: '400 (or 501) and close',
          observed: `status ${first.status}${x.closed ? ', then closed' : ''}`,
          evidence: shown,
          recommendation: 'the module must refuse this framing; report it as a parser bug',
        }));
      } else if (!first && !x.closed) {
        out.push(ctx.finding(this, {
          severity: 'medium', confidence: 'medium', target, kind: 'no-refusal',
          title: `Ambiguous framing neither answered nor closed (${id})`,
          expected: '400 (or 501) and close',
          observed: `no answer and the connection still open after ${x.ms} ms`,
          evidence: shown,
          recommendation: 'the module must refuse this framing at once; report it as a parser bug',
        }));
      }
    }
    return out;
  },
};
