/* boards/cortex-m/wamr/platform_internal.h: WAMR's platform header for a bare-metal Cortex-M with
 * newlib and no RTOS (the WAMR tree of wamr-sys 0.1.1 has ports for RTOSes only). One thread, so
 * the thread and lock types are placeholders; platform.c implements the few calls the interpreter
 * core makes. Built with -DBH_PLATFORM_MOAT_BAREMETAL and this folder first on the include path. */
#ifndef MOAT_WAMR_PLATFORM_INTERNAL_H
#define MOAT_WAMR_PLATFORM_INTERNAL_H

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BH_PLATFORM_MOAT_BAREMETAL
#define BH_PLATFORM_MOAT_BAREMETAL
#endif

#define BH_APPLET_PRESERVED_STACK_SIZE (2 * BH_KB)
#define BH_THREAD_DEFAULT_PRIORITY 0

typedef uint32_t korp_tid;
typedef uint32_t korp_mutex;
typedef uint32_t korp_cond;
typedef uint32_t korp_thread;

#define os_printf printf
#define os_vprintf vprintf

#endif
