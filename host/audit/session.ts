// Sessions of the throwaway accounts on the shadow: the admin logs in at the start of a run, so
// probes can reach role-bound routes and check CSRF on state-changing ones. The login carries the
// run's token: the shadow marks its login route a dry run (shadow.ts), as it touches only the
// shadow's own session table.
import type { ProbeContext, RouteTarget } from './types.ts';

export function loginRoute(ctx: Pick<ProbeContext, 'routes'>): RouteTarget | undefined {
  return ctx.routes.find((r) => r.route.handler === 'login' && r.unsafe.includes('POST') && !r.route.role);
}

export async function sessionFor(ctx: ProbeContext, account: { name: string; password: string } | null): Promise<{ cookie: string; csrf: string | null } | null> {
  const login = loginRoute(ctx);
  if (!account || !login) return null;
  const got = await ctx.request({ method: 'POST', target: login.path, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ user: account.name, password: account.password }) });
  if (got.res?.status !== 200) return null;
  const set = got.res.header('set-cookie');
  if (!set) return null;
  let csrf: string | null = null;
  try { csrf = (JSON.parse(got.res.body.toString('utf8')) as { csrf?: string }).csrf ?? null; } catch { /* no token in the body */ }
  return { cookie: set.split(';')[0], csrf };
}
