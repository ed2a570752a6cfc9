/* Unit tests: the chunk directory (storage/chunkdir.h): file paths and
 * tenant escaping, durable writes read back through mmap, a file that does
 * not match its reference (size, CRC, stream) or is missing, retention by
 * period directory across tenants, and the staging area emptied on open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "storage/chunk.h"
#include "storage/chunkdir.h"
#include "tests/unit/testutil.h"

#define SEC INT64_C(1000000000)
#define DAY (86400 * SEC)
#define T0 (INT64_C(1793491200) * SEC) /* 2026-11-01T00:00:00Z */

static const lk_str CANON = { "{app=\"a\"}", 9 };

/* A closed chunk of n entries from ts0, encoded; its reference. */
static void make_file(int64_t ts0, int n, lk_buf *file, chk_ref *ref)
{
    chk_chunk *c = chk_chunk_new();
    for (int i = 0; i < n; i++) {
        char line[64];
        snprintf(line, sizeof line, "line %d of the chunk", i);
        lk_entry e = { .ts = ts0 + i * SEC, .line = lk_str_c(line) };
        assert_int_equal(chk_chunk_append(c, &e), 1);
    }
    chk_chunk_close(c);
    chk_sid sid = chk_sid_of(CANON);
    lk_buf_reset(file);
    assert_int_equal(chk_file_encode(c, CANON, sid.fp, file), 0);
    *ref = (chk_ref){ .sid = sid, .from = chk_chunk_mint(c), .through = chk_chunk_maxt(c),
                      .crc = chk_file_crc(lk_buf_str(file)), .entries = (uint32_t)n,
                      .size = file->len };
    chk_chunk_free(c);
}

static void test_paths(void **state)
{
    (void)state;
    char *root = tst_tmpdir("cdir");
    cdir *d;
    assert_int_equal(cdir_open(root, &d, NULL), 0);
    chk_ref r = { .sid = { 0x1234, 0xabcd }, .from = T0, .through = T0 + DAY + 5, .crc = 0xdeadbeef };
    lk_buf p = { 0 }, want = { 0 };
    cdir_path(d, LK_STR("fake"), &r, &p);
    lk_buf_printf(&want, "%s/fake/%d/0000000000001234-000000000000abcd-%016llx-%016llx-deadbeef.lkc",
                  root, (int)chk_period(T0 + DAY + 5), (unsigned long long)T0,
                  (unsigned long long)(T0 + DAY + 5));
    assert_string_equal(p.p, want.p);
    /* the day of the last entry; tenants that are not plain names are escaped */
    cdir_path(d, LK_STR("a/b%c"), &r, &p);
    assert_non_null(strstr(p.p, "/a%2Fb%25c/"));
    cdir_path(d, LK_STR(".."), &r, &p);
    assert_non_null(strstr(p.p, "/%2E%2E/"));
    cdir_path(d, LK_STR("t-1_x.y*(z)'!"), &r, &p);
    assert_non_null(strstr(p.p, "/t-1_x.y*(z)'!/"));
    r.from = -5;
    r.through = -1; /* before 1970: day -1 */
    cdir_path(d, LK_STR("fake"), &r, &p);
    assert_non_null(strstr(p.p, "/fake/-1/0000000000001234-000000000000abcd-fffffffffffffffb-"));
    lk_buf_free(&p);
    lk_buf_free(&want);
    cdir_close(d);
    tst_rmtree(root);
}

static void test_write_and_read(void **state)
{
    (void)state;
    char *root = tst_tmpdir("cdir");
    cdir *d;
    assert_int_equal(cdir_open(root, &d, NULL), 0);
    lk_buf a = { 0 }, b = { 0 }, err = { 0 };
    cdir_file f[2];
    make_file(T0, 100, &a, &f[0].ref);
    make_file(T0 + 3 * DAY, 10, &b, &f[1].ref);
    f[0].tenant = LK_STR("fake");
    f[0].bytes = lk_buf_str(&a);
    f[1].tenant = LK_STR("other");
    f[1].bytes = lk_buf_str(&b);
    assert_int_equal(cdir_write(d, f, 2, &err), 0);
    assert_int_equal(f[0].rc, 0);
    assert_int_equal(f[1].rc, 0);

    chk_chunk *c = NULL;
    assert_int_equal(cdir_read(d, LK_STR("fake"), &f[0].ref, CANON, &c, &err), 0);
    assert_int_equal(chk_chunk_entries(c), 100);
    chk_decoded dec = { 0 };
    assert_int_equal(chk_block_decode(chk_chunk_block(c, 0), &dec, NULL), 0);
    assert_true(lk_str_eq(dec.e[0].line, LK_STR("line 0 of the chunk")));
    chk_decoded_free(&dec);
    chk_chunk_free(c); /* unmaps */

    /* the reference does not match the file */
    chk_ref bad = f[0].ref;
    bad.size++;
    lk_buf_reset(&err);
    assert_int_equal(cdir_read(d, LK_STR("fake"), &bad, CANON, &c, &err), LK_ECORRUPT);
    bad = f[0].ref;
    bad.size = 0; /* unknown size: the CRC in the name still has to match */
    assert_int_equal(cdir_read(d, LK_STR("fake"), &bad, CANON, &c, NULL), 0);
    chk_chunk_free(c);
    assert_int_equal(cdir_read(d, LK_STR("fake"), &f[0].ref, LK_STR("{app=\"b\"}"), &c, &err),
                     LK_ECORRUPT);
    assert_int_equal(cdir_read(d, LK_STR("nobody"), &f[0].ref, CANON, &c, &err), LK_ENOTFOUND);
    /* a damaged header */
    lk_buf path = { 0 };
    cdir_path(d, LK_STR("fake"), &f[0].ref, &path);
    tst_flip_byte(path.p, 0, 0x20);
    lk_buf_reset(&err);
    assert_int_equal(cdir_read(d, LK_STR("fake"), &f[0].ref, CANON, &c, &err), LK_ECORRUPT);
    assert_non_null(strstr(err.p, path.p));

    /* retention: days below the first file's next day, every tenant */
    size_t removed = 0;
    assert_int_equal(cdir_drop_before(d, chk_period(T0) + 1, &removed, NULL), 0);
    assert_int_equal(removed, 1);
    assert_false(tst_exists(path.p));
    cdir_path(d, LK_STR("other"), &f[1].ref, &path);
    assert_true(tst_exists(path.p));
    assert_int_equal(cdir_drop_before(d, chk_period(T0) + 1, &removed, NULL), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(cdir_drop_before(d, chk_period(T0) + 10, &removed, NULL), 0);
    assert_int_equal(removed, 1);
    assert_false(tst_exists(path.p));

    lk_buf_free(&path);
    lk_buf_free(&a);
    lk_buf_free(&b);
    lk_buf_free(&err);
    cdir_close(d);
    tst_rmtree(root);
}

static void test_staging_emptied(void **state)
{
    (void)state;
    char *root = tst_tmpdir("cdir");
    cdir *d;
    assert_int_equal(cdir_open(root, &d, NULL), 0);
    cdir_close(d);
    lk_buf p = { 0 };
    lk_buf_printf(&p, "%s/staging%%/x.lkc.tmp", root);
    tst_write_file(p.p, "half a chunk");
    assert_int_equal(cdir_open(root, &d, NULL), 0);
    assert_false(tst_exists(p.p));
    /* retention ignores the staging area */
    size_t removed = 9;
    assert_int_equal(cdir_drop_before(d, INT32_MAX, &removed, NULL), 0);
    assert_int_equal(removed, 0);
    cdir_close(d);
    /* a file where the directory should be */
    lk_buf_reset(&p);
    lk_buf_printf(&p, "%s/file", root);
    tst_write_file(p.p, "");
    lk_buf err = { 0 };
    assert_int_equal(cdir_open(p.p, &d, &err), LK_EIO);
    assert_non_null(err.p);
    lk_buf_free(&err);
    lk_buf_free(&p);
    tst_rmtree(root);
}

/* Regression: cdir_write staged every file of a batch under its chunk
 * name, so two tenants' files with the same name (the same stream and
 * data) shared one temporary file and the second rename failed (LK_EIO:
 * the deletes test's two tenants never flushed). */
static void test_same_name_two_tenants(void **state)
{
    (void)state;
    char *root = tst_tmpdir("cdir");
    cdir *d;
    assert_int_equal(cdir_open(root, &d, NULL), 0);
    lk_buf a = { 0 }, err = { 0 };
    cdir_file f[2];
    make_file(T0, 10, &a, &f[0].ref);
    f[1].ref = f[0].ref;
    f[0].tenant = LK_STR("a");
    f[1].tenant = LK_STR("b");
    f[0].bytes = f[1].bytes = lk_buf_str(&a);
    assert_int_equal(cdir_write(d, f, 2, &err), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f[i].rc, 0);
        chk_chunk *c = NULL;
        assert_int_equal(cdir_read(d, f[i].tenant, &f[i].ref, CANON, &c, &err), 0);
        assert_int_equal(chk_chunk_entries(c), 10);
        chk_chunk_free(c);
    }
    cdir_close(d);
    lk_buf_free(&a);
    lk_buf_free(&err);
    tst_rmtree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_write_and_read),
        cmocka_unit_test(test_same_name_two_tenants),
        cmocka_unit_test(test_staging_emptied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
