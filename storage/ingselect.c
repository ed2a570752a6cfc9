/* Selecting streams (ing_select): the streams in memory merged with the
 * ones the index knows, each as one view whose in-memory chunks and
 * on-disk chunks are read as one sequence. In memory, a selector with an
 * equality matcher looks at that matcher's streams only (the tenant's
 * label index, storage/memidx.h), any other at every stream.
 *
 * Memory is snapshotted first, the index read second: a chunk flushed and
 * dropped from memory in between is then in the snapshot (and skipped in
 * the index by its reference, when the snapshot saw it flushed) or, when
 * it was flushed after the snapshot, read twice, in which case the view
 * iterator merges the identical entries. Read the other way round, a chunk
 * could be missed by both. A failing index read is logged and the answer
 * comes from memory; it and the index entries skipped as corrupt are
 * recorded in the caller's read errors (storage/readerr.h). */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/ing_int.h"
#include "storage/readerr.h"

typedef struct mem_match {
    st_stream *s;
    st_view *v; /* NULL: no chunk in memory overlaps */
} mem_match;

static int match_cmp(const void *a, const void *b)
{
    const mem_match *x = a, *y = b;
    chk_sid p = st_stream_sid(x->s), q = st_stream_sid(y->s);
    if (p.fp != q.fp)
        return p.fp < q.fp ? -1 : 1;
    if (p.h2 != q.h2)
        return p.h2 < q.h2 ? -1 : 1;
    return lk_str_cmp(st_stream_canonical(x->s), st_stream_canonical(y->s));
}

static mem_match *find_match(mem_match *m, size_t n, const idx_series *x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        chk_sid p = st_stream_sid(m[mid].s);
        if (p.fp < x->sid.fp || (p.fp == x->sid.fp && p.h2 < x->sid.h2))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < n && chk_sid_eq(st_stream_sid(m[lo].s), x->sid); lo++) {
        if (lk_str_eq(st_stream_canonical(m[lo].s), x->canonical))
            return &m[lo];
    }
    return NULL;
}

/* A view for a stream only the index knows. */
static st_view *disk_view(const idx_series *x, bool with_data)
{
    lk_labels l;
    if (labels_parse(x->canonical, &l, NULL) != 0) {
        log_warn("skipping an indexed stream with unparsable labels", "labels=\"%.*s\"",
                 LK_STR_FMT(x->canonical));
        return NULL;
    }
    st_stream *s = st_stream_new(&l, x->canonical, x->sid.fp);
    labels_free(&l);
    st_view *v = st_view_new(s, with_data);
    st_stream_unref(s);
    return v;
}

static int view_cmp(const void *a, const void *b)
{
    const st_view *x = *(st_view *const *)a, *y = *(st_view *const *)b;
    return lk_str_cmp(st_view_canonical(x), st_view_canonical(y));
}

/* Streams in memory that match, with their snapshots. */
static mem_match *select_memory(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm,
                                int64_t from, int64_t through, bool with_data, size_t *n)
{
    *n = 0;
    ing_tenant *t = ing_tenant_get(g, tenant, false);
    if (!t)
        return NULL;
    size_t ns;
    st_stream **all;
    if (!mix_candidates(t->mix, ms, nm, &all, &ns)) /* an equality matcher's streams */
        all = ing_tenant_streams(t, &ns);
    mem_match *m = lk_malloc((ns ? ns : 1) * sizeof(*m));
    size_t k = 0;
    for (size_t i = 0; i < ns; i++) {
        st_stream *s = all[i];
        if (from <= through && matchers_match_labels(ms, nm, st_stream_labels(s))) {
            m[k].s = s;
            m[k++].v = st_stream_view(s, from, through, with_data);
        } else {
            st_stream_unref(s);
        }
    }
    free(all);
    *n = k;
    return m;
}

void ing_select_index(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
                      int64_t through, bool with_data, idx_result *res, sto_read_errors *re)
{
    lk_buf err = { 0 };
    if (idx_select(g->index, tenant, ms, nm, from, through, with_data, res, &err) != 0) {
        log_warn("reading the index failed; answering from memory", "err=\"%s\"",
                 err.p ? err.p : "");
        sto_read_error(re, STO_READ_INDEX_FAILED, 1, "%s; answered from memory only",
                       err.p ? err.p : "index read failed");
    }
    sto_read_error(re, STO_READ_INDEX_CORRUPT, (int64_t)res->skipped,
                   "a malformed entry in the index's %s database",
                   res->skipped_db ? res->skipped_db : "");
    lk_buf_free(&err);
}

int ing_select(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
               int64_t through, bool with_data, st_view ***out, size_t *n)
{
    return ing_select_stats(g, tenant, ms, nm, from, through, with_data, NULL, out, n);
}

int ing_select_stats(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
                     int64_t through, bool with_data, sto_stats *stats, st_view ***out, size_t *n)
{
    if (tenant.len && memchr(tenant.p, '|', tenant.len))
        return ing_select_tenants(g, tenant, ms, nm, from, through, with_data, stats, out, n);
    return ing_select_one(g, tenant, ms, nm, from, through, with_data, stats, out, n);
}

int ing_select_one(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
                   int64_t through, bool with_data, sto_stats *stats, st_view ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t nmem;
    mem_match *mem = select_memory(g, tenant, ms, nm, from, through, with_data, &nmem);
    idx_result res = { 0 };
    if (g->index && from <= through)
        ing_select_index(g, tenant, ms, nm, from, through, with_data, &res,
                         stats ? &stats->read_errors : NULL);
    if (nmem > 1)
        qsort(mem, nmem, sizeof(*mem), match_cmp);
    st_view **views = lk_malloc((nmem + res.n + 1) * sizeof(*views));
    size_t nv = 0;
    for (size_t i = 0; i < res.n; i++) {
        const idx_series *x = &res.v[i];
        mem_match *m = find_match(mem, nmem, x);
        st_view *v;
        if (m) {
            if (!m->v)
                m->v = st_view_new(m->s, with_data);
            v = m->v;
        } else {
            v = disk_view(x, with_data);
            if (!v)
                continue;
            views[nv++] = v;
        }
        if (with_data)
            st_view_add_disk(v, g->dir, tenant, x->chunks, x->n_chunks);
    }
    for (size_t i = 0; i < nmem; i++) {
        if (mem[i].v)
            views[nv++] = mem[i].v;
        st_stream_unref(mem[i].s);
    }
    free(mem);
    idx_result_free(&res);
    qsort(views, nv, sizeof(*views), view_cmp);
    *out = views;
    *n = nv;
    return 0;
}

void st_views_free(st_view **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        st_view_free(v[i]);
    free(v);
}

const lk_labels *st_view_labels(const st_view *v)
{
    return v->relabel ? &v->relabel->labels : st_stream_labels(v->s);
}

lk_str st_view_canonical(const st_view *v)
{
    return v->relabel ? lk_buf_str(&v->relabel->canonical) : st_stream_canonical(v->s);
}

uint64_t st_view_fp(const st_view *v)
{
    return v->relabel ? v->relabel->fp : st_stream_fp(v->s);
}
