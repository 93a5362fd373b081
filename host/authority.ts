// An authority ("host", "host:port", "[v6]:port") split into host and port: the one parser the
// CSRF origin check (auth/csrf.ts) and the Host allow-list (hosts.ts) both compare hosts with.

/**
 * Host and port, lower-cased, the port without leading zeros ('' when absent); null when it is not
 * a plain authority (userinfo, path, bad port), which then matches nothing.
 */
export function splitAuthority(authority: string): { host: string; port: string } | null {
  const a = authority.trim().toLowerCase();
  let host: string, port: string;
  if (a.startsWith('[')) {
    const close = a.indexOf(']');
    if (close < 0) return null;
    host = a.slice(0, close + 1);
    const rest = a.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    port = rest.slice(1);
  } else {
    const colon = a.lastIndexOf(':');
    host = colon < 0 ? a : a.slice(0, colon);
    port = colon < 0 ? '' : a.slice(colon + 1);
    if (host.includes(':')) return null;
  }
  if (host === '' || /[\s/?#@]/.test(host)) return null;
  if (port !== '') {
    if (!/^[0-9]{1,5}$/.test(port)) return null;
    const n = Number(port);
    if (n > 65535) return null;
    port = String(n);
  }
  return { host, port };
}
