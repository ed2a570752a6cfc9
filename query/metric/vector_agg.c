/* Vector aggregations (sum avg min max count stddev stdvar topk bottomk
 * sort sort_desc) over the series of a matrix, step by step, with Loki's
 * arithmetic (pkg/logql/evaluator.go VectorAggEvaluator): by/without
 * grouping, a running mean for avg, Welford for stddev/stdvar, NaN-aware
 * min/max, and Go's container/heap for topk/bottomk, whose output keeps
 * each selected series' full label set. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/metric/metric_int.h"

/* Group of every input series; the groups' label sets go to `groups`. */
static size_t *group_series(const logql_grouping *g, const lm_matrix *in, lm_matrix *groups,
                            size_t n_steps)
{
    size_t *gi = lk_malloc((in->n ? in->n : 1) * sizeof *gi);
    lm_outset o;
    lm_outset_init(&o, groups, n_steps);
    for (size_t i = 0; i < in->n; i++) {
        lk_labels l;
        lm_labels_group(&in->s[i].labels, g->labels, g->n_labels, g->without, &l);
        gi[i] = lm_outset_take(&o, &l);
    }
    lm_outset_free(&o);
    return gi;
}

typedef struct group_state {
    double value, mean;
    size_t count;
} group_state;

static void fold(logql_vector_op op, group_state *g, double v)
{
    if (g->count == 0) {
        g->value = op == LOGQL_VEC_STDDEV || op == LOGQL_VEC_STDVAR ? 0 : v;
        g->mean = v;
        g->count = 1;
        return;
    }
    g->count++;
    switch (op) {
    case LOGQL_VEC_SUM:
        g->value += v;
        break;
    case LOGQL_VEC_AVG:
        g->mean += (v - g->mean) / (double)g->count;
        break;
    case LOGQL_VEC_MAX:
        if (g->value < v || isnan(g->value))
            g->value = v;
        break;
    case LOGQL_VEC_MIN:
        if (g->value > v || isnan(g->value))
            g->value = v;
        break;
    case LOGQL_VEC_STDDEV:
    case LOGQL_VEC_STDVAR: {
        double delta = v - g->mean;
        g->mean += delta / (double)g->count;
        g->value += delta * (v - g->mean);
        break;
    }
    default: /* count */
        break;
    }
}

static double result(logql_vector_op op, const group_state *g)
{
    switch (op) {
    case LOGQL_VEC_AVG:
        return g->mean;
    case LOGQL_VEC_COUNT:
        return (double)g->count;
    case LOGQL_VEC_STDDEV:
        return sqrt(g->value / (double)g->count);
    case LOGQL_VEC_STDVAR:
        return g->value / (double)g->count;
    default:
        return g->value;
    }
}

static void aggregate(lm_ctx *c, const logql_vector_agg *va, const lm_matrix *in,
                      lm_matrix *out)
{
    size_t *gi = group_series(&va->grouping, in, out, c->n_steps);
    group_state *st = lk_calloc(out->n ? out->n : 1, sizeof *st);
    for (size_t t = 0; t < c->n_steps; t++) {
        memset(st, 0, (out->n ? out->n : 1) * sizeof *st);
        for (size_t i = 0; i < in->n; i++) {
            if (in->s[i].present[t])
                fold(va->op, &st[gi[i]], in->s[i].v[t]);
        }
        for (size_t g = 0; g < out->n; g++) {
            if (!st[g].count)
                continue;
            out->s[g].present[t] = 1;
            out->s[g].v[t] = result(va->op, &st[g]);
        }
    }
    free(st);
    free(gi);
}

/* ---- topk / bottomk: Go's container/heap over series indexes */

typedef struct heap {
    size_t *v;
    size_t n;
    const lm_matrix *in;
    size_t t;
    bool bottom;
} heap;

/* vectorByValueHeap (topk) / vectorByReverseValueHeap (bottomk) Less */
static bool less(const heap *h, size_t i, size_t j)
{
    double a = h->in->s[h->v[i]].v[h->t], b = h->in->s[h->v[j]].v[h->t];
    if (isnan(a))
        return true;
    return h->bottom ? a > b : a < b;
}

static void swap(heap *h, size_t i, size_t j)
{
    size_t x = h->v[i];
    h->v[i] = h->v[j];
    h->v[j] = x;
}

static void up(heap *h, size_t j)
{
    while (j > 0) {
        size_t i = (j - 1) / 2;
        if (!less(h, j, i))
            break;
        swap(h, i, j);
        j = i;
    }
}

static void down(heap *h, size_t i0, size_t n)
{
    size_t i = i0;
    for (;;) {
        size_t j1 = 2 * i + 1;
        if (j1 >= n)
            break;
        size_t j = j1;
        if (j1 + 1 < n && less(h, j1 + 1, j1))
            j = j1 + 1;
        if (!less(h, j, i))
            break;
        swap(h, i, j);
        i = j;
    }
}

static void heap_push(heap *h, size_t series)
{
    h->v[h->n++] = series;
    up(h, h->n - 1);
}

static void heap_pop(heap *h)
{
    swap(h, 0, h->n - 1);
    down(h, 0, h->n - 1);
    h->n--;
}

/* Offers series s to the group's heap of at most k. */
static void offer(heap *h, size_t k, size_t s)
{
    if (h->n < k) {
        heap_push(h, s);
        return;
    }
    double top = h->in->s[h->v[0]].v[h->t], v = h->in->s[s].v[h->t];
    bool better = h->bottom ? top > v : top < v;
    if (better || isnan(top)) {
        heap_pop(h);
        heap_push(h, s);
    }
}

/* sort.Sort(sort.Reverse(heap)): best first */
static void heap_order(heap *h)
{
    for (size_t n = h->n; n > 1; n--) {
        swap(h, 0, n - 1);
        down(h, 0, n - 1);
    }
}

static void topk(lm_ctx *c, const logql_vector_agg *va, const lm_matrix *in, lm_matrix *out)
{
    int64_t k = va->param;
    if (k < 1 || !in->n)
        return;
    lm_matrix groups = { 0 };
    size_t *gi = group_series(&va->grouping, in, &groups, 1);
    size_t ng = groups.n;
    /* each group's heap lives at off[g] in one buffer, sized min(k, group size) */
    size_t *off = lk_calloc(ng + 1, sizeof *off), *cap = lk_calloc(ng, sizeof *cap);
    for (size_t i = 0; i < in->n; i++)
        cap[gi[i]]++;
    for (size_t g = 0; g < ng; g++) {
        if ((int64_t)cap[g] > k)
            cap[g] = (size_t)k;
        off[g + 1] = off[g] + cap[g];
    }
    size_t *buf = lk_malloc((off[ng] ? off[ng] : 1) * sizeof *buf);
    heap *h = lk_calloc(ng, sizeof *h);
    size_t *to_out = lk_malloc(in->n * sizeof *to_out);
    memset(to_out, 0xff, in->n * sizeof *to_out);
    bool bottom = va->op == LOGQL_VEC_BOTTOMK;
    for (size_t t = 0; t < c->n_steps; t++) {
        for (size_t g = 0; g < ng; g++)
            h[g] = (heap){ .v = buf + off[g], .in = in, .t = t, .bottom = bottom };
        for (size_t i = 0; i < in->n; i++) {
            if (in->s[i].present[t])
                offer(&h[gi[i]], cap[gi[i]], i);
        }
        for (size_t g = 0; g < ng; g++) {
            heap_order(&h[g]);
            for (size_t j = 0; j < h[g].n; j++) {
                size_t s = h[g].v[j];
                if (to_out[s] == SIZE_MAX) {
                    lk_labels l;
                    labels_copy(&in->s[s].labels, &l);
                    lm_matrix_add(out, &l, c->n_steps);
                    to_out[s] = out->n - 1;
                }
                out->s[to_out[s]].present[t] = 1;
                out->s[to_out[s]].v[t] = in->s[s].v[t];
            }
        }
    }
    free(to_out);
    free(h);
    free(buf);
    free(off);
    free(cap);
    free(gi);
    lm_matrix_free(&groups);
}

/* ---- sort / sort_desc: the order matters for instant queries only */

/* x before y: ascending (or descending), NaN last */
static bool before(const lm_series *x, const lm_series *y, bool desc)
{
    double a = x->v[0], b = y->v[0];
    if (isnan(a) || isnan(b))
        return !isnan(a) && isnan(b);
    return desc ? a > b : a < b;
}

/* A stable merge sort (qsort is not stable, and equal values keep the
 * input order). */
static void sort_series(lm_series *s, size_t n, bool desc)
{
    lm_series *tmp = lk_malloc(n * sizeof *tmp);
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = before(&s[j], &s[i], desc) ? s[j++] : s[i++];
            while (i < mid)
                tmp[o++] = s[i++];
            while (j < hi)
                tmp[o++] = s[j++];
        }
        memcpy(s, tmp, n * sizeof *s);
    }
    free(tmp);
}

int lm_eval_vagg(lm_ctx *c, const logql_vector_agg *va, lm_matrix *in, lm_matrix *out)
{
    lm_matrix_prune(in, c->n_steps);
    int rc = LK_OK;
    /* Loki shards sum, avg and count; any other aggregation materializes its
     * input, which max_query_series bounds */
    if (va->op != LOGQL_VEC_SUM && va->op != LOGQL_VEC_AVG && va->op != LOGQL_VEC_COUNT)
        rc = lm_series_limit(c, in->n);
    if (rc)
        return rc;
    switch (va->op) {
    case LOGQL_VEC_TOPK:
    case LOGQL_VEC_BOTTOMK:
    case LOGQL_VEC_APPROX_TOPK:
        topk(c, va, in, out);
        break;
    case LOGQL_VEC_SORT:
    case LOGQL_VEC_SORT_DESC:
        *out = *in;
        *in = (lm_matrix){ 0 };
        c->sorted = true;
        if (c->n_steps == 1 && out->n > 1)
            sort_series(out->s, out->n, va->op == LOGQL_VEC_SORT_DESC);
        break;
    default:
        aggregate(c, va, in, out);
        break;
    }
    lm_matrix_prune(out, c->n_steps);
    return LK_OK;
}
