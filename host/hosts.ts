// The Host allow-list (web.hosts): a request naming a host the device does not answer to gets 421
// before any route runs. That is the defense against DNS rebinding — a page on the attacker's name,
// re-pointed at the device's address, is same-origin with the attacker in the victim's browser and
// could otherwise read the device's answers.
//
// Entries: a host name or address ("device.example", "192.168.1.20", "[fe80::1]"), a suffix wildcard
// ("*.example.com": names under it, not the name itself), "*" (every host: the check is off), and
// "auto" (the default): the names the device is reachable by without configuration — localhost and
// every loopback address, the listen hosts, the machine's host name and its mDNS ".local" name, and
// the address of every network interface, re-read at most every few seconds when a host misses (an
// address from DHCP appears without a restart).
import { hostname, networkInterfaces } from 'node:os';
import type { AppRequest, Handler, ListenSpec } from './types.ts';
import { errorReply } from './routes.ts';
import { splitAuthority } from './authority.ts';

const REFRESH_MS = 10_000;

/**
 * The host part of a Host value or authority, in the form entries use: lower case, no port, no
 * trailing dot, IPv6 in brackets; '' (matching no entry) when it is not a plain authority.
 */
export function hostName(authority: string): string {
  const h = splitAuthority(authority)?.host ?? '';
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** An IPv6 address (zone id dropped) in brackets; anything else as given, lower case. */
export function entryName(name: string): string {
  const n = name.toLowerCase().replace(/%.*$/, '');
  return n.includes(':') && !n.startsWith('[') ? `[${n}]` : n;
}

/** Host of a request: the authority of an absolute-form target wins over the Host field (RFC 9112 3.2.2). */
export function requestHost(req: Pick<AppRequest, 'target' | 'header'>): string | null {
  const abs = req.target.charCodeAt(0) === 0x2f ? null : /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(req.target);
  const raw = abs ? abs[1] : req.header('host');
  return raw === undefined ? null : hostName(raw);
}

export class HostAllowList {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly any: boolean;
  private readonly auto: boolean;
  private autoNames = new Set<string>();
  private autoAt = 0;

  constructor(entries: readonly string[], private readonly listen: readonly ListenSpec[] = [], private readonly now: () => number = Date.now) {
    this.any = entries.includes('*');
    this.auto = entries.includes('auto');
    for (const e of entries) {
      if (e === '*' || e === 'auto') continue;
      if (e.startsWith('*.')) this.suffixes.push(e.slice(1).toLowerCase());
      else this.exact.add(entryName(e));
    }
  }

  /** Whether a request for `host` (as hostName() gives it; null = no Host, HTTP/1.0) may be served. */
  allows(host: string | null): boolean {
    if (this.any || host === null) return true;
    if (this.exact.has(host) || this.suffixes.some((s) => host.endsWith(s) && host.length > s.length)) return true;
    if (!this.auto) return false;
    if (this.autoAt === 0) this.refresh();
    if (this.autoNames.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
    if (this.now() - this.autoAt < REFRESH_MS) return false;
    this.refresh();
    return this.autoNames.has(host);
  }

  private refresh(): void {
    const names = new Set(['localhost', '[::1]']);
    for (const l of this.listen) if (l.host && l.host !== '0.0.0.0' && l.host !== '::') names.add(entryName(l.host));
    const me = hostname().toLowerCase();
    if (me) names.add(me).add(`${me.replace(/\.local$/, '')}.local`);
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(entryName(a.address));
    this.autoNames = names;
    this.autoAt = this.now();
  }
}

/** The handler behind an allow-list: a request for another host gets 421 Misdirected Request. */
export function withHostCheck(allowed: HostAllowList, next: Handler): Handler {
  return (req) => (allowed.allows(requestHost(req)) ? next(req) : errorReply(421, 'misdirected_request'));
}
