/* Unit tests: the LMDB label index (storage/index.h): chunks indexed and
 * selected with each matcher type, time ranges and periods (a chunk that
 * spans midnight is found from both days, once), tenants kept apart, two
 * label sets with one fingerprint told apart, label values too long for an
 * LMDB key, retention dropping old periods of every tenant, persistence
 * across reopening, and bad arguments. */
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
#include "lib/labels.h"
#include "lib/matcher.h"
#include "lib/mem.h"
#include "storage/index.h"
#include "tests/unit/testutil.h"

#define SEC INT64_C(1000000000)
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define T0 (INT64_C(1793491200) * SEC) /* 2026-11-01T00:00:00Z, a period start */

static const lk_str FAKE = { "fake", 4 };

static idx_chunk chunk_of(lk_str tenant, const tst_stream *s, int64_t from, int64_t through,
                          uint32_t crc)
{
    return (idx_chunk){ .tenant = tenant, .canonical = lk_buf_str(&s->canonical),
                        .labels = &s->labels,
                        .ref = { .sid = s->sid, .from = from, .through = through, .crc = crc,
                                 .entries = 10, .size = 1000 + crc } };
}

/* Canonical labels of the selected series, joined by ';'. */
static void select_str(idx *x, lk_str tenant, const char *sel, int64_t from, int64_t through,
                       lk_buf *out)
{
    lk_matcher ms[4];
    size_t nm = 0;
    /* sel: "name op value" clauses separated by ',' (ops =, !=, =~, !~) */
    char *copy = lk_strdup(sel), *save = NULL;
    for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        char *op = strpbrk(c, "=!");
        lk_match_type t = LK_MATCH_EQ;
        size_t oplen = 1;
        if (op[0] == '!' && op[1] == '=')
            t = LK_MATCH_NEQ, oplen = 2;
        else if (op[0] == '!' && op[1] == '~')
            t = LK_MATCH_NRE, oplen = 2;
        else if (op[0] == '=' && op[1] == '~')
            t = LK_MATCH_RE, oplen = 2;
        assert_int_equal(matcher_init(&ms[nm++], t, lk_str_n(c, (size_t)(op - c)),
                                      lk_str_c(op + oplen), NULL),
                         0);
    }
    free(copy);
    idx_result r;
    assert_int_equal(idx_select(x, tenant, ms, nm, from, through, true, &r, NULL), 0);
    lk_buf_reset(out);
    for (size_t i = 0; i < r.n; i++) {
        lk_buf_printf(out, "%s%.*s", i ? ";" : "", LK_STR_FMT(r.v[i].canonical));
        assert_true(r.v[i].n_chunks > 0);
    }
    /* without chunks: the same series */
    idx_result r2;
    assert_int_equal(idx_select(x, tenant, ms, nm, from, through, false, &r2, NULL), 0);
    assert_int_equal(r2.n, r.n);
    for (size_t i = 0; i < r.n; i++) {
        assert_true(lk_str_eq(r.v[i].canonical, r2.v[i].canonical));
        assert_int_equal(r2.v[i].n_chunks, 0);
    }
    idx_result_free(&r);
    idx_result_free(&r2);
    for (size_t i = 0; i < nm; i++)
        matcher_free(&ms[i]);
}

static void test_select_matchers(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("idx");
    idx *x;
    assert_int_equal(idx_open(dir, &x, NULL), 0);
    tst_stream a, b, c;
    tst_stream_init(&a, "{app=\"api\", env=\"prod\"}");
    tst_stream_init(&b, "{app=\"web\", env=\"prod\", team=\"x\"}");
    tst_stream_init(&c, "{app=\"api\", env=\"dev\"}");
    idx_chunk v[] = { chunk_of(FAKE, &a, T0 + HOUR, T0 + 2 * HOUR, 1),
                      chunk_of(FAKE, &b, T0 + HOUR, T0 + 3 * HOUR, 2),
                      chunk_of(FAKE, &c, T0 + 5 * HOUR, T0 + 6 * HOUR, 3) };
    assert_int_equal(idx_add(x, v, 3, NULL), 0);
    lk_buf out = { 0 };
    int64_t f = T0, t = T0 + DAY - 1;
    select_str(x, FAKE, "app=api", f, t, &out);
    assert_string_equal(out.p, "{app=\"api\", env=\"dev\"};{app=\"api\", env=\"prod\"}");
    select_str(x, FAKE, "app=api,env=prod", f, t, &out);
    assert_string_equal(out.p, "{app=\"api\", env=\"prod\"}");
    select_str(x, FAKE, "app=~a.*", f, t, &out);
    assert_string_equal(out.p, "{app=\"api\", env=\"dev\"};{app=\"api\", env=\"prod\"}");
    select_str(x, FAKE, "app=~api|web,env!=dev", f, t, &out);
    assert_string_equal(out.p,
                        "{app=\"api\", env=\"prod\"};{app=\"web\", env=\"prod\", team=\"x\"}");
    select_str(x, FAKE, "env!~p.*", f, t, &out);
    assert_string_equal(out.p, "{app=\"api\", env=\"dev\"}");
    select_str(x, FAKE, "team=", f, t, &out); /* missing label = "" */
    assert_string_equal(out.p, "{app=\"api\", env=\"dev\"};{app=\"api\", env=\"prod\"}");
    select_str(x, FAKE, "team!=", f, t, &out);
    assert_string_equal(out.p, "{app=\"web\", env=\"prod\", team=\"x\"}");
    select_str(x, FAKE, "app=nope", f, t, &out);
    assert_string_equal(out.p ? out.p : "", "");
    select_str(x, FAKE, "", f, t, &out); /* no matcher: all */
    assert_int_equal(strlen(out.p), strlen("{app=\"api\", env=\"dev\"};{app=\"api\", env=\"prod\"};"
                                           "{app=\"web\", env=\"prod\", team=\"x\"}"));
    /* time ranges: only streams with an overlapping chunk */
    select_str(x, FAKE, "env=~.+", T0 + 4 * HOUR, T0 + 7 * HOUR, &out);
    assert_string_equal(out.p, "{app=\"api\", env=\"dev\"}");
    select_str(x, FAKE, "env=~.+", T0 + 2 * HOUR, T0 + 2 * HOUR, &out); /* inclusive */
    assert_string_equal(out.p,
                        "{app=\"api\", env=\"prod\"};{app=\"web\", env=\"prod\", team=\"x\"}");
    select_str(x, FAKE, "env=~.+", T0 + 3 * HOUR + 1, T0 + 5 * HOUR - 1, &out);
    assert_string_equal(out.p ? out.p : "", "");
    /* another tenant sees nothing */
    select_str(x, LK_STR("other"), "app=api", f, t, &out);
    assert_string_equal(out.p ? out.p : "", "");
    lk_buf_free(&out);
    tst_stream_free(&a);
    tst_stream_free(&b);
    tst_stream_free(&c);
    idx_close(x);
    tst_rmtree(dir);
}

static void test_periods_and_chunks(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("idx");
    idx *x;
    assert_int_equal(idx_open(dir, &x, NULL), 0);
    tst_stream a;
    tst_stream_init(&a, "{app=\"api\"}");
    /* one chunk across midnight, one on each side, one two days later */
    idx_chunk v[] = { chunk_of(FAKE, &a, T0 + DAY - HOUR, T0 + DAY + HOUR, 7),
                      chunk_of(FAKE, &a, T0 + 10 * HOUR, T0 + 11 * HOUR, 8),
                      chunk_of(FAKE, &a, T0 + DAY + 2 * HOUR, T0 + DAY + 3 * HOUR, 9),
                      chunk_of(FAKE, &a, T0 + 3 * DAY, T0 + 3 * DAY + HOUR, 10) };
    assert_int_equal(idx_add(x, v, 4, NULL), 0);
    idx_counts c;
    assert_int_equal(idx_count(x, FAKE, chk_period(T0), &c, NULL), 0);
    assert_int_equal(c.series, 1);
    assert_int_equal(c.chunks, 2);
    assert_int_equal(c.postings, 1);
    assert_int_equal(idx_count(x, FAKE, chk_period(T0 + DAY), &c, NULL), 0);
    assert_int_equal(c.chunks, 2);
    assert_int_equal(idx_count(x, FAKE, chk_period(T0 + 2 * DAY), &c, NULL), 0);
    assert_int_equal(c.chunks, 0);

    lk_matcher m;
    assert_int_equal(matcher_init(&m, LK_MATCH_EQ, LK_STR("app"), LK_STR("api"), NULL), 0);
    idx_result r;
    assert_int_equal(idx_select(x, FAKE, &m, 1, T0, T0 + 4 * DAY, true, &r, NULL), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0].n_chunks, 4); /* the midnight chunk once */
    assert_int_equal(r.v[0].chunks[0].crc, 8);
    assert_int_equal(r.v[0].chunks[1].crc, 7);
    assert_int_equal(r.v[0].chunks[1].size, 1007);
    assert_int_equal(r.v[0].chunks[1].entries, 10);
    assert_int_equal(r.v[0].chunks[2].crc, 9);
    assert_int_equal(r.v[0].chunks[3].crc, 10);
    assert_true(chk_sid_eq(r.v[0].sid, a.sid));
    idx_result_free(&r);
    /* the second day alone: the midnight chunk and the 02:00 one */
    assert_int_equal(idx_select(x, FAKE, &m, 1, T0 + DAY, T0 + 2 * DAY - 1, true, &r, NULL), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0].n_chunks, 2);
    idx_result_free(&r);
    /* a range with no chunk inside a known period */
    assert_int_equal(idx_select(x, FAKE, &m, 1, T0, T0 + HOUR, true, &r, NULL), 0);
    assert_int_equal(r.n, 0);
    idx_result_free(&r);
    /* empty and reversed ranges */
    assert_int_equal(idx_select(x, FAKE, &m, 1, T0 + DAY, T0, true, &r, NULL), 0);
    assert_int_equal(r.n, 0);
    idx_result_free(&r);
    matcher_free(&m);

    /* the same chunk indexed twice is one chunk */
    assert_int_equal(idx_add(x, v, 1, NULL), 0);
    assert_int_equal(idx_count(x, FAKE, chk_period(T0), &c, NULL), 0);
    assert_int_equal(c.chunks, 2);

    /* persistence */
    idx_close(x);
    assert_int_equal(idx_open(dir, &x, NULL), 0);
    assert_int_equal(idx_select(x, FAKE, NULL, 0, T0, T0 + 4 * DAY, true, &r, NULL), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0].n_chunks, 4);
    idx_result_free(&r);
    tst_stream_free(&a);
    idx_close(x);
    tst_rmtree(dir);
}

static void test_collision_and_long_values(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("idx");
    idx *x;
    assert_int_equal(idx_open(dir, &x, NULL), 0);
    tst_stream a, b;
    tst_stream_init(&a, "{app=\"a\"}");
    tst_stream_init(&b, "{app=\"b\"}");
    b.sid.fp = a.sid.fp; /* a fingerprint collision */
    idx_chunk v[] = { chunk_of(FAKE, &a, T0, T0 + 1, 1), chunk_of(FAKE, &b, T0, T0 + 1, 2) };
    assert_int_equal(idx_add(x, v, 2, NULL), 0);
    lk_buf out = { 0 };
    select_str(x, FAKE, "app=b", T0, T0 + HOUR, &out);
    assert_string_equal(out.p, "{app=\"b\"}");
    select_str(x, FAKE, "app=~.*", T0, T0 + HOUR, &out);
    assert_string_equal(out.p, "{app=\"a\"};{app=\"b\"}");
    idx_result r;
    assert_int_equal(idx_select(x, FAKE, NULL, 0, T0, T0 + HOUR, true, &r, NULL), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.v[0].n_chunks, 1);
    assert_int_equal(r.v[0].chunks[0].crc, 1);
    assert_int_equal(r.v[1].chunks[0].crc, 2);
    idx_result_free(&r);

    /* values and names longer than an LMDB key */
    lk_buf text = { 0 }, longv = { 0 }, longn = { 0 };
    for (int i = 0; i < 700; i++)
        lk_buf_putc(&longv, (char)('a' + i % 26));
    for (int i = 0; i < 300; i++)
        lk_buf_putc(&longn, (char)('k' + i % 10));
    lk_buf_printf(&text, "{app=\"long\", %s=\"x\", v=\"%s\"}", longn.p, longv.p);
    tst_stream l1, l2;
    tst_stream_init(&l1, text.p);
    lk_buf_reset(&text);
    lk_buf_printf(&text, "{app=\"long\", v=\"%sZ\"}", longv.p); /* same first 64 bytes */
    tst_stream_init(&l2, text.p);
    idx_chunk w[] = { chunk_of(FAKE, &l1, T0, T0 + 1, 3), chunk_of(FAKE, &l2, T0, T0 + 1, 4) };
    assert_int_equal(idx_add(x, w, 2, NULL), 0);
    lk_matcher m[2];
    assert_int_equal(matcher_init(&m[0], LK_MATCH_EQ, LK_STR("v"), lk_buf_str(&longv), NULL), 0);
    assert_int_equal(idx_select(x, FAKE, m, 1, T0, T0 + HOUR, false, &r, NULL), 0);
    assert_int_equal(r.n, 1);
    assert_true(lk_str_eq(r.v[0].canonical, lk_buf_str(&l1.canonical)));
    idx_result_free(&r);
    assert_int_equal(matcher_init(&m[1], LK_MATCH_RE, LK_STR("v"), LK_STR(".*Z"), NULL), 0);
    assert_int_equal(idx_select(x, FAKE, &m[1], 1, T0, T0 + HOUR, false, &r, NULL), 0);
    assert_int_equal(r.n, 1);
    assert_true(lk_str_eq(r.v[0].canonical, lk_buf_str(&l2.canonical)));
    idx_result_free(&r);
    matcher_free(&m[1]);
    assert_int_equal(matcher_init(&m[1], LK_MATCH_EQ, lk_buf_str(&longn), LK_STR("x"), NULL), 0);
    assert_int_equal(idx_select(x, FAKE, &m[1], 1, T0, T0 + HOUR, false, &r, NULL), 0);
    assert_int_equal(r.n, 1);
    assert_true(lk_str_eq(r.v[0].canonical, lk_buf_str(&l1.canonical)));
    idx_result_free(&r);
    matcher_free(&m[0]);
    matcher_free(&m[1]);

    lk_buf_free(&text);
    lk_buf_free(&longv);
    lk_buf_free(&longn);
    lk_buf_free(&out);
    tst_stream_free(&a);
    tst_stream_free(&b);
    tst_stream_free(&l1);
    tst_stream_free(&l2);
    idx_close(x);
    tst_rmtree(dir);
}

static void test_retention_drop(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("idx");
    idx *x;
    assert_int_equal(idx_open(dir, &x, NULL), 0);
    tst_stream a, b;
    tst_stream_init(&a, "{app=\"a\"}");
    tst_stream_init(&b, "{app=\"b\", env=\"x\"}");
    const lk_str tenants[3] = { LK_STR("alpha"), FAKE, LK_STR("zulu") };
    for (int t = 0; t < 3; t++) {
        for (int d = 0; d < 5; d++) {
            idx_chunk v[] = { chunk_of(tenants[t], &a, T0 + d * DAY, T0 + d * DAY + HOUR,
                                       (uint32_t)d),
                              chunk_of(tenants[t], &b, T0 + d * DAY + HOUR,
                                       T0 + d * DAY + 2 * HOUR, (uint32_t)(d + 100)) };
            assert_int_equal(idx_add(x, v, 2, NULL), 0);
        }
    }
    size_t deleted = 0;
    assert_int_equal(idx_drop_before(x, chk_period(T0 + 3 * DAY), &deleted, NULL), 0);
    /* 3 tenants x 3 days x (2 series + 3 postings + 2 chunks) */
    assert_int_equal(deleted, 3 * 3 * 7);
    for (int t = 0; t < 3; t++) {
        for (int d = 0; d < 5; d++) {
            idx_counts c;
            assert_int_equal(idx_count(x, tenants[t], chk_period(T0 + d * DAY), &c, NULL), 0);
            size_t want = d < 3 ? 0 : 1;
            assert_int_equal(c.series, 2 * want);
            assert_int_equal(c.chunks, 2 * want);
            assert_int_equal(c.postings, 3 * want);
        }
        idx_result r;
        assert_int_equal(idx_select(x, tenants[t], NULL, 0, T0, T0 + 10 * DAY, true, &r, NULL),
                         0);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.v[0].n_chunks, 2);
        assert_true(r.v[0].chunks[0].from >= T0 + 3 * DAY);
        idx_result_free(&r);
    }
    /* nothing more to drop; then everything */
    assert_int_equal(idx_drop_before(x, chk_period(T0 + 3 * DAY), &deleted, NULL), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(idx_drop_before(x, chk_period(T0 + 100 * DAY), &deleted, NULL), 0);
    assert_int_equal(deleted, 3 * 2 * 7);
    idx_result r;
    assert_int_equal(idx_select(x, FAKE, NULL, 0, T0, T0 + 10 * DAY, true, &r, NULL), 0);
    assert_int_equal(r.n, 0);
    idx_result_free(&r);
    tst_stream_free(&a);
    tst_stream_free(&b);
    idx_close(x);
    tst_rmtree(dir);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("idx");
    idx *x;
    assert_int_equal(idx_open(dir, &x, NULL), 0);
    tst_stream a;
    tst_stream_init(&a, "{app=\"a\"}");
    char longt[200];
    memset(longt, 't', sizeof longt);
    idx_chunk v = chunk_of(lk_str_n(longt, sizeof longt), &a, T0, T0 + 1, 1);
    lk_buf err = { 0 };
    assert_int_equal(idx_add(x, &v, 1, &err), LK_EINVAL);
    v = chunk_of(FAKE, &a, T0 + 1, T0, 1);
    assert_int_equal(idx_add(x, &v, 1, NULL), LK_EINVAL);
    assert_int_equal(idx_add(x, &v, 0, NULL), 0); /* nothing to add */
    assert_int_equal(idx_add(x, NULL, 0, NULL), 0);
    idx_close(x);
    /* a file where the directory should be */
    lk_buf path = { 0 };
    lk_buf_printf(&path, "%s/file", dir);
    tst_write_file(path.p, "");
    lk_buf_reset(&err);
    assert_int_equal(idx_open(path.p, &x, &err), LK_EIO);
    assert_non_null(err.p);
    lk_buf_free(&path);
    lk_buf_free(&err);
    tst_stream_free(&a);
    tst_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_matchers),
        cmocka_unit_test(test_periods_and_chunks),
        cmocka_unit_test(test_collision_and_long_values),
        cmocka_unit_test(test_retention_drop),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
