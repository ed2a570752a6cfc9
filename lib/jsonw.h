/* A streaming JSON writer into an lk_buf that escapes strings exactly as Go's
 * encoding/json does (HTML-safe: < > & as \u003c \u003e \u0026, U+2028/2029
 * escaped, invalid UTF-8 replaced by U+FFFD), so responses match Loki's
 * byte for byte where it matters. Commas are inserted automatically. */
#ifndef LOKIC_LIB_JSONW_H
#define LOKIC_LIB_JSONW_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"

#define JW_MAX_DEPTH 64

typedef struct jw {
    lk_buf *out;
    int depth;
    bool first[JW_MAX_DEPTH]; /* no element written yet at this depth */
    bool after_key;
} jw;

void jw_init(jw *w, lk_buf *out);
void jw_obj_open(jw *w);
void jw_obj_close(jw *w);
void jw_arr_open(jw *w);
void jw_arr_close(jw *w);
void jw_key(jw *w, const char *key);
void jw_key_str(jw *w, lk_str key);
void jw_str(jw *w, lk_str s);
void jw_cstr(jw *w, const char *s);
void jw_i64(jw *w, int64_t v);
/* The integer as a JSON string, e.g. "1793491200000000000". */
void jw_i64_str(jw *w, int64_t v);
void jw_bool(jw *w, bool v);
void jw_null(jw *w);
/* A float as Go's strconv.FormatFloat(v, 'f', -1, 64)-like JSON number. */
void jw_f64(jw *w, double v);
/* Pre-formatted JSON text inserted as one value. */
void jw_raw(jw *w, const char *json, size_t len);

/* Appends s as a JSON string literal (with quotes) using Go's escaping. */
void jw_escape(lk_buf *out, lk_str s);

#endif
