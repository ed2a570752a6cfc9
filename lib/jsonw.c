/* Streaming JSON writer with Go encoding/json string escaping. */
#include "lib/jsonw.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/utf8.h"

void jw_init(jw *w, lk_buf *out)
{
    w->out = out;
    w->depth = 0;
    w->first[0] = true;
    w->after_key = false;
}

static void sep(jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth])
        lk_buf_putc(w->out, ',');
    w->first[w->depth] = false;
}

static void nest_open(jw *w, char c)
{
    sep(w);
    lk_buf_putc(w->out, c);
    if (w->depth + 1 >= JW_MAX_DEPTH)
        LK_BUG("json writer nesting deeper than %d", JW_MAX_DEPTH);
    w->first[++w->depth] = true;
}

static void nest_close(jw *w, char c)
{
    lk_buf_putc(w->out, c);
    w->depth--;
}

void jw_obj_open(jw *w) { nest_open(w, '{'); }
void jw_obj_close(jw *w) { nest_close(w, '}'); }
void jw_arr_open(jw *w) { nest_open(w, '['); }
void jw_arr_close(jw *w) { nest_close(w, ']'); }

void jw_key_str(jw *w, lk_str key)
{
    sep(w);
    jw_escape(w->out, key);
    lk_buf_putc(w->out, ':');
    w->after_key = true;
}

void jw_key(jw *w, const char *key) { jw_key_str(w, lk_str_c(key)); }

void jw_str(jw *w, lk_str s)
{
    sep(w);
    jw_escape(w->out, s);
}

void jw_cstr(jw *w, const char *s) { jw_str(w, lk_str_c(s)); }

void jw_i64(jw *w, int64_t v)
{
    sep(w);
    lk_buf_put_i64(w->out, v);
}

void jw_i64_str(jw *w, int64_t v)
{
    sep(w);
    lk_buf_putc(w->out, '"');
    lk_buf_put_i64(w->out, v);
    lk_buf_putc(w->out, '"');
}

void jw_bool(jw *w, bool v)
{
    sep(w);
    lk_buf_puts(w->out, v ? "true" : "false");
}

void jw_null(jw *w)
{
    sep(w);
    lk_buf_puts(w->out, "null");
}

/* Go's encoding/json float format: the shortest decimal that round-trips,
 * in plain notation for 1e-6 <= |v| < 1e21 and exponent notation (e-07
 * written e-7) outside. */
void jw_f64(jw *w, double v)
{
    sep(w);
    if (!isfinite(v)) { /* not representable in JSON; callers send strings */
        lk_buf_puts(w->out, "null");
        return;
    }
    char tmp[400];
    double a = fabs(v);
    if (a != 0 && (a < 1e-6 || a >= 1e21)) {
        for (int prec = 0; prec <= 16; prec++) {
            snprintf(tmp, sizeof tmp, "%.*e", prec, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
        char *e = strchr(tmp, 'e');
        lk_buf_append(w->out, tmp, (size_t)(e - tmp) + 2); /* mantissa, 'e', sign */
        const char *x = e + 2;
        while (x[0] == '0' && x[1])
            x++;
        lk_buf_puts(w->out, x);
        return;
    }
    for (int prec = 0; prec <= 330; prec++) {
        snprintf(tmp, sizeof tmp, "%.*f", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    lk_buf_puts(w->out, tmp);
}

void jw_raw(jw *w, const char *json, size_t len)
{
    sep(w);
    lk_buf_append(w->out, json, len);
}

/* 1 for bytes that need attention: controls, '"', '\\', '<', '>', '&', and
 * every non-ASCII byte (checked for validity and U+2028/2029). */
static const unsigned char special[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, ['<'] = 1, ['>'] = 1, ['&'] = 1,
    [0x80 ... 0xff] = 1,
};

void jw_escape(lk_buf *out, lk_str s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s.p;
    size_t n = s.len, i = 0, run = 0;
    lk_buf_reserve(out, n + 2);
    lk_buf_putc(out, '"');
    while (i < n) {
        unsigned char c = p[i];
        if (!special[c]) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = lk_utf8_valid_len(p + i, n - i);
            if (l == 3 && c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
                lk_buf_append(out, p + run, i - run);
                lk_buf_puts(out, p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
                i += 3;
                run = i;
                continue;
            }
            if (l) {
                i += l;
                continue;
            }
            lk_buf_append(out, p + run, i - run);
            lk_buf_puts(out, "\\ufffd");
            i++;
            run = i;
            continue;
        }
        lk_buf_append(out, p + run, i - run);
        switch (c) {
        case '"': lk_buf_puts(out, "\\\""); break;
        case '\\': lk_buf_puts(out, "\\\\"); break;
        case '\n': lk_buf_puts(out, "\\n"); break;
        case '\r': lk_buf_puts(out, "\\r"); break;
        case '\t': lk_buf_puts(out, "\\t"); break;
        default: {
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            lk_buf_append(out, e, 6);
        }
        }
        i++;
        run = i;
    }
    lk_buf_append(out, p + run, i - run);
    lk_buf_putc(out, '"');
}
