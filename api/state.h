/* Server-wide state shared by the handlers: configuration, the ingester,
 * the ingestion rate limiter, readiness and the metrics this layer owns. */
#ifndef LOKIC_API_STATE_H
#define LOKIC_API_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "api/inflight.h"
#include "api/ratelimit.h"
#include "lib/config.h"
#include "lib/metrics.h"
#include "lib/overrides.h"
#include "query/qmem.h"
#include "storage/ingester.h"

struct api_state {
    const lk_config *cfg;
    lk_overrides *overrides;         /* per-tenant limits (runtime_config); NULL: cfg for all */
    ing *ingester;
    push_ratelimiter *rate;
    api_inflight inflight;           /* bytes requests hold while received and decoded */
    qm_budget *qmem;                 /* memory of the running queries (query/qmem.h) */
    struct pat_store *patterns;      /* pattern ingester; NULL unless enabled (query/pattern/store.h) */
    struct rul_ruler *ruler;         /* the ruler; NULL unless configured (query/ruler/ruler.h) */
    atomic_bool ready;
    atomic_bool stopping;
    int64_t start_ns;
    /* live tails open, per tenant (api/h_tail.c) */
    pthread_mutex_t tails_mu;
    struct api_tail_count *tails;
    size_t n_tails, cap_tails;
    /* metrics */
    lk_metric *m_request_duration;   /* loki_request_duration_seconds{method,route,status_code,ws} */
    lk_metric *m_lines_received;     /* loki_distributor_lines_received_total{tenant} */
    lk_metric *m_bytes_received;     /* loki_distributor_bytes_received_total{tenant} */
    lk_metric *m_discarded_samples;  /* loki_discarded_samples_total{reason,tenant} */
    lk_metric *m_discarded_bytes;    /* loki_discarded_bytes_total{reason,tenant} */
    lk_metric *m_streams_created;    /* loki_ingester_streams_created_total{tenant} */
};

/* The configuration in effect for tenant: its limits_config with the
 * runtime config's overrides (lk_limits_for). The one way handlers read a
 * per-tenant limit. */
static inline const lk_config *api_limits(const api_state *st, lk_str tenant)
{
    return st->overrides ? lk_limits_for(st->overrides, tenant) : st->cfg;
}

#endif
