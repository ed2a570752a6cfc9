/* Multi-tenant selection (storage/ingester.h, ing_select_stats with
 * "a|b"), as Loki's MultiTenantQuerier reads several tenants
 * (pkg/querier/multi_tenant_querier.go): the matchers on __tenant_id__
 * choose the tenants, a matcher on original___tenant_id__ is a matcher on
 * the streams' own __tenant_id__, the rest select streams in each chosen
 * tenant, and each view is relabelled with its tenant and carries that
 * tenant's delete requests (the query's own, for "a|b", are none). */
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "storage/ing_int.h"
#include "storage/stream.h"

#define TENANT_LABEL "__tenant_id__"
#define RETAINED_LABEL "original___tenant_id__"

/* view's labels without __tenant_id__ (kept as original___tenant_id__),
 * plus __tenant_id__=tenant. */
static void relabel(ing *g, st_view *v, lk_str tenant)
{
    const lk_labels *l = st_view_labels(v);
    lk_label *pairs = lk_malloc((l->n + 2) * sizeof(*pairs));
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        pairs[n] = l->v[i];
        if (lk_str_eq_c(l->v[i].name, TENANT_LABEL))
            pairs[n].name = LK_STR(RETAINED_LABEL);
        n++;
    }
    pairs[n++] = (lk_label){ LK_STR(TENANT_LABEL), tenant };
    st_relabel *r = lk_calloc(1, sizeof(*r));
    labels_from_pairs(pairs, n, &r->labels);
    free(pairs);
    labels_canonical(&r->labels, &r->canonical);
    r->fp = labels_hash(lk_buf_str(&r->canonical));
    r->deletes = ing_deletes(g, tenant);
    v->relabel = r;
}

static int view_cmp(const void *a, const void *b)
{
    const st_view *x = *(st_view *const *)a, *y = *(st_view *const *)b;
    return lk_str_cmp(st_view_canonical(x), st_view_canonical(y));
}

/* Does every __tenant_id__ matcher accept tenant? */
static bool tenant_chosen(lk_str tenant, const lk_matcher *ms, size_t nm)
{
    for (size_t i = 0; i < nm; i++)
        if (lk_str_eq_c((lk_str){ ms[i].name, ms[i].name_len }, TENANT_LABEL) &&
            !matcher_matches(&ms[i], tenant))
            return false;
    return true;
}

/* The matchers that select streams: all but those on __tenant_id__, with
 * original___tenant_id__ read as __tenant_id__ (shallow copies). */
static lk_matcher *stream_matchers(const lk_matcher *ms, size_t nm, size_t *out_n)
{
    lk_matcher *out = lk_malloc((nm + 1) * sizeof(*out));
    size_t n = 0;
    for (size_t i = 0; i < nm; i++) {
        lk_str name = { ms[i].name, ms[i].name_len };
        if (lk_str_eq_c(name, TENANT_LABEL))
            continue;
        out[n] = ms[i];
        if (lk_str_eq_c(name, RETAINED_LABEL)) {
            out[n].name = (char *)TENANT_LABEL;
            out[n].name_len = strlen(TENANT_LABEL);
        }
        n++;
    }
    *out_n = n;
    return out;
}

int ing_select_tenants(ing *g, lk_str tenants, const lk_matcher *ms, size_t nm, int64_t from,
                       int64_t through, bool with_data, sto_stats *stats, st_view ***out,
                       size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t nsm;
    lk_matcher *sm = stream_matchers(ms, nm, &nsm);
    st_view **all = NULL;
    size_t nall = 0;
    int rc = 0;
    const char *p = tenants.p, *end = tenants.p + tenants.len;
    while (p <= end && !rc) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        lk_str t = lk_str_n(p, (size_t)((bar ? bar : end) - p));
        p = (bar ? bar : end) + 1;
        if (!t.len || !tenant_chosen(t, ms, nm))
            continue;
        st_view **v = NULL;
        size_t nv = 0;
        rc = ing_select_one(g, t, sm, nsm, from, through, with_data, stats, &v, &nv);
        if (rc)
            break;
        all = lk_realloc(all, (nall + nv + 1) * sizeof(*all));
        for (size_t i = 0; i < nv; i++) {
            relabel(g, v[i], t);
            all[nall++] = v[i];
        }
        free(v);
    }
    free(sm);
    if (rc) {
        st_views_free(all, nall);
        return rc;
    }
    if (nall > 1)
        qsort(all, nall, sizeof(*all), view_cmp);
    *out = all ? all : lk_malloc(sizeof(*all));
    *n = nall;
    return 0;
}
