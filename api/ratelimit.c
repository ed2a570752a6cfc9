/* Per-tenant token buckets for the ingestion rate limit (see ratelimit.h).
 *
 * Tenants hash (XXH3) into RL_SHARDS shards, each a mutex and a chained hash
 * table of buckets, so pushes of different tenants rarely share a lock and a
 * check is one hash, one lock and a few float operations. A bucket that has
 * been idle long enough to refill completely is indistinguishable from a new
 * one, so such buckets are swept when a shard grows: the table stays bounded
 * by the number of recently active tenants. */
#include "api/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lib/mem.h"

#define RL_SHARDS 16
#define RL_MIN_SWEEP 64

typedef struct rl_bucket {
    struct rl_bucket *next;
    uint64_t hash;
    double tokens;
    int64_t last_ns;
    double rate, burst; /* the tenant's limits when last asked (they may be reloaded) */
    size_t len;
    char tenant[];
} rl_bucket;

typedef struct rl_shard {
    pthread_mutex_t mu;
    rl_bucket **slots;
    size_t n_slots; /* power of two */
    size_t count;
    size_t sweep_at;
} rl_shard;

struct push_ratelimiter {
    double rate;  /* bytes per second */
    double burst; /* bytes */
    rl_shard shards[RL_SHARDS];
};

push_ratelimiter *push_ratelimiter_create(double rate_bytes, double burst_bytes)
{
    push_ratelimiter *rl = lk_calloc(1, sizeof *rl);
    rl->rate = rate_bytes > 0 ? rate_bytes : 0;
    rl->burst = burst_bytes > 0 ? burst_bytes : 0;
    for (size_t i = 0; i < RL_SHARDS; i++) {
        rl_shard *s = &rl->shards[i];
        pthread_mutex_init(&s->mu, NULL);
        s->n_slots = 16;
        s->slots = lk_calloc(s->n_slots, sizeof *s->slots);
        s->sweep_at = RL_MIN_SWEEP;
    }
    return rl;
}

void push_rate_of_cfg(const lk_config *cfg, double *rate_bytes, double *burst_bytes)
{
    const double mib = 1024.0 * 1024.0;
    *rate_bytes = cfg->ingestion_rate_mb * mib;
    *burst_bytes = cfg->ingestion_burst_size_mb * mib;
}

push_ratelimiter *push_ratelimiter_create_cfg(const lk_config *cfg)
{
    double rate, burst;
    push_rate_of_cfg(cfg, &rate, &burst);
    return push_ratelimiter_create(rate, burst);
}

void push_ratelimiter_destroy(push_ratelimiter *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < RL_SHARDS; i++) {
        rl_shard *s = &rl->shards[i];
        for (size_t j = 0; j < s->n_slots; j++) {
            rl_bucket *b = s->slots[j];
            while (b) {
                rl_bucket *next = b->next;
                free(b);
                b = next;
            }
        }
        free(s->slots);
        pthread_mutex_destroy(&s->mu);
    }
    free(rl);
}

/* Tokens in b at now (not stored). Time going backwards refills nothing. */
static double rl_refilled(const rl_bucket *b, int64_t now_ns)
{
    double t = b->tokens;
    if (now_ns > b->last_ns)
        t += (double)(now_ns - b->last_ns) * b->rate / 1e9;
    return t < b->burst ? t : b->burst;
}

static void rl_grow(rl_shard *s)
{
    size_t n = s->n_slots * 2;
    rl_bucket **slots = lk_calloc(n, sizeof *slots);
    for (size_t i = 0; i < s->n_slots; i++) {
        rl_bucket *b = s->slots[i];
        while (b) {
            rl_bucket *next = b->next;
            size_t j = b->hash & (n - 1);
            b->next = slots[j];
            slots[j] = b;
            b = next;
        }
    }
    free(s->slots);
    s->slots = slots;
    s->n_slots = n;
}

/* Drops buckets that would be full by now: they carry no state. */
static void rl_sweep(rl_shard *s, int64_t now_ns)
{
    for (size_t i = 0; i < s->n_slots; i++) {
        rl_bucket **pp = &s->slots[i];
        while (*pp) {
            rl_bucket *b = *pp;
            if (rl_refilled(b, now_ns) >= b->burst) {
                *pp = b->next;
                free(b);
                s->count--;
            } else {
                pp = &b->next;
            }
        }
    }
    s->sweep_at = s->count * 2 > RL_MIN_SWEEP ? s->count * 2 : RL_MIN_SWEEP;
}

static rl_bucket *rl_find(rl_shard *s, uint64_t h, lk_str tenant)
{
    for (rl_bucket *b = s->slots[h & (s->n_slots - 1)]; b; b = b->next)
        if (b->hash == h && b->len == tenant.len && memcmp(b->tenant, tenant.p, tenant.len) == 0)
            return b;
    return NULL;
}

static rl_bucket *rl_insert(rl_shard *s, uint64_t h, lk_str tenant, double burst, int64_t now_ns)
{
    if (s->count >= s->sweep_at)
        rl_sweep(s, now_ns);
    if (s->count >= s->n_slots)
        rl_grow(s);
    rl_bucket *b = lk_malloc(sizeof *b + tenant.len);
    b->hash = h;
    b->tokens = burst;
    b->last_ns = now_ns;
    b->len = tenant.len;
    if (tenant.len)
        memcpy(b->tenant, tenant.p, tenant.len);
    size_t i = h & (s->n_slots - 1);
    b->next = s->slots[i];
    s->slots[i] = b;
    s->count++;
    return b;
}

bool push_rate_allow(push_ratelimiter *rl, lk_str tenant, int64_t bytes, int64_t now_ns)
{
    return push_rate_allow_with(rl, tenant, bytes, rl->rate, rl->burst, now_ns);
}

bool push_rate_allow_with(push_ratelimiter *rl, lk_str tenant, int64_t bytes, double rate,
                          double burst, int64_t now_ns)
{
    rate = rate > 0 ? rate : 0;
    burst = burst > 0 ? burst : 0;
    if (bytes <= 0)
        return true;
    if ((double)bytes > burst)
        return false;
    uint64_t h = XXH3_64bits(tenant.p ? tenant.p : "", tenant.len);
    rl_shard *s = &rl->shards[(h >> 32) % RL_SHARDS];
    pthread_mutex_lock(&s->mu);
    rl_bucket *b = rl_find(s, h, tenant);
    if (!b)
        b = rl_insert(s, h, tenant, burst, now_ns);
    b->rate = rate;
    b->burst = burst;
    double t = rl_refilled(b, now_ns);
    bool ok = t >= (double)bytes;
    if (ok)
        t -= (double)bytes;
    b->tokens = t;
    if (now_ns > b->last_ns)
        b->last_ns = now_ns;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int64_t push_rate_limit(const push_ratelimiter *rl)
{
    return push_rate_limit_of(rl->rate);
}

int64_t push_rate_limit_of(double rate_bytes)
{
    return rate_bytes >= 9.2e18 ? INT64_MAX : (int64_t)rate_bytes;
}

void push_rate_format_error(lk_buf *out, lk_str tenant, int64_t limit, int64_t lines,
                            int64_t bytes)
{
    lk_str t = tenant.p ? tenant : LK_STR("");
    lk_buf_printf(out,
                  "ingestion rate limit exceeded for user %.*s (limit: %lld bytes/sec) while "
                  "attempting to ingest '%lld' lines totaling '%lld' bytes, reduce log volume "
                  "or contact your Loki administrator to see if the limit can be increased",
                  LK_STR_FMT(t), (long long)limit, (long long)lines, (long long)bytes);
}
