/* Iterating a stream snapshot (st_view_iter): the entries of its blocks,
 * its head copy and its on-disk chunks with from <= ts < through, in time
 * order.
 *
 * Each block and the head copy is a source; sources are numbered in arrival
 * order (the on-disk chunks first, by time, then the memory blocks in cut
 * order, the head last), and every entry of a source arrived after every
 * entry of a lower-numbered one. The output order is (ts, source, position)
 * forward and its exact reverse backward, so entries with equal timestamps
 * come in arrival order forward.
 *
 * A lazy k-way merge: sources wait in `pending`, a heap ordered by the time
 * they begin (mint forward, maxt backward); one is decoded only when the
 * merge reaches that time, and goes back to a pool of decode buffers when
 * done. An on-disk chunk waits in `pending` too, under its indexed time
 * range, and is opened (mapped; header and block index only) when the merge
 * reaches it; its blocks then join `pending`. Blocks that do not overlap
 * each other (in-order writes) are therefore decoded one at a time and read
 * sequentially (a heap of one); overlapping ones (out-of-order writes) are
 * merged through the heap. Blocks outside [from, through), and blocks whose
 * token filter proves a required substring absent, are never decompressed
 * (stats->blocks_skipped); a corrupt block or a chunk file that is missing
 * or does not open is skipped with a warning in the log and in the query's
 * read errors (storage/readerr.h).
 *
 * Duplicates: no source holds two identical entries (the head refuses
 * them), so only entries with the same timestamp from different sources can
 * be identical (a block read from memory and from disk, a WAL replayed over
 * chunks that were already flushed). The merge hands out one run of equal
 * timestamps at a time (pointers only: the sources of a run stay decoded
 * until it has been returned); when a run mixes sources, an entry equal to
 * an earlier one (in forward order) from another source is dropped, which
 * keeps the backward output the exact reverse of the forward one.
 *
 * Partial reads (sto_iter_opts.partial): a block whose time range meets no
 * other source's is decoded with the columns the caller asked for only
 * (a count reads timestamps and metadata, not lines); the others are
 * decoded whole, as duplicates are found by comparing whole entries.
 *
 * With the tenant's delete requests in the options, the iterator comes
 * wrapped in one that skips the entries they delete (del_iter_wrap,
 * storage/delset.c); a stream no request matches is not wrapped, and one
 * that is wrapped is read whole (the requests' line filters read lines).
 *
 * An iterator reads the view's memory blocks and head copy without
 * references of its own (the view must outlive its iterators); it holds
 * references to the blocks of the chunk files it opened. Several iterators
 * may read one view at the same time (a view is never modified). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/chunk.h"
#include "storage/chunkdir.h"
#include "storage/delete.h"
#include "storage/ingester.h"
#include "storage/readerr.h"
#include "storage/stream.h"

_Static_assert(STO_COL_LEN == CHK_COL_LEN && STO_COL_LINE == CHK_COL_LINE &&
                   STO_COL_META == CHK_COL_META,
               "storage/ingester.h and storage/chunk.h name the same columns");

static atomic_llong blocks_filtered_total, chunks_read_total, blocks_decoded_total,
    blocks_partial_total;

void sto_iter_get_counters(int64_t *blocks_filtered, int64_t *chunks_read)
{
    *blocks_filtered = atomic_load_explicit(&blocks_filtered_total, memory_order_relaxed);
    *chunks_read = atomic_load_explicit(&chunks_read_total, memory_order_relaxed);
}

void sto_iter_get_block_counters(int64_t *decoded, int64_t *partial)
{
    *decoded = atomic_load_explicit(&blocks_decoded_total, memory_order_relaxed);
    *partial = atomic_load_explicit(&blocks_partial_total, memory_order_relaxed);
}

typedef enum { SRC_BLOCK, SRC_HEAD, SRC_DISK } src_kind;

typedef struct vsrc {
    src_kind kind;
    chk_block *blk;        /* SRC_BLOCK */
    bool own;              /* blk is a reference of the iterator's */
    size_t disk;           /* SRC_DISK: index into the view's disk chunks */
    const chk_decoded *d;  /* while active */
    chk_decoded *buf;      /* pool buffer holding blk decoded */
    int64_t mint, maxt;
    bool opened;           /* SRC_DISK: its blocks are sources now */
    uint64_t idx;          /* arrival order */
    size_t lo, hi;         /* entries still to return: [lo, hi) */
} vsrc;

typedef struct run_ent {
    lk_entry e;
    uint64_t src;
    bool dup;
} run_ent;

typedef struct vec {
    vsrc **v;
    size_t n, cap;
} vec;

typedef struct view_iter {
    sto_iter base;
    const st_view *view;
    bool backward;
    int64_t from, through;
    sto_stats *stats, own_stats;
    const lk_str *required;
    size_t n_required;
    unsigned columns;      /* CHK_COL_* of blocks decoded on their own */
    vec all;               /* every source, for cleanup */
    vec pending;           /* heap, in activation order */
    vec heap;              /* active sources, by next entry */
    vec retired;           /* done, kept decoded until the run ends */
    chk_decoded **pool;
    size_t pool_n, pool_cap;
    run_ent *run;          /* entries of the current timestamp, output order */
    size_t run_n, run_cap, run_pos;
    lk_buf err;
} view_iter;

static void vec_push(vec *a, vsrc *s)
{
    a->v = lk_grow(a->v, &a->cap, a->n + 1, sizeof(*a->v));
    a->v[a->n++] = s;
}

/* ---- order */

static const lk_entry *cur(const view_iter *it, const vsrc *s)
{
    return it->backward ? &s->d->e[s->hi - 1] : &s->d->e[s->lo];
}

/* Does a come out before b? */
static bool before(const view_iter *it, const vsrc *a, const vsrc *b)
{
    int64_t ta = cur(it, a)->ts, tb = cur(it, b)->ts;
    if (ta != tb)
        return it->backward ? ta > tb : ta < tb;
    return it->backward ? a->idx > b->idx : a->idx < b->idx;
}

/* Is a activated before b? */
static bool starts_before(const view_iter *it, const vsrc *a, const vsrc *b)
{
    if (it->backward) {
        if (a->maxt != b->maxt)
            return a->maxt > b->maxt;
        return a->idx > b->idx;
    }
    if (a->mint != b->mint)
        return a->mint < b->mint;
    return a->idx < b->idx;
}

typedef bool (*less_fn)(const view_iter *it, const vsrc *a, const vsrc *b);

static void heap_down(view_iter *it, vec *h, less_fn less, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && less(it, h->v[l], h->v[m]))
            m = l;
        if (r < h->n && less(it, h->v[r], h->v[m]))
            m = r;
        if (m == i)
            return;
        vsrc *t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
}

static void heap_up(view_iter *it, vec *h, less_fn less, vsrc *s)
{
    vec_push(h, s);
    size_t i = h->n - 1;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!less(it, h->v[i], h->v[p]))
            break;
        vsrc *t = h->v[i];
        h->v[i] = h->v[p];
        h->v[p] = t;
        i = p;
    }
}

static vsrc *heap_pop(view_iter *it, vec *h, less_fn less)
{
    vsrc *top = h->v[0];
    h->v[0] = h->v[--h->n];
    if (h->n > 1)
        heap_down(it, h, less, 0);
    return top;
}

/* ---- sources */

static vsrc *new_src(view_iter *it, src_kind kind, int64_t mint, int64_t maxt, uint64_t idx)
{
    vsrc *s = lk_calloc(1, sizeof(*s));
    s->kind = kind;
    s->mint = mint;
    s->maxt = maxt;
    s->idx = idx;
    vec_push(&it->all, s);
    return s;
}

static bool in_range(const view_iter *it, int64_t mint, int64_t maxt)
{
    return mint < it->through && maxt >= it->from;
}

/* May the block hold a line with every required substring? */
static bool filter_passes(const view_iter *it, const chk_block *b)
{
    for (size_t i = 0; i < it->n_required; i++) {
        if (!chk_filter_may_contain(b, it->required[i]))
            return false;
    }
    return true;
}

/* Queues block b (a memory block, or own: a block of an opened file whose
 * reference passes to the iterator) unless the range or a filter rules it
 * out. */
static void add_block(view_iter *it, chk_block *b, bool own, uint64_t idx)
{
    const chk_block_info *in = chk_block_get_info(b);
    bool skip = !in_range(it, in->mint, in->maxt);
    if (!skip && it->n_required && !filter_passes(it, b)) {
        skip = true;
        atomic_fetch_add_explicit(&blocks_filtered_total, 1, memory_order_relaxed);
    }
    if (skip) {
        it->stats->blocks_skipped++;
        if (own)
            chk_block_unref(b);
        return;
    }
    vsrc *s = new_src(it, SRC_BLOCK, in->mint, in->maxt, idx);
    s->blk = b;
    s->own = own;
    heap_up(it, &it->pending, starts_before, s);
}

static chk_decoded *pool_get(view_iter *it)
{
    if (it->pool_n)
        return it->pool[--it->pool_n];
    return lk_calloc(1, sizeof(chk_decoded));
}

static void pool_put(view_iter *it, chk_decoded *d)
{
    it->pool = lk_grow(it->pool, &it->pool_cap, it->pool_n + 1, sizeof(*it->pool));
    it->pool[it->pool_n++] = d;
}

static void release(view_iter *it, vsrc *s)
{
    if (s->buf)
        pool_put(it, s->buf);
    s->buf = NULL;
    s->d = NULL;
    if (s->own) {
        chk_block_unref(s->blk);
        s->blk = NULL;
        s->own = false;
    }
}

static void release_retired(view_iter *it)
{
    for (size_t i = 0; i < it->retired.n; i++)
        release(it, it->retired.v[i]);
    it->retired.n = 0;
}

/* Records a block that does not decode (it->err says why) in the query's
 * read errors, naming the chunk file it came from. */
static void note_bad_block(view_iter *it, const vsrc *s)
{
    const st_view *v = it->view;
    size_t k = (size_t)(s->idx >> 32);
    const char *why = it->err.p ? it->err.p : "corrupt block";
    if (k >= v->n_disk) {
        sto_read_error(&it->stats->read_errors, STO_READ_BLOCK_CORRUPT, 1,
                       "%s (a block in memory of stream %.*s)", why,
                       LK_STR_FMT(st_view_canonical(v)));
        return;
    }
    lk_buf path = { 0 };
    cdir_path(v->dir, lk_str_n(v->tenant, v->tenant_len), &v->disk[k], &path);
    sto_read_error(&it->stats->read_errors, STO_READ_BLOCK_CORRUPT, 1,
                   "%s (file \"%s\", block %u)", why, path.p, (unsigned)(s->idx & UINT32_MAX));
    lk_buf_free(&path);
}

/* Does s's time range meet another source's? Then entries with equal
 * timestamps may be duplicates, which takes whole entries to find. */
static bool overlaps_other(const view_iter *it, const vsrc *s)
{
    for (size_t i = 0; i < it->all.n; i++) {
        const vsrc *o = it->all.v[i];
        if (o != s && !o->opened && o->mint <= s->maxt && s->mint <= o->maxt)
            return true;
    }
    return false;
}

static bool decode_block(view_iter *it, vsrc *s)
{
    chk_decoded *d = pool_get(it);
    lk_buf_reset(&it->err);
    unsigned cols = it->columns;
    if (cols != CHK_COL_ALL && overlaps_other(it, s))
        cols = CHK_COL_ALL;
    if (chk_block_decode_cols(s->blk, cols, d, &it->err) != 0) {
        pool_put(it, d);
        it->stats->corrupt_blocks++;
        note_bad_block(it, s);
        if (chk_block_first_warning(s->blk))
            log_warn("skipping corrupt block", "fp=%016llx mint=%lld maxt=%lld err=\"%s\"",
                     (unsigned long long)st_view_fp(it->view), (long long)s->mint,
                     (long long)s->maxt, it->err.p ? it->err.p : "");
        return false;
    }
    const chk_block_info *in = chk_block_get_info(s->blk);
    bool partial = cols != CHK_COL_ALL && in->format == CHK_FORMAT_COLS;
    it->stats->compressed_bytes += in->comp_len;
    it->stats->decompressed_bytes += d->bytes;
    it->stats->decompressed_lines += (int64_t)d->n;
    it->stats->blocks_decoded++;
    it->stats->blocks_partial += partial;
    if (in->meta_bytes > 0)
        it->stats->decompressed_meta_bytes += in->meta_bytes;
    atomic_fetch_add_explicit(&blocks_decoded_total, 1, memory_order_relaxed);
    if (partial)
        atomic_fetch_add_explicit(&blocks_partial_total, 1, memory_order_relaxed);
    s->buf = d;
    s->d = d;
    return true;
}

/* Why a chunk file could not be opened, from cdir_read's answer. */
static sto_read_reason unreadable_reason(int rc)
{
    switch (rc) {
    case LK_ENOTFOUND:
        return STO_READ_CHUNK_MISSING;
    case LK_ECORRUPT:
    case LK_EUNSUPPORTED:
        return STO_READ_CHUNK_CORRUPT;
    default:
        return STO_READ_CHUNK_UNREADABLE;
    }
}

/* Opens an on-disk chunk and queues its blocks. */
static void open_disk(view_iter *it, vsrc *s)
{
    const st_view *v = it->view;
    const chk_ref *r = &v->disk[s->disk];
    chk_chunk *c = NULL;
    lk_buf_reset(&it->err);
    /* the stream's stored labels, not a multi-tenant read's relabelling */
    int rc = cdir_read(v->dir, lk_str_n(v->tenant, v->tenant_len), r, st_stream_canonical(v->s),
                       &c, &it->err);
    if (rc != 0) {
        it->stats->corrupt_blocks++;
        sto_read_error(&it->stats->read_errors, unreadable_reason(rc), 1, "%s",
                       it->err.p ? it->err.p : lk_strerror(rc));
        log_warn("skipping an unreadable chunk file", "fp=%016llx from=%lld through=%lld "
                 "err=\"%s\"",
                 (unsigned long long)r->sid.fp, (long long)r->from, (long long)r->through,
                 it->err.p ? it->err.p : lk_strerror(rc));
        return;
    }
    atomic_fetch_add_explicit(&chunks_read_total, 1, memory_order_relaxed);
    it->stats->chunks_downloaded++;
    size_t nb = chk_chunk_nblocks(c);
    for (size_t i = 0; i < nb; i++)
        add_block(it, chk_block_ref(chk_chunk_block(c, i)), true, s->idx + i);
    chk_chunk_free(c); /* the queued blocks keep their own references */
}

static void count_head(view_iter *it, const vsrc *s)
{
    int64_t bytes = 0;
    for (size_t i = s->lo; i < s->hi; i++) {
        const lk_entry *e = &s->d->e[i];
        bytes += (int64_t)e->line.len;
        for (size_t k = 0; k < e->n_meta; k++)
            bytes += (int64_t)(e->meta[k].name.len + e->meta[k].value.len);
    }
    it->stats->head_chunk_bytes += bytes;
    it->stats->head_chunk_lines += (int64_t)(s->hi - s->lo);
}

static void activate(view_iter *it, vsrc *s)
{
    if (s->kind == SRC_DISK) {
        s->opened = true;
        open_disk(it, s);
        return;
    }
    if (s->kind == SRC_BLOCK) {
        if (!decode_block(it, s)) {
            release(it, s);
            return;
        }
    } else {
        s->d = &it->view->head;
    }
    s->lo = chk_decoded_lower_bound(s->d, it->from);
    s->hi = chk_decoded_lower_bound(s->d, it->through);
    if (s->kind == SRC_HEAD)
        count_head(it, s);
    if (s->lo >= s->hi) {
        release(it, s);
        return;
    }
    heap_up(it, &it->heap, before, s);
}

/* Must the next pending source join the merge before the heap's top entry
 * is returned? */
static bool due(const view_iter *it, const vsrc *p)
{
    if (it->heap.n == 0)
        return true;
    int64_t t = cur(it, it->heap.v[0])->ts;
    return it->backward ? p->maxt >= t : p->mint <= t;
}

static void advance(view_iter *it, vsrc *s)
{
    if (it->backward)
        s->hi--;
    else
        s->lo++;
    if (s->lo < s->hi) {
        if (it->heap.n > 1)
            heap_down(it, &it->heap, before, 0);
        return;
    }
    heap_pop(it, &it->heap, before);
    vec_push(&it->retired, s);
}

/* ---- runs of equal timestamps, and duplicates */

static bool entry_eq(const lk_entry *a, const lk_entry *b)
{
    if (a->ts != b->ts || !lk_str_eq(a->line, b->line) || a->n_meta != b->n_meta)
        return false;
    for (size_t i = 0; i < a->n_meta; i++) {
        if (!lk_str_eq(a->meta[i].name, b->meta[i].name) ||
            !lk_str_eq(a->meta[i].value, b->meta[i].value))
            return false;
    }
    return true;
}

/* Marks the entries of a run that repeat an earlier one (in forward order)
 * from another source. Backward runs are the reverse of forward ones, so the
 * copies kept are the same in both directions. */
static void mark_dups(view_iter *it)
{
    size_t n = it->run_n;
    for (size_t k = 1; k < n; k++) {
        run_ent *r = &it->run[it->backward ? n - 1 - k : k];
        for (size_t j = 0; j < k && !r->dup; j++) {
            const run_ent *q = &it->run[it->backward ? n - 1 - j : j];
            if (!q->dup && q->src != r->src && entry_eq(&q->e, &r->e))
                r->dup = true;
        }
        if (r->dup)
            it->stats->duplicates++;
    }
}

/* Takes every entry with the next timestamp out of the merge into the run.
 * false at the end. */
static bool gather_run(view_iter *it)
{
    release_retired(it); /* the previous run has been returned */
    it->run_n = it->run_pos = 0;
    bool mixed = false;
    int64_t t = 0;
    uint64_t first = 0;
    for (;;) {
        while (it->pending.n && due(it, it->pending.v[0]))
            activate(it, heap_pop(it, &it->pending, starts_before));
        if (it->heap.n == 0)
            break;
        vsrc *s = it->heap.v[0];
        const lk_entry *e = cur(it, s);
        if (it->run_n == 0) {
            t = e->ts;
            first = s->idx;
        } else if (e->ts != t) {
            break;
        }
        mixed |= s->idx != first;
        it->run = lk_grow(it->run, &it->run_cap, it->run_n + 1, sizeof(*it->run));
        it->run[it->run_n++] = (run_ent){ *e, s->idx, false };
        advance(it, s);
    }
    if (mixed)
        mark_dups(it);
    return it->run_n > 0;
}

/* ---- the iterator */

/* The common case of in-order data: one source in the merge and none due
 * to join it, so the next entry is its next one and cannot have a
 * duplicate. false when the general merge must run. */
static bool next_alone(view_iter *it, lk_entry *out)
{
    if (it->run_pos < it->run_n || it->heap.n != 1)
        return false;
    if (it->pending.n && due(it, it->pending.v[0]))
        return false;
    release_retired(it); /* the entry returned before is done with */
    it->run_n = it->run_pos = 0;
    vsrc *s = it->heap.v[0];
    *out = *cur(it, s);
    advance(it, s);
    return true;
}

static int vi_next(sto_iter *base, lk_entry *out)
{
    view_iter *it = (view_iter *)base;
    if (next_alone(it, out))
        return 1;
    for (;;) {
        while (it->run_pos < it->run_n) {
            const run_ent *r = &it->run[it->run_pos++];
            if (!r->dup) {
                *out = r->e;
                return 1;
            }
        }
        if (!gather_run(it))
            return 0;
    }
}

static void free_decoded(chk_decoded *d)
{
    if (!d)
        return;
    chk_decoded_free(d);
    free(d);
}

static void vi_destroy(sto_iter *base)
{
    view_iter *it = (view_iter *)base;
    for (size_t i = 0; i < it->all.n; i++) {
        vsrc *s = it->all.v[i];
        free_decoded(s->buf);
        if (s->own)
            chk_block_unref(s->blk);
        free(s);
    }
    for (size_t i = 0; i < it->pool_n; i++)
        free_decoded(it->pool[i]);
    free(it->all.v);
    free(it->pending.v);
    free(it->heap.v);
    free(it->retired.v);
    free(it->pool);
    free(it->run);
    lk_buf_free(&it->err);
    free(it);
}

static const sto_iter_ops view_iter_ops = { .next = vi_next, .destroy = vi_destroy };

/* Disk chunk k's blocks are numbered k << 32 | block; memory blocks and the
 * head come after every disk chunk. */
static uint64_t disk_idx(size_t k)
{
    return (uint64_t)k << 32;
}

static void add_sources(view_iter *it, const st_view *v)
{
    for (size_t k = 0; k < v->n_disk; k++) {
        const chk_ref *r = &v->disk[k];
        if (!in_range(it, r->from, r->through)) {
            it->stats->blocks_skipped++;
            continue;
        }
        vsrc *s = new_src(it, SRC_DISK, r->from, r->through, disk_idx(k));
        s->disk = k;
        heap_up(it, &it->pending, starts_before, s);
    }
    uint64_t base = disk_idx(v->n_disk);
    for (size_t i = 0; i < v->n_blocks; i++)
        add_block(it, v->blocks[i], false, base + i);
    const chk_decoded *h = &v->head;
    if (v->has_head && h->n && in_range(it, h->e[0].ts, h->e[h->n - 1].ts)) {
        vsrc *s = new_src(it, SRC_HEAD, h->e[0].ts, h->e[h->n - 1].ts, base + v->n_blocks);
        heap_up(it, &it->pending, starts_before, s);
    }
}

sto_iter *st_view_iter_opts(const st_view *v, int64_t from, int64_t through, bool backward,
                           const sto_iter_opts *opts, sto_stats *stats)
{
    view_iter *it = lk_calloc(1, sizeof(*it));
    it->base.ops = &view_iter_ops;
    it->view = v;
    it->backward = backward;
    it->from = from;
    it->through = through;
    it->stats = stats ? stats : &it->own_stats;
    it->columns = CHK_COL_ALL;
    if (opts) {
        it->required = opts->required;
        it->n_required = opts->n_required;
        if (opts->partial)
            it->columns = opts->columns & CHK_COL_ALL;
    }
    it->stats->blocks_skipped += (int64_t)v->blocks_skipped;
    it->stats->total_chunks_ref += (int64_t)(v->n_chunks + v->n_disk);
    for (size_t i = 0; i < v->n_chunks; i++) {
        if (from < through && in_range(it, v->chunks[i].mint, v->chunks[i].maxt))
            it->stats->total_chunks_matched++;
    }
    for (size_t i = 0; i < v->n_disk; i++) {
        if (from < through && in_range(it, v->disk[i].from, v->disk[i].through))
            it->stats->total_chunks_matched++;
    }
    if (from < through)
        add_sources(it, v);
    else
        it->stats->blocks_skipped += (int64_t)(v->n_blocks + v->n_disk);
    /* a multi-tenant read's view carries its own tenant's requests, which
     * name the stream's stored labels */
    const struct del_set *dels = v->relabel ? v->relabel->deletes : opts ? opts->deletes : NULL;
    if (dels && from < through) {
        sto_iter *w = del_iter_wrap(&it->base, dels, st_stream_labels(v->s), from, through - 1);
        if (w != &it->base)
            it->columns = CHK_COL_ALL; /* nothing is decoded before the first next */
        return w;
    }
    return &it->base;
}

sto_iter *st_view_iter(const st_view *v, int64_t from, int64_t through, bool backward,
                      sto_stats *stats)
{
    return st_view_iter_opts(v, from, through, backward, NULL, stats);
}
