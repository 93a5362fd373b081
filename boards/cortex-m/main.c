/* boards/cortex-m/main.c: the Moat module in wasm3 on an emulated Cortex-M4F (qemu mps2-an386).
 *
 * Links wasm3 + boards/glue (moat_engine.c, moat_wasm3.c) + the exact bytes of build/moat.wasm as a
 * C array (moat_wasm.c, generated) + the default config blob (moat_config.c, `moat config compile
 * --c`). I/O is semihosting: arguments from the emulator's command line, files opened on the host.
 *
 *   moat-cm.elf CASES.bin            conformance: every case whole and byte by byte, one line each
 *   moat-cm.elf --bench N F...       feeds each file (one request each) N times in turn on one
 *                                    keep-alive connection, answering each with 200 (instruction counts)
 *   moat-cm.elf --bench-parse N F... the same without respond() (parsing only)
 *   moat-cm.elf --noop F...          reads the files and exits (start-up baseline for --bench)
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
 * "# heap peak P of H bytes, stack S bytes" (malloc break high-water; C stack below main's frame).
 * Exit status: 0, 1 (bad input / trap / buffer overflow), 100+ (a CPU fault: startup.c).
 */
#include "moat_engine.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const unsigned char moat_wasm[];
extern const unsigned int moat_wasm_len;
extern const unsigned char moat_config[256];
#ifndef MOAT_MEMORY_LIMIT
#define MOAT_MEMORY_LIMIT 0u
#endif
uint32_t moat_heap_peak(void);
uint32_t moat_heap_size(void);

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
static int load_files(int nfiles, char **files, uint8_t **req, uint32_t *len) {
  uint32_t used = 0;
  for (int i = 0; i < nfiles; i++) {
    FILE *f = fopen(files[i], "rb");
    if (!f) { fprintf(stderr, "moat-cm: cannot open %s\n", files[i]); return -1; }
    req[i] = raw + used;
    len[i] = (uint32_t)fread(raw + used, 1, RAW_MAX - used, f);
    used += len[i];
    fclose(f);
  }
  return 0;
}

static int bench(long iterations, int respond, int nfiles, char **files) {
  uint8_t *req[16];
  uint32_t len[16], r[MOAT_R_WORDS];
  if (nfiles > 16) nfiles = 16;
  if (load_files(nfiles, files, req, len)) return 1;
  int32_t cp = moat_config_ptr(M);
  if (cp < 0 || moat_write(M, (uint32_t)cp, moat_config, MOAT_CONFIG_BYTES) || moat_init(M) < 0) die("init failed");
  int32_t slot = moat_open(M, 0, 0, 0);
  if (slot < 0) die("open failed");
  for (long it = 0; it < iterations; it++) {
    for (int i = 0; i < nfiles; i++) {
      if (moat_write_window(M, 0, req[i], len[i])) { fprintf(stderr, "%s: larger than the window\n", files[i]); return 1; }
      uint32_t from = 0;
      for (;;) {
        check(moat_feed(M, (uint32_t)slot, from, len[i], 0));
        moat_result(M, r);
        if (r[MOAT_R_VERDICT] & (MOAT_ERROR | MOAT_CLOSE)) { fprintf(stderr, "%s: rejected (code %u)\n", files[i], (unsigned)r[MOAT_R_CODE]); return 1; }
        if (r[MOAT_R_VERDICT] & MOAT_DONE) break;
        if (r[MOAT_R_VERDICT] == MOAT_NEED_MORE) { fprintf(stderr, "%s: incomplete\n", files[i]); return 1; }
        from = r[MOAT_R_CONSUMED];
      }
      if (respond && moat_respond(M, (uint32_t)slot, 200, 0, 0, 0, 0) <= 0) die("respond failed");
    }
  }
  moat_close(M, (uint32_t)slot);
  printf("%ld requests\n", iterations * nfiles);
  return 0;
}

/* ---- C stack high-water: paint below main's frame, scan at exit ----------------------------- */
#define PAINT_BYTES (48u * 1024)
#define PAINT 0xA5A5A5A5u
static uint32_t *paint_lo, *paint_hi;
static void stack_paint(void) {
  uint32_t here;
  paint_hi = (uint32_t *)(((uintptr_t)&here - 256) & ~(uintptr_t)3);
  paint_lo = paint_hi - PAINT_BYTES / 4;
  for (volatile uint32_t *p = paint_lo; p < paint_hi; p++) *p = PAINT;
}
static uint32_t stack_used(void) {
  uint32_t *p = paint_lo;
  while (p < paint_hi && *p == PAINT) p++;
  return (uint32_t)((char *)paint_hi - (char *)p) + 256;
}

static uint32_t memory_limit = MOAT_MEMORY_LIMIT;

static int run(int argc, char **argv) {
  char err[160] = "";
  if (argc >= 3 && strcmp(argv[1], "--memory-limit") == 0) {
    memory_limit = (uint32_t)strtoul(argv[2], NULL, 10);
    argv[2] = argv[0]; argv += 2; argc -= 2;
  }
  if (argc >= 2 && strcmp(argv[1], "--noop") == 0) {
    uint8_t *req[16]; uint32_t len[16];
    return load_files(argc - 2 > 16 ? 16 : argc - 2, argv + 2, req, len) ? 1 : 0;
  }
  M = moat_load_capped(moat_wasm, moat_wasm_len, memory_limit, err, sizeof err);
  if (!M) { fprintf(stderr, "moat-cm: %s\n", err); return 1; }
  if (argc >= 3 && strcmp(argv[1], "--bench") == 0) return bench(atol(argv[2]), 1, argc - 3, argv + 3);
  if (argc >= 3 && strcmp(argv[1], "--bench-parse") == 0) return bench(atol(argv[2]), 0, argc - 3, argv + 3);
  if (argc == 2) return conformance(argv[1]);
  fprintf(stderr, "usage: moat-cm CASES.bin | --bench N FILE... | --bench-parse N FILE... | --noop FILE...\n");
  return 2;
}

int main(int argc, char **argv) {
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  stack_paint();
  int status = run(argc, argv);
  fflush(stdout);
  fprintf(stderr, "# %s, memory limit %lu, heap peak %lu of %lu bytes, stack %lu bytes\n", moat_engine_name(),
    (unsigned long)memory_limit, (unsigned long)moat_heap_peak(), (unsigned long)moat_heap_size(), (unsigned long)stack_used());
  return status;
}
