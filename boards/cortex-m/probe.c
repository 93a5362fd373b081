/* boards/cortex-m/probe.c: where the image's heap goes, and how deep wasm3's value stack gets.
 * Measurement only: linked with -Wl,--wrap for three wasm3 calls the glue makes while loading
 * (m3_NewRuntime, m3_ParseModule, m3_LoadModule), so the glue and wasm3 stay unchanged. After each
 * call it records malloc's in-use bytes (probe_heap.c), which splits the load into runtime +
 * value stack, parsed module and linear memory. After m3_NewRuntime it has probe_heap.c paint the
 * value stack. moat_probe_compile_all() compiles the
 * whole module at once (main.c --compile-all: the worst case of lazy compilation). */
#include "wasm3.h"
#include "m3_env.h"
#include <stdint.h>

void moat_probe_step(int step);              /* probe_heap.c */
void moat_probe_paint(void *lo, void *hi);

static IM3Runtime probe_runtime;
static IM3Module probe_module;

IM3Runtime __real_m3_NewRuntime(IM3Environment env, u32 stack_bytes, void *userdata);
M3Result __real_m3_ParseModule(IM3Environment env, IM3Module *module, cbytes_t bytes, u32 len);
M3Result __real_m3_LoadModule(IM3Runtime runtime, IM3Module module);

/* Steps: before the runtime, after it, after parse, after load. */
IM3Runtime __wrap_m3_NewRuntime(IM3Environment env, u32 stack_bytes, void *userdata) {
  moat_probe_step(0);
  IM3Runtime r = __real_m3_NewRuntime(env, stack_bytes, userdata);
  moat_probe_step(1);
  if (r && r->stack) {
    probe_runtime = r;
    moat_probe_paint(r->stack, (char *)r->stack + r->numStackSlots * sizeof(m3slot_t));
  }
  return r;
}

M3Result __wrap_m3_ParseModule(IM3Environment env, IM3Module *module, cbytes_t bytes, u32 len) {
  M3Result r = __real_m3_ParseModule(env, module, bytes, len);
  moat_probe_step(2);
  return r;
}

M3Result __wrap_m3_LoadModule(IM3Runtime runtime, IM3Module module) {
  M3Result r = __real_m3_LoadModule(runtime, module);
  moat_probe_step(3);
  if (!r) probe_module = module;
  return r;
}

/* Compiles every function now (wasm3's public m3_CompileModule) instead of on first call: the heap
 * a firmware needs whatever requests arrive later. NULL or wasm3's error. */
const char *moat_probe_compile_all(void) {
  return probe_module ? m3_CompileModule(probe_module) : "no module loaded";
}

/* wasm3's code pages (both of the runtime's lists): how many, bytes allocated, bytes of them filled. */
uint32_t moat_probe_code_pages(uint32_t *count, uint32_t *filled) {
  uint32_t n = 0, bytes = 0, used = 0;
  if (probe_runtime) {
    IM3CodePage lists[2] = { probe_runtime->pagesOpen, probe_runtime->pagesFull };
    for (int l = 0; l < 2; l++)
      for (IM3CodePage p = lists[l]; p; p = p->info.next) {
        n++;
        bytes += sizeof(M3CodePageHeader) + p->info.numLines * sizeof(code_t);
        used += sizeof(M3CodePageHeader) + p->info.lineIndex * sizeof(code_t);
      }
  }
  if (count) *count = n;
  if (filled) *filled = used;
  return bytes;
}
