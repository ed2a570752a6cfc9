/* Log selection: per-stream iterators, each entry through the pipeline (one
 * runner per stored stream, since each holds its pending entry), merged with
 * a binary heap ordered by timestamp (ties: stream label order), cut at the
 * limit; the entries output are grouped into result streams by their labels
 * through a hash table. See select.h. */
#include "query/select.h"

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/delete.h"

typedef struct cursor {
    sto_iter *it;
    lp_runner *run;
    lk_entry cur;            /* the raw entry */
    lp_result res;           /* what the pipeline made of it */
    size_t stream;           /* index into views */
    /* lines kept so far at the current timestamp, for Loki's merge dedup:
     * each as a size_t length then the bytes */
    int64_t group_ts;
    lk_buf group;
} cursor;

typedef struct heap {
    cursor **v;
    size_t n;
    bool backward;
} heap;

/* ---- the heap ------------------------------------------------------------------- */

static bool before(const heap *h, const cursor *a, const cursor *b)
{
    if (a->cur.ts != b->cur.ts)
        return h->backward ? a->cur.ts > b->cur.ts : a->cur.ts < b->cur.ts;
    return a->stream < b->stream;
}

static void sift_down(heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && before(h, h->v[l], h->v[m]))
            m = l;
        if (r < h->n && before(h, h->v[r], h->v[m]))
            m = r;
        if (m == i)
            return;
        cursor *t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
}

static void heapify(heap *h)
{
    for (size_t i = h->n / 2; i-- > 0;)
        sift_down(h, i);
}

/* ---- result streams by label set -------------------------------------------------- */

typedef struct out_map {
    uint64_t *hash;          /* open addressing; slot empty when idx == 0 */
    size_t *idx;             /* 1 + index into streams */
    size_t cap, n;
    logql_stream_res *streams;
    size_t n_streams, cap_streams;
} out_map;

static bool same_labels(const lk_labels *a, const lk_labels *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!lk_str_eq(a->v[i].name, b->v[i].name) || !lk_str_eq(a->v[i].value, b->v[i].value))
            return false;
    return true;
}

static void map_grow(out_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *hash = lk_calloc(cap, sizeof(*hash));
    size_t *idx = lk_calloc(cap, sizeof(*idx));
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->idx[i])
            continue;
        size_t j = m->hash[i] & (cap - 1);
        while (idx[j])
            j = (j + 1) & (cap - 1);
        hash[j] = m->hash[i];
        idx[j] = m->idx[i];
    }
    free(m->hash);
    free(m->idx);
    m->hash = hash;
    m->idx = idx;
    m->cap = cap;
}

/* Deep copy of l in the arena. */
static lk_labels *arena_labels(lk_arena *a, const lk_labels *l)
{
    lk_labels *c = lk_arena_alloc(a, sizeof(*c));
    c->n = l->n;
    c->mem = NULL;
    c->v = l->n ? lk_arena_alloc(a, l->n * sizeof(*c->v)) : NULL;
    for (size_t i = 0; i < l->n; i++) {
        c->v[i].name = lk_arena_str(a, l->v[i].name);
        c->v[i].value = lk_arena_str(a, l->v[i].value);
    }
    return c;
}

/* The result stream for labels (hash given), created when new. */
static logql_stream_res *stream_for(out_map *m, lk_arena *a, const lk_labels *l, uint64_t hash,
                                    lk_buf *tmp)
{
    if (m->cap) {
        size_t j = hash & (m->cap - 1);
        while (m->idx[j]) {
            logql_stream_res *s = &m->streams[m->idx[j] - 1];
            if (m->hash[j] == hash && same_labels(s->labels, l))
                return s;
            j = (j + 1) & (m->cap - 1);
        }
    }
    if ((m->n + 1) * 2 > m->cap)
        map_grow(m);
    if (m->n_streams == m->cap_streams)
        m->streams = lk_grow(m->streams, &m->cap_streams, m->n_streams + 1, sizeof(*m->streams));
    logql_stream_res *s = &m->streams[m->n_streams++];
    memset(s, 0, sizeof(*s));
    s->labels = arena_labels(a, l);
    lk_buf_reset(tmp);
    labels_canonical(s->labels, tmp);
    s->canonical = lk_arena_str(a, lk_buf_str(tmp));
    size_t j = hash & (m->cap - 1);
    while (m->idx[j])
        j = (j + 1) & (m->cap - 1);
    m->hash[j] = hash;
    m->idx[j] = m->n_streams;
    m->n++;
    return s;
}

/* ---- selection ------------------------------------------------------------------------ */

typedef struct sel {
    const logql_select *q;
    logql_streams *r;
    out_map map;
    lk_buf tmp;
    bool have_last;
    int64_t last_ts;
    int64_t pending;         /* bytes kept and not yet charged to q->mem */
    unsigned ticks;          /* entries read since the deadline was last checked */
    lk_buf *err;
} sel;

/* Entries read between checks of the deadline. */
#define DEADLINE_EVERY 1024

/* LK_ERANGE past the query's deadline (checked every DEADLINE_EVERY
 * entries; now: at once). */
static int check_deadline(sel *s, bool now)
{
    if (!s->q->deadline_ns || (!now && ++s->ticks < DEADLINE_EVERY))
        return LK_OK;
    s->ticks = 0;
    return lk_now_ns() > s->q->deadline_ns ? LK_ERANGE : LK_OK;
}

/* Charges the pending bytes once they reach a batch (all: whatever they
 * are). */
static int charge(sel *s, bool all)
{
    if (!s->q->mem || !s->pending || (!all && s->pending < QM_BATCH))
        return LK_OK;
    int rc = qm_charge(s->q->mem, s->pending);
    s->pending = 0;
    if (rc && !s->err->len)
        qm_error(s->q->mem, rc, s->err);
    return rc;
}

/* Loki's merge iterator drops an entry of a stream whose timestamp and
 * (post-pipeline) line equal those of an earlier entry of the same stream,
 * whatever their labels. true: c's current result is such a duplicate. */
static bool duplicate(cursor *c)
{
    lk_str line = c->res.line;
    if (c->group.len && c->group_ts == c->cur.ts) {
        for (size_t at = 0; at < c->group.len;) {
            size_t n;
            memcpy(&n, c->group.p + at, sizeof(n));
            at += sizeof(n);
            if (n == line.len && memcmp(c->group.p + at, line.p, n) == 0)
                return true;
            at += n;
        }
    } else {
        lk_buf_reset(&c->group);
        c->group_ts = c->cur.ts;
    }
    lk_buf_append(&c->group, &line.len, sizeof(line.len));
    lk_buf_append(&c->group, line.p, line.len);
    return false;
}

/* Advances c to its next entry the pipeline keeps. 1, 0 (end) or <0. */
static int advance(sel *s, cursor *c)
{
    for (;;) {
        int rc = check_deadline(s, false);
        if (rc == LK_OK)
            rc = sto_iter_next(c->it, &c->cur);
        if (rc <= 0)
            return rc;
        if (!lp_run(c->run, &c->cur, &c->res))
            continue;
        if (duplicate(c)) {
            s->r->stats.duplicates++;
            continue;
        }
        s->r->post_filter_lines++;
        return 1;
    }
}

static lk_label *arena_pairs(lk_arena *a, const lk_labels *l)
{
    if (!l || !l->n)
        return NULL;
    lk_label *v = lk_arena_alloc(a, l->n * sizeof(*v));
    for (size_t i = 0; i < l->n; i++) {
        v[i].name = lk_arena_str(a, l->v[i].name);
        v[i].value = lk_arena_str(a, l->v[i].value);
    }
    return v;
}

static void emit(sel *s, const cursor *c)
{
    logql_streams *r = s->r;
    const lp_result *res = &c->res;
    bool cat = s->q->categorize;
    logql_stream_res *st = stream_for(&s->map, &r->arena, cat ? res->stream : res->labels,
                                      cat ? res->stream_hash : res->hash, &s->tmp);
    if (st->n == st->cap) {
        size_t cap = st->cap;
        st->entries = lk_grow(st->entries, &cap, st->n + 1, sizeof(*st->entries));
        if (cat) {
            size_t pcap = st->cap;
            st->parsed = lk_grow(st->parsed, &pcap, st->n + 1, sizeof(*st->parsed));
        }
        st->cap = cap;
    }
    lk_entry *d = &st->entries[st->n];
    d->ts = c->cur.ts;
    d->line = lk_arena_str(&r->arena, res->line);
    d->n_meta = 0;
    d->meta = NULL;
    if (cat) {
        d->n_meta = res->structured_metadata->n;
        d->meta = arena_pairs(&r->arena, res->structured_metadata);
        st->parsed[st->n] = (lk_labels){ res->parsed->n, arena_pairs(&r->arena, res->parsed),
                                         NULL };
    }
    st->n++;
    r->total_entries++;
    s->pending += (int64_t)(sizeof *d + res->line.len);
    if (cat)
        s->pending += (int64_t)(sizeof(lk_labels) +
                                (d->n_meta + st->parsed[st->n - 1].n) * sizeof(lk_label));
}

/* Loki's interval: output only entries at least interval_ns past the last
 * one output (in query direction). */
static bool interval_ok(sel *s, int64_t ts)
{
    int64_t iv = s->q->interval_ns;
    if (iv <= 0 || !s->have_last)
        return true;
    return s->q->backward ? ts <= s->last_ts - iv : ts >= s->last_ts + iv;
}

static int cmp_views(const void *a, const void *b)
{
    return lk_str_cmp(st_view_canonical(*(st_view *const *)a),
                      st_view_canonical(*(st_view *const *)b));
}

static int cmp_streams(const void *a, const void *b)
{
    return lk_str_cmp(((const logql_stream_res *)a)->canonical,
                      ((const logql_stream_res *)b)->canonical);
}

int logql_select_logs(ing *g, const logql_select *q, logql_streams *out, lk_buf *err)
{
    logql_streams r = { .categorized = q->categorize };
    st_view **views = NULL;
    size_t n_views = 0;
    int rc = ing_select_stats(g, q->tenant, q->matchers, q->n_matchers, q->start,
                              q->end > q->start ? q->end - 1 : q->start, true, &r.stats, &views,
                              &n_views);
    if (rc)
        return rc;
    if (n_views > 1)
        qsort(views, n_views, sizeof(*views), cmp_views);

    lp_pipeline *own = NULL;
    const lp_pipeline *p = q->pipeline;
    if (!p) {
        rc = lp_compile(NULL, 0, &own, err);
        if (rc) {
            st_views_free(views, n_views);
            return rc;
        }
        p = own;
    }
    /* blocks whose token filter rules out a required |= literal are never
     * decompressed */
    sto_iter_opts io = { 0 };
    io.n_required = lp_required_substrings(p, &io.required);
    io.deletes = ing_deletes(g, q->tenant); /* lines of delete requests never come out */
    sel s = { .q = q, .r = &r, .err = err };
    cursor *cur = lk_calloc(n_views ? n_views : 1, sizeof(*cur));
    heap h = { .v = lk_calloc(n_views ? n_views : 1, sizeof(*h.v)), .backward = q->backward };
    int64_t decoded = r.stats.decompressed_bytes;
    if ((rc = check_deadline(&s, true)) != LK_OK)
        goto out;
    for (size_t i = 0; i < n_views; i++) {
        cur[i].stream = i;
        cur[i].it = st_view_iter_opts(views[i], q->start, q->end, q->backward, &io, &r.stats);
        if (!cur[i].it)
            continue;
        cur[i].run = lp_runner_new(p);
        lp_runner_categorize(cur[i].run, q->categorize);
        lp_runner_reset(cur[i].run, st_view_labels(views[i]));
        int a = advance(&s, &cur[i]);
        if (a < 0) {
            rc = a;
            goto out;
        }
        if (a > 0)
            h.v[h.n++] = &cur[i];
        /* the block each stream's iterator holds decoded from now on */
        s.pending += (int64_t)sizeof *cur + r.stats.decompressed_bytes - decoded;
        decoded = r.stats.decompressed_bytes;
        if ((rc = charge(&s, false)) != LK_OK)
            goto out;
    }
    heapify(&h);
    while (h.n && r.total_entries < q->limit) {
        cursor *c = h.v[0];
        if (interval_ok(&s, c->cur.ts)) {
            emit(&s, c);
            s.have_last = true;
            s.last_ts = c->cur.ts;
        }
        int a = advance(&s, c);
        if (a < 0) {
            rc = a;
            goto out;
        }
        if (a == 0)
            h.v[0] = h.v[--h.n];
        sift_down(&h, 0);
        if ((rc = charge(&s, false)) != LK_OK)
            goto out;
    }
    rc = charge(&s, true);
out:
    for (size_t i = 0; i < n_views; i++) {
        sto_iter_destroy(cur[i].it);
        lp_runner_free(cur[i].run);
        lk_buf_free(&cur[i].group);
    }
    free(cur);
    free(h.v);
    st_views_free(views, n_views);
    del_set_release(io.deletes);
    lp_free(own);
    free(s.map.hash);
    free(s.map.idx);
    lk_buf_free(&s.tmp);
    r.v = s.map.streams;
    r.n = s.map.n_streams;
    if (rc) {
        logql_streams_free(&r);
        return rc;
    }
    if (r.n > 1)
        qsort(r.v, r.n, sizeof(*r.v), cmp_streams);
    *out = r;
    return LK_OK;
}

void logql_streams_free(logql_streams *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].entries);
        free(r->v[i].parsed);
    }
    free(r->v);
    lk_arena_free(&r->arena);
    *r = (logql_streams){ 0 };
}
