/* The pattern ingester's memory: tenants, their streams, a Drain per level
 * (see store.h). Locking: the store's mutex guards the tenant list; a
 * tenant's rwlock guards its stream table (read: push and query, write:
 * adding a stream, pruning); a stream's mutex guards its Drains, so pushes
 * to different streams mine in parallel. */
#include "query/pattern/store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/pattern/drain.h"

#define PRUNE_EVERY_NS (60 * INT64_C(1000000000))

static const char *const levels[] = { "unknown", "debug", "info", "warn",
                                      "error", "fatal", "critical", "trace" };
#define N_LEVELS (sizeof levels / sizeof levels[0])

typedef struct pstream {
    char *canonical;
    size_t clen;
    uint64_t fp;
    lk_labels labels;
    pat_format fmt;
    int64_t last_ts;
    drain *d[N_LEVELS];
    pthread_mutex_t mu;
    struct pstream *next;
} pstream;

typedef struct ptenant {
    char *name;
    size_t len;
    pthread_rwlock_t mu;
    pstream **buckets;
    size_t n_buckets, n_streams;
    int64_t last_prune;
    struct ptenant *next;
} ptenant;

struct pat_store {
    pthread_mutex_t mu;
    ptenant *tenants;
    int64_t retain_ns;
};

/* ---- tenants and streams ---------------------------------------------------------- */

pat_store *pat_store_create(int64_t retain_for_ns)
{
    pat_store *s = lk_calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->retain_ns = retain_for_ns;
    return s;
}

static void stream_free(pstream *p)
{
    for (size_t l = 0; l < N_LEVELS; l++)
        drain_destroy(p->d[l]);
    labels_free(&p->labels);
    pthread_mutex_destroy(&p->mu);
    free(p->canonical);
    free(p);
}

void pat_store_destroy(pat_store *s)
{
    if (!s)
        return;
    ptenant *t = s->tenants;
    while (t) {
        ptenant *next = t->next;
        for (size_t b = 0; b < t->n_buckets; b++) {
            pstream *p = t->buckets[b];
            while (p) {
                pstream *pn = p->next;
                stream_free(p);
                p = pn;
            }
        }
        free(t->buckets);
        pthread_rwlock_destroy(&t->mu);
        free(t->name);
        free(t);
        t = next;
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static ptenant *tenant_get(pat_store *s, lk_str name, bool create)
{
    pthread_mutex_lock(&s->mu);
    ptenant *t = s->tenants;
    while (t && !(t->len == name.len && memcmp(t->name, name.p, name.len) == 0))
        t = t->next;
    if (!t && create) {
        t = lk_calloc(1, sizeof *t);
        t->name = lk_strndup(name.p, name.len);
        t->len = name.len;
        pthread_rwlock_init(&t->mu, NULL);
        t->n_buckets = 64;
        t->buckets = lk_calloc(t->n_buckets, sizeof *t->buckets);
        t->last_prune = lk_now_ns();
        t->next = s->tenants;
        s->tenants = t;
    }
    pthread_mutex_unlock(&s->mu);
    return t;
}

static void rehash(ptenant *t)
{
    size_t nb = t->n_buckets * 2;
    pstream **b = lk_calloc(nb, sizeof *b);
    for (size_t i = 0; i < t->n_buckets; i++) {
        pstream *p = t->buckets[i];
        while (p) {
            pstream *next = p->next;
            p->next = b[p->fp % nb];
            b[p->fp % nb] = p;
            p = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = nb;
}

static pstream *stream_find(const ptenant *t, lk_str canonical, uint64_t fp)
{
    for (pstream *p = t->buckets[fp % t->n_buckets]; p; p = p->next)
        if (p->fp == fp && p->clen == canonical.len &&
            memcmp(p->canonical, canonical.p, canonical.len) == 0)
            return p;
    return NULL;
}

/* Under the tenant's write lock. */
static pstream *stream_add(ptenant *t, lk_str canonical, uint64_t fp, const lk_labels *labels,
                           lk_str first_line)
{
    pstream *p = stream_find(t, canonical, fp);
    if (p)
        return p;
    if (t->n_streams >= 2 * t->n_buckets)
        rehash(t);
    p = lk_calloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->canonical = lk_memdup(canonical.p, canonical.len ? canonical.len : 1);
    p->clen = canonical.len;
    p->fp = fp;
    labels_copy(labels, &p->labels);
    p->fmt = pat_detect_format(first_line);
    p->last_ts = INT64_MIN;
    p->next = t->buckets[fp % t->n_buckets];
    t->buckets[fp % t->n_buckets] = p;
    t->n_streams++;
    return p;
}

/* ---- push ------------------------------------------------------------------------- */

/* ASCII case-insensitive equality with a lower-case name. */
static bool eq_lower(lk_str v, const char *name, size_t len)
{
    if (v.len != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = v.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != name[i])
            return false;
    }
    return true;
}

static size_t level_of(const lk_entry *e)
{
    static const lk_str key = LK_STR("detected_level");
    for (size_t i = 0; i < e->n_meta; i++) {
        if (!lk_str_eq(e->meta[i].name, key))
            continue;
        for (size_t l = 1; l < N_LEVELS; l++)
            if (eq_lower(e->meta[i].value, levels[l], strlen(levels[l])))
                return l;
        return 0;
    }
    return 0;
}

static void stream_push(pstream *p, const lk_entry *e, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        if (e[i].ts < p->last_ts)
            continue;
        p->last_ts = e[i].ts;
        size_t l = level_of(&e[i]);
        if (!p->d[l])
            p->d[l] = drain_create(p->fmt);
        drain_train(p->d[l], e[i].line, e[i].ts, now);
    }
}

/* Drops counts older than retain_for, then the streams left empty. */
static void tenant_prune(ptenant *t, int64_t retain_ns, int64_t now)
{
    int64_t cutoff_ms = (now - retain_ns) / 1000000;
    for (size_t b = 0; b < t->n_buckets; b++) {
        pstream **pp = &t->buckets[b];
        while (*pp) {
            pstream *p = *pp;
            size_t left = 0;
            for (size_t l = 0; l < N_LEVELS; l++)
                if (p->d[l])
                    left += drain_prune(p->d[l], cutoff_ms);
            if (left == 0) {
                *pp = p->next;
                stream_free(p);
                t->n_streams--;
            } else {
                pp = &p->next;
            }
        }
    }
}

void pat_store_push(pat_store *s, lk_str tenant, lk_str canonical, uint64_t fp,
                    const lk_labels *labels, const lk_entry *e, size_t n)
{
    if (n == 0)
        return;
    ptenant *t = tenant_get(s, tenant, true);
    int64_t now = lk_now_ns();
    pthread_rwlock_rdlock(&t->mu);
    pstream *p = stream_find(t, canonical, fp);
    bool prune = s->retain_ns > 0 && now - t->last_prune > PRUNE_EVERY_NS;
    if (!p || prune) {
        pthread_rwlock_unlock(&t->mu);
        pthread_rwlock_wrlock(&t->mu);
        if (s->retain_ns > 0 && now - t->last_prune > PRUNE_EVERY_NS) {
            tenant_prune(t, s->retain_ns, now);
            t->last_prune = now;
        }
        stream_add(t, canonical, fp, labels, e[0].line);
        pthread_rwlock_unlock(&t->mu);
        pthread_rwlock_rdlock(&t->mu);
        p = stream_find(t, canonical, fp);
    }
    if (p) { /* NULL only if pruned away in between */
        pthread_mutex_lock(&p->mu);
        stream_push(p, e, n, now);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_rwlock_unlock(&t->mu);
}

/* ---- query ------------------------------------------------------------------------ */

typedef struct qctx {
    pat_result *out;
    size_t *index;          /* open addressing: series index + 1, 0 empty */
    size_t n_index;
    uint64_t *hashes;       /* per series */
    size_t cap_hashes;
    size_t level;
    int64_t from, through, step;
    pat_sample *tmp;
    size_t n_tmp, cap_tmp;
} qctx;

static uint64_t series_hash(size_t level, lk_str pattern)
{
    uint64_t h = 1469598103934665603ULL ^ level;
    for (size_t i = 0; i < pattern.len; i++) {
        h ^= (unsigned char)pattern.p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void index_grow(qctx *q)
{
    size_t nn = q->n_index ? q->n_index * 2 : 256;
    size_t *ix = lk_calloc(nn, sizeof *ix);
    for (size_t i = 0; i < q->out->n; i++) {
        size_t at = q->hashes[i] & (nn - 1);
        while (ix[at])
            at = (at + 1) & (nn - 1);
        ix[at] = i + 1;
    }
    free(q->index);
    q->index = ix;
    q->n_index = nn;
}

static pat_series *series_for(qctx *q, lk_str pattern)
{
    uint64_t h = series_hash(q->level, pattern);
    if (2 * (q->out->n + 1) > q->n_index)
        index_grow(q);
    size_t at = h & (q->n_index - 1);
    for (; q->index[at]; at = (at + 1) & (q->n_index - 1)) {
        pat_series *s = &q->out->s[q->index[at] - 1];
        if (q->hashes[q->index[at] - 1] == h && s->level == levels[q->level] &&
            strlen(s->pattern) == pattern.len && memcmp(s->pattern, pattern.p, pattern.len) == 0)
            return s;
    }
    pat_result *r = q->out;
    if (r->n == r->cap)
        r->s = lk_grow(r->s, &r->cap, r->n + 1, sizeof *r->s);
    if (r->n == q->cap_hashes)
        q->hashes = lk_grow(q->hashes, &q->cap_hashes, r->n + 1, sizeof *q->hashes);
    q->hashes[r->n] = h;
    r->s[r->n] = (pat_series){ .level = levels[q->level],
                               .pattern = lk_strndup(pattern.p, pattern.len) };
    q->index[at] = ++r->n;
    return &r->s[r->n - 1];
}

static void on_cluster(void *ctx, lk_str pattern, const pat_chunks *c)
{
    qctx *q = ctx;
    if (pattern.len == 0)
        return;
    q->n_tmp = 0;
    pat_chunks_range(c, q->from, q->through, q->step, &q->tmp, &q->n_tmp, &q->cap_tmp);
    if (q->n_tmp == 0)
        return;
    pat_series *s = series_for(q, pattern);
    for (size_t i = 0; i < q->n_tmp; i++) {
        if (s->n == s->cap)
            s->v = lk_grow(s->v, &s->cap, s->n + 1, sizeof *s->v);
        s->v[s->n++] = q->tmp[i];
        s->total += q->tmp[i].v;
    }
}

static int by_ts(const void *a, const void *b)
{
    int64_t x = ((const pat_sample *)a)->ts, y = ((const pat_sample *)b)->ts;
    return x < y ? -1 : x > y;
}

/* Sorts a series' counts by time, summing those at the same time. */
static void series_settle(pat_series *s)
{
    qsort(s->v, s->n, sizeof *s->v, by_ts);
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (w && s->v[w - 1].ts == s->v[i].ts)
            s->v[w - 1].v += s->v[i].v;
        else
            s->v[w++] = s->v[i];
    }
    s->n = w;
}

static int by_total_desc(const void *a, const void *b)
{
    int64_t x = ((const pat_series *)a)->total, y = ((const pat_series *)b)->total;
    return x > y ? -1 : x < y;
}

static void series_free(pat_series *s)
{
    free(s->pattern);
    free(s->v);
}

/* Loki's querier: at least PAT_MIN_CLUSTER_SIZE lines, most first, at most
 * PAT_MAX_PATTERNS. */
static void result_prune(pat_result *r)
{
    if (r->n == 0)
        return;
    qsort(r->s, r->n, sizeof *r->s, by_total_desc);
    size_t w = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->s[i].total >= PAT_MIN_CLUSTER_SIZE && w < PAT_MAX_PATTERNS) {
            series_settle(&r->s[i]);
            r->s[w++] = r->s[i];
        } else {
            series_free(&r->s[i]);
        }
    }
    r->n = w;
}

/* One tenant's streams into q. */
static void query_tenant(pat_store *s, lk_str tenant, const lk_matcher *ms, size_t n_ms, qctx *q)
{
    ptenant *t = tenant_get(s, tenant, false);
    if (!t)
        return;
    pthread_rwlock_rdlock(&t->mu);
    for (size_t b = 0; b < t->n_buckets; b++) {
        for (pstream *p = t->buckets[b]; p; p = p->next) {
            if (!matchers_match_labels(ms, n_ms, &p->labels))
                continue;
            pthread_mutex_lock(&p->mu);
            for (size_t l = 0; l < N_LEVELS; l++) {
                if (!p->d[l])
                    continue;
                q->level = l;
                drain_each(p->d[l], on_cluster, q);
            }
            pthread_mutex_unlock(&p->mu);
        }
    }
    pthread_rwlock_unlock(&t->mu);
}

int pat_store_query(pat_store *s, lk_str tenant, const lk_matcher *ms, size_t n_ms,
                    int64_t start_ns, int64_t end_ns, int64_t step_ns, pat_result *out)
{
    memset(out, 0, sizeof *out);
    qctx q = { .out = out };
    q.from = start_ns / 1000000;
    q.through = end_ns / 1000000 + (end_ns % 1000000 != 0);
    q.step = step_ns / 1000000;
    if (q.step < PAT_SAMPLE_INTERVAL_MS)
        q.step = PAT_SAMPLE_INTERVAL_MS;
    /* "a|b": every tenant's patterns merged, as Loki's multi-tenant querier */
    const char *p = tenant.p, *end = tenant.p + tenant.len;
    for (;;) {
        const char *bar = p < end ? memchr(p, '|', (size_t)(end - p)) : NULL;
        query_tenant(s, lk_str_n(p, (size_t)((bar ? bar : end) - p)), ms, n_ms, &q);
        if (!bar)
            break;
        p = bar + 1;
    }
    result_prune(out);
    free(q.index);
    free(q.hashes);
    free(q.tmp);
    return LK_OK;
}

void pat_result_free(pat_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        series_free(&r->s[i]);
    free(r->s);
    memset(r, 0, sizeof *r);
}
