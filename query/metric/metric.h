/* Metric query evaluation: range aggregations over the samples a stream
 * selector's pipeline extracts, vector aggregations, binary operators with
 * vector matching, label_replace, vector(), literals and offset — with
 * Loki's step alignment (t = start, start+step, ... <= end), windows
 * (t - range, t] and the max_query_series limit. Instant queries are the
 * case start == end (one step).
 *
 * Evaluation is step-major: every node yields a matrix of series, each with
 * one optional value per step. Streams are read through storage's iterator
 * interface, on worker threads, and aggregated as they are read; nothing
 * holds the raw entries of the whole range. */
#ifndef LOKIC_QUERY_METRIC_H
#define LOKIC_QUERY_METRIC_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "query/logql/ast.h"
#include "query/qmem.h"
#include "storage/ingester.h"
#include "storage/iter.h"

typedef struct lm_series {
    lk_labels labels;   /* owned */
    double *v;          /* n_steps values */
    uint8_t *present;   /* n_steps flags: 1 when v[i] is a value at step i */
} lm_series;

typedef struct lm_result {
    bool scalar;        /* the expression is a scalar (e.g. 1 + 1): values in scalar_v */
    bool sorted;        /* sort/sort_desc at the top: keep series order (instant);
                           when false the series are sorted by labels */
    int64_t start, step;
    size_t n_steps;
    lm_series *series;
    size_t n_series;
    double *scalar_v;   /* n_steps values when scalar */
    sto_stats stats;     /* what was read */
    int64_t lines_read;
} lm_result;

typedef struct lm_query {
    ing *g;
    lk_str tenant;
    const logql_expr *expr;  /* a metric (sample) expression */
    int64_t start, end;      /* ns; equal for an instant query */
    int64_t step;            /* ns; ignored (one step) when start == end */
    int max_series;          /* max_query_series; 0 = unlimited */
    qm_query *mem;           /* the query's memory accountant; NULL: none */
    int64_t deadline_ns;     /* absolute (lk_now_ns clock); 0 = none */
    int threads;             /* worker threads; 0 = one per core */
    bool instant;            /* an instant query (/query): a top-level sort/sort_desc
                                keeps its order (lm_result.sorted); otherwise the
                                series come sorted by labels */
} lm_query;

/* Errors, with Loki 2.9's messages in *err:
 *   LK_EINVAL   a query Loki answers with 400 at evaluation time (e.g. a
 *               pipeline error left in a metric query's series:
 *               "pipeline error: 'JSONParserErr' for series: '{...}'. Use a
 *               label filter to intentionally skip this error. (e.g | __error__!=\"JSONParserErr\").
 *               To skip all potential errors you can match empty errors.(e.g __error__=\"\")
 *               The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )"),
 *               duplicate series in binary matching ("found duplicate series on the right
 *               hand-side;many-to-many matching not allowed: matching labels must be unique
 *               on one side", "multiple matches for labels: ..."),
 *               label_replace producing a duplicate label set ("vector cannot contain
 *               metrics with the same labelset");
 *   LK_ELIMIT   max_query_series exceeded ("maximum of series (500) reached for a single
 *               query") by the result, by the input of an aggregation Loki cannot shard
 *               (anything but sum, avg, count), or by ten times the limit inside a range
 *               aggregation (a memory bound);
 *   LK_ERANGE   the deadline passed (the caller answers 504);
 *   LK_ELIMIT, LK_ERATE  past the query's memory limit or the budget of all
 *               queries (query/qmem.h; the message names the key). */
int lm_eval(const lm_query *q, lm_result *out, lk_buf *err);
void lm_result_free(lm_result *r);

#endif
