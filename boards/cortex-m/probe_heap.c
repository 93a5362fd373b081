/* boards/cortex-m/probe_heap.c: what both interpreters' probes (probe.c for wasm3, probe_wamr.c for
 * WAMR) measure the same way: malloc's in-use bytes at four load steps (newlib mallinfo), and the
 * interpreter's own value stack, painted once it exists so that moat_probe_value_stack() finds the
 * highest byte ever written (both interpreters zero a frame's locals on entry, so old contents are
 * never read). */
#include <malloc.h>
#include <stdint.h>

#define VPAINT 0x5A5A5A5Au

static uint32_t *vs_lo, *vs_hi;
static uint32_t in_use[4];

static uint32_t heap_in_use(void) { return (uint32_t)mallinfo().uordblks; }

void moat_probe_step(int step) { if (step >= 0 && step < 4) in_use[step] = heap_in_use(); }

void moat_probe_paint(void *lo, void *hi) {
  vs_lo = (uint32_t *)lo;
  vs_hi = (uint32_t *)hi;
  for (volatile uint32_t *p = vs_lo; p < vs_hi; p++) *p = VPAINT;
}

/* Bytes of the value stack below the highest word ever written (0 before one exists). */
uint32_t moat_probe_value_stack(void) {
  if (!vs_lo) return 0;
  uint32_t *p = vs_hi;
  while (p > vs_lo && p[-1] == VPAINT) p--;
  return (uint32_t)((char *)p - (char *)vs_lo);
}
uint32_t moat_probe_value_stack_size(void) { return (uint32_t)((char *)vs_hi - (char *)vs_lo); }
uint32_t moat_probe_in_use(int i) { return i >= 0 && i < 4 ? in_use[i] : heap_in_use(); }
