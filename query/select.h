/* Log selection: the streams matching a selector, read in [start, end) in
 * the requested direction through a line predicate, merged by timestamp
 * across streams (k-way heap) and cut at `limit` entries overall — Loki's
 * log query semantics. Only the entries returned are copied. */
#ifndef LOKIC_QUERY_SELECT_H
#define LOKIC_QUERY_SELECT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/matcher.h"
#include "lib/str.h"
#include "storage/ingester.h"
#include "storage/iter.h"

/* true: keep the entry. */
typedef bool (*logql_line_pred)(void *ctx, const lk_entry *e);

typedef struct logql_select {
    lk_str tenant;
    const lk_matcher *matchers;
    size_t n_matchers;
    int64_t start, end;     /* ns, start inclusive, end exclusive */
    size_t limit;
    bool backward;
    logql_line_pred pred;   /* NULL: keep all */
    void *pred_ctx;
} logql_select;

typedef struct logql_stream_res {
    const lk_labels *labels; /* borrowed from the views held by the result */
    lk_entry *entries;       /* in the order returned */
    size_t n, cap;
} logql_stream_res;

typedef struct logql_streams {
    logql_stream_res *v;     /* streams with at least one entry, sorted by labels */
    size_t n;
    size_t total_entries;
    int64_t post_filter_lines;
    st_stats stats;
    st_view **views;
    size_t n_views;
    lk_arena arena;          /* copies of returned lines and metadata */
} logql_streams;

int logql_select_logs(ing *g, const logql_select *q, logql_streams *out, lk_buf *err);
void logql_streams_free(logql_streams *r);

#endif
