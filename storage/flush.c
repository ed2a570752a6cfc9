/* The flusher and retention: one background thread per ingester.
 *
 * Every flush period (or at once when a push closed a chunk, or when /flush
 * asked for every open chunk to be closed: ing_flush_all_async) a flush cycle
 * sweeps every stream: the open chunk of a stream idle for
 * chunk_idle_period is closed; closed chunks are encoded (chunkfile.c),
 * written to the chunk directory durably, and indexed in one LMDB write
 * transaction per batch; only then are they marked flushed, and dropped
 * from memory chunk_retain_period later. A chunk that failed to flush
 * (disk full, ...) stays in memory and is retried by the next cycle.
 *
 * Checkpointing: a WAL segment is deleted once no unflushed chunk may hold
 * entries from it. The cycle reads the active segment A first, then, while
 * sweeping, the lowest segment pinned by a chunk that stays unflushed (min:
 * the chunks this cycle flushes count only if their flush fails); after
 * the flush it deletes the segments below min(A, min). A record in a
 * segment below A was logged before the sweep began, and a push logs its
 * records only after its entries reached memory, so the sweep sees the
 * chunk holding them (or that chunk is already on disk); a chunk created
 * after the sweep began pins A or a later segment (the segment a push
 * notes is read before it stores anything).
 *
 * Retention runs every retention interval: periods that ended more than
 * retention_period ago are deleted from the index, then from the chunk
 * directory; then the delete requests due are applied to the chunks
 * (storage/compact.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/ing_int.h"

/* Chunks indexed in one LMDB write transaction (each commit syncs twice):
 * many small chunks (high cardinality) need few commits. */
#define BATCH_CHUNKS 8192
#define BATCH_BYTES (64 << 20)
/* Chunk file bytes encoded and written at a time within a batch (unless
 * ing_opts.flush_write_bytes says otherwise): the file bytes are a copy of
 * the chunks', so encoding a whole batch first held twice what was being
 * flushed. */
#define WRITE_BYTES (4 << 20)
/* Cycles a closed chunk triggers start at least this far apart, so that
 * under heavy ingest one cycle writes many chunks (fewer fsyncs competing
 * with the WAL's). */
#define KICK_SPACING_NS (200 * LK_NS_PER_MS)

typedef struct pending_removal {
    ing_tenant *t;
    st_stream *s; /* a reference */
} pending_removal;

typedef struct cycle {
    ing *g;
    st_sweep sw;
    lk_str *tenants;      /* per item */
    size_t tenants_cap;
    pending_removal *rm;
    size_t n_rm, cap_rm;
    size_t failed;
} cycle;

/* ---- writing one batch */

static void fill_ref(st_flush_item *it, lk_str file)
{
    const chk_chunk *c = it->c;
    it->ref = (chk_ref){ .sid = st_stream_sid(it->s),
                         .from = chk_chunk_mint(c),
                         .through = chk_chunk_maxt(c),
                         .crc = chk_file_crc(file),
                         .entries = (uint32_t)chk_chunk_entries(c),
                         .size = file.len };
}

/* Encodes, writes and indexes items [lo, hi); sets each item's ok. */
static void flush_batch(cycle *cy, size_t lo, size_t hi, lk_buf *err)
{
    ing *g = cy->g;
    size_t n = hi - lo;
    cdir_file *files = lk_calloc(n, sizeof(*files));
    lk_buf *bufs = lk_calloc(n, sizeof(*bufs));
    idx_chunk *ic = lk_calloc(n, sizeof(*ic));
    size_t n_ok = 0;
    size_t write_bytes = g->opts.flush_write_bytes > 0 ? (size_t)g->opts.flush_write_bytes
                                                       : WRITE_BYTES;
    for (size_t first = 0, i = 0; i < n; first = i) {
        size_t bytes = 0;
        for (; i < n && (i == first || bytes < write_bytes); i++) {
            st_flush_item *it = &cy->sw.items[lo + i];
            it->ok = false;
            if (chk_file_encode(it->c, st_stream_canonical(it->s), st_stream_fp(it->s),
                                &bufs[i]) != 0)
                LK_BUG("encoding a closed chunk failed");
            fill_ref(it, lk_buf_str(&bufs[i]));
            files[i] = (cdir_file){ .tenant = cy->tenants[lo + i], .ref = it->ref,
                                    .bytes = lk_buf_str(&bufs[i]) };
            bytes += bufs[i].len;
        }
        cdir_write(g->dir, files + first, i - first, err && err->len ? NULL : err);
        for (size_t k = first; k < i; k++) {
            lk_buf_free(&bufs[k]);
            files[k].bytes = (lk_str){ 0 };
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (files[i].rc != 0)
            continue;
        st_flush_item *it = &cy->sw.items[lo + i];
        ic[n_ok++] = (idx_chunk){ .tenant = cy->tenants[lo + i],
                                  .canonical = st_stream_canonical(it->s),
                                  .labels = st_stream_labels(it->s),
                                  .ref = it->ref };
    }
    if (idx_add(g->index, ic, n_ok, err) == 0) {
        for (size_t i = 0; i < n; i++) {
            st_flush_item *it = &cy->sw.items[lo + i];
            it->ok = files[i].rc == 0;
            if (it->ok) {
                atomic_fetch_add(&g->chunks_flushed, 1);
                atomic_fetch_add(&g->flushed_bytes, (long long)it->ref.size);
            }
        }
    }
    free(bufs);
    free(files);
    free(ic);
}

static void flush_items(cycle *cy, lk_buf *err)
{
    ing *g = cy->g;
    size_t lo = 0;
    while (lo < cy->sw.n_items) {
        size_t hi = lo;
        int64_t bytes = 0;
        while (hi < cy->sw.n_items && hi - lo < BATCH_CHUNKS && bytes < BATCH_BYTES)
            bytes += chk_chunk_comp_bytes(cy->sw.items[hi++].c);
        flush_batch(cy, lo, hi, err);
        lo = hi;
    }
    int64_t now = lk_now_ns();
    for (size_t i = 0; i < cy->sw.n_items; i++) {
        st_flush_item *it = &cy->sw.items[i];
        if (!it->ok) {
            cy->failed++;
            atomic_fetch_add(&g->flush_failures, 1);
        }
        st_stream_flush_done(it->s, it, now, g->retain_ns, &cy->sw);
        st_stream_unref(it->s);
    }
}

/* ---- the cycle */

static void sweep_tenant(cycle *cy, ing_tenant *t)
{
    size_t ns;
    st_stream **all = ing_tenant_streams(t, &ns);
    lk_str name = lk_str_n(t->name, t->name_len);
    for (size_t i = 0; i < ns; i++) {
        size_t before = cy->sw.n_items;
        bool empty = st_stream_sweep(all[i], &cy->sw);
        if (cy->sw.n_items > before) {
            cy->tenants = lk_grow(cy->tenants, &cy->tenants_cap, cy->sw.n_items,
                                  sizeof(*cy->tenants));
            for (size_t k = before; k < cy->sw.n_items; k++)
                cy->tenants[k] = name;
        }
        if (empty) {
            cy->rm = lk_grow(cy->rm, &cy->cap_rm, cy->n_rm + 1, sizeof(*cy->rm));
            cy->rm[cy->n_rm++] = (pending_removal){ t, all[i] };
        } else {
            st_stream_unref(all[i]);
        }
    }
    free(all);
}

int ing_flush_cycle(ing *g, bool force, size_t *unflushed, lk_buf *err)
{
    pthread_mutex_lock(&g->flushmu);
    cycle cy = { .g = g };
    cy.sw = (st_sweep){ .now_ns = lk_now_ns(), .idle_ns = g->idle_ns,
                        .retain_ns = g->retain_ns, .force = force, .flush = g->dir != NULL,
                        .min_seg = ST_NO_SEG };
    uint64_t active = g->wal ? wal_active_segment(g->wal) : ST_NO_SEG;
    size_t nt;
    ing_tenant **ts = ing_all_tenants(g, &nt);
    for (size_t i = 0; i < nt; i++)
        sweep_tenant(&cy, ts[i]);
    free(ts);

    flush_items(&cy, err);
    ing_add_deltas(g, cy.sw.d_chunks, cy.sw.d_blocks, cy.sw.d_head_bytes, cy.sw.d_comp_bytes);
    if (g->wal)
        wal_remove_before(g->wal, cy.sw.min_seg < active ? cy.sw.min_seg : active);

    int64_t now = lk_now_ns();
    for (size_t i = 0; i < cy.n_rm; i++) {
        ing_remove_stream(g, cy.rm[i].t, cy.rm[i].s, now);
        st_stream_unref(cy.rm[i].s);
    }
    if (unflushed)
        *unflushed = cy.sw.unflushed - (cy.sw.n_items - cy.failed);
    free(cy.rm);
    free(cy.tenants);
    free(cy.sw.items);
    pthread_mutex_unlock(&g->flushmu);
    if (cy.failed) {
        if (err && !err->len)
            lk_buf_printf(err, "%zu chunks could not be flushed", cy.failed);
        return LK_EIO;
    }
    return 0;
}

/* ---- retention */

typedef struct retention_cut {
    ing *g;
    int64_t now;
} retention_cut;

/* The tenant's first period kept: those below it ended more than its
 * retention ago (INT32_MIN: it keeps everything). */
static int32_t tenant_cut(void *ctx, lk_str tenant)
{
    const retention_cut *c = ctx;
    const ing_opts *o = &c->g->opts;
    int64_t keep = o->retention_of ? o->retention_of(o->retention_ctx, tenant) : c->g->retention_ns;
    return keep > 0 ? chk_period(c->now - keep) : INT32_MIN;
}

int ing_retention_cycle(ing *g, lk_buf *err)
{
    if ((g->retention_ns <= 0 && !g->opts.retention_of) || !g->index)
        return 0;
    retention_cut cut = { g, lk_now_ns() };
    size_t keys = 0, dirs = 0;
    int rc = idx_drop_expired(g->index, tenant_cut, &cut, &keys, err);
    if (rc == 0)
        rc = cdir_drop_expired(g->dir, tenant_cut, &cut, &dirs, err);
    if (keys || dirs) {
        atomic_fetch_add(&g->retention_periods, (long long)dirs);
        log_info("retention deleted old periods", "index_keys=%zu chunk_dirs=%zu", keys, dirs);
    }
    return rc;
}

/* ---- the thread */

static struct timespec abs_time(int64_t ns)
{
    return (struct timespec){ .tv_sec = (time_t)(ns / LK_NS_PER_SEC),
                              .tv_nsec = (long)(ns % LK_NS_PER_SEC) };
}

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * LK_NS_PER_SEC + ts.tv_nsec;
}

static void *bg_main(void *arg)
{
    ing *g = arg;
    lk_buf err = { 0 };
    bool failing = false;
    int64_t last = 0; /* start of the last cycle (CLOCK_REALTIME) */
    int64_t next_heads = realtime_ns() + ING_HEAD_CHECK_NS;
    pthread_mutex_lock(&g->bgmu);
    while (!g->bg_stop) {
        /* until the flush period is over, or a kick after the spacing; the
         * idle heads are cut in between */
        int64_t deadline = last + g->flush_every_ns;
        while (!g->bg_stop) {
            int64_t now = realtime_ns();
            if (now >= deadline || (g->bg_kick && now >= last + KICK_SPACING_NS))
                break;
            if (now >= next_heads) {
                pthread_mutex_unlock(&g->bgmu);
                ing_cut_idle_heads(g, lk_now_ns(), ING_HEAD_IDLE_NS);
                next_heads = realtime_ns() + ING_HEAD_CHECK_NS;
                pthread_mutex_lock(&g->bgmu);
                continue;
            }
            int64_t until = deadline < next_heads ? deadline : next_heads;
            if (g->bg_kick && last + KICK_SPACING_NS < until)
                until = last + KICK_SPACING_NS;
            struct timespec ts = abs_time(until);
            pthread_cond_timedwait(&g->bgcv, &g->bgmu, &ts);
        }
        if (g->bg_stop)
            break;
        g->bg_kick = false;
        bool force = g->bg_force;
        g->bg_force = false;
        last = realtime_ns();
        pthread_mutex_unlock(&g->bgmu);

        lk_buf_reset(&err);
        if (g->dir && ing_flush_cycle(g, force, NULL, &err) != 0) {
            if (!failing)
                log_error("flushing chunks failed; they stay in memory and are retried",
                          "err=\"%s\"", err.p ? err.p : "");
            failing = true;
        } else if (failing) {
            log_info("flushing chunks works again", "");
            failing = false;
        }
        int64_t now = lk_now_ns();
        if ((g->retention_ns > 0 || g->opts.retention_of || g->opts.delete_compact) &&
            now >= g->next_retention_ns) {
            g->next_retention_ns = now + g->retention_every_ns;
            lk_buf_reset(&err);
            if (ing_retention_cycle(g, &err) != 0)
                log_error("retention failed", "err=\"%s\"", err.p ? err.p : "");
            lk_buf_reset(&err);
            if (ing_delete_cycle(g, &err) != 0)
                log_error("applying delete requests failed; retried next cycle",
                          "err=\"%s\"", err.p ? err.p : "");
        }
        pthread_mutex_lock(&g->bgmu);
    }
    pthread_mutex_unlock(&g->bgmu);
    lk_buf_free(&err);
    return NULL;
}

int ing_bg_start(ing *g, lk_buf *err)
{
    if (g->bg_started || (!g->dir && g->retention_ns <= 0))
        return 0;
    g->bg_stop = false;
    g->next_retention_ns = lk_now_ns(); /* retention once at start */
    int e = pthread_create(&g->bg, NULL, bg_main, g);
    if (e != 0) { /* no thread: nothing to join later */
        if (err)
            lk_buf_printf(err, "starting the flusher thread failed: pthread_create: %s",
                          strerror(e));
        return LK_EIO;
    }
    g->bg_started = true;
    return 0;
}

void ing_bg_stop(ing *g)
{
    if (!g->bg_started)
        return;
    pthread_mutex_lock(&g->bgmu);
    g->bg_stop = true;
    pthread_cond_signal(&g->bgcv);
    pthread_mutex_unlock(&g->bgmu);
    pthread_join(g->bg, NULL);
    g->bg_started = false;
}

void ing_bg_kick(ing *g)
{
    if (!g->bg_started)
        return;
    pthread_mutex_lock(&g->bgmu);
    g->bg_kick = true;
    pthread_cond_signal(&g->bgcv);
    pthread_mutex_unlock(&g->bgmu);
}

void ing_flush_all_async(ing *g)
{
    if (!g->bg_started || !g->dir)
        return;
    pthread_mutex_lock(&g->bgmu);
    g->bg_force = true;
    g->bg_kick = true;
    pthread_cond_signal(&g->bgcv);
    pthread_mutex_unlock(&g->bgmu);
}

int ing_flush(ing *g, bool all, size_t *unflushed, lk_buf *err)
{
    if (!g->dir) {
        if (unflushed)
            *unflushed = 0;
        return 0;
    }
    return ing_flush_cycle(g, all, unflushed, err);
}

int ing_apply_retention(ing *g, lk_buf *err)
{
    return ing_retention_cycle(g, err);
}
