/* boards/cortex-m/probe.c: where the image's heap goes, and how deep wasm3's value stack gets.
 * Measurement only: linked with -Wl,--wrap for three wasm3 calls the glue makes while loading
 * (m3_NewRuntime, m3_ParseModule, m3_LoadModule), so the glue and wasm3 stay unchanged. After each
 * call it records malloc's in-use bytes (newlib mallinfo), which splits the load into runtime +
 * value stack, parsed module and linear memory. After m3_NewRuntime it paints the value stack
 * (wasm3 zeroes each frame's locals on entry, so the old contents are never read) and
 * moat_probe_value_stack() finds the highest slot ever written. moat_probe_compile_all() compiles the
 * whole module at once (main.c --compile-all: the worst case of lazy compilation). */
#include "wasm3.h"
#include "m3_env.h"
#include <malloc.h>
#include <stdint.h>

#define VPAINT 0x5A5A5A5Au

static uint32_t *vs_lo, *vs_hi;
static uint32_t in_use[4];    /* before the runtime, after it, after parse, after load */
static IM3Runtime probe_runtime;
static IM3Module probe_module;

static uint32_t heap_in_use(void) { return (uint32_t)mallinfo().uordblks; }

IM3Runtime __real_m3_NewRuntime(IM3Environment env, u32 stack_bytes, void *userdata);
M3Result __real_m3_ParseModule(IM3Environment env, IM3Module *module, cbytes_t bytes, u32 len);
M3Result __real_m3_LoadModule(IM3Runtime runtime, IM3Module module);

IM3Runtime __wrap_m3_NewRuntime(IM3Environment env, u32 stack_bytes, void *userdata) {
  in_use[0] = heap_in_use();
  IM3Runtime r = __real_m3_NewRuntime(env, stack_bytes, userdata);
  in_use[1] = heap_in_use();
  if (r && r->stack) {
    probe_runtime = r;
    vs_lo = (uint32_t *)r->stack;
    vs_hi = vs_lo + (r->numStackSlots * sizeof(m3slot_t)) / 4;
    for (volatile uint32_t *p = vs_lo; p < vs_hi; p++) *p = VPAINT;
  }
  return r;
}

M3Result __wrap_m3_ParseModule(IM3Environment env, IM3Module *module, cbytes_t bytes, u32 len) {
  M3Result r = __real_m3_ParseModule(env, module, bytes, len);
  in_use[2] = heap_in_use();
  return r;
}

M3Result __wrap_m3_LoadModule(IM3Runtime runtime, IM3Module module) {
  M3Result r = __real_m3_LoadModule(runtime, module);
  in_use[3] = heap_in_use();
  if (!r) probe_module = module;
  return r;
}

/* Compiles every function now (wasm3's public m3_CompileModule) instead of on first call: the heap
 * a firmware needs whatever requests arrive later. NULL or wasm3's error. */
const char *moat_probe_compile_all(void) {
  return probe_module ? m3_CompileModule(probe_module) : "no module loaded";
}

/* Bytes of the value stack below the highest slot ever written (0 before a runtime exists). */
uint32_t moat_probe_value_stack(void) {
  if (!vs_lo) return 0;
  uint32_t *p = vs_hi;
  while (p > vs_lo && p[-1] == VPAINT) p--;
  return (uint32_t)((char *)p - (char *)vs_lo);
}
uint32_t moat_probe_value_stack_size(void) { return (uint32_t)((char *)vs_hi - (char *)vs_lo); }
uint32_t moat_probe_in_use(int i) { return i >= 0 && i < 4 ? in_use[i] : heap_in_use(); }

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
