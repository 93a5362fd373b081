/* llhttp_run.c: the baseline of the interpreter benchmarks. undici's llhttp Wasm build (the parser
 * Node's fetch loads) run in wasm3 or WAMR the way bench/latency.ts drives it in V8: no-op callbacks,
 * one request parser, each request copied into a buffer from the module's own malloc() and handed to
 * llhttp_execute(). The command line is moat-sim's --bench, so boards/scripts/callgrind.mjs counts both
 * with the same slope method in the same run.
 *
 *   llhttp-run LLHTTP.wasm --bench N FILE...   every file is one request; all N times in turn
 *
 * -DBASELINE_EMBEDDED (the Cortex-M image, boards/scripts/baseline-cortex-m.mjs): the module is the
 * const array llhttp_wasm[] in flash, as moat's is, and the first argument is ignored; at exit the
 * heap peak (boards/cortex-m/sbrk.c) and the C stack high-water mark (stackmark.c) are printed as moat-cm does.
 *
 * One engine per binary (-DBASELINE_WASM3 or -DBASELINE_WAMR), built by boards/scripts/build-baseline.mjs.
 * wasm3 must be built with its per-function stack height raised for llhttp's 33 KB state-machine
 * function (it refuses it at the embedded default of 128); moat-sim never needs that.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES 16
#define BUF_BYTES 4096u

typedef enum { FN_INIT, FN_ALLOC, FN_MALLOC, FN_EXECUTE, FN_COUNT } fn_t;
static const char *fn_name[FN_COUNT] = { "_initialize", "llhttp_alloc", "malloc", "llhttp_execute" };
static const int fn_params[FN_COUNT] = { 0, 1, 1, 3 };

static void die(const char *what, const char *detail) {
  fprintf(stderr, "llhttp-run: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

#if defined(BASELINE_WASM3)
#include "wasm3.h"

static IM3Runtime runtime;
static IM3Function fns[FN_COUNT];

/* Callbacks return 0 (continue); what they would do with the span is the application's cost. */
m3ApiRawFunction(noop_cb) { m3ApiReturnType(int32_t); m3ApiReturn(0); }

static void engine_load(const uint8_t *wasm, uint32_t len) {
  static const struct { const char *name, *sig; } imports[] = {
    { "wasm_on_message_begin", "i(i)" }, { "wasm_on_message_complete", "i(i)" },
    { "wasm_on_headers_complete", "i(iiii)" }, { "wasm_on_url", "i(iii)" }, { "wasm_on_status", "i(iii)" },
    { "wasm_on_header_field", "i(iii)" }, { "wasm_on_header_value", "i(iii)" }, { "wasm_on_body", "i(iii)" },
  };
  IM3Environment env = m3_NewEnvironment();
  IM3Module module = NULL;
  M3Result r;
  runtime = env ? m3_NewRuntime(env, 64 * 1024, NULL) : NULL;
  if (!runtime) die("wasm3", "no runtime");
  if ((r = m3_ParseModule(env, &module, wasm, len))) die("wasm3 parse", r);
  if ((r = m3_LoadModule(runtime, module))) die("wasm3 load", r);
  for (size_t i = 0; i < sizeof imports / sizeof imports[0]; i++)
    if ((r = m3_LinkRawFunction(module, "env", imports[i].name, imports[i].sig, noop_cb))) die(imports[i].name, r);
  for (int i = 0; i < FN_COUNT; i++)
    if ((r = m3_FindFunction(&fns[i], runtime, fn_name[i]))) die(fn_name[i], r);
}

static uint8_t *engine_memory(uint32_t *size) { return m3_GetMemory(runtime, size, 0); }

static int32_t engine_call(fn_t fn, const uint32_t *args) {
  const void *argp[3];
  for (int i = 0; i < fn_params[fn]; i++) argp[i] = &args[i];
  M3Result r = m3_Call(fns[fn], (uint32_t)fn_params[fn], argp);
  if (r) die(fn_name[fn], r);
  int32_t ret = 0;
  if (m3_GetRetCount(fns[fn]) > 0) {
    const void *retp[1] = { &ret };
    if ((r = m3_GetResults(fns[fn], 1, retp))) die(fn_name[fn], r);
  }
  return ret;
}

#elif defined(BASELINE_WAMR)
#include "wasm_export.h"

static wasm_module_inst_t inst;
static wasm_exec_env_t exec_env;
static wasm_function_inst_t fns[FN_COUNT];

static int32_t noop1(wasm_exec_env_t e, int32_t p) { (void)e; (void)p; return 0; }
static int32_t noop3(wasm_exec_env_t e, int32_t p, int32_t a, int32_t b) { (void)e; (void)p; (void)a; (void)b; return 0; }
static int32_t noop4(wasm_exec_env_t e, int32_t p, int32_t a, int32_t b, int32_t c) { (void)e; (void)p; (void)a; (void)b; (void)c; return 0; }

static void engine_load(const uint8_t *wasm, uint32_t len) {
  static NativeSymbol natives[] = {
    { "wasm_on_message_begin", (void *)noop1, "(i)i", NULL }, { "wasm_on_message_complete", (void *)noop1, "(i)i", NULL },
    { "wasm_on_headers_complete", (void *)noop4, "(iiii)i", NULL }, { "wasm_on_url", (void *)noop3, "(iii)i", NULL },
    { "wasm_on_status", (void *)noop3, "(iii)i", NULL }, { "wasm_on_header_field", (void *)noop3, "(iii)i", NULL },
    { "wasm_on_header_value", (void *)noop3, "(iii)i", NULL }, { "wasm_on_body", (void *)noop3, "(iii)i", NULL },
  };
  char err[128] = "";
  RuntimeInitArgs args;
  memset(&args, 0, sizeof args);
  args.mem_alloc_type = Alloc_With_System_Allocator;
  if (!wasm_runtime_full_init(&args)) die("wamr", "runtime init failed");
  if (!wasm_runtime_register_natives("env", natives, sizeof natives / sizeof natives[0])) die("wamr", "natives");
  /* WAMR's classic loader may rewrite the bytes it is given: hand it a copy it can keep. */
  uint8_t *copy = malloc(len);
  if (!copy) die("wamr", "out of memory");
  memcpy(copy, wasm, len);
  wasm_module_t module = wasm_runtime_load(copy, len, err, sizeof err);
  if (!module) die("wamr load", err);
  inst = wasm_runtime_instantiate(module, 64 * 1024, 0, err, sizeof err);
  if (!inst) die("wamr instantiate", err);
  exec_env = wasm_runtime_create_exec_env(inst, 64 * 1024);
  if (!exec_env) die("wamr", "no exec env");
  for (int i = 0; i < FN_COUNT; i++)
    if (!(fns[i] = wasm_runtime_lookup_function(inst, fn_name[i], NULL))) die("wamr: no export", fn_name[i]);
}

static uint8_t *engine_memory(uint32_t *size) {
  uint32_t start = 0, end = 0;
  if (!wasm_runtime_get_app_addr_range(inst, 0, &start, &end)) die("wamr", "no memory");
  *size = end - start;
  return wasm_runtime_addr_app_to_native(inst, start);
}

static int32_t engine_call(fn_t fn, const uint32_t *args) {
  uint32_t argv[4] = { 0 };
  for (int i = 0; i < fn_params[fn]; i++) argv[i] = args[i];
  if (!wasm_runtime_call_wasm(exec_env, fns[fn], (uint32_t)fn_params[fn], argv)) die(fn_name[fn], wasm_runtime_get_exception(inst));
  return (int32_t)argv[0];
}

#else
#error "build with -DBASELINE_WASM3 or -DBASELINE_WAMR"
#endif

#ifdef BASELINE_EMBEDDED
extern const unsigned char llhttp_wasm[];
extern const unsigned int llhttp_wasm_len;
uint32_t moat_heap_peak(void);
void moat_stack_paint(uint32_t bytes);   /* boards/cortex-m/stackmark.c */
uint32_t moat_stack_used(void);
/* llhttp's compile needs ~54 KB of C stack; the image's linker script gives 128 KiB. */
#define PAINT_BYTES (96u * 1024)
#endif

static uint8_t *read_file(const char *path, uint32_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) die("cannot open", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
  if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) die("cannot read", path);
  fclose(f);
  *len = (uint32_t)n;
  return p;
}

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--bench") != 0) {
    fprintf(stderr, "usage: llhttp-run LLHTTP.wasm --bench N FILE...\n");
    return 2;
  }
  uint32_t wasm_len, len[MAX_FILES];
  uint8_t *req[MAX_FILES];
#ifdef BASELINE_EMBEDDED
  moat_stack_paint(PAINT_BYTES);
  const uint8_t *wasm = llhttp_wasm;
  wasm_len = llhttp_wasm_len;
#else
  const uint8_t *wasm = read_file(argv[1], &wasm_len);
#endif
  long iterations = atol(argv[3]);
  int nfiles = argc - 4 > MAX_FILES ? MAX_FILES : argc - 4;
  for (int i = 0; i < nfiles; i++) {
    req[i] = read_file(argv[4 + i], &len[i]);
    if (len[i] > BUF_BYTES) die("larger than the buffer", argv[4 + i]);
  }
  engine_load(wasm, wasm_len);
  uint32_t none[1] = { 0 }, type[1] = { 0 /* HTTP_REQUEST */ }, size[1] = { BUF_BYTES };
  engine_call(FN_INIT, none);
  uint32_t parser = (uint32_t)engine_call(FN_ALLOC, type);
  uint32_t buf = (uint32_t)engine_call(FN_MALLOC, size);
  for (long it = 0; it < iterations; it++) {
    for (int i = 0; i < nfiles; i++) {
      uint32_t mem_size = 0;
      uint8_t *mem = engine_memory(&mem_size);   /* malloc() may have grown memory */
      if (!mem || buf + len[i] > mem_size) die("buffer outside memory", NULL);
      memcpy(mem + buf, req[i], len[i]);
      uint32_t args[3] = { parser, buf, len[i] };
      if (engine_call(FN_EXECUTE, args) != 0) die("llhttp_execute refused", argv[4 + i]);
    }
  }
  printf("%ld requests\n", iterations * nfiles);
#ifdef BASELINE_EMBEDDED
  fprintf(stderr, "# llhttp in wasm3, heap peak %lu bytes, stack %lu bytes\n", (unsigned long)moat_heap_peak(), (unsigned long)moat_stack_used());
#endif
  return 0;
}
