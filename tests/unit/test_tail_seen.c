/* Unit tests: api/tail_seen (the entries a tail sent, so that reading back
 * over late arrivals sends each entry once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "api/tail_seen.h"

static void test_once(void **state)
{
    (void)state;
    api_tail_seen s = { 0 };
    lk_str a = LK_STR("{app=\"a\"}"), b = LK_STR("{app=\"b\"}");
    assert_true(api_tail_seen_add(&s, a, 10, LK_STR("line")));
    assert_false(api_tail_seen_add(&s, a, 10, LK_STR("line")));
    /* another stream, time or line is another entry */
    assert_true(api_tail_seen_add(&s, b, 10, LK_STR("line")));
    assert_true(api_tail_seen_add(&s, a, 11, LK_STR("line")));
    assert_true(api_tail_seen_add(&s, a, 10, LK_STR("line2")));
    assert_int_equal(s.n, 4);
    api_tail_seen_free(&s);
}

static void test_grows_and_prunes(void **state)
{
    (void)state;
    api_tail_seen s = { 0 };
    char line[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(line, sizeof line, "line %d", i);
        assert_true(api_tail_seen_add(&s, LK_STR("{}"), i, lk_str_c(line)));
    }
    assert_int_equal(s.n, 10000);
    assert_true(2 * s.n <= s.cap);
    api_tail_seen_prune(&s, 9990); /* keeps ts 9990 .. 9999 */
    assert_int_equal(s.n, 10);
    assert_true(s.cap < 20000);
    assert_false(api_tail_seen_add(&s, LK_STR("{}"), 9995, LK_STR("line 9995")));
    assert_true(api_tail_seen_add(&s, LK_STR("{}"), 5, LK_STR("line 5"))); /* forgotten */
    api_tail_seen_prune(&s, INT64_MAX);
    assert_int_equal(s.n, 0);
    api_tail_seen_free(&s);
    api_tail_seen_prune(&s, 0); /* an empty set */
    assert_int_equal(s.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_once),
        cmocka_unit_test(test_grows_and_prunes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
