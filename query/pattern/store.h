/* The pattern ingester: Drain run over every pushed line (Loki 3.6's
 * pkg/pattern: ingester, instance, stream), kept in memory per tenant and
 * stream, with one Drain per detected_level (debug, info, warn, error,
 * fatal, critical, trace; anything else is unknown). A stream's format
 * (JSON, logfmt, plain) is guessed from its first line; lines older than
 * the stream's newest are not mined. Counts older than retain_for are
 * dropped (as Loki's pruning does), and streams left without patterns.
 * Queries merge the clusters of the matching streams by (level, pattern),
 * sum their counts per step, and keep the patterns with at least 30 lines
 * in the range, most frequent first, at most 300 (Loki's querier). */
#ifndef LOKIC_QUERY_PATTERN_STORE_H
#define LOKIC_QUERY_PATTERN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/matcher.h"
#include "lib/str.h"
#include "query/pattern/samples.h"
#include "storage/iter.h"

#define PAT_MIN_CLUSTER_SIZE 30
#define PAT_MAX_PATTERNS 300

typedef struct pat_store pat_store;

pat_store *pat_store_create(int64_t retain_for_ns);
void pat_store_destroy(pat_store *s);

/* Mines the entries of one stream (labels in canonical form, fingerprint
 * as the ingester computes it). */
void pat_store_push(pat_store *s, lk_str tenant, lk_str canonical, uint64_t fp,
                    const lk_labels *labels, const lk_entry *e, size_t n);

typedef struct pat_series {
    const char *level;      /* static */
    char *pattern;          /* owned */
    pat_sample *v;          /* by time; owned */
    size_t n, cap;
    int64_t total;
} pat_series;

typedef struct pat_result {
    pat_series *s;
    size_t n, cap;
} pat_result;

/* The patterns of tenant's streams matching ms over [start_ns, end_ns) by
 * step_ns (at least the 10 s sample interval). tenant may be "a|b" (a
 * multi-tenant read): the tenants' patterns are merged. */
int pat_store_query(pat_store *s, lk_str tenant, const lk_matcher *ms, size_t n_ms,
                    int64_t start_ns, int64_t end_ns, int64_t step_ns, pat_result *out);
void pat_result_free(pat_result *r);

#endif
