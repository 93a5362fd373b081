// Cross-site request forgery checks for state-changing requests. A browser attaches the session
// cookie to any request to this device, whoever's page started it, so an unsafe request must show
// it came from this origin: by Fetch Metadata and Origin where the browser sends them, and, when
// the ambient cookie is what authenticates it, by echoing the session's CSRF token in a header
// that another origin's page cannot set. Bearer-token clients carry no ambient credential, so the
// token check does not apply to them.
import { timingSafeEqual } from 'node:crypto';
import { splitAuthority } from '../authority.ts';

export type CsrfProblem = 'cross_site' | 'origin_mismatch' | 'csrf_token';

export interface CsrfRequest {
  method: string;
  header(name: string): string | undefined;
}

export interface CsrfContext {
  scheme: 'http' | 'https';
  session: { csrf: string } | null;
}

// Method names are case-sensitive (RFC 9110 §9.1): "get" is not GET, so it counts as unsafe.
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const DEFAULT_PORT: Readonly<Record<string, string>> = { http: '80', https: '443' };
const ORIGIN = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#@\s]+)$/;

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method);
}

/** `host[:port]` with the scheme's default port dropped, or null when it is not a plain authority. */
function normalAuthority(scheme: string, authority: string): string | null {
  const a = splitAuthority(authority);
  if (!a) return null;
  return a.port === '' || a.port === DEFAULT_PORT[scheme] ? a.host : `${a.host}:${a.port}`;
}

function sameOrigin(origin: string, scheme: 'http' | 'https', hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const m = ORIGIN.exec(origin.trim());
  if (!m) return false;
  const originScheme = m[1].toLowerCase();
  if (originScheme !== scheme) return false;
  const theirs = normalAuthority(originScheme, m[2]);
  const ours = normalAuthority(scheme, hostHeader.trim());
  return theirs !== null && theirs === ours;
}

function tokenMatches(sent: string | undefined, expected: string): boolean {
  if (sent === undefined || expected === '') return false;
  const a = Buffer.from(sent, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // Only the length can leak here, and every session's token has the same length.
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Null when the request may proceed, otherwise why it is refused. */
export function csrfProblem(req: CsrfRequest, ctx: CsrfContext): CsrfProblem | null {
  if (!isUnsafeMethod(req.method)) return null;
  const site = req.header('sec-fetch-site');
  if (site !== undefined) {
    const s = site.trim().toLowerCase();
    // same-site includes sibling subdomains, which may be less trusted than this device.
    if (s !== 'same-origin' && s !== 'none') return 'cross_site';
  }
  const origin = req.header('origin');
  if (origin !== undefined) {
    // "null" comes from sandboxed frames, file: pages and some redirects: no origin to trust.
    if (origin.trim() === 'null' || !sameOrigin(origin, ctx.scheme, req.header('host'))) return 'origin_mismatch';
  }
  if (ctx.session !== null && !tokenMatches(req.header('x-csrf-token'), ctx.session.csrf)) return 'csrf_token';
  return null;
}
