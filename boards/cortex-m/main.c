/* boards/cortex-m/main.c: the Moat module in an interpreter on an emulated Cortex-M4F (qemu mps2-an386).
 *
 * Links an interpreter and its glue (wasm3 + moat_wasm3.c + probe.c, or WAMR classic + moat_wamr.c +
 * probe_wamr.c) + boards/glue/moat_engine.c + the exact bytes of build/moat.wasm as a C array
 * (moat_wasm.c, generated) + the default config blob (moat_config.c, `moat config compile --c`).
 * The driver sees only moat_engine.h. I/O is semihosting: arguments from the emulator's command
 * line, files opened on the host.
 *
 *   moat-cm.elf CASES.bin            conformance: every case whole and byte by byte, one line each
 *   moat-cm.elf --bench N F...       feeds each file (one request each) N times in turn on one
 *                                    keep-alive connection, answering each with 200 (instruction counts)
 *   moat-cm.elf --bench-parse N F... the same without respond() (parsing only)
 *   moat-cm.elf --noop F...          reads the files and exits (start-up baseline for --bench)
 *   moat-cm.elf --ram N P F...       the 8-connection RAM run on the board config (moat_config_board,
 *                                    boards/configs/stm32f4-8.json5): opens 8 connections and, N times,
 *                                    gives each one a request (file (k + round) mod count) in P-byte
 *                                    pieces round-robin, so all 8 are mid-request at once, then the
 *                                    last piece of each and respond(200); one JSON line per feed and
 *                                    per response (format at ram() below)
 *   moat-cm.elf [--memory-limit B] --compile-all ...   compiles every function at load (probe.c)
 *                                    instead of on first call: the heap peak whatever requests come
 *   moat-cm.elf --client H --bench[-parse] N F...   the same on a connection of client hash H (not 0):
 *                                    the per-client defense counters are updated on every request, as
 *                                    a server tracking its clients has them, and the clock advances
 *                                    100 ms per request (so the default 1200/min request rule holds)
 *   moat-cm.elf --memory-limit BYTES ...   any of the above with this cap on linear memory (0 = the
 *                                    full page); default MOAT_MEMORY_LIMIT, which build-cortex-m.mjs
 *                                    sets to the default config's high-water mark rounded up to 1 KiB
 *
 * CASES.bin (boards/scripts/build-cortex-m.mjs writes it from test/corpus/*.json5), little-endian:
 *   "MCI1", u32 count, then per case: u32 uri_bytes, header_bytes, header_count, body_bytes,
 *   chunk_ext_bytes (0 = module default), u32 length, the raw bytes, zero padding to 4.
 * Each case runs like host/inspect.ts inspectConnection() (host/feeder.ts's window protocol):
 * the limits are laid over the default blob (window = max(window, max(uri, header) + 1024)), init(),
 * open(), the input fed whole or one byte per feed, close(). One line per case and mode:
 *   {"i":N,"mode":"whole"|"bytewise","requests":[{"method":H,"target":H,"version":"1.1",
 *    "headers":[[H,H],...],"body":H,"trailers":[[H,H],...],"keep_alive":true}],
 *    "error":null|{"status":S|null,"code":C}}
 * where H is lowercase hex of the bytes and C is the module's error code (-1: input ended inside a
 * request). {"i":N,"mode":M,"init":-46} when init() refuses the config. At the end, on stderr:
 * "# heap peak P of H bytes, stack S bytes, value stack V of W bytes" (malloc break high-water; C
 * stack below main's frame; wasm3's value stack, painted by probe.c) and "# heap in use: ..." (where
 * the heap went: probe.c's figures after each load step and at exit).
 * Exit status: 0, 1 (bad input / trap / buffer overflow), 100+ (a CPU fault: startup.c).
 */
#include "moat_engine.h"
#include "bench_loop.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const unsigned char moat_wasm[];
extern const unsigned int moat_wasm_len;
extern const unsigned char moat_config[256];
extern const unsigned char moat_config_board[256];
#ifndef MOAT_MEMORY_LIMIT
#define MOAT_MEMORY_LIMIT 0u
#endif
#ifndef MOAT_BOARD_MEMORY_LIMIT
#define MOAT_BOARD_MEMORY_LIMIT 0u
#endif
uint32_t moat_heap_peak(void);
uint32_t moat_heap_size(void);
void moat_stack_paint(uint32_t bytes);
uint32_t moat_stack_used(void);
uint32_t moat_probe_value_stack(void);
uint32_t moat_probe_value_stack_size(void);
uint32_t moat_probe_in_use(int step);
uint32_t moat_probe_code_pages(uint32_t *count, uint32_t *filled);
const char *moat_probe_compile_all(void);

/* ---- the driver's scratch memory: not firmware RAM (.bss.harness: the linker
 * script puts it in its own NOLOAD section, not cleared by crt0) --------- */
#define HARNESS __attribute__((section(".bss.harness")))
#define RAW_MAX (1u << 20)
#define LINE_MAX (6u << 20)
#define BYTES_MAX (2u << 20)
#define FIELDS_MAX 8192
static HARNESS uint8_t raw[RAW_MAX];            /* one case's input / the bench files */
static HARNESS char line[LINE_MAX];             /* one output line */
static HARNESS uint8_t backlog[RAW_MAX + 65536];/* bytes not yet fed (host/feeder.ts backlog) */
static HARNESS uint8_t retained[65536];         /* incomplete token kept between feeds */
static HARNESS uint8_t bytes[BYTES_MAX];        /* the current request's text */
static HARNESS char outbuf[8192];               /* stdout buffer */

static moat_t *M;
static size_t line_len;

static void die(const char *msg) { fprintf(stderr, "moat-cm: %s\n", msg); exit(1); }
static void check(int32_t v) { if (v == INT32_MIN) { fprintf(stderr, "moat-cm: trap: %s\n", moat_error(M)); exit(1); } }

static void put(const char *s) {
  size_t n = strlen(s);
  if (line_len + n >= LINE_MAX) die("output line too long");
  memcpy(line + line_len, s, n);
  line_len += n;
}
static void put_u(long v) { char b[16]; snprintf(b, sizeof b, "%ld", v); put(b); }
static void put_u32(uint32_t v) { char b[16]; snprintf(b, sizeof b, "%lu", (unsigned long)v); put(b); }
static void put_hex(const uint8_t *p, uint32_t n) {
  static const char d[] = "0123456789abcdef";
  if (line_len + 2 * (size_t)n + 2 >= LINE_MAX) die("output line too long");
  line[line_len++] = '"';
  for (uint32_t i = 0; i < n; i++) { line[line_len++] = d[p[i] >> 4]; line[line_len++] = d[p[i] & 15]; }
  line[line_len++] = '"';
}

/* ---- the request being assembled (host/request.ts RequestAssembler) ------------------------- */
typedef struct { uint32_t at, len; } text_t;
typedef struct { text_t name, value; } field_t;
static HARNESS field_t headers[FIELDS_MAX], trailers[FIELDS_MAX];
static struct {
  int open;                  /* a method span started it */
  text_t method, target, body;
  uint32_t nheaders, ntrailers, used;
  int v11, keep;
} cur;
static uint32_t body_chunks;

static text_t keep_text(const uint8_t *p, uint32_t n) {
  if (cur.used + n > BYTES_MAX) die("request larger than the driver's buffer");
  memcpy(bytes + cur.used, p, n);
  text_t t = { cur.used, n };
  cur.used += n;
  return t;
}

static int requests_out;
static void emit_request(void) {
  put(requests_out++ ? ",{\"method\":" : "{\"method\":"); put_hex(bytes + cur.method.at, cur.method.len);
  put(",\"target\":"); put_hex(bytes + cur.target.at, cur.target.len);
  put(cur.v11 ? ",\"version\":\"1.1\",\"headers\":[" : ",\"version\":\"1.0\",\"headers\":[");
  for (uint32_t i = 0; i < cur.nheaders; i++) {
    put(i ? ",[" : "["); put_hex(bytes + headers[i].name.at, headers[i].name.len); put(",");
    put_hex(bytes + headers[i].value.at, headers[i].value.len); put("]");
  }
  put("],\"body\":"); put_hex(bytes + cur.body.at, cur.body.len);
  put(",\"trailers\":[");
  for (uint32_t i = 0; i < cur.ntrailers; i++) {
    put(i ? ",[" : "["); put_hex(bytes + trailers[i].name.at, trailers[i].name.len); put(",");
    put_hex(bytes + trailers[i].value.at, trailers[i].value.len); put("]");
  }
  put(cur.keep ? "],\"keep_alive\":true}" : "],\"keep_alive\":false}");
}

static void head(uint32_t flags) {
  cur.v11 = (flags & 1) != 0;
  cur.keep = (flags & (1u << 19)) != 0;
}

/* Body bytes are kept contiguous: they are the last text of a request (trailers follow, and
 * they are copied after the body is complete), so each chunk extends cur.body in place. */
static void spans(uint32_t count, int64_t head_flags) {
  int32_t in = moat_input_ptr(M);
  check(in);
  for (uint32_t i = 0; i < count; i++) {
    uint16_t s[4];
    if (moat_span(M, i, s)) die("span record outside memory");
    const uint8_t *p = moat_ptr(M, (uint32_t)in + s[2], s[3]);
    if (!p) die("span outside memory");
    uint32_t kind = s[0];
    if (kind == 5) {
      if (head_flags >= 0) { head((uint32_t)head_flags); head_flags = -1; }
      if (!cur.open) die("body before a method");
      if (cur.body.len == 0 || body_chunks == 0) cur.body = keep_text(p, s[3]);
      else { if (cur.body.at + cur.body.len != cur.used) die("body not contiguous"); text_t t = keep_text(p, s[3]); cur.body.len += t.len; }
      body_chunks++;
      continue;
    }
    if (kind == 1) {
      memset(&cur, 0, sizeof cur);
      cur.open = 1; cur.v11 = 1; body_chunks = 0;
      cur.method = keep_text(p, s[3]);
      continue;
    }
    if (!cur.open) die("span before a method");
    if (kind == 2) cur.target = keep_text(p, s[3]);
    else if (kind == 3) { if (cur.nheaders == FIELDS_MAX) die("too many fields"); headers[cur.nheaders].name = keep_text(p, s[3]); headers[cur.nheaders++].value = (text_t){ 0, 0 }; }
    else if (kind == 4) { if (!cur.nheaders) die("value without a name"); headers[cur.nheaders - 1].value = keep_text(p, s[3]); }
    else if (kind == 6) { if (cur.ntrailers == FIELDS_MAX) die("too many fields"); trailers[cur.ntrailers].name = keep_text(p, s[3]); trailers[cur.ntrailers++].value = (text_t){ 0, 0 }; }
    else if (kind == 7) { if (!cur.ntrailers) die("trailer value without a name"); trailers[cur.ntrailers - 1].value = keep_text(p, s[3]); }
  }
  if (head_flags >= 0) head((uint32_t)head_flags);
}

/* ---- the connection driver (host/feeder.ts Feeder + host/inspect.ts) ------------------------ */
static struct {
  int32_t slot;
  uint32_t bl_at, bl_len;     /* backlog[bl_at, bl_at + bl_len) */
  uint32_t kept;              /* retained[0, kept) */
  int paused, ended, in_request, closed;
  int has_error; int32_t status, code;  /* status -1 = null */
} F;

static void backlog_push(const uint8_t *p, uint32_t n) {
  if (F.bl_at + F.bl_len + n > sizeof backlog) {
    memmove(backlog + 65536, backlog + F.bl_at, F.bl_len);
    F.bl_at = 65536;
    if (F.bl_at + F.bl_len + n > sizeof backlog) die("backlog overflow");
  }
  memcpy(backlog + F.bl_at + F.bl_len, p, n);
  F.bl_len += n;
}
static void backlog_unshift(const uint8_t *p, uint32_t n) {
  if (n > F.bl_at) die("backlog underflow");
  F.bl_at -= n;
  memcpy(backlog + F.bl_at, p, n);
  F.bl_len += n;
}

static void pump(void) {
  int32_t cap = moat_input_cap(M), in = moat_input_ptr(M);
  check(cap); check(in);
  while (!F.paused && !F.ended && F.bl_len > 0) {
    uint32_t take = (uint32_t)cap - F.kept;
    if (take > F.bl_len) take = F.bl_len;
    if (moat_write_window(M, 0, retained, F.kept) || moat_write_window(M, F.kept, backlog + F.bl_at, take)) die("window overflow");
    F.bl_at += take; F.bl_len -= take;
    uint32_t to = F.kept + take, from = 0, r[MOAT_R_WORDS];
    for (;;) {
      check(moat_feed(M, (uint32_t)F.slot, from, to, 0));
      if (moat_result(M, r)) die("result outside memory");
      spans(r[MOAT_R_SPANS], (r[MOAT_R_VERDICT] & MOAT_HEAD) ? (int64_t)r[MOAT_R_FLAGS] : -1);
      if (r[MOAT_R_VERDICT] & (MOAT_ERROR | MOAT_CLOSE)) {
        F.ended = 1; F.in_request = 0; F.kept = 0; F.has_error = 1;
        F.status = (r[MOAT_R_VERDICT] & MOAT_ERROR) ? (int32_t)r[MOAT_R_STATUS] : -1;
        F.code = (int32_t)r[MOAT_R_CODE];
        return;
      }
      F.in_request = (r[MOAT_R_FLAGS] & (1u << 18)) != 0;
      if (r[MOAT_R_VERDICT] & MOAT_DONE) {
        F.in_request = 0; F.kept = 0;
        if (r[MOAT_R_CONSUMED] < to) {
          const uint8_t *rest = moat_ptr(M, (uint32_t)in + r[MOAT_R_CONSUMED], to - r[MOAT_R_CONSUMED]);
          if (!rest) die("consumed outside the window");
          backlog_unshift(rest, to - r[MOAT_R_CONSUMED]);
        }
        F.paused = 1;
        if (!cur.open) die("DONE without a request");
        emit_request();
        F.closed = !cur.keep;
        cur.open = 0;
        break;
      }
      if (r[MOAT_R_CONSUMED] < to && r[MOAT_R_VERDICT] != MOAT_NEED_MORE) { from = r[MOAT_R_CONSUMED]; continue; }
      if (r[MOAT_R_KEEP] == to) F.kept = 0;
      else {
        const uint8_t *k = moat_ptr(M, (uint32_t)in + r[MOAT_R_KEEP], to - r[MOAT_R_KEEP]);
        if (!k || to - r[MOAT_R_KEEP] > sizeof retained) die("retained token outside the window");
        memmove(retained, k, to - r[MOAT_R_KEEP]);
        F.kept = to - r[MOAT_R_KEEP];
      }
      break;
    }
  }
}

static void push(const uint8_t *p, uint32_t n) {
  if (F.ended || n == 0) return;
  backlog_push(p, n);
  pump();
}

enum { L_URI, L_HEADER, L_COUNT, L_BODY, L_CHUNK_EXT, L_N };
static const uint8_t limit_word[L_N] = { 2, 3, 4, 5, 8 };

static uint32_t rd32(const uint8_t *p) { return moat_load_u32(p); }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

static void inspect(uint32_t index, const uint32_t limits[L_N], const uint8_t *in, uint32_t len, int bytewise) {
  uint8_t blob[MOAT_CONFIG_BYTES];
  memcpy(blob, moat_config, sizeof blob);
  for (int k = 0; k < L_N; k++) if (limits[k]) wr32(blob + 4 * limit_word[k], limits[k]);
  uint32_t uri = rd32(blob + 4 * 2), hdr = rd32(blob + 4 * 3), window = rd32(moat_config + 4 * 19);
  uint32_t longest = (uri > hdr ? uri : hdr) + 1024;
  wr32(blob + 4 * 19, window > longest ? window : longest);
  line_len = 0;
  put("{\"i\":"); put_u((long)index); put(bytewise ? ",\"mode\":\"bytewise\"" : ",\"mode\":\"whole\"");
  int32_t cp = moat_config_ptr(M);
  check(cp);
  if (moat_write(M, (uint32_t)cp, blob, sizeof blob)) die("config outside memory");
  int32_t hw = moat_init(M);
  check(hw);
  if (hw < 0) { put(",\"init\":"); put_u(hw); put("}\n"); fwrite(line, 1, line_len, stdout); return; }
  memset(&F, 0, sizeof F);
  memset(&cur, 0, sizeof cur);
  requests_out = 0;
  F.slot = moat_open(M, 0, 0, 0);
  check(F.slot);
  if (F.slot < 0) die("no slot");
  F.bl_at = 65536;
  put(",\"requests\":[");
  uint32_t step = bytewise ? 1 : (len ? len : 1);
  for (uint32_t at = 0; at < len; at += step) {
    push(in + at, len - at < step ? len - at : step);
    while (F.paused && !F.closed) { F.paused = 0; pump(); }
    if (F.has_error || F.closed) break;
  }
  check(moat_close(M, (uint32_t)F.slot));
  if (!F.has_error && !F.closed && (F.in_request || F.kept > 0)) { F.has_error = 1; F.status = -1; F.code = -1; }
  put("],\"error\":");
  if (!F.has_error) put("null");
  else {
    put("{\"status\":"); if (F.status < 0) put("null"); else put_u(F.status);
    put(",\"code\":"); put_u(F.code); put("}");
  }
  put("}\n");
  fwrite(line, 1, line_len, stdout);
}

static int conformance(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) die("cannot open the case file");
  uint8_t h[8];
  if (fread(h, 1, 8, f) != 8 || memcmp(h, "MCI1", 4)) die("not a case file (MCI1)");
  uint32_t n = rd32(h + 4);
  for (uint32_t i = 0; i < n; i++) {
    uint8_t w[4 * (L_N + 1)];
    if (fread(w, 1, sizeof w, f) != sizeof w) die("truncated case file");
    uint32_t limits[L_N];
    for (int k = 0; k < L_N; k++) limits[k] = rd32(w + 4 * k);
    uint32_t len = rd32(w + 4 * L_N), padded = (len + 3) & ~3u;
    if (padded > RAW_MAX) die("case larger than the driver's buffer");
    if (fread(raw, 1, padded, f) != padded) die("truncated case file");
    inspect(i, limits, raw, len, 0);
    inspect(i, limits, raw, len, 1);
  }
  fclose(f);
  return 0;
}

/* ---- --bench / --noop ---------------------------------------------------------------------- */
/* open/read (librdimon's semihosting calls), not stdio: fopen would malloc a FILE block and a buffer
 * from the firmware heap this image measures. */
static int load_files(int nfiles, char **files, uint8_t **req, uint32_t *len) {
  uint32_t used = 0;
  for (int i = 0; i < nfiles; i++) {
    int fd = open(files[i], O_RDONLY);
    if (fd < 0) { fprintf(stderr, "moat-cm: cannot open %s\n", files[i]); return -1; }
    req[i] = raw + used;
    len[i] = 0;
    for (int n; (n = read(fd, raw + used + len[i], RAW_MAX - used - len[i])) > 0; ) len[i] += (uint32_t)n;
    used += len[i];
    close(fd);
  }
  return 0;
}

static uint32_t bench_client = 0;   /* --client: 0 = a host that does not track clients */

static int bench(long iterations, int respond, int nfiles, char **files) {
  uint8_t *req[16];
  uint32_t len[16];
  if (nfiles > 16) nfiles = 16;
  if (load_files(nfiles, files, req, len)) return 1;
  int32_t cp = moat_config_ptr(M);
  if (cp < 0 || moat_write(M, (uint32_t)cp, moat_config, MOAT_CONFIG_BYTES) || moat_init(M) < 0) die("init failed");
  return moat_bench_loop(M, iterations, respond, nfiles, req, len, files, bench_client);
}

/* ---- --ram: 8 connections mid-request at once ------------------------------------------------
 * Each piece is fed like a firmware feeds a socket read (boards/README.md "Feeding it"): the
 * connection's retained token, then the new bytes, into the shared window. Lines:
 *   {"c":K,"n":ROUND,"r":[the 10 result words],"s":[[kind,field,"hex"],...]}   after each feed
 *   {"c":K,"n":ROUND,"head":"hex"}                                                after respond(200)
 * test/cortex-m.test.ts replays the same plan on V8 and requires the same lines. */
#define RAM_CONNS 8
static HARNESS uint8_t ram_kept[RAM_CONNS][65536];   /* a firmware's per-connection token buffer */

static void ram_line(int k, long round, const uint32_t r[MOAT_R_WORDS]) {
  int32_t in = moat_input_ptr(M);
  check(in);
  line_len = 0;
  put("{\"c\":"); put_u(k); put(",\"n\":"); put_u(round); put(",\"r\":[");
  for (int i = 0; i < MOAT_R_WORDS; i++) { if (i) put(","); put_u32(r[i]); }
  put("],\"s\":[");
  for (uint32_t i = 0; i < r[MOAT_R_SPANS]; i++) {
    uint16_t sp[4];
    if (moat_span(M, i, sp)) die("span record outside memory");
    const uint8_t *p = moat_ptr(M, (uint32_t)in + sp[2], sp[3]);
    if (!p) die("span outside memory");
    put(i ? ",[" : "["); put_u(sp[0]); put(","); put_u(sp[1]); put(","); put_hex(p, sp[3]); put("]");
  }
  put("]}\n");
  fwrite(line, 1, line_len, stdout);
}

/* Feeds n more bytes of `req` to connection k; returns 1 when its request is complete. */
static int ram_feed(int k, long round, int32_t slot, const uint8_t *p, uint32_t n, uint32_t *kept, uint32_t now) {
  uint32_t r[MOAT_R_WORDS], to = kept[k] + n, from = 0;
  if (moat_write_window(M, 0, ram_kept[k], kept[k]) || moat_write_window(M, kept[k], p, n)) die("window overflow");
  for (;;) {
    check(moat_feed(M, (uint32_t)slot, from, to, now));
    if (moat_result(M, r)) die("result outside memory");
    ram_line(k, round, r);
    if (r[MOAT_R_VERDICT] & (MOAT_ERROR | MOAT_CLOSE)) die("a request of the --ram run was refused");
    if (r[MOAT_R_VERDICT] & MOAT_DONE) {
      if (r[MOAT_R_CONSUMED] != to) die("bytes after a request in the --ram run");
      kept[k] = 0;
      return 1;
    }
    if (r[MOAT_R_CONSUMED] < to && r[MOAT_R_VERDICT] != MOAT_NEED_MORE) { from = r[MOAT_R_CONSUMED]; continue; }
    uint32_t keep = to - r[MOAT_R_KEEP];
    const uint8_t *rest = moat_ptr(M, (uint32_t)moat_input_ptr(M) + r[MOAT_R_KEEP], keep);
    if (!rest || keep > sizeof ram_kept[k]) die("retained token outside the window");
    memmove(ram_kept[k], rest, keep);
    kept[k] = keep;
    return 0;
  }
}

static int ram(long rounds, uint32_t piece, int nfiles, char **files) {
  uint8_t *req[16];
  uint32_t len[16], at[RAM_CONNS], kept[RAM_CONNS] = { 0 };
  int32_t slot[RAM_CONNS];
  if (nfiles < 1 || piece < 1) die("--ram N PIECE FILE...");
  if (nfiles > 16) nfiles = 16;
  if (load_files(nfiles, files, req, len)) return 1;
  int32_t cp = moat_config_ptr(M);
  if (cp < 0 || moat_write(M, (uint32_t)cp, moat_config_board, MOAT_CONFIG_BYTES)) die("config outside memory");
  int32_t hw = moat_init(M);
  if (hw < 0) { fprintf(stderr, "moat-cm: init: %ld %s\n", (long)hw, moat_error(M)); return 1; }
  for (int k = 0; k < RAM_CONNS; k++) {
    slot[k] = moat_open(M, (uint32_t)k + 1, 0, 0);
    if (slot[k] < 0) die("open failed");
  }
  for (long n = 0; n < rounds; n++) {
    uint32_t now = (uint32_t)n * 100;
    int more = 1;
    for (int k = 0; k < RAM_CONNS; k++) at[k] = 0;
    while (more) {
      more = 0;
      for (int k = 0; k < RAM_CONNS; k++) {
        int f = (int)((k + n) % nfiles);
        if (len[f] - at[k] <= piece) continue;
        if (ram_feed(k, n, slot[k], req[f] + at[k], piece, kept, now)) die("a request ended before its last piece");
        at[k] += piece; more = 1;
      }
    }
    for (int k = 0; k < RAM_CONNS; k++) {
      int f = (int)((k + n) % nfiles);
      if (!ram_feed(k, n, slot[k], req[f] + at[k], len[f] - at[k], kept, now)) die("a request did not end with its last piece");
      int32_t head = moat_respond(M, (uint32_t)slot[k], 200, 0, 0, 0, now);
      check(head);
      const uint8_t *h = head > 0 ? moat_ptr(M, (uint32_t)moat_out_ptr(M), (uint32_t)head) : NULL;
      if (!h) die("respond failed");
      line_len = 0;
      put("{\"c\":"); put_u(k); put(",\"n\":"); put_u(n); put(",\"head\":"); put_hex(h, (uint32_t)head); put("}\n");
      fwrite(line, 1, line_len, stdout);
    }
    check(moat_tick(M, now, 0));
  }
  for (int k = 0; k < RAM_CONNS; k++) check(moat_close(M, (uint32_t)slot[k]));
  return 0;
}

/* C stack high-water (stackmark.c): 48 KiB painted below main's frame, inside the linker script's stack. */
#define PAINT_BYTES (48u * 1024)

static uint32_t memory_limit = MOAT_MEMORY_LIMIT;

static int run(int argc, char **argv) {
  char err[160] = "";
  int capped = 0;
  /* Options with a value, before the mode: each shifts argv by two. */
  for (;;) {
    if (argc >= 3 && strcmp(argv[1], "--memory-limit") == 0) { memory_limit = (uint32_t)strtoul(argv[2], NULL, 10); capped = 1; }
    else if (argc >= 3 && strcmp(argv[1], "--client") == 0) bench_client = (uint32_t)strtoul(argv[2], NULL, 0);
    else break;
    argv[2] = argv[0]; argv += 2; argc -= 2;
  }
  int compile_all = argc >= 2 && strcmp(argv[1], "--compile-all") == 0;
  if (compile_all) { argv[1] = argv[0]; argv++; argc--; }
  int ram_mode = argc >= 4 && strcmp(argv[1], "--ram") == 0;
  if (ram_mode && !capped) memory_limit = MOAT_BOARD_MEMORY_LIMIT;
  if (argc >= 2 && strcmp(argv[1], "--noop") == 0) {
    uint8_t *req[16]; uint32_t len[16];
    return load_files(argc - 2 > 16 ? 16 : argc - 2, argv + 2, req, len) ? 1 : 0;
  }
  M = moat_load_capped(moat_wasm, moat_wasm_len, memory_limit, err, sizeof err);
  if (!M) { fprintf(stderr, "moat-cm: %s\n", err); return 1; }
  const char *why = compile_all ? moat_probe_compile_all() : NULL;
  if (why) { fprintf(stderr, "moat-cm: compile: %s\n", why); return 1; }
  if (argc >= 3 && strcmp(argv[1], "--bench") == 0) return bench(atol(argv[2]), 1, argc - 3, argv + 3);
  if (argc >= 3 && strcmp(argv[1], "--bench-parse") == 0) return bench(atol(argv[2]), 0, argc - 3, argv + 3);
  if (ram_mode) return ram(atol(argv[2]), (uint32_t)strtoul(argv[3], NULL, 10), argc - 4, argv + 4);
  if (argc == 2) return conformance(argv[1]);
  fprintf(stderr, "usage: moat-cm CASES.bin | --bench N FILE... | --bench-parse N FILE... | --ram N PIECE FILE... | --noop FILE...\n");
  return 2;
}

int main(int argc, char **argv) {
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  moat_stack_paint(PAINT_BYTES);
  int status = run(argc, argv);
  fflush(stdout);
  uint32_t pages, filled, code = moat_probe_code_pages(&pages, &filled);
  fprintf(stderr, "# %s, memory limit %lu, heap peak %lu of %lu bytes, stack %lu bytes, value stack %lu of %lu bytes\n", moat_engine_name(),
    (unsigned long)memory_limit, (unsigned long)moat_heap_peak(), (unsigned long)moat_heap_size(), (unsigned long)moat_stack_used(),
    (unsigned long)moat_probe_value_stack(), (unsigned long)moat_probe_value_stack_size());
  fprintf(stderr, "# heap in use: before runtime %lu, runtime %lu, parsed %lu, loaded %lu, at exit %lu; code pages %lu, %lu bytes (%lu filled)\n",
    (unsigned long)moat_probe_in_use(0), (unsigned long)moat_probe_in_use(1), (unsigned long)moat_probe_in_use(2),
    (unsigned long)moat_probe_in_use(3), (unsigned long)moat_probe_in_use(-1), (unsigned long)pages, (unsigned long)code, (unsigned long)filled);
  return status;
}
