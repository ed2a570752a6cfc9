/* Numbers for the template engine: Go's strconv.ParseInt/ParseUint/
 * ParseFloat syntax (base prefixes, underscores, hex floats, inf/nan),
 * spf13/cast's ToInt64/ToFloat64 (what sprig's int, float64 and
 * arithmetic use), and the shopspring/decimal arithmetic behind sprig's
 * addf/subf/mulf/divf: each operand becomes the decimal of its shortest
 * float representation, add/sub/mul are exact, div rounds half away from
 * zero to 16 decimal places, and the result is the nearest float64. The
 * decimals use a small arbitrary-precision integer (base 2^32 limbs) kept in
 * execution memory. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gofloat.h"
#include "lib/mem.h"
#include "query/template/template_int.h"

/* ---- strconv parsing ----------------------------------------------------- */

static char lower(char c)
{
    return (char)(c | 0x20);
}

/* strconv's underscoreOK. */
static bool underscore_ok(lk_str s)
{
    char saw = '^';
    size_t i = 0;
    const char *p = s.p;
    size_t n = s.len;
    if (n >= 1 && (p[0] == '-' || p[0] == '+')) {
        p++;
        n--;
    }
    bool hex = false;
    if (n >= 2 && p[0] == '0' && (lower(p[1]) == 'b' || lower(p[1]) == 'o' || lower(p[1]) == 'x')) {
        i = 2;
        saw = '0';
        hex = lower(p[1]) == 'x';
    }
    for (; i < n; i++) {
        if ((p[i] >= '0' && p[i] <= '9') || (hex && lower(p[i]) >= 'a' && lower(p[i]) <= 'f')) {
            saw = '0';
            continue;
        }
        if (p[i] == '_') {
            if (saw != '0')
                return false;
            saw = '_';
            continue;
        }
        if (saw == '_')
            return false;
        saw = '!';
    }
    return saw != '_';
}

int tnum_parse_uint(lk_str s0, int base, uint64_t *out)
{
    lk_str s = s0;
    if (s.len == 0)
        return -1;
    bool base0 = base == 0;
    if (base == 0) {
        base = 10;
        if (s.p[0] == '0') {
            if (s.len >= 3 && lower(s.p[1]) == 'b') {
                base = 2;
                s.p += 2;
                s.len -= 2;
            } else if (s.len >= 3 && lower(s.p[1]) == 'o') {
                base = 8;
                s.p += 2;
                s.len -= 2;
            } else if (s.len >= 3 && lower(s.p[1]) == 'x') {
                base = 16;
                s.p += 2;
                s.len -= 2;
            } else {
                base = 8;
                s.p += 1;
                s.len -= 1;
            }
        }
    }
    uint64_t cutoff = UINT64_MAX / (uint64_t)base + 1;
    uint64_t n = 0;
    bool underscores = false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        int d;
        if (c == '_' && base0) {
            underscores = true;
            continue;
        } else if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (lower(c) >= 'a' && lower(c) <= 'z') {
            d = lower(c) - 'a' + 10;
        } else {
            return -1;
        }
        if (d >= base)
            return -1;
        if (n >= cutoff) {
            *out = UINT64_MAX;
            return -2;
        }
        n *= (uint64_t)base;
        uint64_t n1 = n + (uint64_t)d;
        if (n1 < n) {
            *out = UINT64_MAX;
            return -2;
        }
        n = n1;
    }
    if (underscores && !underscore_ok(s0))
        return -1;
    *out = n;
    return 0;
}

int tnum_parse_int(lk_str s, int base, int64_t *out)
{
    if (s.len == 0)
        return -1;
    bool neg = false;
    lk_str u = s;
    if (u.p[0] == '+' || u.p[0] == '-') {
        neg = u.p[0] == '-';
        u.p++;
        u.len--;
    }
    uint64_t un;
    int rc = tnum_parse_uint(u, base, &un);
    if (rc == -1)
        return -1;
    uint64_t cutoff = (uint64_t)1 << 63;
    if (rc == -2 || (!neg && un >= cutoff) || (neg && un > cutoff)) {
        *out = neg ? INT64_MIN : INT64_MAX;
        return -2;
    }
    *out = neg ? (int64_t)(0 - un) : (int64_t)un;
    return 0;
}

static bool eq_fold(const char *p, size_t n, const char *w)
{
    size_t wn = strlen(w);
    if (n != wn)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != w[i])
            return false;
    return true;
}

/* Checks Go's float syntax (readFloat) over the whole string. */
static bool float_syntax(lk_str s)
{
    size_t i = 0, n = s.len;
    const char *p = s.p;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        i++;
    int base = 10;
    char expch = 'e';
    if (i + 2 < n && p[i] == '0' && lower(p[i + 1]) == 'x') {
        base = 16;
        expch = 'p';
        i += 2;
    }
    bool underscores = false, sawdot = false, sawdigits = false;
    for (; i < n; i++) {
        char c = p[i];
        if (c == '_') {
            underscores = true;
            continue;
        }
        if (c == '.') {
            if (sawdot)
                break;
            sawdot = true;
            continue;
        }
        if ((c >= '0' && c <= '9') || (base == 16 && lower(c) >= 'a' && lower(c) <= 'f')) {
            sawdigits = true;
            continue;
        }
        break;
    }
    if (!sawdigits)
        return false;
    if (i < n && lower(p[i]) == expch) {
        i++;
        if (i >= n)
            return false;
        if (p[i] == '+' || p[i] == '-')
            i++;
        if (i >= n || p[i] < '0' || p[i] > '9')
            return false;
        while (i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == '_')) {
            if (p[i] == '_')
                underscores = true;
            i++;
        }
    } else if (base == 16) {
        return false;
    }
    if (underscores && !underscore_ok(lk_str_n(p, i)))
        return false;
    return i == n;
}

int tnum_parse_float(lk_str s, double *out)
{
    const char *p = s.p;
    size_t n = s.len;
    if (n == 0)
        return -1;
    /* special values */
    size_t k = 0;
    bool neg = false;
    if (p[0] == '+' || p[0] == '-') {
        neg = p[0] == '-';
        k = 1;
    }
    if (eq_fold(p + k, n - k, "inf") || eq_fold(p + k, n - k, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return 0;
    }
    if (eq_fold(p + k, n - k, "nan")) {
        *out = NAN;
        return 0;
    }
    if (!float_syntax(s))
        return -1;
    char stack[128];
    char *tmp = n < sizeof stack ? stack : lk_malloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != '_')
            tmp[j++] = p[i];
    tmp[j] = 0;
    errno = 0;
    double v = strtod(tmp, NULL);
    if (tmp != stack)
        free(tmp);
    *out = v;
    if (isinf(v))
        return -2;
    return 0;
}

/* ---- spf13/cast ----------------------------------------------------------- */

/* cast's trimZeroDecimal: "12.000" -> "12". */
static lk_str trim_zero_decimal(lk_str s)
{
    bool found_zero = false;
    for (size_t i = s.len; i > 0; i--) {
        char c = s.p[i - 1];
        if (c == '.') {
            if (found_zero)
                return lk_str_n(s.p, i - 1);
        } else if (c == '0') {
            found_zero = true;
        } else {
            return s;
        }
    }
    return s;
}

/* Go's int64(f) on amd64: out of range and NaN give MinInt64. */
static int64_t go_f2i(double f)
{
    if (isnan(f) || f >= 9223372036854775808.0 || f < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)f;
}

int64_t tnum_to_int64(const tv *v)
{
    switch (v->kind) {
    case TV_INT:
    case TV_INT64:
    case TV_UINT8:
    case TV_MONTH:
    case TV_WEEKDAY:
        return v->u.i;
    case TV_FLOAT:
        return go_f2i(v->u.f);
    case TV_BOOL:
        return v->u.b ? 1 : 0;
    case TV_STRING: {
        int64_t r;
        if (tnum_parse_int(trim_zero_decimal(v->u.s), 0, &r) == 0)
            return r;
        return 0;
    }
    default:
        return 0;
    }
}

double tnum_to_float64(const tv *v)
{
    switch (v->kind) {
    case TV_INT:
    case TV_INT64:
    case TV_UINT8:
    case TV_MONTH:
    case TV_WEEKDAY:
        return (double)v->u.i;
    case TV_FLOAT:
        return v->u.f;
    case TV_BOOL:
        return v->u.b ? 1 : 0;
    case TV_STRING: {
        double f;
        if (tnum_parse_float(v->u.s, &f) == 0)
            return f;
        return 0;
    }
    default:
        return 0;
    }
}

/* ---- big integers ----------------------------------------------------------- */

#define BIG_MAX_LIMBS 4096

typedef struct big {
    uint32_t *d; /* little-endian limbs */
    uint32_t n;  /* used; 0 means zero */
} big;

static big big_new(tx *x, uint32_t n)
{
    if (n > BIG_MAX_LIMBS)
        tx_callerr(x, "decimal value too large");
    big b = { tx_alloc(x, (n ? n : 1) * sizeof(uint32_t)), n };
    if (n)
        memset(b.d, 0, n * sizeof(uint32_t));
    return b;
}

static void big_trim(big *b)
{
    while (b->n && b->d[b->n - 1] == 0)
        b->n--;
}

static big big_mul_small(tx *x, big a, uint32_t m, uint32_t add)
{
    big r = big_new(x, a.n + 1);
    uint64_t carry = add;
    for (uint32_t i = 0; i < a.n; i++) {
        uint64_t t = (uint64_t)a.d[i] * m + carry;
        r.d[i] = (uint32_t)t;
        carry = t >> 32;
    }
    r.d[a.n] = (uint32_t)carry;
    big_trim(&r);
    return r;
}

static big big_mul(tx *x, big a, big b)
{
    if (!a.n || !b.n)
        return (big){ NULL, 0 };
    big r = big_new(x, a.n + b.n);
    for (uint32_t i = 0; i < a.n; i++) {
        uint64_t carry = 0;
        for (uint32_t j = 0; j < b.n; j++) {
            uint64_t t = (uint64_t)a.d[i] * b.d[j] + r.d[i + j] + carry;
            r.d[i + j] = (uint32_t)t;
            carry = t >> 32;
        }
        r.d[i + b.n] = (uint32_t)carry;
    }
    big_trim(&r);
    return r;
}

static big big_pow10(tx *x, uint64_t k)
{
    if (k > (uint64_t)BIG_MAX_LIMBS * 10)
        tx_callerr(x, "decimal value too large");
    big r = big_new(x, 1);
    r.d[0] = 1;
    while (k >= 9) {
        r = big_mul_small(x, r, 1000000000u, 0);
        k -= 9;
    }
    static const uint32_t p10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000 };
    if (k)
        r = big_mul_small(x, r, p10[k], 0);
    return r;
}

static int big_cmp(big a, big b)
{
    if (a.n != b.n)
        return a.n < b.n ? -1 : 1;
    for (uint32_t i = a.n; i > 0; i--)
        if (a.d[i - 1] != b.d[i - 1])
            return a.d[i - 1] < b.d[i - 1] ? -1 : 1;
    return 0;
}

static big big_add(tx *x, big a, big b)
{
    uint32_t n = a.n > b.n ? a.n : b.n;
    big r = big_new(x, n + 1);
    uint64_t carry = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = carry + (i < a.n ? a.d[i] : 0) + (i < b.n ? b.d[i] : 0);
        r.d[i] = (uint32_t)t;
        carry = t >> 32;
    }
    r.d[n] = (uint32_t)carry;
    big_trim(&r);
    return r;
}

/* a - b with a >= b */
static big big_sub(tx *x, big a, big b)
{
    big r = big_new(x, a.n);
    int64_t borrow = 0;
    for (uint32_t i = 0; i < a.n; i++) {
        int64_t t = (int64_t)a.d[i] - (i < b.n ? b.d[i] : 0) - borrow;
        borrow = t < 0;
        r.d[i] = (uint32_t)(t + (borrow ? ((int64_t)1 << 32) : 0));
    }
    big_trim(&r);
    return r;
}

static uint32_t big_divmod_small(big *a, uint32_t m)
{
    uint64_t rem = 0;
    for (uint32_t i = a->n; i > 0; i--) {
        uint64_t cur = (rem << 32) | a->d[i - 1];
        a->d[i - 1] = (uint32_t)(cur / m);
        rem = cur % m;
    }
    big_trim(a);
    return (uint32_t)rem;
}

static int nlz(uint32_t v)
{
    return v ? __builtin_clz(v) : 32;
}

/* Knuth's algorithm D: q = a / b, r = a % b (b != 0). */
static void big_divmod(tx *x, big a, big b, big *q, big *r)
{
    if (big_cmp(a, b) < 0) {
        *q = (big){ NULL, 0 };
        *r = a;
        return;
    }
    if (b.n == 1) {
        big t = big_new(x, a.n);
        memcpy(t.d, a.d, a.n * sizeof(uint32_t));
        uint32_t rem = big_divmod_small(&t, b.d[0]);
        *q = t;
        big rr = big_new(x, 1);
        rr.d[0] = rem;
        big_trim(&rr);
        *r = rr;
        return;
    }
    uint32_t n = b.n, m = a.n - b.n;
    int s = nlz(b.d[n - 1]);
    big bn = big_new(x, n), an = big_new(x, a.n + 1);
    for (uint32_t i = n - 1; i > 0; i--)
        bn.d[i] = (b.d[i] << s) | (s ? (uint32_t)((uint64_t)b.d[i - 1] >> (32 - s)) : 0);
    bn.d[0] = b.d[0] << s;
    an.d[a.n] = s ? (uint32_t)((uint64_t)a.d[a.n - 1] >> (32 - s)) : 0;
    for (uint32_t i = a.n - 1; i > 0; i--)
        an.d[i] = (a.d[i] << s) | (s ? (uint32_t)((uint64_t)a.d[i - 1] >> (32 - s)) : 0);
    an.d[0] = a.d[0] << s;
    big qq = big_new(x, m + 1);
    const uint64_t B = (uint64_t)1 << 32;
    for (int64_t j = m; j >= 0; j--) {
        uint64_t num = ((uint64_t)an.d[j + n] << 32) | an.d[j + n - 1];
        uint64_t qhat = num / bn.d[n - 1];
        uint64_t rhat = num % bn.d[n - 1];
        while (qhat >= B || qhat * bn.d[n - 2] > ((rhat << 32) | an.d[j + n - 2])) {
            qhat--;
            rhat += bn.d[n - 1];
            if (rhat >= B)
                break;
        }
        int64_t borrow = 0;
        uint64_t carry = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t p = qhat * bn.d[i] + carry;
            carry = p >> 32;
            int64_t t = (int64_t)an.d[i + j] - (int64_t)(uint32_t)p - borrow;
            borrow = t < 0;
            an.d[i + j] = (uint32_t)t;
        }
        int64_t t = (int64_t)an.d[j + n] - (int64_t)carry - borrow;
        an.d[j + n] = (uint32_t)t;
        if (t < 0) {
            qhat--;
            uint64_t c = 0;
            for (uint32_t i = 0; i < n; i++) {
                uint64_t u = (uint64_t)an.d[i + j] + bn.d[i] + c;
                an.d[i + j] = (uint32_t)u;
                c = u >> 32;
            }
            an.d[j + n] += (uint32_t)c;
        }
        qq.d[j] = (uint32_t)qhat;
    }
    big_trim(&qq);
    big rr = big_new(x, n);
    for (uint32_t i = 0; i < n; i++)
        rr.d[i] = (an.d[i] >> s) | (s ? (uint32_t)((uint64_t)an.d[i + 1] << (32 - s)) : 0);
    big_trim(&rr);
    *q = qq;
    *r = rr;
}

/* Decimal digits of a, appended. */
static void big_to_dec(tx *x, big a, lk_buf *out)
{
    if (!a.n) {
        lk_buf_putc(out, '0');
        return;
    }
    big t = big_new(x, a.n);
    memcpy(t.d, a.d, a.n * sizeof(uint32_t));
    uint32_t nchunks = 0;
    uint32_t *chunks = tx_alloc(x, (a.n * 10 / 9 + 2) * sizeof(uint32_t));
    while (t.n)
        chunks[nchunks++] = big_divmod_small(&t, 1000000000u);
    lk_buf_printf(out, "%u", chunks[nchunks - 1]);
    for (uint32_t i = nchunks - 1; i > 0; i--)
        lk_buf_printf(out, "%09u", chunks[i - 1]);
}

/* ---- shopspring decimals ------------------------------------------------------ */

typedef struct dec {
    bool neg;
    big m;
    int64_t exp;
} dec;

static dec dec_from_float(tx *x, double f)
{
    if (isnan(f) || isinf(f)) {
        lk_buf b = { 0 };
        lk_gofloat_append(&b, f, 'g', -1);
        char msg[16];
        snprintf(msg, sizeof msg, "%s", b.p);
        lk_buf_free(&b);
        tx_panic(x, "Cannot create a Decimal from %s", msg);
    }
    char digits[LK_GOFLOAT_DIGITS];
    int dp;
    int nd = lk_gofloat_shortest(f, digits, &dp);
    dec d = { f < 0, { NULL, 0 }, (int64_t)dp - nd };
    big m = big_new(x, 0);
    for (int i = 0; i < nd; i++)
        m = big_mul_small(x, m, 10, (uint32_t)(digits[i] - '0'));
    d.m = m;
    if (!m.n) {
        d.neg = false;
        d.exp = 0;
    }
    return d;
}

static big rescale(tx *x, const dec *a, int64_t exp)
{
    if (a->exp == exp || !a->m.n)
        return a->m;
    return big_mul(x, a->m, big_pow10(x, (uint64_t)(a->exp - exp)));
}

static dec dec_add(tx *x, dec a, dec b)
{
    int64_t e = a.exp < b.exp ? a.exp : b.exp;
    big ra = rescale(x, &a, e), rb = rescale(x, &b, e);
    dec r = { false, { NULL, 0 }, e };
    if (a.neg == b.neg) {
        r.m = big_add(x, ra, rb);
        r.neg = a.neg;
    } else if (big_cmp(ra, rb) >= 0) {
        r.m = big_sub(x, ra, rb);
        r.neg = a.neg;
    } else {
        r.m = big_sub(x, rb, ra);
        r.neg = b.neg;
    }
    if (!r.m.n)
        r.neg = false;
    return r;
}

static dec dec_mul(tx *x, dec a, dec b)
{
    dec r = { a.neg != b.neg, big_mul(x, a.m, b.m), a.exp + b.exp };
    if (r.exp > INT32_MAX || r.exp < INT32_MIN)
        tx_panic(x, "exponent %lld overflows an int32!", (long long)r.exp);
    if (!r.m.n)
        r.neg = false;
    return r;
}

static int dec_cmp_abs(tx *x, dec a, dec b)
{
    int64_t e = a.exp < b.exp ? a.exp : b.exp;
    return big_cmp(rescale(x, &a, e), rescale(x, &b, e));
}

/* DivRound(d2, 16) */
static dec dec_div(tx *x, dec a, dec b)
{
    if (!b.m.n)
        tx_panic(x, "decimal division by 0");
    const int64_t prec = 16;
    int64_t scale = -prec;
    int64_t e = a.exp - b.exp - scale;
    if (e > INT32_MAX || e < INT32_MIN)
        tx_panic(x, "overflow in decimal QuoRem");
    big aa, bb;
    int64_t scalerest;
    if (e < 0) {
        aa = a.m;
        bb = big_mul(x, b.m, big_pow10(x, (uint64_t)-e));
        scalerest = a.exp;
    } else {
        aa = big_mul(x, a.m, big_pow10(x, (uint64_t)e));
        bb = b.m;
        scalerest = scale + b.exp;
    }
    big q, r;
    big_divmod(x, aa, bb, &q, &r);
    bool qneg = q.n && (a.neg != b.neg);
    dec dq = { qneg, q, scale };
    dec r2 = { false, big_add(x, r, r), scalerest + prec };
    dec absb = b;
    absb.neg = false;
    if (dec_cmp_abs(x, r2, absb) < 0)
        return dq;
    big one = big_new(x, 1);
    one.d[0] = 1;
    dec unit = { false, one, -prec };
    if (a.m.n && a.neg != b.neg)
        unit.neg = true;
    return dec_add(x, dq, unit);
}

/* built in the tail of the output (big_to_dec may unwind on the memory limit) */
static double dec_float(tx *x, dec d)
{
    size_t mark = tx_sb_begin(x);
    lk_buf *b = x->out;
    if (d.neg)
        lk_buf_putc(b, '-');
    big_to_dec(x, d.m, b);
    lk_buf_printf(b, "e%lld", (long long)d.exp);
    double f = strtod(b->p + mark, NULL);
    b->len = mark;
    b->p[mark] = 0;
    return f;
}

double tnum_decimal_op(tx *x, const tv *first, const tv *rest, int n, int op)
{
    dec acc = dec_from_float(x, first ? tnum_to_float64(first) : 0.0);
    for (int i = 0; i < n; i++) {
        dec d = dec_from_float(x, tnum_to_float64(&rest[i]));
        switch (op) {
        case TD_ADD: acc = dec_add(x, acc, d); break;
        case TD_SUB:
            d.neg = d.m.n ? !d.neg : false;
            acc = dec_add(x, acc, d);
            break;
        case TD_MUL: acc = dec_mul(x, acc, d); break;
        default: acc = dec_div(x, acc, d); break;
        }
    }
    return dec_float(x, acc);
}
