/* Unit tests: what a query could not read (storage/readerr.h): counts and
 * first details per reason, merging per-thread records, the warnings'
 * wording and bounds, and lokic_query_read_errors_total; and that a view
 * iterator records a missing chunk file and a corrupt block there, and
 * stream selection an index entry skipped as malformed (before issue 9
 * item 6 they were only logged: the answer gave no sign). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/labels.h"
#include "lib/metrics.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "storage/chunkref.h"
#include "storage/fsutil.h"
#include "storage/ingester.h"
#include "storage/readerr.h"
#include "tests/unit/testutil.h"

#define SEC LK_NS_PER_SEC
#define T0 (INT64_C(1793491200) * SEC)

static double metric_value(const char *reason)
{
    lk_buf out = { 0 }, want = { 0 };
    lk_metrics_render(&out);
    lk_buf_printf(&want, "lokic_query_read_errors_total{reason=\"%s\"} ", reason);
    const char *p = out.p ? strstr(out.p, want.p) : NULL;
    double v = p ? atof(p + want.len) : -1;
    lk_buf_free(&out);
    lk_buf_free(&want);
    return v;
}

static void test_record_and_warn(void **state)
{
    (void)state;
    lk_metrics_reset();
    sto_read_errors_register_metric();
    assert_true(metric_value("chunk_missing") == 0);
    assert_true(metric_value("index_corrupt") == 0);

    sto_read_errors a = { 0 }, b = { 0 };
    assert_false(sto_read_errors_any(&a));
    lk_buf w = { 0 };
    assert_false(sto_read_warning(&a, STO_READ_CHUNK_MISSING, &w));
    assert_int_equal(w.len, 0);

    sto_read_error(&a, STO_READ_CHUNK_MISSING, 1, "/d/%s: gone", "x.lkc");
    assert_true(sto_read_errors_any(&a));
    assert_true(sto_read_warning(&a, STO_READ_CHUNK_MISSING, &w));
    assert_string_equal(w.p, "1 chunk file is missing: /d/x.lkc: gone; results may be incomplete");

    sto_read_error(&b, STO_READ_CHUNK_MISSING, 2, "/d/y.lkc");
    sto_read_error(&b, STO_READ_BLOCK_CORRUPT, 1, "checksum mismatch");
    sto_read_error(NULL, STO_READ_BLOCK_CORRUPT, 1, "counted, not recorded");
    sto_read_error(&b, STO_READ_INDEX_CORRUPT, 0, "nothing");
    sto_read_errors_add(&a, &b);
    lk_buf_reset(&w);
    assert_true(sto_read_warning(&a, STO_READ_CHUNK_MISSING, &w));
    assert_string_equal(w.p, "3 chunk files are missing, the first: /d/x.lkc: gone; results may "
                             "be incomplete");
    lk_buf_reset(&w);
    assert_true(sto_read_warning(&a, STO_READ_BLOCK_CORRUPT, &w));
    assert_string_equal(w.p, "1 block could not be read: checksum mismatch; results may be "
                             "incomplete");
    assert_false(sto_read_warning(&a, STO_READ_INDEX_CORRUPT, &w));

    /* a long detail is cut, the message stays bounded */
    char big[4096];
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sto_read_error(&a, STO_READ_CHUNK_CORRUPT, 1, "%s", big);
    lk_buf_reset(&w);
    assert_true(sto_read_warning(&a, STO_READ_CHUNK_CORRUPT, &w));
    assert_true(w.len < STO_READ_DETAIL + 100);

    assert_true(metric_value("chunk_missing") == 3);
    assert_true(metric_value("block_corrupt") == 2);
    assert_true(metric_value("index_corrupt") == 0);
    assert_string_equal(sto_read_reason_name(STO_READ_INDEX_FAILED), "index_failed");
    lk_buf_free(&w);
    lk_metrics_reset();
}

/* Pushes lines to one stream of a durable ingester and shuts it down: the
 * stream is then only in chunk files. */
static void flushed_stream(const char *root, lk_buf *chunks, lk_buf *index)
{
    lk_buf_printf(chunks, "%s/chunks", root);
    lk_buf_printf(index, "%s/index", root);
    ing_opts o = { .chunk_block_size = 1024, .chunk_target_size = 4096,
                   .max_chunk_age_ns = 7200 * SEC, .chunk_dir = chunks->p, .index_dir = index->p };
    ing *g;
    assert_int_equal(ing_open(&o, &g, NULL), 0);
    assert_int_equal(ing_recover(g, NULL), 0);
    lk_labels l;
    assert_int_equal(labels_parse(LK_STR("{app=\"x\"}"), &l, NULL), 0);
    for (int i = 0; i < 2000; i++) {
        char line[64];
        snprintf(line, sizeof line, "line %d %08x", i, (unsigned)(i * 2654435761u));
        lk_entry e = { .ts = T0 + i * SEC, .line = lk_str_c(line) };
        assert_int_equal(ing_push(g, LK_STR("fake"), &l, LK_STR("{app=\"x\"}"),
                                  labels_hash(LK_STR("{app=\"x\"}")), &e, 1, NULL, NULL),
                         0);
    }
    labels_free(&l);
    assert_int_equal(ing_shutdown(g, NULL), 0);
    ing_destroy(g);
}

static int64_t read_all(ing *g, sto_stats *st)
{
    st_view **v;
    size_t n;
    assert_int_equal(ing_select_stats(g, LK_STR("fake"), NULL, 0, T0, T0 + 3600 * SEC, true, st,
                                      &v, &n),
                     0);
    assert_int_equal(n, 1);
    sto_iter *it = st_view_iter(v[0], T0, T0 + 3600 * SEC, false, st);
    int64_t k = 0;
    lk_entry e;
    while (sto_iter_next(it, &e) > 0)
        k++;
    sto_iter_destroy(it);
    st_views_free(v, n);
    return k;
}

/* Regression (issue 9 item 6): a deleted chunk file and a flipped payload
 * byte were skipped with only a log line; the query's stats now carry
 * them, with the file named. */
static void test_view_records(void **state)
{
    (void)state;
    char *tmpl = tst_tmpdir("readerr");
    lk_buf chunks = { 0 }, index = { 0 }, dir = { 0 };
    flushed_stream(tmpl, &chunks, &index);
    lk_buf_printf(&dir, "%s/fake/%d", chunks.p, (int)(T0 / (86400 * SEC)));
    fs_names files;
    assert_int_equal(fs_list(dir.p, &files, NULL), 0);
    assert_true(files.n >= 3);
    lk_buf p = { 0 };
    lk_buf_printf(&p, "%s/%s", dir.p, files.v[0]);
    assert_int_equal(unlink(p.p), 0);
    lk_buf_reset(&p);
    lk_buf_printf(&p, "%s/%s", dir.p, files.v[1]);
    FILE *f = fopen(p.p, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 60, SEEK_SET), 0); /* past the header: a payload */
    int c = fgetc(f);
    assert_int_equal(fseek(f, 60, SEEK_SET), 0);
    fputc(c ^ 0x55, f);
    fclose(f);

    ing_opts o = { .chunk_dir = chunks.p, .index_dir = index.p };
    ing *g;
    assert_int_equal(ing_open(&o, &g, NULL), 0);
    sto_stats st = { 0 };
    int64_t n = read_all(g, &st);
    assert_true(n > 0 && n < 2000);
    assert_int_equal(st.read_errors.n[STO_READ_CHUNK_MISSING], 1);
    assert_non_null(strstr(st.read_errors.first[STO_READ_CHUNK_MISSING], files.v[0]));
    assert_int_equal(st.read_errors.n[STO_READ_BLOCK_CORRUPT], 1);
    assert_non_null(strstr(st.read_errors.first[STO_READ_BLOCK_CORRUPT], files.v[1]));
    assert_non_null(strstr(st.read_errors.first[STO_READ_BLOCK_CORRUPT], "checksum mismatch"));
    ing_destroy(g);

    fs_names_free(&files);
    lk_buf_free(&p);
    lk_buf_free(&dir);
    lk_buf_free(&chunks);
    lk_buf_free(&index);
    tst_rmtree(tmpl);
    lk_metrics_reset();
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* A chunks key of the stream's period with a byte too few (the layout at
 * the top of storage/index.c), written straight into LMDB. */
static void put_malformed_chunk_key(const char *index_dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi db;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 3), 0);
    assert_int_equal(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
    assert_int_equal(mdb_env_open(env, index_dir, MDB_NOTLS, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "chunks", 0, &db), 0);
    uint8_t k[64];
    size_t n = 0;
    k[n++] = 4;
    memcpy(k + n, "fake", 4);
    n += 4;
    put_be(k + n, (uint32_t)(T0 / (86400 * SEC)) ^ UINT32_C(0x80000000), 4);
    n += 4;
    chk_sid sid = chk_sid_of(LK_STR("{app=\"x\"}"));
    put_be(k + n, sid.fp, 8);
    put_be(k + n + 8, sid.h2, 8);
    n += 16 + 19; /* from, through, crc: 20 bytes */
    memset(k + n - 19, 0, 19);
    uint8_t v[12] = { 0 };
    MDB_val key = { n, k }, val = { sizeof v, v };
    assert_int_equal(mdb_put(txn, db, &key, &val, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* Index entries skipped as malformed were only logged; the query's stats
 * now count them, naming the database. */
static void test_index_skips_recorded(void **state)
{
    (void)state;
    char *tmpl = tst_tmpdir("readerr");
    lk_buf chunks = { 0 }, index = { 0 };
    flushed_stream(tmpl, &chunks, &index);
    put_malformed_chunk_key(index.p);
    ing_opts o = { .chunk_dir = chunks.p, .index_dir = index.p };
    ing *g;
    assert_int_equal(ing_open(&o, &g, NULL), 0);
    sto_stats st = { 0 };
    assert_int_equal(read_all(g, &st), 2000);
    assert_int_equal(st.read_errors.n[STO_READ_INDEX_CORRUPT], 1);
    assert_non_null(strstr(st.read_errors.first[STO_READ_INDEX_CORRUPT], "chunks database"));
    ing_destroy(g);
    lk_buf_free(&chunks);
    lk_buf_free(&index);
    tst_rmtree(tmpl);
    lk_metrics_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_and_warn),
        cmocka_unit_test(test_view_records),
        cmocka_unit_test(test_index_skips_recorded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
