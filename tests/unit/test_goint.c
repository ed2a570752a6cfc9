/* Unit tests: lib/goint (Go's strconv.ParseInt in base 10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/err.h"
#include "lib/goint.h"

static int parse(const char *s, int64_t *v)
{
    return lk_go_parse_int(lk_str_c(s), v);
}

static void test_accepts(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_int_equal(parse("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(parse("+42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(parse("-0017", &v), 0);
    assert_int_equal(v, -17);
    assert_int_equal(parse("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(parse("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
}

static void test_refuses(void **state)
{
    (void)state;
    int64_t v = 7;
    const char *syntax[] = { "", "+", "-", " 1", "1 ", "1_000", "0x10", "1.0", "++1", "1e3" };
    for (size_t i = 0; i < sizeof syntax / sizeof *syntax; i++)
        assert_int_equal(parse(syntax[i], &v), LK_EPARSE);
    assert_int_equal(parse("9223372036854775808", &v), LK_ERANGE);
    assert_int_equal(parse("-9223372036854775809", &v), LK_ERANGE);
    /* Regression: one copy multiplied before checking and wrapped
     * 2^64 + 1 to 1 */
    assert_int_equal(parse("18446744073709551617", &v), LK_ERANGE);
    assert_int_equal(parse("99999999999999999999999", &v), LK_ERANGE);
    assert_int_equal(v, 7); /* untouched on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
