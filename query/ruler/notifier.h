/* The Alertmanager notifier, as Prometheus' notifier.Manager: the ruler's
 * evaluation queues alert batches (a JSON array for /api/v2/alerts) and
 * returns; one thread posts each batch to every URL of
 * ruler.alertmanager_url. The queue holds at most
 * ruler.notification_queue_capacity alerts: past it the oldest batches are
 * dropped, counted in loki_prometheus_notifications_dropped_total with the
 * alerts whose post failed (no retry: the ruler's resend carries a firing
 * alert again). loki_prometheus_notifications_queue_length{user} is what
 * waits. Thread safe. */
#ifndef LOKIC_QUERY_RULER_NOTIFIER_H
#define LOKIC_QUERY_RULER_NOTIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/str.h"

typedef struct rul_notifier rul_notifier;

/* NULL in *out when alertmanager_url names no Alertmanager. Starts the
 * thread. */
int rul_notifier_create(const lk_config *cfg, rul_notifier **out);
/* Queues a copy of body (n alerts of tenant). */
void rul_notifier_push(rul_notifier *nt, const char *tenant, lk_str body, size_t n);
/* Sends what is queued (waiting up to timeout_ns in all), stops the
 * thread. */
void rul_notifier_destroy(rul_notifier *nt, int64_t timeout_ns); /* accepts NULL */

#endif
