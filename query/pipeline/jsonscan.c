/* JSON scanning for the pipeline with buger/jsonparser's leniency and error
 * messages (what Loki's json and unpack stages use): value types and
 * extents, ObjectEach, array elements, string unescaping. Nothing is
 * allocated but unescaped strings, in the runner's scratch. See pipeline_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/hex.h"
#include "lib/mem.h"
#include "lib/utf8.h"
#include "query/pipeline/pipeline_int.h"

const char *const LP_JERR_MALFORMED_JSON = "Malformed JSON error";
const char *const LP_JERR_MALFORMED_OBJECT =
    "Value looks like object, but can't find closing '}' symbol";
const char *const LP_JERR_MALFORMED_ARRAY =
    "Value is array, but can't find closing ']' symbol";
const char *const LP_JERR_MALFORMED_STRING =
    "Value is string, but can't find closing '\"' symbol";
const char *const LP_JERR_UNKNOWN_VALUE = "Unknown value type";
const char *const LP_JERR_BAD_ESCAPE = "Encountered an invalid escape sequence in a string";

/* ---- scanner primitives ------------------------------------------------------ */

static bool is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* nextToken: offset of the first non-space byte, or -1. */
static long next_token(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_ws(p[i]))
            return (long)i;
    return -1;
}

/* stringEnd: p is just past an opening quote; the offset just past the
 * closing quote (one not preceded by an odd run of backslashes), or -1.
 * *esc: a backslash was seen. */
static long string_end(const char *p, size_t n, bool *esc)
{
    size_t i = 0;
    while (i < n) {
        const char *q = memchr(p + i, '"', n - i);
        if (!q)
            break;
        size_t k = (size_t)(q - p), bs = 0;
        while (k > bs && p[k - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0) {
            *esc = memchr(p, '\\', k) != NULL;
            return (long)k + 1;
        }
        i = k + 1;
    }
    *esc = memchr(p, '\\', n) != NULL;
    return -1;
}

/* blockEnd: p starts with the opening symbol; offset past the matching
 * closing one (strings skipped), or -1. */
static long block_end(const char *p, size_t n, char open, char close)
{
    long level = 0;
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        if (c == '"') {
            bool esc;
            long se = string_end(p + i + 1, n - i - 1, &esc);
            if (se < 0)
                return -1;
            i += (size_t)se;
        } else if (c == open) {
            level++;
        } else if (c == close) {
            if (--level == 0)
                return (long)i + 1;
        }
        i++;
    }
    return -1;
}

/* tokenEnd: length up to a delimiter. */
static size_t token_end(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (p[i]) {
        case ' ': case '\n': case '\r': case '\t': case ',': case '}': case ']':
            return i;
        default:
            break;
        }
    }
    return n;
}

/* getType at data.p[off]: the value's extent [*start, *end) (strings
 * without quotes) and the offset just past it. */
static const char *get_type(lk_str data, size_t off, size_t *start, size_t *end, size_t *after,
                            lp_jtype *t)
{
    const char *p = data.p;
    size_t n = data.len;
    char c = p[off];
    if (c == '"') {
        bool esc;
        long se = string_end(p + off + 1, n - off - 1, &esc);
        if (se < 0)
            return LP_JERR_MALFORMED_STRING;
        *t = LP_J_STRING;
        *start = off + 1;
        *end = off + (size_t)se;
        *after = off + 1 + (size_t)se;
        return NULL;
    }
    if (c == '[' || c == '{') {
        long be = block_end(p + off, n - off, c, c == '[' ? ']' : '}');
        if (be < 0)
            return c == '[' ? LP_JERR_MALFORMED_ARRAY : LP_JERR_MALFORMED_OBJECT;
        *t = c == '[' ? LP_J_ARRAY : LP_J_OBJECT;
        *start = off;
        *end = *after = off + (size_t)be;
        return NULL;
    }
    size_t te = token_end(p + off, n - off);
    lk_str v = { p + off, te };
    switch (c) {
    case 't': case 'f':
        if (!lk_str_eq(v, LK_STR("true")) && !lk_str_eq(v, LK_STR("false")))
            return LP_JERR_UNKNOWN_VALUE;
        *t = LP_J_BOOL;
        break;
    case 'u': case 'n':
        if (!lk_str_eq(v, LK_STR("null")))
            return LP_JERR_UNKNOWN_VALUE;
        *t = LP_J_NULL;
        break;
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': case '-':
        *t = LP_J_NUMBER;
        break;
    default:
        return LP_JERR_UNKNOWN_VALUE;
    }
    *start = off;
    *end = *after = off + te;
    return NULL;
}

const char *lp_json_value(lk_str data, size_t *start, size_t *end, lp_jtype *t)
{
    long nt = next_token(data.p, data.len);
    if (nt < 0)
        return LP_JERR_MALFORMED_JSON;
    size_t after;
    return get_type(data, (size_t)nt, start, end, &after, t);
}

/* ---- unescaping --------------------------------------------------------------- */

static long u4(const char *p, size_t n)
{
    if (n < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    long r = 0;
    for (int i = 2; i < 6; i++) {
        int h = lk_hex_val(p[i]);
        if (h < 0)
            return -1;
        r = r * 16 + h;
    }
    return r;
}

bool lp_json_unescape(lk_str in, lp_scratch *s, lk_str *out)
{
    const char *bs = memchr(in.p, '\\', in.len);
    if (!bs) {
        *out = in;
        return true;
    }
    char *o = lp_alloc(s, in.len + 1);
    size_t w = (size_t)(bs - in.p), i = w;
    memcpy(o, in.p, w);
    while (i < in.len) {
        char c = in.p[i];
        if (c != '\\') {
            o[w++] = c;
            i++;
            continue;
        }
        if (i + 1 >= in.len)
            return false;
        char e = in.p[i + 1];
        switch (e) {
        case '"': case '\\': case '/':
            o[w++] = e;
            i += 2;
            continue;
        case 'b': o[w++] = '\b'; i += 2; continue;
        case 'f': o[w++] = '\f'; i += 2; continue;
        case 'n': o[w++] = '\n'; i += 2; continue;
        case 'r': o[w++] = '\r'; i += 2; continue;
        case 't': o[w++] = '\t'; i += 2; continue;
        case 'u': {
            long r = u4(in.p + i, in.len - i);
            if (r < 0)
                return false;
            if (r <= 0xffff && !(r >= 0xd800 && r <= 0xdfff)) {
                w += lk_utf8_encode(o + w, (uint32_t)r);
                i += 6;
                continue;
            }
            long r2 = u4(in.p + i + 6, in.len - i - 6);
            if (r2 < 0xdc00)
                return false;
            uint32_t cr = (uint32_t)((((r - 0xd800) << 10) | (r2 - 0xdc00)) + 0x10000);
            w += lk_utf8_encode(o + w, cr); /* an out-of-range pair becomes U+FFFD */
            i += 12;
            continue;
        }
        default:
            return false;
        }
    }
    *out = (lk_str){ o, w };
    return true;
}

lk_str lp_json_string_value(lk_str raw, lp_scratch *s)
{
    lk_str v;
    if (!lp_json_unescape(raw, s, &v) || !lp_utf8_clean(v))
        return LK_STR("");
    return v;
}

/* ---- ObjectEach ---------------------------------------------------------------- */

const char *lp_json_object_each(lk_str data, lp_json_member_fn fn, void *ctx, lp_scratch *s)
{
    const char *p = data.p;
    size_t n = data.len, off = 0;
    long nt = next_token(p, n);
    if (nt < 0 || p[nt] != '{')
        return LP_JERR_MALFORMED_OBJECT;
    off = (size_t)nt + 1;
    nt = next_token(p + off, n - off);
    if (nt < 0)
        return LP_JERR_MALFORMED_JSON;
    off += (size_t)nt;
    if (p[off] == '}')
        return NULL;
    while (off < n) {
        if (p[off] == '}')
            return NULL;
        if (p[off] != '"')
            return LP_JERR_MALFORMED_OBJECT;
        off++;
        bool esc;
        long se = string_end(p + off, n - off, &esc);
        if (se < 0)
            return LP_JERR_MALFORMED_JSON;
        lk_str key = { p + off, (size_t)se - 1 };
        off += (size_t)se;
        if (esc && !lp_json_unescape(key, s, &key))
            return LP_JERR_BAD_ESCAPE;
        nt = next_token(p + off, n - off);
        if (nt < 0)
            return LP_JERR_MALFORMED_JSON;
        off += (size_t)nt;
        if (p[off] != ':')
            return LP_JERR_MALFORMED_JSON;
        off++;
        nt = next_token(p + off, n - off);
        if (nt < 0)
            return LP_JERR_MALFORMED_JSON;
        off += (size_t)nt;
        size_t vs, ve, after;
        lp_jtype t;
        const char *e = get_type(data, off, &vs, &ve, &after, &t);
        if (e)
            return e;
        e = fn(ctx, key, (lk_str){ p + vs, ve - vs }, t);
        if (e)
            return e;
        off = after;
        nt = next_token(p + off, n - off);
        if (nt < 0)
            return LP_JERR_MALFORMED_ARRAY;
        off += (size_t)nt;
        if (p[off] == '}')
            return NULL;
        if (p[off] != ',')
            return LP_JERR_MALFORMED_OBJECT;
        off++;
        nt = next_token(p + off, n - off);
        if (nt < 0)
            return LP_JERR_MALFORMED_ARRAY;
        off += (size_t)nt;
    }
    return LP_JERR_MALFORMED_OBJECT;
}

/* ---- arrays ------------------------------------------------------------------------ */

/* The idx-th element of the array text v. */
const char *lp_json_array_elem(lk_str v, long idx, bool *found, lk_str *out, lp_jtype *t)
{
    const char *p = v.p;
    size_t n = v.len, off = 1; /* past '[' */
    long nt = next_token(p + off, n - off);
    if (nt < 0)
        return LP_JERR_MALFORMED_ARRAY;
    off += (size_t)nt;
    if (p[off] == ']')
        return NULL;
    for (long i = 0;; i++) {
        size_t vs, ve, after;
        const char *e = get_type(v, off, &vs, &ve, &after, t);
        if (e)
            return e;
        if (i == idx) {
            *found = true;
            *out = (lk_str){ p + vs, ve - vs };
            return NULL;
        }
        off = after;
        nt = next_token(p + off, n - off);
        if (nt < 0)
            return LP_JERR_MALFORMED_ARRAY;
        off += (size_t)nt;
        if (p[off] == ']')
            return NULL;
        if (p[off] != ',')
            return LP_JERR_MALFORMED_ARRAY;
        off++;
        nt = next_token(p + off, n - off);
        if (nt < 0)
            return LP_JERR_MALFORMED_ARRAY;
        off += (size_t)nt;
    }
}
