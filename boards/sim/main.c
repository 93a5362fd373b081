/* boards/sim/main.c: the desktop board simulator. Loads build/moat.wasm through the board glue
 * (moat_engine.h + one backend) and exposes the module ABI on stdin/stdout, one command per line;
 * host/engines.ts drives it for the test suite and `moat inspect --engine`.
 *
 *   moat-sim MODULE.wasm                 line protocol (below); first line out: "ok <memory bytes> <engine>"
 *   moat-sim MODULE.wasm --bench N F...  feeds each file (one request each) N times in turn on a
 *                                        keep-alive connection, answering each; for callgrind.
 *   moat-sim MODULE.wasm --bench-parse N F...   the same without respond() (parsing only).
 *   moat-sim MODULE.wasm --client H --bench[-parse] N F...   the same on a connection of client hash H
 *                                        (not 0), the clock advancing 100 ms per request: the module
 *                                        also updates H's defense counters per request.
 *   moat-sim MODULE.wasm --memory-limit BYTES ...   caps linear memory (moat_load_capped(); 0 = none);
 *                                        without the flag, env MOAT_MEMORY_LIMIT. The "ok" line then
 *                                        reports the capped size; an init() whose high-water mark is
 *                                        above the cap answers "E init: high-water mark ...".
 *
 * Protocol: numbers are decimal (u32 or i32), byte strings lowercase hex; every command but W and C
 * answers one line; an error answers "E <message>" (after W or C the simulator exits: the host sees
 * it as the answer to its next command).
 *   P                         -> configPtr resultPtr inputPtr inputCap spansPtr outPtr eventsPtr eventsCap classesPtr
 *   I [blobhex]               write the config blob (<= 256 bytes) at configPtr, init()
 *                             -> hw inputPtr inputCap spansPtr resultPtr outPtr eventsPtr eventsCap blobhex(256 bytes after init)
 *   W off hex                 copy bytes into the input window at off (silent)
 *   F slot from to now        feed() -> the 10 result words, then the span records (8 bytes each) as hex
 *   O client tls now          open() -> slot or -code
 *   C slot                    close() (silent)
 *   R slot status length appLen opts now
 *                             respond() (application fields already in the window)
 *                             -> n, the 10 result words [, headhex when n > 0]
 *   T now from                tick() -> slot, then the 10 result words
 *   S code                    status() -> status
 *   N                         -> eventCount eventsPtr eventsCap
 *   M addr len                -> hex of linear memory [addr, addr+len)
 *   Q                         exit
 */
#include "moat_engine.h"
#include "bench_loop.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

/* The interpreter runs on a thread with a small, fixed C stack, as in a firmware task (and because
 * WAMR's Linux port asks pthread_getattr_np for the stack bounds on every call, which on the main
 * thread parses /proc/self/maps). */
#ifndef MOAT_SIM_STACK_BYTES
#define MOAT_SIM_STACK_BYTES (64 * 1024)
#endif

static moat_t *M;
static uint32_t memory_limit;   /* --memory-limit / MOAT_MEMORY_LIMIT; 0 = no cap */
static char *out;          /* one answer line */
static size_t out_cap, out_len;

static void out_room(size_t n) {
  if (out_len + n + 2 <= out_cap) return;
  while (out_len + n + 2 > out_cap) out_cap = out_cap ? 2 * out_cap : 1 << 16;
  out = realloc(out, out_cap);
  if (!out) { fputs("E out of memory\n", stdout); exit(3); }
}
static void put_str(const char *s) { size_t n = strlen(s); out_room(n); memcpy(out + out_len, s, n); out_len += n; }
static void put_i(long long v) { char b[24]; snprintf(b, sizeof b, out_len ? " %lld" : "%lld", v); put_str(b); }
static void put_hex(const uint8_t *p, uint32_t n) {
  static const char d[] = "0123456789abcdef";
  out_room(2 * (size_t)n + 1);
  out[out_len++] = ' ';
  for (uint32_t i = 0; i < n; i++) { out[out_len++] = d[p[i] >> 4]; out[out_len++] = d[p[i] & 15]; }
}
static void flush_line(void) {
  out_room(1);
  out[out_len++] = '\n';
  for (size_t at = 0; at < out_len;) {
    ssize_t n = write(1, out + at, out_len - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) exit(3);
    at += (size_t)n;
  }
  out_len = 0;
}
static void fail(const char *msg, int fatal) {
  out_len = 0; put_str("E "); put_str(msg); flush_line();
  if (fatal) exit(2);
}
static int trap_check(int32_t v) { if (v == INT32_MIN) { fail(moat_error(M), 0); return 1; } return 0; }

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
/* Decodes hex in place; returns the byte count or -1. */
static long unhex(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) n--;
  if (n % 2) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int a = hexval(s[2 * i]), b = hexval(s[2 * i + 1]);
    if (a < 0 || b < 0) return -1;
    s[i] = (char)(a << 4 | b);
  }
  return (long)(n / 2);
}

/* Parses up to `max` numbers from *p; returns how many. */
static int nums(char **p, long long *v, int max) {
  int k = 0;
  while (k < max) {
    while (**p == ' ') (*p)++;
    if (**p == '\0' || **p == '\n') break;
    char *end;
    errno = 0;
    v[k] = strtoll(*p, &end, 10);
    if (end == *p || errno) break;
    *p = end;
    k++;
  }
  return k;
}

static void put_result(void) {
  uint32_t r[MOAT_R_WORDS];
  if (moat_result(M, r)) { put_str(" ?"); return; }
  for (int i = 0; i < MOAT_R_WORDS; i++) put_i(r[i]);
}

static void put_pointers(void) {
  put_i(moat_input_ptr(M)); put_i(moat_input_cap(M)); put_i(moat_spans_ptr(M)); put_i(moat_result_ptr(M));
  put_i(moat_out_ptr(M)); put_i(moat_events_ptr(M)); put_i(moat_events_cap(M));
}

static void command(char *line) {
  long long v[6];
  char op = line[0], *p = line + 1;
  out_len = 0;
  switch (op) {
  case 'P': {
    put_i(moat_config_ptr(M)); put_i(moat_result_ptr(M)); put_i(moat_input_ptr(M)); put_i(moat_input_cap(M));
    put_i(moat_spans_ptr(M)); put_i(moat_out_ptr(M)); put_i(moat_events_ptr(M)); put_i(moat_events_cap(M));
    put_i(moat_classes_ptr(M));
    break;
  }
  case 'I': {
    while (*p == ' ') p++;
    long n = unhex(p);
    int32_t cp = moat_config_ptr(M);
    if (n < 0 || n > (long)MOAT_CONFIG_BYTES || moat_write(M, (uint32_t)cp, p, (uint32_t)n)) { fail("I: bad blob", 0); return; }
    int32_t hw = moat_init(M);
    if (trap_check(hw)) return;
    put_i(hw); put_pointers();
    put_hex(moat_ptr(M, (uint32_t)cp, MOAT_CONFIG_BYTES), MOAT_CONFIG_BYTES);
    break;
  }
  case 'W': {
    if (nums(&p, v, 1) != 1) fail("W: bad arguments", 1);
    while (*p == ' ') p++;
    long n = unhex(p);
    if (n < 0 || v[0] < 0 || moat_write_window(M, (uint32_t)v[0], p, (uint32_t)n)) fail("W: outside the input window", 1);
    return;
  }
  case 'F': {
    if (nums(&p, v, 4) != 4) { fail("F: bad arguments", 0); return; }
    if (trap_check(moat_feed(M, (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2], (uint32_t)v[3]))) return;
    uint32_t r[MOAT_R_WORDS];
    moat_result(M, r);
    for (int i = 0; i < MOAT_R_WORDS; i++) put_i(r[i]);
    uint8_t *s = moat_ptr(M, (uint32_t)moat_spans_ptr(M), MOAT_SPAN_BYTES * r[MOAT_R_SPANS]);
    if (!s) { fail("F: span records outside memory", 0); return; }
    if (r[MOAT_R_SPANS]) put_hex(s, MOAT_SPAN_BYTES * r[MOAT_R_SPANS]);
    break;
  }
  case 'O': {
    if (nums(&p, v, 3) != 3) { fail("O: bad arguments", 0); return; }
    int32_t s = moat_open(M, (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2]);
    if (trap_check(s)) return;
    put_i(s);
    break;
  }
  case 'C': {
    if (nums(&p, v, 1) != 1) fail("C: bad arguments", 1);
    if (moat_close(M, (uint32_t)v[0]) == INT32_MIN) fail(moat_error(M), 1);
    return;
  }
  case 'R': {
    if (nums(&p, v, 6) != 6) { fail("R: bad arguments", 0); return; }
    int32_t n = moat_respond(M, (uint32_t)v[0], (uint32_t)v[1], (int32_t)v[2], (uint32_t)v[3], (uint32_t)v[4], (uint32_t)v[5]);
    if (trap_check(n)) return;
    put_i(n); put_result();
    if (n > 0) {
      uint8_t *h = moat_ptr(M, (uint32_t)moat_out_ptr(M), (uint32_t)n);
      if (!h) { fail("R: head outside memory", 0); return; }
      put_hex(h, (uint32_t)n);
    }
    break;
  }
  case 'T': {
    if (nums(&p, v, 2) != 2) { fail("T: bad arguments", 0); return; }
    int32_t s = moat_tick(M, (uint32_t)v[0], (uint32_t)v[1]);
    if (trap_check(s)) return;
    put_i(s); put_result();
    break;
  }
  case 'S': {
    if (nums(&p, v, 1) != 1) { fail("S: bad arguments", 0); return; }
    int32_t s = moat_status(M, (uint32_t)v[0]);
    if (trap_check(s)) return;
    put_i(s);
    break;
  }
  case 'N': put_i(moat_event_count(M)); put_i(moat_events_ptr(M)); put_i(moat_events_cap(M)); break;
  case 'M': {
    if (nums(&p, v, 2) != 2 || v[0] < 0 || v[1] < 0) { fail("M: bad arguments", 0); return; }
    uint8_t *m = moat_ptr(M, (uint32_t)v[0], (uint32_t)v[1]);
    if (!m) { fail("M: outside memory", 0); return; }
    put_str("0"); put_hex(m, (uint32_t)v[1]);
    break;
  }
  case 'Q': exit(0);
  default: fail("unknown command", 0); return;
  }
  flush_line();
}

/* Reads one line from fd 0 into *buf (NUL-terminated, newline kept); 0 at EOF. Before blocking it
 * polls for up to MOAT_SIM_SPIN_US: the host answers within microseconds, and on a virtual machine
 * a blocked reader takes tens of microseconds to wake up on another CPU. */
#ifndef MOAT_SIM_SPIN_US
#define MOAT_SIM_SPIN_US 200
#endif
static char *in_buf;
static size_t in_cap, in_have;
static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}
static int wait_input(void) {
  struct pollfd p = { 0, POLLIN, 0 };
  long long until = 0;
  for (int i = 0;; i++) {
    int r = poll(&p, 1, 0);
    if (r != 0) return r;
    if (i == 0) until = now_us() + MOAT_SIM_SPIN_US;
    else if ((i & 15) == 0 && now_us() > until) return poll(&p, 1, -1);
  }
}
static long read_line(char **line) {
  size_t scanned = 0;
  for (;;) {
    char *nl = in_have > scanned ? memchr(in_buf + scanned, '\n', in_have - scanned) : NULL;
    if (nl) {
      size_t n = (size_t)(nl - in_buf) + 1;
      static char *cur;
      static size_t cur_cap;
      if (n + 1 > cur_cap) { cur_cap = n + 1; cur = realloc(cur, cur_cap); if (!cur) exit(3); }
      memcpy(cur, in_buf, n);
      cur[n] = 0;
      memmove(in_buf, in_buf + n, in_have - n);
      in_have -= n;
      *line = cur;
      return (long)n;
    }
    scanned = in_have;
    if (in_have == in_cap) { in_cap = in_cap ? 2 * in_cap : 1 << 16; in_buf = realloc(in_buf, in_cap); if (!in_buf) exit(3); }
    if (wait_input() < 0 && errno != EINTR) return 0;
    ssize_t r = read(0, in_buf + in_have, in_cap - in_have);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) return 0;
    in_have += (size_t)r;
  }
}

static uint8_t *read_file(const char *path, uint32_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
  if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(b); return NULL; }
  fclose(f);
  *len = (uint32_t)n;
  return b;
}

static uint32_t bench_client = 0;   /* --client: 0 = a host that does not track clients */

/* --bench: each file is one request; feed it whole, answer 200, repeat. Exits 1 on any surprise.
 * With --client H the connection is client H's and the clock advances 100 ms per request, so the
 * module also updates that client's defense counters on each one (what a serving host pays). */
static int bench(long iterations, int respond, int nfiles, char **files) {
  uint8_t *req[16];
  uint32_t len[16];
  if (nfiles > 16) nfiles = 16;
  for (int i = 0; i < nfiles; i++) if (!(req[i] = read_file(files[i], &len[i]))) { fprintf(stderr, "cannot read %s\n", files[i]); return 1; }
  uint8_t blank[MOAT_CONFIG_BYTES] = { 0 };
  moat_write(M, (uint32_t)moat_config_ptr(M), blank, sizeof blank);
  if (moat_init(M) < 0) { fprintf(stderr, "init failed\n"); return 1; }
  return moat_bench_loop(M, iterations, respond, nfiles, req, len, files, bench_client);
}

static int run(int argc, char **argv) {
  char err[160] = "";
  uint32_t len = 0;
  uint8_t *wasm = read_file(argv[1], &len);
  if (!wasm) { printf("E cannot read %s\n", argv[1]); return 1; }
  M = moat_load_capped(wasm, len, memory_limit, err, sizeof err);
  if (!M) { printf("E %s\n", err); return 1; }
  if (argc >= 4 && strcmp(argv[2], "--bench") == 0) return bench(atol(argv[3]), 1, argc - 4, argv + 4);
  if (argc >= 4 && strcmp(argv[2], "--bench-parse") == 0) return bench(atol(argv[3]), 0, argc - 4, argv + 4);
  uint32_t size = 0;
  moat_memory(M, &size);
  out_len = 0; put_str("ok"); put_i(size); put_str(" "); put_str(moat_engine_name()); flush_line();
  char *line = NULL;
  while (read_line(&line) > 0) command(line);
  moat_unload(M);
  return 0;
}

struct args { int argc; char **argv; int status; };
static void *thread_main(void *p) {
  struct args *a = p;
  a->status = run(a->argc, a->argv);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: moat-sim MODULE.wasm [--memory-limit BYTES] [--client H] [--bench[-parse] N FILE...]\n"); return 2; }
  const char *limit = getenv("MOAT_MEMORY_LIMIT");
  /* Options with a value, before the mode: each drops two arguments (argv[argc] is NULL). */
  for (;;) {
    if (argc >= 4 && strcmp(argv[2], "--memory-limit") == 0) limit = argv[3];
    else if (argc >= 4 && strcmp(argv[2], "--client") == 0) bench_client = (uint32_t)strtoul(argv[3], NULL, 0);
    else break;
    for (int i = 4; i <= argc; i++) argv[i - 2] = argv[i];
    argc -= 2;
  }
  if (limit && *limit) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(limit, &end, 10);
    if (*end || errno || v > 0xffffffffUL) { printf("E bad memory limit %s\n", limit); return 2; }
    memory_limit = (uint32_t)v;
  }
  struct args a = { argc, argv, 1 };
  pthread_attr_t attr;
  pthread_t t;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, MOAT_SIM_STACK_BYTES);
  if (pthread_create(&t, &attr, thread_main, &a)) { fprintf(stderr, "moat-sim: no thread\n"); return 1; }
  pthread_join(t, NULL);
  return a.status;
}
