/* Go's strconv.ParseInt in base 10 (lib/goint.h). */
#include "lib/goint.h"

#include <stdbool.h>

#include "lib/err.h"

int lk_go_parse_int(lk_str s, int64_t *out)
{
    const char *p = s.p, *e = s.p + s.len;
    bool neg = false;
    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    if (p >= e)
        return LK_EPARSE;
    uint64_t v = 0;
    bool over = false;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9')
            return LK_EPARSE;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            over = true;
        else
            v = v * 10 + d;
    }
    if (over || v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
        return LK_ERANGE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}
