/* boards/cortex-m/sbrk.c: a fixed heap for newlib's malloc (replaces libgloss's weak _sbrk, which
 * would grow towards the stack pointer). The arena is the linker script's .heap section
 * (HEAP_SIZE bytes); when it is used up malloc fails cleanly (ENOMEM). moat_heap_peak() reports the
 * highest break reached: the heap's high-water mark (malloc's own overhead included). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern char __heap_start__[], __heap_end__[];
static char *brk_now;
static char *brk_peak;

void *_sbrk(ptrdiff_t incr) {
  if (!brk_now) brk_now = brk_peak = __heap_start__;
  if (incr > __heap_end__ - brk_now || incr < __heap_start__ - brk_now) { errno = ENOMEM; return (void *)-1; }
  char *prev = brk_now;
  brk_now += incr;
  if (brk_now > brk_peak) brk_peak = brk_now;
  return prev;
}

uint32_t moat_heap_peak(void) { return brk_peak ? (uint32_t)(brk_peak - __heap_start__) : 0; }
uint32_t moat_heap_size(void) { return (uint32_t)(__heap_end__ - __heap_start__); }
