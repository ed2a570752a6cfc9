/* libFuzzer driver for the log pipeline at run time: the input is a LogQL
 * pipeline (up to the first newline) and the log lines to run through it
 * (the rest, one per line). The pipeline is parsed behind a stream selector,
 * compiled, and run over every line with and without structured metadata;
 * then wrapped into count_over_time / unwrap / sum by range aggregations
 * and run as sample extractors. Nothing may crash, read out of bounds or
 * leak; every result must be sorted, free of duplicate names, and carry the
 * hash of its canonical form. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "query/logql/ast.h"
#include "query/logql/parser.h"
#include "query/pipeline/pipeline.h"
#include "tests/fuzz/fuzz.h"

#define STREAM "{app=\"x\", level=\"info\", n=\"3\"}"

static void check_labels(const lk_labels *l, uint64_t hash)
{
    for (size_t i = 1; i < l->n; i++) {
        if (lk_str_cmp(l->v[i - 1].name, l->v[i].name) >= 0) {
            fprintf(stderr, "labels not sorted or duplicated at %zu\n", i);
            abort();
        }
    }
    lk_buf c = { 0 };
    labels_canonical(l, &c);
    if (labels_hash(lk_buf_str(&c)) != hash) {
        fprintf(stderr, "hash is not the canonical form's: %s\n", c.p);
        abort();
    }
    lk_buf_free(&c);
}

static void run_lines(lp_runner *r, const lk_labels *stream, lk_str lines)
{
    static const lk_label meta[] = { { { "trace", 5 }, { "t1", 2 } },
                                     { { "app", 3 }, { "m", 1 } } };
    lp_runner_reset(r, stream);
    size_t at = 0;
    for (int k = 0; at <= lines.len && k < 64; k++) {
        const char *nl = memchr(lines.p + at, '\n', lines.len - at);
        size_t end = nl ? (size_t)(nl - lines.p) : lines.len;
        lk_entry e = { .ts = k, .line = { lines.p + at, end - at } };
        if (k & 1) {
            e.meta = meta;
            e.n_meta = 2;
        }
        lp_result res;
        if (lp_run(r, &e, &res)) {
            check_labels(res.labels, res.hash);
            check_labels(res.stream, res.stream_hash);
            if (res.line.len && !res.line.p)
                abort();
        }
        at = end + 1;
    }
}

static void run_extractor(const char *fmt, lk_str pipeline, const lk_labels *stream,
                          lk_str lines)
{
    size_t n = strlen(fmt) + pipeline.len + 64;
    char *q = malloc(n);
    snprintf(q, n, fmt, STREAM, (int)pipeline.len, pipeline.p);
    logql_expr *e = NULL;
    if (logql_parse(lk_str_c(q), &e, NULL) != 0) {
        free(q);
        return;
    }
    const logql_expr *ra = e;
    const logql_grouping *outer = NULL;
    if (ra->kind == LOGQL_EXPR_VECTOR_AGG) {
        outer = &ra->u.vagg.grouping;
        ra = ra->u.vagg.inner;
    }
    lp_extractor *x = NULL;
    int rc = ra->kind != LOGQL_EXPR_RANGE_AGG ? LK_EINVAL
           : outer ? lp_extractor_compile_grouped(&ra->u.range, outer, &x, NULL)
                   : lp_extractor_compile(&ra->u.range, &x, NULL);
    if (rc == 0) {
        lp_sampler *s = lp_sampler_new(x);
        lp_sampler_reset(s, stream);
        size_t at = 0;
        for (int k = 0; at <= lines.len && k < 64; k++) {
            const char *nl = memchr(lines.p + at, '\n', lines.len - at);
            size_t end = nl ? (size_t)(nl - lines.p) : lines.len;
            lk_entry en = { .ts = k, .line = { lines.p + at, end - at } };
            lp_sample smp;
            if (lp_sample_entry(s, &en, &smp))
                check_labels(smp.labels, smp.hash);
            at = end + 1;
        }
        lp_sampler_free(s);
        lp_extractor_free(x);
    }
    logql_expr_free(e);
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    const char *p = (const char *)data;
    const char *nl = memchr(p, '\n', size);
    lk_str pipeline = { p, nl ? (size_t)(nl - p) : size };
    lk_str lines = nl ? (lk_str){ nl + 1, size - pipeline.len - 1 } : LK_STR("");

    lk_labels stream;
    if (labels_parse(LK_STR(STREAM), &stream, NULL) != 0)
        abort();
    size_t n = pipeline.len + sizeof(STREAM) + 2;
    char *q = malloc(n);
    snprintf(q, n, "%s %.*s", STREAM, (int)pipeline.len, pipeline.p);
    logql_expr *e = NULL;
    if (logql_parse(lk_str_c(q), &e, NULL) == 0 && logql_expr_is_log(e)) {
        lp_pipeline *pl = NULL;
        if (lp_compile(e->u.log.stages, e->u.log.n_stages, &pl, NULL) == 0) {
            const lk_str *req;
            size_t nreq = lp_required_substrings(pl, &req);
            for (size_t i = 0; i < nreq; i++)
                if (req[i].len && !req[i].p)
                    abort();
            lp_runner *r = lp_runner_new(pl);
            run_lines(r, &stream, lines);
            lp_runner_categorize(r, true);
            run_lines(r, &stream, lines);
            lp_runner_free(r);
            lp_free(pl);
        }
        run_extractor("count_over_time(%s %.*s [1m])", pipeline, &stream, lines);
        run_extractor("bytes_over_time(%s %.*s [1m])", pipeline, &stream, lines);
        run_extractor("sum by (level, k) (rate(%s %.*s [1m]))", pipeline, &stream, lines);
        run_extractor("sum(count_over_time(%s %.*s [1m]))", pipeline, &stream, lines);
        run_extractor("sum_over_time(%s %.*s | unwrap n [1m])", pipeline, &stream, lines);
        run_extractor("avg_over_time(%s %.*s | unwrap duration(n) | __error__=\"\" [1m]) by (k)",
                      pipeline, &stream, lines);
        run_extractor("max_over_time(%s %.*s | unwrap bytes(k) [1m]) without (app)", pipeline,
                      &stream, lines);
    }
    logql_expr_free(e);
    free(q);
    labels_free(&stream);
    return 0;
}
