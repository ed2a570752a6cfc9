/* A pattern's per-interval line counts, as Loki's pattern ingester keeps
 * them (pkg/pattern/drain/chunk.go): a line counts in its 10 s interval;
 * counts live in chunks of at most an hour; a query sums them into steps
 * over [from, through) (milliseconds), steps without lines inside a chunk
 * giving 0. */
#ifndef LOKIC_QUERY_PATTERN_SAMPLES_H
#define LOKIC_QUERY_PATTERN_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#define PAT_SAMPLE_INTERVAL_MS 10000
#define PAT_MAX_CHUNK_AGE_MS 3600000

typedef struct pat_sample {
    int64_t ts;   /* Unix ms */
    int64_t v;
} pat_sample;

typedef struct pat_chunk {
    pat_sample *v;
    size_t n, cap;
} pat_chunk;

typedef struct pat_chunks {
    pat_chunk *c;
    size_t n, cap;
} pat_chunks;

/* Counts one line at ts_ms (lines older than the newest interval are not
 * counted, as in Loki). */
void pat_chunks_add(pat_chunks *c, int64_t ts_ms);

/* The counts within [from, through) summed per step (ms, >= the sample
 * interval), appended to *out (grown with lk_grow; *n and *cap updated),
 * in time order. */
void pat_chunks_range(const pat_chunks *c, int64_t from, int64_t through, int64_t step,
                      pat_sample **out, size_t *n, size_t *cap);

/* Drops the chunks whose newest count is before cutoff_ms. Returns the
 * number of lines the remaining chunks hold. */
int64_t pat_chunks_prune(pat_chunks *c, int64_t cutoff_ms);
void pat_chunks_free(pat_chunks *c);

#endif
