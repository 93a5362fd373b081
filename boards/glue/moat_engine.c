/* moat_engine.c: the engine-neutral half of the glue: export table, ABI wrappers over moat_call(),
 * and bounds-checked access to the module's linear memory. */
#include "moat_engine.h"
#include <stdio.h>
#include <string.h>

const char *const moat_fn_name[MOAT_FN_COUNT] = {
  "configPtr", "resultPtr", "init", "inputPtr", "inputCap", "spansPtr", "outPtr", "eventsPtr",
  "eventsCap", "eventCount", "classesPtr", "status", "open", "close", "feed", "respond", "tick",
};
const uint8_t moat_fn_params[MOAT_FN_COUNT] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 1, 4, 6, 2 };

/* The exports moat_layout_t remembers: what they answer depends only on the config init() laid out. */
#define LAYOUT_FNS ((1u << MOAT_FN_CONFIG_PTR) | (1u << MOAT_FN_RESULT_PTR) | (1u << MOAT_FN_INPUT_PTR) | \
  (1u << MOAT_FN_INPUT_CAP) | (1u << MOAT_FN_SPANS_PTR) | (1u << MOAT_FN_OUT_PTR) | (1u << MOAT_FN_EVENTS_PTR) | \
  (1u << MOAT_FN_EVENTS_CAP) | (1u << MOAT_FN_CLASSES_PTR))

static int32_t call(moat_t *m, moat_fn fn, const uint32_t *args) {
  moat_layout_t *l = moat_layout(m);
  if ((l->known >> fn) & 1u) return l->value[fn];
  int32_t r = 0;
  if (moat_call(m, fn, args, &r) != 0) return INT32_MIN;
  if (l->armed && ((LAYOUT_FNS >> fn) & 1u)) { l->known |= 1u << fn; l->value[fn] = r; }
  return r;
}

int32_t moat_config_ptr(moat_t *m) { return call(m, MOAT_FN_CONFIG_PTR, NULL); }
/* The cap must hold everything the config lays out: the module only touches memory below the
 * high-water mark init() returns, so a mark above the cap is refused here, before any feed. */
int32_t moat_init(moat_t *m) {
  moat_layout_t *l = moat_layout(m);
  l->armed = l->known = 0;
  int32_t hw = call(m, MOAT_FN_INIT, NULL);
  l->armed = hw > 0;
  uint32_t cap = moat_memory_limit(m);
  if (hw == INT32_MIN && cap) {   /* a trap in init() under a cap: most likely the cap */
    char msg[224];
    snprintf(msg, sizeof msg, "%s (memory limit %lu bytes: the config may need more)", moat_error(m), (unsigned long)cap);
    moat_set_error(m, msg);
    return hw;
  }
  if (hw > 0 && cap && (uint32_t)hw > cap) {
    char msg[160];
    snprintf(msg, sizeof msg, "init: high-water mark %ld bytes exceeds the memory limit %lu bytes (raise the limit to at least %lu)",
      (long)hw, (unsigned long)cap, (unsigned long)(((uint32_t)hw + 1023u) & ~1023u));
    moat_set_error(m, msg);
    l->armed = 0;
    return INT32_MIN;
  }
  return hw;
}
int32_t moat_input_ptr(moat_t *m) { return call(m, MOAT_FN_INPUT_PTR, NULL); }
int32_t moat_input_cap(moat_t *m) { return call(m, MOAT_FN_INPUT_CAP, NULL); }
int32_t moat_spans_ptr(moat_t *m) { return call(m, MOAT_FN_SPANS_PTR, NULL); }
int32_t moat_result_ptr(moat_t *m) { return call(m, MOAT_FN_RESULT_PTR, NULL); }
int32_t moat_out_ptr(moat_t *m) { return call(m, MOAT_FN_OUT_PTR, NULL); }
int32_t moat_events_ptr(moat_t *m) { return call(m, MOAT_FN_EVENTS_PTR, NULL); }
int32_t moat_events_cap(moat_t *m) { return call(m, MOAT_FN_EVENTS_CAP, NULL); }
int32_t moat_event_count(moat_t *m) { return call(m, MOAT_FN_EVENT_COUNT, NULL); }
int32_t moat_classes_ptr(moat_t *m) { return call(m, MOAT_FN_CLASSES_PTR, NULL); }
int32_t moat_status(moat_t *m, uint32_t code) { return call(m, MOAT_FN_STATUS, &code); }
int32_t moat_open(moat_t *m, uint32_t client, uint32_t tls, uint32_t now) {
  uint32_t a[3] = { client, tls, now };
  return call(m, MOAT_FN_OPEN, a);
}
int32_t moat_close(moat_t *m, uint32_t slot) { return call(m, MOAT_FN_CLOSE, &slot); }
int32_t moat_feed(moat_t *m, uint32_t slot, uint32_t from, uint32_t to, uint32_t now) {
  uint32_t a[4] = { slot, from, to, now };
  return call(m, MOAT_FN_FEED, a);
}
int32_t moat_respond(moat_t *m, uint32_t slot, uint32_t status, int32_t length, uint32_t app_len, uint32_t opts, uint32_t now) {
  uint32_t a[6] = { slot, status, (uint32_t)length, app_len, opts, now };
  return call(m, MOAT_FN_RESPOND, a);
}
int32_t moat_tick(moat_t *m, uint32_t now, uint32_t from) {
  uint32_t a[2] = { now, from };
  return call(m, MOAT_FN_TICK, a);
}

uint32_t moat_load_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
uint16_t moat_load_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

uint8_t *moat_ptr(moat_t *m, uint32_t addr, uint32_t len) {
  uint32_t size = 0;
  uint8_t *mem = moat_memory(m, &size);
  if (!mem || addr > size || len > size - addr) return NULL;
  return mem + addr;
}

int moat_write(moat_t *m, uint32_t addr, const void *src, uint32_t len) {
  uint8_t *p = moat_ptr(m, addr, len);
  if (!p) return -1;
  if (len) memcpy(p, src, len);
  return 0;
}

int moat_read(moat_t *m, uint32_t addr, void *dst, uint32_t len) {
  uint8_t *p = moat_ptr(m, addr, len);
  if (!p) return -1;
  if (len) memcpy(dst, p, len);
  return 0;
}

int moat_write_window(moat_t *m, uint32_t off, const void *src, uint32_t len) {
  int32_t at = moat_input_ptr(m), cap = moat_input_cap(m);
  if (at < 0 || cap < 0 || off > (uint32_t)cap || len > (uint32_t)cap - off) return -1;
  return moat_write(m, (uint32_t)at + off, src, len);
}

int moat_result(moat_t *m, uint32_t out[MOAT_R_WORDS]) {
  int32_t at = moat_result_ptr(m);
  uint8_t *p = at < 0 ? NULL : moat_ptr(m, (uint32_t)at, 4 * MOAT_R_WORDS);
  if (!p) return -1;
  for (int i = 0; i < MOAT_R_WORDS; i++) out[i] = moat_load_u32(p + 4 * i);
  return 0;
}

int moat_span(moat_t *m, uint32_t i, uint16_t out[4]) {
  int32_t at = moat_spans_ptr(m);
  uint8_t *p = at < 0 ? NULL : moat_ptr(m, (uint32_t)at + MOAT_SPAN_BYTES * i, MOAT_SPAN_BYTES);
  if (!p) return -1;
  for (int k = 0; k < 4; k++) out[k] = moat_load_u16(p + 2 * k);
  return 0;
}
