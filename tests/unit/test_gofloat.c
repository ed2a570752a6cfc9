/* Unit tests: Go's float formatting (lib/gofloat.h) against the outputs of
 * Go's strconv.FormatFloat(v, fmt, prec, 64): the shortest forms in 'g',
 * 'f' and 'e', the special values, subnormals, powers of two (whose
 * rounding interval is asymmetric) and explicit precisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gofloat.h"

static void fmt_is(double v, char fmt, int prec, const char *want)
{
    lk_buf b = { 0 };
    lk_gofloat_append(&b, v, fmt, prec);
    if (strcmp(b.p, want) != 0)
        fail_msg("FormatFloat(%.17g, '%c', %d) = %s, want %s", v, fmt, prec, b.p, want);
    lk_buf_free(&b);
}

/* Go's 'g', 'f' and 'e' with precision -1. */
static const struct {
    double v;
    const char *g, *f, *e;
} shortest[] = {
    { 0, "0", "0", "0e+00" },
    { -0.0, "-0", "-0", "-0e+00" },
    { 1, "1", "1", "1e+00" },
    { -1, "-1", "-1", "-1e+00" },
    { 0.1, "0.1", "0.1", "1e-01" },
    { 0.30000000000000004, "0.30000000000000004", "0.30000000000000004",
      "3.0000000000000004e-01" },
    { 1e21, "1e+21", "1000000000000000000000", "1e+21" },
    { 1e-7, "1e-07", "0.0000001", "1e-07" },
    { 1e-5, "1e-05", "0.00001", "1e-05" },
    { 1e-4, "0.0001", "0.0001", "1e-04" },
    { 123456789, "1.23456789e+08", "123456789", "1.23456789e+08" },
    { 100000, "100000", "100000", "1e+05" },
    { 1e6, "1e+06", "1000000", "1e+06" },
    { 5e-324, "5e-324", NULL, "5e-324" },
    { 1.5e-323, "1.5e-323", NULL, "1.5e-323" },
    { 2.2250738585072014e-308, "2.2250738585072014e-308", NULL, "2.2250738585072014e-308" },
    { 1.7976931348623157e308, "1.7976931348623157e+308", NULL, "1.7976931348623157e+308" },
    { 0x1p-24, "5.960464477539063e-08", "0.00000005960464477539063", "5.960464477539063e-08" },
    { 0x1p-23, "1.1920928955078125e-07", "0.00000011920928955078125", "1.1920928955078125e-07" },
    { -2.5e-10, "-2.5e-10", "-0.00000000025", "-2.5e-10" },
    { 9007199254740992.0, "9.007199254740992e+15", "9007199254740992", "9.007199254740992e+15" },
    { 999999999999999.0, "9.99999999999999e+14", "999999999999999", "9.99999999999999e+14" },
    { 1e15, "1e+15", "1000000000000000", "1e+15" },
    { 123.456, "123.456", "123.456", "1.23456e+02" },
    { 1.0 / 3, "0.3333333333333333", "0.3333333333333333", "3.333333333333333e-01" },
};

static void test_shortest_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof shortest / sizeof shortest[0]; i++) {
        fmt_is(shortest[i].v, 'g', -1, shortest[i].g);
        if (shortest[i].f)
            fmt_is(shortest[i].v, 'f', -1, shortest[i].f);
        fmt_is(shortest[i].v, 'e', -1, shortest[i].e);
    }
    char tiny[330] = "0."; /* 'f' of the smallest subnormal: 323 zeros, then 5 */
    memset(tiny + 2, '0', 323);
    tiny[325] = '5';
    tiny[326] = '\0';
    fmt_is(5e-324, 'f', -1, tiny);
    fmt_is(1e-7, 'G', -1, "1E-07");
    fmt_is(1e21, 'E', -1, "1E+21");
}

static void test_special_values(void **state)
{
    (void)state;
    fmt_is(NAN, 'g', -1, "NaN");
    fmt_is(INFINITY, 'f', -1, "+Inf");
    fmt_is(-INFINITY, 'e', 3, "-Inf");
}

static void test_explicit_precision(void **state)
{
    (void)state;
    fmt_is(1.005, 'f', 2, "1.00"); /* 1.00499999999999989... */
    fmt_is(2.5, 'f', 0, "2");      /* half to even */
    fmt_is(123456, 'e', 3, "1.235e+05");
    fmt_is(-1234.5678, 'g', 4, "-1235");
    fmt_is(1, 'b', -1, "4503599627370496p-52");
    fmt_is(1, 'x', -1, "0x1p+00");
    fmt_is(3, 'x', -1, "0x1.8p+01");
    fmt_is(0.5, 'X', 3, "0X1.000P-01");
    fmt_is(5e-324, 'x', -1, "0x1p-1074");
}

static void test_shortest_digits(void **state)
{
    (void)state;
    char d[LK_GOFLOAT_DIGITS];
    int dp;
    assert_int_equal(lk_gofloat_shortest(0.1, d, &dp), 1);
    assert_string_equal(d, "1");
    assert_int_equal(dp, 0);
    assert_int_equal(lk_gofloat_shortest(-1250, d, &dp), 3);
    assert_string_equal(d, "125");
    assert_int_equal(dp, 4);
    assert_int_equal(lk_gofloat_shortest(0, d, &dp), 0);
    assert_int_equal(dp, 0);
    assert_int_equal(lk_gofloat_shortest(0x1p-24, d, &dp), 16);
    assert_string_equal(d, "5960464477539063");
    assert_int_equal(dp, -7);
}

/* Every power of two and a spread of other values read back as
 * themselves. */
static void test_round_trip(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252u; /* xorshift64 */
    for (int k = -1074; k <= 1023 + 2000; k++) {
        double v;
        if (k <= 1023) {
            v = ldexp(1, k);
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(&v, &x, sizeof v);
            if (!isfinite(v))
                continue;
        }
        lk_buf b = { 0 };
        lk_gofloat_append(&b, v, 'e', -1);
        if (strtod(b.p, NULL) != v)
            fail_msg("%s does not read back as %a", b.p, v);
        lk_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shortest_forms),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_explicit_precision),
        cmocka_unit_test(test_shortest_digits),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
