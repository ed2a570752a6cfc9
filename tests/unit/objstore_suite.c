/* The object-store test body (objstore_suite.h): round trips of binary and
 * empty objects, overwrites, byte ranges (inside, across and past the end),
 * head, missing keys, deletes, listing by prefix in bytewise order with
 * sizes and an early stop, puts from a file, and the keys refused. */
#include "objstore_suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "testutil.h"

static const char *key(void **state, const char *rel, char *buf, size_t n)
{
    const objstore_fixture *f = *state;
    snprintf(buf, n, "%s%s", f->prefix, rel);
    return buf;
}

static obj_store *store(void **state)
{
    return ((objstore_fixture *)*state)->store;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    tst_rng r = tst_rng_seed(seed);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)tst_rand(&r);
}

static void test_round_trip(void **state)
{
    obj_store *s = store(state);
    char k[128];
    size_t n = 200000;
    uint8_t *blob = malloc(n);
    fill(blob, n, 1);
    lk_buf out = { 0 }, err = { 0 };
    assert_int_equal(obj_put(s, key(state, "dir/blob.bin", k, sizeof k), blob, n, &err), LK_OK);
    assert_int_equal(obj_get(s, k, &out, &err), LK_OK);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.p, blob, n);
    int64_t size = -1;
    assert_int_equal(obj_head(s, k, &size, &err), LK_OK);
    assert_true(size == (int64_t)n);
    lk_buf_reset(&out);
    assert_int_equal(obj_get_range(s, k, 1000, 500, &out, &err), LK_OK);
    assert_int_equal(out.len, 500);
    assert_memory_equal(out.p, blob + 1000, 500);
    lk_buf_reset(&out);
    assert_int_equal(obj_get_range(s, k, n - 10, 100, &out, &err), LK_OK);
    assert_int_equal(out.len, 10);
    assert_memory_equal(out.p, blob + n - 10, 10);
    lk_buf_reset(&out);
    assert_int_equal(obj_get_range(s, k, n + 5, 10, &out, &err), LK_OK);
    assert_int_equal(obj_get_range(s, k, 0, 0, &out, &err), LK_OK);
    assert_int_equal(out.len, 0);
    free(blob);
    lk_buf_free(&out);
    lk_buf_free(&err);
}

static void test_overwrite_and_empty(void **state)
{
    obj_store *s = store(state);
    char k[128];
    lk_buf out = { 0 }, err = { 0 };
    assert_int_equal(obj_put(s, key(state, "o", k, sizeof k), "first", 5, &err), LK_OK);
    assert_int_equal(obj_put(s, k, "2nd", 3, &err), LK_OK);
    assert_int_equal(obj_get(s, k, &out, &err), LK_OK);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.p, "2nd", 3);
    lk_buf_reset(&out);
    int64_t size = -1;
    assert_int_equal(obj_put(s, key(state, "empty", k, sizeof k), NULL, 0, &err), LK_OK);
    assert_int_equal(obj_get(s, k, &out, &err), LK_OK);
    assert_int_equal(out.len, 0);
    assert_int_equal(obj_head(s, k, &size, &err), LK_OK);
    assert_true(size == 0);
    assert_int_equal(obj_get_range(s, k, 0, 10, &out, &err), LK_OK);
    assert_int_equal(out.len, 0);
    lk_buf_free(&out);
    lk_buf_free(&err);
}

static void test_missing_and_delete(void **state)
{
    obj_store *s = store(state);
    char k[128];
    lk_buf out = { 0 }, err = { 0 };
    int64_t size = 0;
    key(state, "missing", k, sizeof k);
    assert_int_equal(obj_get(s, k, &out, &err), LK_ENOTFOUND);
    assert_int_equal(obj_get_range(s, k, 0, 10, &out, &err), LK_ENOTFOUND);
    assert_int_equal(obj_head(s, k, &size, &err), LK_ENOTFOUND);
    assert_int_equal(obj_delete(s, k, &err), LK_OK);
    assert_int_equal(obj_put(s, key(state, "gone/x", k, sizeof k), "x", 1, &err), LK_OK);
    assert_int_equal(obj_delete(s, k, &err), LK_OK);
    assert_int_equal(obj_get(s, k, &out, &err), LK_ENOTFOUND);
    assert_int_equal(obj_head(s, k, &size, &err), LK_ENOTFOUND);
    /* a key that is only the start of others' is not an object */
    assert_int_equal(obj_get(s, key(state, "gone", k, sizeof k), &out, &err), LK_ENOTFOUND);
    lk_buf_free(&out);
    lk_buf_free(&err);
}

typedef struct listing {
    lk_buf text; /* "key size\n" lines, the fixture's prefix cut off */
    size_t prefix_len;
    int stop_after; /* 0: never */
    int seen;
} listing;

static int on_key(void *ctx, const char *k, int64_t size)
{
    listing *l = ctx;
    lk_buf_printf(&l->text, "%s %lld\n", k + l->prefix_len, (long long)size);
    return ++l->seen == l->stop_after ? 42 : 0;
}

static void expect_list(void **state, const char *rel, const char *want)
{
    const objstore_fixture *f = *state;
    char p[128];
    listing l = { .prefix_len = strlen(f->prefix) };
    lk_buf err = { 0 };
    assert_int_equal(obj_list(f->store, key(state, rel, p, sizeof p), on_key, &l, &err), LK_OK);
    assert_string_equal(l.text.p ? l.text.p : "", want);
    lk_buf_free(&l.text);
    lk_buf_free(&err);
}

static void test_list(void **state)
{
    obj_store *s = store(state);
    static const char *const keys[] = { "ls/b/d", "ls/a", "ls/b/c", "lsa", "ls/b-", "ls/\xc3\xbc" };
    char k[128];
    lk_buf err = { 0 };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(obj_put(s, key(state, keys[i], k, sizeof k), keys[i], i, &err), LK_OK);
    /* bytewise: '-' (0x2d) < '/' (0x2f) < 'a' < 0xc3 */
    expect_list(state, "ls/", "ls/a 1\nls/b- 4\nls/b/c 2\nls/b/d 0\nls/\xc3\xbc 5\n");
    expect_list(state, "ls", "ls/a 1\nls/b- 4\nls/b/c 2\nls/b/d 0\nls/\xc3\xbc 5\nlsa 3\n");
    expect_list(state, "ls/b", "ls/b- 4\nls/b/c 2\nls/b/d 0\n");
    expect_list(state, "ls/b/c", "ls/b/c 2\n");
    expect_list(state, "none/", "");
    const objstore_fixture *f = *state;
    listing l = { .prefix_len = strlen(f->prefix), .stop_after = 2 };
    assert_int_equal(obj_list(s, key(state, "ls/", k, sizeof k), on_key, &l, &err), 42);
    assert_int_equal(l.seen, 2);
    assert_int_equal(obj_delete(s, key(state, "ls/b/c", k, sizeof k), &err), LK_OK);
    expect_list(state, "ls/b", "ls/b- 4\nls/b/d 0\n");
    lk_buf_free(&l.text);
    lk_buf_free(&err);
}

static void test_put_file(void **state)
{
    obj_store *s = store(state);
    char *dir = tst_tmpdir("objfile");
    char path[512], k[128];
    snprintf(path, sizeof path, "%s/src", dir);
    tst_write_file(path, "from a file");
    lk_buf out = { 0 }, err = { 0 };
    assert_int_equal(obj_put_file(s, key(state, "file", k, sizeof k), path, &err), LK_OK);
    assert_int_equal(obj_get(s, k, &out, &err), LK_OK);
    assert_int_equal(out.len, 11);
    assert_memory_equal(out.p, "from a file", 11);
    snprintf(path, sizeof path, "%s/empty", dir);
    tst_write_file(path, "");
    assert_int_equal(obj_put_file(s, k, path, &err), LK_OK);
    int64_t size = -1;
    assert_int_equal(obj_head(s, k, &size, &err), LK_OK);
    assert_true(size == 0);
    snprintf(path, sizeof path, "%s/none", dir);
    lk_buf_reset(&err);
    assert_int_equal(obj_put_file(s, k, path, &err), LK_EIO);
    assert_non_null(strstr(err.p, "none"));
    tst_rmtree(dir);
    lk_buf_free(&out);
    lk_buf_free(&err);
}

static void test_bad_keys(void **state)
{
    obj_store *s = store(state);
    static const char *const bad[] = { "", "/a", "a//b", "a/", "a/../b", "./a", ".hidden",
                                       "a/.tmp/x", "\xff" };
    lk_buf out = { 0 }, err = { 0 };
    int64_t size;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(obj_put(s, bad[i], "x", 1, &err), LK_EINVAL);
        assert_int_equal(obj_get(s, bad[i], &out, &err), LK_EINVAL);
        assert_int_equal(obj_head(s, bad[i], &size, &err), LK_EINVAL);
        assert_int_equal(obj_delete(s, bad[i], &err), LK_EINVAL);
    }
    char long_key[1100];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    assert_int_equal(obj_put(s, long_key, "x", 1, &err), LK_EINVAL);
    assert_non_null(strstr(err.p, "object key"));
    lk_buf_free(&out);
    lk_buf_free(&err);
}

const struct CMUnitTest objstore_suite[] = {
    cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_overwrite_and_empty),
    cmocka_unit_test(test_missing_and_delete), cmocka_unit_test(test_list),
    cmocka_unit_test(test_put_file),     cmocka_unit_test(test_bad_keys),
};
const size_t objstore_suite_len = sizeof objstore_suite / sizeof objstore_suite[0];
