/* The log pipeline at run time: a compiled list of stages (line filters,
 * parsers json/logfmt/regexp/pattern/unpack, label filters, line_format,
 * label_format, drop, keep, decolorize) applied to one entry of a stream,
 * producing the output line and label set (stream labels + structured
 * metadata + extracted labels, with __error__ / __error_details__ as Loki
 * sets them), or dropping the entry; and the sample extractors of metric
 * queries (count, bytes, unwrap with conversions and post-unwrap filters).
 *
 * A compiled pipeline is immutable and shared; a runner holds the mutable
 * per-stream state (one stream at a time, one thread). Results point into
 * the runner and stay valid until its next call. */
#ifndef LOKIC_QUERY_PIPELINE_H
#define LOKIC_QUERY_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "query/logql/ast.h"
#include "storage/iter.h"

typedef struct lp_pipeline lp_pipeline;
typedef struct lp_runner lp_runner;

/* What one entry became. */
typedef struct lp_result {
    lk_str line;             /* the line after the pipeline */
    const lk_labels *labels; /* the full label set, sorted */
    uint64_t hash;           /* labels_hash of the canonical form of labels */
    /* With categorize-labels: which of labels are structured metadata and
     * which were parsed (stream labels are the rest). */
    const lk_labels *structured_metadata;
    const lk_labels *parsed;
    /* The rest: the stream labels left after the pipeline, and their hash
     * (the result stream's key under categorize-labels). */
    const lk_labels *stream;
    uint64_t stream_hash;
} lp_result;

int lp_compile(const logql_stage *stages, size_t n, lp_pipeline **out, lk_buf *err);
void lp_free(lp_pipeline *p);
/* true when the pipeline never changes labels or the line (only line
 * filters): callers may take faster paths. */
bool lp_is_filter_only(const lp_pipeline *p);
/* Literal substrings every kept line must contain (from |= stages before
 * any stage that rewrites the line), for block skipping. */
size_t lp_required_substrings(const lp_pipeline *p, const lk_str **out);

lp_runner *lp_runner_new(const lp_pipeline *p);
/* With categorize-labels: fill structured_metadata, parsed and stream in
 * the results (otherwise they are empty, and stream is the whole set). */
void lp_runner_categorize(lp_runner *r, bool on);
/* Starts a new stream: the labels the stream's entries start with. */
void lp_runner_reset(lp_runner *r, const lk_labels *stream_labels);
/* Runs one entry; false when a stage filtered it out. */
bool lp_run(lp_runner *r, const lk_entry *e, lp_result *out);
void lp_runner_free(lp_runner *r);

/* ---- JSON paths (query/pipeline/jsonpaths.c) ---- */

/* Called for each leaf `| json` would extract from a line: name as the json
 * stage flattens it (before any _extracted suffix), path the unescaped keys
 * from the top (valid during the call). */
typedef void (*lp_json_leaf_fn)(void *ctx, lk_str name, const lk_str *path, size_t n);
/* Walks the line's JSON object; false when it is not valid JSON. */
bool lp_json_leaves(lk_str line, lp_json_leaf_fn fn, void *ctx);

/* ---- metric queries: sample extraction for a range aggregation ---- */

typedef struct lp_extractor lp_extractor;

/* Compiles the pipeline, the unwrap (label, conversion, post filters) and
 * the range aggregation's own grouping (by/without on e.g. avg_over_time)
 * of ra. count_over_time/rate/absent: value 1; bytes_over_time/bytes_rate:
 * the line's byte length after the pipeline; unwrap: the converted label
 * value (the unwrapped label is removed from the sample's labels). */
int lp_extractor_compile(const logql_range_agg *ra, lp_extractor **out, lk_buf *err);
/* The same with the grouping of an enclosing vector aggregation pushed down,
 * as Loki does for sum by/without (...) over count_over_time, rate,
 * bytes_over_time and bytes_rate without a grouping of their own
 * (canInjectVectorGrouping): outer is that sum's grouping (present, possibly
 * empty). With an empty `by ()` the samples carry no labels and, when no
 * stage reads labels, parsers are skipped (no parse errors), as in Loki. */
int lp_extractor_compile_grouped(const logql_range_agg *ra, const logql_grouping *outer,
                                 lp_extractor **out, lk_buf *err);
void lp_extractor_free(lp_extractor *x);

typedef struct lp_sample {
    double value;
    const lk_labels *labels; /* the series the sample belongs to */
    uint64_t hash;
} lp_sample;

typedef struct lp_sampler lp_sampler; /* per-thread state, like lp_runner */
lp_sampler *lp_sampler_new(const lp_extractor *x);
void lp_sampler_reset(lp_sampler *s, const lk_labels *stream_labels);
/* false when the entry yields no sample (filtered out). A conversion
 * failure yields a sample whose labels carry __error__=SampleExtractionErr
 * (and __error_details__), as in Loki. */
bool lp_sample_entry(lp_sampler *s, const lk_entry *e, lp_sample *out);
void lp_sampler_free(lp_sampler *s);

#endif
