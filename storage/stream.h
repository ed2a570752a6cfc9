/* One stream of the ingester: its labels and chunks, the push logic (Loki's
 * out-of-order window and duplicate rules, chunk cutting), the flush
 * bookkeeping of its chunks (which WAL segment they pin, which are on disk)
 * and consistent snapshots for readers (st_view). Private to storage/. */
#ifndef LOKIC_STORAGE_STREAM_H
#define LOKIC_STORAGE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "storage/chunk.h"
#include "storage/chunkref.h"
#include "storage/ingester.h"

typedef struct st_stream st_stream;
struct cdir;

/* No WAL segment (memory-only ingester, or nothing logged). */
#define ST_NO_SEG WAL_NO_SEGMENT

/* Copies labels and canonical; refcount 1. */
st_stream *st_stream_new(const lk_labels *labels, lk_str canonical, uint64_t fp);
st_stream *st_stream_ref(st_stream *s);
/* Has s entries in [from, through] not yet on disk (the compactor waits
 * for them before it calls a delete request processed)? */
bool st_stream_unflushed_in(st_stream *s, int64_t from, int64_t through);
void st_stream_unref(st_stream *s); /* accepts NULL */

uint64_t st_stream_fp(const st_stream *s);
chk_sid st_stream_sid(const st_stream *s);
lk_str st_stream_canonical(const st_stream *s);
const lk_labels *st_stream_labels(const st_stream *s);
/* Taken out of the ingester's table (st_stream_try_remove said so). */
bool st_stream_removed(st_stream *s);
/* Has a chunk in memory with entries in [from, through] (what makes
 * st_stream_view return a view). */
bool st_stream_overlaps(st_stream *s, int64_t from, int64_t through);

#define ST_MAX_LISTED_REJECTS 10

/* What one push did to a stream: counts for ing_push_result, which entries
 * were refused (for the WAL) and the first of them (for the error
 * message), and deltas for the counters. */
typedef struct st_push_acc {
    size_t accepted, duplicates, rejected;
    int64_t bytes;
    uint8_t *refused;    /* refused[i] != 0: entry i was refused; NULL when
                            none was (st_push_acc_free) */
    size_t n_listed;
    struct {
        size_t idx;      /* into the pushed entries */
        int64_t cutoff;  /* oldest acceptable timestamp at that moment */
        bool too_large;  /* refused for size, not for age */
    } listed[ST_MAX_LISTED_REJECTS];
    int64_t d_chunks, d_blocks, d_head_bytes, d_comp_bytes;
    size_t closed;       /* chunks closed (ready to flush) */
    bool removed;        /* the stream had been removed: nothing done (nothing
                            allocated), look it up again */
} st_push_acc;

/* How to push. */
typedef struct st_push_opts {
    const chk_limits *lim;
    bool replay;         /* WAL replay: no entry is refused for its age */
    uint64_t wal_seg;    /* a lower bound of the WAL segment that will hold
                            these entries (ST_NO_SEG: no WAL) */
    int64_t now_ns;      /* wall clock, for the idle period */
    long max_streams;    /* the tenant's stream limit (0: none), read by the ingester */
} st_push_opts;

/* Appends entries under the stream's lock (see ing_push_request for the
 * rules). Counts into *acc (zero it first; free it with st_push_acc_free).
 * Logging what was kept is the caller's, afterwards. */
void st_stream_push(st_stream *s, const st_push_opts *o, const lk_entry *entries, size_t n,
                    st_push_acc *acc);
void st_push_acc_free(st_push_acc *acc);

/* ---- flushing (storage/flush.c drives these) */

/* A closed chunk on its way to disk; the stream keeps owning it (only the
 * flusher frees chunks, so it stays valid until st_stream_flush_done). */
typedef struct st_flush_item {
    st_stream *s;        /* a reference */
    chk_chunk *c;
    chk_ref ref;         /* filled by the flusher */
    bool ok;
} st_flush_item;

typedef struct st_sweep {
    int64_t now_ns, idle_ns, retain_ns;
    bool force;          /* close every open chunk (shutdown) */
    bool flush;          /* hand closed chunks over (a chunk directory exists) */
    /* out */
    st_flush_item *items;
    size_t n_items, cap_items;
    uint64_t min_seg;    /* lowest WAL segment an unflushed chunk pins */
    size_t unflushed;    /* chunks not on disk (after this sweep) */
    int64_t d_chunks, d_blocks, d_head_bytes, d_comp_bytes;
} st_sweep;

/* Under the stream's lock: closes the open chunk when the stream has been
 * idle for idle_ns (or force), adds its closed, unflushed chunks to
 * sw->items (marked as being flushed), drops flushed chunks older than
 * retain_ns, lowers sw->min_seg for the chunks that stay unflushed (the
 * ones handed over count only when their flush fails). Returns true when the stream holds no
 * chunk and has been idle for idle_ns (the ingester may remove it). */
bool st_stream_sweep(st_stream *s, st_sweep *sw);
/* The flush of it->c ended (it->ok, it->ref): the chunk is on disk (and
 * dropped at once when retain_ns is 0), or back to unflushed (and its WAL
 * segment lowers sw->min_seg). */
void st_stream_flush_done(st_stream *s, const st_flush_item *it, int64_t now_ns,
                          int64_t retain_ns, st_sweep *sw);
/* Under the stream's lock: when the open chunk's head holds at least
 * min_bytes and the stream has had no push for idle_ns, cuts the head into
 * a compressed block of the same chunk (readers see it there) and frees the
 * head's buffers. Adds the counters' deltas to sw; true when it cut. */
bool st_stream_cut_idle_head(st_stream *s, int64_t now_ns, int64_t idle_ns, int64_t min_bytes,
                             st_sweep *sw);
/* Marks the stream removed when it is still empty and idle (true); a push
 * that reaches a removed stream looks it up again (acc->removed). */
bool st_stream_try_remove(st_stream *s, int64_t now_ns, int64_t idle_ns);

/* ---- snapshots */

/* A consistent snapshot of the stream for [from, through] (inclusive): NULL
 * when no chunk overlaps. With with_data it holds references to the
 * overlapping blocks and a copy of the overlapping head entries, and the
 * references of its flushed chunks (so that the same chunks read from the
 * index are not read twice). */
st_view *st_stream_view(st_stream *s, int64_t from, int64_t through, bool with_data);
/* A view of the stream with no memory data (its chunks are on disk). */
st_view *st_view_new(st_stream *s, bool with_data);

typedef struct st_view_chunk {
    int64_t mint, maxt;
    int64_t entries, raw_bytes; /* the whole chunk's, at the snapshot (raw_bytes:
                                 * chk_chunk_loki_bytes) */
} st_view_chunk;

/* A view's labels when they are not its stream's: a multi-tenant read
 * adds __tenant_id__ (storage/ingmulti.c). Owned by the view. */
typedef struct st_relabel {
    lk_labels labels;
    lk_buf canonical;
    uint64_t fp;
    const struct del_set *deletes; /* its tenant's delete requests (a reference), or NULL */
} st_relabel;

struct st_view {
    st_stream *s;               /* reference: labels, canonical, fp */
    st_relabel *relabel;        /* NULL: the stream's labels */
    bool with_data;
    chk_block **blocks;         /* references, in arrival order */
    size_t n_blocks;
    st_view_chunk *chunks;      /* the overlapping chunks' ranges */
    size_t n_chunks;
    size_t blocks_skipped;      /* blocks left out of the snapshot */
    bool has_head;
    chk_decoded head;           /* copy of the head entries in range */
    /* flushed chunks */
    chk_ref *flushed;           /* in memory and on disk (in blocks[]) */
    size_t n_flushed;
    chk_ref *disk;              /* on disk only: read by the iterators */
    size_t n_disk;
    const struct cdir *dir;     /* where disk[] lives */
    char *tenant;
    size_t tenant_len;
};

/* Adds the on-disk chunks refs[0..n) that are not among v->flushed. */
void st_view_add_disk(st_view *v, const struct cdir *dir, lk_str tenant, const chk_ref *refs,
                      size_t n);
void st_view_free(st_view *v);

/* Process-wide counters of the view iterators. */
void sto_iter_get_counters(int64_t *blocks_filtered, int64_t *chunks_read);
/* viewiter.c: blocks queries decompressed, and of those the ones read
 * without their lines (sto_iter_opts.partial). */
void sto_iter_get_block_counters(int64_t *decoded, int64_t *partial);

#endif
