/* Unit tests: lib/str (lk_str, lk_buf, lk_arena). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/err.h"
#include "lib/str.h"
#include "tests/unit/testutil.h"

static void test_str_cmp(void **state)
{
    (void)state;
    assert_true(lk_str_cmp(LK_STR("a"), LK_STR("b")) < 0);
    assert_true(lk_str_cmp(LK_STR("ab"), LK_STR("a")) > 0);
    assert_true(lk_str_cmp(LK_STR("a"), LK_STR("ab")) < 0);
    assert_int_equal(lk_str_cmp(LK_STR(""), LK_STR_NULL), 0);
    assert_true(lk_str_eq_nocase(LK_STR("FoRWard"), "forward"));
    assert_false(lk_str_eq_nocase(LK_STR("forwar"), "forward"));
    lk_str t = lk_str_trim(LK_STR("  x y\t\n"));
    assert_int_equal(t.len, 3);
    assert_true(lk_str_has_prefix(LK_STR("application/json; charset"), LK_STR("application/json")));
}

static void test_buf(void **state)
{
    (void)state;
    lk_buf b = { 0 };
    lk_buf_puts(&b, "x=");
    lk_buf_put_i64(&b, INT64_MIN);
    lk_buf_putc(&b, ' ');
    lk_buf_put_u64(&b, UINT64_MAX);
    assert_string_equal(b.p, "x=-9223372036854775808 18446744073709551615");
    lk_buf_reset(&b);
    for (int i = 0; i < 1000; i++)
        lk_buf_printf(&b, "%d,", i);
    assert_int_equal(b.len, 3890);
    lk_buf_reset(&b);
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = 0;
    lk_buf_printf(&b, "<%s>", big);
    assert_int_equal(b.len, 1001);
    char *s = lk_buf_steal(&b);
    assert_null(b.p);
    free(s);
    lk_buf_free(&b);
}

static void test_arena(void **state)
{
    (void)state;
    lk_arena a = { 0 };
    char *prev = NULL;
    for (int i = 0; i < 10000; i++) {
        char *p = lk_arena_alloc(&a, (size_t)(i % 97) + 1);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 1, (size_t)(i % 97) + 1);
        assert_ptr_not_equal(p, prev);
        prev = p;
    }
    lk_str s = lk_arena_str(&a, LK_STR("hello"));
    assert_memory_equal(s.p, "hello", 6);
    void *huge = lk_arena_alloc(&a, 1 << 20);
    memset(huge, 0, 1 << 20);
    lk_arena_free(&a);
    lk_arena_free(&a); /* idempotent */
}

/* One home for reading a whole file (the runtime config, the ruler's
 * state files): appends, and a missing file says ENOENT. */
static void test_buf_read_file(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("readfile");
    char path[4096];
    snprintf(path, sizeof path, "%s/f", dir);
    tst_write_file(path, "hello\n");
    lk_buf b = { 0 };
    lk_buf_puts(&b, ">");
    assert_int_equal(lk_buf_read_file(&b, path), LK_OK);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.p, ">hello\n", 7);
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(lk_buf_read_file(&b, path), LK_EIO);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(b.len, 7);
    lk_buf_free(&b);
    tst_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_cmp),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_buf_read_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
