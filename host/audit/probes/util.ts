// Small helpers the probes share.
import { randomInt } from 'node:crypto';
import type { ParsedResponse } from '../http.ts';
import type { ProbeContext, RouteTarget } from '../types.ts';
import { injectionTargets } from '../targets.ts';

/** Every character outside the unreserved set percent-encoded (the module refuses raw <, ", { …). */
export const enc = (s: string): string =>
  Array.from(Buffer.from(s, 'utf8')).map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'))).join('');

export const bodyOf = (res: ParsedResponse | null): string => (res ? res.body.toString('latin1') : '');

export function isHtml(res: ParsedResponse): boolean {
  const t = (res.header('content-type') ?? '').toLowerCase();
  return t === '' || t.includes('html') || t.includes('xml');
}

/** Query parameter names an application commonly reads; all of them go in one request. */
export const PARAMS = ['q', 'name', 'search', 'id', 'msg', 'page', 'file', 'path', 'v'];

export function query(values: Record<string, string>): string {
  return Object.entries(values).map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

/** The same value in every common parameter. */
export const everyParam = (value: string): string => query(Object.fromEntries(PARAMS.map((p) => [p, value])));

/** Injection targets, capped on the quick profile so a run stays within its budget. */
export function pick(ctx: ProbeContext, cap = 8): RouteTarget[] {
  const all = injectionTargets(ctx.routes, ctx.profile === 'full');
  return ctx.profile === 'full' ? all : all.slice(0, cap);
}

/** Session cookie and fields that let a GET reach role-bound routes (the shadow's throwaway admin). */
export function authFields(ctx: ProbeContext, r: RouteTarget): [string, string][] {
  return r.route.role && ctx.adminCookie ? [['Cookie', ctx.adminCookie]] : [];
}

/** A short excerpt of a body around `needle`. */
export function around(text: string, needle: string, span = 120): string {
  const i = text.indexOf(needle);
  if (i < 0) return text.slice(0, span * 2);
  return text.slice(Math.max(0, i - span), i + needle.length + span);
}

export const randInt = (lo: number, hi: number): number => randomInt(lo, hi + 1);

/** Fields for an unsafe request that should pass the guards: the admin's session and CSRF token, same origin. */
export function unsafeFields(ctx: ProbeContext, r: RouteTarget, self: string): [string, string][] {
  const f: [string, string][] = [['Content-Type', 'application/json']];
  if (r.route.role && ctx.adminCookie) {
    f.push(['Cookie', ctx.adminCookie], ['Origin', self]);
    if (ctx.adminCsrf) f.push(['X-CSRF-Token', ctx.adminCsrf]);
  }
  return f;
}

/** Application routes whose handler honours req.audit as a dry run: unsafe requests reach them (the built-in login is one in the shadow). */
export const dryRunRoutes = (ctx: ProbeContext): RouteTarget[] => ctx.routes.filter((r) => r.route.dryRun && r.unsafe.length && !r.builtin);
