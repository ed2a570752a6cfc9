/* Unit tests: index/volume aggregation (query/volume.h) — series named by
 * the selector's labels or targetLabels, per-label aggregation, the limit
 * per bucket with ties broken by name, volume_max_series — and the chunk
 * size Loki reports (storage/usize.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/matcher.h"
#include "query/volume.h"
#include "storage/chunk.h"
#include "storage/usize.h"

static void add(vol_acc *a, const char *labels, uint64_t b0, uint64_t b1)
{
    lk_labels l;
    lk_buf err = { 0 };
    assert_int_equal(labels_parse(lk_str_c(labels), &l, &err), 0);
    uint64_t bytes[2] = { b0, b1 };
    assert_int_equal(vol_acc_add(a, &l, bytes), 0);
    labels_free(&l);
    lk_buf_free(&err);
}

static const vol_series *series(const vol_acc *a, const char *key)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].key, key) == 0)
            return &a->v[i];
    fail_msg("no series %s", key);
    return NULL;
}

static void matcher(lk_matcher *m, const char *name, const char *re)
{
    lk_buf err = { 0 };
    assert_int_equal(matcher_init(m, LK_MATCH_RE, lk_str_c(name), lk_str_c(re), &err), 0);
    lk_buf_free(&err);
}

static void test_by_selector_names(void **state)
{
    (void)state;
    lk_matcher m;
    matcher(&m, "svc", ".+");
    vol_spec spec = { .ms = &m, .nm = 1, .limit = 2 };
    vol_acc a;
    vol_acc_init(&a, &spec, 2);
    add(&a, "{svc=\"a\", pod=\"1\"}", 10, 0);
    add(&a, "{svc=\"a\", pod=\"2\"}", 5, 1);
    add(&a, "{svc=\"b\", pod=\"3\"}", 15, 0);
    add(&a, "{svc=\"c\", pod=\"4\"}", 15, 3);
    add(&a, "{svc=\"d\", pod=\"5\"}", 0, 0); /* nothing in range: no series */
    vol_acc_finish(&a);
    assert_int_equal(a.n, 3);
    const vol_series *s = series(&a, "{svc=\"a\"}");
    assert_int_equal(s->bytes[0], 15);
    assert_int_equal(s->bytes[1], 1);
    /* bucket 0: a, b, c all 15: the limit of 2 keeps a and b (by name) */
    assert_true(s->kept[0]);
    assert_true(series(&a, "{svc=\"b\"}")->kept[0]);
    assert_false(series(&a, "{svc=\"c\"}")->kept[0]);
    /* bucket 1: c (3) and a (1); b has no bytes there */
    assert_true(series(&a, "{svc=\"c\"}")->kept[1]);
    assert_true(s->kept[1]);
    assert_false(series(&a, "{svc=\"b\"}")->kept[1]);
    vol_acc_free(&a);
    matcher_free(&m);
}

static void test_targets_and_labels(void **state)
{
    (void)state;
    lk_matcher m;
    matcher(&m, "ns", ".+");
    lk_str targets[] = { LK_STR("pod") };
    vol_spec spec = { .targets = targets, .n_targets = 1, .ms = &m, .nm = 1, .limit = 100 };
    vol_acc a;
    vol_acc_init(&a, &spec, 1);
    add(&a, "{ns=\"x\", pod=\"1\"}", 10, 0);
    add(&a, "{ns=\"y\", pod=\"1\"}", 5, 0);
    add(&a, "{ns=\"x\"}", 7, 0); /* no target label: not counted */
    vol_acc_finish(&a);
    assert_int_equal(a.n, 1);
    assert_int_equal(series(&a, "{pod=\"1\"}")->bytes[0], 15);
    vol_acc_free(&a);

    /* aggregateBy=labels without targets: every label name */
    vol_spec by = { .ms = &m, .nm = 1, .by_labels = true, .limit = 100 };
    vol_acc_init(&a, &by, 1);
    add(&a, "{ns=\"x\", pod=\"1\"}", 10, 0);
    add(&a, "{ns=\"y\", app=\"z\"}", 5, 0);
    vol_acc_finish(&a);
    assert_int_equal(a.n, 3);
    const vol_series *s = series(&a, "{ns=\"\"}");
    assert_int_equal(s->bytes[0], 15);
    assert_int_equal(s->metric.n, 1);
    assert_int_equal(s->metric.v[0].value.len, 0);
    assert_int_equal(series(&a, "{app=\"\"}")->bytes[0], 5);
    vol_acc_free(&a);

    /* `{}`: no matchers, every label */
    vol_spec all = { .limit = 100 };
    vol_acc_init(&a, &all, 1);
    add(&a, "{ns=\"x\", pod=\"1\"}", 10, 0);
    vol_acc_finish(&a);
    assert_int_equal(a.n, 1);
    assert_int_equal(series(&a, "{ns=\"x\", pod=\"1\"}")->bytes[0], 10);
    vol_acc_free(&a);
    matcher_free(&m);
}

static void test_max_series(void **state)
{
    (void)state;
    lk_matcher m;
    matcher(&m, "svc", ".+");
    vol_spec spec = { .ms = &m, .nm = 1, .limit = 100, .max_series = 2 };
    vol_acc a;
    vol_acc_init(&a, &spec, 1);
    add(&a, "{svc=\"a\"}", 1, 0);
    add(&a, "{svc=\"b\"}", 1, 0);
    add(&a, "{svc=\"a\"}", 1, 0);
    lk_labels l;
    lk_buf err = { 0 };
    assert_int_equal(labels_parse(LK_STR("{svc=\"c\"}"), &l, &err), 0);
    uint64_t bytes[1] = { 1 };
    assert_int_equal(vol_acc_add(&a, &l, bytes), LK_ELIMIT);
    labels_free(&l);
    lk_buf_free(&err);
    vol_acc_free(&a);
    matcher_free(&m);
}

/* Loki's MemChunk.UncompressedSize: lines, 8 bytes a metadata pair, each
 * distinct metadata string once per chunk. */
static void test_loki_chunk_size(void **state)
{
    (void)state;
    chk_chunk *c = chk_chunk_new();
    lk_label m1[] = { { LK_STR("detected_level"), LK_STR("info") } };
    lk_label m2[] = { { LK_STR("detected_level"), LK_STR("error") },
                      { LK_STR("trace_id"), LK_STR("info") } };
    lk_entry e1 = { .ts = 1, .line = LK_STR("hello"), .n_meta = 1, .meta = m1 };
    lk_entry e2 = { .ts = 2, .line = LK_STR("bye"), .n_meta = 2, .meta = m2 };
    assert_int_equal(chk_chunk_append(c, &e1), 1);
    assert_int_equal(chk_chunk_append(c, &e2), 1);
    assert_int_equal(chk_chunk_append(c, &e2), 0); /* a duplicate is not counted */
    int64_t want = 5 + 8 + 14 + 4 + 3 + 16 + 5 + 8;
    assert_int_equal(chk_chunk_loki_bytes(c), want);
    chk_chunk_close(c);
    assert_int_equal(chk_chunk_loki_bytes(c), want);
    chk_chunk_free(c);

    chk_usize u = { 0 };
    lk_entry plain = { .ts = 1, .line = LK_STR("abc") };
    chk_usize_add(&u, &plain);
    assert_int_equal(u.bytes, 3);
    chk_usize_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_selector_names),
        cmocka_unit_test(test_targets_and_labels),
        cmocka_unit_test(test_max_series),
        cmocka_unit_test(test_loki_chunk_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
