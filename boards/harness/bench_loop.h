/* boards/harness/bench_loop.h: the instruction-count loop of the board drivers (bench_loop.c). */
#ifndef MOAT_BENCH_LOOP_H
#define MOAT_BENCH_LOOP_H
#include "moat_engine.h"

/* Feeds each of the n requests (req[i], len[i] bytes, named names[i] in messages) whole, in turn,
 * `iterations` times on one keep-alive connection opened for `client` (0: a host that tracks no
 * clients; otherwise the clock advances 100 ms per request, so the default request-rate rule holds),
 * answering each with respond(200) when `respond` is set. The module must be configured and
 * initialised. Returns 0, or 1 after a message on stderr (a trap, a refused or incomplete request). */
int moat_bench_loop(moat_t *m, long iterations, int respond, int n, uint8_t *const *req, const uint32_t *len,
                    char *const *names, uint32_t client);

#endif
