/* A tenant's delete requests in memory (storage/delete.h): the immutable,
 * reference-counted set queries and the compactor read, the per-stream
 * check of an entry, and the iterator that skips deleted entries. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/delete.h"

struct del_set {
    atomic_int refs;
    const del_filter_ops *ops;
    del_req *v;
    void **compiled; /* per request; NULL: did not compile */
    size_t n;
};

const del_req *del_set_reqs(const del_set *s, size_t *n)
{
    *n = s->n;
    return s->v;
}

del_set *del_set_new(const del_filter_ops *ops, const del_req *v, size_t n)
{
    del_set *s = lk_calloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    s->ops = ops;
    s->n = n;
    s->v = lk_calloc(n ? n : 1, sizeof(*s->v));
    s->compiled = lk_calloc(n ? n : 1, sizeof(*s->compiled));
    lk_buf err = { 0 };
    for (size_t i = 0; i < n; i++) {
        s->v[i] = v[i];
        s->v[i].query = lk_str_n(lk_strndup(v[i].query.p, v[i].query.len), v[i].query.len);
        lk_buf_reset(&err);
        if (ops && ops->compile(s->v[i].query, &s->compiled[i], &err) != 0) {
            s->compiled[i] = NULL;
            log_warn("a delete request's query does not compile; it deletes nothing",
                     "request_id=%s err=\"%s\"", v[i].id, err.p ? err.p : "");
        }
    }
    lk_buf_free(&err);
    return s;
}

const del_set *del_set_ref(const del_set *s)
{
    atomic_fetch_add(&((del_set *)s)->refs, 1);
    return s;
}

void del_set_release(const del_set *cs)
{
    del_set *s = (del_set *)cs;
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->n; i++) {
        if (s->compiled[i])
            s->ops->free(s->compiled[i]);
        free((char *)s->v[i].query.p);
    }
    free(s->compiled);
    free(s->v);
    free(s);
}

/* ---- one stream */

typedef struct del_one {
    int64_t from_ns, through_ns; /* inclusive */
    void *lines;                 /* NULL: every line in range */
} del_one;

struct del_stream {
    const del_filter_ops *ops;
    del_one *v;
    size_t n;
};

/* A request's range in ns: [start ms, end ms + 999999] (the end is
 * inclusive at ms precision). */
static void req_range_ns(const del_req *r, int64_t *from, int64_t *through)
{
    *from = r->start_ms * LK_NS_PER_MS;
    *through = r->end_ms * LK_NS_PER_MS + (LK_NS_PER_MS - 1);
}

del_stream *del_stream_new(const del_set *s, size_t only, const lk_labels *labels,
                           int64_t from_ns, int64_t through_ns)
{
    del_stream *d = NULL;
    for (size_t i = 0; s && i < s->n; i++) {
        if ((only != SIZE_MAX && i != only) || !s->compiled[i])
            continue;
        int64_t f, t;
        req_range_ns(&s->v[i], &f, &t);
        if (f > through_ns || t < from_ns)
            continue;
        void *lines = NULL;
        if (!s->ops->stream(s->compiled[i], labels, &lines))
            continue;
        if (!d) {
            d = lk_calloc(1, sizeof(*d));
            d->ops = s->ops;
            d->v = lk_calloc(s->n, sizeof(*d->v));
        }
        d->v[d->n++] = (del_one){ f, t, lines };
    }
    return d;
}

bool del_stream_deletes(del_stream *d, const lk_entry *e)
{
    for (size_t i = 0; i < d->n; i++) {
        const del_one *o = &d->v[i];
        if (e->ts < o->from_ns || e->ts > o->through_ns)
            continue;
        if (!o->lines || d->ops->line(o->lines, e))
            return true;
    }
    return false;
}

void del_stream_free(del_stream *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].lines)
            d->ops->line_free(d->v[i].lines);
    free(d->v);
    free(d);
}

/* ---- the filtering iterator */

typedef struct del_iter {
    sto_iter base;
    sto_iter *in;
    del_stream *d;
} del_iter;

static int del_iter_next(sto_iter *it, lk_entry *e)
{
    del_iter *x = (del_iter *)it;
    int rc;
    while ((rc = sto_iter_next(x->in, e)) > 0) {
        if (!del_stream_deletes(x->d, e))
            return 1;
    }
    return rc;
}

static void del_iter_destroy(sto_iter *it)
{
    del_iter *x = (del_iter *)it;
    sto_iter_destroy(x->in);
    del_stream_free(x->d);
    free(x);
}

static const sto_iter_ops del_iter_ops = { del_iter_next, del_iter_destroy };

sto_iter *del_iter_wrap(sto_iter *in, const del_set *s, const lk_labels *labels,
                        int64_t from_ns, int64_t through_ns)
{
    del_stream *d = del_stream_new(s, SIZE_MAX, labels, from_ns, through_ns);
    if (!d)
        return in;
    del_iter *x = lk_calloc(1, sizeof(*x));
    x->base.ops = &del_iter_ops;
    x->in = in;
    x->d = d;
    return &x->base;
}
