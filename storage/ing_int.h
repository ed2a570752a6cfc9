/* The ingester's insides, shared by the files that make it up:
 * ingester.c (tenants, streams, push, recovery, shutdown), ingselect.c
 * (select: memory merged with the index), flush.c (the flusher and
 * retention). Private to storage/. */
#ifndef LOKIC_STORAGE_ING_INT_H
#define LOKIC_STORAGE_ING_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "storage/chunk.h"
#include "storage/chunkdir.h"
#include "storage/index.h"
#include "storage/memidx.h"
#include "storage/ingester.h"
#include "storage/stream.h"
#include "storage/wal.h"

#define ING_SHARDS 64
#define ING_SHARD_BITS 6

typedef struct ing_shard {
    pthread_mutex_t mu;
    st_stream **slots; /* NULL: empty */
    size_t cap, n;
} __attribute__((aligned(64))) ing_shard;

typedef struct ing_tenant {
    char *name;
    size_t name_len;
    uint64_t hash;
    atomic_long n_streams;
    mix *mix; /* the streams' label names and values */
    ing_shard shards[ING_SHARDS];
} ing_tenant;

struct ing {
    ing_opts opts;
    chk_limits lim;
    pthread_rwlock_t tmu;
    ing_tenant **tenants; /* open addressing by name hash; never removed */
    size_t tcap, tn;
    atomic_llong streams, streams_created;
    atomic_llong chunks, blocks, head_bytes, comp_bytes;

    /* durable storage (all NULL for a memory-only ingester) */
    char *wal_dir;
    wal *wal;             /* opened by ing_recover */
    cdir *dir;
    idx *index;
    atomic_bool ready;
    int64_t idle_ns, retain_ns, retention_ns, retention_every_ns, flush_every_ns;

    /* the background thread: flushing and retention */
    pthread_t bg;
    atomic_bool bg_started;
    pthread_mutex_t bgmu;
    pthread_cond_t bgcv;
    bool bg_stop, bg_kick;
    bool bg_force;           /* the next cycle closes every open chunk (/flush) */
    pthread_mutex_t flushmu; /* one flush cycle at a time */
    int64_t next_retention_ns;

    atomic_llong chunks_flushed, flush_failures, flushed_bytes;
    atomic_llong replayed, dropped_bytes, retention_periods;

    /* delete requests (storage/ingdelete.c) */
    struct del_store *dstore;     /* NULL without an index directory */
    pthread_mutex_t delmu;        /* writers of dels */
    struct ing_deletes *dels;     /* tenants with requests */
    size_t n_dels, cap_dels;
    atomic_size_t n_del_tenants;  /* 0: no tenant has any (the common case) */
    atomic_llong deleted_chunks_rewritten;
};

/* ingester.c */
ing_tenant *ing_tenant_get(ing *g, lk_str name, bool create);
/* References to the streams of a tenant (taken under the shard locks). */
st_stream **ing_tenant_streams(ing_tenant *t, size_t *n);
/* References to every tenant (tenants live as long as the ingester). */
ing_tenant **ing_all_tenants(ing *g, size_t *n);
/* Takes s out of the tenant's table when it is still empty and idle. */
void ing_remove_stream(ing *g, ing_tenant *t, st_stream *s, int64_t now_ns);
/* Applies counter deltas. */
void ing_add_deltas(ing *g, int64_t chunks, int64_t blocks, int64_t head_bytes,
                    int64_t comp_bytes);

/* ingheads.c */
/* A head is cut into a block after ING_HEAD_IDLE_NS without a push, when it
 * holds at least ING_HEAD_MIN_BYTES (smaller ones would make blocks of a
 * line or two out of a slow stream); the pass runs every
 * ING_HEAD_CHECK_NS and trims the heap after ING_TRIM_AFTER_CUTS cuts. */
#define ING_HEAD_IDLE_NS (5 * LK_NS_PER_SEC)
#define ING_HEAD_CHECK_NS (2 * LK_NS_PER_SEC)
#define ING_HEAD_MIN_BYTES 1024
#define ING_TRIM_AFTER_CUTS 256
/* Cuts the heads of the streams idle for idle_ns at now_ns (see
 * st_stream_cut_idle_head); returns how many. */
size_t ing_cut_idle_heads(ing *g, int64_t now_ns, int64_t idle_ns);

/* ingselect.c */
/* ing_select_stats for one tenant. */
int ing_select_one(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
                   int64_t through, bool with_data, sto_stats *stats, st_view ***out, size_t *n);

/* ingmulti.c */
/* ing_select_stats for tenants "a|b|...": see storage/ingester.h. */
int ing_select_tenants(ing *g, lk_str tenants, const lk_matcher *ms, size_t nm, int64_t from,
                       int64_t through, bool with_data, sto_stats *stats, st_view ***out,
                       size_t *n);

/* The index's streams (idx_select), with what it could not read logged
 * and recorded in *re (may be NULL). */
void ing_select_index(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
                      int64_t through, bool with_data, idx_result *res, sto_read_errors *re);

/* ingdelete.c */
int ing_deletes_open(ing *g, const char *index_dir, lk_buf *err);
void ing_deletes_close(ing *g);
/* Marks a request processed (durably, then in memory). */
int ing_delete_mark_processed(ing *g, lk_str tenant, const char *id, lk_buf *err);
/* References to the sets of every tenant with requests, and their names. */
typedef struct ing_del_tenant {
    lk_str tenant; /* owned by the caller's copy */
    const struct del_set *set;
} ing_del_tenant;
ing_del_tenant *ing_deletes_all(ing *g, size_t *n);
void ing_deletes_all_free(ing_del_tenant *v, size_t n);

/* flush.c */
/* One flush cycle: sweeps every stream (closing idle chunks, or all open
 * ones with force), writes the closed chunks to disk and the index,
 * deletes the WAL segments nothing pins any more, removes empty idle
 * streams. LK_EIO when a chunk could not be flushed (it stays in memory
 * and is retried). *unflushed (may be NULL): chunks still not on disk. */
int ing_flush_cycle(ing *g, bool force, size_t *unflushed, lk_buf *err);
/* One retention pass (nothing without a retention period). */
int ing_retention_cycle(ing *g, lk_buf *err);
/* Starts the background thread (when there is anything to flush or
 * retain, and it is not running). LK_EIO when the thread cannot be
 * created. */
int ing_bg_start(ing *g, lk_buf *err);
void ing_bg_stop(ing *g);
/* Wakes the background thread: a chunk was closed. */
void ing_bg_kick(ing *g);

#endif
