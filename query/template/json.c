/* sprig's fromJson: encoding/json.Unmarshal into interface{}. The whole
 * input is checked first (RFC 8259 as Go's scanner reads it: no trailing
 * data, no control characters in strings); invalid input gives nil. Objects
 * become map[string]interface{} (keys sorted, the last duplicate wins),
 * arrays []interface{}, numbers float64 (out of range: nil, as Go stores
 * nothing), strings with \u escapes (lone surrogates and invalid UTF-8
 * become U+FFFD), null a nil interface. Strings without escapes point into
 * the input. Nesting deeper than 1000 levels counts as invalid (Go allows
 * 10000). */
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "query/template/template_int.h"

#define JSON_MAX_DEPTH 1000

typedef struct jp {
    tx *x;
    const char *p;
    size_t n, i;
} jp;

static void ws(jp *j)
{
    while (j->i < j->n && (j->p[j->i] == ' ' || j->p[j->i] == '\t' || j->p[j->i] == '\n' ||
                           j->p[j->i] == '\r'))
        j->i++;
}

/* ---- validation ------------------------------------------------------------ */

static bool v_value(jp *j, int depth);

static bool v_string(jp *j)
{
    j->i++; /* opening quote */
    while (j->i < j->n) {
        unsigned char c = (unsigned char)j->p[j->i];
        if (c == '"') {
            j->i++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            j->i++;
            if (j->i >= j->n)
                return false;
            char e = j->p[j->i];
            if (e == 'u') {
                for (int k = 1; k <= 4; k++) {
                    if (j->i + (size_t)k >= j->n)
                        return false;
                    char h = j->p[j->i + (size_t)k];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                        return false;
                }
                j->i += 5;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == 0)
                return false;
        }
        j->i++;
    }
    return false;
}

static bool v_number(jp *j)
{
    if (j->p[j->i] == '-')
        j->i++;
    if (j->i >= j->n)
        return false;
    if (j->p[j->i] == '0') {
        j->i++;
    } else if (j->p[j->i] >= '1' && j->p[j->i] <= '9') {
        while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9')
            j->i++;
    } else {
        return false;
    }
    if (j->i < j->n && j->p[j->i] == '.') {
        j->i++;
        if (j->i >= j->n || j->p[j->i] < '0' || j->p[j->i] > '9')
            return false;
        while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9')
            j->i++;
    }
    if (j->i < j->n && (j->p[j->i] == 'e' || j->p[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->p[j->i] == '+' || j->p[j->i] == '-'))
            j->i++;
        if (j->i >= j->n || j->p[j->i] < '0' || j->p[j->i] > '9')
            return false;
        while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9')
            j->i++;
    }
    return true;
}

static bool v_lit(jp *j, const char *w)
{
    size_t l = strlen(w);
    if (j->n - j->i < l || memcmp(j->p + j->i, w, l) != 0)
        return false;
    j->i += l;
    return true;
}

static bool v_value(jp *j, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return false;
    ws(j);
    if (j->i >= j->n)
        return false;
    switch (j->p[j->i]) {
    case '{':
        j->i++;
        ws(j);
        if (j->i < j->n && j->p[j->i] == '}') {
            j->i++;
            return true;
        }
        for (;;) {
            ws(j);
            if (j->i >= j->n || j->p[j->i] != '"' || !v_string(j))
                return false;
            ws(j);
            if (j->i >= j->n || j->p[j->i] != ':')
                return false;
            j->i++;
            if (!v_value(j, depth + 1))
                return false;
            ws(j);
            if (j->i >= j->n)
                return false;
            if (j->p[j->i] == ',') {
                j->i++;
                continue;
            }
            if (j->p[j->i] == '}') {
                j->i++;
                return true;
            }
            return false;
        }
    case '[':
        j->i++;
        ws(j);
        if (j->i < j->n && j->p[j->i] == ']') {
            j->i++;
            return true;
        }
        for (;;) {
            if (!v_value(j, depth + 1))
                return false;
            ws(j);
            if (j->i >= j->n)
                return false;
            if (j->p[j->i] == ',') {
                j->i++;
                continue;
            }
            if (j->p[j->i] == ']') {
                j->i++;
                return true;
            }
            return false;
        }
    case '"':
        return v_string(j);
    case 't':
        return v_lit(j, "true");
    case 'f':
        return v_lit(j, "false");
    case 'n':
        return v_lit(j, "null");
    default:
        return v_number(j);
    }
}

/* ---- decoding (input known valid) ---------------------------------------------- */

static int hex4(const char *p)
{
    int v = 0;
    for (int k = 0; k < 4; k++)
        v = v * 16 + lk_hex_val(p[k]);
    return v;
}

static lk_str d_string(jp *j)
{
    size_t start = ++j->i;
    bool plain = true;
    size_t e = start;
    while (j->p[e] != '"') {
        unsigned char c = (unsigned char)j->p[e];
        if (c == '\\') {
            plain = false;
            e += 2;
            continue;
        }
        if (c >= 0x80) {
            uint32_t r;
            size_t w = lk_utf8_decode((const unsigned char *)j->p + e, j->n - e, &r);
            if (w == 1 && r == 0xFFFD)
                plain = false;
            e += w;
            continue;
        }
        e++;
    }
    j->i = e + 1;
    if (plain)
        return lk_str_n(j->p + start, e - start);
    size_t m = tx_sb_begin(j->x);
    lk_buf *b = j->x->out;
    size_t i = start;
    while (i < e) {
        unsigned char c = (unsigned char)j->p[i];
        if (c == '\\') {
            char esc = j->p[i + 1];
            i += 2;
            switch (esc) {
            case 'b': lk_buf_putc(b, '\b'); break;
            case 'f': lk_buf_putc(b, '\f'); break;
            case 'n': lk_buf_putc(b, '\n'); break;
            case 'r': lk_buf_putc(b, '\r'); break;
            case 't': lk_buf_putc(b, '\t'); break;
            case 'u': {
                uint32_t r = (uint32_t)hex4(j->p + i);
                i += 4;
                if (r >= 0xD800 && r < 0xDC00) {
                    if (i + 6 <= e && j->p[i] == '\\' && j->p[i + 1] == 'u') {
                        uint32_t r2 = (uint32_t)hex4(j->p + i + 2);
                        if (r2 >= 0xDC00 && r2 < 0xE000) {
                            r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
                            i += 6;
                        } else {
                            r = 0xFFFD;
                        }
                    } else {
                        r = 0xFFFD;
                    }
                } else if (r >= 0xDC00 && r < 0xE000) {
                    r = 0xFFFD;
                }
                lk_utf8_put(b, r);
                break;
            }
            default: lk_buf_putc(b, esc); break;
            }
            continue;
        }
        if (c < 0x80) {
            lk_buf_putc(b, (char)c);
            i++;
            continue;
        }
        uint32_t r;
        size_t w = lk_utf8_decode((const unsigned char *)j->p + i, e - i, &r);
        if (w == 1 && r == 0xFFFD)
            lk_utf8_put(b, 0xFFFD);
        else
            lk_buf_append(b, j->p + i, w);
        i += w;
    }
    return tx_sb_end(j->x, m);
}

typedef struct kv {
    lk_str key;
    tv val;
    uint32_t order;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    int c = lk_str_cmp(x->key, y->key);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static tv d_value(jp *j);

static tv d_object(jp *j)
{
    j->i++;
    uint32_t n = 0, cap = 8;
    kv *v = tx_alloc(j->x, cap * sizeof *v);
    ws(j);
    if (j->p[j->i] == '}') {
        j->i++;
    } else {
        for (;;) {
            ws(j);
            lk_str key = d_string(j);
            ws(j);
            j->i++; /* ':' */
            tv val = d_value(j);
            if (n == cap) {
                kv *nv = tx_alloc(j->x, cap * 2 * sizeof *nv);
                memcpy(nv, v, n * sizeof *v);
                v = nv;
                cap *= 2;
            }
            v[n].key = key;
            v[n].val = val;
            v[n].order = n;
            n++;
            ws(j);
            if (j->p[j->i++] == '}')
                break;
        }
    }
    qsort(v, n, sizeof *v, kv_cmp);
    tv_jmap *m = tx_alloc(j->x, sizeof *m);
    m->shape = TJ_IFACE;
    m->keys = tx_alloc(j->x, (n ? n : 1) * sizeof(lk_str));
    m->vals = tx_alloc(j->x, (n ? n : 1) * sizeof(tv));
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i + 1 < n && lk_str_eq(v[i].key, v[i + 1].key))
            continue; /* a later duplicate wins */
        m->keys[k] = v[i].key;
        m->vals[k] = v[i].val;
        k++;
    }
    m->n = k;
    tv r = { .kind = TV_JMAP };
    r.u.m = m;
    return r;
}

static tv d_array(jp *j)
{
    j->i++;
    uint32_t n = 0, cap = 8;
    tv *v = tx_alloc(j->x, cap * sizeof *v);
    ws(j);
    if (j->p[j->i] == ']') {
        j->i++;
    } else {
        for (;;) {
            tv val = d_value(j);
            if (n == cap) {
                tv *nv = tx_alloc(j->x, cap * 2 * sizeof *nv);
                memcpy(nv, v, n * sizeof *v);
                v = nv;
                cap *= 2;
            }
            v[n++] = val;
            ws(j);
            if (j->p[j->i++] == ']')
                break;
        }
    }
    tv_jslice *s = tx_alloc(j->x, sizeof *s);
    s->n = n;
    s->v = v;
    tv r = { .kind = TV_JSLICE };
    r.u.a = s;
    return r;
}

static tv d_value(jp *j)
{
    ws(j);
    char c = j->p[j->i];
    switch (c) {
    case '{': return d_object(j);
    case '[': return d_array(j);
    case '"': return tv_str(d_string(j));
    case 't': j->i += 4; return tv_bool(true);
    case 'f': j->i += 5; return tv_bool(false);
    case 'n': j->i += 4; return (tv){ .kind = TV_NILIFACE };
    default: {
        size_t s = j->i;
        v_number(j);
        double f;
        if (tnum_parse_float(lk_str_n(j->p + s, j->i - s), &f) != 0)
            return (tv){ .kind = TV_NILIFACE };
        return tv_float(f);
    }
    }
}

tv tj_from_json(tx *x, lk_str s)
{
    jp j = { x, s.p, s.len, 0 };
    if (!s.len || !v_value(&j, 0))
        return (tv){ .kind = TV_NILIFACE };
    ws(&j);
    if (j.i != j.n)
        return (tv){ .kind = TV_NILIFACE };
    j.i = 0;
    return d_value(&j);
}
