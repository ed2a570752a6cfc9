/* The ingester (storage/ingester.h): tenants, each with a stream map split
 * into ING_SHARDS shards by fingerprint. A shard is an open-addressing table
 * fp -> stream under its own mutex, held only to find, create or remove a
 * stream; the push itself runs under the stream's own lock (stream.c), so
 * pushes to different streams proceed in parallel. Two label sets with the
 * same fingerprint are two entries of the table, told apart by their
 * canonical labels. The table holds one reference of each stream, and
 * lookups take another; the flusher removes streams that hold no chunk and
 * have been idle (a push that finds its stream removed looks it up again).
 *
 * Durability (ing_push_request): a push request is stored stream by stream
 * (each under its stream's lock, stream.c), then logged to the WAL (the
 * request's bytes as one record when it arrived as snappy protobuf and
 * every entry was kept unchanged, else each stream's kept entries), then
 * it waits for the group commit that puts its records on disk; only then
 * may it be acknowledged. A record is appended after its entries are in
 * memory, and each chunk notes the active segment read before the push
 * (the flusher's checkpoint rule relies on both). At startup
 * ing_recover replays the WAL into memory before the server is ready; the
 * flusher (flush.c) then writes chunks to disk and deletes the WAL
 * segments they no longer need. */
#include "storage/ingester.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/compress.h"
#include "storage/ing_int.h"
#include "storage/reindex.h"
#include "storage/stream.h"

#define DEFAULT_BLOCK_SIZE (256 * 1024)
#define DEFAULT_MAX_AGE_NS (2 * 3600 * LK_NS_PER_SEC)
#define DEFAULT_IDLE_NS (30 * 60 * LK_NS_PER_SEC)
#define DEFAULT_RETENTION_EVERY_NS (10 * 60 * LK_NS_PER_SEC)
#define MIN_FLUSH_EVERY_NS (50 * LK_NS_PER_MS)
#define MAX_FLUSH_EVERY_NS (30 * LK_NS_PER_SEC)

/* ---- create / destroy */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void storage_periods(ing *g, const ing_opts *o)
{
    g->idle_ns = o->chunk_idle_period_ns > 0 ? o->chunk_idle_period_ns : DEFAULT_IDLE_NS;
    g->retain_ns = o->chunk_retain_period_ns > 0 ? o->chunk_retain_period_ns : 0;
    g->retention_ns = o->retention_period_ns > 0 ? o->retention_period_ns : 0;
    g->retention_every_ns =
        o->retention_interval_ns > 0 ? o->retention_interval_ns : DEFAULT_RETENTION_EVERY_NS;
    int64_t every = g->idle_ns / 4;
    if (g->retain_ns > 0 && g->retain_ns / 2 < every)
        every = g->retain_ns / 2;
    if (o->flush_check_period_ns > 0)
        every = o->flush_check_period_ns;
    g->flush_every_ns = clamp64(every, MIN_FLUSH_EVERY_NS, MAX_FLUSH_EVERY_NS);
}

static int open_storage(ing *g, const ing_opts *o, lk_buf *err)
{
    int rc = 0;
    if (o->chunk_dir) {
        if (!o->index_dir) {
            if (err)
                lk_buf_puts(err, "a chunk directory needs an index directory");
            return LK_EINVAL;
        }
        if ((rc = cdir_open(o->chunk_dir, &g->dir, err)) != 0 ||
            (rc = idx_open_checked(o->index_dir, g->dir, o->rebuild_index, &g->index,
                                   err)) != 0 ||
            (rc = ing_deletes_open(g, o->index_dir, err)) != 0)
            return rc;
    }
    if (o->wal_dir)
        g->wal_dir = lk_strdup(o->wal_dir);
    return 0;
}

int ing_open(const ing_opts *opts, ing **out, lk_buf *err)
{
    if (!opts || opts->chunk_block_size < 0 || opts->chunk_target_size < 0 ||
        opts->max_chunk_age_ns < 0 || opts->max_streams_per_user < 0 ||
        opts->chunk_idle_period_ns < 0 || opts->chunk_retain_period_ns < 0 ||
        opts->retention_period_ns < 0 || opts->retention_interval_ns < 0 ||
        opts->flush_check_period_ns < 0 || opts->wal_segment_size < 0) {
        if (err)
            lk_buf_puts(err, "bad ingester options");
        return LK_EINVAL;
    }
    chk_codec codec = CHK_CODEC_DEFAULT;
    if (opts->chunk_encoding && chk_codec_from_name(opts->chunk_encoding, &codec) != LK_OK) {
        if (err)
            lk_buf_printf(err, "unknown chunk encoding \"%s\"", opts->chunk_encoding);
        return LK_EINVAL;
    }
    ing *g = lk_calloc(1, sizeof(*g));
    g->opts = *opts;
    g->opts.wal_dir = g->opts.chunk_dir = g->opts.index_dir = NULL; /* not kept */
    g->opts.chunk_encoding = NULL;
    g->lim.codec = codec;
    g->lim.block_size = opts->chunk_block_size ? opts->chunk_block_size : DEFAULT_BLOCK_SIZE;
    if (g->lim.block_size > CHK_MAX_BLOCK_SIZE)
        g->lim.block_size = CHK_MAX_BLOCK_SIZE;
    g->lim.target_size = opts->chunk_target_size;
    g->lim.max_age_ns = opts->max_chunk_age_ns ? opts->max_chunk_age_ns : DEFAULT_MAX_AGE_NS;
    pthread_rwlock_init(&g->tmu, NULL);
    pthread_mutex_init(&g->bgmu, NULL);
    pthread_cond_init(&g->bgcv, NULL);
    pthread_mutex_init(&g->flushmu, NULL);
    pthread_mutex_init(&g->delmu, NULL);
    storage_periods(g, opts);
    atomic_init(&g->ready, opts->wal_dir == NULL);
    int rc = open_storage(g, opts, err);
    if (rc != 0) {
        ing_destroy(g);
        return rc;
    }
    *out = g;
    return 0;
}

int ing_create(const ing_opts *opts, ing **out)
{
    return ing_open(opts, out, NULL);
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
    mix_free(t->mix); /* after the shards: their streams unreferenced first */
    free(t->name);
    free(t);
}

void ing_destroy(ing *g)
{
    if (!g)
        return;
    ing_bg_stop(g);
    wal_close(g->wal);
    idx_close(g->index);
    cdir_close(g->dir);
    ing_deletes_close(g);
    for (size_t i = 0; i < g->tcap; i++) {
        if (g->tenants[i])
            tenant_free(g->tenants[i]);
    }
    free(g->tenants);
    free(g->wal_dir);
    pthread_rwlock_destroy(&g->tmu);
    pthread_mutex_destroy(&g->bgmu);
    pthread_cond_destroy(&g->bgcv);
    pthread_mutex_destroy(&g->flushmu);
    pthread_mutex_destroy(&g->delmu);
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
    t->mix = mix_new();
    for (int i = 0; i < ING_SHARDS; i++)
        pthread_mutex_init(&t->shards[i].mu, NULL);
    tenant_slot_put(g->tenants, g->tcap, t);
    g->tn++;
    return t;
}

/* The tenant, created when create is set; NULL otherwise when absent.
 * Tenants live as long as the ingester. */
ing_tenant *ing_tenant_get(ing *g, lk_str name, bool create)
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

/* Linear-probing deletion: the entries after the hole that would no longer
 * be found move back into it. */
static bool shard_remove(ing_shard *sh, st_stream *s)
{
    if (!sh->cap)
        return false;
    size_t mask = sh->cap - 1, i = st_stream_fp(s) & mask;
    while (sh->slots[i] != s) {
        if (!sh->slots[i])
            return false;
        i = (i + 1) & mask;
    }
    sh->slots[i] = NULL;
    sh->n--;
    for (size_t j = (i + 1) & mask; sh->slots[j]; j = (j + 1) & mask) {
        size_t k = st_stream_fp(sh->slots[j]) & mask;
        /* slot j stays when its home k lies cyclically in (i, j] */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        sh->slots[i] = sh->slots[j];
        sh->slots[j] = NULL;
        i = j;
    }
    return true;
}

void ing_remove_stream(ing *g, ing_tenant *t, st_stream *s, int64_t now_ns)
{
    ing_shard *sh = &t->shards[st_stream_fp(s) >> (64 - ING_SHARD_BITS)];
    pthread_mutex_lock(&sh->mu);
    bool removed = st_stream_try_remove(s, now_ns, g->idle_ns) && shard_remove(sh, s);
    pthread_mutex_unlock(&sh->mu);
    if (!removed)
        return;
    mix_remove(t->mix, s);
    atomic_fetch_sub(&t->n_streams, 1);
    atomic_fetch_sub_explicit(&g->streams, 1, memory_order_relaxed);
    st_stream_unref(s); /* the table's reference */
}

ing_tenant **ing_all_tenants(ing *g, size_t *n)
{
    pthread_rwlock_rdlock(&g->tmu);
    ing_tenant **v = lk_malloc((g->tn ? g->tn : 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < g->tcap; i++) {
        if (g->tenants[i])
            v[k++] = g->tenants[i];
    }
    pthread_rwlock_unlock(&g->tmu);
    *n = k;
    return v;
}

/* Messages of one request go one per line. */
static void message_start(lk_buf *err)
{
    if (err && err->len)
        lk_buf_putc(err, '\n');
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

/* Finds or creates the stream (a new reference). LK_ELIMIT over the
 * tenant's stream limit (o->max_streams; none during a replay). */
static int stream_get(ing *g, ing_tenant *t, const lk_labels *labels, lk_str canonical,
                      uint64_t fp, const st_push_opts *o, st_stream **out, bool *created)
{
    ing_shard *sh = shard_of(t, fp);
    int rc = 0;
    *created = false;
    pthread_mutex_lock(&sh->mu);
    st_stream *s = shard_find(sh, canonical, fp);
    if (!s) {
        long limit = o->replay ? 0 : o->max_streams;
        long prev = atomic_fetch_add(&t->n_streams, 1);
        if (limit > 0 && prev >= limit) {
            atomic_fetch_sub(&t->n_streams, 1);
            rc = LK_ELIMIT;
            goto out;
        }
        s = st_stream_new(labels, canonical, fp);
        shard_insert(sh, s);
        mix_add(t->mix, s);
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

void ing_add_deltas(ing *g, int64_t chunks, int64_t blocks, int64_t head_bytes,
                    int64_t comp_bytes)
{
    if (chunks)
        atomic_fetch_add_explicit(&g->chunks, chunks, memory_order_relaxed);
    if (blocks)
        atomic_fetch_add_explicit(&g->blocks, blocks, memory_order_relaxed);
    if (head_bytes)
        atomic_fetch_add_explicit(&g->head_bytes, head_bytes, memory_order_relaxed);
    if (comp_bytes)
        atomic_fetch_add_explicit(&g->comp_bytes, comp_bytes, memory_order_relaxed);
}

static void add_deltas(ing *g, const st_push_acc *a)
{
    ing_add_deltas(g, a->d_chunks, a->d_blocks, a->d_head_bytes, a->d_comp_bytes);
}

/* Pushes into the stream, looking it up again when the flusher removed it
 * in between. */
static int push_stream(ing *g, ing_tenant *t, const lk_labels *labels, lk_str canonical,
                       uint64_t fp, const st_push_opts *o, const lk_entry *entries, size_t n,
                       bool *created, st_push_acc *a)
{
    for (;;) {
        st_stream *s;
        bool c = false;
        int rc = stream_get(g, t, labels, canonical, fp, o, &s, &c);
        *created |= c;
        if (rc != 0)
            return rc;
        memset(a, 0, sizeof(*a));
        st_stream_push(s, o, entries, n, a);
        st_stream_unref(s);
        if (!a->removed)
            return 0;
    }
}

/* One stream of a request: stored (or refused) into memory, then logged. */
typedef struct stored {
    const ing_stream_in *in;
    st_push_acc acc;
    ing_push_result r;
} stored;

/* Stores one stream of a request; its result in st->r, the message of a
 * refusal appended to *err. */
static void store_stream(ing *g, ing_tenant *t, lk_str tenant, const st_push_opts *o,
                         stored *st, lk_buf *err)
{
    const ing_stream_in *in = st->in;
    ing_push_result *r = &st->r;
    int rc = push_stream(g, t, in->labels, in->canonical, in->fp, o, in->entries, in->n,
                         &r->created, &st->acc);
    if (rc == LK_ELIMIT) {
        message_start(err);
        limit_message(err, in->canonical, tenant);
        r->rejected = in->n;
        r->rc = rc;
        return;
    }
    const st_push_acc *a = &st->acc;
    add_deltas(g, a);
    if (a->closed)
        ing_bg_kick(g);
    r->accepted = a->accepted;
    r->duplicates = a->duplicates;
    r->rejected = a->rejected;
    r->bytes = a->bytes;
    if (a->rejected) {
        message_start(err);
        reject_message(a, tenant, in->canonical, in->entries, in->n, err);
        r->rc = LK_EINVAL;
    }
}

/* Logs what a stream kept (stored or duplicate) as one record. */
static int log_stream(ing *g, lk_str tenant, const stored *st, lk_buf *body, wal_ticket *t)
{
    const ing_stream_in *in = st->in;
    const uint8_t *refused = st->acc.refused;
    int64_t prev_ts = 0;
    uint32_t n = 0;
    lk_buf_reset(body);
    for (size_t i = 0; i < in->n; i++) {
        if (refused && refused[i])
            continue;
        wal_body_put_entry(body, &in->entries[i], &prev_ts);
        n++;
    }
    return n ? wal_append(g->wal, tenant, in->canonical, n, lk_buf_str(body), t) : 0;
}

/* The request's records: its raw bytes as one record when it has them and
 * every entry was kept; otherwise (or when that record is too large) each
 * stream's kept entries. */
static int log_request(ing *g, const ing_request *rq, const stored *sts, wal_ticket *t)
{
    bool whole = rq->raw.len > 0;
    size_t kept = 0;
    for (size_t i = 0; i < rq->n_streams; i++) {
        whole &= sts[i].r.rc == 0;
        kept += sts[i].r.accepted + sts[i].r.duplicates;
    }
    if (kept == 0)
        return 0;
    if (whole && wal_append_push(g->wal, rq->tenant, rq->format, rq->raw, t) == 0)
        return 0;
    lk_buf body = { 0 };
    int rc = 0;
    for (size_t i = 0; i < rq->n_streams && rc == 0; i++) {
        if (sts[i].r.rc != LK_ELIMIT)
            rc = log_stream(g, rq->tenant, &sts[i], &body, t);
    }
    lk_buf_free(&body);
    return rc;
}

/* Logs the request and waits until it is on disk. */
static int make_durable(ing *g, const ing_request *rq, const stored *sts, lk_buf *err)
{
    wal_ticket t = { 0 };
    int rc = log_request(g, rq, sts, &t);
    if (rc != 0) {
        message_start(err);
        if (err)
            lk_buf_printf(err, "failed to write to the WAL: %s", lk_strerror(rc));
        rc = LK_EIO;
    }
    /* whatever was appended before a failure is waited for (the ticket) */
    lk_buf msg = { 0 };
    if (wal_wait(g->wal, &t, &msg) != 0 && rc == 0) {
        message_start(err);
        if (err)
            lk_buf_put_str(err, lk_buf_str(&msg));
        rc = LK_EIO;
    }
    lk_buf_free(&msg);
    return rc;
}

/* The worse of two results: LK_EIO, then LK_ELIMIT, then LK_EINVAL. */
static int severity(int rc)
{
    return rc == LK_EIO ? 3 : rc == LK_ELIMIT ? 2 : rc == LK_EINVAL ? 1 : 0;
}

static int worse(int a, int b)
{
    return severity(b) > severity(a) ? b : a;
}

/* Refuses the request before anything is stored: LK_EIO or LK_EINVAL with
 * the reason, or 0. */
static int check_request(ing *g, const ing_request *rq, lk_buf *err)
{
    if (!atomic_load(&g->ready)) {
        message_start(err);
        if (err)
            lk_buf_puts(err, "ingester not ready: replaying the write-ahead log");
        return LK_EIO;
    }
    if (g->index && rq->tenant.len > IDX_MAX_TENANT) {
        message_start(err);
        if (err)
            lk_buf_printf(err, "tenant ID longer than %d characters", IDX_MAX_TENANT);
        return LK_EINVAL;
    }
    return 0;
}

int ing_push_request(ing *g, const ing_request *rq, ing_push_result *res, lk_buf *err)
{
    int rc = check_request(g, rq, err);
    if (rc != 0) {
        for (size_t i = 0; res && i < rq->n_streams; i++)
            res[i] = (ing_push_result){ .rejected = rq->streams[i].n, .rc = rc };
        return rc;
    }
    ing_tenant *t = ing_tenant_get(g, rq->tenant, true);
    st_push_opts o = { .lim = &g->lim, .wal_seg = g->wal ? wal_active_segment(g->wal) : ST_NO_SEG,
                       .now_ns = lk_now_ns(),
                       .max_streams = rq->max_streams ? *rq->max_streams
                                                      : g->opts.max_streams_per_user };
    stored *sts = lk_calloc(rq->n_streams ? rq->n_streams : 1, sizeof(*sts));
    for (size_t i = 0; i < rq->n_streams; i++) {
        sts[i].in = &rq->streams[i];
        if (sts[i].in->n)
            store_stream(g, t, rq->tenant, &o, &sts[i], err);
        rc = worse(rc, sts[i].r.rc);
    }
    if (g->wal)
        rc = worse(rc, make_durable(g, rq, sts, err));
    for (size_t i = 0; i < rq->n_streams; i++) {
        if (res)
            res[i] = sts[i].r;
        st_push_acc_free(&sts[i].acc);
    }
    free(sts);
    return rc;
}

int ing_push(ing *g, lk_str tenant, const lk_labels *labels, lk_str canonical, uint64_t fp,
             const lk_entry *entries, size_t n, ing_push_result *res, lk_buf *err)
{
    ing_stream_in in = { labels, canonical, fp, entries, n };
    ing_request rq = { .tenant = tenant, .streams = &in, .n_streams = 1 };
    return ing_push_request(g, &rq, res, err);
}

/* ---- recovery */

typedef struct replay_ctx {
    ing *g;
    uint64_t seg;
    ing_tenant *t;
    size_t *entries;       /* counts the entries of push records */
} replay_ctx;

static int replay_stream(void *ctx, const lk_labels *labels, lk_str canonical, uint64_t fp,
                         const lk_entry *entries, size_t n)
{
    replay_ctx *rc = ctx;
    ing *g = rc->g;
    if (rc->entries)
        *rc->entries += n;
    st_push_opts o = { .lim = &g->lim, .replay = true, .wal_seg = rc->seg,
                       .now_ns = lk_now_ns() };
    st_push_acc a = { 0 };
    bool created = false;
    if (push_stream(g, rc->t, labels, canonical, fp, &o, entries, n, &created, &a) == 0)
        add_deltas(g, &a);
    st_push_acc_free(&a);
    return 0;
}

/* wal_replay's context */
typedef struct replay_state {
    ing *g;
    size_t push_entries;
} replay_state;

static int replay_push(replay_state *rs, uint64_t seg, const wal_rec *r)
{
    ing *g = rs->g;
    lk_buf err = { 0 };
    replay_ctx c = { g, seg, ing_tenant_get(g, r->tenant, true), &rs->push_entries };
    int rc = g->opts.push_decoder
                 ? g->opts.push_decoder->decode(r->format, r->push, replay_stream, &c, &err)
                 : LK_EINVAL;
    if (rc != 0)
        log_error("skipping a WAL push record that does not decode",
                  "segment=%" PRIu64 " err=\"%s\"", seg, err.p ? err.p : "no push decoder");
    lk_buf_free(&err);
    return 0;
}

static int replay_record(void *ctx, uint64_t seg, const wal_rec *r)
{
    replay_state *rs = ctx;
    ing *g = rs->g;
    if (r->type == WAL_REC_PUSH)
        return replay_push(rs, seg, r);
    lk_labels labels;
    lk_buf canon = { 0 };
    if (labels_parse(r->canonical, &labels, NULL) != 0) {
        log_warn("skipping a WAL record with unparsable labels",
                 "segment=%" PRIu64 " labels=\"%.*s\"", seg, LK_STR_FMT(r->canonical));
        return 0;
    }
    labels_canonical(&labels, &canon);
    lk_str c = lk_buf_str(&canon);
    replay_ctx rc = { g, seg, ing_tenant_get(g, r->tenant, true), NULL };
    replay_stream(&rc, &labels, c, labels_hash(c), r->e, r->n);
    labels_free(&labels);
    lk_buf_free(&canon);
    return 0;
}

/* Replays the WAL into memory and opens it for appending. */
static int replay_wal(ing *g, lk_buf *err)
{
    int64_t t0 = lk_now_ns();
    wal_replay_stats st;
    replay_state rs = { g, 0 };
    int rc = wal_replay(g->wal_dir, replay_record, &rs, &st, err);
    if (rc != 0)
        return rc;
    atomic_store(&g->replayed, (long long)st.records);
    atomic_store(&g->dropped_bytes, (long long)st.bytes_dropped);
    wal_opts wo = { .dir = g->wal_dir, .segment_size = g->opts.wal_segment_size,
                    .compress = g->opts.wal_compress };
    if ((rc = wal_open(&wo, &g->wal, err)) != 0)
        return rc;
    log_info("WAL replayed", "segments=%zu records=%zu entries=%zu bad_segments=%zu "
             "dropped_bytes=%llu streams=%lld duration=%.3fs",
             st.segments, st.records, st.entries + rs.push_entries, st.bad_segments,
             (unsigned long long)st.bytes_dropped, (long long)atomic_load(&g->streams),
             (double)(lk_now_ns() - t0) / 1e9);
    return 0;
}

int ing_recover(ing *g, lk_buf *err)
{
    int rc = 0;
    if (g->wal_dir && !g->wal)
        rc = replay_wal(g, err);
    if (rc == 0)
        rc = ing_bg_start(g, err);
    if (rc == 0)
        atomic_store(&g->ready, true);
    return rc;
}

bool ing_ready(ing *g)
{
    return atomic_load(&g->ready);
}

int ing_shutdown(ing *g, lk_buf *err)
{
    ing_bg_stop(g);
    if (!g->dir) {
        wal_close(g->wal); /* nothing can be flushed: the WAL keeps it all */
        g->wal = NULL;
        return 0;
    }
    int rc = 0;
    size_t left = 0;
    lk_buf why = { 0 };
    for (int attempt = 0; attempt < 3; attempt++) {
        lk_buf_reset(&why);
        rc = ing_flush_cycle(g, true, &left, &why);
        if (rc == 0 && left == 0)
            break;
    }
    if (rc == 0 && left == 0 && g->wal)
        wal_remove_all(g->wal); /* everything is in chunk files */
    wal_close(g->wal);
    g->wal = NULL;
    if (rc == 0 && left)
        rc = LK_EIO;
    if (rc != 0 && err)
        lk_buf_printf(err, "flushing at shutdown failed (the WAL is kept): %s",
                      why.p ? why.p : lk_strerror(rc));
    lk_buf_free(&why);
    return rc;
}

/* ---- listing streams */

/* References to every stream of the tenant (taken under the shard locks). */
st_stream **ing_tenant_streams(ing_tenant *t, size_t *n)
{
    st_stream **v = NULL;
    size_t cap = 0, k = 0;
    for (int i = 0; i < ING_SHARDS; i++) {
        ing_shard *sh = &t->shards[i];
        pthread_mutex_lock(&sh->mu);
        v = lk_grow(v, &cap, k + sh->n + 1, sizeof(*v));
        for (size_t j = 0; j < sh->cap; j++) {
            if (sh->slots[j])
                v[k++] = st_stream_ref(sh->slots[j]);
        }
        pthread_mutex_unlock(&sh->mu);
    }
    *n = k;
    return v;
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
    c->chunks_flushed = atomic_load(&g->chunks_flushed);
    c->flush_failures = atomic_load(&g->flush_failures);
    c->flushed_bytes = atomic_load(&g->flushed_bytes);
    c->wal_replayed_records = atomic_load(&g->replayed);
    c->wal_dropped_bytes = atomic_load(&g->dropped_bytes);
    c->retention_periods_deleted = atomic_load(&g->retention_periods);
    c->wal_records = c->wal_bytes = c->wal_syncs = c->wal_failures = c->wal_segments = 0;
    c->wal_sync_ns = 0;
    wal *w = g->wal;
    if (w) {
        wal_counters wc;
        wal_get_counters(w, &wc);
        c->wal_records = wc.records;
        c->wal_bytes = wc.bytes;
        c->wal_syncs = wc.syncs;
        c->wal_sync_ns = wc.sync_ns;
        c->wal_failures = wc.failures;
        c->wal_segments = wc.segments;
    }
    sto_iter_get_counters(&c->blocks_filtered, &c->chunks_read);
    sto_iter_get_block_counters(&c->blocks_decoded, &c->blocks_partial);
}
