/* humanize.ParseBytes (lib/bytesize.h): the number, commas dropped, read
 * as strconv.ParseFloat reads it, times the unit's multiplier, which must
 * stay below 2^64. */
#include "lib/bytesize.h"

#include <math.h>
#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"

size_t lk_bytes_number_len(lk_str s)
{
    size_t n = 0;
    while (n < s.len && ((s.p[n] >= '0' && s.p[n] <= '9') || s.p[n] == '.' || s.p[n] == ','))
        n++;
    return n;
}

bool lk_bytes_unit(lk_str unit, double *mult)
{
    static const struct {
        const char *unit;
        double mult;
    } units[] = {
        { "b", 1 },          { "", 1 },
        { "kib", 1024.0 },   { "ki", 1024.0 },   { "kb", 1e3 },  { "k", 1e3 },
        { "mib", 1048576.0 }, { "mi", 1048576.0 }, { "mb", 1e6 }, { "m", 1e6 },
        { "gib", 1073741824.0 }, { "gi", 1073741824.0 }, { "gb", 1e9 }, { "g", 1e9 },
        { "tib", 1099511627776.0 }, { "ti", 1099511627776.0 }, { "tb", 1e12 }, { "t", 1e12 },
        { "pib", 1125899906842624.0 }, { "pi", 1125899906842624.0 }, { "pb", 1e15 },
        { "p", 1e15 },
        { "eib", 1152921504606846976.0 }, { "ei", 1152921504606846976.0 }, { "eb", 1e18 },
        { "e", 1e18 },
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (lk_str_eq_nocase(unit, units[i].unit)) {
            *mult = units[i].mult;
            return true;
        }
    }
    return false;
}

/* strconv.ParseFloat of the number s[0:n] with its commas dropped: it is
 * made of digits and '.' only, so it needs no escaping in the error. */
static int parse_number(lk_str s, size_t n, double *out, lk_buf *err)
{
    char small[64];
    char *num = n < sizeof(small) ? small : lk_malloc(n + 1);
    size_t len = 0, dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (s.p[i] == ',')
            continue;
        dots += s.p[i] == '.';
        num[len++] = s.p[i];
    }
    num[len] = '\0';
    const char *why = NULL;
    int rc = 0;
    if (len == dots || dots > 1) {
        why = "invalid syntax";
        rc = LK_EINVAL;
    } else {
        *out = strtod(num, NULL);
        if (isinf(*out)) {
            why = "value out of range";
            rc = LK_ERANGE;
        }
    }
    if (why && err) {
        lk_buf_puts(err, "strconv.ParseFloat: parsing \"");
        lk_buf_append(err, num, len);
        lk_buf_puts(err, "\": ");
        lk_buf_puts(err, why);
    }
    if (num != small)
        free(num);
    return rc;
}

int lk_parse_bytes(lk_str s, uint64_t *out, lk_buf *err)
{
    size_t n = lk_bytes_number_len(s);
    double f;
    int rc = parse_number(s, n, &f, err);
    if (rc)
        return rc;
    lk_str unit = lk_str_trim((lk_str){ s.p + n, s.len - n });
    double mult;
    if (!lk_bytes_unit(unit, &mult)) {
        if (err) {
            lk_buf_puts(err, "unhandled size name: ");
            for (size_t i = 0; i < unit.len; i++) {
                char c = unit.p[i];
                lk_buf_putc(err, c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
            }
        }
        return LK_EINVAL;
    }
    f *= mult;
    if (f >= 18446744073709551616.0) {
        if (err) {
            lk_buf_puts(err, "too large: ");
            lk_buf_put_str(err, s);
        }
        return LK_ERANGE;
    }
    *out = (uint64_t)f;
    return 0;
}
