/* Unit tests for query/pattern: the tokenizers (plain, logfmt, JSON, the
 * format guess, the joins), Drain's clustering and limiter, the
 * per-interval counts and the pattern store (levels, tenants, the 30-line
 * floor, out-of-order lines). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/labels.h"
#include "lib/matcher.h"
#include "query/pattern/drain.h"
#include "query/pattern/samples.h"
#include "query/pattern/store.h"
#include "query/pattern/tokenize.h"

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(1793577600) * SEC)

typedef struct collected {
    char pat[8][256];
    int64_t total[8];
    int n;
} collected;

static void collect(void *ctx, lk_str pattern, const pat_chunks *c)
{
    collected *o = ctx;
    assert_true(o->n < 8);
    snprintf(o->pat[o->n], sizeof o->pat[0], "%.*s", (int)pattern.len, pattern.p ? pattern.p : "");
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < c->c[i].n; j++)
            o->total[o->n] += c->c[i].v[j].v;
    o->n++;
}

static void tokens_are(pat_format f, const char *line, const char *const *want, size_t n)
{
    pat_tokens t = { 0 };
    assert_true(pat_tokenize(f, lk_str_c(line), &t));
    assert_int_equal(t.n, n);
    for (size_t i = 0; i < n; i++) {
        char got[128];
        snprintf(got, sizeof got, "%.*s", (int)t.tok[i].len, t.tok[i].p);
        assert_string_equal(got, want[i]);
    }
    /* joining a line's own tokens gives the line back (plain text) */
    if (f == PAT_FMT_PLAIN) {
        lk_buf b = { 0 };
        pat_join(f, t.tok, t.n, t.spaces, t.n_spaces, &b);
        assert_string_equal(b.p, line);
        lk_buf_free(&b);
    }
    pat_tokens_free(&t);
}

static void test_tokenize_plain(void **state)
{
    (void)state;
    const char *const syslog[] = { "Nov", "02", "00:00:05", "edge-1", "app", "[", "8670",
                                   "]", ":", "panic:", "runtime", "error" };
    tokens_are(PAT_FMT_PLAIN, "Nov 02 00:00:05 edge-1 app[8670]: panic: runtime error", syslog,
               12);
    const char *const kv[] = { "a", "=", "1", "b", "=", "\"", "x", "y", "\"" };
    tokens_are(PAT_FMT_PLAIN, "a=1 b=\"x y\"", kv, 9);
    /* $ + < > | ~ are symbols, not punctuation: they stay inside tokens */
    const char *const sym[] = { "GET", "/health", "->", "200", "in", "$5" };
    tokens_are(PAT_FMT_PLAIN, "GET /health -> 200 in $5", sym, 6);
}

static void test_tokenize_logfmt_json(void **state)
{
    (void)state;
    const char *const lf[] = { "level", "info", "ts", PAT_PARAM, "msg", "hello world", "n", "" };
    tokens_are(PAT_FMT_LOGFMT, "level=info ts=2026-11-02T00:00:00Z msg=\"hello world\" n=", lf, 8);
    pat_tokens t = { 0 };
    assert_false(pat_tokenize(PAT_FMT_LOGFMT, LK_STR("a=\"unterminated"), &t));
    const char *const js[] = { "user", "42", "logged", "in" };
    tokens_are(PAT_FMT_JSON, "{\"level\":\"info\",\"msg\":\"user 42 logged in\",\"x\":1}", js, 4);
    /* the first field of Loki's list that the line has, as a string */
    const char *const js2[] = { "from", "log" };
    tokens_are(PAT_FMT_JSON, "{\"msg\":\"from msg\",\"log\":\"from log\"}", js2, 2);
    assert_false(pat_tokenize(PAT_FMT_JSON, LK_STR("{\"message\":42}"), &t));
    assert_false(pat_tokenize(PAT_FMT_JSON, LK_STR("{\"other\":\"x y z w\"}"), &t));
    char big[PAT_MAX_LINE + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(pat_tokenize(PAT_FMT_PLAIN, lk_str_c(big), &t));
    /* JSON: only the message's length counts */
    char json[PAT_MAX_LINE + 64];
    snprintf(json, sizeof json, "{\"msg\":\"a b c d\",\"pad\":\"%.*s\"}", PAT_MAX_LINE, big);
    assert_true(pat_tokenize(PAT_FMT_JSON, lk_str_c(json), &t));
    assert_int_equal(t.n, 4);
    pat_tokens_free(&t);
}

static void test_detect_format(void **state)
{
    (void)state;
    assert_int_equal(pat_detect_format(LK_STR("{\"a\":1}")), PAT_FMT_JSON);
    assert_int_equal(pat_detect_format(LK_STR("lvl=INFO ts=1 msg=\"task finished\"")),
                     PAT_FMT_LOGFMT);
    assert_int_equal(pat_detect_format(LK_STR("sent mail to=x@y template=reset")), PAT_FMT_PLAIN);
    assert_int_equal(pat_detect_format(LK_STR("x")), PAT_FMT_PLAIN);
}

static void test_join_logfmt_and_dedup(void **state)
{
    (void)state;
    lk_str tok[] = { LK_STR("msg"), LK_STR("a \"b\""), LK_STR("k"), LK_STR(PAT_PARAM) };
    lk_buf b = { 0 };
    pat_join(PAT_FMT_LOGFMT, tok, 4, NULL, 0, &b);
    assert_string_equal(b.p, "msg=\"a \\\"b\\\"\" k=<_>");
    lk_buf_reset(&b);
    lk_str bad[] = { LK_STR("a b"), LK_STR("1") };
    pat_join(PAT_FMT_LOGFMT, bad, 2, NULL, 0, &b);
    assert_int_equal(b.len, 0); /* a key go-logfmt cannot write: no pattern */
    lk_str runs[] = { LK_STR("a"), LK_STR(PAT_PARAM), LK_STR(PAT_PARAM), LK_STR(PAT_PARAM),
                      LK_STR("b") };
    pat_join(PAT_FMT_PLAIN, runs, 5, NULL, 0, &b);
    assert_string_equal(b.p, "a<_>b");
    lk_buf_reset(&b);
    lk_str msg[] = { LK_STR("x") };
    pat_join(PAT_FMT_JSON, msg, 1, NULL, 0, &b);
    assert_string_equal(b.p, "<_>x<_>");
    lk_buf_free(&b);
}

static void test_drain_clusters(void **state)
{
    (void)state;
    drain *d = drain_create(PAT_FMT_PLAIN);
    assert_true(drain_train(d, LK_STR("request 1234 took 15ms status ok"), T0, 0));
    assert_true(drain_train(d, LK_STR("request 5678 took 20ms status ok"), T0 + SEC, 0));
    assert_true(drain_train(d, LK_STR("request 9 took 1ms status ok"), T0 + 2 * SEC, 0));
    /* a different word early in the line is another cluster (the tree) */
    assert_true(drain_train(d, LK_STR("response 9 took 1ms status ok"), T0 + 3 * SEC, 0));
    /* fewer than 4 tokens: not mined */
    assert_false(drain_train(d, LK_STR("heartbeat ok"), T0, 0));
    collected o = { 0 };
    drain_each(d, collect, &o);
    assert_int_equal(o.n, 2);
    /* most recent first */
    assert_string_equal(o.pat[0], "response 9 took 1ms status ok");
    assert_int_equal(o.total[0], 1);
    assert_string_equal(o.pat[1], "request <_> took <_> status ok");
    assert_int_equal(o.total[1], 3);
    drain_destroy(d);
}

static void test_drain_logfmt_pattern(void **state)
{
    (void)state;
    drain *d = drain_create(PAT_FMT_LOGFMT);
    assert_true(drain_train(d, LK_STR("lvl=INFO ts=1 task=gc attempt=1 msg=\"task finished\""),
                            T0, 0));
    assert_true(drain_train(d, LK_STR("lvl=INFO ts=2 task=gc attempt=2 msg=\"task scheduled\""),
                            T0, 0));
    collected o = { 0 };
    drain_each(d, collect, &o);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.pat[0], "lvl=INFO ts=<_> task=gc attempt=<_> msg=<_>");
    assert_int_equal(o.total[0], 2);
    drain_destroy(d);
}

/* Distinct 4-word lines (letters only, nothing in common). */
static void distinct_line(int i, char *buf, size_t size)
{
    char w[4][8];
    for (int k = 0; k < 4; k++) {
        int v = i * 4 + k;
        for (int j = 0; j < 5; j++) {
            w[k][j] = (char)('a' + v % 26);
            v /= 26;
        }
        w[k][5] = '\0';
    }
    snprintf(buf, size, "%s %s %s %s", w[0], w[1], w[2], w[3]);
}

static void test_drain_limiter(void **state)
{
    (void)state;
    drain *d = drain_create(PAT_FMT_PLAIN);
    char line[64];
    int i = 0;
    int64_t now = 5 * SEC;
    for (; i < 1000; i++) {
        distinct_line(i, line, sizeof line);
        if (!drain_train(d, lk_str_c(line), T0 + i * SEC, now))
            break;
    }
    /* 300 clusters kept; blocked once more than a quarter were evicted */
    assert_int_equal(i, 401);
    collected o;
    size_t n = 0;
    (void)o;
    n = drain_prune(d, 0);
    assert_int_equal(n, DRAIN_MAX_CLUSTERS);
    distinct_line(5000, line, sizeof line);
    assert_false(drain_train(d, lk_str_c(line), T0, now + DRAIN_BLOCK_NS - 1));
    assert_true(drain_train(d, lk_str_c(line), T0, now + DRAIN_BLOCK_NS));
    drain_destroy(d);
}

static void test_samples(void **state)
{
    (void)state;
    pat_chunks c = { 0 };
    int64_t base = INT64_C(1793577600000);
    int64_t at[] = { 0, 5000, 12000, 65000, 3 * 60000 };
    for (size_t i = 0; i < 5; i++)
        pat_chunks_add(&c, base + at[i]);
    pat_sample *v = NULL;
    size_t n = 0, cap = 0;
    pat_chunks_range(&c, base, base + 3600000, 60000, &v, &n, &cap);
    assert_int_equal(n, 4); /* 0, 60, 120 (empty), 180 */
    assert_int_equal(v[0].ts, base);
    assert_int_equal(v[0].v, 3);
    assert_int_equal(v[1].v, 1);
    assert_int_equal(v[2].v, 0);
    assert_int_equal(v[3].v, 1);
    n = 0;
    pat_chunks_range(&c, base, base + 3600000, PAT_SAMPLE_INTERVAL_MS, &v, &n, &cap);
    assert_int_equal(n, 4); /* the 10 s counts themselves */
    assert_int_equal(v[0].v, 2);
    n = 0;
    pat_chunks_range(&c, base + 10000, base + 65000, 60000, &v, &n, &cap); /* [from, through) */
    assert_int_equal(n, 2);
    assert_int_equal(v[0].v + v[1].v, 2);
    /* an hour after a chunk's first count starts another chunk */
    pat_chunks_add(&c, base + 3600000);
    assert_int_equal(c.n, 2);
    assert_int_equal(pat_chunks_prune(&c, base + 3600000), 1);
    free(v);
    pat_chunks_free(&c);
}

static void push_lines(pat_store *s, const char *tenant, const char *labels, const char *level,
                       int n, int64_t from)
{
    lk_labels l = { 0 };
    lk_buf err = { 0 }, canon = { 0 };
    assert_int_equal(labels_parse(lk_str_c(labels), &l, &err), 0);
    labels_canonical(&l, &canon);
    lk_label meta[1] = { { LK_STR("detected_level"), lk_str_c(level) } };
    lk_entry *e = calloc((size_t)n, sizeof *e);
    char (*lines)[64] = calloc((size_t)n, sizeof *lines);
    for (int i = 0; i < n; i++) {
        snprintf(lines[i], sizeof lines[i], "job %d finished in %dms", i, i * 7);
        e[i] = (lk_entry){ from + i * SEC, lk_str_c(lines[i]), 1, meta };
    }
    pat_store_push(s, lk_str_c(tenant), lk_buf_str(&canon), labels_hash(lk_buf_str(&canon)), &l,
                   e, (size_t)n);
    free(lines);
    free(e);
    labels_free(&l);
    lk_buf_free(&canon);
    lk_buf_free(&err);
}

static void query(pat_store *s, const char *tenant, const char *app, pat_result *r)
{
    lk_matcher m;
    lk_buf err = { 0 };
    assert_int_equal(matcher_init(&m, LK_MATCH_EQ, LK_STR("app"), lk_str_c(app), &err), 0);
    assert_int_equal(pat_store_query(s, lk_str_c(tenant), &m, 1, T0, T0 + 3600 * SEC, 60 * SEC, r),
                     0);
    matcher_free(&m);
    lk_buf_free(&err);
}

static void test_store(void **state)
{
    (void)state;
    pat_store *s = pat_store_create(0);
    push_lines(s, "a", "{app=\"x\"}", "Info", 40, T0);
    push_lines(s, "a", "{app=\"x\"}", "error", 29, T0 + 100 * SEC);
    push_lines(s, "a", "{app=\"x\"}", "info", 10, T0); /* older than the stream's newest */
    push_lines(s, "b", "{app=\"x\"}", "info", 35, T0);
    pat_result r;
    query(s, "a", "x", &r);
    /* error has 29 lines: under Loki's 30-line floor */
    assert_int_equal(r.n, 1);
    assert_string_equal(r.s[0].level, "info");
    assert_string_equal(r.s[0].pattern, "job <_> finished in <_>");
    assert_int_equal(r.s[0].total, 40);
    pat_result_free(&r);
    query(s, "b", "x", &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.s[0].total, 35);
    pat_result_free(&r);
    query(s, "c", "x", &r);
    assert_int_equal(r.n, 0);
    pat_result_free(&r);
    query(s, "a", "y", &r);
    assert_int_equal(r.n, 0);
    pat_result_free(&r);
    pat_store_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenize_plain),
        cmocka_unit_test(test_tokenize_logfmt_json),
        cmocka_unit_test(test_detect_format),
        cmocka_unit_test(test_join_logfmt_and_dedup),
        cmocka_unit_test(test_drain_clusters),
        cmocka_unit_test(test_drain_logfmt_pattern),
        cmocka_unit_test(test_drain_limiter),
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
