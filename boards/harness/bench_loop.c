/* boards/harness/bench_loop.c: the loop behind --bench / --bench-parse in both board drivers (the
 * desktop simulator, boards/sim/main.c, and the Cortex-M image, boards/cortex-m/main.c), so that
 * callgrind's x86 counts and qemu's Thumb counts measure the same host work per request: copy the
 * request into the window, feed it (again from `consumed` after a pause), read the result record,
 * answer. Harness code, not firmware glue. */
#include "bench_loop.h"
#include <stdio.h>

static int trapped(moat_t *m, int32_t v) {
  if (v != INT32_MIN) return 0;
  fprintf(stderr, "trap: %s\n", moat_error(m));
  return 1;
}

int moat_bench_loop(moat_t *m, long iterations, int respond, int n, uint8_t *const *req, const uint32_t *len,
                    char *const *names, uint32_t client) {
  int32_t slot = moat_open(m, client, 0, 0);
  if (slot < 0) { fprintf(stderr, "open failed (%ld)\n", (long)slot); return 1; }
  uint32_t r[MOAT_R_WORDS], now = 0;
  for (long it = 0; it < iterations; it++) {
    for (int i = 0; i < n; i++) {
      if (moat_write_window(m, 0, req[i], len[i])) { fprintf(stderr, "%s: larger than the window\n", names[i]); return 1; }
      uint32_t from = 0;
      if (client) now += 100;
      for (;;) {
        if (trapped(m, moat_feed(m, (uint32_t)slot, from, len[i], now))) return 1;
        if (moat_result(m, r)) { fprintf(stderr, "result record outside memory\n"); return 1; }
        if (r[MOAT_R_VERDICT] & (MOAT_ERROR | MOAT_CLOSE)) { fprintf(stderr, "%s: rejected (code %lu)\n", names[i], (unsigned long)r[MOAT_R_CODE]); return 1; }
        if (r[MOAT_R_VERDICT] & MOAT_DONE) break;
        if (r[MOAT_R_VERDICT] == MOAT_NEED_MORE) { fprintf(stderr, "%s: incomplete\n", names[i]); return 1; }
        from = r[MOAT_R_CONSUMED];
      }
      if (respond) {
        int32_t head = moat_respond(m, (uint32_t)slot, 200, 0, 0, 0, now);
        if (trapped(m, head)) return 1;
        if (head <= 0) { fprintf(stderr, "respond failed (%ld)\n", (long)head); return 1; }
      }
    }
  }
  if (trapped(m, moat_close(m, (uint32_t)slot))) return 1;
  printf("%ld requests\n", iterations * n);
  return 0;
}
