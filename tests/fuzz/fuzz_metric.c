/* libFuzzer driver for metric evaluation: arbitrary query text is parsed,
 * and every metric query that parses is evaluated against a small fixed
 * dataset (logfmt, JSON and plain lines, structured metadata, several
 * streams) as a range query and as an instant query, with a series limit
 * and several reader threads. Nothing may crash, read out of bounds or
 * leak; a successful result must be well formed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/timeutil.h"
#include "query/logql/ast.h"
#include "query/metric/metric.h"
#include "query/logql/parser.h"
#include "storage/ingester.h"
#include "tests/fuzz/fuzz.h"

#define T0 (INT64_C(1793491200) * LK_NS_PER_SEC)

static ing *g;
static const lk_str TENANT = { "fake", 4 };

static void push(const char *labels, int64_t ts, const char *line, const lk_label *meta,
                 size_t n_meta)
{
    lk_labels l;
    lk_buf canon = { 0 };
    if (labels_parse(lk_str_c(labels), &l, NULL) != LK_OK)
        abort();
    labels_canonical(&l, &canon);
    lk_entry e = { .ts = ts, .line = lk_str_c(line), .n_meta = n_meta, .meta = meta };
    ing_push_result r;
    ing_push(g, TENANT, &l, lk_buf_str(&canon), labels_hash(lk_buf_str(&canon)), &e, 1, &r,
             NULL);
    labels_free(&l);
    lk_buf_free(&canon);
}

static void setup(void)
{
    ing_opts o = { .chunk_block_size = 1024, .chunk_target_size = 8192,
                   .max_chunk_age_ns = 24 * 3600 * LK_NS_PER_SEC };
    if (ing_create(&o, &g) != LK_OK)
        abort();
    static const char *const lf[] = {
        "level=info method=GET status=200 duration=12ms bytes=1.2KB latency=0.3",
        "level=error method=POST status=500 duration=1.5s bytes=300B latency=NaN",
        "level=warn method=GET status=404 duration=bad bytes=7 latency=-Inf",
    };
    static const char *const js[] = {
        "{\"level\":\"info\",\"latency_ms\":12,\"queue\":\"a\",\"nested\":{\"x\":1}}",
        "{\"level\":\"error\",\"latency_ms\":\"x\",\"queue\":\"b\"}",
        "not json at all",
    };
    lk_label meta = { LK_STR("trace_id"), LK_STR("abc") };
    for (int i = 0; i < 120; i++) {
        int64_t ts = T0 + (int64_t)i * 17 * LK_NS_PER_SEC;
        push("{app=\"api\", pod=\"a\"}", ts, lf[i % 3], NULL, 0);
        push("{app=\"api\", pod=\"b\"}", ts + 5 * LK_NS_PER_SEC, lf[(i + 1) % 3],
             i % 4 ? NULL : &meta, i % 4 ? 0 : 1);
        push("{app=\"worker\", pod=\"c\"}", ts + 9 * LK_NS_PER_SEC, js[i % 3], NULL, 0);
        push("{app=\"db\"}", ts, "\x1b[31mFATAL\x1b[0m connection reset", NULL, 0);
    }
}

static void check(const lm_result *r)
{
    if (r->scalar) {
        if (!r->scalar_v || r->n_series)
            abort();
        return;
    }
    for (size_t i = 0; i < r->n_series; i++) {
        bool any = false;
        for (size_t t = 0; t < r->n_steps; t++)
            any |= r->series[i].present[t] != 0;
        if (!any)
            abort(); /* series without values are dropped */
    }
}

static void eval(const logql_expr *e, int64_t start, int64_t end, int64_t step, bool instant)
{
    lm_query q = { .g = g, .tenant = TENANT, .expr = e, .start = start, .end = end,
                   .step = step, .max_series = 50, .threads = 2, .instant = instant,
                   .deadline_ns = lk_now_ns() + 2 * LK_NS_PER_SEC };
    lm_result r;
    lk_buf err = { 0 };
    if (lm_eval(&q, &r, &err) == LK_OK) {
        check(&r);
        lm_result_free(&r);
    }
    lk_buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g)
        setup();
    logql_expr *e = NULL;
    if (logql_parse(lk_str_n((const char *)data, size), &e, NULL) != LK_OK)
        return 0;
    if (!logql_expr_is_log(e)) {
        eval(e, T0, T0 + 40 * 60 * LK_NS_PER_SEC, 60 * LK_NS_PER_SEC, false);
        eval(e, T0 + 7 * 60 * LK_NS_PER_SEC, T0 + 7 * 60 * LK_NS_PER_SEC, 0, true);
    }
    logql_expr_free(e);
    return 0;
}
