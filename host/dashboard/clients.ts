// The defense's client table as an operator reads it, and lifting a ban.
import { isIP } from 'node:net';
import type { AppReply } from '../types.ts';
import type { MoatConfig } from '../types.ts';
import type { MoatServerLike } from './deps.ts';
import { readBody, type Call } from './context.ts';
import { moduleRules } from '../config.ts';
import { describeRule } from '../defense.ts';
import { problem, reply, text } from './reply.ts';

// The module's clock (host/server.ts nowMs): u32 milliseconds from the same monotonic source.
const moduleNow = () => Number(process.hrtime.bigint() / 1_000_000n) >>> 0;

export function listClients(server: MoatServerLike, cfg: MoatConfig): AppReply {
  const rules = moduleRules(cfg).map((r, i) => describeRule(r, i));
  const now = moduleNow();
  const clients = server.clients().map((c) => ({
    address: c.address || null,
    idleMs: (now - c.lastSeen) >>> 0,
    offenses: c.offenses,
    banned: c.bannedMs > 0, bannedMs: c.bannedMs,
    delayed: c.delayedMs > 0, delayedMs: c.delayedMs,
    counts: c.counts.map((n, i) => ({ rule: rules[i] ?? `rule ${i}`, current: n.current, previous: n.previous })),
  }));
  clients.sort((a, b) => Number(b.banned) - Number(a.banned) || Number(b.delayed) - Number(a.delayed) || a.idleMs - b.idleMs);
  return reply(200, { clients, rules });
}

export async function unban(call: Call, server: MoatServerLike): Promise<AppReply> {
  const got = await readBody(call, 'client.unban');
  if (!got.ok) return got.reply;
  const address = text(got.body, 'address', 64);
  if (!address || !isIP(address)) {
    call.record('client.unban', 'failed', address ?? undefined, { reason: 'bad address' });
    return problem(400, 'expected {"address": "<IP address>"}');
  }
  const lifted = server.unban(address);
  call.record('client.unban', 'ok', address, { lifted });
  return reply(200, { address, lifted });
}
