/* Unit tests: the object store (storage/objstore.h) on the file system:
 * the shared body (objstore_suite.c, which s3/objstore_s3.c runs on S3),
 * then what is the file system's own: keys are files under the directory,
 * no temporary file stays after puts, open clears what a crash left in
 * .tmp, objects outlive a reopen, and a key that is another's directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "objstore_suite.h"
#include "storage/fsutil.h"
#include "testutil.h"

typedef struct fs_fixture {
    objstore_fixture f; /* first: the suite's state */
    char *dir;
} fs_fixture;

static int setup(void **state)
{
    fs_fixture *x = calloc(1, sizeof *x);
    x->dir = tst_tmpdir("objstore");
    lk_buf err = { 0 };
    int rc = obj_open_fs(x->dir, &x->f.store, &err);
    lk_buf_free(&err);
    snprintf(x->f.prefix, sizeof x->f.prefix, "run-1/");
    *state = x;
    return rc;
}

static int teardown(void **state)
{
    fs_fixture *x = *state;
    obj_close(x->f.store);
    tst_rmtree(x->dir);
    free(x);
    return 0;
}

static void test_keys_are_files(void **state)
{
    fs_fixture *x = *state;
    lk_buf err = { 0 }, text = { 0 };
    assert_int_equal(obj_put(x->f.store, "fake/abc/1-2:3", "chunk", 5, &err), LK_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/fake/abc/1-2:3", x->dir);
    assert_true(tst_read_file(path, &text));
    assert_string_equal(text.p, "chunk");
    assert_string_equal(obj_kind(x->f.store), "filesystem");
    fs_names tmp;
    snprintf(path, sizeof path, "%s/.tmp", x->dir);
    assert_int_equal(fs_list(path, &tmp, &err), LK_OK);
    assert_int_equal(tmp.n, 0); /* every put's temporary directory is gone */
    fs_names_free(&tmp);
    lk_buf_free(&text);
    lk_buf_free(&err);
}

static void test_reopen_clears_tmp(void **state)
{
    fs_fixture *x = *state;
    lk_buf err = { 0 }, out = { 0 };
    assert_int_equal(obj_put(x->f.store, "kept", "k", 1, &err), LK_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/.tmp/AbCdEf", x->dir);
    assert_int_equal(fs_mkdirs(path, &err), LK_OK);
    snprintf(path, sizeof path, "%s/.tmp/AbCdEf/kept.tmp", x->dir);
    tst_write_file(path, "half a put");
    obj_close(x->f.store);
    x->f.store = NULL;
    assert_int_equal(obj_open_fs(x->dir, &x->f.store, &err), LK_OK);
    assert_false(tst_exists(path));
    assert_int_equal(obj_get(x->f.store, "kept", &out, &err), LK_OK);
    assert_int_equal(out.len, 1);
    lk_buf_free(&out);
    lk_buf_free(&err);
}

static void test_key_that_is_a_directory(void **state)
{
    fs_fixture *x = *state;
    lk_buf err = { 0 };
    assert_int_equal(obj_put(x->f.store, "d/inner", "i", 1, &err), LK_OK);
    assert_int_equal(obj_put(x->f.store, "d", "d", 1, &err), LK_EIO);
    assert_non_null(strstr(err.p, "rename"));
    assert_int_equal(obj_delete(x->f.store, "d", &err), LK_OK);
    lk_buf_free(&err);
}

static void test_open_fails_on_a_file(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("objstore-file");
    char path[512];
    snprintf(path, sizeof path, "%s/plain", dir);
    tst_write_file(path, "not a directory");
    obj_store *s = NULL;
    lk_buf err = { 0 };
    assert_int_equal(obj_open_fs(path, &s, &err), LK_EIO);
    assert_null(s);
    assert_non_null(strstr(err.p, "plain"));
    lk_buf_free(&err);
    tst_rmtree(dir);
}

int main(void)
{
    int failed = _cmocka_run_group_tests("objstore_suite (filesystem)", objstore_suite,
                                         objstore_suite_len, setup, teardown);
    const struct CMUnitTest own[] = {
        cmocka_unit_test_setup_teardown(test_keys_are_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_clears_tmp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_that_is_a_directory, setup, teardown),
        cmocka_unit_test(test_open_fails_on_a_file),
    };
    return failed + cmocka_run_group_tests(own, NULL, NULL);
}
