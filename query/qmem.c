/* Query memory accounting (query/qmem.h): the process-wide budget and each
 * query's accountant, with lock-free counters. */
#include "query/qmem.h"

#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/metrics.h"

#define KEY_PER_QUERY "querier.max_memory_per_query"
#define KEY_ALL_QUERIES "querier.max_memory_all_queries"

struct qm_budget {
    int64_t limit;
    _Atomic int64_t used;
    lk_metric *m_used;     /* lokic_query_memory_bytes */
    lk_metric *m_refused;  /* lokic_queries_refused_total{reason} */
};

qm_budget *qm_budget_new(int64_t limit, bool metrics)
{
    qm_budget *b = lk_calloc(1, sizeof *b);
    b->limit = limit > 0 ? limit : 0;
    if (metrics) {
        static const char *const reason[] = { "reason" };
        b->m_used = lk_metric_gauge("lokic_query_memory_bytes",
                                    "Bytes of memory held by the running queries.", 0, NULL);
        b->m_refused = lk_metric_counter(
            "lokic_queries_refused_total",
            "Queries refused or stopped for memory, by the limit they reached.", 1, reason);
        lk_gauge_set(b->m_used, NULL, 0);
    }
    return b;
}

void qm_budget_free(qm_budget *b)
{
    free(b);
}

int64_t qm_budget_used(const qm_budget *b)
{
    return b ? atomic_load_explicit(&b->used, memory_order_relaxed) : 0;
}

static void budget_add(qm_budget *b, int64_t n)
{
    atomic_fetch_add_explicit(&b->used, n, memory_order_relaxed);
    if (b->m_used)
        lk_gauge_add(b->m_used, NULL, (double)n);
}

static void refused(qm_budget *b, int rc)
{
    if (!b || !b->m_refused)
        return;
    const char *reason[] = { rc == LK_ERATE ? "all_queries_limit" : "query_limit" };
    lk_counter_add(b->m_refused, reason, 1);
}

/* Records rc as the query's failure; the first failure is counted. */
static int fail(qm_query *q, int rc)
{
    int none = 0;
    if (atomic_compare_exchange_strong(&q->failed, &none, rc))
        refused(q->b, rc);
    return atomic_load(&q->failed);
}

int qm_begin(qm_budget *b, int64_t limit, qm_query *q)
{
    *q = (qm_query){ .b = b, .limit = limit > 0 ? limit : 0 };
    if (b && b->limit && qm_budget_used(b) >= b->limit) {
        refused(b, LK_ERATE);
        q->failed = LK_ERATE;
        q->b = NULL; /* nothing to give back */
        return LK_ERATE;
    }
    return LK_OK;
}

int qm_charge(qm_query *q, int64_t n)
{
    int rc = atomic_load_explicit(&q->failed, memory_order_relaxed);
    if (rc)
        return rc;
    if (n <= 0)
        return LK_OK;
    int64_t used = atomic_fetch_add_explicit(&q->used, n, memory_order_relaxed) + n;
    int64_t peak = atomic_load_explicit(&q->peak, memory_order_relaxed);
    while (used > peak &&
           !atomic_compare_exchange_weak_explicit(&q->peak, &peak, used, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
    if (q->b)
        budget_add(q->b, n);
    if (q->limit && used > q->limit)
        return fail(q, LK_ELIMIT);
    if (q->b && q->b->limit && qm_budget_used(q->b) > q->b->limit)
        return fail(q, LK_ERATE);
    return LK_OK;
}

void qm_release(qm_query *q, int64_t n)
{
    if (n <= 0)
        return;
    int64_t used = atomic_load_explicit(&q->used, memory_order_relaxed);
    if (n > used)
        n = used; /* never below zero, whatever the caller's arithmetic */
    atomic_fetch_sub_explicit(&q->used, n, memory_order_relaxed);
    if (q->b)
        budget_add(q->b, -n);
}

void qm_end(qm_query *q)
{
    int64_t n = atomic_exchange(&q->used, 0);
    if (q->b && n)
        budget_add(q->b, -n);
    q->b = NULL;
}

void qm_error(const qm_query *q, int rc, lk_buf *err)
{
    if (rc == LK_ELIMIT) {
        lk_buf_printf(err,
                      "query memory limit (%lld bytes) reached for a single query "
                      "(" KEY_PER_QUERY "); narrow the time range, add label matchers or "
                      "aggregate by fewer labels",
                      (long long)q->limit);
        return;
    }
    lk_buf_printf(err,
                  "too many outstanding requests: the running queries hold the memory of "
                  "all queries (" KEY_ALL_QUERIES "); retry later");
}
