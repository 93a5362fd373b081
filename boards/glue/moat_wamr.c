/* moat_wamr.c: the Moat module in WAMR's interpreter (sources: the crate wamr-sys 0.1.1, which
 * carries wasm-micro-runtime/). Built twice by boards/scripts/build-sim.mjs: fast interpreter
 * (WAMR_BUILD_FAST_INTERP=1) and classic interpreter (=0), and by build-cortex-m.mjs (classic, bare
 * metal); no AOT, no JIT, no WASI, software bounds checks (WAMR_DISABLE_HW_BOUND_CHECK=1, as on an
 * MCU). boards/README.md has the table.
 *
 * WAMR takes all its memory from one pool the firmware reserves (MOAT_WAMR_POOL_BYTES, static), or
 * from the C library's malloc when that is 0 (the Cortex-M image, so its heap high-water mark counts
 * everything); the module gets no app heap (heap_size 0: it imports and allocates nothing). The Wasm
 * operand and frame stack of the exec env is MOAT_WAMR_STACK_BYTES, taken from the same memory.
 *
 * The classic loader rewrites opcodes in the bytes it is given (and both interpreters keep pointers
 * into them), so the glue loads a private copy: the caller's bytes may sit in flash.
 *
 * Memory cap: WAMR sizes linear memory as pages of the module's num_bytes_per_page (64 KiB unless
 * its own loader shrinks it), so moat_load_capped() sets that to the cap before instantiating, as
 * the loader itself does for modules it can shrink. The module declares exactly one page and never
 * grows, so memory.size still says 1 and every bounds check uses the capped size.
 */
#include "moat_engine.h"
#include "wasm_export.h"
#include "wasm.h"   /* WASMModule: the memory's page size, for the cap */
#include <stdio.h>
#include <string.h>

#ifndef MOAT_WAMR_POOL_BYTES
#define MOAT_WAMR_POOL_BYTES (256 * 1024)
#endif
#ifndef MOAT_WAMR_STACK_BYTES
#define MOAT_WAMR_STACK_BYTES (8 * 1024)
#endif

struct moat {
  wasm_module_t module;
  wasm_module_inst_t inst;
  wasm_exec_env_t env;
  wasm_function_inst_t fn[MOAT_FN_COUNT];
  moat_layout_t layout;
  uint32_t memory_limit;
  uint8_t *bytes;            /* the module's private, writable copy */
  char error[224];
};

#if MOAT_WAMR_POOL_BYTES > 0
static char pool[MOAT_WAMR_POOL_BYTES] __attribute__((aligned(8)));
#endif
static moat_t the_moat;      /* one module per runtime pool: a firmware embeds exactly one */
static int runtime_up = 0;

moat_t *moat_load(const uint8_t *wasm, uint32_t len, char *err, size_t errlen) {
  return moat_load_capped(wasm, len, 0, err, errlen);
}

moat_t *moat_load_capped(const uint8_t *wasm, uint32_t len, uint32_t memory_limit, char *err, size_t errlen) {
  moat_t *m = &the_moat;
  char e[128] = "";
  if (runtime_up) { snprintf(err, errlen, "wamr: a module is already loaded"); return NULL; }
  RuntimeInitArgs args;
  memset(&args, 0, sizeof args);
#if MOAT_WAMR_POOL_BYTES > 0
  args.mem_alloc_type = Alloc_With_Pool;
  args.mem_alloc_option.pool.heap_buf = pool;
  args.mem_alloc_option.pool.heap_size = sizeof pool;
#else
  args.mem_alloc_type = Alloc_With_System_Allocator;
#endif
  if (!wasm_runtime_full_init(&args)) { snprintf(err, errlen, "wamr: runtime init failed"); return NULL; }
  runtime_up = 1;
  memset(m, 0, sizeof *m);
  m->memory_limit = memory_limit;
  if (!(m->bytes = wasm_runtime_malloc(len))) { snprintf(err, errlen, "wamr: memory allocation failed for the module's %lu-byte copy", (unsigned long)len); moat_unload(m); return NULL; }
  memcpy(m->bytes, wasm, len);
  m->module = wasm_runtime_load(m->bytes, len, e, sizeof e);
  if (!m->module) { snprintf(err, errlen, "wamr load: %s", e); moat_unload(m); return NULL; }
  WASMModule *wm = (WASMModule *)m->module;
  if (memory_limit > 0 && wm->memory_count == 1 && wm->memories[0].init_page_count == 1 && wm->memories[0].max_page_count == 1
      && memory_limit < wm->memories[0].num_bytes_per_page)
    wm->memories[0].num_bytes_per_page = memory_limit;
  m->inst = wasm_runtime_instantiate(m->module, MOAT_WAMR_STACK_BYTES, 0, e, sizeof e);
  if (!m->inst) { snprintf(err, errlen, "wamr instantiate: %s", e); moat_unload(m); return NULL; }
  m->env = wasm_runtime_create_exec_env(m->inst, MOAT_WAMR_STACK_BYTES);
  if (!m->env) { snprintf(err, errlen, "wamr: memory allocation failed for the exec env (%lu-byte Wasm stack)", (unsigned long)MOAT_WAMR_STACK_BYTES); moat_unload(m); return NULL; }
  for (int i = 0; i < MOAT_FN_COUNT; i++) {
    m->fn[i] = wasm_runtime_lookup_function(m->inst, moat_fn_name[i], NULL);
    if (!m->fn[i]) { snprintf(err, errlen, "wamr: no export %s", moat_fn_name[i]); moat_unload(m); return NULL; }
  }
  return m;
}

void moat_unload(moat_t *m) {
  if (!m) return;
  if (m->env) wasm_runtime_destroy_exec_env(m->env);
  if (m->inst) wasm_runtime_deinstantiate(m->inst);
  if (m->module) wasm_runtime_unload(m->module);
  if (m->bytes) wasm_runtime_free(m->bytes);
  memset(m, 0, sizeof *m);
  if (runtime_up) { wasm_runtime_destroy(); runtime_up = 0; }
}

uint8_t *moat_memory(moat_t *m, uint32_t *size) {
  uint32_t start = 0, end = 0;
  if (!m->inst || !wasm_runtime_get_app_addr_range(m->inst, 0, &start, &end)) { if (size) *size = 0; return NULL; }
  if (size) *size = end - start;
  return wasm_runtime_addr_app_to_native(m->inst, start);
}

int moat_call(moat_t *m, moat_fn fn, const uint32_t *args, int32_t *ret) {
  uint32_t argv[6] = { 0 };
  int n = moat_fn_params[fn];
  for (int i = 0; i < n; i++) argv[i] = args[i];
  if (!wasm_runtime_call_wasm(m->env, m->fn[fn], (uint32_t)n, argv)) {
    const char *x = wasm_runtime_get_exception(m->inst);
    snprintf(m->error, sizeof m->error, "%s: %s", moat_fn_name[fn], x ? x : "trap");
    wasm_runtime_clear_exception(m->inst);
    return -1;
  }
  *ret = fn == MOAT_FN_CLOSE ? 0 : (int32_t)argv[0];
  return 0;
}

const char *moat_error(moat_t *m) { return m->error; }
uint32_t moat_memory_limit(moat_t *m) { return m->memory_limit; }
moat_layout_t *moat_layout(moat_t *m) { return &m->layout; }
void moat_set_error(moat_t *m, const char *msg) { snprintf(m->error, sizeof m->error, "%s", msg); }
#if WASM_ENABLE_FAST_INTERP != 0
const char *moat_engine_name(void) { return "wamr fast-interp (wamr-sys 0.1.1)"; }
#else
const char *moat_engine_name(void) { return "wamr classic-interp (wamr-sys 0.1.1)"; }
#endif
