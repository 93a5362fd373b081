/* moat_wasm3.c: the Moat module in wasm3 (sources: the sdist of PyPI pywasm3 0.5.0).
 *
 * Build with wasm3's embedded-platform defaults (boards/README.md has the table), e.g.
 *   cc -Os -Dd_m3MaxFunctionStackHeight=128 -Dd_m3CodePageAlignSize=1024 -Dd_m3MaxConstantTableSize=64
 *      -Dd_m3VerboseErrorMessages=0 -Dd_m3HasFloat=0 -I<wasm3> <wasm3>/m3_*.c moat_engine.c moat_wasm3.c
 * The module is compiled function by function on first call (wasm3's lazy compilation), so the first
 * call of each export costs more than later ones. MOAT_WASM3_STACK_BYTES is wasm3's value stack
 * (allocated from the heap, not the C stack); the C stack needs a few KiB on top of the caller's.
 * moat_load_capped() sets wasm3's runtime->memoryLimit (m3_env.h; 0.5.0 has no setter): ResizeMemory
 * then mallocs min(limit, 64 KiB) bytes for the module's one page and every bounds check (loads,
 * stores, data segments, m3_GetMemory) uses that length, so an access above the cap traps.
 */
#include "moat_engine.h"
#include "wasm3.h"
#include "m3_env.h"   /* IM3Runtime fields: memoryLimit */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MOAT_WASM3_STACK_BYTES
#define MOAT_WASM3_STACK_BYTES (4 * 1024)
#endif

struct moat {
  IM3Environment env;
  IM3Runtime runtime;
  IM3Function fn[MOAT_FN_COUNT];
  moat_layout_t layout;
  uint32_t memory_limit;     /* 0 = no cap */
  char error[224];
};

static void set_error(char *dst, size_t n, const char *what, const char *detail) {
  if (dst && n) snprintf(dst, n, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

moat_t *moat_load(const uint8_t *wasm, uint32_t len, char *err, size_t errlen) {
  return moat_load_capped(wasm, len, 0, err, errlen);
}

moat_t *moat_load_capped(const uint8_t *wasm, uint32_t len, uint32_t memory_limit, char *err, size_t errlen) {
  moat_t *m = calloc(1, sizeof *m);
  IM3Module module = NULL;
  M3Result r = NULL;
  if (!m) { set_error(err, errlen, "out of memory", NULL); return NULL; }
  m->env = m3_NewEnvironment();
  m->runtime = m->env ? m3_NewRuntime(m->env, MOAT_WASM3_STACK_BYTES, NULL) : NULL;
  if (!m->runtime) { set_error(err, errlen, "wasm3: no runtime", NULL); moat_unload(m); return NULL; }
  /* Before m3_LoadModule: that is where the module's memory is allocated (ResizeMemory). */
  m->memory_limit = memory_limit;
  m->runtime->memoryLimit = memory_limit;
  r = m3_ParseModule(m->env, &module, wasm, len);
  if (r) { set_error(err, errlen, "wasm3 parse", r); moat_unload(m); return NULL; }
  r = m3_LoadModule(m->runtime, module);
  if (r) {
    char why[96];
    snprintf(why, sizeof why, memory_limit ? "%s (memory limit %lu bytes)" : "%s", r, (unsigned long)memory_limit);
    set_error(err, errlen, "wasm3 load", why); m3_FreeModule(module); moat_unload(m); return NULL;
  }
  for (int i = 0; i < MOAT_FN_COUNT; i++) {
    r = m3_FindFunction(&m->fn[i], m->runtime, moat_fn_name[i]);
    if (r) { set_error(err, errlen, moat_fn_name[i], r); moat_unload(m); return NULL; }
  }
  return m;
}

void moat_unload(moat_t *m) {
  if (!m) return;
  if (m->runtime) m3_FreeRuntime(m->runtime);
  if (m->env) m3_FreeEnvironment(m->env);
  free(m);
}

uint8_t *moat_memory(moat_t *m, uint32_t *size) {
  uint32_t n = 0;
  uint8_t *p = m3_GetMemory(m->runtime, &n, 0);
  if (size) *size = p ? n : 0;
  return p;
}

int moat_call(moat_t *m, moat_fn fn, const uint32_t *args, int32_t *ret) {
  const void *argp[6];
  int n = moat_fn_params[fn];
  for (int i = 0; i < n; i++) argp[i] = &args[i];
  M3Result r = m3_Call(m->fn[fn], (uint32_t)n, argp);
  if (r) {
    M3ErrorInfo info;
    m3_GetErrorInfo(m->runtime, &info);
    snprintf(m->error, sizeof m->error, "%s: %s%s%s", moat_fn_name[fn], r, info.message ? " " : "", info.message ? info.message : "");
    return -1;
  }
  *ret = 0;
  if (m3_GetRetCount(m->fn[fn]) > 0) {
    const void *retp[1] = { ret };
    r = m3_GetResults(m->fn[fn], 1, retp);
    if (r) { snprintf(m->error, sizeof m->error, "%s: %s", moat_fn_name[fn], r); return -1; }
  }
  return 0;
}

const char *moat_error(moat_t *m) { return m->error; }
uint32_t moat_memory_limit(moat_t *m) { return m->memory_limit; }
moat_layout_t *moat_layout(moat_t *m) { return &m->layout; }
void moat_set_error(moat_t *m, const char *msg) { snprintf(m->error, sizeof m->error, "%s", msg); }
const char *moat_engine_name(void) { return "wasm3 " M3_VERSION; }
