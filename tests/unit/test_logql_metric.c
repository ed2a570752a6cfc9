/* Unit tests: metric query evaluation (query/metric/metric.h) over streams pushed
 * into a real ingester — window bounds (t - range, t] in the bucket and
 * step modes, every range function against a brute-force reference on
 * random data (with offsets, gaps, instants and several reader threads),
 * quantile interpolation, Loki's rate_counter, absent_over_time, vector
 * aggregations (by/without, topk/bottomk ties as Go's heap breaks them,
 * sort), binary operators (scalars, filters and bool, one-to-one, on,
 * ignoring, group_left/right, the duplicate-match errors, and/or/unless),
 * label_replace, vector(), max_query_series, pipeline errors, the deadline;
 * and the HTTP answer (api/h_metric.c): Loki's JSON shapes, times and
 * value strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/http.h"
#include "api/state.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/labels.h"
#include "lib/timeutil.h"
#include "query/metric/metric.h"
#include "query/metric/acc.h"
#include "query/metric/metric_int.h"
#include "query/logql/parser.h"
#include "storage/ingester.h"
#include "tests/unit/testutil.h"

#define SEC LK_NS_PER_SEC
#define MIN (60 * SEC)
#define T0 (INT64_C(1793491200) * SEC) /* 2026-11-01T00:00:00Z */

static const lk_str FAKE = { "fake", 4 };

/* ---- fixtures */

static ing *new_ing(void)
{
    /* small blocks: queries read several compressed blocks and the head */
    ing_opts o = { .chunk_block_size = 2048, .chunk_target_size = 16384,
                   .max_chunk_age_ns = 24 * 3600 * SEC };
    ing *g = NULL;
    assert_int_equal(ing_create(&o, &g), LK_OK);
    return g;
}

static void push_n(ing *g, const char *labels, const lk_entry *e, size_t n)
{
    tst_stream s;
    tst_stream_init(&s, labels);
    lk_buf err = { 0 };
    ing_push_result res;
    int rc = ing_push(g, FAKE, &s.labels, lk_buf_str(&s.canonical), s.fp, e, n, &res, &err);
    if (rc)
        fail_msg("push %s: %s", labels, err.p ? err.p : "?");
    assert_int_equal(res.accepted, n);
    tst_stream_free(&s);
    lk_buf_free(&err);
}

static void push1(ing *g, const char *labels, int64_t ts, const char *line)
{
    lk_entry e = { .ts = ts, .line = lk_str_c(line) };
    push_n(g, labels, &e, 1);
}

typedef struct opts {
    int max_series;
    int threads;
    bool instant;
    int64_t deadline;
    qm_query *mem;
} opts;

static int eval_opts(ing *g, const char *query, int64_t start, int64_t end, int64_t step,
                     const opts *o, lm_result *r, lk_buf *err)
{
    logql_expr *e = NULL;
    lk_buf perr = { 0 };
    if (logql_parse(lk_str_c(query), &e, &perr) != LK_OK)
        fail_msg("parse %s: %s", query, perr.p);
    lk_buf_free(&perr);
    lm_query q = { .g = g, .tenant = FAKE, .expr = e, .start = start, .end = end, .step = step,
                   .max_series = o->max_series, .threads = o->threads, .instant = o->instant,
                   .deadline_ns = o->deadline, .mem = o->mem };
    memset(r, 0, sizeof(*r));
    int rc = lm_eval(&q, r, err);
    logql_expr_free(e);
    return rc;
}

static void eval_ok(ing *g, const char *query, int64_t start, int64_t end, int64_t step,
                    lm_result *r)
{
    opts o = { .threads = 2 };
    lk_buf err = { 0 };
    int rc = eval_opts(g, query, start, end, step, &o, r, &err);
    if (rc)
        fail_msg("eval %s: %d %s", query, rc, err.p ? err.p : "");
    lk_buf_free(&err);
}

static int eval_err(ing *g, const char *query, int64_t start, int64_t end, int64_t step,
                    const opts *o, lk_buf *err)
{
    lm_result r;
    int rc = eval_opts(g, query, start, end, step, o, &r, err);
    if (rc == LK_OK)
        lm_result_free(&r);
    return rc;
}

static const lm_series *find(const lm_result *r, const char *labels)
{
    lk_buf b = { 0 };
    const lm_series *found = NULL;
    for (size_t i = 0; i < r->n_series && !found; i++) {
        lk_buf_reset(&b);
        labels_canonical(&r->series[i].labels, &b);
        if (strcmp(b.p, labels) == 0)
            found = &r->series[i];
    }
    lk_buf_free(&b);
    return found;
}

static void expect_point(const lm_result *r, const char *labels, size_t step, double want)
{
    const lm_series *s = find(r, labels);
    if (!s)
        fail_msg("no series %s", labels);
    if (!s->present[step])
        fail_msg("%s: no value at step %zu (want %g)", labels, step, want);
    double got = s->v[step];
    if (isnan(want) ? !isnan(got) : fabs(got - want) > 1e-9 * fmax(1, fabs(want)))
        fail_msg("%s step %zu: got %.17g want %.17g", labels, step, got, want);
}

static void expect_nopoint(const lm_result *r, const char *labels, size_t step)
{
    const lm_series *s = find(r, labels);
    if (s && s->present[step])
        fail_msg("%s: unexpected value %g at step %zu", labels, s->v[step], step);
}

static double instant(ing *g, const char *query, int64_t t, const char *labels)
{
    lm_result r;
    eval_ok(g, query, t, t, 0, &r);
    const lm_series *s = find(&r, labels);
    if (!s || !s->present[0])
        fail_msg("%s: no series %s", query, labels);
    double v = s->v[0];
    lm_result_free(&r);
    return v;
}

/* ---- window bounds */

static void test_window_bounds(void **state)
{
    (void)state;
    ing *g = new_ing();
    push1(g, "{app=\"a\"}", T0, "x");
    push1(g, "{app=\"a\"}", T0 + MIN, "x");
    push1(g, "{app=\"a\"}", T0 + 2 * MIN, "x");
    const char *S = "{app=\"a\"}";
    /* (t - range, t]: the sample at t counts, the one at t - range does not */
    assert_true(instant(g, "count_over_time({app=\"a\"}[1m])", T0 + 2 * MIN, S) == 1);
    assert_true(instant(g, "count_over_time({app=\"a\"}[1m])", T0 + MIN, S) == 1);
    assert_true(instant(g, "count_over_time({app=\"a\"}[61s])", T0 + MIN, S) == 2);
    assert_true(instant(g, "count_over_time({app=\"a\"}[1m])", T0 + MIN - 1, S) == 1);

    lm_result r;
    /* range == step: one bucket per window */
    eval_ok(g, "count_over_time({app=\"a\"}[1m])", T0, T0 + 3 * MIN, MIN, &r);
    assert_int_equal(r.n_steps, 4);
    expect_point(&r, S, 0, 1);
    expect_point(&r, S, 1, 1);
    expect_point(&r, S, 2, 1);
    expect_nopoint(&r, S, 3);
    lm_result_free(&r);
    /* range a multiple of step: two buckets per window */
    eval_ok(g, "count_over_time({app=\"a\"}[2m])", T0, T0 + 3 * MIN, MIN, &r);
    expect_point(&r, S, 0, 1);
    expect_point(&r, S, 1, 2);
    expect_point(&r, S, 2, 2);
    expect_point(&r, S, 3, 1);
    lm_result_free(&r);
    /* range not a multiple of step: per-step windows */
    eval_ok(g, "count_over_time({app=\"a\"}[90s])", T0, T0 + 3 * MIN, MIN, &r);
    expect_point(&r, S, 0, 1);
    expect_point(&r, S, 1, 2);
    expect_point(&r, S, 2, 2);
    expect_point(&r, S, 3, 1);
    lm_result_free(&r);
    /* range shorter than step: samples between windows count nowhere */
    eval_ok(g, "count_over_time({app=\"a\"}[30s])", T0 - 30 * SEC, T0 + 3 * MIN, 90 * SEC, &r);
    expect_nopoint(&r, S, 0);          /* (T0-60s, T0-30s] */
    expect_point(&r, S, 1, 1);      /* (T0+30s, T0+60s] */
    expect_nopoint(&r, S, 2);          /* (T0+120s, T0+150s]: T0+120s excluded */
    lm_result_free(&r);
    /* a range far longer than the data, over a day: cells come by page */
    eval_ok(g, "count_over_time({app=\"a\"}[30d])", T0 - 12 * 60 * MIN, T0 + 12 * 60 * MIN, MIN, &r);
    assert_int_equal(r.n_steps, 1441);
    expect_nopoint(&r, S, 719);
    expect_point(&r, S, 720, 1);
    expect_point(&r, S, 721, 2);
    expect_point(&r, S, 1440, 3);
    lm_result_free(&r);
    /* rate is count / range seconds, without extrapolation */
    assert_true(instant(g, "rate({app=\"a\"}[2m])", T0 + 2 * MIN, S) == 2.0 / 120);
    ing_destroy(g);
}

/* ---- every range function against a brute-force reference */

typedef struct rsample {
    int64_t ts;
    double v;
    size_t len;
} rsample;

static int cmp_rs(const void *a, const void *b)
{
    const rsample *x = a, *y = b;
    return (x->ts > y->ts) - (x->ts < y->ts);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The reference: f over the samples of (lo, hi]; false when there are none
 * (absent: true exactly then). */
static bool reference(const char *f, const rsample *s, size_t n, int64_t lo, int64_t hi,
                      int64_t range, double *out)
{
    double w[4096];
    int64_t wt[4096];
    size_t k = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].ts > lo && s[i].ts <= hi) {
            wt[k] = s[i].ts;
            bytes += s[i].len;
            w[k++] = s[i].v;
        }
    }
    double secs = (double)range / 1e9;
    if (!strcmp(f, "absent_over_time")) {
        *out = 1;
        return k == 0;
    }
    if (k == 0)
        return false;
    double sum = 0, mn = w[0], mx = w[0];
    for (size_t i = 0; i < k; i++) {
        sum += w[i];
        mn = fmin(mn, w[i]);
        mx = fmax(mx, w[i]);
    }
    double mean = sum / (double)k, var = 0;
    for (size_t i = 0; i < k; i++)
        var += (w[i] - mean) * (w[i] - mean);
    var /= (double)k;
    if (!strcmp(f, "count_over_time"))
        *out = (double)k;
    else if (!strcmp(f, "rate"))
        *out = (double)k / secs;
    else if (!strcmp(f, "bytes_over_time"))
        *out = (double)bytes;
    else if (!strcmp(f, "bytes_rate"))
        *out = (double)bytes / secs;
    else if (!strcmp(f, "sum_over_time"))
        *out = sum;
    else if (!strcmp(f, "rate_unwrap"))
        *out = sum / secs;
    else if (!strcmp(f, "avg_over_time"))
        *out = mean;
    else if (!strcmp(f, "min_over_time"))
        *out = mn;
    else if (!strcmp(f, "max_over_time"))
        *out = mx;
    else if (!strcmp(f, "first_over_time"))
        *out = w[0];
    else if (!strcmp(f, "last_over_time"))
        *out = w[k - 1];
    else if (!strcmp(f, "stdvar_over_time"))
        *out = var;
    else if (!strcmp(f, "stddev_over_time"))
        *out = sqrt(var);
    else if (!strcmp(f, "quantile_over_time")) {
        qsort(w, k, sizeof(*w), cmp_dbl);
        double rank = 0.3 * (double)(k - 1), lower = floor(rank);
        size_t up = (size_t)lower + 1 < k ? (size_t)lower + 1 : k - 1;
        *out = w[(size_t)lower] * (1 - (rank - lower)) + w[up] * (rank - lower);
    } else if (!strcmp(f, "rate_counter")) {
        if (k < 2) {
            *out = 0;
        } else {
            double res = w[k - 1] - w[0], last = 0;
            for (size_t i = 0; i < k; i++) {
                if (w[i] < last)
                    res += last;
                last = w[i];
            }
            double to_start = (double)(range / 1000000) / 1000, to_end = 0;
            double sampled = (double)(wt[k - 1] - wt[0]) / 1000;
            double avg = sampled / (double)(k - 1);
            if (res > 0 && w[0] >= 0 && sampled * (w[0] / res) < to_start)
                to_start = sampled * (w[0] / res);
            double iv = sampled + (to_start < avg * 1.1 ? to_start : avg / 2) +
                        (to_end < avg * 1.1 ? to_end : avg / 2);
            *out = res * (iv / sampled) / secs;
        }
    } else {
        fail_msg("no reference for %s", f);
    }
    return true;
}

static tst_rng rng = { 0x9e3779b97f4a7c15ull };

static void check_against_reference(ing *g, const char *f, const rsample *s, size_t n,
                                    int64_t start, int64_t end, int64_t step, int64_t range,
                                    int64_t offset, int threads)
{
    char q[512], dur[32], off[48] = "";
    snprintf(dur, sizeof dur, "%llds", (long long)(range / SEC));
    if (offset)
        snprintf(off, sizeof off, " offset %llds", (long long)(offset / SEC));
    const char *sel = "{app=\"r\"}";
    if (!strcmp(f, "count_over_time") || !strcmp(f, "rate") || !strcmp(f, "bytes_over_time") ||
        !strcmp(f, "bytes_rate") || !strcmp(f, "absent_over_time"))
        snprintf(q, sizeof q, "%s(%s[%s]%s)", f, sel, dur, off);
    else if (!strcmp(f, "quantile_over_time"))
        snprintf(q, sizeof q, "quantile_over_time(0.3, %s | logfmt v | unwrap v [%s]%s)", sel, dur,
                 off);
    else if (!strcmp(f, "rate_unwrap"))
        snprintf(q, sizeof q, "rate(%s | logfmt v | unwrap v [%s]%s)", sel, dur, off);
    else
        snprintf(q, sizeof q, "%s(%s | logfmt v | unwrap v [%s]%s)", f, sel, dur, off);
    opts o = { .threads = threads };
    lm_result r;
    lk_buf err = { 0 };
    int rc = eval_opts(g, q, start, end, step, &o, &r, &err);
    if (rc)
        fail_msg("%s: %d %s", q, rc, err.p);
    lk_buf_free(&err);
    const char *want_labels = !strcmp(f, "absent_over_time") ? "{app=\"r\"}" : "{app=\"r\"}";
    const lm_series *se = find(&r, want_labels);
    for (size_t i = 0; i < r.n_steps; i++) {
        int64_t t = start + (int64_t)i * step - offset;
        double want = 0;
        bool has = reference(f, s, n, t - range, t, range, &want);
        bool got = se && se->present[i];
        if (has != got) {
            for (size_t j = 0; j < n; j++)
                if (s[j].ts > t - range && s[j].ts <= t)
                    print_message("in window: %lld %g\n", (long long)((s[j].ts - T0) / SEC), s[j].v);
        }
        if (has != got)
            fail_msg("%s [%lld..%lld step %lld] step %zu: present %d, want %d", q,
                     (long long)((start - T0) / SEC), (long long)((end - T0) / SEC),
                     (long long)(step / SEC), i, got, has);
        if (has && fabs(se->v[i] - want) > 1e-9 * fmax(1, fabs(want)))
            fail_msg("%s step %zu: got %.17g want %.17g", q, i, se->v[i], want);
    }
    lm_result_free(&r);
}

static void test_range_functions_reference(void **state)
{
    (void)state;
    ing *g = new_ing();
    enum { N = 600 };
    static rsample s[N];
    lk_entry *e = calloc(N, sizeof(*e));
    char **lines = calloc(N, sizeof(*lines));
    int64_t ts = T0 - 30 * MIN;
    for (size_t i = 0; i < N; i++) {
        /* a 1s grid, so samples fall on window bounds; some gaps */
        ts += (int64_t)(1 + tst_rand(&rng) % (i % 97 == 0 ? 400 : 20)) * SEC;
        double v = (double)(tst_rand(&rng) % 1000) / 8.0;
        if (i % 50 == 25)
            v = 1; /* counter resets for rate_counter */
        lines[i] = malloc(64);
        snprintf(lines[i], 64, "v=%g seq=%zu%s", v, i, i % 3 ? "" : " pad=xxxxxxxx");
        s[i] = (rsample){ ts, v, strlen(lines[i]) };
        e[i] = (lk_entry){ .ts = ts, .line = lk_str_c(lines[i]) };
    }
    push_n(g, "{app=\"r\"}", e, N);
    qsort(s, N, sizeof(*s), cmp_rs);
    static const char *const fns[] = {
        "count_over_time", "rate", "bytes_over_time", "bytes_rate", "absent_over_time",
        "sum_over_time", "rate_unwrap", "avg_over_time", "min_over_time", "max_over_time",
        "first_over_time", "last_over_time", "stdvar_over_time", "stddev_over_time",
        "quantile_over_time", "rate_counter",
    };
    /* {step, range}: equal, multiples (bucket mode), not multiples (step
     * mode, a difference array for counts and bytes), shorter than the step
     * (gaps), a window of more buckets than bucket mode takes */
    static const int64_t shapes[][2] = { { 60, 60 }, { 60, 300 }, { 30, 600 }, { 60, 90 },
                                         { 45, 100 }, { 120, 30 }, { 7, 60 }, { 1, 700 },
                                         { 3, 3600 }, { 1, 7200 } };
    for (size_t f = 0; f < sizeof(fns) / sizeof(*fns); f++) {
        for (size_t k = 0; k < sizeof(shapes) / sizeof(*shapes); k++) {
            int64_t step = shapes[k][0] * SEC, range = shapes[k][1] * SEC;
            int64_t start = T0 - 10 * MIN + (int64_t)(tst_rand(&rng) % 60) * SEC;
            /* short steps: more than one page (512) of cells per series */
            int64_t steps = shapes[k][0] < 10 ? 600 + (int64_t)(tst_rand(&rng) % 600) : 1 + (int64_t)(tst_rand(&rng) % 90);
            int64_t end = start + steps * step;
            int64_t offset = k % 3 == 2 ? 5 * MIN : 0;
            check_against_reference(g, fns[f], s, N, start, end, step, range, offset,
                                    1 + (int)(k % 3));
        }
        /* instant queries */
        for (int i = 0; i < 5; i++) {
            int64_t t = T0 + (int64_t)(tst_rand(&rng) % 3600) * SEC;
            check_against_reference(g, fns[f], s, N, t, t, 0, (int64_t)(1 + tst_rand(&rng) % 10) * MIN,
                                    0, 2);
        }
    }
    for (size_t i = 0; i < N; i++)
        free(lines[i]);
    free(lines);
    free(e);
    ing_destroy(g);
}

/* ---- single functions */

static void test_quantile(void **state)
{
    (void)state;
    ing *g = new_ing();
    for (int i = 1; i <= 4; i++) {
        char line[16];
        snprintf(line, sizeof line, "v=%d", 5 - i); /* 4 3 2 1: sorted by the function */
        push1(g, "{app=\"q\"}", T0 + i * SEC, line);
    }
    const char *S = "{app=\"q\"}";
    assert_true(instant(g, "quantile_over_time(0.5, {app=\"q\"} | logfmt | unwrap v [1m])",
                        T0 + MIN, S) == 2.5);
    assert_true(fabs(instant(g, "quantile_over_time(0.99, {app=\"q\"} | logfmt | unwrap v [1m])",
                             T0 + MIN, S) -
                     3.97) < 1e-12);
    assert_true(instant(g, "quantile_over_time(0, {app=\"q\"} | logfmt | unwrap v [1m])",
                        T0 + MIN, S) == 1);
    assert_true(instant(g, "quantile_over_time(1, {app=\"q\"} | logfmt | unwrap v [1m])",
                        T0 + MIN, S) == 4);
    double vals[] = { 3, NAN, 1 };
    assert_true(isnan(lm_quantile(0, vals, 3))); /* NaN sorts first */
    assert_true(lm_quantile(2, vals, 3) == INFINITY);
    assert_true(lm_quantile(-1, vals, 3) == -INFINITY);
    assert_true(isnan(lm_quantile(0.5, vals, 0)));
    ing_destroy(g);
}

static void test_rate_counter(void **state)
{
    (void)state;
    ing *g = new_ing();
    const char *v[] = { "c=10", "c=20", "c=5", "c=15" };
    for (int i = 0; i < 4; i++)
        push1(g, "{app=\"c\"}", T0 + i * 10 * SEC, v[i]);
    /* increase 5 plus the reset (20) = 25; Loki's extrapolation runs on
     * nanosecond times against a range start in milliseconds: 60 "to start",
     * 3e7 sampled, so the factor is (3e7 + 60) / 3e7 */
    double want = 25 * ((3e7 + 60) / 3e7) / 60;
    double got = instant(g, "rate_counter({app=\"c\"} | logfmt | unwrap c [1m])", T0 + 30 * SEC,
                         "{app=\"c\"}");
    assert_true(fabs(got - want) < 1e-12);
    /* a single sample: 0 */
    assert_true(instant(g, "rate_counter({app=\"c\"} | logfmt | unwrap c [5s])", T0 + 30 * SEC,
                        "{app=\"c\"}") == 0);
    ing_destroy(g);
}

static void test_absent(void **state)
{
    (void)state;
    ing *g = new_ing();
    push1(g, "{app=\"a\", env=\"prod\"}", T0, "x");
    lm_result r;
    eval_ok(g, "absent_over_time({app=\"a\", env=~\"p.*\", team=\"x\", team=\"y\"}[1m])",
            T0 - MIN, T0 + 2 * MIN, MIN, &r);
    /* env is a regex and team matched twice: only app stays */
    assert_int_equal(r.n_series, 1);
    expect_point(&r, "{app=\"a\"}", 0, 1);
    expect_point(&r, "{app=\"a\"}", 1, 1); /* no stream matches team */
    lm_result_free(&r);
    eval_ok(g, "absent_over_time({app=\"a\"}[1m])", T0 - MIN, T0 + 2 * MIN, MIN, &r);
    expect_point(&r, "{app=\"a\"}", 0, 1);
    expect_nopoint(&r, "{app=\"a\"}", 1); /* the entry at T0 */
    expect_point(&r, "{app=\"a\"}", 2, 1);
    lm_result_free(&r);
    ing_destroy(g);
}

static void test_offset(void **state)
{
    (void)state;
    ing *g = new_ing();
    for (int i = 0; i < 10; i++)
        push1(g, "{app=\"o\"}", T0 + i * MIN, "x");
    const char *S = "{app=\"o\"}";
    /* at T0+9m, offset 5m: the window (T0+2m, T0+4m] */
    assert_true(instant(g, "count_over_time({app=\"o\"}[2m] offset 5m)", T0 + 9 * MIN, S) == 2);
    lm_result r;
    eval_ok(g, "sum(count_over_time({app=\"o\"}[1m] offset 10m))", T0, T0 + 20 * MIN, MIN, &r);
    expect_nopoint(&r, "{}", 9);
    expect_point(&r, "{}", 10, 1);
    expect_point(&r, "{}", 19, 1);
    expect_nopoint(&r, "{}", 20);
    lm_result_free(&r);
    ing_destroy(g);
}

/* ---- vector aggregations */

static ing *pods(void)
{
    ing *g = new_ing();
    /* counts in the window (T0 - 1m, T0]: a/x 1, a/y 2, b/x 3, b/z 6 */
    const struct {
        const char *labels;
        int n;
    } s[] = { { "{app=\"a\", pod=\"x\"}", 1 }, { "{app=\"a\", pod=\"y\"}", 2 },
              { "{app=\"b\", pod=\"x\"}", 3 }, { "{app=\"b\", pod=\"z\"}", 6 } };
    for (size_t i = 0; i < 4; i++) {
        for (int j = 0; j < s[i].n; j++)
            push1(g, s[i].labels, T0 - j * SEC, "line");
    }
    return g;
}

#define CNT "count_over_time({app=~\"a|b\"}[1m])"

static void test_vector_aggregations(void **state)
{
    (void)state;
    ing *g = pods();
    assert_true(instant(g, "sum by (app) (" CNT ")", T0, "{app=\"a\"}") == 3);
    assert_true(instant(g, "sum(" CNT ") by (app)", T0, "{app=\"b\"}") == 9);
    assert_true(instant(g, "sum(" CNT ")", T0, "{}") == 12);
    assert_true(instant(g, "avg by (app) (" CNT ")", T0, "{app=\"b\"}") == 4.5);
    assert_true(instant(g, "min by (pod) (" CNT ")", T0, "{pod=\"x\"}") == 1);
    assert_true(instant(g, "max by (pod) (" CNT ")", T0, "{pod=\"x\"}") == 3);
    assert_true(instant(g, "count by (pod) (" CNT ")", T0, "{pod=\"x\"}") == 2);
    assert_true(instant(g, "stdvar by (app) (" CNT ")", T0, "{app=\"b\"}") == 2.25);
    assert_true(instant(g, "stddev by (app) (" CNT ")", T0, "{app=\"b\"}") == 1.5);
    /* without drops the listed labels */
    assert_true(instant(g, "sum without (pod) (" CNT ")", T0, "{app=\"a\"}") == 3);
    assert_true(instant(g, "sum without (app) (" CNT ")", T0, "{pod=\"x\"}") == 4);
    /* a grouping label that no series has gives {} */
    assert_true(instant(g, "sum by (nope) (" CNT ")", T0, "{}") == 12);
    /* sum pushed down into the extractor, without a parser */
    assert_true(instant(g, "sum by (app) (rate({app=~\"a|b\"}[1m]))", T0, "{app=\"b\"}") ==
                9.0 / 60);
    ing_destroy(g);
}

static void test_topk_bottomk(void **state)
{
    (void)state;
    ing *g = pods();
    lm_result r;
    eval_ok(g, "topk(2, " CNT ")", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{app=\"b\", pod=\"z\"}", 0, 6);
    expect_point(&r, "{app=\"b\", pod=\"x\"}", 0, 3); /* the full label set stays */
    lm_result_free(&r);
    eval_ok(g, "bottomk(1, " CNT ") by (app)", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{app=\"a\", pod=\"x\"}", 0, 1);
    expect_point(&r, "{app=\"b\", pod=\"x\"}", 0, 3);
    lm_result_free(&r);
    ing_destroy(g);

    /* ties, as Go's container/heap breaks them with the input in label
     * order: a, b equal at 5, c at 7 */
    g = new_ing();
    const char *names[] = { "{s=\"a\"}", "{s=\"b\"}", "{s=\"c\"}" };
    const int n[] = { 5, 5, 7 };
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < n[i]; j++)
            push1(g, names[i], T0 - j * SEC, "x");
    }
    eval_ok(g, "topk(1, count_over_time({s=~\"a|b\"}[1m]))", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 1);
    expect_point(&r, "{s=\"a\"}", 0, 5); /* the first stays: replacing needs a greater value */
    lm_result_free(&r);
    eval_ok(g, "topk(2, count_over_time({s=~\".+\"}[1m]))", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{s=\"b\"}", 0, 5); /* heap order evicts a */
    expect_point(&r, "{s=\"c\"}", 0, 7);
    lm_result_free(&r);
    ing_destroy(g);
}

static void test_sort(void **state)
{
    (void)state;
    ing *g = pods();
    opts o = { .threads = 2, .instant = true };
    lm_result r;
    lk_buf err = { 0 };
    assert_int_equal(eval_opts(g, "sort_desc(" CNT ")", T0, T0, 0, &o, &r, &err), LK_OK);
    assert_true(r.sorted);
    assert_int_equal(r.n_series, 4);
    double prev = INFINITY;
    for (size_t i = 0; i < r.n_series; i++) {
        assert_true(r.series[i].v[0] <= prev);
        prev = r.series[i].v[0];
    }
    lm_result_free(&r);
    assert_int_equal(eval_opts(g, "sort(" CNT ") * 2", T0, T0, 0, &o, &r, &err), LK_OK);
    assert_true(r.sorted);
    for (size_t i = 1; i < r.n_series; i++)
        assert_true(r.series[i - 1].v[0] <= r.series[i].v[0]);
    assert_true(r.series[0].v[0] == 2);
    lm_result_free(&r);
    /* a range query is in label order */
    o.instant = false;
    assert_int_equal(eval_opts(g, "sort_desc(" CNT ")", T0, T0 + MIN, MIN, &o, &r, &err), LK_OK);
    assert_false(r.sorted);
    for (size_t i = 1; i < r.n_series; i++)
        assert_true(lm_labels_cmp(&r.series[i - 1].labels, &r.series[i].labels) < 0);
    lm_result_free(&r);
    lk_buf_free(&err);
    ing_destroy(g);
}

/* ---- binary operators */

static void test_binop_scalars(void **state)
{
    (void)state;
    ing *g = pods();
    lm_result r;
    eval_ok(g, "1 + 1", T0, T0 + 2 * MIN, MIN, &r);
    assert_true(r.scalar);
    assert_int_equal(r.n_steps, 3);
    assert_true(r.scalar_v[2] == 2);
    lm_result_free(&r);
    eval_ok(g, "vector(1) + vector(1)", T0, T0, 0, &r);
    assert_false(r.scalar);
    expect_point(&r, "{}", 0, 2);
    lm_result_free(&r);
    /* vector-scalar on both sides; comparisons filter and keep the value */
    assert_true(instant(g, "2 * " CNT " - 1", T0, "{app=\"b\", pod=\"z\"}") == 11);
    assert_true(instant(g, "10 - " CNT, T0, "{app=\"b\", pod=\"z\"}") == 4);
    assert_true(instant(g, "2 ^ " CNT, T0, "{app=\"b\", pod=\"x\"}") == 8);
    assert_true(instant(g, CNT " % 4", T0, "{app=\"b\", pod=\"z\"}") == 2);
    assert_true(isnan(instant(g, CNT " / 0", T0, "{app=\"b\", pod=\"z\"}")));
    assert_true(isnan(instant(g, CNT " % 0", T0, "{app=\"b\", pod=\"z\"}")));
    eval_ok(g, CNT " > 2", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{app=\"b\", pod=\"x\"}", 0, 3);
    lm_result_free(&r);
    eval_ok(g, "2 < " CNT, T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{app=\"b\", pod=\"z\"}", 0, 6); /* the vector's value */
    lm_result_free(&r);
    eval_ok(g, CNT " > bool 2", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 4);
    expect_point(&r, "{app=\"a\", pod=\"x\"}", 0, 0);
    expect_point(&r, "{app=\"b\", pod=\"z\"}", 0, 1);
    lm_result_free(&r);
    ing_destroy(g);
}

#define BYAPP "sum by (app, pod) (" CNT ")"

static void test_binop_matching(void **state)
{
    (void)state;
    ing *g = pods();
    lm_result r;
    /* one-to-one on the full label set */
    eval_ok(g, CNT " + " CNT, T0, T0, 0, &r);
    assert_int_equal(r.n_series, 4);
    expect_point(&r, "{app=\"b\", pod=\"z\"}", 0, 12);
    lm_result_free(&r);
    /* on(): the result has the on labels only */
    eval_ok(g, "sum by (app) (" CNT ") / on (app) sum by (app, nope) (" CNT ")", T0, T0, 0, &r);
    expect_point(&r, "{app=\"a\"}", 0, 1);
    lm_result_free(&r);
    /* ignoring(pod) many-to-one needs group_left */
    opts o = { .threads = 1 };
    lk_buf err = { 0 };
    assert_int_equal(eval_err(g, CNT " / ignoring (pod) sum by (app) (" CNT ")", T0, T0, 0, &o,
                              &err),
                     LK_EINVAL);
    assert_non_null(strstr(err.p, "multiple matches for labels: many-to-one matching must be "
                                  "explicit (group_left/group_right)"));
    lk_buf_reset(&err);
    eval_ok(g, CNT " / ignoring (pod) group_left sum by (app) (" CNT ")", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 4);
    expect_point(&r, "{app=\"b\", pod=\"z\"}", 0, 6.0 / 9);
    expect_point(&r, "{app=\"a\", pod=\"x\"}", 0, 1.0 / 3);
    lm_result_free(&r);
    /* group_left(label) copies the label from the one side */
    eval_ok(g,
            CNT " * on (app) group_left (tier) label_replace(sum by (app) (" CNT
                "), \"tier\", \"gold-$1\", \"app\", \"(.*)\")",
            T0, T0, 0, &r);
    expect_point(&r, "{app=\"b\", pod=\"z\", tier=\"gold-b\"}", 0, 54);
    lm_result_free(&r);
    /* group_right: the right side is "many", the value is still left op right */
    eval_ok(g, "sum by (app) (" CNT ") - on (app) group_right " CNT, T0, T0, 0, &r);
    expect_point(&r, "{app=\"b\", pod=\"z\"}", 0, 3);
    lm_result_free(&r);
    /* duplicates on the "one" side */
    assert_int_equal(eval_err(g, CNT " / on (app) group_left " CNT, T0, T0, 0, &o, &err),
                     LK_EINVAL);
    assert_non_null(strstr(err.p, "found duplicate series on the right hand-side"));
    lk_buf_reset(&err);
    assert_int_equal(eval_err(g, CNT " / on (app) group_right " CNT, T0, T0, 0, &o, &err),
                     LK_EINVAL);
    assert_non_null(strstr(err.p, "found duplicate series on the left hand-side"));
    lk_buf_reset(&err);
    /* comparisons between vectors keep the left value, or give 0/1 */
    eval_ok(g, CNT " > on (app) group_left sum by (app) (" CNT ") / 3", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{app=\"a\", pod=\"y\"}", 0, 2);
    expect_point(&r, "{app=\"b\", pod=\"z\"}", 0, 6);
    lm_result_free(&r);
    eval_ok(g, CNT " >= bool " CNT, T0, T0, 0, &r);
    expect_point(&r, "{app=\"a\", pod=\"y\"}", 0, 1);
    lm_result_free(&r);
    lk_buf_free(&err);
    ing_destroy(g);
}

static void test_binop_logical(void **state)
{
    (void)state;
    ing *g = pods();
    lm_result r;
    eval_ok(g, CNT " and " CNT " > 2", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{app=\"b\", pod=\"x\"}", 0, 3);
    lm_result_free(&r);
    eval_ok(g, CNT " unless " CNT " > 2", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{app=\"a\", pod=\"y\"}", 0, 2);
    lm_result_free(&r);
    eval_ok(g, CNT " > 5 or " CNT " < 2", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{app=\"a\", pod=\"x\"}", 0, 1);
    expect_point(&r, "{app=\"b\", pod=\"z\"}", 0, 6);
    lm_result_free(&r);
    /* on(): matched by app only */
    eval_ok(g, CNT " and on (app) " CNT " > 5", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{app=\"b\", pod=\"x\"}", 0, 3);
    lm_result_free(&r);
    /* or adds the right side's series whose signature the left lacks */
    eval_ok(g, "count_over_time({app=\"a\", pod=\"x\"}[1m]) or vector(7)", T0 - 2 * MIN, T0,
            MIN, &r);
    expect_point(&r, "{}", 0, 7);
    expect_point(&r, "{}", 2, 7);
    expect_point(&r, "{app=\"a\", pod=\"x\"}", 2, 1);
    lm_result_free(&r);
    /* on (): one signature, so the right side only where the left has nothing */
    eval_ok(g, "count_over_time({app=\"a\", pod=\"x\"}[1m]) or on () vector(7)", T0 - 2 * MIN,
            T0, MIN, &r);
    expect_point(&r, "{}", 0, 7);
    expect_nopoint(&r, "{}", 2);
    expect_point(&r, "{app=\"a\", pod=\"x\"}", 2, 1);
    lm_result_free(&r);
    ing_destroy(g);
}

/* ---- label_replace, vector() */

static void test_label_replace(void **state)
{
    (void)state;
    ing *g = pods();
    lm_result r;
    eval_ok(g, "label_replace(" CNT ", \"dst\", \"$1-${2}x$$\", \"pod\", \"(.)(.*)\")", T0, T0,
            0, &r);
    expect_point(&r, "{app=\"b\", dst=\"z-x$\", pod=\"z\"}", 0, 6);
    lm_result_free(&r);
    /* no match: unchanged; named groups; an empty result removes dst */
    eval_ok(g, "label_replace(" CNT ", \"app\", \"${p}\", \"pod\", \"(?P<p>z)\")", T0, T0, 0,
            &r);
    expect_point(&r, "{app=\"z\", pod=\"z\"}", 0, 6);
    expect_point(&r, "{app=\"a\", pod=\"x\"}", 0, 1);
    lm_result_free(&r);
    eval_ok(g, "label_replace(" CNT ", \"app\", \"$9\", \"app\", \"a\")", T0, T0, 0, &r);
    expect_point(&r, "{pod=\"x\"}", 0, 1); /* a/x: app removed */
    expect_point(&r, "{pod=\"y\"}", 0, 2);
    expect_point(&r, "{app=\"b\", pod=\"x\"}", 0, 3);
    lm_result_free(&r);
    /* $1x is the group named "1x", which does not exist */
    eval_ok(g, "label_replace(" CNT ", \"d\", \"$1x\", \"pod\", \"(z)\")", T0, T0, 0, &r);
    expect_point(&r, "{app=\"b\", pod=\"z\"}", 0, 6);
    lm_result_free(&r);
    opts o = { .threads = 1 };
    lk_buf err = { 0 };
    assert_int_equal(
        eval_err(g, "label_replace(" CNT ", \"app\", \"same\", \"pod\", \"x\")", T0, T0, 0, &o,
                 &err),
        LK_EINVAL);
    assert_non_null(strstr(err.p, "vector cannot contain metrics with the same labelset"));
    lk_buf_free(&err);
    eval_ok(g, "vector(3)", T0, T0 + 2 * MIN, MIN, &r);
    assert_int_equal(r.n_series, 1);
    expect_point(&r, "{}", 2, 3);
    lm_result_free(&r);
    ing_destroy(g);
}

/* ---- limits and errors */

static void test_series_limit(void **state)
{
    (void)state;
    ing *g = pods();
    opts o = { .threads = 2, .max_series = 3 };
    lk_buf err = { 0 };
    assert_int_equal(eval_err(g, CNT, T0, T0, 0, &o, &err), LK_ELIMIT);
    assert_string_equal(err.p, "maximum of series (3) reached for a single query");
    lk_buf_reset(&err);
    /* the aggregated result is small enough */
    assert_int_equal(eval_err(g, "sum by (app) (" CNT ")", T0, T0, 0, &o, &err), LK_OK);
    /* topk materializes its input */
    assert_int_equal(eval_err(g, "topk(1, " CNT ")", T0, T0, 0, &o, &err), LK_ELIMIT);
    lk_buf_reset(&err);
    o.max_series = 4;
    assert_int_equal(eval_err(g, "topk(1, " CNT ")", T0, T0, 0, &o, &err), LK_OK);
    ing_destroy(g);

    /* inside a range aggregation, only series with samples count: 30 streams,
     * one line matches; the bound there is ten times the limit */
    g = new_ing();
    for (int i = 0; i < 30; i++) {
        char labels[32];
        snprintf(labels, sizeof labels, "{app=\"s\", i=\"%02d\"}", i);
        push1(g, labels, T0 - SEC, i == 7 ? "rare line" : "common line");
    }
    o.max_series = 1;
    assert_int_equal(eval_err(g, "count_over_time({app=\"s\"} |= \"rare\" [1m])", T0, T0, 0, &o,
                              &err),
                     LK_OK);
    assert_int_equal(eval_err(g, "sum(count_over_time({app=\"s\"}[1m]))", T0, T0, 0, &o, &err),
                     LK_OK);
    assert_int_equal(eval_err(g, "count(count_over_time({app=\"s\"}[1m]))", T0, T0, 0, &o, &err),
                     LK_ELIMIT);
    o.max_series = 3;
    lk_buf_reset(&err);
    assert_int_equal(eval_err(g, "count(count_over_time({app=\"s\"}[1m]))", T0, T0, 0, &o, &err),
                     LK_OK);
    lk_buf_free(&err);
    ing_destroy(g);
}

static void test_errors(void **state)
{
    (void)state;
    ing *g = new_ing();
    push1(g, "{app=\"j\"}", T0 - SEC, "{\"a\": 1}");
    push1(g, "{app=\"j\"}", T0 - 2 * SEC, "not json");
    opts o = { .threads = 2 };
    lk_buf err = { 0 };
    assert_int_equal(eval_err(g, "count_over_time({app=\"j\"} | json [1m])", T0, T0, 0, &o, &err),
                     LK_EINVAL);
    assert_non_null(strstr(err.p, "pipeline error: 'JSONParserErr' for series: '{__error__="));
    assert_non_null(strstr(err.p, "Use a label filter to intentionally skip this error."));
    lk_buf_reset(&err);
    /* skipping the errors, or aggregating them into a sum, works */
    assert_int_equal(eval_err(g, "count_over_time({app=\"j\"} | json | __error__=\"\" [1m])", T0,
                              T0, 0, &o, &err),
                     LK_OK);
    assert_int_equal(eval_err(g, "sum by (app) (count_over_time({app=\"j\"} | json [1m]))", T0,
                              T0, 0, &o, &err),
                     LK_EINVAL); /* the error keeps its labels through the push-down */
    lk_buf_reset(&err);
    /* the error only counts where it has a value */
    assert_int_equal(eval_err(g, "count_over_time({app=\"j\"} | json [1m])", T0 + 2 * MIN,
                              T0 + 3 * MIN, MIN, &o, &err),
                     LK_OK);
    /* a deadline in the past */
    o.deadline = lk_now_ns() - 1;
    assert_int_equal(eval_err(g, "count_over_time({app=\"j\"}[1m])", T0, T0, 0, &o, &err),
                     LK_ERANGE);
    o.deadline = 0;
    lk_buf_reset(&err);
    /* bad arguments */
    assert_int_equal(eval_err(g, "count_over_time({app=\"j\"}[1m])", T0, T0 + MIN, 0, &o, &err),
                     LK_EINVAL);
    lk_buf_reset(&err);
    assert_int_equal(eval_err(g, "count_over_time({app=\"j\"}[1m])", T0 + MIN, T0, MIN, &o, &err),
                     LK_EINVAL);
    lk_buf_reset(&err);
    assert_int_equal(eval_err(g, "{app=\"j\"}", T0, T0, 0, &o, &err), LK_EINVAL);
    lk_buf_reset(&err);
    /* variants are off, as in Loki by default, wherever they stand */
    assert_int_equal(eval_err(g, "variants(count_over_time({app=\"j\"}[1m])) of ({app=\"j\"}[1m])",
                              T0, T0 + MIN, MIN, &o, &err),
                     LK_EINVAL);
    assert_string_equal(err.p, "multi variant queries are disabled for this instance");
    lk_buf_reset(&err);
    assert_int_equal(eval_err(g, "2 * variants(rate({app=\"j\"}[1m])) of ({app=\"j\"}[1m])", T0,
                              T0, 0, &o, &err),
                     LK_EINVAL);
    assert_string_equal(err.p, "multi variant queries are disabled for this instance");
    lk_buf_free(&err);
    ing_destroy(g);
}

/* ---- threads, streams and metadata */

static void test_threads_agree(void **state)
{
    (void)state;
    ing *g = new_ing();
    for (int s = 0; s < 40; s++) {
        char labels[64];
        snprintf(labels, sizeof labels, "{app=\"t\", pod=\"p%02d\", shard=\"%d\"}", s, s % 3);
        lk_entry e[50];
        char lines[50][32];
        for (int i = 0; i < 50; i++) {
            snprintf(lines[i], sizeof lines[i], "v=%d", (s * 7 + i * 13) % 100);
            e[i] = (lk_entry){ .ts = T0 + (int64_t)(s * 50 + i) * 700 * LK_NS_PER_MS,
                               .line = lk_str_c(lines[i]) };
        }
        push_n(g, labels, e, 50);
    }
    /* the needle's inner token ("zebra", between separators) is what a
     * block's token filter can rule out */
    static const char *const qs[] = {
        "sum by (shard) (count_over_time({app=\"t\"}[5m]))",
        "count_over_time({app=\"t\"} | drop pod [2m])",
        "first_over_time({app=\"t\"} | logfmt | drop pod | unwrap v [3m])",
        "last_over_time({app=\"t\"} | logfmt | drop pod | unwrap v [3m]) by (shard)",
        "max_over_time({app=\"t\"} | logfmt | unwrap v [90s]) by (shard)",
        "quantile_over_time(0.9, {app=\"t\"} | logfmt | drop pod | unwrap v [4m])",
    };
    for (size_t q = 0; q < sizeof(qs) / sizeof(*qs); q++) {
        lm_result a, b;
        lk_buf err = { 0 };
        opts o1 = { .threads = 1 }, o8 = { .threads = 8 };
        assert_int_equal(eval_opts(g, qs[q], T0, T0 + 30 * MIN, MIN, &o1, &a, &err), LK_OK);
        assert_int_equal(eval_opts(g, qs[q], T0, T0 + 30 * MIN, MIN, &o8, &b, &err), LK_OK);
        assert_true(a.n_series > 0);
        assert_int_equal(a.n_series, b.n_series);
        for (size_t i = 0; i < a.n_series; i++) {
            assert_true(lm_labels_cmp(&a.series[i].labels, &b.series[i].labels) == 0);
            for (size_t t = 0; t < a.n_steps; t++) {
                assert_int_equal(a.series[i].present[t], b.series[i].present[t]);
                assert_true(fabs(a.series[i].v[t] - b.series[i].v[t]) < 1e-9);
            }
        }
        lm_result_free(&a);
        lm_result_free(&b);
        lk_buf_free(&err);
    }
    ing_destroy(g);
}

static void test_structured_metadata(void **state)
{
    (void)state;
    ing *g = new_ing();
    lk_label meta = { LK_STR("trace"), LK_STR("t1") };
    lk_entry e[2] = { { .ts = T0 - SEC, .line = LK_STR("a") },
                      { .ts = T0 - 2 * SEC, .line = LK_STR("bb"), .n_meta = 1, .meta = &meta } };
    push_n(g, "{app=\"m\"}", e, 2);
    lm_result r;
    /* the fast path hands entries with metadata to the extractor */
    eval_ok(g, "bytes_over_time({app=\"m\"}[1m])", T0, T0, 0, &r);
    assert_int_equal(r.n_series, 2);
    expect_point(&r, "{app=\"m\"}", 0, 1);
    expect_point(&r, "{app=\"m\", trace=\"t1\"}", 0, 2);
    lm_result_free(&r);
    /* and the sum push-down groups them as the extractor does */
    eval_ok(g, "sum by (trace) (count_over_time({app=\"m\"}[1m]))", T0, T0, 0, &r);
    expect_point(&r, "{}", 0, 1);
    expect_point(&r, "{trace=\"t1\"}", 0, 1);
    lm_result_free(&r);
    ing_destroy(g);
}

/* Issue 9 item 7: a range aggregation over many series of a parsed field,
 * read by two threads, stops at the query's memory limit with its message;
 * without a limit it answers as before, its matrices counted. */
static void test_memory_limit(void **state)
{
    (void)state;
    ing *g = new_ing();
    enum { N = 3000 };
    lk_entry *e = calloc(N, sizeof(*e));
    char(*lines)[32] = calloc(N, sizeof(*lines));
    for (int i = 0; i < N; i++) {
        snprintf(lines[i], sizeof lines[i], "user=u%d", i);
        e[i] = (lk_entry){ .ts = T0 - 60 * MIN + i * SEC, .line = lk_str_c(lines[i]) };
    }
    push_n(g, "{app=\"m\", n=\"1\"}", e, N / 2);
    push_n(g, "{app=\"m\", n=\"2\"}", e + N / 2, N - N / 2);
    const char *q = "sum by (user) (count_over_time({app=\"m\"} | logfmt [1m]))";
    qm_query mem;
    qm_begin(NULL, 100 * 1000, &mem);
    opts o = { .threads = 2, .mem = &mem };
    lm_result r;
    lk_buf err = { 0 };
    assert_int_equal(eval_opts(g, q, T0 - 60 * MIN, T0, MIN, &o, &r, &err), LK_ELIMIT);
    assert_non_null(strstr(err.p, "query memory limit (100000 bytes) reached for a single query"));
    lk_buf_free(&err);
    qm_end(&mem);
    qm_begin(NULL, 0, &mem);
    assert_int_equal(eval_opts(g, q, T0 - 60 * MIN, T0, MIN, &o, &r, &err), LK_OK);
    assert_int_equal(r.n_series, N);
    /* held now: the result's series and the sum's input (counted until the
     * end), each N series of 61 steps */
    assert_true(mem.used >= (int64_t)(2 * N * 61 * 9));
    assert_true(mem.peak >= mem.used);
    lm_result_free(&r);
    qm_end(&mem);
    assert_int_equal(mem.used, 0);
    free(lines);
    free(e);
    ing_destroy(g);
}

static void test_block_skipping(void **state)
{
    (void)state;
    ing *g = new_ing();
    enum { N = 2000 };
    lk_entry *e = calloc(N, sizeof(*e));
    char(*lines)[64] = calloc(N, sizeof(*lines));
    for (int i = 0; i < N; i++) {
        snprintf(lines[i], sizeof lines[i], "level=info msg=%s n=%d", i == 1234 ? "zebra" : "horse",
                 i);
        e[i] = (lk_entry){ .ts = T0 - 60 * MIN + i * SEC, .line = lk_str_c(lines[i]) };
    }
    push_n(g, "{app=\"k\"}", e, N);
    /* the needle's inner token ("zebra", between separators) is what a
     * block's token filter can rule out */
    static const char *const qs[] = {
        "count_over_time({app=\"k\"} |= \"=zebra \" [2h])",             /* fast path */
        "sum(count_over_time({app=\"k\"} |= \"=zebra \" | logfmt [2h]))", /* extractor */
    };
    for (size_t q = 0; q < 2; q++) {
        lm_result r;
        eval_ok(g, qs[q], T0, T0, 0, &r);
        assert_int_equal(r.n_series, 1);
        assert_true(r.series[0].v[0] == 1);
        assert_true(r.stats.blocks_skipped > 0);
        assert_true(r.stats.decompressed_lines < N / 2);
        lm_result_free(&r);
    }
    free(lines);
    free(e);
    ing_destroy(g);
}

/* ---- the HTTP answer */

typedef struct http_fx {
    lk_config cfg;
    api_state st;
} http_fx;

static void http_query(http_fx *f, bool range, const char *const *kv, api_resp *rs)
{
    api_req rq = { 0 };
    rq.st = &f->st;
    rq.tenant = FAKE;
    rq.method = "GET";
    size_t n = 0;
    while (kv[2 * n])
        n++;
    api_param *p = calloc(n, sizeof(*p));
    for (size_t i = 0; i < n; i++)
        p[i] = (api_param){ lk_str_c(kv[2 * i]), lk_str_c(kv[2 * i + 1]) };
    rq.params = p;
    rq.n_params = n;
    memset(rs, 0, sizeof(*rs));
    if (range)
        api_h_query_range(&rq, rs);
    else
        api_h_query(&rq, rs);
    free(p);
    lk_arena_free(&rq.arena);
}

static void expect_body(const api_resp *rs, int status, const char *needle)
{
    if (rs->status != status || !strstr(rs->body.p ? rs->body.p : "", needle))
        fail_msg("status %d body %s; want %d with %s", rs->status, rs->body.p, status, needle);
}

static void test_http(void **state)
{
    (void)state;
    http_fx f;
    memset(&f, 0, sizeof(f));
    config_defaults(&f.cfg);
    f.st.cfg = &f.cfg;
    f.st.ingester = pods();
    api_resp rs;
    const char *health[] = { "query", "vector(1)+vector(1)", "time", "4000000000", NULL };
    http_query(&f, false, health, &rs);
    expect_body(&rs, 200,
                "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
                "[{\"metric\":{},\"value\":[4000000000,\"2\"]}],\"stats\":{");
    lk_buf_free(&rs.body);
    const char *scalar[] = { "query", "0.1 * 3", "time", "1793491200.5", NULL };
    http_query(&f, false, scalar, &rs);
    expect_body(&rs, 200, "\"resultType\":\"scalar\",\"result\":[1793491200.5,\"0.30000000000000004\"]");
    lk_buf_free(&rs.body);
    const char *big[] = { "query", "vector(1e21) + vector(1e-7)", "time", "1793491200.123", NULL };
    http_query(&f, false, big, &rs);
    expect_body(&rs, 200, "\"value\":[1793491200.123,\"1000000000000000000000\"]");
    lk_buf_free(&rs.body);
    const char *specials[] = { "query", "vector(0) / vector(0) or vector(2) ^ vector(10000)", "time",
                               "1793491200", NULL };
    http_query(&f, false, specials, &rs);
    expect_body(&rs, 200, "\"value\":[1793491200,\"NaN\"]");
    lk_buf_free(&rs.body);
    const char *inf[] = { "query", "vector(2) ^ vector(10000) - vector(1e-7)", "time", "1793491200",
                          NULL };
    http_query(&f, false, inf, &rs);
    expect_body(&rs, 200, "\"+Inf\"");
    lk_buf_free(&rs.body);
    const char *small[] = { "query", "vector(1e-7)", "time", "1793491200", NULL };
    http_query(&f, false, small, &rs);
    expect_body(&rs, 200, "\"0.0000001\"");
    lk_buf_free(&rs.body);
    const char *sub[] = { "query", "vector(5e-324) * 3", "time", "1793491200", NULL };
    http_query(&f, false, sub, &rs);
    char want_sub[400] = "\"0.";
    for (int i = 0; i < 322; i++)
        strcat(want_sub, "0");
    strcat(want_sub, "15\"");
    expect_body(&rs, 200, want_sub); /* a subnormal has fewer digits */
    lk_buf_free(&rs.body);
    const char *neg[] = { "query", "vector(0) - vector(123456789012345680000)", "time", "1793491200",
                          NULL };
    http_query(&f, false, neg, &rs);
    expect_body(&rs, 200, "\"-123456789012345680000\"");
    lk_buf_free(&rs.body);
    const char *matrix[] = { "query", "sum by (app) (count_over_time({app=~\"a|b\"}[1m]))",
                             "start", "1793491140", "end", "1793491260", "step", "60", NULL };
    http_query(&f, true, matrix, &rs);
    expect_body(&rs, 200,
                "\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"app\":\"a\"},\"values\":"
                "[[1793491200,\"3\"]]},{\"metric\":{\"app\":\"b\"},\"values\":[[1793491200,\"9\"]]}]");
    lk_buf_free(&rs.body);
    const char *lit_range[] = { "query", "2", "start", "1793491200", "end", "1793491320", "step",
                                "60", NULL };
    http_query(&f, true, lit_range, &rs);
    expect_body(&rs, 200,
                "\"result\":[{\"metric\":{},\"values\":[[1793491200,\"2\"],[1793491260,\"2\"],"
                "[1793491320,\"2\"]]}]");
    lk_buf_free(&rs.body);
    /* an instant sort keeps its order in the answer */
    const char *sorted[] = { "query", "sort_desc(" CNT ")", "time", "1793491200", NULL };
    http_query(&f, false, sorted, &rs);
    expect_body(&rs, 200, "\"resultType\":\"vector\"");
    const char *v6 = strstr(rs.body.p, "\"6\""), *v3 = strstr(rs.body.p, "\"3\""),
               *v2 = strstr(rs.body.p, "\"2\""), *v1 = strstr(rs.body.p, "\"1\"");
    assert_true(v6 && v3 && v2 && v1 && v6 < v3 && v3 < v2 && v2 < v1);
    lk_buf_free(&rs.body);
    f.cfg.max_query_series = 2;
    const char *many[] = { "query", CNT, "time", "1793491200", NULL };
    http_query(&f, false, many, &rs);
    expect_body(&rs, 400, "maximum of series (2) reached for a single query");
    lk_buf_free(&rs.body);
    f.cfg.max_query_series = 500;
    f.cfg.query_timeout_ns = 1;
    http_query(&f, false, many, &rs);
    expect_body(&rs, 504, "request timed out, decrease the duration of the request");
    lk_buf_free(&rs.body);
    f.cfg.query_timeout_ns = 60 * SEC;
    /* issue 9 item 7: a query past its memory limit answers 400 naming the
     * key, past the budget of all queries 429; nothing stays charged */
    f.cfg.max_memory_per_query = 1000;
    http_query(&f, false, many, &rs);
    expect_body(&rs, 400, "query memory limit (1000 bytes) reached for a single query "
                          "(querier.max_memory_per_query)");
    lk_buf_free(&rs.body);
    f.cfg.max_memory_per_query = 0;
    f.st.qmem = qm_budget_new(1000, false);
    http_query(&f, false, many, &rs);
    expect_body(&rs, 429, "too many outstanding requests");
    lk_buf_free(&rs.body);
    assert_int_equal(qm_budget_used(f.st.qmem), 0);
    qm_budget_free(f.st.qmem);
    f.st.qmem = NULL;
    const char *perr[] = { "query", "count_over_time({app=\"a\"} | json [1m])", "time",
                           "1793491200", NULL };
    push1(f.st.ingester, "{app=\"a\"}", T0 - SEC, "not json");
    http_query(&f, false, perr, &rs);
    expect_body(&rs, 400, "pipeline error: 'JSONParserErr'");
    lk_buf_free(&rs.body);
    ing_destroy(f.st.ingester);
    config_free(&f.cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_bounds),
        cmocka_unit_test(test_range_functions_reference),
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_rate_counter),
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_offset),
        cmocka_unit_test(test_vector_aggregations),
        cmocka_unit_test(test_topk_bottomk),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_binop_scalars),
        cmocka_unit_test(test_binop_matching),
        cmocka_unit_test(test_binop_logical),
        cmocka_unit_test(test_label_replace),
        cmocka_unit_test(test_series_limit),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_threads_agree),
        cmocka_unit_test(test_structured_metadata),
        cmocka_unit_test(test_block_skipping),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
