/* boards/cortex-m/probe_wamr.c: probe.c's figures for the WAMR classic image. Measurement only:
 * linked with -Wl,--wrap around the WAMR calls the glue makes while loading (runtime init, load,
 * instantiate, exec env), so WAMR and the glue stay unchanged. After each it records malloc's
 * in-use bytes, and it paints the exec env's Wasm stack to find how deep it gets. WAMR interprets
 * the module's bytes as they are, so there are no code pages and nothing to compile at load. */
#include "wasm_export.h"
#include "wasm_exec_env.h"
#include <malloc.h>
#include <stdint.h>

#define VPAINT 0x5A5A5A5Au

static uint32_t *vs_lo, *vs_hi;
static uint32_t in_use[4];    /* before the runtime, after it, after load, after instantiate + exec env */

static uint32_t heap_in_use(void) { return (uint32_t)mallinfo().uordblks; }

bool __real_wasm_runtime_full_init(RuntimeInitArgs *args);
wasm_module_t __real_wasm_runtime_load(const uint8_t *buf, uint32_t size, char *error_buf, uint32_t error_buf_size);
wasm_exec_env_t __real_wasm_runtime_create_exec_env(wasm_module_inst_t inst, uint32_t stack_size);

bool __wrap_wasm_runtime_full_init(RuntimeInitArgs *args) {
  in_use[0] = heap_in_use();
  bool ok = __real_wasm_runtime_full_init(args);
  in_use[1] = heap_in_use();
  return ok;
}

wasm_module_t __wrap_wasm_runtime_load(const uint8_t *buf, uint32_t size, char *error_buf, uint32_t error_buf_size) {
  wasm_module_t m = __real_wasm_runtime_load(buf, size, error_buf, error_buf_size);
  in_use[2] = heap_in_use();
  return m;
}

wasm_exec_env_t __wrap_wasm_runtime_create_exec_env(wasm_module_inst_t inst, uint32_t stack_size) {
  wasm_exec_env_t env = __real_wasm_runtime_create_exec_env(inst, stack_size);
  in_use[3] = heap_in_use();
  if (env) {
    WASMExecEnv *e = (WASMExecEnv *)env;
    vs_lo = (uint32_t *)e->wasm_stack.s.top;
    vs_hi = (uint32_t *)e->wasm_stack.s.top_boundary;
    for (volatile uint32_t *p = vs_lo; p < vs_hi; p++) *p = VPAINT;
  }
  return env;
}

const char *moat_probe_compile_all(void) { return NULL; }

uint32_t moat_probe_value_stack(void) {
  if (!vs_lo) return 0;
  uint32_t *p = vs_hi;
  while (p > vs_lo && p[-1] == VPAINT) p--;
  return (uint32_t)((char *)p - (char *)vs_lo);
}
uint32_t moat_probe_value_stack_size(void) { return (uint32_t)((char *)vs_hi - (char *)vs_lo); }
uint32_t moat_probe_in_use(int i) { return i >= 0 && i < 4 ? in_use[i] : heap_in_use(); }
uint32_t moat_probe_code_pages(uint32_t *count, uint32_t *filled) { if (count) *count = 0; if (filled) *filled = 0; return 0; }
