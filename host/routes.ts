// Routing: config routes (web.routes) → named handlers.
//
// Matching is a plain string prefix match on the request path, as Ioto does: the longest matching
// `match` wins (ties: the earlier route). It is NOT segment-aware — "/api" also matches
// "/apiary" and "/api-docs"; write "/api/" when only the subtree is meant. "" and "/" match every
// path.
//
// The path is compared in one canonical form (RFC 3986 §6.2.2): percent-escapes of unreserved
// characters (ALPHA DIGIT - . _ ~) are decoded and other escapes have upper-case hex, on both the
// route and the request side, so "/%61dmin" cannot dodge a route for "/admin". Nothing else is
// normalised (no dot-segment removal, no slash merging): a handler receives `req.path` untouched
// and must refuse what it cannot serve safely (host/static.ts refuses dot-segments and the like).
//
// Methods: `methods: null` allows any; HEAD is allowed wherever GET is. A method outside the list
// → 405 with `Allow`; no route → 404. Error replies are small JSON bodies.
import type { AppReply, AppRequest, Handler, RouteSpec } from './types.ts';

/** Checks a request against its route's role (and CSRF) before the handler: a refusal, or null. */
export type Guard = (req: AppRequest, role: RouteSpec['role']) => AppReply | null;

/** A JSON reply: `Content-Type: application/json`, body `JSON.stringify(value)`. */
export function json(status: number, value: unknown, fields: [string, string][] = []): AppReply {
  return { status, fields: [['Content-Type', 'application/json'], ...fields], body: JSON.stringify(value) };
}

/** `{"error":404,"reason":"not_found"}` as a JSON reply (extra fields, e.g. Allow, appended). */
export function errorReply(status: number, reason: string, fields: [string, string][] = []): AppReply {
  return json(status, { error: status, reason }, fields);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** The form paths are compared in: unreserved escapes decoded, other escapes upper-cased. */
export function canonicalPath(path: string): string {
  if (!path.includes('%')) return path;             // most paths have no escapes at all
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : '%' + hex.toUpperCase();
  });
}

interface CompiledRoute { prefix: string; allowed: Set<string> | null; allow: string; handler: Handler; role: RouteSpec['role']; name: string; dryRun: boolean }

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * One handler that dispatches by route. Throws at creation on an unknown handler name or a bad
 * method. Without a guard, a route that declares a role answers 401 to everyone (fail closed).
 */
export function createRouter(routes: RouteSpec[], handlers: Record<string, Handler>, guard?: Guard): Handler {
  const compiled: CompiledRoute[] = routes.map((r, index) => {
    if (!Object.hasOwn(handlers, r.handler) || typeof handlers[r.handler] !== 'function') {
      const known = Object.keys(handlers).sort().join(', ') || 'none';
      throw new Error(`route ${index} ("${r.match}"): unknown handler "${r.handler}" (known: ${known})`);
    }
    let allowed: Set<string> | null = null;
    if (r.methods !== null) {
      for (const m of r.methods) {
        if (!TOKEN.test(m) || m !== m.toUpperCase()) throw new Error(`route ${index} ("${r.match}"): bad method "${m}" (upper-case token expected)`);
      }
      allowed = new Set(r.methods);
      if (allowed.has('GET')) allowed.add('HEAD');
    }
    return { prefix: canonicalPath(r.match), allowed, allow: allowed ? [...allowed].join(', ') : '', handler: handlers[r.handler], role: r.role, name: r.handler, dryRun: r.dryRun === true };
  });
  // Longest prefix first; equal lengths keep config order (sort is stable).
  compiled.sort((a, b) => b.prefix.length - a.prefix.length);

  return (req) => {
    const path = canonicalPath(req.path);
    let route: CompiledRoute | undefined;
    for (const r of compiled) if (path.startsWith(r.prefix)) { route = r; break; }
    if (!route) return errorReply(404, 'not_found');
    if (route.allowed && !route.allowed.has(req.method)) return errorReply(405, 'method_not_allowed', [['Allow', route.allow]]);
    const refusal = guard ? guard(req, route.role) : route.role ? errorReply(401, 'authentication_required') : null;
    if (refusal) return refusal;
    // The dispatch barrier: a self-audit request that passed every guard stops before a handler
    // that could change state, unless the route says its handler does a dry run.
    if (req.audit && UNSAFE.has(req.method) && !route.dryRun) return json(200, { audit: 'barrier', handler: route.name, would_run: true });
    return route.handler(req);
  };
}
