// Accounts from the users file: names, kinds, roles and states, never a hash or token digest. The
// file is loaded afresh for every call, so a change made with `moat user` is seen at once and a
// failed save never leaves half-applied changes in memory; the running server re-reads the file
// when it changes, so a revocation here refuses the credential on its next request.
import type { AppReply } from '../types.ts';
import { UserStore, UserStoreError, nameProblem } from '../auth/users.ts';
import { readBody, type Call } from './context.ts';
import { problem, reply, text } from './reply.ts';

export function listAccounts(file: string): AppReply {
  try {
    return reply(200, { accounts: UserStore.load(file).list() });
  } catch (e) {
    return problem(500, e instanceof UserStoreError ? e.message : 'cannot read the users file');
  }
}

export async function changeAccount(call: Call, file: string, change: 'revoke' | 'rotate'): Promise<AppReply> {
  const action = `credential.${change}`;
  const got = await readBody(call, action);
  if (!got.ok) return got.reply;
  const name = text(got.body, 'name', 64);
  if (!name || nameProblem(name)) {
    call.record(action, 'failed', name ?? undefined, { reason: 'bad name' });
    return problem(400, 'expected {"name": "<account name>"}');
  }
  // Revoking yourself would end this very session with no one left to notice the mistake.
  if (change === 'revoke' && name === call.caller.name) {
    call.record(action, 'failed', name, { reason: 'own account' });
    return problem(409, 'you cannot revoke your own account');
  }
  try {
    const store = UserStore.load(file);
    if (change === 'revoke') {
      const revoked = store.revoke(name);
      store.save();
      call.record(action, 'ok', name, { changed: revoked });
      return reply(200, { name, revoked: true, changed: revoked });
    }
    const token = store.rotateDevice(name);
    store.save();
    call.record(action, 'ok', name);
    // The only time this token exists in clear: the reply is never cached and never logged.
    return reply(200, { name, token });
  } catch (e) {
    const known = e instanceof UserStoreError;
    call.record(action, 'failed', name, { reason: known ? e.message : 'error' });
    return problem(known ? 400 : 500, known ? e.message : 'cannot change the users file');
  }
}
