/* Log selection: the streams matching a selector, read in [start, end) in
 * the requested direction, each entry run through the log pipeline, merged
 * by timestamp across streams (k-way heap) and cut at `limit` entries
 * overall — Loki's log query semantics. An output stream is keyed by the
 * entry's labels after the pipeline, so one stored stream can feed many
 * (with categorize-labels: by the stream labels left, each entry carrying
 * its structured metadata and parsed labels). With an interval, an entry is
 * output only when at least that far (in query direction) from the
 * previous one output, across all streams, as Loki's readStreams does.
 * Only the entries returned are copied. */
#ifndef LOKIC_QUERY_SELECT_H
#define LOKIC_QUERY_SELECT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/matcher.h"
#include "lib/str.h"
#include "query/pipeline/pipeline.h"
#include "query/qmem.h"
#include "storage/ingester.h"
#include "storage/iter.h"

typedef struct logql_select {
    lk_str tenant;
    const lk_matcher *matchers;
    size_t n_matchers;
    int64_t start, end;           /* ns, start inclusive, end exclusive */
    size_t limit;
    bool backward;
    const lp_pipeline *pipeline;  /* NULL: entries as stored */
    int64_t interval_ns;          /* 0: every entry */
    bool categorize;              /* X-Loki-Response-Encoding-Flags: categorize-labels */
    qm_query *mem;                /* charged for the entries kept and the blocks the
                                   * streams' iterators decode; NULL: none */
    int64_t deadline_ns;          /* lk_now_ns() past which the query stops with
                                   * LK_ERANGE (query_timeout); 0: none */
} logql_select;

typedef struct logql_stream_res {
    const lk_labels *labels;  /* owned by the result */
    lk_str canonical;         /* of labels */
    lk_entry *entries;        /* in the order returned; meta: the entry's structured
                               * metadata when categorized, else none */
    lk_labels *parsed;        /* categorized: each entry's parsed labels; else NULL */
    size_t n, cap;
} logql_stream_res;

typedef struct logql_streams {
    logql_stream_res *v;     /* streams with at least one entry, sorted by labels */
    size_t n;
    size_t total_entries;
    int64_t post_filter_lines;
    bool categorized;
    sto_stats stats;
    lk_arena arena;          /* labels, lines and metadata of the result */
} logql_streams;

/* LK_ELIMIT / LK_ERATE (message in *err) past q->mem's limits
 * (query/qmem.h); LK_ERANGE past q->deadline_ns. */
int logql_select_logs(ing *g, const logql_select *q, logql_streams *out, lk_buf *err);
void logql_streams_free(logql_streams *r);

#endif
