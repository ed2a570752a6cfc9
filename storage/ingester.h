/* The ingester: per tenant, a map of streams keyed by fingerprint; each
 * stream holds chunks made of compressed blocks plus an uncompressed head
 * (storage/chunk.h). Pushes to different streams run in parallel (sharded
 * stream maps, a lock per stream); a query takes a consistent snapshot of
 * each stream it reads (st_view), sharing the immutable compressed blocks. */
#ifndef LOKIC_STORAGE_INGESTER_H
#define LOKIC_STORAGE_INGESTER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/matcher.h"
#include "lib/str.h"
#include "storage/iter.h"

typedef struct ing ing;

typedef struct ing_opts {
    int64_t chunk_block_size;      /* uncompressed head size that cuts a block */
    int64_t chunk_target_size;     /* compressed chunk size that cuts a chunk (0: 10 blocks) */
    int64_t max_chunk_age_ns;      /* chunk span that cuts a chunk; half of it is the
                                      out-of-order window */
    int max_streams_per_user;      /* 0 = unlimited */
} ing_opts;

int ing_create(const ing_opts *opts, ing **out);
void ing_destroy(ing *g); /* accepts NULL */

typedef struct ing_push_result {
    size_t accepted;       /* entries stored */
    size_t duplicates;     /* identical (ts, line, metadata) dropped silently */
    size_t rejected;       /* entries refused (too far behind) */
    int64_t bytes;         /* line bytes stored */
    bool created;          /* the stream was created by this push */
} ing_push_result;

/* Appends entries (any order) to the stream `labels` (sorted, validated) of
 * `tenant`; canonical/fp are labels_canonical()/labels_hash() of it.
 * Entries older than (newest in stream - max_chunk_age/2) are refused:
 * returns LK_EINVAL and appends Loki's message to *err:
 *   entry with timestamp <Go time> ignored, reason: 'entry too far behind,
 *   entry timestamp is: <RFC3339>, oldest acceptable timestamp is: <RFC3339>',\n
 *   ... (at most 10 lines) ...
 *   user '<tenant>', total ignored: N out of M for stream: <canonical>
 * while still storing the acceptable ones. A new stream over
 * max_streams_per_user: LK_ELIMIT, nothing stored, message
 *   maximum active stream limit exceeded when trying to create stream
 *   <canonical>, reduce the number of active streams (reduce labels or reduce
 *   label values), or contact your Loki administrator to see if the limit
 *   can be increased, user: '<tenant>'
 */
int ing_push(ing *g, lk_str tenant, const lk_labels *labels, lk_str canonical, uint64_t fp,
             const lk_entry *entries, size_t n, ing_push_result *res, lk_buf *err);

/* A consistent snapshot of one stream. */
typedef struct st_view st_view;

/* All streams of tenant matching every matcher (nm may be 0: all streams)
 * that have data in [from, through] (ns, inclusive). With with_data the
 * views can be iterated; without, they carry only labels and bounds
 * (cheap: for labels/series). *out is a malloc'd array of n views. */
int ing_select(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
               int64_t through, bool with_data, st_view ***out, size_t *n);
void st_views_free(st_view **v, size_t n);

const lk_labels *st_view_labels(const st_view *v);
lk_str st_view_canonical(const st_view *v);
uint64_t st_view_fp(const st_view *v);

/* Entries with from <= ts < through, in time order (backward: newest first;
 * entries with equal timestamps come in arrival order forward and reversed
 * backward), identical (ts, line, metadata) merged. Counts into *stats
 * (may be NULL; not thread-safe: one stats per thread). */
st_iter *st_view_iter(const st_view *v, int64_t from, int64_t through, bool backward,
                      st_stats *stats);

/* Gauges for /metrics. */
typedef struct ing_counters {
    int64_t streams;          /* in memory */
    int64_t streams_created;  /* total */
    int64_t chunks;           /* in memory */
    int64_t blocks;
    int64_t head_bytes, compressed_bytes;
} ing_counters;
void ing_get_counters(ing *g, ing_counters *c);

#endif
