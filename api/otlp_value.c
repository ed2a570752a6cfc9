/* OTLP attribute values as Loki 3 turns them into label and metadata
 * text (contract in otlp.h): pcommon.Value.AsString, and label names
 * through otlptranslator.NormalizeLabel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/otlp.h"
#include "lib/base64.h"
#include "lib/gofloat.h"
#include "lib/jsonw.h"

/* Go's encoding/json float64: 'f', or 'e' outside [1e-6, 1e21), with
 * "e-09" shortened to "e-9". */
static void json_float(lk_buf *out, double d)
{
    double a = fabs(d);
    char f = a != 0 && (a < 1e-6 || a >= 1e21) ? 'e' : 'f';
    size_t start = out->len;
    lk_gofloat_append(out, d, f, -1);
    size_t n = out->len - start;
    char *b = out->p + start;
    if (f == 'e' && n >= 4 && b[n - 4] == 'e' && b[n - 3] == '-' && b[n - 2] == '0') {
        b[n - 2] = b[n - 1];
        out->len--;
        out->p[out->len] = '\0';
    }
}

/* s as a JSON string; an absent string (NULL) is "". */
static void esc(lk_buf *out, lk_str s)
{
    jw_escape(out, s.p ? s : LK_STR(""));
}

static int kv_cmp(const void *a, const void *b)
{
    const otlp_kv *x = *(otlp_kv *const *)a, *y = *(otlp_kv *const *)b;
    size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = n ? memcmp(x->key.p, y->key.p, n) : 0;
    if (c)
        return c;
    if (x->key.len != y->key.len)
        return x->key.len < y->key.len ? -1 : 1;
    /* equal keys: the later one sorts first, so that it is the one kept */
    return x < y ? 1 : x > y ? -1 : 0;
}

/* json.Marshal of Value.AsRaw(); false when Go's encoder would fail (NaN
 * or an infinity). */
static bool json_value(lk_buf *out, const otlp_value *v)
{
    switch (v->kind) {
    case OTLP_EMPTY:
        lk_buf_puts(out, "null");
        return true;
    case OTLP_STRING:
        esc(out, v->s);
        return true;
    case OTLP_BOOL:
        lk_buf_puts(out, v->b ? "true" : "false");
        return true;
    case OTLP_INT:
        lk_buf_printf(out, "%lld", (long long)v->i);
        return true;
    case OTLP_DOUBLE:
        if (isnan(v->d) || isinf(v->d))
            return false;
        json_float(out, v->d);
        return true;
    case OTLP_BYTES: {
        lk_buf b = { 0 };
        lk_base64_encode(v->s.p, v->s.len, &b);
        jw_escape(out, lk_buf_str(&b));
        lk_buf_free(&b);
        return true;
    }
    case OTLP_BYTES_B64:
        esc(out, v->s);
        return true;
    case OTLP_ARRAY:
        lk_buf_putc(out, '[');
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                lk_buf_putc(out, ',');
            if (!json_value(out, &v->items[i]))
                return false;
        }
        lk_buf_putc(out, ']');
        return true;
    case OTLP_KVLIST: {
        /* a Go map: keys sorted, the last of equal keys wins */
        const otlp_kv **s = malloc((v->n ? v->n : 1) * sizeof *s);
        bool ok = true, first = true;
        for (size_t i = 0; i < v->n; i++)
            s[i] = &v->kvs[i];
        qsort(s, v->n, sizeof *s, kv_cmp);
        lk_buf_putc(out, '{');
        for (size_t i = 0; ok && i < v->n; i++) {
            if (i && lk_str_eq(s[i]->key, s[i - 1]->key))
                continue;
            if (!first)
                lk_buf_putc(out, ',');
            first = false;
            esc(out, s[i]->key);
            lk_buf_putc(out, ':');
            ok = json_value(out, &s[i]->v);
        }
        lk_buf_putc(out, '}');
        free(s);
        return ok;
    }
    }
    return false;
}

void otlp_value_string(const otlp_value *v, lk_buf *out)
{
    size_t start = out->len;
    switch (v->kind) {
    case OTLP_EMPTY:
        return;
    case OTLP_STRING:
    case OTLP_BYTES_B64:
        lk_buf_put_str(out, v->s);
        return;
    case OTLP_BOOL:
        lk_buf_puts(out, v->b ? "true" : "false");
        return;
    case OTLP_INT:
        lk_buf_printf(out, "%lld", (long long)v->i);
        return;
    case OTLP_DOUBLE:
        if (isnan(v->d) || isinf(v->d)) {
            lk_buf_puts(out, "json: unsupported value: ");
            lk_gofloat_append(out, v->d, 'g', -1);
        } else {
            json_float(out, v->d);
        }
        return;
    case OTLP_BYTES:
        lk_base64_encode(v->s.p, v->s.len, out);
        return;
    case OTLP_ARRAY:
    case OTLP_KVLIST:
        if (!json_value(out, v)) {
            out->len = start; /* json.Marshal failed: Go gives "" */
            if (out->p)
                out->p[start] = '\0';
        }
        return;
    }
}

static bool label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* Bytes of the UTF-8 sequence at p (1 for a byte that starts none: Go's
 * regexp reads it as one U+FFFD). */
static size_t rune_len(const unsigned char *p, size_t n)
{
    size_t k = *p < 0xC2 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : *p < 0xF5 ? 4 : 1;
    if (k > n)
        return 1;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 1;
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] > 0x9F) ||
        (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] > 0x8F))
        return 1;
    return k;
}

void otlp_normalize_label(lk_str name, lk_buf *out)
{
    if (name.len == 0)
        return;
    lk_buf t = { 0 };
    const unsigned char *p = (const unsigned char *)name.p;
    for (size_t i = 0; i < name.len;) {
        if (label_char(p[i])) {
            lk_buf_putc(&t, (char)p[i++]);
        } else {
            lk_buf_putc(&t, '_');
            i += rune_len(p + i, name.len - i);
        }
    }
    if (t.p[0] >= '0' && t.p[0] <= '9')
        lk_buf_puts(out, "key_");
    else if (t.p[0] == '_' && !(t.len > 1 && t.p[1] == '_'))
        lk_buf_puts(out, "key");
    lk_buf_put_str(out, lk_buf_str(&t));
    lk_buf_free(&t);
}
