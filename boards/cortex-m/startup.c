/* boards/cortex-m/startup.c: vector table and reset for the mps2-an386 (Cortex-M4F) image.
 *
 * Reset_Handler copies .data from flash to the PSRAM, enables the FPU (CPACR CP10/CP11 full access,
 * needed by the hard-float build before any FP instruction), and calls newlib's _start
 * (rdimon-crt0: clears .bss, asks the emulator for heap / stack over semihosting, builds argv from
 * the semihosting command line, runs main, exits with its status). Every fault or unexpected
 * interrupt ends the run through _exit with a code the host can read (the emulator's exit status).
 */
#include <stdint.h>
#include <unistd.h>

extern uint32_t __stack;                                   /* linker script: top of RAM */
extern uint32_t __data_load__, __data_start__, __data_end__;
extern void _start(void);

/* Exit codes: 100 + the exception number (NMI 102, HardFault 103, MemManage 104, BusFault 105,
 * UsageFault 106, other 120). */
enum { EXIT_NMI = 102, EXIT_HARDFAULT = 103, EXIT_MEMMANAGE = 104, EXIT_BUSFAULT = 105, EXIT_USAGEFAULT = 106, EXIT_OTHER = 120 };

static void fault(int code, const char *msg, unsigned len) {
  write(2, msg, len);
  _exit(code);
}
#define FAULT(name, code, text) void name(void) { static const char m[] = "fault: " text "\n"; fault(code, m, sizeof m - 1); }
FAULT(NMI_Handler, EXIT_NMI, "NMI")
FAULT(HardFault_Handler, EXIT_HARDFAULT, "HardFault")
FAULT(MemManage_Handler, EXIT_MEMMANAGE, "MemManage")
FAULT(BusFault_Handler, EXIT_BUSFAULT, "BusFault")
FAULT(UsageFault_Handler, EXIT_USAGEFAULT, "UsageFault")
FAULT(Default_Handler, EXIT_OTHER, "unexpected exception")

void Reset_Handler(void) {
  uint32_t *src = &__data_load__, *dst = &__data_start__;
  while (dst < &__data_end__) *dst++ = *src++;
  volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
  *cpacr |= 0xFu << 20;                                    /* CP10, CP11: full access */
  __asm volatile ("dsb\n\tisb" ::: "memory");
  _start();
  for (;;) _exit(EXIT_OTHER);
}

/* 16 system exceptions; the board's external interrupts stay disabled, so none are listed. */
__attribute__((section(".vectors"), used))
void (*const vector_table[16])(void) = {
  (void (*)(void))&__stack, Reset_Handler, NMI_Handler, HardFault_Handler, MemManage_Handler, BusFault_Handler,
  UsageFault_Handler, 0, 0, 0, 0, Default_Handler /* SVC */, Default_Handler /* DebugMon */, 0,
  Default_Handler /* PendSV */, Default_Handler /* SysTick */,
};
