/* The alert life cycle of one alerting rule, as Prometheus'
 * rules.AlertingRule runs it: an alert per distinct label set of the
 * result, pending from its first evaluation, firing once it has been active
 * for `for`, kept firing for `keep_firing_for` after the condition is gone,
 * then resolved (kept 15 minutes to be sent as resolved). Times are Unix ns
 * passed in by the caller, so tests drive it with a fake clock. Not thread
 * safe: the ruler's lock guards it. */
#ifndef LOKIC_QUERY_RULER_ALERT_H
#define LOKIC_QUERY_RULER_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/labels.h"

#define RUL_RESOLVED_RETENTION_NS (15 * 60 * INT64_C(1000000000))

typedef enum rul_state { RUL_INACTIVE, RUL_PENDING, RUL_FIRING } rul_state;

typedef struct rul_alert {
    lk_labels labels;        /* owned, sorted; alertname and the rule's labels included */
    lk_labels annotations;   /* owned, expanded */
    rul_state state;
    double value;
    int64_t active_at, fired_at, resolved_at, last_sent_at, valid_until;
    int64_t last_seen, keep_firing_since;
} rul_alert;

typedef struct rul_alerts {
    rul_alert *v;
    size_t n, cap;
} rul_alerts;

/* What one evaluation found: labels and annotations handed over to
 * rul_alerts_update (it frees or keeps them). */
typedef struct rul_active {
    lk_labels labels, annotations;
    double value;
} rul_active;

/* One evaluation at ts with `in` the result (its labels distinct). */
void rul_alerts_update(rul_alerts *a, rul_active *in, size_t n, int64_t ts, int64_t for_ns,
                       int64_t keep_firing_for_ns);
/* Prometheus' needsSending: never while pending; once when resolved; a
 * firing alert again after resend_delay. */
bool rul_alert_needs_sending(const rul_alert *a, int64_t ts, int64_t resend_delay_ns);
const char *rul_state_name(rul_state s); /* "inactive", "pending", "firing" */
void rul_alerts_free(rul_alerts *a);

#endif
