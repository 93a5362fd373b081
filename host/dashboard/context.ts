// One API call as the endpoint functions see it: who calls, what they asked, and the operation log
// every state change and every refusal is written to.
import type { AppReply, AppRequest, Caller } from '../types.ts';
import type { OpEntryLike, OpLogLike } from './deps.ts';
import { roleAtLeast, type Role } from '../auth/roles.ts';
import { BadBody, problem, readObject } from './reply.ts';

export interface Call {
  req: AppRequest;
  caller: Caller;
  params: URLSearchParams;
  /** Appends to the operation log (when there is one) for this caller. */
  record(action: string, outcome: OpEntryLike['outcome'], target?: string, detail?: OpEntryLike['detail']): void;
  /** null when the caller holds `need`; else the 403 to send, already recorded as denied. */
  deny(need: Role, action: string, target?: string): AppReply | null;
}

export function makeCall(req: AppRequest, caller: Caller, oplog: OpLogLike | null, onLogError: (e: unknown) => void): Call {
  const record: Call['record'] = (action, outcome, target, detail) => {
    if (!oplog) return;
    const entry: OpEntryLike = { actor: caller.name, role: caller.role, action, outcome, client: req.client.address };
    if (target !== undefined) entry.target = target;
    if (detail !== undefined) entry.detail = detail;
    try {
      const r = oplog.append(entry);
      if (r instanceof Promise) r.catch(onLogError);
    } catch (e) {
      onLogError(e);
    }
  };
  return {
    req, caller, record,
    params: new URLSearchParams(req.query),
    deny(need, action, target) {
      if (roleAtLeast(caller.role, need)) return null;
      record(action, 'denied', target, { need });
      return problem(403, 'forbidden');
    },
  };
}

/** The JSON object body, or the refusal to send (recorded as a failed `action`). */
export async function readBody(call: Call, action: string): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; reply: AppReply }> {
  try {
    return { ok: true, body: await readObject(call.req) };
  } catch (e) {
    if (!(e instanceof BadBody)) throw e;
    call.record(action, 'failed', undefined, { reason: e.message });
    return { ok: false, reply: problem(e.status, e.message) };
  }
}
