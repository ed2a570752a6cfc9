/* Label-set helpers of the metric evaluator: Prometheus ordering,
 * hashing, by/without grouping, and the hash map (plus the "output series
 * by labels" set built on it) that the nodes use to find a series. */
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "query/metric/metric_int.h"

int lm_labels_cmp(const lk_labels *a, const lk_labels *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        int c = lk_str_cmp(a->v[i].name, b->v[i].name);
        if (c)
            return c;
        c = lk_str_cmp(a->v[i].value, b->v[i].value);
        if (c)
            return c;
    }
    return a->n < b->n ? -1 : a->n > b->n ? 1 : 0;
}

uint64_t lm_labels_hash(const lk_labels *l, lk_buf *scratch)
{
    lk_buf_reset(scratch);
    labels_canonical(l, scratch);
    return labels_hash(lk_buf_str(scratch));
}

static bool named(lk_str name, const lk_str *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lk_str_eq(name, names[i]))
            return true;
    }
    return false;
}

void lm_labels_group(const lk_labels *l, const lk_str *names, size_t n, bool without,
                     lk_labels *out)
{
    lk_label stack[32] = { { { 0 } } };
    lk_label *keep = l->n <= 32 ? stack : lk_malloc(l->n * sizeof *keep);
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        bool in = named(l->v[i].name, names, n);
        if (without ? !in && !lk_str_eq_c(l->v[i].name, "__name__") : in)
            keep[k++] = l->v[i];
    }
    labels_from_pairs(keep, k, out);
    if (keep != stack)
        free(keep);
}

int64_t lm_labels_bytes(const lk_labels *l)
{
    int64_t n = (int64_t)(l->n * sizeof *l->v);
    for (size_t i = 0; i < l->n; i++)
        n += (int64_t)(l->v[i].name.len + l->v[i].value.len);
    return n;
}

const lk_str *lm_labels_error(const lk_labels *l)
{
    return labels_get(l, LK_STR("__error__"));
}

/* ---- the map */

#define EMPTY UINT32_MAX

void lm_map_init(lm_map *m, size_t hint)
{
    size_t cap = 16;
    while (cap < hint * 2)
        cap *= 2;
    m->cap = cap;
    m->n = 0;
    m->h = lk_malloc(cap * sizeof *m->h);
    m->idx = lk_malloc(cap * sizeof *m->idx);
    memset(m->idx, 0xff, cap * sizeof *m->idx);
}

void lm_map_free(lm_map *m)
{
    free(m->h);
    free(m->idx);
    *m = (lm_map){ 0 };
}

uint32_t lm_map_find(const lm_map *m, uint64_t hash, lm_map_eq eq, void *ctx)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        if (m->idx[i] == EMPTY)
            return EMPTY;
        if (m->h[i] == hash && eq(ctx, m->idx[i]))
            return m->idx[i];
    }
}

static void grow(lm_map *m)
{
    lm_map bigger;
    lm_map_init(&bigger, m->cap);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->idx[i] != EMPTY)
            lm_map_put(&bigger, m->h[i], m->idx[i]);
    }
    lm_map_free(m);
    *m = bigger;
}

void lm_map_put(lm_map *m, uint64_t hash, uint32_t idx)
{
    if ((m->n + 1) * 2 > m->cap)
        grow(m);
    size_t mask = m->cap - 1;
    size_t i = hash & mask;
    while (m->idx[i] != EMPTY)
        i = (i + 1) & mask;
    m->h[i] = hash;
    m->idx[i] = idx;
    m->n++;
}

/* ---- output series by labels */

void lm_outset_init(lm_outset *o, lm_matrix *m, size_t n_steps)
{
    o->m = m;
    o->n_steps = n_steps;
    o->scratch = (lk_buf){ 0 };
    lm_map_init(&o->map, m->n + 8);
    for (size_t i = 0; i < m->n; i++)
        lm_map_put(&o->map, lm_labels_hash(&m->s[i].labels, &o->scratch), (uint32_t)i);
}

void lm_outset_free(lm_outset *o)
{
    lm_map_free(&o->map);
    lk_buf_free(&o->scratch);
}

typedef struct eq_ctx {
    const lm_matrix *m;
    const lk_labels *l;
} eq_ctx;

static bool eq_series(void *ctx, uint32_t idx)
{
    eq_ctx *e = ctx;
    return labels_equal(&e->m->s[idx].labels, e->l);
}

static size_t outset_find(lm_outset *o, const lk_labels *labels, uint64_t *hash)
{
    *hash = lm_labels_hash(labels, &o->scratch);
    eq_ctx e = { o->m, labels };
    return lm_map_find(&o->map, *hash, eq_series, &e);
}

size_t lm_outset_get(lm_outset *o, const lk_labels *labels)
{
    uint64_t h;
    uint32_t i = (uint32_t)outset_find(o, labels, &h);
    if (i != EMPTY)
        return i;
    lk_labels copy;
    labels_copy(labels, &copy);
    lm_matrix_add(o->m, &copy, o->n_steps);
    lm_map_put(&o->map, h, (uint32_t)(o->m->n - 1));
    return o->m->n - 1;
}

size_t lm_outset_take(lm_outset *o, lk_labels *labels)
{
    uint64_t h;
    uint32_t i = (uint32_t)outset_find(o, labels, &h);
    if (i != EMPTY) {
        labels_free(labels);
        return i;
    }
    lm_matrix_add(o->m, labels, o->n_steps);
    lm_map_put(&o->map, h, (uint32_t)(o->m->n - 1));
    return o->m->n - 1;
}
