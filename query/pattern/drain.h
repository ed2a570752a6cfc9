/* Drain: online log clustering into patterns (He et al., ICWS 2017), with
 * the parameters and behaviour of Loki 3.6's pattern ingester
 * (pkg/pattern/drain/drain.go): lines of 4..80 tokens are mined; a parse
 * tree keyed by token count, then by the first tokens (depth 30, at most
 * 15 children per node, tokens with digits going to the <_> child); a line
 * joins the most similar cluster of its leaf when at least 30% of the
 * tokens are equal (a cluster's differing tokens become <_>), else starts
 * a new cluster. At most 300 clusters, least recently used evicted; when
 * more than a quarter of the clusters added were evicted, mining stops
 * for 10 minutes. Not thread-safe: the caller locks. */
#ifndef LOKIC_QUERY_PATTERN_DRAIN_H
#define LOKIC_QUERY_PATTERN_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"
#include "query/pattern/samples.h"
#include "query/pattern/tokenize.h"

#define DRAIN_MAX_CLUSTERS 300
#define DRAIN_SIM_TH 0.3
#define DRAIN_DEPTH 30
#define DRAIN_MAX_CHILDREN 15
#define DRAIN_MIN_TOKENS 4
#define DRAIN_MAX_TOKENS 80
#define DRAIN_MAX_EVICTION_RATIO 0.25
#define DRAIN_BLOCK_NS (600 * INT64_C(1000000000))

typedef struct drain drain;

drain *drain_create(pat_format f);
void drain_destroy(drain *d);

/* Mines line, logged at ts_ns; now_ns (monotonic) drives the limiter.
 * True when the line was counted in a cluster. */
bool drain_train(drain *d, lk_str line, int64_t ts_ns, int64_t now_ns);

/* Calls fn for each cluster with its pattern (borrowed, valid during the
 * call; "" for a pattern Loki would not show) and its counts. */
void drain_each(drain *d, void (*fn)(void *ctx, lk_str pattern, const pat_chunks *c),
                void *ctx);

/* Drops the counts older than cutoff_ms and the clusters left empty;
 * returns the number of clusters left. */
size_t drain_prune(drain *d, int64_t cutoff_ms);

#endif
