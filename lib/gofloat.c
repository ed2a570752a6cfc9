/* Go's strconv.FormatFloat for float64 (lib/gofloat.h).
 *
 * Shortest digits come from C's correctly rounded printf and strtod: the
 * p-digit decimal nearest v reads back as v exactly when some p-digit
 * decimal does, as long as v's rounding interval is symmetric, so the
 * shortest is the first p that reads back. For a normal double with a
 * non-zero mantissa the search starts at 15 digits: two 15-digit decimals
 * are further apart than the interval is wide, so a shorter decimal that
 * reads back is the 15-digit one with its trailing zeros cut. A power of
 * two has an interval half as wide below as above: there the neighbours
 * of the nearest p-digit decimal are tried too. Explicit precisions are
 * printf's, which rounds as Go does. */
#include "lib/gofloat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shortest digits ------------------------------------------------------ */

/* Digits of an integer below 1e15 (exact, so its own shortest form). */
static int integer_digits(uint64_t u, char *digits, int *dp)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)u);
    *dp = n;
    while (n > 1 && tmp[n - 1] == '0')
        n--;
    memcpy(digits, tmp, (size_t)n);
    digits[n] = '\0';
    return n;
}

static bool reads_back(const char *s, double v)
{
    return strtod(s, NULL) == v;
}

/* The decimal nearest v with p significant digits, in %e form. */
static void nearest(double v, int p, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*e", p - 1, v);
}

/* The p-digit neighbours (one unit in the last place either way) of the
 * %e decimal in buf: replaces buf with one that reads back, if any. */
static bool neighbour_reads_back(double v, int p, char *buf, size_t cap)
{
    char *e = strchr(buf, 'e');
    int ex = atoi(e + 1);
    uint64_t m = 0;
    for (char *q = buf; q < e; q++)
        if (*q >= '0' && *q <= '9')
            m = m * 10 + (uint64_t)(*q - '0');
    for (int dir = -1; dir <= 1; dir += 2) {
        char ds[24], alt[48];
        int len = snprintf(ds, sizeof ds, "%llu", (unsigned long long)(m + (uint64_t)(int64_t)dir));
        snprintf(alt, sizeof alt, "%c.%se%d", ds[0], ds + 1, ex + (len - p));
        if (len <= p && reads_back(alt, v)) {
            snprintf(buf, cap, "%s", alt);
            return true;
        }
    }
    return false;
}

/* The shortest %e decimal that reads back as v (v > 0, finite). */
static void shortest_e(double v, char *buf, size_t cap)
{
    int exp2;
    double frac = frexp(v, &exp2);
    bool normal = v >= 0x1p-1022;
    bool symmetric = normal && frac != 0.5;
    for (int p = symmetric ? 15 : 1; p < 17; p++) {
        nearest(v, p, buf, cap);
        if (reads_back(buf, v))
            return;
        if (!symmetric && neighbour_reads_back(v, p, buf, cap))
            return;
    }
    nearest(v, 17, buf, cap);
}

int lk_gofloat_shortest(double v, char *digits, int *dp)
{
    v = fabs(v);
    if (v == 0) {
        *dp = 0;
        digits[0] = '\0';
        return 0;
    }
    if (v < 1e15 && v == floor(v))
        return integer_digits((uint64_t)v, digits, dp);
    char buf[48];
    shortest_e(v, buf, sizeof buf);
    char *e = strchr(buf, 'e');
    int nd = 0;
    for (char *q = buf; q < e; q++)
        if (*q >= '0' && *q <= '9')
            digits[nd++] = *q;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    *dp = atoi(e + 1) + 1;
    return nd;
}

/* ---- layouts ---------------------------------------------------------------- */

/* %e of the digits d (nd of them, point at dp) with prec digits after the
 * point; the exponent has at least two digits. */
static void put_e(lk_buf *b, const char *d, int nd, int dp, int prec, char fmtc)
{
    lk_buf_putc(b, nd ? d[0] : '0');
    if (prec > 0) {
        lk_buf_putc(b, '.');
        int i = 1;
        int m = nd < prec + 1 ? nd : prec + 1;
        for (; i < m; i++)
            lk_buf_putc(b, d[i]);
        for (; i <= prec; i++)
            lk_buf_putc(b, '0');
    }
    lk_buf_putc(b, fmtc);
    int exp = nd == 0 ? 0 : dp - 1;
    lk_buf_putc(b, exp < 0 ? '-' : '+');
    if (exp < 0)
        exp = -exp;
    lk_buf_printf(b, "%02d", exp);
}

/* %f of the digits d with prec digits after the point. */
static void put_f(lk_buf *b, const char *d, int nd, int dp, int prec)
{
    if (dp > 0) {
        int m = nd < dp ? nd : dp;
        lk_buf_append(b, d, (size_t)m);
        for (; m < dp; m++)
            lk_buf_putc(b, '0');
    } else {
        lk_buf_putc(b, '0');
    }
    if (prec > 0) {
        lk_buf_putc(b, '.');
        for (int i = 1; i <= prec; i++) {
            int j = dp + i - 1;
            lk_buf_putc(b, (j >= 0 && j < nd) ? d[j] : '0');
        }
    }
}

/* 'b': decimal mantissa, 'p', binary exponent. */
static void put_b(lk_buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    int exp = (int)((bits >> 52) & 0x7FF);
    uint64_t mant = bits & ((UINT64_C(1) << 52) - 1);
    if (exp == 0)
        exp++;
    else
        mant |= UINT64_C(1) << 52;
    exp += -1023 - 52;
    if (bits >> 63)
        lk_buf_putc(b, '-');
    lk_buf_printf(b, "%llup%s%d", (unsigned long long)mant, exp >= 0 ? "+" : "", exp);
}

/* 'x' / 'X' via C's %a, with Go's two-digit exponent and a normalized
 * mantissa for subnormals. */
static void put_x(lk_buf *b, double v, int prec, char fmtc)
{
    double a = fabs(v);
    if (signbit(v))
        lk_buf_putc(b, '-');
    int e2 = 0;
    double m = a == 0 ? 0 : frexp(a, &e2); /* a = m * 2^e2, m in [0.5,1) */
    if (a != 0) {
        m *= 2;
        e2 -= 1;
    }
    /* 13 hex digits hold the whole mantissa: more precision is zeros */
    int zeros = prec > 13 ? prec - 13 : 0;
    char tmp[64];
    if (prec < 0)
        snprintf(tmp, sizeof tmp, "%a", m);
    else
        snprintf(tmp, sizeof tmp, "%.*a", prec - zeros, m);
    /* tmp is 0x1.8p+0 (or 0x2p+0 after rounding up, 0x0p+0 for zero) */
    char *pp = strchr(tmp, 'p');
    int pe = atoi(pp + 1);
    *pp = 0;
    int exp = e2 + pe;
    if (tmp[2] == '2') { /* rounding carried into a new leading digit */
        tmp[2] = '1';
        exp++;
    }
    for (char *q = tmp; *q; q++)
        lk_buf_putc(b, fmtc == 'X' ? (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q) : *q);
    for (; zeros > 0; zeros--)
        lk_buf_putc(b, '0');
    lk_buf_putc(b, fmtc == 'X' ? 'P' : 'p');
    lk_buf_putc(b, exp < 0 ? '-' : '+');
    if (exp < 0)
        exp = -exp;
    lk_buf_printf(b, "%02d", exp);
}

/* Precision -1: the shortest digits in the layout of fmtc ('g' is %e when
 * the exponent is < -4 or >= 6, strconv's rule for the shortest form). */
static void put_shortest(lk_buf *b, double v, char fmtc)
{
    char d[LK_GOFLOAT_DIGITS];
    int dp;
    int nd = lk_gofloat_shortest(v, d, &dp);
    if (signbit(v))
        lk_buf_putc(b, '-');
    int frac = nd - dp > 0 ? nd - dp : 0;
    switch (fmtc) {
    case 'e':
    case 'E':
        put_e(b, d, nd, dp, nd > 0 ? nd - 1 : 0, fmtc);
        return;
    case 'f':
        put_f(b, d, nd, dp, frac);
        return;
    default: {
        int exp = nd == 0 ? -1 : dp - 1; /* zero prints as 0 */
        if (exp < -4 || exp >= 6)
            put_e(b, d, nd, dp, nd > 0 ? nd - 1 : 0, fmtc == 'G' ? 'E' : 'e');
        else
            put_f(b, d, nd, dp, frac);
        return;
    }
    }
}

void lk_gofloat_append(lk_buf *b, double v, char fmtc, int prec)
{
    if (isnan(v)) {
        lk_buf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        lk_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (fmtc == 'b') {
        put_b(b, v);
        return;
    }
    if (fmtc == 'x' || fmtc == 'X') {
        put_x(b, v, prec, fmtc);
        return;
    }
    if (prec < 0) {
        put_shortest(b, v, fmtc);
        return;
    }
    char f[8];
    snprintf(f, sizeof f, "%%.*%c", fmtc);
    lk_buf_printf(b, f, prec, v);
}
