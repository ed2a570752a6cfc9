/* The ingester's delete requests (storage/ingester.h, "log deletion"): the
 * tenants that have any, each with its current immutable set
 * (storage/delset.c), loaded from the durable store (storage/delstore.c)
 * at open and replaced, store first, on every add, cancel or processing.
 *
 * Readers take a reference to a tenant's set under delmu; while no tenant
 * has a request (n_del_tenants == 0) they take nothing at all. The list of
 * tenants is searched linearly: tenants with delete requests are few. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/delete.h"
#include "storage/ing_int.h"

struct ing_deletes {
    char *tenant;
    size_t tenant_len;
    const del_set *set;
};

static struct ing_deletes *find(ing *g, lk_str tenant)
{
    for (size_t i = 0; i < g->n_dels; i++)
        if (lk_str_eq(lk_str_n(g->dels[i].tenant, g->dels[i].tenant_len), tenant))
            return &g->dels[i];
    return NULL;
}

/* Replaces the tenant's set by one of n requests (under delmu). */
static void set_tenant(ing *g, lk_str tenant, const del_req *v, size_t n)
{
    struct ing_deletes *d = find(g, tenant);
    if (!d) {
        g->dels = lk_grow(g->dels, &g->cap_dels, g->n_dels + 1, sizeof(*g->dels));
        d = &g->dels[g->n_dels++];
        *d = (struct ing_deletes){ lk_strndup(tenant.p, tenant.len), tenant.len, NULL };
        atomic_store(&g->n_del_tenants, g->n_dels);
    }
    const del_set *old = d->set;
    d->set = del_set_new(g->opts.delete_filter, v, n);
    del_set_release(old);
}

/* ---- loading */

typedef struct loader {
    ing *g;
    char *tenant;
    size_t tenant_len;
    del_req *v;
    size_t n, cap;
} loader;

static void load_flush(loader *l)
{
    if (l->n)
        set_tenant(l->g, lk_str_n(l->tenant, l->tenant_len), l->v, l->n);
    for (size_t i = 0; i < l->n; i++)
        free((char *)l->v[i].query.p);
    l->n = 0;
}

static int req_by_created(const void *a, const void *b)
{
    const del_req *x = a, *y = b;
    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int load_one(void *ctx, lk_str tenant, const del_req *r)
{
    loader *l = ctx;
    if (!l->tenant || !lk_str_eq(lk_str_n(l->tenant, l->tenant_len), tenant)) {
        if (l->n)
            qsort(l->v, l->n, sizeof(*l->v), req_by_created);
        load_flush(l);
        free(l->tenant);
        l->tenant = lk_strndup(tenant.p, tenant.len);
        l->tenant_len = tenant.len;
    }
    l->v = lk_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    l->v[l->n] = *r;
    l->v[l->n].query = lk_str_n(lk_strndup(r->query.p, r->query.len), r->query.len);
    l->n++;
    return 0;
}

int ing_deletes_open(ing *g, const char *index_dir, lk_buf *err)
{
    lk_buf dir = { 0 };
    lk_buf_printf(&dir, "%s/deletes", index_dir);
    int rc = del_store_open(dir.p, &g->dstore, err);
    lk_buf_free(&dir);
    if (rc != 0)
        return rc;
    loader l = { .g = g };
    pthread_mutex_lock(&g->delmu);
    rc = del_store_load(g->dstore, load_one, &l, err);
    if (l.n)
        qsort(l.v, l.n, sizeof(*l.v), req_by_created);
    load_flush(&l);
    pthread_mutex_unlock(&g->delmu);
    free(l.tenant);
    free(l.v);
    return rc;
}

void ing_deletes_close(ing *g)
{
    for (size_t i = 0; i < g->n_dels; i++) {
        free(g->dels[i].tenant);
        del_set_release(g->dels[i].set);
    }
    free(g->dels);
    g->dels = NULL;
    g->n_dels = 0;
    del_store_close(g->dstore);
    g->dstore = NULL;
}

/* ---- readers */

const del_set *ing_deletes(ing *g, lk_str tenant)
{
    if (atomic_load_explicit(&g->n_del_tenants, memory_order_acquire) == 0)
        return NULL;
    pthread_mutex_lock(&g->delmu);
    struct ing_deletes *d = find(g, tenant);
    const del_set *s = NULL;
    if (d && d->set) {
        size_t n;
        del_set_reqs(d->set, &n);
        if (n)
            s = del_set_ref(d->set);
    }
    pthread_mutex_unlock(&g->delmu);
    return s;
}

ing_del_tenant *ing_deletes_all(ing *g, size_t *n)
{
    *n = 0;
    if (atomic_load(&g->n_del_tenants) == 0)
        return NULL;
    pthread_mutex_lock(&g->delmu);
    ing_del_tenant *v = lk_calloc(g->n_dels ? g->n_dels : 1, sizeof(*v));
    for (size_t i = 0; i < g->n_dels; i++) {
        v[i].tenant = lk_str_n(lk_strndup(g->dels[i].tenant, g->dels[i].tenant_len),
                               g->dels[i].tenant_len);
        v[i].set = del_set_ref(g->dels[i].set);
    }
    *n = g->n_dels;
    pthread_mutex_unlock(&g->delmu);
    return v;
}

void ing_deletes_all_free(ing_del_tenant *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)v[i].tenant.p);
        del_set_release(v[i].set);
    }
    free(v);
}

/* ---- writers */

/* The tenant's current requests plus room for one more (copies pointing
 * into the set, which the caller keeps referenced). */
static del_req *current(ing *g, lk_str tenant, size_t *n, const del_set **keep)
{
    struct ing_deletes *d = find(g, tenant);
    *keep = d ? d->set : NULL;
    const del_req *cur = d ? del_set_reqs(d->set, n) : (*n = 0, NULL);
    del_req *v = lk_calloc(*n + 1, sizeof(*v));
    if (*n)
        memcpy(v, cur, *n * sizeof(*v));
    return v;
}

static void new_id(lk_str tenant, lk_str query, const del_req *have, size_t n, char *id)
{
    uint64_t seed = (uint64_t)lk_now_ns();
    for (;;) {
        uint64_t h = XXH3_64bits_withSeed(query.p, query.len, seed) ^
                     XXH3_64bits(tenant.p, tenant.len);
        snprintf(id, DEL_ID_LEN + 1, "%08x", (unsigned)(h & 0xffffffffu));
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++)
            dup = strcmp(have[i].id, id) == 0;
        if (!dup)
            return;
        seed++;
    }
}

int ing_delete_add(ing *g, lk_str tenant, lk_str query, int64_t start_ms, int64_t end_ms,
                   del_req *out, lk_buf *err)
{
    const del_filter_ops *ops = g->opts.delete_filter;
    if (!ops)
        return LK_EUNSUPPORTED;
    void *compiled = NULL;
    int rc = ops->compile(query, &compiled, err);
    if (rc != 0)
        return rc;
    ops->free(compiled);
    pthread_mutex_lock(&g->delmu);
    size_t n;
    const del_set *keep;
    del_req *v = current(g, tenant, &n, &keep);
    del_req r = { .start_ms = start_ms, .end_ms = end_ms,
                  .created_ms = lk_now_ns() / LK_NS_PER_MS, .query = query };
    new_id(tenant, query, v, n, r.id);
    if (g->dstore)
        rc = del_store_put(g->dstore, tenant, &r, err);
    if (rc == 0) {
        v[n] = r;
        set_tenant(g, tenant, v, n + 1);
        if (out)
            *out = r;
        log_info("delete request for user added", "delete_request_id=%s user=\"%.*s\"", r.id,
                 LK_STR_FMT(tenant));
    }
    pthread_mutex_unlock(&g->delmu);
    free(v);
    return rc;
}

int ing_delete_cancel(ing *g, lk_str tenant, lk_str id, lk_buf *err)
{
    pthread_mutex_lock(&g->delmu);
    size_t n;
    const del_set *keep;
    del_req *v = current(g, tenant, &n, &keep);
    size_t i = 0;
    while (i < n && !(id.len == DEL_ID_LEN && memcmp(v[i].id, id.p, DEL_ID_LEN) == 0))
        i++;
    int rc = 0;
    if (i == n)
        rc = LK_ENOTFOUND;
    else if (v[i].processed)
        rc = LK_EINVAL;
    else if (g->dstore)
        rc = del_store_remove(g->dstore, tenant, v[i].id, err);
    if (rc == LK_ENOTFOUND && i < n)
        rc = 0; /* gone from the store already */
    if (rc == 0) {
        memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
        set_tenant(g, tenant, v, n - 1);
    }
    pthread_mutex_unlock(&g->delmu);
    free(v);
    return rc;
}

int ing_delete_mark_processed(ing *g, lk_str tenant, const char *id, lk_buf *err)
{
    pthread_mutex_lock(&g->delmu);
    size_t n;
    const del_set *keep;
    del_req *v = current(g, tenant, &n, &keep);
    int rc = LK_ENOTFOUND;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].id, id) != 0)
            continue;
        v[i].processed = true;
        rc = g->dstore ? del_store_put(g->dstore, tenant, &v[i], err) : 0;
        if (rc == 0)
            set_tenant(g, tenant, v, n);
        break;
    }
    pthread_mutex_unlock(&g->delmu);
    free(v);
    return rc;
}
