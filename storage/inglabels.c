/* Label names and values for the metadata endpoints (ing_label_strs):
 * from the tenant's label index in memory (storage/memidx.c: a name or
 * value counts when one of its streams has a chunk in memory overlapping
 * the range) and from the series the LMDB index has in the range, the
 * same streams ing_select would return, without a view per stream. */
#include <stdlib.h>

#include "lib/labels.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/ing_int.h"

static void strs_add(void *ctx, lk_str s)
{
    ing_strs *o = ctx;
    o->v = lk_grow(o->v, &o->cap, o->n + 1, sizeof(*o->v));
    o->v[o->n++] = lk_arena_str(&o->arena, s);
}

static int str_cmp(const void *a, const void *b)
{
    return lk_str_cmp(*(const lk_str *)a, *(const lk_str *)b);
}

static void strs_sort_unique(ing_strs *o)
{
    if (!o->n)
        return;
    qsort(o->v, o->n, sizeof(*o->v), str_cmp);
    size_t k = 1;
    for (size_t i = 1; i < o->n; i++)
        if (!lk_str_eq(o->v[i], o->v[k - 1]))
            o->v[k++] = o->v[i];
    o->n = k;
}

/* The names, or the value of *name, of one indexed series. */
static void add_series(ing_strs *o, const lk_str *name, lk_str canonical)
{
    lk_labels l;
    if (labels_parse(canonical, &l, NULL) != 0) {
        log_warn("skipping an indexed stream with unparsable labels", "labels=\"%.*s\"",
                 LK_STR_FMT(canonical));
        return;
    }
    if (name) {
        const lk_str *v = labels_get(&l, *name);
        if (v)
            strs_add(o, *v);
    } else {
        for (size_t i = 0; i < l.n; i++)
            strs_add(o, l.v[i].name);
    }
    labels_free(&l);
}

void ing_label_strs(ing *g, lk_str tenant, const lk_str *name, int64_t from, int64_t through,
                   sto_read_errors *re, ing_strs *out)
{
    *out = (ing_strs){ 0 };
    if (from > through)
        return;
    ing_tenant *t = ing_tenant_get(g, tenant, false);
    if (t && name)
        mix_values(t->mix, *name, from, through, strs_add, out);
    else if (t)
        mix_names(t->mix, from, through, strs_add, out);
    if (g->index) {
        idx_result res = { 0 };
        ing_select_index(g, tenant, NULL, 0, from, through, false, &res, re);
        for (size_t i = 0; i < res.n; i++)
            add_series(out, name, res.v[i].canonical);
        idx_result_free(&res);
    }
    strs_sort_unique(out);
}

void ing_strs_free(ing_strs *s)
{
    free(s->v);
    lk_arena_free(&s->arena);
    *s = (ing_strs){ 0 };
}
