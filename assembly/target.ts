// request-target (RFC 9112 3.2) and Host / authority (RFC 9110 7.2, RFC 3986 3.2) validation.
// Both run once over a complete token the parser retained, so each byte is read at most twice in
// all (once while scanning, once here). Every read is at p + i with i < n, inside that token.
import { PCT, SLASH, COLON, QMARK, AT, HASH, STAR, DOT, LBRACKET, RBRACKET } from './chars';
import { TARGET, REG_NAME, HEXDIG, DIGIT } from './tables';
import { is, classOf } from './classes';
import {
  E_NONE, E_BAD_TARGET, E_BAD_PCT, E_FRAGMENT, E_USERINFO, E_TARGET_FORM, E_HOST_BAD,
} from './errors';


// All four bytes at p are of class k (their classes AND-ed).
@inline function all4(p: usize, k: u32): bool {
  return (classOf(load<u8>(p)) & classOf(load<u8>(p, 1)) & classOf(load<u8>(p, 2)) & classOf(load<u8>(p, 3)) & k) != 0;
}

// The end of a run of class-k bytes and pct-encoded triples: e, or the first byte that is neither
// of class k nor a "%" opening a valid triple. The classes leave "%" out, so four bytes per step
// while all are of the class; the step may read up to 3 bytes past e (the tokens checked here lie
// in the input window, and the layout leaves 8 spare bytes after it), and a position past e is
// taken as e. Every exit is a return (no block around the loops: WAMR classic rescans a block's
// whole code when its end is not cached).
function pctRunEnd(p: usize, e: usize, k: u32): usize {
  for (;;) {
    while (<u32>(p < e) & <u32>all4(p, k)) p += 4;
    while (<u32>(p < e) & <u32>is(load<u8>(p), k)) p++;
    if (p >= e) return e;
    if (load<u8>(p) != PCT || p + 2 >= e || !is(load<u8>(p, 1), HEXDIG) || !is(load<u8>(p, 2), HEXDIG)) return p;
    p += 3;
  }
  return unreachable();
}

// Bytes of a path / query: pchar / "/" / "?" with every "%" opening a valid pct-encoded triple.
@inline function checkPathQuery(p: usize, n: u32): u32 {
  const e = p + <usize>n;
  const q = pctRunEnd(p, e, TARGET);
  if (q == e) return E_NONE;
  const c = <u32>load<u8>(q);
  return c == PCT ? E_BAD_PCT : c == HASH ? E_FRAGMENT : E_BAD_TARGET;
}

// The end of an origin-form target's valid bytes at p: the first byte that is neither path, query
// nor a valid pct-encoded triple, or e. The target is valid when that byte ends it.
export function originEnd(p: usize, e: usize): usize { return pctRunEnd(p, e, TARGET); }

// dec-octet "." dec-octet "." dec-octet "." dec-octet, no leading zeros (RFC 3986 3.2.2).
function checkIpv4(p: usize, n: u32): bool {
  let i: u32 = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) { if (i >= n || load<u8>(p + i) != DOT) return false; i++; }
    const a = i;
    let v: u32 = 0;
    while (i < n && i - a < 3 && is(load<u8>(p + i), DIGIT)) { v = v * 10 + <u32>load<u8>(p + i) - 0x30; i++; }
    if (i == a || v > 255 || (i - a > 1 && load<u8>(p + a) == 0x30)) return false;
  }
  return i == n;
}

// IPv6address (RFC 3986 3.2.2): 8 groups of 1-4 HEXDIG, or fewer around one "::", the last two
// groups optionally an IPv4 address.
function checkIpv6(p: usize, n: u32): bool {
  let groups: u32 = 0, gap = false, i: u32 = 0;
  if (n >= 2 && load<u8>(p) == COLON) {
    if (load<u8>(p, 1) != COLON) return false;
    gap = true;
    i = 2;
  }
  while (i < n) {
    let j = i;
    while (j < n && j - i < 5 && is(load<u8>(p + j), HEXDIG)) j++;
    if (j < n && load<u8>(p + j) == DOT) {
      if (!checkIpv4(p + i, n - i)) return false;
      groups += 2;
      break;
    }
    if (j == i || j - i > 4) return false;
    groups++;
    if (j == n) break;
    if (load<u8>(p + j) != COLON || j + 1 == n) return false;
    j++;
    if (load<u8>(p + j) == COLON) {
      if (gap) return false;
      gap = true;
      j++;
    }
    i = j;
  }
  return gap ? groups <= 7 : groups == 8;
}

// IP-literal = "[" ( IPv6address / IPvFuture ) "]" without the brackets;
// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ).
function checkIpLiteral(p: usize, n: u32): bool {
  if (n == 0) return false;
  if ((load<u8>(p) | 0x20) != 0x76) return checkIpv6(p, n);
  let i: u32 = 1;
  while (i < n && is(load<u8>(p + i), HEXDIG)) i++;
  if (i == 1 || i + 1 >= n || load<u8>(p + i) != DOT) return false;
  for (i++; i < n; i++) {
    const c = <u32>load<u8>(p + i);
    if (!is(c, REG_NAME) && c != COLON) return false;
  }
  return true;
}

// "[" IP-literal "]" at p: the position after "]", or 0. Apart from checkAuthority() so that the
// if choosing it spans one call (WAMR classic rescans an if's code when its end is not cached).
function ipLiteralEnd(p: usize, e: usize): usize {
  let q = p;
  while (q < e && load<u8>(q) != RBRACKET) q++;
  return q < e && checkIpLiteral(p + 1, <u32>(q - p) - 1) ? q + 1 : 0;
}

// uri-host [":" port] (RFC 3986 3.2.2-3.2.3). Returns E_NONE or `bad`; an "@" anywhere is userinfo.
export function checkAuthority(p: usize, n: u32, needPort: bool, needHost: bool, bad: u32): u32 {
  const e = p + <usize>n;
  // The host ends at e or at the byte after it (after "]" for an IP literal, 0 when that is bad).
  const lit = n > 0 && load<u8>(p) == LBRACKET;
  let q = lit ? ipLiteralEnd(p, e) : pctRunEnd(p, e, REG_NAME);
  if (!q) return bad;
  if (q < e) {
    const c = <u32>load<u8>(q);
    if (c != COLON) return c == AT && !lit ? E_USERINFO : bad;
  }
  if (needHost && q == p) return bad;
  if (q == e) return needPort ? bad : E_NONE;
  q++;
  if (needPort && q == e) return bad;
  for (; q < e; q++) if (!is(load<u8>(q), DIGIT)) return bad;
  return E_NONE;
}

// absolute-form: scheme "://" authority path-abempty [ "?" query ] (RFC 9112 3.2.2).
function checkAbsolute(p: usize, n: u32): u32 {
  let i: u32 = 0;
  while (i < n) {
    const c = <u32>load<u8>(p + i) | 0x20;
    const ok = (c >= 0x61 && c <= 0x7a) || (i > 0 && (is(c, DIGIT) || c == 0x2b || c == 0x2d || c == 0x2e));
    if (!ok) break;
    i++;
  }
  if (i == 0 || i + 3 > n || load<u8>(p + i) != COLON || load<u8>(p + i + 1) != SLASH || load<u8>(p + i + 2) != SLASH) return E_BAD_TARGET;
  i += 3;
  let a = i;
  while (a < n) {
    const c = <u32>load<u8>(p + a);
    if (c == SLASH || c == QMARK || c == HASH) break;
    a++;
  }
  const err = checkAuthority(p + i, a - i, false, true, E_BAD_TARGET);
  if (err) return err;
  return checkPathQuery(p + a, n - a);
}

// Forms per RFC 9112 3.2: origin and absolute for every method but CONNECT, authority only for
// CONNECT (port required, RFC 9110 9.3.6), asterisk only for OPTIONS.
export function checkTarget(p: usize, n: u32, connect: bool, options: bool): u32 {
  if (n == 0) return E_BAD_TARGET;
  const c = <u32>load<u8>(p);
  if (connect) {
    if (c == SLASH || c == STAR) return E_TARGET_FORM;
    return checkAuthority(p, n, true, true, E_BAD_TARGET);
  }
  if (c == SLASH) return checkPathQuery(p, n);
  if (c == STAR) return n == 1 && options ? E_NONE : (n == 1 ? E_TARGET_FORM : E_BAD_TARGET);
  const err = checkAbsolute(p, n);
  if (err == E_BAD_TARGET && checkAuthority(p, n, true, true, E_BAD_TARGET) == E_NONE) return E_TARGET_FORM;
  return err;
}

export function checkHost(p: usize, n: u32): u32 {
  const err = checkAuthority(p, n, false, false, E_HOST_BAD);
  return err == E_USERINFO ? E_HOST_BAD : err;
}
