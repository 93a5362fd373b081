// Credentials: the users file (missing, no admin, hashes made with weaker scrypt parameters than
// today's), default-looking passwords tried against the shadow's login, and a revoked credential
// that must no longer open anything (a throwaway device revoked in the shadow's copy of the file).
//
// Logins go to the shadow's login route, which the shadow marks a dry run: the handler is Moat's
// own, whose only state (sessions, the per-account throttle) lives in the shadow. Passwords are
// never reported, only that one matched.
import { readFileSync } from 'node:fs';
import type { Finding, Probe, ProbeContext } from '../types.ts';
import { hashParamsWeak, verifyPassword } from '../../auth/passwords.ts';
import { evidence } from '../evidence.ts';
import { loginRoute } from '../session.ts';

export const DEFAULT_PASSWORDS = ['admin', 'password', 'changeme', 'moat'];

interface Entry { name: string; kind: string; role: string; revoked: boolean; hash?: string }

function accounts(file: string, skip: (n: string) => boolean): Entry[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { users: Record<string, Omit<Entry, 'name'>> };
  return Object.entries(doc.users).filter(([n]) => !skip(n)).map(([name, a]) => ({ name, ...a }));
}

export const credentials: Probe = {
  id: 'credentials', class: 'credentials', cwe: 1393, severity: 'critical', profiles: ['quick', 'full'],
  title: 'Accounts and credentials',
  help: 'The users file must hold an admin with a strong, properly hashed password; revoked credentials must stop working.',
  targets: () => ['auth.users'],
  async run(ctx: ProbeContext): Promise<Finding[]> {
    const out: Finding[] = [];
    const a = ctx.accounts;
    const roleRoutes = ctx.routes.filter((r) => r.route.role);
    if (!a.liveUsers) {
      if (roleRoutes.length) {
        out.push(ctx.finding(this, {
          severity: 'info', confidence: 'high', target: 'auth.users', kind: 'no-users-file',
          title: 'No users file: role-bound routes answer 401 to everyone',
          expected: 'auth.users naming a users file with an admin',
          observed: `auth.users is null; ${roleRoutes.map((r) => r.route.match).join(', ')} unreachable`,
          evidence: 'auth.users: null',
          recommendation: "create one with `moat user add admin --role admin --file users.json` and set auth.users: './users.json'",
        }));
      }
    }
    if (!a.usersFile) return out;
    const throwaway = (n: string) => n.startsWith('moat-audit-');
    let list: Entry[] = [];
    try { list = accounts(a.usersFile, throwaway); } catch (e) { ctx.note(`credentials: users file unreadable (${(e as Error).message})`); }
    if (a.liveUsers && !list.some((e) => e.role === 'admin' && !e.revoked)) {
      out.push(ctx.finding(this, {
        severity: 'low', confidence: 'high', target: 'auth.users', kind: 'no-admin',
        title: 'No active admin account in the users file',
        expected: 'at least one active admin (someone can manage the device)',
        observed: `${list.length} accounts, none an active admin`,
        evidence: evidence(list.map((e) => `${e.name}: ${e.kind} ${e.role}${e.revoked ? ' revoked' : ''}`).join('\n') || '(empty)'),
        recommendation: '`moat user add NAME --role admin --file <auth.users>`',
      }));
    }
    for (const e of list.filter((x) => x.kind === 'user' && !x.revoked && x.hash && hashParamsWeak(x.hash))) {
      out.push(ctx.finding(this, {
        severity: 'medium', cwe: 916, confidence: 'high', target: `auth.users: ${e.name}`, kind: 'weak-hash',
        title: `Password hash of "${e.name}" uses weaker scrypt parameters than today's`,
        expected: 'scrypt N ≥ 16384, r ≥ 8, p ≥ 1, 16-byte salt, 32-byte key',
        observed: `stored parameters ${e.hash!.split('$').slice(1, 4).join('/')}`,
        evidence: evidence(`scrypt$${e.hash!.split('$').slice(1, 4).join('$')}$***`),
        recommendation: `\`moat user passwd ${e.name} --file <auth.users>\` re-hashes with the current parameters`,
      }));
    }
    // Default-looking passwords, admins first, a few accounts at most.
    const users = list.filter((x) => x.kind === 'user' && !x.revoked).sort((x, y) => (y.role === 'admin' ? 1 : 0) - (x.role === 'admin' ? 1 : 0)).slice(0, ctx.profile === 'full' ? 5 : 2);
    const login = loginRoute(ctx);
    for (const u of users) {
      const tries = [...DEFAULT_PASSWORDS, u.name];
      for (const pw of tries) {
        let ok = false;
        if (login) {
          const got = await ctx.request({ method: 'POST', target: login.path, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ user: u.name, password: pw }) });
          if (got.res?.status === 429) break;                // the per-account throttle: stop guessing
          ok = got.res?.status === 200;
        } else ok = await verifyPassword(pw, u.hash!);
        if (!ok) continue;
        out.push(ctx.finding(this, {
          severity: u.role === 'admin' ? 'critical' : 'high', confidence: 'high', target: `auth.users: ${u.name}`, kind: 'default-password',
          title: `Account "${u.name}" (${u.role}) has a default password`,
          expected: 'no account opens with a well-known password',
          observed: `login ${login ? 'succeeded' : 'hash matched'} with one of the ${tries.length} default passwords tried`,
          evidence: evidence(`POST ${login?.path ?? '(offline check)'} {"user":"${u.name}","password":"***"} → ${login ? '200' : 'match'}`),
          recommendation: `\`moat user passwd ${u.name} --file <auth.users>\` with a long passphrase`,
        }));
        break;
      }
    }
    // A revoked credential must be refused.
    if (a.revokedToken) {
      const r = roleRoutes.find((x) => x.get) ?? ctx.routes.find((x) => x.route.handler === 'session' && x.get);
      if (r) {
        const got = await ctx.request({ method: 'GET', target: r.path, headers: [['Authorization', `Bearer ${a.revokedToken}`]] });
        if (got.res && got.res.status < 400) {
          out.push(ctx.finding(this, {
            severity: 'critical', cwe: 613, confidence: 'high', target: `GET ${r.path}`, kind: 'revoked-accepted',
            title: 'A revoked device token is still accepted',
            expected: '401 for a revoked credential',
            observed: `status ${got.res.status}`,
            evidence: evidence(`GET ${r.path} Authorization: Bearer *** (revoked) → ${got.res.status}`, [a.revokedToken]),
            recommendation: 'revocation must take effect on the next request (host/auth/access.ts identify, host/auth/users.ts device)',
          }));
        }
      }
    }
    return out;
  },
};
