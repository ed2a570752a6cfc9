/* Prometheus remote write for the ruler: recording rules' samples (and
 * ALERTS / ALERTS_FOR_STATE) encoded as a snappy-compressed protobuf
 * prometheus.WriteRequest and POSTed by a sender thread to every configured
 * client, with the tenant's X-Scope-OrgID, the client's headers and basic
 * auth. The queue is bounded (RUL_RW_QUEUE_SAMPLES: the oldest batches are
 * dropped past it, counted); a failed request (5xx, 429, network) is
 * retried with backoff from 100 ms to 5 s, a 4xx other than 429 dropped.
 * With ruler.wal.dir set every queued batch is also on disk (rwwal.h)
 * until sent: what is not sent at stop is sent after the next start.
 * Thread safe. */
#ifndef LOKIC_QUERY_RULER_REMOTE_H
#define LOKIC_QUERY_RULER_REMOTE_H

#include <stdint.h>

#include "lib/config.h"
#include "lib/labels.h"
#include "lib/str.h"

#define RUL_RW_QUEUE_SAMPLES 100000

typedef struct rul_sample {
    lk_labels labels; /* with __name__ */
    double value;
    int64_t ts_ms;
} rul_sample;

/* The WriteRequest bytes of samples, snappy-compressed, into *out. */
void rul_rw_encode(const rul_sample *s, size_t n, lk_buf *out);

typedef struct rul_rw rul_rw;

/* Clients from cfg (remote_write.client and remote_write.clients); NULL
 * when remote write is off or no client has a URL. Starts the sender. */
int rul_rw_create(const lk_config *cfg, rul_rw **out, lk_buf *err);
/* Queues a copy of the samples for tenant. */
void rul_rw_push(rul_rw *rw, lk_str tenant, const rul_sample *s, size_t n);
/* Sends what is queued (waiting up to timeout_ns), stops the sender. */
void rul_rw_destroy(rul_rw *rw, int64_t timeout_ns); /* accepts NULL */

#endif
