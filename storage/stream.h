/* One stream of the ingester: its labels and chunks, the push logic (Loki's
 * out-of-order window and duplicate rules, chunk cutting) and consistent
 * snapshots for readers (st_view). Private to storage/ (ingester.c,
 * stream.c, viewiter.c). */
#ifndef LOKIC_STORAGE_STREAM_H
#define LOKIC_STORAGE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "storage/chunk.h"
#include "storage/ingester.h"

typedef struct st_stream st_stream;

/* Copies labels and canonical; refcount 1. */
st_stream *st_stream_new(const lk_labels *labels, lk_str canonical, uint64_t fp);
st_stream *st_stream_ref(st_stream *s);
void st_stream_unref(st_stream *s); /* accepts NULL */

uint64_t st_stream_fp(const st_stream *s);
lk_str st_stream_canonical(const st_stream *s);
const lk_labels *st_stream_labels(const st_stream *s);

#define ST_MAX_LISTED_REJECTS 10

/* What one push did to a stream: counts for ing_push_result, the first
 * rejected entries for the error message, and deltas for the counters. */
typedef struct st_push_acc {
    size_t accepted, duplicates, rejected;
    int64_t bytes;
    size_t n_listed;
    struct {
        size_t idx;      /* into the pushed entries */
        int64_t cutoff;  /* oldest acceptable timestamp at that moment */
        bool too_large;  /* refused for size, not for age */
    } listed[ST_MAX_LISTED_REJECTS];
    int64_t d_chunks, d_blocks, d_head_bytes, d_comp_bytes;
} st_push_acc;

/* Appends entries under the stream's lock (see ing_push for the rules).
 * Counts into *acc (zero it first). */
void st_stream_push(st_stream *s, const chk_limits *lim, const lk_entry *entries, size_t n,
                    st_push_acc *acc);

/* A consistent snapshot of the stream for [from, through] (inclusive): NULL
 * when no chunk overlaps. With with_data it holds references to the
 * overlapping blocks and a copy of the overlapping head entries. */
st_view *st_stream_view(st_stream *s, int64_t from, int64_t through, bool with_data);

typedef struct st_view_chunk {
    int64_t mint, maxt;
} st_view_chunk;

struct st_view {
    st_stream *s;               /* reference: labels, canonical, fp */
    bool with_data;
    chk_block **blocks;         /* references, in arrival order */
    size_t n_blocks;
    st_view_chunk *chunks;      /* the overlapping chunks' ranges */
    size_t n_chunks;
    size_t blocks_skipped;      /* blocks left out of the snapshot */
    bool has_head;
    chk_decoded head;           /* copy of the head entries in range */
};

void st_view_free(st_view *v);

#endif
