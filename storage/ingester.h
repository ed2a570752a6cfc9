/* The ingester: per tenant, a map of streams keyed by fingerprint; each
 * stream holds chunks made of compressed blocks plus an uncompressed head
 * (storage/chunk.h). Pushes to different streams run in parallel (sharded
 * stream maps, a lock per stream); a query takes a consistent snapshot of
 * each stream it reads (st_view), sharing the immutable compressed blocks.
 *
 * With durable storage configured (ing_opts.wal_dir, chunk_dir, index_dir)
 * the ingester also logs every accepted entry to the write-ahead log
 * before a push returns (ing_push_request, storage/wal.h), flushes closed chunks to
 * the chunk directory and the LMDB index in the background
 * (storage/chunkdir.h, storage/index.h), drops flushed chunks from memory
 * after chunk_retain_period, deletes periods past the retention, and reads
 * flushed chunks back for queries, merged with memory without duplicates.
 * Without it (all three NULL) it is a memory-only store, as in tests. */
#ifndef LOKIC_STORAGE_INGESTER_H
#define LOKIC_STORAGE_INGESTER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/matcher.h"
#include "lib/str.h"
#include "storage/iter.h"
#include "storage/wal.h"

typedef struct ing ing;

typedef struct ing_opts {
    int64_t chunk_block_size;      /* uncompressed head size that cuts a block */
    int64_t chunk_target_size;     /* compressed chunk size that cuts a chunk (0: 10 blocks) */
    int64_t max_chunk_age_ns;      /* chunk span that cuts a chunk; half of it is the
                                      out-of-order window */
    int max_streams_per_user;      /* 0 = unlimited */
    const char *chunk_encoding;    /* Loki's name of the block codec (NULL: zstd;
                                      storage/compress.h) */

    /* Durable storage; all optional (NULL/0: memory only, no flushing). */
    const char *wal_dir;           /* write-ahead log (NULL: none) */
    const char *chunk_dir;         /* flushed chunk files (NULL: never flush) */
    const char *index_dir;         /* LMDB index (required with chunk_dir); checked at
                                      open and rebuilt from the chunk files when missing
                                      or damaged (storage/reindex.h) */
    bool rebuild_index;            /* rebuild it at open whatever the check says */
    int64_t chunk_idle_period_ns;  /* idle stream's chunk is flushed (0: 30m) */
    int64_t chunk_retain_period_ns;/* flushed chunks stay in memory this long */
    int64_t retention_period_ns;   /* periods older than this are deleted (0: keep) */
    int64_t retention_interval_ns; /* how often retention runs (0: 10m) */
    /* Per-tenant retention (retention_period under the runtime config's
     * overrides): the tenant's retention, 0 to keep its data; called on the
     * retention thread with retention_ctx, which must be valid from
     * ing_recover on. NULL: retention_period_ns for every tenant. */
    int64_t (*retention_of)(void *ctx, lk_str tenant);
    void *retention_ctx;
    int64_t flush_check_period_ns; /* flusher sweep period (0: from the idle period) */
    int64_t flush_write_bytes;     /* chunk file bytes encoded and written at a time
                                      while flushing (0: 4 MiB) */
    int64_t wal_segment_size;      /* 0: 128 MiB */
    bool wal_compress;             /* snappy-compress WAL record bodies */
    /* Decodes the push requests the WAL keeps whole (ing_request.raw) when
     * it is replayed; without it such a record is skipped with an error. */
    const struct ing_push_decoder *push_decoder;
    /* Log deletion (storage/delete.h): the compiled form of delete
     * requests' queries (NULL: deletion is off); with delete_compact the
     * retention cycle also rewrites the chunks of requests older than
     * delete_cancel_period_ns (Loki's filter-and-delete). */
    const struct del_filter_ops *delete_filter;
    bool delete_compact;
    int64_t delete_cancel_period_ns;
} ing_opts;

/* One stream of a push request being replayed: labels parsed, sorted and
 * normalised exactly as the push handler did before storing them. */
typedef int (*ing_emit_fn)(void *ctx, const lk_labels *labels, lk_str canonical, uint64_t fp,
                           const lk_entry *entries, size_t n);
typedef struct ing_push_decoder {
    /* Calls emit for every stream with entries of the request `body` in
     * `format` (WAL_PUSH_*). Non-zero with the reason in *err when the
     * bytes do not decode (nothing emitted) or a stream's labels do not
     * parse (the other streams emitted). */
    int (*decode)(uint8_t format, lk_str body, ing_emit_fn emit, void *emit_ctx, lk_buf *err);
} ing_push_decoder;

int ing_create(const ing_opts *opts, ing **out);
/* ing_create with the reason of a failure in *err: LK_EINVAL for bad
 * options, LK_EIO when a storage directory or the index cannot be opened.
 * With wal_dir set, pushes are refused until ing_recover. */
int ing_open(const ing_opts *opts, ing **out, lk_buf *err);
/* Startup of a durable ingester, before it is ready: replays the WAL into
 * memory (a torn or corrupt tail is cut and logged), opens a new WAL
 * segment, and starts the flusher and retention thread. Without storage
 * it does nothing. LK_EIO with the reason when the WAL cannot be read or
 * the thread cannot be started (the ingester is then not ready). */
int ing_recover(ing *g, lk_buf *err);
/* Has ing_recover finished (always true without a WAL)? */
bool ing_ready(ing *g);
/* Orderly stop (SIGTERM), once no more pushes arrive: stops the background
 * threads, closes every open chunk and flushes everything in memory, and,
 * when all of it is on disk, deletes the WAL. LK_EIO when a flush failed
 * (the WAL is kept: nothing is lost). */
int ing_shutdown(ing *g, lk_buf *err);
/* Runs a flush cycle now (the background thread runs one every flush
 * period, and when a push closes a chunk): closed chunks, and the open
 * chunks of streams idle for chunk_idle_period (every open chunk with
 * all), are written to disk and indexed; WAL segments nothing needs any
 * more are deleted; empty idle streams leave memory. *unflushed (may be
 * NULL): chunks still only in memory afterwards. LK_EIO when a chunk could
 * not be flushed (it stays in memory and is retried). */
int ing_flush(ing *g, bool all, size_t *unflushed, lk_buf *err);
/* Loki's /flush: asks the flusher thread to run a cycle that closes every
 * open chunk and flushes everything in memory (as ing_flush with all), as
 * soon as the cycles' spacing allows, and returns without waiting for it.
 * Nothing without a chunk directory or before ing_recover started the
 * thread. */
void ing_flush_all_async(ing *g);
/* Runs retention now (it also runs every retention interval): deletes the
 * periods of each tenant that ended more than its retention ago. */
int ing_apply_retention(ing *g, lk_buf *err);
/* Stops the threads (without flushing) and frees everything; a durable
 * ingester destroyed without ing_shutdown recovers from its WAL, as after
 * a crash. Accepts NULL. */
void ing_destroy(ing *g);

typedef struct ing_push_result {
    size_t accepted;       /* entries stored */
    size_t duplicates;     /* identical (ts, line, metadata) dropped silently */
    size_t rejected;       /* entries refused (too far behind, too large) */
    int64_t bytes;         /* line bytes stored */
    bool created;          /* the stream was created by this push */
    int rc;                /* 0, or why entries were refused: LK_EINVAL (too
                              far behind, too large, tenant ID too long),
                              LK_ELIMIT (stream limit), LK_EIO (not ready) */
} ing_push_result;

/* One stream of a push request: labels validated and sorted as the push
 * handler stores them, canonical/fp their labels_canonical()/labels_hash(),
 * and the entries to store, in any order (a stream without any is
 * skipped). */
typedef struct ing_stream_in {
    const lk_labels *labels;
    lk_str canonical;
    uint64_t fp;
    const lk_entry *entries;
    size_t n;
} ing_stream_in;

/* A push request of one tenant. */
typedef struct ing_request {
    lk_str tenant;
    const ing_stream_in *streams;
    size_t n_streams;
    /* The request's bytes as they arrived, in `format` (WAL_PUSH_*): given
     * only when the streams hold every entry of those bytes unchanged
     * (nothing dropped or shortened by validation); else empty. */
    uint8_t format;
    lk_str raw;
    /* The tenant's max_streams_per_user under per-tenant overrides (0:
     * unlimited); NULL: ing_opts.max_streams_per_user. */
    const int *max_streams;
} ing_request;

/* Stores a push request and makes it durable, in one call:
 *  1. appends each stream's entries to memory (any order; Loki's rules,
 *     below), visible to queries at once;
 *  2. with a WAL, logs what was kept (stored or found duplicate): the raw
 *     bytes as one record when they were given and no entry was refused
 *     (a copy and a CRC: the request is already compressed); otherwise
 *     each stream's kept entries as a record (snappy-compressed);
 *  3. waits until those records are on disk (group commit: concurrent
 *     pushes share each fdatasync).
 * res (may be NULL) gets one result per stream. Returns 0 when every entry
 * was stored and is durable; otherwise the worst of these, with every
 * message appended to *err, one per line:
 *  - LK_EIO: the WAL write failed ("failed to write to the WAL: <reason>"):
 *    nothing may be acknowledged; what was stored stays in memory (a
 *    retried push finds it duplicate and logs it again). Also before
 *    ing_recover of an ingester with a WAL ("ingester not ready"), with
 *    nothing stored.
 *  - LK_ELIMIT: a new stream over max_streams_per_user, nothing of it
 *    stored:
 *      maximum active stream limit exceeded when trying to create stream
 *      <canonical>, reduce the number of active streams (reduce labels or
 *      reduce label values), or contact your Loki administrator to see if
 *      the limit can be increased, user: '<tenant>'
 *  - LK_EINVAL: entries older than (newest in stream - max_chunk_age/2)
 *    or too large for a block refused, the others stored:
 *      entry with timestamp <Go time> ignored, reason: 'entry too far
 *      behind, entry timestamp is: <RFC3339>, oldest acceptable timestamp
 *      is: <RFC3339>',\n
 *      ... (at most 10 lines) ...
 *      user '<tenant>', total ignored: N out of M for stream: <canonical>
 *    or a tenant ID longer than the index allows (nothing stored).
 * The entries of the other streams are stored and durable whatever the
 * result (with LK_EIO: stored, not durable). */
int ing_push_request(ing *g, const ing_request *rq, ing_push_result *res, lk_buf *err);

/* ing_push_request of one stream (no raw bytes: logged as entries). */
int ing_push(ing *g, lk_str tenant, const lk_labels *labels, lk_str canonical, uint64_t fp,
             const lk_entry *entries, size_t n, ing_push_result *res, lk_buf *err);

/* A consistent snapshot of one stream. */
typedef struct st_view st_view;

/* All streams of tenant matching every matcher (nm may be 0: all streams)
 * that have data in [from, through] (ns, inclusive). With with_data the
 * views can be iterated; without, they carry only labels and bounds
 * (cheap: for labels/series). *out is a malloc'd array of n views, sorted
 * by canonical labels.
 *
 * tenant may name several tenants, "a|b" (sorted, distinct: a multi-tenant
 * read, api/tenant.c), as Loki's multi-tenant querier reads them: matchers
 * on __tenant_id__ pick the tenants, the others select in each, and every
 * view is labelled __tenant_id__=<its tenant> (a stream's own
 * __tenant_id__ becomes original___tenant_id__, which matchers name by
 * that spelling). */
int ing_select(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
               int64_t through, bool with_data, st_view ***out, size_t *n);
/* ing_select for a query: what it could not read (index entries skipped as
 * corrupt, a failed index read, answered from memory) is recorded in
 * stats->read_errors (stats may be NULL: only the metric counts it). */
int ing_select_stats(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
                     int64_t through, bool with_data, sto_stats *stats, st_view ***out,
                     size_t *n);
void st_views_free(st_view **v, size_t n);

/* Sorted distinct strings; free with ing_strs_free. */
typedef struct ing_strs {
    lk_str *v;
    size_t n, cap;
    lk_arena arena; /* the bytes */
} ing_strs;
void ing_strs_free(ing_strs *s);

/* The label names (name NULL) or the values of label *name of tenant's
 * streams that have data in [from, through]: the answer of
 * ing_select(no matchers) reduced to names or values, from the tenant's
 * label index in memory and the index's series, without a view per
 * stream. *out is replaced (free it with ing_strs_free); what the index
 * could not read goes to *re (may be NULL: logged only). */
void ing_label_strs(ing *g, lk_str tenant, const lk_str *name, int64_t from, int64_t through,
                   sto_read_errors *re, ing_strs *out);

const lk_labels *st_view_labels(const st_view *v);
lk_str st_view_canonical(const st_view *v);
uint64_t st_view_fp(const st_view *v);

/* Entries with from <= ts < through, in time order (backward: newest first;
 * entries with equal timestamps come in arrival order forward and reversed
 * backward), identical (ts, line, metadata) merged. Counts into *stats
 * (may be NULL; not thread-safe: one stats per thread). Flushed chunks are
 * read from disk lazily, when the merge reaches their time; a chunk file
 * or block that is missing or corrupt is skipped with a warning (counted in
 * stats->corrupt_blocks, and recorded with its reason in
 * stats->read_errors). */
sto_iter *st_view_iter(const st_view *v, int64_t from, int64_t through, bool backward,
                      sto_stats *stats);

/* Options of st_view_iter_opts. */
typedef struct sto_iter_opts {
    /* Literal substrings that every line the caller keeps contains (the
     * |= filters before any stage that rewrites the line:
     * lp_required_substrings). A block whose token filter proves one of
     * them absent from all its lines is skipped without being
     * decompressed (stats->blocks_skipped). Lines are NOT filtered: the
     * caller still applies its filters to what comes out. */
    const lk_str *required;
    size_t n_required;
    /* When partial, entries come out with their timestamp and only the
     * parts `columns` names (STO_COL_*): without STO_COL_LINE an entry's
     * line has p NULL and len its length (STO_COL_LEN) or 0; without
     * STO_COL_META it has no metadata. Blocks are then decompressed column
     * by column (storage/columns.c). A block whose time range meets another
     * source's is still read whole, so that duplicates are found, and so
     * is every block of a stream a delete request matches (its line
     * filters read lines). */
    bool partial;
    unsigned columns;
    /* The tenant's delete requests (ing_deletes; NULL: none): deleted
     * entries never come out. */
    const struct del_set *deletes;
} sto_iter_opts;

#define STO_COL_LEN 1u
#define STO_COL_LINE 2u
#define STO_COL_META 4u

/* st_view_iter with options (opts may be NULL: the same as st_view_iter). */
sto_iter *st_view_iter_opts(const st_view *v, int64_t from, int64_t through, bool backward,
                           const sto_iter_opts *opts, sto_stats *stats);

/* What /loki/api/v1/index/stats reports for a selector over [from,
 * through]: the streams with a chunk overlapping the range, those chunks,
 * and their bytes and entries, each chunk's counted in proportion to the
 * part of its time span inside the range (Loki's estimate). Bytes are
 * uncompressed for chunks in memory (as Loki's ingesters count them) and
 * the chunk file's size for chunks only on disk (as Loki's index does). */
typedef struct ing_index_stats {
    uint64_t streams, chunks, bytes, entries;
} ing_index_stats;
int ing_index_stats_get(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
                        int64_t through, ing_index_stats *out);

/* The bytes of v's chunks in [from, through], each chunk weighted as
 * ing_index_stats_get weighs it (index/volume). */
uint64_t ing_view_bytes(const st_view *v, int64_t from, int64_t through);

/* ---- log deletion (storage/delete.h, storage/ingdelete.c) */
struct del_req;
/* Adds a delete request (start_ms <= end_ms, inclusive) for tenant, with
 * a new id, status received and created_ms now; durable on return, and
 * queries hide its lines from then on. *out (may be NULL) gets a copy
 * whose query points at `query`. LK_EPARSE when the query does not
 * compile (message in *err), LK_EIO when it cannot be stored,
 * LK_EUNSUPPORTED when deletion is off. */
int ing_delete_add(ing *g, lk_str tenant, lk_str query, int64_t start_ms, int64_t end_ms,
                   struct del_req *out, lk_buf *err);
/* Cancels a request: LK_ENOTFOUND when the tenant has none with that id,
 * LK_EINVAL when it is processed already. */
int ing_delete_cancel(ing *g, lk_str tenant, lk_str id, lk_buf *err);
/* The tenant's requests (a reference: del_set_release), NULL when it has
 * none; costs one atomic load while no tenant has any. */
const struct del_set *ing_deletes(ing *g, lk_str tenant);
/* The compactor's part (storage/compact.c): rewrites the flushed chunks
 * that hold lines of requests past their cancel period, then marks them
 * processed. Runs in the retention cycle with delete_compact. */
int ing_delete_cycle(ing *g, lk_buf *err);

/* Gauges for /metrics. */
typedef struct ing_counters {
    int64_t streams;          /* in memory */
    int64_t streams_created;  /* total */
    int64_t chunks;           /* in memory */
    int64_t blocks;
    int64_t head_bytes, compressed_bytes;
    /* durable storage (0 without it) */
    int64_t chunks_flushed, flush_failures, flushed_bytes;
    int64_t wal_records, wal_bytes, wal_syncs, wal_failures, wal_segments;
    int64_t wal_sync_ns;      /* time spent in fdatasync */
    int64_t wal_replayed_records, wal_dropped_bytes;
    int64_t retention_periods_deleted;
    /* process-wide query counters */
    int64_t blocks_filtered;  /* blocks skipped by their token filter */
    int64_t chunks_read;      /* chunk files opened by queries */
    int64_t blocks_decoded;   /* blocks queries decompressed */
    int64_t blocks_partial;   /* of those, read without their lines */
} ing_counters;
void ing_get_counters(ing *g, ing_counters *c);

#endif
