/* Unit tests: go-humanize's ParseBytes (lib/bytesize.h): SI and IEC units
 * in any ASCII case, commas, fractions, spaces around the unit, the limit
 * of 2^64, and its error texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/bytesize.h"
#include "lib/err.h"

static void parses(const char *s, uint64_t want)
{
    uint64_t got = 0;
    lk_buf err = { 0 };
    int rc = lk_parse_bytes(lk_str_c(s), &got, &err);
    if (rc != 0 || got != want)
        fail_msg("ParseBytes(\"%s\") = %llu rc %d (%s), want %llu", s, (unsigned long long)got,
                 rc, err.p ? err.p : "", (unsigned long long)want);
    assert_int_equal(err.len, 0);
    lk_buf_free(&err);
}

static void fails(const char *s, int want_rc, const char *want_err)
{
    uint64_t got = 7;
    lk_buf err = { 0 };
    int rc = lk_parse_bytes(lk_str_c(s), &got, &err);
    if (rc != want_rc || !err.p || strcmp(err.p, want_err) != 0)
        fail_msg("ParseBytes(\"%s\") = rc %d \"%s\", want rc %d \"%s\"", s, rc,
                 err.p ? err.p : "", want_rc, want_err);
    assert_int_equal(got, 7);
    assert_int_equal(lk_parse_bytes(lk_str_c(s), &got, NULL), want_rc);
    lk_buf_free(&err);
}

static void test_units(void **state)
{
    (void)state;
    parses("42", 42);
    parses("42b", 42);
    parses("42 B", 42);
    parses("42k", 42000);
    parses("42kB", 42000);
    parses("42 KiB", 43008);
    parses("42ki", 43008);
    parses("42 MB", 42000000);
    parses("42mib", 44040192);
    parses("1 GB", 1000000000);
    parses("1gi", 1073741824);
    parses("2 TB", 2000000000000);
    parses("1 TiB", 1099511627776);
    parses("1 PB", 1000000000000000);
    parses("1 PiB", 1125899906842624);
    parses("1 EB", 1000000000000000000);
    parses("15 EiB", 17293822569102704640u);
    parses("1,000kB", 1000000);
    parses("1.5 KiB", 1536);
    parses(".5k", 500);
    parses("5. k", 5000);
    parses("1 kb \t", 1000);
}

static void test_errors(void **state)
{
    (void)state;
    fails("", LK_EINVAL, "strconv.ParseFloat: parsing \"\": invalid syntax");
    fails(" 5 kB", LK_EINVAL, "strconv.ParseFloat: parsing \"\": invalid syntax");
    fails("1.2.3B", LK_EINVAL, "strconv.ParseFloat: parsing \"1.2.3\": invalid syntax");
    fails("1,.,.B", LK_EINVAL, "strconv.ParseFloat: parsing \"1..\": invalid syntax");
    fails("5 XB", LK_EINVAL, "unhandled size name: xb");
    fails("5 kB x", LK_EINVAL, "unhandled size name: kb x");
    fails("16 EiB", LK_ERANGE, "too large: 16 EiB");
    fails("20EB", LK_ERANGE, "too large: 20EB");
}

static void test_unit_table(void **state)
{
    (void)state;
    double m = 0;
    assert_true(lk_bytes_unit(LK_STR(""), &m));
    assert_true(m == 1);
    assert_true(lk_bytes_unit(LK_STR("MiB"), &m));
    assert_true(m == 1048576);
    assert_true(lk_bytes_unit(LK_STR("eb"), &m));
    assert_true(m == 1e18);
    assert_false(lk_bytes_unit(LK_STR("kibi"), &m));
    assert_false(lk_bytes_unit(LK_STR(" k"), &m));
    assert_int_equal(lk_bytes_number_len(LK_STR("1,024.5 MB")), 7);
    assert_int_equal(lk_bytes_number_len(LK_STR("MB")), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_unit_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
