/* A stream of the ingester: labels, chunks, and the push rules Loki applies
 * per stream (pkg/ingester/stream.go):
 *  - an entry identical (ts, line, metadata) to the last one accepted is
 *    dropped as a duplicate, even across block and chunk cuts;
 *  - an entry older than newest - max_chunk_age/2 is refused ("entry too far
 *    behind"), newest being the highest timestamp accepted so far, earlier
 *    entries of the same push included (no check before the first entry);
 *  - otherwise it goes to the head of the open chunk, which drops it when
 *    an identical entry is already there.
 * The head becomes a block at chunk_block_size; the chunk is closed before
 * an entry that would make it span max_chunk_age, once it reached
 * chunk_target_size compressed, or by the flusher when the stream has been
 * idle for chunk_idle_period. A closed chunk is handed to the flusher
 * (storage/flush.c), written to disk, and dropped from memory
 * chunk_retain_period later.
 *
 * WAL bookkeeping: each chunk remembers the lowest WAL segment that may
 * hold its entries (a lower bound read before the push, which the
 * ingester logs once the entries are in memory); a segment can be deleted
 * once no unflushed chunk pins it. A push marks the entries it refused
 * (acc->refused), so that the ingester logs all the others: duplicates
 * too, so that a retried push whose first attempt failed to reach the WAL
 * is logged again.
 *
 * Locking: s->mu guards everything mutable; labels, canonical and fp never
 * change. Readers copy what they need under the lock (st_stream_view) and
 * share the immutable blocks by reference. */
#include "storage/stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/codec.h"
#include "storage/delete.h"

enum { CH_UNFLUSHED, CH_FLUSHING, CH_FLUSHED };

typedef struct st_chunk {
    chk_chunk *c;
    uint64_t wal_seg;      /* lowest WAL segment that may hold its entries */
    uint8_t state;
    int64_t flushed_at;
    chk_ref ref;           /* once flushed */
} st_chunk;

struct st_stream {
    atomic_int refs;
    uint64_t fp, h2;
    lk_labels labels;
    char *canonical;
    size_t canonical_len;

    pthread_mutex_t mu;
    st_chunk *chunks;      /* oldest first; only the last may be open */
    size_t n_chunks, cap;
    int64_t n_blocks, comp_bytes;
    bool has_newest;
    int64_t newest;
    /* the last accepted entry: in the open head (last_in_head), or copied */
    bool has_last, last_in_head;
    int64_t last_ts;
    lk_buf last_line, last_meta;
    int64_t last_push_ns;  /* wall clock of the last push */
    bool removed;          /* taken out of the ingester's table */
};

st_stream *st_stream_new(const lk_labels *labels, lk_str canonical, uint64_t fp)
{
    st_stream *s = lk_calloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    s->fp = fp;
    s->h2 = chk_sid_h2(canonical);
    s->last_push_ns = lk_now_ns();
    labels_copy(labels, &s->labels);
    s->canonical = lk_strndup(canonical.p ? canonical.p : "", canonical.len);
    s->canonical_len = canonical.len;
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

bool st_stream_unflushed_in(st_stream *s, int64_t from, int64_t through)
{
    bool found = false;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_chunks && !found; i++) {
        const chk_chunk *c = s->chunks[i].c;
        found = s->chunks[i].state != CH_FLUSHED && !chk_chunk_empty(c) &&
                chk_chunk_mint(c) <= through && chk_chunk_maxt(c) >= from;
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

st_stream *st_stream_ref(st_stream *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void st_stream_unref(st_stream *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < s->n_chunks; i++)
        chk_chunk_free(s->chunks[i].c);
    free(s->chunks);
    labels_free(&s->labels);
    free(s->canonical);
    lk_buf_free(&s->last_line);
    lk_buf_free(&s->last_meta);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

uint64_t st_stream_fp(const st_stream *s)
{
    return s->fp;
}

chk_sid st_stream_sid(const st_stream *s)
{
    return (chk_sid){ s->fp, s->h2 };
}

lk_str st_stream_canonical(const st_stream *s)
{
    return lk_str_n(s->canonical, s->canonical_len);
}

const lk_labels *st_stream_labels(const st_stream *s)
{
    return &s->labels;
}

/* ---- push */

static st_chunk *open_chunk_of(const st_stream *s)
{
    if (s->n_chunks == 0 || chk_chunk_closed(s->chunks[s->n_chunks - 1].c))
        return NULL;
    return &s->chunks[s->n_chunks - 1];
}

static int64_t open_head_bytes(const st_stream *s)
{
    const st_chunk *c = open_chunk_of(s);
    return c ? chk_head_bytes(chk_chunk_head(c->c)) : 0;
}

/* Copies the last accepted entry out of the head before the head is cut. */
static void save_last(st_stream *s, const chk_chunk *c)
{
    if (!s->last_in_head)
        return;
    int64_t ts;
    lk_str line, meta;
    s->last_in_head = false;
    if (!chk_head_last(chk_chunk_head(c), &ts, &line, &meta)) {
        s->has_last = false;
        return;
    }
    s->last_ts = ts;
    lk_buf_reset(&s->last_line);
    lk_buf_put_str(&s->last_line, line);
    lk_buf_reset(&s->last_meta);
    lk_buf_put_str(&s->last_meta, meta);
}

static void cut_block(st_stream *s, chk_chunk *c)
{
    save_last(s, c);
    size_t nb = chk_chunk_nblocks(c);
    int64_t comp = chk_chunk_comp_bytes(c);
    chk_chunk_cut_block(c);
    s->n_blocks += (int64_t)(chk_chunk_nblocks(c) - nb);
    s->comp_bytes += chk_chunk_comp_bytes(c) - comp;
}

/* Closes the open chunk c (its head becomes a last block). */
static void close_chunk(st_stream *s, st_chunk *c)
{
    cut_block(s, c->c);
    chk_chunk_close(c->c);
}

/* Room for one more chunk. Most streams hold one chunk at a time: the
 * array starts with room for one, not lk_grow's eight (issue 15: 560 bytes
 * per stream). */
static void grow_chunks(st_stream *s)
{
    if (s->cap == 0) {
        s->chunks = lk_malloc(sizeof(*s->chunks));
        s->cap = 1;
        return;
    }
    s->chunks = lk_grow(s->chunks, &s->cap, s->n_chunks + 1, sizeof(*s->chunks));
}

/* The chunk an entry at ts goes to: the open one, unless it must be closed
 * first, or a new one. */
static chk_chunk *chunk_for(st_stream *s, const st_push_opts *o, int64_t ts, st_push_acc *a)
{
    st_chunk *c = open_chunk_of(s);
    if (c && !chk_chunk_full(c->c, o->lim, ts)) {
        if (o->wal_seg < c->wal_seg)
            c->wal_seg = o->wal_seg;
        return c->c;
    }
    if (c) {
        close_chunk(s, c);
        a->closed++;
    }
    grow_chunks(s);
    c = &s->chunks[s->n_chunks++];
    *c = (st_chunk){ .c = chk_chunk_new(), .wal_seg = o->wal_seg, .state = CH_UNFLUSHED };
    chk_chunk_set_codec(c->c, o->lim->codec);
    a->d_chunks++;
    return c->c;
}

static bool is_last_line(const st_stream *s, const lk_entry *e)
{
    if (!s->has_last || s->last_in_head || e->ts != s->last_ts ||
        !lk_str_eq(e->line, lk_buf_str(&s->last_line)))
        return false;
    if (e->n_meta == 0)
        return s->last_meta.len == 0;
    return s->last_meta.len &&
           codec_meta_eq(e->meta, e->n_meta, (const uint8_t *)s->last_meta.p, s->last_meta.len);
}

static int64_t cutoff_of(int64_t newest, int64_t half)
{
    return newest < INT64_MIN + half ? INT64_MIN : newest - half;
}

static void reject(st_push_acc *a, size_t n, size_t idx, int64_t cutoff, bool too_large)
{
    if (!a->refused)
        a->refused = lk_calloc(n, 1);
    a->refused[idx] = 1;
    a->rejected++;
    if (a->n_listed < ST_MAX_LISTED_REJECTS) {
        a->listed[a->n_listed].idx = idx;
        a->listed[a->n_listed].cutoff = cutoff;
        a->listed[a->n_listed].too_large = too_large;
        a->n_listed++;
    }
}

/* Stores entries[idx] of n (or refuses it, or finds it duplicate). */
static void push_one(st_stream *s, const st_push_opts *o, const lk_entry *entries, size_t n,
                     size_t idx, st_push_acc *a)
{
    const lk_entry *e = &entries[idx];
    const chk_limits *lim = o->lim;
    if (is_last_line(s, e)) {
        a->duplicates++;
        return;
    }
    int64_t cutoff = s->has_newest && !o->replay ? cutoff_of(s->newest, lim->max_age_ns / 2)
                                                 : INT64_MIN;
    if (e->ts < cutoff) {
        reject(a, n, idx, cutoff, false);
        return;
    }
    chk_chunk *c = chunk_for(s, o, e->ts, a);
    int rc = chk_chunk_append(c, e);
    if (rc < 0) {
        reject(a, n, idx, cutoff, true);
        return;
    }
    s->has_last = s->last_in_head = true;
    if (!s->has_newest || e->ts > s->newest) {
        s->newest = e->ts;
        s->has_newest = true;
    }
    if (rc == 1) {
        a->accepted++;
        a->bytes += (int64_t)e->line.len;
    } else {
        a->duplicates++;
    }
    if (chk_chunk_head_full(c, lim))
        cut_block(s, c);
}

void st_stream_push(st_stream *s, const st_push_opts *o, const lk_entry *entries, size_t n,
                    st_push_acc *a)
{
    pthread_mutex_lock(&s->mu);
    if (s->removed) {
        a->removed = true;
        pthread_mutex_unlock(&s->mu);
        return;
    }
    int64_t head0 = open_head_bytes(s), blocks0 = s->n_blocks, comp0 = s->comp_bytes;
    for (size_t i = 0; i < n; i++)
        push_one(s, o, entries, n, i, a);
    s->last_push_ns = o->now_ns;
    a->d_head_bytes += open_head_bytes(s) - head0;
    a->d_blocks += s->n_blocks - blocks0;
    a->d_comp_bytes += s->comp_bytes - comp0;
    pthread_mutex_unlock(&s->mu);
}

void st_push_acc_free(st_push_acc *a)
{
    free(a->refused);
    a->refused = NULL;
}

/* ---- flushing */

/* Drops chunk i from memory (the counters' deltas go to sw). */
static void release_chunk(st_stream *s, size_t i, st_sweep *sw)
{
    chk_chunk *c = s->chunks[i].c;
    int64_t nb = (int64_t)chk_chunk_nblocks(c), cb = chk_chunk_comp_bytes(c);
    s->n_blocks -= nb;
    s->comp_bytes -= cb;
    sw->d_chunks--;
    sw->d_blocks -= nb;
    sw->d_comp_bytes -= cb;
    chk_chunk_free(c);
    memmove(&s->chunks[i], &s->chunks[i + 1], (s->n_chunks - i - 1) * sizeof(*s->chunks));
    s->n_chunks--;
}

static bool idle(const st_stream *s, const st_sweep *sw)
{
    return sw->now_ns - s->last_push_ns >= sw->idle_ns;
}

bool st_stream_sweep(st_stream *s, st_sweep *sw)
{
    pthread_mutex_lock(&s->mu);
    st_chunk *open = open_chunk_of(s);
    if (open && (sw->force || idle(s, sw))) {
        int64_t head0 = open_head_bytes(s), blocks0 = s->n_blocks, comp0 = s->comp_bytes;
        if (chk_chunk_empty(open->c)) {
            chk_chunk_free(open->c);
            s->n_chunks--;
            sw->d_chunks--;
        } else {
            close_chunk(s, open);
        }
        sw->d_head_bytes -= head0;
        sw->d_blocks += s->n_blocks - blocks0;
        sw->d_comp_bytes += s->comp_bytes - comp0;
    }
    for (size_t i = 0; i < s->n_chunks;) {
        st_chunk *c = &s->chunks[i];
        if (c->state == CH_FLUSHED) {
            if (sw->now_ns - c->flushed_at >= sw->retain_ns) {
                release_chunk(s, i, sw);
                continue;
            }
        } else {
            sw->unflushed++;
            if (c->state == CH_UNFLUSHED && sw->flush && chk_chunk_closed(c->c)) {
                /* its segment counts again only if the flush fails */
                c->state = CH_FLUSHING;
                sw->items = lk_grow(sw->items, &sw->cap_items, sw->n_items + 1,
                                    sizeof(*sw->items));
                sw->items[sw->n_items++] = (st_flush_item){ .s = st_stream_ref(s), .c = c->c };
            } else if (c->wal_seg < sw->min_seg) {
                sw->min_seg = c->wal_seg;
            }
        }
        i++;
    }
    bool empty = s->n_chunks == 0 && idle(s, sw);
    pthread_mutex_unlock(&s->mu);
    return empty;
}

void st_stream_flush_done(st_stream *s, const st_flush_item *it, int64_t now_ns,
                          int64_t retain_ns, st_sweep *sw)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_chunks; i++) {
        st_chunk *c = &s->chunks[i];
        if (c->c != it->c)
            continue;
        if (!it->ok) {
            c->state = CH_UNFLUSHED;
            if (c->wal_seg < sw->min_seg)
                sw->min_seg = c->wal_seg;
            break;
        }
        c->state = CH_FLUSHED;
        c->flushed_at = now_ns;
        c->ref = it->ref;
        if (retain_ns <= 0)
            release_chunk(s, i, sw);
        break;
    }
    pthread_mutex_unlock(&s->mu);
}

bool st_stream_cut_idle_head(st_stream *s, int64_t now_ns, int64_t idle_ns, int64_t min_bytes,
                             st_sweep *sw)
{
    pthread_mutex_lock(&s->mu);
    st_chunk *open = open_chunk_of(s);
    int64_t head0 = open_head_bytes(s);
    bool cut = open && head0 > 0 && head0 >= min_bytes && now_ns - s->last_push_ns >= idle_ns;
    if (cut) {
        int64_t blocks0 = s->n_blocks, comp0 = s->comp_bytes;
        cut_block(s, open->c);
        chk_chunk_shrink_head(open->c);
        sw->d_head_bytes -= head0;
        sw->d_blocks += s->n_blocks - blocks0;
        sw->d_comp_bytes += s->comp_bytes - comp0;
    }
    pthread_mutex_unlock(&s->mu);
    return cut;
}

bool st_stream_try_remove(st_stream *s, int64_t now_ns, int64_t idle_ns)
{
    pthread_mutex_lock(&s->mu);
    bool ok = s->n_chunks == 0 && now_ns - s->last_push_ns >= idle_ns;
    if (ok)
        s->removed = true;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* ---- snapshots */

static bool overlaps(int64_t mint, int64_t maxt, int64_t from, int64_t through)
{
    return mint <= through && maxt >= from;
}

static void view_add_chunk(st_view *v, const st_chunk *sc, int64_t from, int64_t through)
{
    const chk_chunk *c = sc->c;
    size_t cap = v->n_chunks; /* arrays sized by the caller */
    v->chunks[cap] = (st_view_chunk){ chk_chunk_mint(c), chk_chunk_maxt(c),
                                      (int64_t)chk_chunk_entries(c), chk_chunk_loki_bytes(c) };
    v->n_chunks++;
    if (sc->state == CH_FLUSHED)
        v->flushed[v->n_flushed++] = sc->ref;
    for (size_t i = 0; i < chk_chunk_nblocks(c); i++) {
        chk_block *b = chk_chunk_block(c, i);
        const chk_block_info *in = chk_block_get_info(b);
        if (overlaps(in->mint, in->maxt, from, through))
            v->blocks[v->n_blocks++] = chk_block_ref(b);
        else
            v->blocks_skipped++;
    }
    const chk_head *h = chk_chunk_head(c);
    if (h && chk_head_len(h) && overlaps(chk_head_mint(h), chk_head_maxt(h), from, through)) {
        chk_head_snapshot(h, from, through, &v->head);
        v->has_head = v->head.n > 0;
    }
}

/* Under s->mu. Does any chunk overlap? Counts those chunks and their
 * blocks. */
static bool scan_chunks(const st_stream *s, int64_t from, int64_t through, size_t *n_chunks,
                        size_t *n_blocks)
{
    *n_chunks = *n_blocks = 0;
    for (size_t i = 0; i < s->n_chunks; i++) {
        const chk_chunk *c = s->chunks[i].c;
        if (chk_chunk_empty(c))
            continue;
        if (!overlaps(chk_chunk_mint(c), chk_chunk_maxt(c), from, through))
            continue;
        (*n_chunks)++;
        *n_blocks += chk_chunk_nblocks(c);
    }
    return *n_chunks > 0;
}

bool st_stream_removed(st_stream *s)
{
    pthread_mutex_lock(&s->mu);
    bool r = s->removed;
    pthread_mutex_unlock(&s->mu);
    return r;
}

bool st_stream_overlaps(st_stream *s, int64_t from, int64_t through)
{
    size_t n_chunks, n_blocks;
    pthread_mutex_lock(&s->mu);
    bool r = scan_chunks(s, from, through, &n_chunks, &n_blocks);
    pthread_mutex_unlock(&s->mu);
    return r;
}

st_view *st_view_new(st_stream *s, bool with_data)
{
    st_view *v = lk_calloc(1, sizeof(*v));
    v->s = st_stream_ref(s);
    v->with_data = with_data;
    return v;
}

st_view *st_stream_view(st_stream *s, int64_t from, int64_t through, bool with_data)
{
    size_t n_chunks, n_blocks;
    pthread_mutex_lock(&s->mu);
    if (!scan_chunks(s, from, through, &n_chunks, &n_blocks)) {
        pthread_mutex_unlock(&s->mu);
        return NULL;
    }
    st_view *v = st_view_new(s, with_data);
    if (with_data) {
        v->chunks = lk_malloc(n_chunks * sizeof(*v->chunks));
        v->flushed = lk_malloc(n_chunks * sizeof(*v->flushed));
        v->blocks = lk_malloc((n_blocks ? n_blocks : 1) * sizeof(*v->blocks));
        for (size_t i = 0; i < s->n_chunks; i++) {
            const st_chunk *sc = &s->chunks[i];
            if (chk_chunk_empty(sc->c))
                continue;
            if (overlaps(chk_chunk_mint(sc->c), chk_chunk_maxt(sc->c), from, through))
                view_add_chunk(v, sc, from, through);
            else
                v->blocks_skipped += chk_chunk_nblocks(sc->c);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return v;
}

void st_view_free(st_view *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n_blocks; i++)
        chk_block_unref(v->blocks[i]);
    free(v->blocks);
    free(v->chunks);
    free(v->flushed);
    free(v->disk);
    free(v->tenant);
    chk_decoded_free(&v->head);
    st_stream_unref(v->s);
    if (v->relabel) {
        labels_free(&v->relabel->labels);
        del_set_release(v->relabel->deletes);
        lk_buf_free(&v->relabel->canonical);
        free(v->relabel);
    }
    free(v);
}

static int ref_cmp(const void *a, const void *b)
{
    const chk_ref *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->through != y->through)
        return x->through < y->through ? -1 : 1;
    return x->crc < y->crc ? -1 : x->crc > y->crc;
}

void st_view_add_disk(st_view *v, const struct cdir *dir, lk_str tenant, const chk_ref *refs,
                      size_t n)
{
    if (!v->tenant) {
        v->dir = dir;
        v->tenant = lk_strndup(tenant.p ? tenant.p : "", tenant.len);
        v->tenant_len = tenant.len;
    }
    v->disk = lk_realloc(v->disk, (v->n_disk + n + 1) * sizeof(*v->disk));
    for (size_t i = 0; i < n; i++) {
        bool in_memory = false;
        for (size_t j = 0; j < v->n_flushed && !in_memory; j++)
            in_memory = chk_ref_same(&refs[i], &v->flushed[j]);
        if (!in_memory)
            v->disk[v->n_disk++] = refs[i];
    }
    /* time order is their arrival order for the iterators */
    if (v->n_disk > 1)
        qsort(v->disk, v->n_disk, sizeof(*v->disk), ref_cmp);
}
