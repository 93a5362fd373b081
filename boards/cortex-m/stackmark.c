/* boards/cortex-m/stackmark.c: the C stack high-water mark of an image on the emulated board (the
 * moat image and the llhttp baseline's): paint `bytes` of stack below the caller with a pattern at
 * start-up, find the deepest word overwritten at exit. The 256 bytes just below the caller are left
 * unpainted (this function's own frame) and counted as used. */
#include <stdint.h>

#define PAINT 0xA5A5A5A5u
static uint32_t *paint_lo, *paint_hi;

void moat_stack_paint(uint32_t bytes) {
  uint32_t here;
  paint_hi = (uint32_t *)(((uintptr_t)&here - 256) & ~(uintptr_t)3);
  paint_lo = paint_hi - bytes / 4;
  for (volatile uint32_t *p = paint_lo; p < paint_hi; p++) *p = PAINT;
}

uint32_t moat_stack_used(void) {
  uint32_t *p = paint_lo;
  while (p < paint_hi && *p == PAINT) p++;
  return (uint32_t)((char *)paint_hi - (char *)p) + 256;
}
