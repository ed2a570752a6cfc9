/* Unit tests: log deletion (storage/delete.h). The durable request store
 * (records back after a reopen, removal, a record of another version
 * skipped), delete queries compiled as Loki's parseDeletionQuery (bad
 * inputs refused with Loki's messages), the per-stream check (matchers,
 * line filters, the inclusive end at ms precision), the ingester's
 * requests (add, list, cancel, nothing to take while no tenant has any)
 * and a log selection that no longer returns deleted lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/timeutil.h"
#include "query/delfilter.h"
#include "query/select.h"
#include "storage/delete.h"
#include "storage/ingester.h"
#include "tests/unit/testutil.h"

#define MS LK_NS_PER_MS

typedef struct loaded {
    char tenant[8][16];
    del_req r[8];
    char query[8][64];
    size_t n;
} loaded;

static int collect(void *ctx, lk_str tenant, const del_req *r)
{
    loaded *l = ctx;
    assert_true(l->n < 8);
    snprintf(l->tenant[l->n], 16, "%.*s", LK_STR_FMT(tenant));
    snprintf(l->query[l->n], 64, "%.*s", LK_STR_FMT(r->query));
    l->r[l->n++] = *r;
    return 0;
}

static del_req req(const char *id, const char *query, int64_t start, int64_t end, bool done)
{
    del_req r = { .start_ms = start, .end_ms = end, .created_ms = 1700000000123,
                  .processed = done, .query = lk_str_c(query) };
    snprintf(r.id, sizeof r.id, "%s", id);
    return r;
}

static void test_store_roundtrip(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("delstore");
    del_store *d = NULL;
    lk_buf err = { 0 };
    assert_int_equal(del_store_open(dir, &d, &err), 0);
    del_req a = req("0000000a", "{app=\"a\"}", -5, 10, false);
    del_req b = req("0000000b", "{app=\"b\"} |= \"x\"", 1, 2, true);
    assert_int_equal(del_store_put(d, LK_STR("t1"), &a, &err), 0);
    assert_int_equal(del_store_put(d, LK_STR("t2"), &b, &err), 0);
    assert_int_equal(del_store_put(d, LK_STR("t1"), &b, &err), 0);
    assert_int_equal(del_store_remove(d, LK_STR("t1"), "0000000b", &err), 0);
    assert_int_equal(del_store_remove(d, LK_STR("t1"), "0000000b", &err), LK_ENOTFOUND);
    del_store_close(d);

    assert_int_equal(del_store_open(dir, &d, &err), 0);
    loaded l = { .n = 0 };
    assert_int_equal(del_store_load(d, collect, &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.tenant[0], "t1");
    assert_string_equal(l.r[0].id, "0000000a");
    assert_string_equal(l.query[0], "{app=\"a\"}");
    assert_int_equal(l.r[0].start_ms, -5);
    assert_int_equal(l.r[0].end_ms, 10);
    assert_int_equal(l.r[0].created_ms, 1700000000123);
    assert_false(l.r[0].processed);
    assert_string_equal(l.tenant[1], "t2");
    assert_true(l.r[1].processed);
    assert_string_equal(l.query[1], "{app=\"b\"} |= \"x\"");
    del_store_close(d);

    /* a record of another version (a newer lokic's) is skipped */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi db;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 1), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "requests", 0, &db), 0);
    uint8_t key[] = { 2, 't', '3', '1', '2', '3', '4', '5', '6', '7', '8' };
    uint8_t val[26] = { 9 };
    MDB_val k = { sizeof key, key }, v = { sizeof val, val };
    assert_int_equal(mdb_put(txn, db, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(del_store_open(dir, &d, &err), 0);
    l.n = 0;
    assert_int_equal(del_store_load(d, collect, &l, &err), 0);
    assert_int_equal(l.n, 2);
    del_store_close(d);
    lk_buf_free(&err);
    tst_rmtree(dir);
}

static void expect_refused(const char *query, const char *want)
{
    void *c = NULL;
    lk_buf err = { 0 };
    assert_int_equal(logql_delete_filter.compile(lk_str_c(query), &c, &err), LK_EPARSE);
    assert_null(c);
    if (strncmp(err.p, want, strlen(want)) != 0)
        fail_msg("%s: got %s, want %s...", query, err.p, want);
    lk_buf_free(&err);
}

static void test_bad_queries(void **state)
{
    (void)state;
    expect_refused("{app=\"a\"", "invalid query expression: parse error at line 1, col 9");
    expect_refused("", "invalid query expression: ");
    expect_refused("count_over_time({app=\"a\"}[1m])",
                   "invalid query expression: only log selector is supported");
    expect_refused("{app=\"\"}", "invalid query expression: parse error : queries require at "
                                 "least one regexp or equality matcher");
    expect_refused("{app=\"a\"} |~ \"(\"", "invalid query expression: ");
    expect_refused("{app=\"a\"} | unwrap x", "invalid query expression: ");
}

/* A set of one request over [start_ms, end_ms]. */
static del_set *one(const char *query, int64_t start_ms, int64_t end_ms)
{
    del_req r = req("00000001", query, start_ms, end_ms, false);
    return del_set_new(&logql_delete_filter, &r, 1);
}

static bool deletes(del_set *s, const char *labels, int64_t ts, const char *line)
{
    tst_stream st;
    tst_stream_init(&st, labels);
    del_stream *d = del_stream_new(s, SIZE_MAX, &st.labels, INT64_MIN, INT64_MAX);
    lk_entry e = { .ts = ts, .line = lk_str_c(line) };
    bool yes = d && del_stream_deletes(d, &e);
    del_stream_free(d);
    tst_stream_free(&st);
    return yes;
}

static void test_stream_check(void **state)
{
    (void)state;
    del_set *s = one("{app=\"a\"} |= \"secret\"", 1000, 2000);
    assert_true(deletes(s, "{app=\"a\", x=\"1\"}", 1500 * MS, "a secret line"));
    assert_false(deletes(s, "{app=\"a\"}", 1500 * MS, "a public line"));
    assert_false(deletes(s, "{app=\"b\"}", 1500 * MS, "a secret line"));
    /* start and end inclusive, at ms precision */
    assert_true(deletes(s, "{app=\"a\"}", 1000 * MS, "secret"));
    assert_false(deletes(s, "{app=\"a\"}", 1000 * MS - 1, "secret"));
    assert_true(deletes(s, "{app=\"a\"}", 2000 * MS + 999999, "secret"));
    assert_false(deletes(s, "{app=\"a\"}", 2001 * MS, "secret"));
    del_set_release(s);
    /* no line filter: every line of the range */
    s = one("{app=~\"a|b\"}", 0, 10);
    assert_true(deletes(s, "{app=\"b\"}", 5 * MS, "anything"));
    size_t n;
    assert_int_equal(del_set_reqs(s, &n)[0].end_ms, 10);
    /* a stream outside the range is not even checked */
    tst_stream st;
    tst_stream_init(&st, "{app=\"a\"}");
    assert_null(del_stream_new(s, SIZE_MAX, &st.labels, 11 * MS, 20 * MS));
    assert_null(del_stream_new(s, 1, &st.labels, 0, 20 * MS)); /* not request 1 */
    tst_stream_free(&st);
    del_set_release(s);
}

static void test_ingester_requests(void **state)
{
    (void)state;
    ing_opts o = { .delete_filter = &logql_delete_filter };
    ing *g;
    assert_int_equal(ing_create(&o, &g), 0);
    assert_null(ing_deletes(g, LK_STR("t")));
    lk_buf err = { 0 };
    assert_int_equal(ing_delete_add(g, LK_STR("t"), LK_STR("{app="), 0, 1, NULL, &err),
                     LK_EPARSE);
    assert_null(ing_deletes(g, LK_STR("t")));

    tst_stream st;
    tst_stream_init(&st, "{app=\"a\"}");
    int64_t t0 = INT64_C(1700000000000) * MS;
    lk_entry e[3] = { { .ts = t0, .line = LK_STR("keep 1") },
                      { .ts = t0 + MS, .line = LK_STR("drop 2") },
                      { .ts = t0 + 2 * MS, .line = LK_STR("keep 3") } };
    assert_int_equal(ing_push(g, LK_STR("t"), &st.labels, lk_buf_str(&st.canonical), st.fp, e,
                              3, NULL, &err), 0);
    assert_int_equal(ing_push(g, LK_STR("u"), &st.labels, lk_buf_str(&st.canonical), st.fp, e,
                              3, NULL, &err), 0);
    del_req r;
    assert_int_equal(ing_delete_add(g, LK_STR("t"), LK_STR("{app=\"a\"} |= \"drop\""),
                                    t0 / MS, t0 / MS + 10, &r, &err), 0);
    assert_int_equal(strlen(r.id), DEL_ID_LEN);
    assert_null(ing_deletes(g, LK_STR("u")));

    logql_select q = { .tenant = LK_STR("t"), .start = t0, .end = t0 + LK_NS_PER_SEC, .limit = 100 };
    logql_streams res;
    assert_int_equal(logql_select_logs(g, &q, &res, &err), 0);
    assert_int_equal(res.total_entries, 2);
    logql_streams_free(&res);
    q.tenant = LK_STR("u");
    assert_int_equal(logql_select_logs(g, &q, &res, &err), 0);
    assert_int_equal(res.total_entries, 3);
    logql_streams_free(&res);

    assert_int_equal(ing_delete_cancel(g, LK_STR("u"), lk_str_c(r.id), &err), LK_ENOTFOUND);
    assert_int_equal(ing_delete_cancel(g, LK_STR("t"), LK_STR("zz"), &err), LK_ENOTFOUND);
    assert_int_equal(ing_delete_cancel(g, LK_STR("t"), lk_str_c(r.id), &err), 0);
    assert_null(ing_deletes(g, LK_STR("t")));
    q.tenant = LK_STR("t");
    assert_int_equal(logql_select_logs(g, &q, &res, &err), 0);
    assert_int_equal(res.total_entries, 3);
    logql_streams_free(&res);
    tst_stream_free(&st);
    lk_buf_free(&err);
    ing_destroy(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_roundtrip),
        cmocka_unit_test(test_bad_queries),
        cmocka_unit_test(test_stream_check),
        cmocka_unit_test(test_ingester_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
