/* The ruler: Loki's alerting and recording rules over the logs lokic holds.
 *
 * Rule files live in ruler.storage.local.directory as <dir>/<tenant>/<ns>
 * (one namespace per file, Prometheus rule-group YAML with LogQL). A ruler
 * thread reads them every poll_interval (and at once after a change through
 * the API), evaluates each group at Prometheus' aligned times (interval,
 * offset by a hash of the group) with instant LogQL queries as the tenant,
 * sends alerts to the Alertmanagers' v2 API and recording rules' samples
 * through remote write (query/ruler/remote.h). A file that does not parse
 * is logged and skipped; the others run.
 *
 * The rules API reads and writes the files; the Prometheus-compatible
 * endpoints read the evaluation state. Every function is thread safe. */
#ifndef LOKIC_QUERY_RULER_RULER_H
#define LOKIC_QUERY_RULER_RULER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/jsonw.h"
#include "lib/overrides.h"
#include "lib/str.h"
#include "query/qmem.h"
#include "storage/ingester.h"

typedef struct rul_ruler rul_ruler;

/* NULL in *out when the config has no rules directory (the ruler is off). */
int rul_create(const lk_config *cfg, ing *g, qm_budget *qmem, rul_ruler **out, lk_buf *err);
/* A rule group's queries run under its tenant's limits (lk_limits_for:
 * query_timeout, max_query_series, ...) from o (borrowed; it outlives r).
 * Accepts NULL r; set before rul_start. */
void rul_set_overrides(rul_ruler *r, const lk_overrides *o);
/* Starts the ruler thread (after the WAL replay). */
int rul_start(rul_ruler *r, lk_buf *err);
/* Stops and joins the thread; queued remote writes get a few seconds. */
void rul_stop(rul_ruler *r);
void rul_destroy(rul_ruler *r); /* accepts NULL */

/* Loads the files and evaluates every group at ts, as the thread does;
 * for tests, which drive time themselves (the thread not started). */
void rul_run_once(rul_ruler *r, int64_t ts);

/* ---- the rules API (api/h_rules.c) */

/* The tenant's rule groups as YAML: every namespace (ns empty), one
 * namespace, or one group (a bare group mapping). LK_ENOTFOUND when there
 * is nothing. */
int rul_rules_yaml(rul_ruler *r, lk_str tenant, lk_str ns, lk_str group, lk_buf *out);
/* Adds or replaces the group in body (one group's YAML) in namespace ns.
 * LK_EINVAL / LK_EPARSE with the file's line and the LogQL error. */
int rul_set_group(rul_ruler *r, lk_str tenant, lk_str ns, lk_str body, lk_buf *err);
/* Deletes a group, or the namespace when group is empty. LK_ENOTFOUND. */
int rul_delete(rul_ruler *r, lk_str tenant, lk_str ns, lk_str group, lk_buf *err);

/* ---- the Prometheus-compatible state (/prometheus/api/v1/rules, alerts) */

/* The value of "data" for /prometheus/api/v1/rules: {"groups":[...]};
 * type "alert", "record" or empty for both. */
void rul_rules_json(rul_ruler *r, lk_str tenant, lk_str type, jw *w);
/* The value of "data" for /prometheus/api/v1/alerts: {"alerts":[...]}. */
void rul_alerts_json(rul_ruler *r, lk_str tenant, jw *w);

#endif
