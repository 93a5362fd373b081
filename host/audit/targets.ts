// Probe targets come from the route table, never from crawling: each route gives one concrete
// path its prefix matches, and what it allows.
import type { MoatConfig, RouteSpec } from '../types.ts';
import type { RouteTarget } from './types.ts';

/** Handlers that ship with Moat; their code is covered by Moat's own tests, so quick runs skip them. */
export const BUILTIN_HANDLERS = new Set(['status', 'echo', 'login', 'logout', 'session', 'metrics']);
const UNSAFE = ['POST', 'PUT', 'PATCH', 'DELETE'];

/** A concrete path for a route prefix ("" and "/" → "/"). */
export function samplePath(match: string): string {
  if (match === '' || match === '/') return '/';
  return match;
}

/** `prefix` extended by one more segment (the route still matches it). */
export function under(path: string, segment: string): string {
  return path.endsWith('/') ? path + segment : `${path}/${segment}`;
}

export function routeTargets(cfg: MoatConfig): RouteTarget[] {
  return cfg.web.routes.map((route: RouteSpec) => ({
    route,
    path: samplePath(route.match),
    builtin: BUILTIN_HANDLERS.has(route.handler) || route.handler === 'file',
    get: route.methods === null || route.methods.includes('GET'),
    unsafe: route.methods === null ? UNSAFE : route.methods.filter((m) => UNSAFE.includes(m)),
  }));
}

/** GET routes an injection probe looks at: application routes, plus built-ins on the full profile. */
export function injectionTargets(routes: RouteTarget[], full: boolean): RouteTarget[] {
  return routes.filter((r) => r.get && (full || !r.builtin) && r.route.handler !== 'logout' && r.route.handler !== 'login');
}

export const targetName = (method: string, path: string) => `${method} ${path}`;
