/* The per-tenant ingestion rate limiter: a token bucket per tenant holding
 * up to `burst` bytes, refilled at `rate` bytes per second, as Loki's local
 * ingestion rate strategy (limits_config.ingestion_rate_mb and
 * ingestion_burst_size_mb, both in MiB). Like golang.org/x/time/rate, a new
 * bucket starts full, a request larger than the burst is never allowed, and a
 * request of 0 bytes always is. Thread-safe: tenants are spread over
 * independently locked shards. */
#ifndef LOKIC_API_RATELIMIT_H
#define LOKIC_API_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/str.h"

typedef struct push_ratelimiter push_ratelimiter;

/* rate in bytes/s, burst in bytes (negative values count as 0). */
push_ratelimiter *push_ratelimiter_create(double rate_bytes, double burst_bytes);
/* ingestion_rate_mb * 1 MiB per second, burst ingestion_burst_size_mb * 1 MiB. */
push_ratelimiter *push_ratelimiter_create_cfg(const lk_config *cfg);
/* The rate and burst in bytes of cfg's limits (a tenant's, lk_limits_for). */
void push_rate_of_cfg(const lk_config *cfg, double *rate_bytes, double *burst_bytes);
void push_ratelimiter_destroy(push_ratelimiter *rl); /* accepts NULL */

/* Takes `bytes` tokens from tenant's bucket at time now_ns (Unix ns) if it
 * holds that many; false (and nothing taken) otherwise. */
bool push_rate_allow(push_ratelimiter *rl, lk_str tenant, int64_t bytes, int64_t now_ns);
/* The same with the tenant's own rate and burst (per-tenant overrides): the
 * bucket takes them on from this call, as rate.Limiter.SetLimit. */
bool push_rate_allow_with(push_ratelimiter *rl, lk_str tenant, int64_t bytes, double rate_bytes,
                          double burst_bytes, int64_t now_ns);

/* The configured rate in bytes/s, truncated as Loki prints it. */
int64_t push_rate_limit(const push_ratelimiter *rl);
int64_t push_rate_limit_of(double rate_bytes);

/* Appends Loki's 429 message:
 *   ingestion rate limit exceeded for user <tenant> (limit: <limit> bytes/sec)
 *   while attempting to ingest '<lines>' lines totaling '<bytes>' bytes, reduce
 *   log volume or contact your Loki administrator to see if the limit can be
 *   increased */
void push_rate_format_error(lk_buf *out, lk_str tenant, int64_t limit, int64_t lines,
                            int64_t bytes);

#endif
