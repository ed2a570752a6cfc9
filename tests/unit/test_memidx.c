/* Unit tests: the in-memory label index (storage/memidx.h) and the label
 * names and values answered from it and the LMDB index
 * (ing_label_strs): a randomized comparison with the answers derived from
 * ing_select (a view of every stream) over streams in memory, on disk and
 * both, for random ranges; equality selectors through the index against
 * a filter of every stream; removed streams leaving the index (their
 * references dropped, a stream with the same labels listed again). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/matcher.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/ing_int.h"
#include "storage/memidx.h"
#include "tests/unit/testutil.h"

#define SEC LK_NS_PER_SEC
#define HOUR (3600 * SEC)
#define T0 (INT64_C(1793491200) * SEC) /* 2026-11-01T00:00:00Z */

static const lk_str FAKE = { "fake", 4 };
static const char *const NAMES[] = { "app", "env", "pod", "zone", "missing" };

/* ---- the answer derived from a view of every stream */

static int cmp_str(const void *a, const void *b)
{
    return lk_str_cmp(*(const lk_str *)a, *(const lk_str *)b);
}

/* Names (name NULL) or values of *name of ing_select's views, sorted and
 * distinct, as h_meta.c computed them before the label index. */
static size_t walk_strs(ing *g, const lk_str *name, int64_t from, int64_t through, lk_str **out,
                        st_view ***views, size_t *n_views)
{
    assert_int_equal(ing_select(g, FAKE, NULL, 0, from, through, false, views, n_views), 0);
    lk_str *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < *n_views; i++) {
        const lk_labels *l = st_view_labels((*views)[i]);
        for (size_t j = 0; j < l->n; j++) {
            if (name && !lk_str_eq(l->v[j].name, *name))
                continue;
            v = lk_grow(v, &cap, n + 1, sizeof(*v));
            v[n++] = name ? l->v[j].value : l->v[j].name;
        }
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!k || !lk_str_eq(v[i], v[k - 1]))
            v[k++] = v[i];
    *out = v;
    return k;
}

static void check_strs(ing *g, const lk_str *name, int64_t from, int64_t through)
{
    lk_str *want;
    st_view **views;
    size_t n_views;
    size_t n = walk_strs(g, name, from, through, &want, &views, &n_views);
    ing_strs got;
    ing_label_strs(g, FAKE, name, from, through, NULL, &got);
    if (got.n != n)
        fail_msg("%s %.*s [%lld, %lld]: %zu strings, want %zu", name ? "values of" : "names",
                 name ? (int)name->len : 0, name ? name->p : "", (long long)(from - T0),
                 (long long)(through - T0), got.n, n);
    for (size_t i = 0; i < n; i++)
        assert_true(lk_str_eq(got.v[i], want[i]));
    ing_strs_free(&got);
    free(want);
    st_views_free(views, n_views);
}

/* ing_select with name=value against every stream filtered. */
static void check_eq(ing *g, const char *name, const char *value, int64_t from, int64_t through)
{
    lk_matcher m;
    assert_int_equal(matcher_init(&m, LK_MATCH_EQ, lk_str_c(name), lk_str_c(value), NULL), 0);
    st_view **all, **v;
    size_t n_all, n;
    assert_int_equal(ing_select(g, FAKE, NULL, 0, from, through, false, &all, &n_all), 0);
    assert_int_equal(ing_select(g, FAKE, &m, 1, from, through, false, &v, &n), 0);
    size_t k = 0;
    for (size_t i = 0; i < n_all; i++) {
        if (!matchers_match_labels(&m, 1, st_view_labels(all[i])))
            continue;
        assert_true(k < n);
        assert_true(lk_str_eq(st_view_canonical(all[i]), st_view_canonical(v[k])));
        k++;
    }
    assert_int_equal(k, n);
    st_views_free(all, n_all);
    st_views_free(v, n);
    matcher_free(&m);
}

/* ---- random streams */

static void random_labels(tst_rng *r, int i, char *out, size_t cap)
{
    int n = snprintf(out, cap, "{app=\"a%d\"", (int)(tst_rand(r) % 4));
    if (tst_rand(r) % 2)
        n += snprintf(out + n, cap - (size_t)n, ", env=\"e%d\"", (int)(tst_rand(r) % 3));
    if (tst_rand(r) % 3)
        n += snprintf(out + n, cap - (size_t)n, ", pod=\"p%d\"", i);
    if (tst_rand(r) % 5 == 0)
        n += snprintf(out + n, cap - (size_t)n, ", zone=\"z%d\"", (int)(tst_rand(r) % 2));
    snprintf(out + n, cap - (size_t)n, "}");
}

/* Streams first..first+n-1, each a few entries somewhere in [T0, T0 + 6h). */
static void push_random(ing *g, tst_rng *r, int first, int n)
{
    for (int i = first; i < first + n; i++) {
        char text[160];
        random_labels(r, i, text, sizeof text);
        tst_stream s;
        tst_stream_init(&s, text);
        int64_t t = T0 + (int64_t)(tst_rand(r) % (6 * 3600)) * SEC;
        lk_entry e[3];
        for (int k = 0; k < 3; k++)
            e[k] = (lk_entry){ .ts = t + k * 60 * SEC, .line = LK_STR("line") };
        lk_buf err = { 0 };
        int rc = ing_push(g, FAKE, &s.labels, lk_buf_str(&s.canonical), s.fp, e, 3, NULL, &err);
        if (rc != 0)
            fail_msg("push %s: %s", text, err.p ? err.p : "");
        tst_stream_free(&s);
    }
}

static void check_ranges(ing *g, tst_rng *r)
{
    for (int round = 0; round < 40; round++) {
        int64_t a = T0 + (int64_t)(tst_rand(r) % (7 * 3600)) * SEC - HOUR / 2;
        int64_t b = a + (int64_t)(tst_rand(r) % (3 * 3600)) * SEC;
        check_strs(g, NULL, a, b);
        for (size_t k = 0; k < sizeof(NAMES) / sizeof(NAMES[0]); k++) {
            lk_str name = lk_str_c(NAMES[k]);
            check_strs(g, &name, a, b);
        }
        check_eq(g, "app", "a1", a, b);
        check_eq(g, "env", "e2", a, b);
        check_eq(g, "pod", "p7", a, b);
        check_eq(g, "app", "none", a, b);
    }
    check_strs(g, NULL, T0 + HOUR, T0); /* an empty range */
}

static ing *open_ing(const char *root)
{
    lk_buf walp = { 0 }, chunks = { 0 }, index = { 0 }, err = { 0 };
    lk_buf_printf(&walp, "%s/wal", root);
    lk_buf_printf(&chunks, "%s/chunks", root);
    lk_buf_printf(&index, "%s/index", root);
    ing_opts o = { .max_chunk_age_ns = 24 * HOUR, .wal_dir = walp.p, .chunk_dir = chunks.p,
                   .index_dir = index.p, .chunk_idle_period_ns = HOUR,
                   .flush_check_period_ns = HOUR };
    ing *g = NULL;
    assert_int_equal(ing_open(&o, &g, &err), 0);
    assert_int_equal(ing_recover(g, &err), 0);
    lk_buf_free(&walp);
    lk_buf_free(&chunks);
    lk_buf_free(&index);
    lk_buf_free(&err);
    return g;
}

static void test_label_strs_match_select(void **state)
{
    (void)state;
    tst_rng r = tst_rng_seed(15);
    char *root = tst_tmpdir("memidx");
    ing *g = open_ing(root);
    push_random(g, &r, 0, 60);
    check_ranges(g, &r); /* memory only */
    lk_buf err = { 0 };
    assert_int_equal(ing_flush_cycle(g, true, NULL, &err), 0);
    ing_destroy(g);
    g = open_ing(root);
    check_ranges(g, &r); /* the index only */
    push_random(g, &r, 40, 60);
    check_ranges(g, &r); /* both, streams 40..59 in each */
    ing_destroy(g);
    lk_buf_free(&err);
    tst_rmtree(root);
}

/* ---- the index itself */

static st_stream *new_stream(const char *text)
{
    tst_stream s;
    tst_stream_init(&s, text);
    st_stream *st = st_stream_new(&s.labels, lk_buf_str(&s.canonical), s.fp);
    tst_stream_free(&s);
    return st;
}

static size_t candidates(mix *x, const char *name, const char *value)
{
    lk_matcher m;
    assert_int_equal(matcher_init(&m, LK_MATCH_EQ, lk_str_c(name), lk_str_c(value), NULL), 0);
    st_stream **v;
    size_t n;
    assert_true(mix_candidates(x, &m, 1, &v, &n));
    for (size_t i = 0; i < n; i++)
        st_stream_unref(v[i]);
    free(v);
    matcher_free(&m);
    return n;
}

static void test_candidates(void **state)
{
    (void)state;
    mix *x = mix_new();
    st_stream *s[3] = { new_stream("{app=\"a\", env=\"prod\"}"), new_stream("{app=\"a\"}"),
                        new_stream("{app=\"b\", env=\"prod\"}") };
    for (int i = 0; i < 3; i++)
        mix_add(x, s[i]);
    assert_int_equal(candidates(x, "app", "a"), 2);
    assert_int_equal(candidates(x, "env", "prod"), 2);
    assert_int_equal(candidates(x, "env", "dev"), 0);
    assert_int_equal(candidates(x, "nope", "x"), 0);
    /* the smallest list of several equality matchers; none for regexes
     * and empty values (they match streams without the label) */
    lk_matcher m[2];
    assert_int_equal(matcher_init(&m[0], LK_MATCH_EQ, LK_STR("app"), LK_STR("a"), NULL), 0);
    assert_int_equal(matcher_init(&m[1], LK_MATCH_EQ, LK_STR("env"), LK_STR("prod"), NULL), 0);
    st_stream **v;
    size_t n;
    assert_true(mix_candidates(x, m, 2, &v, &n));
    assert_true(n <= 2);
    for (size_t i = 0; i < n; i++)
        st_stream_unref(v[i]);
    free(v);
    matcher_free(&m[0]);
    matcher_free(&m[1]);
    assert_int_equal(matcher_init(&m[0], LK_MATCH_RE, LK_STR("app"), LK_STR("a"), NULL), 0);
    assert_int_equal(matcher_init(&m[1], LK_MATCH_EQ, LK_STR("env"), LK_STR(""), NULL), 0);
    assert_false(mix_candidates(x, m, 2, &v, &n));
    matcher_free(&m[0]);
    matcher_free(&m[1]);
    for (int i = 0; i < 3; i++)
        st_stream_unref(s[i]);
    mix_free(x); /* drops the index's references: ASan finds no leak */
}

static void test_removed_streams(void **state)
{
    (void)state;
    mix *x = mix_new();
    enum { N = 1000 };
    st_stream *s[N];
    for (int i = 0; i < N; i++) {
        char text[64];
        snprintf(text, sizeof text, "{app=\"a\", pod=\"p%d\"}", i);
        s[i] = new_stream(text);
        mix_add(x, s[i]);
    }
    assert_int_equal(candidates(x, "app", "a"), N);
    for (int i = 0; i < N; i++) {
        assert_true(st_stream_try_remove(s[i], lk_now_ns(), 0));
        mix_remove(x, s[i]);
        assert_int_equal(candidates(x, "pod", "p0"), 0);
        assert_int_equal(candidates(x, "app", "a"), (size_t)(N - 1 - i));
        st_stream_unref(s[i]);
    }
    st_stream *again = new_stream("{app=\"a\", pod=\"p0\"}");
    mix_add(x, again);
    assert_int_equal(candidates(x, "pod", "p0"), 1);
    assert_int_equal(candidates(x, "app", "a"), 1);
    st_stream_unref(again);
    mix_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_strs_match_select),
        cmocka_unit_test(test_candidates),
        cmocka_unit_test(test_removed_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
