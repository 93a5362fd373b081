// Connection caps: web.limits.clientConnections + 1 connections from one loopback address — the
// extra one must be refused — while a request from another loopback address is still served (one
// greedy client must not lock everybody out).
import net from 'node:net';
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { buildRequest, exchangeRaw } from '../http.ts';
import { evidence } from '../evidence.ts';

export const OTHER_CLIENT_ADDRESS = '127.0.0.2';
const MAX_HELD = 64;

function open(ctx: ProbeContext): Promise<{ socket: net.Socket; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const socket = net.connect({ host: ctx.http.host, port: ctx.http.port });
    socket.on('close', () => { closed = true; });
    socket.on('end', () => { closed = true; });
    socket.on('error', () => { closed = true; });
    const t = setTimeout(() => { socket.destroy(); reject(new Error('connect timeout')); }, 3000);
    socket.once('connect', () => { clearTimeout(t); resolve({ socket, closed: () => closed }); });
    socket.once('error', (e) => { clearTimeout(t); reject(e); });
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until the server has released the held slots and serves this address again. */
async function settle(ctx: ProbeContext): Promise<void> {
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    await pause(10);
    if (!(await ctx.spend(1).then(() => true, () => false))) return;   // out of budget: nothing follows anyway
    const x = await exchangeRaw(ctx.http, buildRequest({ method: 'GET', target: '/' }, ctx.http, ctx.token), { expect: 1, waitMs: 500 });
    if (x.responses.length) return;
  }
}

export const connections: Probe = {
  id: 'connection-caps', class: 'connections', cwe: 770, severity: 'medium', profiles: ['quick', 'full'],
  title: 'Per-client connection cap',
  help: 'One client must not be able to hold more than web.limits.clientConnections connections, and others must still be served.',
  targets: () => ['web.limits.clientConnections'],
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const cap = ctx.config.web.limits.clientConnections, total = ctx.config.web.limits.connections;
    const key = 'web.limits.clientConnections';
    // The audit never holds more than half the device's connections, so other clients keep theirs.
    if (cap === 0 || cap + 2 > total / 2 || cap >= MAX_HELD) {
      ctx.note(`connection caps: not measured (clientConnections ${cap}, connections ${total}: holding cap + 1 would take ${cap >= MAX_HELD ? 'too many sockets for an audit' : 'more than half of web.limits.connections'})`);
      return out;
    }
    await ctx.spend(cap + 2);
    const held: { socket: net.Socket; closed: () => boolean }[] = [];
    try {
      // Earlier probes' sockets are closed by the time they resolve; a few ms lets the shadow see
      // the close. One still held only makes a connection of ours the refused one: no false alarm.
      await pause(20);
      for (let i = 0; i < cap; i++) held.push(await open(ctx));
      const extra = await open(ctx).catch(() => null);
      if (extra) held.push(extra);
      // A refused connection is closed at accept; poll finely (a quick run waits on this), and give
      // a loaded machine up to 1.5 s to get there.
      for (let waited = 0; extra && !extra.closed() && waited < 1500; waited += 5) await pause(5);
      const refusedEarly = held.slice(0, cap).filter((h) => h.closed()).length;
      const extraRefused = !extra || extra.closed();
      const other = await exchangeRaw(ctx.http, buildRequest({ method: 'GET', target: '/' }, ctx.http, ctx.token), { localAddress: OTHER_CLIENT_ADDRESS, expect: 1, waitMs: 2000 });
      if (!extraRefused && refusedEarly === 0) {
        out.push(ctx.finding(this, {
          confidence: 'high', target: key, kind: 'cap-not-enforced',
          title: `Per-client connection cap not enforced (${cap + 1} connections held)`,
          expected: `connection ${cap + 1} from one address closed at once`,
          observed: `all ${cap + 1} connections stayed open for 1.5 s`,
          evidence: evidence(`${cap + 1} sockets from 127.0.0.1 open, ${refusedEarly} closed`),
          recommendation: 'set web.limits.clientConnections (default 10) and check the module enforces it at accept',
        }));
      }
      if (other.error && /EADDRNOTAVAIL|bind/i.test(other.error)) {
        ctx.note(`connection caps: ${OTHER_CLIENT_ADDRESS} is not usable as a source address here; other clients not checked`);
      } else if (!other.responses.length) {
        out.push(ctx.finding(this, {
          confidence: 'medium', target: key, kind: 'others-starved',
          title: 'Another client is not served while one client holds its connection cap',
          expected: `a request from ${OTHER_CLIENT_ADDRESS} answered`,
          observed: other.error ?? `no answer (${other.closed ? 'closed' : 'timeout'})`,
          evidence: evidence(other.raw.toString('latin1') || '(nothing received)'),
          recommendation: 'keep web.limits.clientConnections well below web.limits.connections',
        }));
      }
    } finally {
      for (const h of held) h.socket.destroy();
      await settle(ctx);
    }
    return out;
  },
};
