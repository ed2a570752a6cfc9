/* Iterating a stream snapshot (st_view_iter): the entries of its blocks and
 * head copy with from <= ts < through, in time order.
 *
 * Each block and the head copy is a source; sources are numbered in arrival
 * order (blocks in cut order, the head last), and every entry of a source
 * arrived after every entry of a lower-numbered source. The output order is
 * (ts, source, position) forward and its exact reverse backward, so entries
 * with equal timestamps come in arrival order forward.
 *
 * A lazy k-way merge: sources wait in `pending`, sorted by the time they
 * begin (mint forward, maxt backward); one is decoded only when the merge
 * reaches that time, and goes back to a pool of decode buffers when done.
 * Blocks that do not overlap each other (in-order writes) are therefore
 * decoded one at a time and read sequentially (a heap of one); overlapping
 * ones (out-of-order writes) are merged through the heap. Blocks outside
 * [from, through) are never decompressed (stats->blocks_skipped); a corrupt
 * block is skipped with one warning.
 *
 * Duplicates: no source holds two identical entries (the head refuses
 * them), so only entries with the same timestamp from different sources can
 * be identical. The merge hands out one run of equal timestamps at a time
 * (pointers only: the sources of a run stay decoded until it has been
 * returned); when a run mixes sources, an entry equal to an earlier one
 * (in forward order) from another source is dropped, which keeps the
 * backward output the exact reverse of the forward one.
 *
 * An iterator reads the view's blocks and head copy without references of
 * its own: the view must outlive its iterators. Several iterators may read
 * one view at the same time (a view is never modified). */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "storage/chunk.h"
#include "storage/ingester.h"
#include "storage/stream.h"

typedef struct vsrc {
    chk_block *blk;        /* NULL: the view's head copy */
    const chk_decoded *d;  /* while active */
    chk_decoded *buf;      /* pool buffer holding blk decoded */
    int64_t mint, maxt;
    uint32_t idx;          /* arrival order */
    size_t lo, hi;         /* entries still to return: [lo, hi) */
} vsrc;

typedef struct run_ent {
    lk_entry e;
    uint32_t src;
    bool dup;
} run_ent;

typedef struct view_iter {
    st_iter base;
    bool backward;
    int64_t from, through;
    st_stats *stats, own_stats;
    const chk_decoded *head;
    vsrc *srcs;
    size_t n_srcs;
    vsrc **pending;        /* in activation order */
    size_t n_pending, next_pending;
    vsrc **heap;
    size_t heap_n;
    vsrc **retired;        /* done, kept decoded until the run ends */
    size_t n_retired;
    chk_decoded **pool;
    size_t pool_n;
    run_ent *run;          /* entries of the current timestamp, output order */
    size_t run_n, run_cap, run_pos;
    lk_buf err;
} view_iter;

/* ---- sources */

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

static void sift_down(view_iter *it, size_t i)
{
    vsrc **h = it->heap;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < it->heap_n && before(it, h[l], h[m]))
            m = l;
        if (r < it->heap_n && before(it, h[r], h[m]))
            m = r;
        if (m == i)
            return;
        vsrc *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_push(view_iter *it, vsrc *s)
{
    size_t i = it->heap_n++;
    it->heap[i] = s;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(it, it->heap[i], it->heap[p]))
            break;
        vsrc *t = it->heap[i];
        it->heap[i] = it->heap[p];
        it->heap[p] = t;
        i = p;
    }
}

static chk_decoded *pool_get(view_iter *it)
{
    if (it->pool_n)
        return it->pool[--it->pool_n];
    return lk_calloc(1, sizeof(chk_decoded));
}

static void release(view_iter *it, vsrc *s)
{
    if (s->buf)
        it->pool[it->pool_n++] = s->buf;
    s->buf = NULL;
    s->d = NULL;
}

static void release_retired(view_iter *it)
{
    for (size_t i = 0; i < it->n_retired; i++)
        release(it, it->retired[i]);
    it->n_retired = 0;
}

static bool decode_block(view_iter *it, vsrc *s)
{
    chk_decoded *d = pool_get(it);
    lk_buf_reset(&it->err);
    if (chk_block_decode(s->blk, d, &it->err) != 0) {
        it->pool[it->pool_n++] = d;
        it->stats->corrupt_blocks++;
        if (chk_block_first_warning(s->blk))
            log_warn("skipping corrupt block", "mint=%lld maxt=%lld err=\"%s\"",
                     (long long)s->mint, (long long)s->maxt, it->err.p ? it->err.p : "");
        return false;
    }
    it->stats->compressed_bytes += chk_block_get_info(s->blk)->comp_len;
    it->stats->decompressed_bytes += d->bytes;
    it->stats->decompressed_lines += (int64_t)d->n;
    s->buf = d;
    s->d = d;
    return true;
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
    if (s->blk) {
        if (!decode_block(it, s))
            return;
    } else {
        s->d = it->head;
    }
    s->lo = chk_decoded_lower_bound(s->d, it->from);
    s->hi = chk_decoded_lower_bound(s->d, it->through);
    if (!s->blk)
        count_head(it, s);
    if (s->lo >= s->hi) {
        release(it, s);
        return;
    }
    heap_push(it, s);
}

/* Must the next pending source join the merge before the heap's top entry
 * is returned? */
static bool due(const view_iter *it, const vsrc *p)
{
    if (it->heap_n == 0)
        return true;
    int64_t t = cur(it, it->heap[0])->ts;
    return it->backward ? p->maxt >= t : p->mint <= t;
}

static void advance(view_iter *it, vsrc *s)
{
    if (it->backward)
        s->hi--;
    else
        s->lo++;
    if (s->lo < s->hi) {
        if (it->heap_n > 1)
            sift_down(it, 0);
        return;
    }
    it->heap[0] = it->heap[--it->heap_n];
    if (it->heap_n > 1)
        sift_down(it, 0);
    it->retired[it->n_retired++] = s;
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
    uint32_t first = 0;
    for (;;) {
        while (it->next_pending < it->n_pending && due(it, it->pending[it->next_pending]))
            activate(it, it->pending[it->next_pending++]);
        if (it->heap_n == 0)
            break;
        vsrc *s = it->heap[0];
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

static int vi_next(st_iter *base, lk_entry *out)
{
    view_iter *it = (view_iter *)base;
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

static void vi_destroy(st_iter *base)
{
    view_iter *it = (view_iter *)base;
    for (size_t i = 0; i < it->n_srcs; i++)
        free_decoded(it->srcs[i].buf);
    for (size_t i = 0; i < it->pool_n; i++)
        free_decoded(it->pool[i]);
    free(it->srcs);
    free(it->pending);
    free(it->heap);
    free(it->retired);
    free(it->pool);
    free(it->run);
    lk_buf_free(&it->err);
    free(it);
}

static const st_iter_ops view_iter_ops = { .next = vi_next, .destroy = vi_destroy };

static int cmp_forward(const void *a, const void *b)
{
    const vsrc *x = *(vsrc *const *)a, *y = *(vsrc *const *)b;
    if (x->mint != y->mint)
        return x->mint < y->mint ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_backward(const void *a, const void *b)
{
    const vsrc *x = *(vsrc *const *)a, *y = *(vsrc *const *)b;
    if (x->maxt != y->maxt)
        return x->maxt > y->maxt ? -1 : 1;
    return x->idx > y->idx ? -1 : x->idx < y->idx;
}

static bool in_range(const view_iter *it, int64_t mint, int64_t maxt)
{
    return mint < it->through && maxt >= it->from;
}

static void add_sources(view_iter *it, const st_view *v)
{
    size_t cap = v->n_blocks + 1;
    it->srcs = lk_calloc(cap, sizeof(*it->srcs));
    for (size_t i = 0; i < v->n_blocks; i++) {
        const chk_block_info *in = chk_block_get_info(v->blocks[i]);
        if (!in_range(it, in->mint, in->maxt)) {
            it->stats->blocks_skipped++;
            continue;
        }
        it->srcs[it->n_srcs++] = (vsrc){ .blk = v->blocks[i], .mint = in->mint,
                                         .maxt = in->maxt, .idx = (uint32_t)i };
    }
    const chk_decoded *h = &v->head;
    if (v->has_head && h->n && in_range(it, h->e[0].ts, h->e[h->n - 1].ts)) {
        it->head = h;
        it->srcs[it->n_srcs++] = (vsrc){ .mint = h->e[0].ts, .maxt = h->e[h->n - 1].ts,
                                         .idx = (uint32_t)v->n_blocks };
    }
}

st_iter *st_view_iter(const st_view *v, int64_t from, int64_t through, bool backward,
                      st_stats *stats)
{
    view_iter *it = lk_calloc(1, sizeof(*it));
    it->base.ops = &view_iter_ops;
    it->backward = backward;
    it->from = from;
    it->through = through;
    it->stats = stats ? stats : &it->own_stats;
    it->stats->blocks_skipped += (int64_t)v->blocks_skipped;
    it->stats->total_chunks_ref += (int64_t)v->n_chunks;
    for (size_t i = 0; i < v->n_chunks; i++) {
        if (from < through && in_range(it, v->chunks[i].mint, v->chunks[i].maxt))
            it->stats->total_chunks_matched++;
    }
    if (from < through)
        add_sources(it, v);
    else
        it->stats->blocks_skipped += (int64_t)v->n_blocks;

    size_t n = it->n_srcs ? it->n_srcs : 1;
    it->pending = lk_malloc(n * sizeof(*it->pending));
    it->heap = lk_malloc(n * sizeof(*it->heap));
    it->retired = lk_malloc(n * sizeof(*it->retired));
    it->pool = lk_malloc(n * sizeof(*it->pool));
    for (size_t i = 0; i < it->n_srcs; i++)
        it->pending[i] = &it->srcs[i];
    it->n_pending = it->n_srcs;
    qsort(it->pending, it->n_pending, sizeof(*it->pending), backward ? cmp_backward : cmp_forward);
    return &it->base;
}
