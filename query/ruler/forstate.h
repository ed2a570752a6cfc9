/* The for state of alerts across restarts, as Prometheus restores it from
 * its ALERTS_FOR_STATE series (rules.Group.RestoreForState): the ruler
 * keeps, for every pending or firing alert, when it became active and when
 * it was last evaluated, in <ruler.wal.dir>/for_state (format at the top
 * of forstate.c); after a start, each group's first evaluation is followed
 * by the restore, so a restart does not reset a pending alert's clock:
 *   - rules whose `for` is below for_grace_period are not restored;
 *   - a record older than for_outage_tolerance is ignored;
 *   - an alert that was firing keeps its old active time;
 *   - one with less than the grace period left fires after the grace
 *     period; any other has its active time moved by the downtime.
 * Not thread safe: the ruler's lock guards it. */
#ifndef LOKIC_QUERY_RULER_FORSTATE_H
#define LOKIC_QUERY_RULER_FORSTATE_H

#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "query/ruler/alert.h"

typedef struct rul_fsrec {
    char *key;          /* rul_fstate_key */
    size_t key_len;
    int64_t active_at_s; /* ALERTS_FOR_STATE's value: Unix seconds */
    int64_t down_at_ms;  /* its sample's time: the last evaluation */
} rul_fsrec;

typedef struct rul_fstate {
    rul_fsrec *v;
    size_t n, cap;
} rul_fstate;

/* The key of one alert: tenant, group ("<namespace>;<group>") and the
 * alert's labels, NUL-separated; appended to *out. */
void rul_fstate_key(const char *tenant, lk_str group, const lk_labels *alert, lk_buf *out);
void rul_fstate_add(rul_fstate *s, lk_str key, int64_t active_at_s, int64_t down_at_ms);
/* True when key starts with the tenant's and group's part of a key. */
bool rul_fstate_in_group(const rul_fsrec *r, const char *tenant, lk_str group);

/* Writes the records to dir/for_state durably. */
int rul_fstate_save(const rul_fstate *s, const char *dir, lk_buf *err);
/* Reads dir/for_state into *s (empty when there is none); LK_ECORRUPT (and
 * nothing read) when it is not valid. */
int rul_fstate_load(const char *dir, rul_fstate *s, lk_buf *err);

/* The restore of one alerting rule's active alerts at ts (Unix ns). */
void rul_fstate_restore(const rul_fstate *s, const char *tenant, lk_str group, rul_alerts *a,
                        int64_t for_ns, int64_t ts, int64_t outage_tolerance_ns,
                        int64_t grace_period_ns);
void rul_fstate_free(rul_fstate *s);

#endif
