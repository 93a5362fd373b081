/* boards/cortex-m/wamr/platform.c: the platform calls WAMR's interpreter core makes, for one
 * thread on bare metal (newlib). Memory comes from the runtime's own allocator (the glue picks it),
 * so os_malloc is only the fallback WAMR's "system allocator" mode uses. The native stack boundary
 * is the linker script's stack limit, so WAMR's own overflow check is real. */
#include "platform_api_vmcore.h"
#include "platform_api_extension.h"

extern char __stack_limit__[];   /* boards/cortex-m/moat.ld */

int bh_platform_init(void) { return 0; }
void bh_platform_destroy(void) {}

void *os_malloc(unsigned size) { return malloc(size); }
void *os_realloc(void *ptr, unsigned size) { return realloc(ptr, size); }
void os_free(void *ptr) { free(ptr); }

/* No clock is needed by the interpreter itself; the module gets time from the host's calls. */
uint64 os_time_get_boot_microsecond(void) { return 0; }

korp_tid os_self_thread(void) { return 1; }
uint8 *os_thread_get_stack_boundary(void) { return (uint8 *)__stack_limit__; }

int os_mutex_init(korp_mutex *m) { *m = 0; return BHT_OK; }
int os_mutex_destroy(korp_mutex *m) { (void)m; return BHT_OK; }
int os_mutex_lock(korp_mutex *m) { (void)m; return BHT_OK; }
int os_mutex_unlock(korp_mutex *m) { (void)m; return BHT_OK; }

/* WAMR maps memory only for AOT/JIT code and guard pages, neither of which this build has. */
void *os_mmap(void *hint, size_t size, int prot, int flags) { (void)hint; (void)prot; (void)flags; return malloc(size); }
void os_munmap(void *addr, size_t size) { (void)size; free(addr); }
int os_mprotect(void *addr, size_t size, int prot) { (void)addr; (void)size; (void)prot; return 0; }
void os_dcache_flush(void) {}

/* The loader looks up every imported global in WAMR's builtin libc; this build has no builtin libc
 * (WASM_ENABLE_LIBC_BUILTIN=0: its symbol tables are 1.2 KB of RAM) and the module imports nothing. */
bool wasm_native_lookup_libc_builtin_global(const char *module_name, const char *global_name, void *global) {
  (void)module_name; (void)global_name; (void)global;
  return false;
}
