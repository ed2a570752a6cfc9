/* Log selection: per-stream iterators merged with a binary heap ordered by
 * timestamp (ties: stream order, i.e. label order), stopped at the limit. */
#include "query/select.h"

#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"

typedef struct cursor {
    st_iter *it;
    lk_entry cur;
    size_t stream; /* index into views */
} cursor;

typedef struct heap {
    cursor **v;
    size_t n;
    bool backward;
} heap;

/* a before b in output order */
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

/* Advances c to its next entry accepted by the predicate. 1, 0 (end) or <0. */
static int advance(cursor *c, const logql_select *q, logql_streams *r)
{
    for (;;) {
        int rc = st_iter_next(c->it, &c->cur);
        if (rc <= 0)
            return rc;
        if (!q->pred || q->pred(q->pred_ctx, &c->cur)) {
            r->post_filter_lines++;
            return 1;
        }
    }
}

static void copy_entry(logql_streams *r, logql_stream_res *s, const lk_entry *e)
{
    s->entries = lk_grow(s->entries, &s->cap, s->n + 1, sizeof *s->entries);
    lk_entry *d = &s->entries[s->n++];
    d->ts = e->ts;
    d->line = lk_arena_str(&r->arena, e->line);
    d->n_meta = e->n_meta;
    d->meta = NULL;
    if (e->n_meta) {
        lk_label *m = lk_arena_alloc(&r->arena, e->n_meta * sizeof *m);
        for (size_t i = 0; i < e->n_meta; i++) {
            m[i].name = lk_arena_str(&r->arena, e->meta[i].name);
            m[i].value = lk_arena_str(&r->arena, e->meta[i].value);
        }
        d->meta = m;
    }
    r->total_entries++;
}

static int cmp_views(const void *a, const void *b)
{
    return lk_str_cmp(st_view_canonical(*(st_view *const *)a),
                      st_view_canonical(*(st_view *const *)b));
}

/* Moves the non-empty per-view results into r->v, in label order. */
static void collect(logql_streams *r, logql_stream_res *all)
{
    r->v = lk_calloc(r->n_views ? r->n_views : 1, sizeof *r->v);
    for (size_t i = 0; i < r->n_views; i++) {
        if (all[i].n)
            r->v[r->n++] = all[i];
        else
            free(all[i].entries);
    }
}

int logql_select_logs(ing *g, const logql_select *q, logql_streams *out, lk_buf *err)
{
    (void)err;
    logql_streams r = { 0 };
    int rc = ing_select(g, q->tenant, q->matchers, q->n_matchers, q->start,
                        q->end > q->start ? q->end - 1 : q->start, true, &r.views, &r.n_views);
    if (rc)
        return rc;
    if (r.n_views > 1)
        qsort(r.views, r.n_views, sizeof *r.views, cmp_views);

    logql_stream_res *all = lk_calloc(r.n_views ? r.n_views : 1, sizeof *all);
    cursor *cur = lk_calloc(r.n_views ? r.n_views : 1, sizeof *cur);
    heap h = { .v = lk_calloc(r.n_views ? r.n_views : 1, sizeof *h.v), .backward = q->backward };
    for (size_t i = 0; i < r.n_views; i++) {
        all[i].labels = st_view_labels(r.views[i]);
        cur[i].stream = i;
        cur[i].it = st_view_iter(r.views[i], q->start, q->end, q->backward, &r.stats);
        int a = cur[i].it ? advance(&cur[i], q, &r) : 0;
        if (a < 0) {
            rc = a;
            goto out;
        }
        if (a > 0)
            h.v[h.n++] = &cur[i];
    }
    heapify(&h);
    while (h.n && r.total_entries < q->limit) {
        cursor *c = h.v[0];
        copy_entry(&r, &all[c->stream], &c->cur);
        int a = advance(c, q, &r);
        if (a < 0) {
            rc = a;
            goto out;
        }
        if (a == 0)
            h.v[0] = h.v[--h.n];
        sift_down(&h, 0);
    }
out:
    for (size_t i = 0; i < r.n_views; i++)
        st_iter_destroy(cur[i].it);
    free(cur);
    free(h.v);
    collect(&r, all);
    free(all);
    if (rc) {
        logql_streams_free(&r);
        return rc;
    }
    *out = r;
    return LK_OK;
}

void logql_streams_free(logql_streams *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].entries);
    free(r->v);
    st_views_free(r->views, r->n_views);
    lk_arena_free(&r->arena);
    *r = (logql_streams){ 0 };
}
