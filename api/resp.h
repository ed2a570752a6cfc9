/* Loki's JSON response shapes: the `stats` object, streams results, label
 * sets as JSON objects. */
#ifndef LOKIC_API_RESP_H
#define LOKIC_API_RESP_H

#include "lib/jsonw.h"
#include "lib/labels.h"
#include "query/select.h"
#include "storage/iter.h"

typedef struct api_query_stats {
    const sto_stats *store;     /* what was read (memory chunks) */
    int64_t exec_ns;
    int64_t entries_returned;
    int64_t post_filter_lines;
} api_query_stats;

/* "stats": {...} with every key Loki 2.9 sends (summary, querier, ingester,
 * cache, index). */
void api_write_stats(jw *w, const api_query_stats *s);
/* "warnings": ["..."] — one message per reason something the query should
 * have read was skipped (storage/readerr.h) — as Loki 3 places it, between
 * "status" and "data" of a v1 query answer; nothing when all was read. */
void api_write_warnings(jw *w, const sto_stats *s);
/* {"name":"value",...} */
void api_write_labels(jw *w, const lk_labels *l);
/* A sample's time as Prometheus' model.Time prints it in matrices and
 * vectors: Unix seconds with up to 3 decimals (milliseconds), a JSON
 * number. tmp is scratch. */
void api_write_sample_time(jw *w, lk_buf *tmp, int64_t ns);
/* {"status":"success","data":{"resultType":"streams","result":[...],"stats":{...}}}
 * ("warnings" after "status" when the query could not read everything);
 * a categorized result (categorize-labels) adds "encodingFlags" and writes
 * each value as a 3-tuple with its structured metadata and parsed labels. */
void api_write_streams_response(lk_buf *out, const logql_streams *r, int64_t exec_ns);
/* Legacy /api/prom/query: {"streams":[{"labels":"{...}","entries":[{"ts","line"}]}],"stats":{}} */
void api_write_legacy_streams_response(lk_buf *out, const logql_streams *r, int64_t exec_ns);
/* One /loki/api/v1/tail message: {"streams":[{"stream":{...},"values":[...]}]}
 * (values categorized as in query responses when r is). */
void api_write_tail_frame(lk_buf *out, const logql_streams *r);
/* One /api/prom/tail message, Loki's legacy TailResponse as encoding/json
 * writes it: {"streams":[{"labels":"{...}","entries":[{"ts","line"}]}],
 * "dropped_entries":null} */
void api_write_legacy_tail_frame(lk_buf *out, const logql_streams *r);

#endif
