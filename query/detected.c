/* detected_labels / detected_fields value rules (see detected.h). */
#include "query/detected.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bytesize.h"
#include "lib/goint.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/pipeline/conv.h"

static bool go_float(lk_str v)
{
    double d;
    int rc = lp_parse_float(v, &d, NULL);
    return rc == 0;
}

/* strconv.ParseBool */
static bool go_bool(lk_str v)
{
    static const char *const ok[] = { "1", "t", "T", "TRUE", "true", "True",
                                      "0", "f", "F", "FALSE", "false", "False" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (lk_str_eq_c(v, ok[i]))
            return true;
    return false;
}

const char *dt_field_type(lk_str v)
{
    int64_t ns;
    uint64_t b;
    if (lk_go_parse_int(v, &(int64_t){ 0 }) == 0)
        return "int";
    if (go_float(v))
        return "float";
    if (go_bool(v))
        return "boolean";
    if (lk_parse_go_duration(v, &ns) == 0)
        return "duration";
    if (lk_parse_bytes(v, &b, NULL) == 0)
        return "bytes";
    return "string";
}

static bool all_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)p[i]))
            return false;
    return true;
}

/* github.com/google/uuid Parse: 8-4-4-4-12 hex digits, optionally in
 * braces or after "urn:uuid:", or 32 hex digits. */
static bool go_uuid(lk_str v)
{
    if (v.len == 32)
        return all_hex(v.p, 32);
    if (v.len == 45 && lk_str_eq_nocase(lk_str_n(v.p, 9), "urn:uuid:"))
        v = lk_str_n(v.p + 9, 36);
    else if (v.len == 38 && v.p[0] == '{' && v.p[37] == '}')
        v = lk_str_n(v.p + 1, 36);
    if (v.len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? v.p[i] != '-' : !isxdigit((unsigned char)v.p[i]))
            return false;
    }
    return true;
}

bool dt_is_id(lk_str v)
{
    return go_float(v) || go_uuid(v);
}

static bool all_ids(const lk_str *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!dt_is_id(values[i]))
            return false;
    return true;
}

bool dt_label_rejected(const lk_str *values, size_t n)
{
    if (n == 0)
        return true;
    if (n > 2)
        return all_ids(values, n);
    for (size_t i = 0; i < n; i++)
        if (!lk_str_eq_c(values[i], "0") && !lk_str_eq_c(values[i], "1"))
            return all_ids(values, n);
    return false;
}

bool dt_set_add(dt_set *s, lk_str v)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = lk_str_cmp(s->v[mid], v);
        if (c == 0)
            return false;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = lk_realloc(s->v, s->cap * sizeof(*s->v));
    }
    memmove(s->v + lo + 1, s->v + lo, (s->n - lo) * sizeof(*s->v));
    s->v[lo] = lk_str_n(lk_strndup(v.p, v.len), v.len);
    s->n++;
    return true;
}

void dt_set_free(dt_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free((char *)s->v[i].p);
    free(s->v);
    memset(s, 0, sizeof(*s));
}
