// The config blob and the memory layout derived from it.
// The host writes CONFIG_WORDS little-endian u32 words at configPtr() and calls init(); a blob whose
// first word is not CONFIG_MAGIC leaves every value at its default. init() then places every table
// at the bottom of memory, right above the static data, so the high-water mark is known and a board
// can cap linear memory below one page.

@inline export const CONFIG_MAGIC: u32 = 0x3154414d; // "MAT1"
@inline export const CONFIG_WORDS: u32 = 64;

// Word indices. Append-only, like the error table: boards store compiled blobs.
@inline export const C_MAGIC: u32 = 0;
@inline export const C_SLOTS: u32 = 1;           // connection slots = limits.connections
@inline export const C_URI: u32 = 2;             // bytes
@inline export const C_HEADER: u32 = 3;          // bytes of the field section
@inline export const C_HEADERS: u32 = 4;         // field lines
@inline export const C_BODY: u32 = 5;            // bytes
@inline export const C_FORM: u32 = 6;            // bytes, application/x-www-form-urlencoded bodies
@inline export const C_UPLOAD: u32 = 7;          // bytes, multipart/form-data bodies
@inline export const C_CHUNK_EXT: u32 = 8;       // bytes of extensions on one chunk-size line
@inline export const C_CLIENT_CONNS: u32 = 9;    // connections per client address
@inline export const C_CLIENT_REQS: u32 = 10;    // requests per client per window (defense)
@inline export const C_SESSIONS: u32 = 11;       // server-side sessions (host)
@inline export const C_T_PARSE: u32 = 12;        // ms; NEVER = no limit
@inline export const C_T_INACTIVITY: u32 = 13;
@inline export const C_T_REQUEST: u32 = 14;
@inline export const C_T_SESSION: u32 = 15;
@inline export const C_T_TLS: u32 = 16;          // enforced by the host during the handshake
@inline export const C_FLAGS: u32 = 17;          // F_* bits
@inline export const C_HSTS_AGE: u32 = 18;       // seconds
@inline export const C_WINDOW: u32 = 19;         // input window bytes
@inline export const C_SPANS: u32 = 20;          // span records per feed() call
@inline export const C_EVENTS: u32 = 21;         // event ring records
@inline export const C_OUT: u32 = 22;            // response head bytes
@inline export const C_CLIENTS: u32 = 23;        // client records (defense.ts)
@inline export const C_RULES: u32 = 24;          // defense rules in use (at most 8)
@inline export const C_DELAY: u32 = 25;          // ms the host waits before answering a delayed client
@inline export const C_RULE0: u32 = 32;          // rule i: words 32 + 4i .. 35 + 4i (defense.ts)

@inline export const F_STEALTH: u32 = 1;         // errors close silently instead of answering
@inline export const F_HSTS: u32 = 2;            // Strict-Transport-Security on TLS connections
@inline export const F_HSTS_SUBDOMAINS: u32 = 4;

@inline export const NEVER: u32 = 0xffffffff;

// Defaults follow Ioto's documented web limits where it has one.
// The rules are the embedded default config's (host/default-config.json5 moat.defense), so a board
// flashed without a config blob is defended the same way.
const DEFAULTS = memory.data<u32>([
  CONFIG_MAGIC, 50, 8192, 10240, 100, 102400, 10240, 1048576, 1024, 10, 1200, 20,
  5000, 300000, 300000, 3600000, 10000, 0, 31536000, 16384, 64, 32, 1024,
  64, 7, 2000, 0, 0, 0, 0, 0, 0,
  0x301, 20, 60000, 300000,      // bad requests > 20 / min      → ban 5 min
  0x302, 20, 60000, 300000,      // limit hits > 20 / min        → ban 5 min
  0x203, 20, 60000, 300000,      // 404s > 20 / min              → delay for 5 min
  0x303, 60, 300000, 900000,     // 404s > 60 / 5 min            → ban 15 min
  0x304, 10, 300000, 900000,     // auth failures > 10 / 5 min   → ban 15 min
  0x105, 50, 60000, 0,           // 5xx > 50 / min               → alert
  0x400, 1200, 60000, 0,         // requests > 1200 / min        → 429 (limits.clientRequests)
  0, 0, 0, 0,
]);

export const CONFIG = memory.data(CONFIG_WORDS << 2);

@inline export function cfg(i: u32): u32 {
  return load<u32>(CONFIG + (i << 2));
}

// Called by init() only when the magic is missing: a host that writes its blob never runs (nor,
// on wasm3, compiles) it.
export function loadDefaults(): void {
  for (let i: u32 = 0; i < CONFIG_WORDS; i++) store<u32>(CONFIG + (i << 2), load<u32>(DEFAULTS + (i << 2)));
}

// Region bases, set by layout(). Everything the module touches lives below the high-water mark
// layout() returns. The slot table sits right above the static data, so its base is a constant, not
// one more Wasm global for wasm3 to initialize at load.
@inline export function slotsBase(): usize { return (__heap_base + 7) & ~7; }
export let clientsBase: usize = 0;
export let eventsBase: usize = 0;
export let spansBase: usize = 0;
export let outBase: usize = 0;
export let inputBase: usize = 0;

@inline export const SLOT_BYTES: u32 = 64;
@inline export const SPAN_BYTES: u32 = 8;
@inline export const EVENT_BYTES: u32 = 12;
@inline export const MEMORY_BYTES: u32 = 65536;

// Returns the high-water mark, or 0 for a config that does not fit. A window smaller than the longest token the limits allow could not
// hold a retained token plus one new byte, so it is refused here rather than failing later.
// Inlined into init(), its one caller, and its tests joined with | rather than ||: it runs once,
// and wasm3 compiles it (as part of the init export) when the module loads, where every function
// and every byte of code costs. In u32, x - 1 >= y - 1 is x == 0 || x >= y for y != 0, and
// win - 1 >= 0xffff is win == 0 || win > 0xffff.
@inline export function layout(): u32 {
  const slots = cfg(C_SLOTS), win = cfg(C_WINDOW);
  if (<u32>(slots - 1 >= 255) | <u32>(cfg(C_SPANS) < 4) | <u32>(cfg(C_EVENTS) == 0) | <u32>(cfg(C_OUT) < 256)
    | <u32>(cfg(C_HEADERS) == 0) | <u32>(win - 1 >= 0xffff) | <u32>(cfg(C_URI) - 1 >= win - 1)
    | <u32>(cfg(C_HEADER) - 1 >= win - 1) | <u32>(cfg(C_CLIENTS) > 0xfffe) | <u32>(cfg(C_RULES) > 8)) return 0;
  let p: u64 = <u64>slotsBase() + <u64>slots * SLOT_BYTES;
  clientsBase = <usize>p; p += <u64>cfg(C_CLIENTS) * <u64>(20 + (cfg(C_RULES) << 3));
  eventsBase = <usize>p; p += <u64>cfg(C_EVENTS) * EVENT_BYTES;
  spansBase = <usize>p;  p += <u64>cfg(C_SPANS) * SPAN_BYTES;
  outBase = <usize>p;    p += <u64>cfg(C_OUT);
  // 8 bytes after the window: scan.ts's word loops read the u64 at any position up to its end.
  inputBase = <usize>p;  p += <u64>win + 8;
  if (p > MEMORY_BYTES) return 0;
  return <u32>p;
}
