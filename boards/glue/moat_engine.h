/* moat_engine.h: the Moat module ABI (ABI.md) in C, for firmware and for the desktop simulator.
 *
 * One engine backend is linked: moat_wasm3.c (wasm3) or moat_wamr.c (WAMR interpreter). Both load
 * the exact bytes of build/moat.wasm, which imports nothing and owns one fixed linear memory; the
 * host reaches that memory only through the helpers below, each of which checks its bounds.
 *
 * Typical firmware loop:
 *   moat_t *m = moat_load(moat_wasm, moat_wasm_len, err, sizeof err);
 *   moat_write(m, moat_config_ptr(m), config_blob, 256); moat_init(m);
 *   slot = moat_open(m, peer_hash, 0, now_ms);
 *   copy retained + socket bytes with moat_write_window(); moat_feed(); read moat_result() / moat_span();
 *   answer with moat_respond(); call moat_tick() every few hundred ms.
 * Records are little-endian; the helpers convert, so the glue also works on a big-endian host.
 */
#ifndef MOAT_ENGINE_H
#define MOAT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The module's exports, in the order backends look them up. */
typedef enum {
  MOAT_FN_CONFIG_PTR, MOAT_FN_RESULT_PTR, MOAT_FN_INIT, MOAT_FN_INPUT_PTR, MOAT_FN_INPUT_CAP,
  MOAT_FN_SPANS_PTR, MOAT_FN_OUT_PTR, MOAT_FN_EVENTS_PTR, MOAT_FN_EVENTS_CAP, MOAT_FN_EVENT_COUNT,
  MOAT_FN_CLASSES_PTR, MOAT_FN_STATUS, MOAT_FN_OPEN, MOAT_FN_CLOSE, MOAT_FN_FEED, MOAT_FN_RESPOND,
  MOAT_FN_TICK, MOAT_FN_COUNT
} moat_fn;

/* Export names and parameter counts, indexed by moat_fn (moat_engine.c). */
extern const char *const moat_fn_name[MOAT_FN_COUNT];
extern const uint8_t moat_fn_params[MOAT_FN_COUNT];

/* Verdict bits of moat_feed() and the result record. */
enum { MOAT_NEED_MORE = 0, MOAT_HEAD = 1, MOAT_DONE = 2, MOAT_PAUSE = 4, MOAT_ERROR = 8, MOAT_CLOSE = 16 };
/* Result record words (8 x u32 at moat_result_ptr()). */
enum { MOAT_R_VERDICT, MOAT_R_STATUS, MOAT_R_CODE, MOAT_R_CONSUMED, MOAT_R_KEEP, MOAT_R_SPANS, MOAT_R_FLAGS, MOAT_R_CONTENT_LENGTH,
       MOAT_R_DELAY, MOAT_R_RETRY_AFTER, MOAT_R_WORDS };
#define MOAT_CONFIG_BYTES 256u   /* 64 config words */
#define MOAT_SPAN_BYTES 8u       /* u16 kind, field, offset, length */
#define MOAT_EVENT_BYTES 12u     /* u32 time, u8 kind, u8 slot, u16 code, u32 client */

typedef struct moat moat_t;

/* ---- backend (moat_wasm3.c or moat_wamr.c) -------------------------------------------------- */

/* Parses, validates and instantiates the module; NULL on failure with a message in err.
 * wasm3 keeps a pointer to `wasm`: keep the bytes alive (flash is fine) until moat_unload; WAMR
 * loads a private copy (its classic loader rewrites opcodes in place). */
moat_t *moat_load(const uint8_t *wasm, uint32_t len, char *err, size_t errlen);
/* moat_load() with a cap on linear memory: `memory_limit` bytes (0 = no cap, the full 64 KiB page;
 * moat_load() is this with 0). wasm3 allocates only min(limit, page) bytes of the module's page
 * (runtime->memoryLimit), WAMR a page of the cap's size (the module's num_bytes_per_page); an access
 * above the cap traps. Either way moat_init() fails (INT32_MIN, reason in moat_error()) when the config's high-water mark
 * exceeds the cap: `moat fit` prints the cap for a config (MOAT_MEMORY_LIMIT in the kit). */
moat_t *moat_load_capped(const uint8_t *wasm, uint32_t len, uint32_t memory_limit, char *err, size_t errlen);
void moat_unload(moat_t *m);
/* The module's linear memory and its size in bytes (fixed: the module cannot grow it). */
uint8_t *moat_memory(moat_t *m, uint32_t *size);
/* Calls one export with `args` (moat_fn_params[fn] words). Returns 0 and the i32 result (0 for
 * close), or -1 on a trap with its message in moat_error(m). */
int moat_call(moat_t *m, moat_fn fn, const uint32_t *args, int32_t *ret);
const char *moat_error(moat_t *m);
/* Backend accessors moat_engine.c uses: the cap given to moat_load_capped() (0 = none), and setting
 * the message moat_error() returns. */
uint32_t moat_memory_limit(moat_t *m);
void moat_set_error(moat_t *m, const char *msg);
/* The answers of the exports that only report the layout (pointers, capacities): fixed from a
 * successful moat_init() until the next one, so moat_engine.c asks the module once per init rather
 * than once per feed. Each backend keeps one in its instance, zeroed at load. */
typedef struct { uint32_t armed, known; int32_t value[MOAT_FN_COUNT]; } moat_layout_t;
moat_layout_t *moat_layout(moat_t *m);
/* Interpreter name and build (e.g. "wasm3 0.5.0", "wamr classic-interp"). */
const char *moat_engine_name(void);

/* ---- ABI (moat_engine.c): thin wrappers; a trap returns INT32_MIN --------------------------- */

int32_t moat_config_ptr(moat_t *m);
int32_t moat_init(moat_t *m);                 /* high-water bytes, or -46 */
int32_t moat_input_ptr(moat_t *m);
int32_t moat_input_cap(moat_t *m);
int32_t moat_spans_ptr(moat_t *m);
int32_t moat_result_ptr(moat_t *m);
int32_t moat_out_ptr(moat_t *m);
int32_t moat_events_ptr(moat_t *m);
int32_t moat_events_cap(moat_t *m);
int32_t moat_event_count(moat_t *m);
int32_t moat_classes_ptr(moat_t *m);
int32_t moat_status(moat_t *m, uint32_t code);
int32_t moat_open(moat_t *m, uint32_t client, uint32_t tls, uint32_t now);
int32_t moat_close(moat_t *m, uint32_t slot);
int32_t moat_feed(moat_t *m, uint32_t slot, uint32_t from, uint32_t to, uint32_t now);
int32_t moat_respond(moat_t *m, uint32_t slot, uint32_t status, int32_t length, uint32_t app_len, uint32_t opts, uint32_t now);
int32_t moat_tick(moat_t *m, uint32_t now, uint32_t from);

/* ---- memory access, bounds-checked (0 ok, -1 out of range) ----------------------------------- */

/* Pointer to [addr, addr+len) of linear memory, or NULL when the range is outside it. */
uint8_t *moat_ptr(moat_t *m, uint32_t addr, uint32_t len);
int moat_write(moat_t *m, uint32_t addr, const void *src, uint32_t len);
int moat_read(moat_t *m, uint32_t addr, void *dst, uint32_t len);
/* Copies into the input window at `off` (checked against moat_input_cap()). */
int moat_write_window(moat_t *m, uint32_t off, const void *src, uint32_t len);
/* The 8 result words. */
int moat_result(moat_t *m, uint32_t out[MOAT_R_WORDS]);
/* Span record i of the last feed: kind, field, window offset, length. */
int moat_span(moat_t *m, uint32_t i, uint16_t out[4]);
uint32_t moat_load_u32(const uint8_t *p);
uint16_t moat_load_u16(const uint8_t *p);

#ifdef __cplusplus
}
#endif
#endif /* MOAT_ENGINE_H */
