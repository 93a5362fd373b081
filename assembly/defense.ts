// Per-client defense: a fixed table of client records keyed by the host's address hash, one
// sliding-window counter per rule in each record, and the remedies the rules name (Appweb's
// Monitor/Defense model, with the counting done where the verdicts are made).
//
// A rule (config words C_RULE0 + 4*i): kind = counter | remedy << 8, over, per (ms), for (ms). It
// trips when the counter's sliding-window estimate exceeds `over`: cur + prev * (per - into) / per,
// the usual two-bucket approximation, so a client cannot double its budget at a window boundary.
//
// Client record (entryBytes()):
//   0 u32 hash       0 = free                   16 u8  flags   B_BANNED | B_DELAYED
//   4 u32 seen       ms, last counted event     17 u8  fired   rules that reported in this window
//   8 u32 banUntil   ms                         18 u16 offenses  counted misbehaviour, saturating
//  12 u32 delayUntil ms                         20 per rule: u16 cur, u16 prev, u32 window start
//
// Eviction: a new client takes a free record, else the record with the fewest offenses (oldest
// first among equals), never one with a ban still running. Rotating through fresh addresses
// therefore evicts clean records first and cannot clear an offender's record cheaply; when every
// record holds a live ban the newcomer goes untracked (one EV_CLIENTS_FULL event) rather than
// lifting a ban.
import { cfg, C_CLIENTS, C_RULES, C_DELAY, C_RULE0, clientsBase } from './config';
import { event, EV_DEFENSE, EV_CLIENTS_FULL } from './events';
import { slotPtr, O_CLIENT, O_CIDX } from './slots';

@inline export const CT_REQUESTS: u32 = 0;
@inline export const CT_BAD: u32 = 1;         // requests the parser refused
@inline export const CT_LIMIT: u32 = 2;       // 408 / 413 / 414 / 429 / 431, connection limits
@inline export const CT_NOT_FOUND: u32 = 3;   // 404 answered by the application
@inline export const CT_AUTH: u32 = 4;        // 401 / 403 answered by the application
@inline export const CT_ERRORS: u32 = 5;      // 5xx answered by the application
@inline export const CT_CONNECTIONS: u32 = 6; // connections opened
@inline export const CT_COUNT: u32 = 7;

@inline export const RM_LOG: u32 = 0;
@inline export const RM_ALERT: u32 = 1;
@inline export const RM_DELAY: u32 = 2;       // the host waits C_DELAY ms before each answer
@inline export const RM_BAN: u32 = 3;         // connections refused, open ones closed silently
@inline export const RM_REJECT: u32 = 4;      // the request is answered 429 (rate limit)
@inline export const RM_COUNT: u32 = 5;


@inline const E_SEEN: u32 = 4;
@inline const E_BAN: u32 = 8;
@inline const E_DELAY: u32 = 12;
@inline const E_FLAGS: u32 = 16;
@inline const E_FIRED: u32 = 17;
@inline const E_OFFENSES: u32 = 18;
@inline const E_RULES: u32 = 20;
@inline const B_BANNED: u32 = 1;
@inline const B_DELAYED: u32 = 2;


@inline function entryBytes(): u32 {
  return E_RULES + (cfg(C_RULES) << 3);
}

@inline function entryPtr(i: u32): usize {
  return clientsBase + <usize>(i * entryBytes());
}

// The record lookup() named: its index + 1, or 0 / 0xffff for none.
@inline export function recordAt(idx: u32): usize {
  return idx - 1 < 0xfffe ? entryPtr(idx - 1) : 0;
}

@inline function ruleWord(i: u32, w: u32): u32 {
  return cfg(C_RULE0 + (i << 2) + w);
}

// A rule the module can run needs a window (estimate() divides by it); an unknown counter never
// counts and an unknown remedy only reports. The host's config check names every bad rule.
@inline export function rulesValid(): bool {
  for (let i: u32 = 0; i < cfg(C_RULES); i++) if (ruleWord(i, 2) - 1 >= 0x7fffffff) return false;
  return true;
}

// From tick(): ended bans and delays lose their flag, and records idle for 2^30 ms (12 days) are
// freed, so no comparison ever spans more than half the u32 clock (no stale ban comes back
// after the wrap). The host ticks far more often than that.
@inline export function sweepClients(now: u32): void {
  for (let i: u32 = 0; i < cfg(C_CLIENTS); i++) {
    const e = entryPtr(i);
    if (!load<u32>(e)) continue;
    let f = <u32>load<u8>(e, E_FLAGS);
    if (!ahead(load<u32>(e, E_BAN), now)) f &= ~B_BANNED;
    if (!ahead(load<u32>(e, E_DELAY), now)) f &= ~B_DELAYED;
    store<u8>(e, <u8>f, E_FLAGS);
    if (!f && now - load<u32>(e, E_SEEN) >= 0x40000000) store<u32>(e, 0);
  }
}

// Time-limited state is live while `until` is ahead of `now` (differences modulo 2^32).
@inline function ahead(until: u32, now: u32): bool {
  return <i32>(until - now) > 0;
}

function hasBan(e: usize, now: u32): bool {
  return (load<u8>(e, E_FLAGS) & B_BANNED) != 0 && ahead(load<u32>(e, E_BAN), now);
}

// The record of `client`, created (evicting per the rule above) when it has none, as its index + 1
// (what a slot remembers in O_CIDX; recordAt() gives the record); 0 for client 0 and 0xffff when
// every record holds a live ban (untracked).
export function lookup(client: u32, slotNo: u32, now: u32): u32 {
  const n = cfg(C_CLIENTS);
  if (client == 0) return 0;
  let free: u32 = 0, victim: u32 = 0, vOff: u32 = 0x10000, vAge: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const e = entryPtr(i);
    const h = load<u32>(e);
    if (h == client) return i + 1;
    if (h == 0) { if (!free) free = i + 1; continue; }
    if (free || hasBan(e, now)) continue;
    const off = <u32>load<u16>(e, E_OFFENSES), age = now - load<u32>(e, E_SEEN);
    if (off < vOff || (off == vOff && age > vAge)) { victim = i + 1; vOff = off; vAge = age; }
  }
  const found = free ? free : victim;
  if (!found) {
    event(EV_CLIENTS_FULL, slotNo, 0, client, now);   // the slot remembers it: reported once, not per request
    return 0xffff;
  }
  const e = entryPtr(found - 1);
  const end = e + <usize>entryBytes();
  for (let p = e; p < end; p += 4) store<u32>(p, 0);
  store<u32>(e, client);
  store<u32>(e, now, E_SEEN);
  for (let i: u32 = 0; i < cfg(C_RULES); i++) store<u32>(e + E_RULES + (i << 3) + 4, now);
  return found;
}

// An operator's pardon: the client's record is freed (ban, delay and counts gone). Returns whether
// the client had one.
export function forgive(client: u32): bool {
  for (let i: u32 = 0; i < cfg(C_CLIENTS); i++) {
    const e = entryPtr(i);
    if (client != 0 && load<u32>(e) == client) { store<u32>(e, 0); return true; }
  }
  return false;
}

// The record of an open slot's client: the cached index when it still names that client.
export function clientOf(slotNo: u32, now: u32): usize {
  const s = slotPtr(slotNo);
  const client = load<u32>(s, O_CLIENT);
  const idx = <u32>load<u16>(s, O_CIDX);
  if (idx == 0xffff || client == 0) return 0;   // untracked since it opened (reported once then) or unknown
  if (idx != 0 && idx <= cfg(C_CLIENTS)) {
    const e = entryPtr(idx - 1);
    if (load<u32>(e) == client) return e;
  }
  const found = lookup(client, slotNo, now);
  store<u16>(s, <u16>found, O_CIDX);
  return recordAt(found);
}

export function banned(e: usize, now: u32): bool {
  return e != 0 && hasBan(e, now);
}

// Milliseconds the host should wait before answering this client (0 = none).
export function delayOf(e: usize, now: u32): u32 {
  return e != 0 && (load<u8>(e, E_FLAGS) & B_DELAYED) && ahead(load<u32>(e, E_DELAY), now) ? cfg(C_DELAY) : 0;
}

// Moves rule i's window forward to `now`; a new window lets the rule report again.
@inline function roll(e: usize, r: usize, i: u32, per: u32, now: u32): void {
  const start = load<u32>(r, 4), elapsed = now - start;
  if (elapsed < per) return;
  if (elapsed < per << 1) { store<u16>(r, load<u16>(r), 2); store<u32>(r, start + per, 4); }
  else { store<u16>(r, 0, 2); store<u32>(r, now, 4); }
  store<u16>(r, 0);
  store<u8>(e, <u8>(<u32>load<u8>(e + E_FIRED) & ~(1 << i)), E_FIRED);
}

@inline function estimate(r: usize, per: u32, now: u32): u32 {
  const into = now - load<u32>(r, 4);
  return <u32>load<u16>(r) + <u32>((<u64>load<u16>(r, 2) * <u64>(per - into)) / <u64>per);
}

function apply(e: usize, i: u32, remedy: u32, slotNo: u32, now: u32): void {
  const dur = ruleWord(i, 3);
  if (remedy == RM_BAN) {
    store<u8>(e, load<u8>(e + E_FLAGS) | <u8>B_BANNED, E_FLAGS);
    store<u32>(e, now + dur, E_BAN);
  } else if (remedy == RM_DELAY) {
    store<u8>(e, load<u8>(e + E_FLAGS) | <u8>B_DELAYED, E_FLAGS);
    store<u32>(e, now + dur, E_DELAY);
  }
  const fired = <u32>load<u8>(e, E_FIRED);
  if (fired & (1 << i)) return;                 // one event per rule and window, not per hit
  store<u8>(e, <u8>(fired | (1 << i)), E_FIRED);
  event(EV_DEFENSE, slotNo, (remedy << 8) | i, load<u32>(e), now);
}

// Counts one event for a client; returns the remedies that tripped as bits (1 << RM_*) and, from
// bit 8 up, the seconds left in the window of the last rate rule (RM_REJECT) that tripped: the
// Retry-After of a 429 (below 2^22, as a window is below 2^31 ms).
@inline export const RETRY_SHIFT: u32 = 8;

export function count(e: usize, counter: u32, slotNo: u32, now: u32): u32 {
  if (!e) return 0;
  store<u32>(e, now, E_SEEN);
  if (counter != CT_REQUESTS && counter != CT_CONNECTIONS) {
    const off = <u32>load<u16>(e, E_OFFENSES);
    if (off < 0xffff) store<u16>(e, <u16>(off + 1), E_OFFENSES);
  }
  let tripped: u32 = 0;
  for (let i: u32 = 0; i < cfg(C_RULES); i++) {
    const kind = ruleWord(i, 0);
    if ((kind & 0xff) != counter) continue;
    const r = e + E_RULES + (i << 3), per = ruleWord(i, 2);
    roll(e, r, i, per, now);
    const cur = <u32>load<u16>(r);
    if (cur < 0xffff) store<u16>(r, <u16>(cur + 1));
    if (estimate(r, per, now) <= ruleWord(i, 1)) continue;
    const remedy = kind >> 8;
    tripped |= 1 << remedy;
    if (remedy == RM_REJECT) tripped = (tripped & 0xff) | (((per - (now - load<u32>(r, 4)) + 999) / 1000) << RETRY_SHIFT);
    apply(e, i, remedy, slotNo, now);
  }
  return tripped;
}

// The counter an error status feeds: limits for the statuses that report one, bad requests else.
@inline export function counterOfError(status: u32): u32 {
  return status == 408 || status == 413 || status == 414 || status == 429 || status == 431 ? CT_LIMIT : CT_BAD;
}

// The counter an application status feeds, or CT_COUNT for none.
export function counterOfReply(status: u32): u32 {
  if (status == 404) return CT_NOT_FOUND;
  if (status == 401 || status == 403) return CT_AUTH;
  if (status == 429) return CT_LIMIT;
  return status >= 500 ? CT_ERRORS : CT_COUNT;
}
