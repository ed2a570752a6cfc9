/* The alert state machine (alert.h): Prometheus' AlertingRule.Eval over a
 * small array of alerts, matched to the result by their label sets. */
#include "query/ruler/alert.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

static rul_alert *find(rul_alerts *a, const lk_labels *l)
{
    for (size_t i = 0; i < a->n; i++)
        if (labels_equal(&a->v[i].labels, l))
            return &a->v[i];
    return NULL;
}

static void alert_free(rul_alert *al)
{
    labels_free(&al->labels);
    labels_free(&al->annotations);
}

/* A result sample: an alert already active takes the new value and
 * annotations; anything else (new, or resolved and back) starts pending. */
static void take(rul_alerts *a, rul_active *in, int64_t ts)
{
    rul_alert *al = find(a, &in->labels);
    if (al && al->state != RUL_INACTIVE) {
        labels_free(&al->annotations);
        al->annotations = in->annotations;
        labels_free(&in->labels);
    } else {
        if (al) {
            alert_free(al);
        } else {
            a->v = lk_grow(a->v, &a->cap, a->n + 1, sizeof *a->v);
            al = &a->v[a->n++];
        }
        memset(al, 0, sizeof *al);
        al->labels = in->labels;
        al->annotations = in->annotations;
        al->state = RUL_PENDING;
        al->active_at = ts;
    }
    al->value = in->value;
    al->last_seen = ts;
    al->keep_firing_since = 0;
    memset(in, 0, sizeof *in);
}

/* An alert absent from this evaluation: pending ones go, firing ones are
 * kept firing for keep_firing_for or resolved; resolved ones are forgotten
 * after RUL_RESOLVED_RETENTION_NS. Returns false when it is to be removed. */
static bool absent(rul_alert *al, int64_t ts, int64_t keep_ns)
{
    if (al->state == RUL_PENDING ||
        (al->resolved_at && ts - al->resolved_at > RUL_RESOLVED_RETENTION_NS))
        return false;
    if (al->state == RUL_FIRING) {
        if (keep_ns > 0 && ts - al->last_seen < keep_ns) {
            if (!al->keep_firing_since)
                al->keep_firing_since = ts;
        } else {
            al->state = RUL_INACTIVE;
            al->resolved_at = ts;
            al->keep_firing_since = 0;
        }
    }
    return true;
}

void rul_alerts_update(rul_alerts *a, rul_active *in, size_t n, int64_t ts, int64_t for_ns,
                       int64_t keep_firing_for_ns)
{
    for (size_t i = 0; i < n; i++)
        take(a, &in[i], ts);
    size_t w = 0;
    for (size_t i = 0; i < a->n; i++) {
        rul_alert *al = &a->v[i];
        if (al->last_seen != ts && !absent(al, ts, keep_firing_for_ns)) {
            alert_free(al);
            continue;
        }
        if (al->state == RUL_PENDING && ts - al->active_at >= for_ns) {
            al->state = RUL_FIRING;
            al->fired_at = ts;
        }
        a->v[w++] = *al;
    }
    a->n = w;
}

bool rul_alert_needs_sending(const rul_alert *a, int64_t ts, int64_t resend_delay_ns)
{
    if (a->state == RUL_PENDING)
        return false;
    if (a->resolved_at > a->last_sent_at)
        return true;
    return a->last_sent_at + resend_delay_ns < ts;
}

const char *rul_state_name(rul_state s)
{
    switch (s) {
    case RUL_PENDING: return "pending";
    case RUL_FIRING: return "firing";
    default: return "inactive";
    }
}

void rul_alerts_free(rul_alerts *a)
{
    for (size_t i = 0; i < a->n; i++)
        alert_free(&a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}
