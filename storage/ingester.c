/* The ingester (storage/ingester.h): tenants, each with a stream map split
 * into ING_SHARDS shards by fingerprint. A shard is an open-addressing table
 * fp -> stream under its own mutex, held only to find or create a stream;
 * the push itself runs under the stream's own lock (stream.c), so pushes to
 * different streams proceed in parallel. Two label sets with the same
 * fingerprint are two entries of the table, told apart by their canonical
 * labels. Streams are never removed in this milestone (no flushing yet);
 * the table holds one reference of each, and lookups take another. */
#include "storage/ingester.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/stream.h"

#define ING_SHARDS 64
#define ING_SHARD_BITS 6
#define DEFAULT_BLOCK_SIZE (256 * 1024)
#define DEFAULT_MAX_AGE_NS (2 * 3600 * LK_NS_PER_SEC)

typedef struct ing_shard {
    pthread_mutex_t mu;
    st_stream **slots; /* NULL: empty */
    size_t cap, n;
} __attribute__((aligned(64))) ing_shard;

typedef struct ing_tenant {
    char *name;
    size_t name_len;
    uint64_t hash;
    atomic_long n_streams;
    ing_shard shards[ING_SHARDS];
} ing_tenant;

struct ing {
    ing_opts opts;
    chk_limits lim;
    pthread_rwlock_t tmu;
    ing_tenant **tenants; /* open addressing by name hash */
    size_t tcap, tn;
    atomic_llong streams, streams_created;
    atomic_llong chunks, blocks, head_bytes, comp_bytes;
};

/* ---- create / destroy */

int ing_create(const ing_opts *opts, ing **out)
{
    if (!opts || opts->chunk_block_size < 0 || opts->chunk_target_size < 0 ||
        opts->max_chunk_age_ns < 0 || opts->max_streams_per_user < 0)
        return LK_EINVAL;
    ing *g = lk_calloc(1, sizeof(*g));
    g->opts = *opts;
    g->lim.block_size = opts->chunk_block_size ? opts->chunk_block_size : DEFAULT_BLOCK_SIZE;
    if (g->lim.block_size > CHK_MAX_BLOCK_SIZE)
        g->lim.block_size = CHK_MAX_BLOCK_SIZE;
    g->lim.target_size = opts->chunk_target_size;
    g->lim.max_age_ns = opts->max_chunk_age_ns ? opts->max_chunk_age_ns : DEFAULT_MAX_AGE_NS;
    pthread_rwlock_init(&g->tmu, NULL);
    *out = g;
    return 0;
}

static void tenant_free(ing_tenant *t)
{
    for (int i = 0; i < ING_SHARDS; i++) {
        ing_shard *sh = &t->shards[i];
        for (size_t j = 0; j < sh->cap; j++)
            st_stream_unref(sh->slots[j]);
        free(sh->slots);
        pthread_mutex_destroy(&sh->mu);
    }
    free(t->name);
    free(t);
}

void ing_destroy(ing *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->tcap; i++) {
        if (g->tenants[i])
            tenant_free(g->tenants[i]);
    }
    free(g->tenants);
    pthread_rwlock_destroy(&g->tmu);
    free(g);
}

/* ---- tenants */

static ing_tenant *tenant_find(const ing *g, lk_str name, uint64_t h)
{
    if (!g->tcap)
        return NULL;
    for (size_t i = h & (g->tcap - 1);; i = (i + 1) & (g->tcap - 1)) {
        ing_tenant *t = g->tenants[i];
        if (!t)
            return NULL;
        if (t->hash == h && lk_str_eq(lk_str_n(t->name, t->name_len), name))
            return t;
    }
}

static void tenant_slot_put(ing_tenant **tab, size_t cap, ing_tenant *t)
{
    size_t i = t->hash & (cap - 1);
    while (tab[i])
        i = (i + 1) & (cap - 1);
    tab[i] = t;
}

static ing_tenant *tenant_add(ing *g, lk_str name, uint64_t h)
{
    if ((g->tn + 1) * 2 > g->tcap) {
        size_t ncap = g->tcap ? g->tcap * 2 : 16;
        ing_tenant **nt = lk_calloc(ncap, sizeof(*nt));
        for (size_t i = 0; i < g->tcap; i++) {
            if (g->tenants[i])
                tenant_slot_put(nt, ncap, g->tenants[i]);
        }
        free(g->tenants);
        g->tenants = nt;
        g->tcap = ncap;
    }
    /* shards are cache-line aligned (no false sharing between their locks) */
    void *mem = NULL;
    if (posix_memalign(&mem, 64, sizeof(ing_tenant)) != 0)
        LK_BUG("posix_memalign(%zu) failed", sizeof(ing_tenant));
    ing_tenant *t = memset(mem, 0, sizeof(ing_tenant));
    t->name = lk_strndup(name.p ? name.p : "", name.len);
    t->name_len = name.len;
    t->hash = h;
    atomic_init(&t->n_streams, 0);
    for (int i = 0; i < ING_SHARDS; i++)
        pthread_mutex_init(&t->shards[i].mu, NULL);
    tenant_slot_put(g->tenants, g->tcap, t);
    g->tn++;
    return t;
}

/* The tenant, created when create is set; NULL otherwise when absent.
 * Tenants live as long as the ingester. */
static ing_tenant *tenant_get(ing *g, lk_str name, bool create)
{
    uint64_t h = XXH3_64bits(name.p ? name.p : "", name.len);
    pthread_rwlock_rdlock(&g->tmu);
    ing_tenant *t = tenant_find(g, name, h);
    pthread_rwlock_unlock(&g->tmu);
    if (t || !create)
        return t;
    pthread_rwlock_wrlock(&g->tmu);
    t = tenant_find(g, name, h);
    if (!t)
        t = tenant_add(g, name, h);
    pthread_rwlock_unlock(&g->tmu);
    return t;
}

/* ---- shards */

static ing_shard *shard_of(ing_tenant *t, uint64_t fp)
{
    return &t->shards[fp >> (64 - ING_SHARD_BITS)];
}

static st_stream *shard_find(const ing_shard *sh, lk_str canonical, uint64_t fp)
{
    if (!sh->cap)
        return NULL;
    for (size_t i = fp & (sh->cap - 1);; i = (i + 1) & (sh->cap - 1)) {
        st_stream *s = sh->slots[i];
        if (!s)
            return NULL;
        if (st_stream_fp(s) == fp && lk_str_eq(st_stream_canonical(s), canonical))
            return s;
    }
}

static void slot_put(st_stream **tab, size_t cap, st_stream *s)
{
    size_t i = st_stream_fp(s) & (cap - 1);
    while (tab[i])
        i = (i + 1) & (cap - 1);
    tab[i] = s;
}

static void shard_insert(ing_shard *sh, st_stream *s)
{
    if ((sh->n + 1) * 2 > sh->cap) {
        size_t ncap = sh->cap ? sh->cap * 2 : 16;
        st_stream **ns = lk_calloc(ncap, sizeof(*ns));
        for (size_t i = 0; i < sh->cap; i++) {
            if (sh->slots[i])
                slot_put(ns, ncap, sh->slots[i]);
        }
        free(sh->slots);
        sh->slots = ns;
        sh->cap = ncap;
    }
    slot_put(sh->slots, sh->cap, s);
    sh->n++;
}

static void limit_message(lk_buf *err, lk_str canonical, lk_str tenant)
{
    if (!err)
        return;
    lk_buf_printf(err,
                  "maximum active stream limit exceeded when trying to create stream %.*s, "
                  "reduce the number of active streams (reduce labels or reduce label values), "
                  "or contact your Loki administrator to see if the limit can be increased, "
                  "user: '%.*s'",
                  LK_STR_FMT(canonical), LK_STR_FMT(tenant));
}

/* Finds or creates the stream (a new reference). LK_ELIMIT over
 * max_streams_per_user. */
static int stream_get(ing *g, ing_tenant *t, const lk_labels *labels, lk_str canonical,
                      uint64_t fp, st_stream **out, bool *created)
{
    ing_shard *sh = shard_of(t, fp);
    int rc = 0;
    *created = false;
    pthread_mutex_lock(&sh->mu);
    st_stream *s = shard_find(sh, canonical, fp);
    if (!s) {
        long limit = g->opts.max_streams_per_user;
        long prev = atomic_fetch_add(&t->n_streams, 1);
        if (limit > 0 && prev >= limit) {
            atomic_fetch_sub(&t->n_streams, 1);
            rc = LK_ELIMIT;
            goto out;
        }
        s = st_stream_new(labels, canonical, fp);
        shard_insert(sh, s);
        *created = true;
        atomic_fetch_add_explicit(&g->streams, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&g->streams_created, 1, memory_order_relaxed);
    }
    *out = st_stream_ref(s);
out:
    pthread_mutex_unlock(&sh->mu);
    return rc;
}

/* ---- push */

/* Go's time.Format(time.RFC3339) in UTC: whole seconds (rounded down), no
 * fraction. */
static void format_rfc3339(int64_t ns, lk_buf *out)
{
    int64_t rem = ns % LK_NS_PER_SEC, sec_ns = ns - rem;
    if (rem < 0 && sec_ns >= INT64_MIN + LK_NS_PER_SEC)
        sec_ns -= LK_NS_PER_SEC;
    lk_format_rfc3339nano(sec_ns, out);
}

static void reject_message(const st_push_acc *a, lk_str tenant, lk_str canonical,
                           const lk_entry *entries, size_t n, lk_buf *err)
{
    if (!err)
        return;
    for (size_t i = 0; i < a->n_listed; i++) {
        const lk_entry *e = &entries[a->listed[i].idx];
        lk_buf_puts(err, "entry with timestamp ");
        lk_format_go_time(e->ts, err);
        if (a->listed[i].too_large) {
            lk_buf_printf(err, " ignored, reason: 'entry too large to store: %zu bytes',\n",
                          e->line.len);
            continue;
        }
        lk_buf_puts(err, " ignored, reason: 'entry too far behind, entry timestamp is: ");
        format_rfc3339(e->ts, err);
        lk_buf_puts(err, ", oldest acceptable timestamp is: ");
        format_rfc3339(a->listed[i].cutoff, err);
        lk_buf_puts(err, "',\n");
    }
    lk_buf_printf(err, "user '%.*s', total ignored: %zu out of %zu for stream: %.*s",
                  LK_STR_FMT(tenant), a->rejected, n, LK_STR_FMT(canonical));
}

static void add_deltas(ing *g, const st_push_acc *a)
{
    if (a->d_chunks)
        atomic_fetch_add_explicit(&g->chunks, a->d_chunks, memory_order_relaxed);
    if (a->d_blocks)
        atomic_fetch_add_explicit(&g->blocks, a->d_blocks, memory_order_relaxed);
    if (a->d_head_bytes)
        atomic_fetch_add_explicit(&g->head_bytes, a->d_head_bytes, memory_order_relaxed);
    if (a->d_comp_bytes)
        atomic_fetch_add_explicit(&g->comp_bytes, a->d_comp_bytes, memory_order_relaxed);
}

int ing_push(ing *g, lk_str tenant, const lk_labels *labels, lk_str canonical, uint64_t fp,
             const lk_entry *entries, size_t n, ing_push_result *res, lk_buf *err)
{
    ing_push_result r = { 0 };
    ing_tenant *t = tenant_get(g, tenant, true);
    st_stream *s;
    int rc = stream_get(g, t, labels, canonical, fp, &s, &r.created);
    if (rc == LK_ELIMIT) {
        limit_message(err, canonical, tenant);
        r.rejected = n;
        if (res)
            *res = r;
        return rc;
    }
    st_push_acc a = { 0 };
    st_stream_push(s, &g->lim, entries, n, &a);
    st_stream_unref(s);
    add_deltas(g, &a);
    r.accepted = a.accepted;
    r.duplicates = a.duplicates;
    r.rejected = a.rejected;
    r.bytes = a.bytes;
    if (res)
        *res = r;
    if (a.rejected == 0)
        return 0;
    reject_message(&a, tenant, canonical, entries, n, err);
    return LK_EINVAL;
}

/* ---- select */

/* References to every stream of the tenant (taken under the shard locks,
 * matched afterwards so regexes never run under a lock). */
static st_stream **collect_streams(ing_tenant *t, size_t *n)
{
    st_stream **v = NULL;
    size_t cap = 0, k = 0;
    for (int i = 0; i < ING_SHARDS; i++) {
        ing_shard *sh = &t->shards[i];
        pthread_mutex_lock(&sh->mu);
        v = lk_grow(v, &cap, k + sh->n, sizeof(*v));
        for (size_t j = 0; j < sh->cap; j++) {
            if (sh->slots[j])
                v[k++] = st_stream_ref(sh->slots[j]);
        }
        pthread_mutex_unlock(&sh->mu);
    }
    *n = k;
    return v;
}

static int view_cmp(const void *a, const void *b)
{
    const st_view *x = *(st_view *const *)a, *y = *(st_view *const *)b;
    return lk_str_cmp(st_view_canonical(x), st_view_canonical(y));
}

int ing_select(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
               int64_t through, bool with_data, st_view ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    ing_tenant *t = tenant_get(g, tenant, false);
    if (!t)
        return 0;
    size_t ns;
    st_stream **all = collect_streams(t, &ns);
    st_view **views = lk_malloc((ns ? ns : 1) * sizeof(*views));
    size_t nv = 0;
    for (size_t i = 0; i < ns; i++) {
        st_stream *s = all[i];
        if (from <= through && matchers_match_labels(ms, nm, st_stream_labels(s))) {
            st_view *v = st_stream_view(s, from, through, with_data);
            if (v)
                views[nv++] = v;
        }
        st_stream_unref(s);
    }
    free(all);
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
    return st_stream_labels(v->s);
}

lk_str st_view_canonical(const st_view *v)
{
    return st_stream_canonical(v->s);
}

uint64_t st_view_fp(const st_view *v)
{
    return st_stream_fp(v->s);
}

/* ---- counters */

void ing_get_counters(ing *g, ing_counters *c)
{
    c->streams = atomic_load_explicit(&g->streams, memory_order_relaxed);
    c->streams_created = atomic_load_explicit(&g->streams_created, memory_order_relaxed);
    c->chunks = atomic_load_explicit(&g->chunks, memory_order_relaxed);
    c->blocks = atomic_load_explicit(&g->blocks, memory_order_relaxed);
    c->head_bytes = atomic_load_explicit(&g->head_bytes, memory_order_relaxed);
    c->compressed_bytes = atomic_load_explicit(&g->comp_bytes, memory_order_relaxed);
}
