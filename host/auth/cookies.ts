// The session cookie: reading it from a Cookie header and writing its Set-Cookie value. When
// served over TLS the name carries the __Host- prefix, which a browser only accepts with Secure,
// Path=/ and no Domain, so a sibling subdomain cannot plant or overwrite it.

export type SameSite = 'Strict' | 'Lax' | 'None';

export interface CookieOptions {
  secure: boolean;
  sameSite: SameSite;
  maxAgeS?: number;
}

const HOST_PREFIX = '__Host-';
const SECURE_PREFIX = '__Secure-';

/**
 * Longer Cookie headers are not read at all. The module already bounds header fields; this keeps
 * the cost of a lookup small even if the host is used behind a laxer front end.
 */
export const MAX_COOKIE_HEADER = 16 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6265 cookie-octet: visible ASCII except DQUOTE, comma, semicolon and backslash.
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

function trimOws(s: string): string {
  let a = 0, b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

/**
 * The value of cookie `name`, or undefined when absent, malformed, or present more than once: a
 * duplicate may have been tossed in from a sibling subdomain, and which copy the browser lists
 * first is not something to trust with the choice of session.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.length > MAX_COOKIE_HEADER) return undefined;
  // A pair named `name` contains it: most Cookie headers a device sees carry other sites' cookies only.
  if (!header.includes(name)) return undefined;
  let found: string | undefined;
  let seen = false;
  let start = 0;
  while (start <= header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const pair = header.slice(start, end);
    start = end + 1;
    const eq = pair.indexOf('=');
    if (eq < 0 || trimOws(pair.slice(0, eq)) !== name) continue;
    if (seen) return undefined;
    seen = true;
    let value = trimOws(pair.slice(eq + 1));
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    // A malformed copy still counts as seen, so it cannot be used to hide a duplicate.
    found = COOKIE_VALUE.test(value) ? value : undefined;
  }
  return found;
}

/** The cookie name actually used on the wire, so reading and writing agree on it. */
export function cookieName(base: string, secure: boolean): string {
  if (!TOKEN.test(base)) throw new Error(`cookie name ${JSON.stringify(base)} is not an HTTP token`);
  const prefixed = base.startsWith(HOST_PREFIX) || base.startsWith(SECURE_PREFIX);
  if (secure) return prefixed ? base : HOST_PREFIX + base;
  // Browsers drop prefixed cookies that arrive without Secure; better to fail at startup.
  if (prefixed) throw new Error(`cookie name ${JSON.stringify(base)} needs a secure (TLS) listener`);
  return base;
}

/** A Set-Cookie value for the session token. */
export function sessionCookie(name: string, token: string, opts: CookieOptions): string {
  const wire = cookieName(name, opts.secure);
  if (!COOKIE_VALUE.test(token)) throw new Error('session token has characters not allowed in a cookie value');
  if (opts.sameSite !== 'Strict' && opts.sameSite !== 'Lax' && opts.sameSite !== 'None') {
    throw new Error(`SameSite must be Strict, Lax or None, got ${JSON.stringify(opts.sameSite)}`);
  }
  // Browsers reject SameSite=None without Secure, so the session would silently never stick.
  if (opts.sameSite === 'None' && !opts.secure) throw new Error('SameSite=None requires a secure (TLS) listener');
  let out = `${wire}=${token}; Path=/`;
  if (opts.maxAgeS !== undefined) {
    if (!Number.isSafeInteger(opts.maxAgeS) || opts.maxAgeS < 0) throw new Error(`Max-Age must be a non-negative integer, got ${opts.maxAgeS}`);
    out += `; Max-Age=${opts.maxAgeS}`;
  }
  out += '; HttpOnly';
  if (opts.secure) out += '; Secure';
  return out + `; SameSite=${opts.sameSite}`;
}

/** A Set-Cookie value that makes the browser drop the session cookie (logout). */
export function clearCookie(name: string, opts: { secure: boolean; sameSite: SameSite }): string {
  return sessionCookie(name, '', { secure: opts.secure, sameSite: opts.sameSite, maxAgeS: 0 });
}
