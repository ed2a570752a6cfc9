/* The label index of flushed chunks: one LMDB environment (the analogue of
 * Loki's boltdb-shipper index), keys grouped by tenant and by 24-hour
 * period so retention drops whole periods. Three databases:
 *
 *   postings  label name and value -> stream ids (sorted duplicates)
 *   series    stream id -> canonical labels
 *   chunks    stream id, from, through, crc -> size, entries
 *
 * A chunk is indexed in every period it overlaps. Selecting resolves
 * matchers through the postings (a regex matcher scans the values of its
 * name), checks each candidate's labels against all matchers, and keeps the
 * streams with a chunk overlapping [from, through]. Byte layout of the keys:
 * top of storage/index.c.
 *
 * Thread safety: any number of readers and one writer at a time (LMDB's
 * own rules; writers queue on LMDB's lock). */
#ifndef LOKIC_STORAGE_INDEX_H
#define LOKIC_STORAGE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/matcher.h"
#include "lib/str.h"
#include "storage/chunkref.h"

typedef struct idx idx;

/* Longest tenant the index stores (Loki's limit). */
#define IDX_MAX_TENANT 150

/* Opens (creating dir and the environment when missing). LK_EIO with the
 * reason in *err. */
int idx_open(const char *dir, idx **out, lk_buf *err);
void idx_close(idx *x); /* accepts NULL */

typedef struct idx_chunk {
    lk_str tenant;
    lk_str canonical;
    const lk_labels *labels; /* the parsed canonical labels */
    chk_ref ref;
} idx_chunk;

/* Indexes n chunks in one write transaction, durable on return (all or
 * nothing). LK_EINVAL for a tenant longer than IDX_MAX_TENANT or a chunk
 * with from > through; LK_EIO with LMDB's reason (disk full, ...). */
int idx_add(idx *x, const idx_chunk *v, size_t n, lk_buf *err);

typedef struct idx_series {
    chk_sid sid;
    lk_str canonical;      /* into the result's arena */
    chk_ref *chunks;       /* with_chunks: the overlapping chunks, by (from, through) */
    size_t n_chunks, cap;
} idx_series;

typedef struct idx_result {
    idx_series *v;         /* sorted by canonical labels */
    size_t n, cap;
    size_t *slots;         /* sid hash -> index + 1 (internal) */
    size_t n_slots;
    lk_arena arena;
    size_t skipped;        /* index entries skipped as malformed or corrupt */
    const char *skipped_db; /* the database of the first ("postings", ...) */
} idx_result;

/* The streams of tenant that match every matcher (nm may be 0) and have a
 * chunk overlapping [from, through] (inclusive), looked up in every period
 * the range touches. With with_chunks each carries those chunks. Index
 * entries that do not parse, and the rest of a scan that meets a corrupt
 * page, are skipped with a warning and counted in out->skipped. *out is replaced
 * (free it with idx_result_free, also after an error). */
int idx_select(idx *x, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
               int64_t through, bool with_chunks, idx_result *out, lk_buf *err);
void idx_result_free(idx_result *r);

/* The compactor's rewrite of a chunk (storage/compact.c): in one write
 * transaction, repl (NULL: nothing) is indexed for old's stream in every
 * period it overlaps and old's chunk keys are deleted, so a crash leaves
 * exactly one of them indexed. */
int idx_replace(idx *x, const idx_chunk *old, const chk_ref *repl, lk_buf *err);

/* Retention: deletes every key, of every tenant, in periods below
 * `period`. *deleted (may be NULL) receives the number of keys removed. */
int idx_drop_before(idx *x, int32_t period, size_t *deleted, lk_buf *err);
/* The same with each tenant's own cut (per-tenant retention_period). */
int idx_drop_expired(idx *x, chk_cutoff_fn cut, void *ctx, size_t *deleted, lk_buf *err);

/* A cheap consistency check: the first and the last key of each database
 * are read (under the fault guard, storage/faultguard.h), and *chunk_keys
 * receives the number of keys of the chunks database (a chunk has one per
 * period it overlaps, so at least as many as there are chunk files).
 * LK_ECORRUPT with the database named when a read meets a corrupt page. */
int idx_check(idx *x, size_t *chunk_keys, lk_buf *err);

/* Keys of one tenant and period in each database (tests, diagnostics). */
typedef struct idx_counts {
    size_t postings, series, chunks;
} idx_counts;
int idx_count(idx *x, lk_str tenant, int32_t period, idx_counts *c, lk_buf *err);

#endif
