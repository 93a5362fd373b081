/* boards/cortex-m/probe_wamr.c: probe.c's figures for the WAMR classic image. Measurement only:
 * linked with -Wl,--wrap around three WAMR calls the glue makes while loading (runtime init, load,
 * exec env), so WAMR and the glue stay unchanged. After each it records malloc's in-use bytes, and
 * it has the exec env's Wasm stack painted to find how deep it gets (probe_heap.c). WAMR interprets
 * the module's bytes as they are, so there are no code pages and nothing to compile at load. */
#include "wasm_export.h"
#include "wasm_exec_env.h"
#include <stdint.h>

void moat_probe_step(int step);              /* probe_heap.c */
void moat_probe_paint(void *lo, void *hi);

bool __real_wasm_runtime_full_init(RuntimeInitArgs *args);
wasm_module_t __real_wasm_runtime_load(const uint8_t *buf, uint32_t size, char *error_buf, uint32_t error_buf_size);
wasm_exec_env_t __real_wasm_runtime_create_exec_env(wasm_module_inst_t inst, uint32_t stack_size);

/* Steps: before the runtime, after it, after the module's copy and load, after instance + exec env. */
bool __wrap_wasm_runtime_full_init(RuntimeInitArgs *args) {
  moat_probe_step(0);
  bool ok = __real_wasm_runtime_full_init(args);
  moat_probe_step(1);
  return ok;
}

wasm_module_t __wrap_wasm_runtime_load(const uint8_t *buf, uint32_t size, char *error_buf, uint32_t error_buf_size) {
  wasm_module_t m = __real_wasm_runtime_load(buf, size, error_buf, error_buf_size);
  moat_probe_step(2);
  return m;
}

wasm_exec_env_t __wrap_wasm_runtime_create_exec_env(wasm_module_inst_t inst, uint32_t stack_size) {
  wasm_exec_env_t env = __real_wasm_runtime_create_exec_env(inst, stack_size);
  moat_probe_step(3);
  if (env) { WASMExecEnv *e = (WASMExecEnv *)env; moat_probe_paint(e->wasm_stack.s.top, e->wasm_stack.s.top_boundary); }
  return env;
}

const char *moat_probe_compile_all(void) { return NULL; }
uint32_t moat_probe_code_pages(uint32_t *count, uint32_t *filled) { if (count) *count = 0; if (filled) *filled = 0; return 0; }
