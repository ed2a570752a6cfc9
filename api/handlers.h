/* The request handlers, one file per endpoint family. */
#ifndef LOKIC_API_HANDLERS_H
#define LOKIC_API_HANDLERS_H

#include "api/http.h"

/* api/h_push.c */
void api_h_push(api_req *rq, api_resp *rs);
void api_h_push_legacy(api_req *rq, api_resp *rs);
struct push_request;
/* The push flow after decoding (validation, rate limit, store), shared by
 * both push handlers and /otlp/v1/logs: the answer's status (204 or an
 * error, with Loki's message appended to *msg). raw: the body as it came
 * (the WAL may keep a snappy protobuf push as it is). */
int api_push_ingest(api_req *rq, const struct push_request *req, lk_str raw, lk_buf *msg);
/* api/h_otlp.c */
void api_h_otlp_logs(api_req *rq, api_resp *rs);
/* api/h_query.c */
void api_h_query_range(api_req *rq, api_resp *rs);
void api_h_query(api_req *rq, api_resp *rs);
void api_h_query_legacy(api_req *rq, api_resp *rs);
/* api/h_format.c */
void api_h_format_query(api_req *rq, api_resp *rs);
/* api/h_meta.c */
void api_h_labels(api_req *rq, api_resp *rs);
void api_h_label_values(api_req *rq, api_resp *rs);
void api_h_series(api_req *rq, api_resp *rs);
void api_h_labels_legacy(api_req *rq, api_resp *rs);
void api_h_label_values_legacy(api_req *rq, api_resp *rs);
/* api/h_tail.c */
void api_h_tail(api_req *rq, api_resp *rs);
void api_h_tail_legacy(api_req *rq, api_resp *rs); /* /api/prom/tail: the legacy frames */
void api_tails_free(api_state *st); /* the per-tenant tail counts */
/* api/h_stats.c */
void api_h_index_stats(api_req *rq, api_resp *rs);
/* api/h_dlabels.c */
void api_h_detected_labels(api_req *rq, api_resp *rs);
/* api/h_dfields.c */
void api_h_detected_fields(api_req *rq, api_resp *rs);
void api_h_detected_field_values(api_req *rq, api_resp *rs);
/* api/h_volume.c */
void api_h_volume(api_req *rq, api_resp *rs);
void api_h_volume_range(api_req *rq, api_resp *rs);
/* api/h_patterns.c */
void api_h_patterns(api_req *rq, api_resp *rs);
/* api/h_ops.c */
void api_h_ready(api_req *rq, api_resp *rs);
void api_h_metrics(api_req *rq, api_resp *rs);
void api_h_config(api_req *rq, api_resp *rs);
void api_h_runtime_config(api_req *rq, api_resp *rs);
void api_h_buildinfo(api_req *rq, api_resp *rs);
void api_h_services(api_req *rq, api_resp *rs);
void api_h_log_level(api_req *rq, api_resp *rs);
void api_h_flush(api_req *rq, api_resp *rs);
void api_h_delete(api_req *rq, api_resp *rs); /* h_delete.c */
/* "3.6.0+lokic.<version>": the Loki version lokic answers as (buildinfo,
 * drilldown-limits) */
const char *api_loki_version(void);
/* api/h_rules.c */
void api_h_rules(api_req *rq, api_resp *rs);
void api_h_prom_rules(api_req *rq, api_resp *rs);
void api_h_prom_alerts(api_req *rq, api_resp *rs);
/* api/h_limits.c */
void api_h_drilldown_limits(api_req *rq, api_resp *rs);
void api_h_tenant_limits(api_req *rq, api_resp *rs);
/* api/h_ui.c: the log explorer (ui/) */
void api_h_ui_index(api_req *rq, api_resp *rs);
void api_h_ui_asset(api_req *rq, api_resp *rs);

#endif
