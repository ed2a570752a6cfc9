/* Go's strconv.ParseFloat with its error texts, for label filters and
 * unwrap conversions. See conv.h. */
#include "query/pipeline/conv.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/hex.h"
#include "lib/labels.h"
#include "lib/mem.h"

/* ---- strconv.ParseFloat ------------------------------------------------------ */

static bool is_dig(char c)
{
    return c >= '0' && c <= '9';
}

static size_t prefix_nocase(lk_str s, size_t at, const char *word)
{
    size_t n = 0;
    while (at + n < s.len && word[n]) {
        char c = s.p[at + n];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != word[n])
            break;
        n++;
    }
    return n;
}

/* inf / infinity / nan spellings; true when s is one. */
static bool special(lk_str s, double *out)
{
    size_t i = 0;
    double sign = 1;
    bool signed_ = false;
    if (s.len && (s.p[0] == '+' || s.p[0] == '-')) {
        sign = s.p[0] == '-' ? -1 : 1;
        signed_ = true;
        i = 1;
    }
    size_t n = prefix_nocase(s, i, "infinity");
    if ((n == 3 || n == 8) && i + n == s.len) {
        *out = sign * INFINITY;
        return true;
    }
    if (!signed_ && prefix_nocase(s, 0, "nan") == 3 && s.len == 3) {
        *out = NAN;
        return true;
    }
    return false;
}

/* Go's float syntax: decimal, or hex mantissa with a p exponent (with '_'
 * between digits allowed only after a base prefix). */
static bool float_syntax(lk_str s, bool *hex)
{
    size_t i = 0;
    if (i < s.len && (s.p[i] == '+' || s.p[i] == '-'))
        i++;
    *hex = s.len - i > 2 && s.p[i] == '0' && (s.p[i + 1] == 'x' || s.p[i + 1] == 'X');
    if (*hex)
        i += 2;
    size_t digits = 0;
    bool dot = false;
    char prev = *hex ? '_' : 0; /* after a base prefix an underscore may follow */
    for (; i < s.len; i++) {
        char c = s.p[i];
        if (*hex ? lk_is_hex(c) : is_dig(c)) {
            digits++;
        } else if (c == '.' && !dot) {
            dot = true;
        } else if (c == '_' && *hex && (lk_is_hex(prev) || prev == '_')) {
            /* between digits (checked loosely, as Go's underscoreOK) */
        } else {
            break;
        }
        prev = c;
    }
    if (digits == 0 || prev == '_')
        return false;
    if (i < s.len && (*hex ? (s.p[i] == 'p' || s.p[i] == 'P') : (s.p[i] == 'e' || s.p[i] == 'E'))) {
        i++;
        if (i < s.len && (s.p[i] == '+' || s.p[i] == '-'))
            i++;
        size_t ed = 0;
        for (; i < s.len && is_dig(s.p[i]); i++)
            ed++;
        if (ed == 0)
            return false;
    } else if (*hex) {
        return false;
    }
    return i == s.len;
}

static void float_error(lk_str s, const char *why, lk_buf *err)
{
    if (!err)
        return;
    lk_buf_puts(err, "strconv.ParseFloat: parsing ");
    lk_go_quote(s, err);
    lk_buf_puts(err, ": ");
    lk_buf_puts(err, why);
}

int lp_parse_float(lk_str s, double *out, lk_buf *err)
{
    if (special(s, out))
        return 0;
    bool hex;
    if (!float_syntax(s, &hex)) {
        float_error(s, "invalid syntax", err);
        return LK_EINVAL;
    }
    char small[128];
    char *buf = s.len < sizeof(small) ? small : lk_malloc(s.len + 1);
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++)
        if (s.p[i] != '_')
            buf[n++] = s.p[i];
    buf[n] = '\0';
    errno = 0;
    double v = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    *out = v;
    if (isinf(v)) {
        float_error(s, "value out of range", err);
        return LK_ERANGE;
    }
    return 0;
}
