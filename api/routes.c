/* The route table. Endpoints that are not built are absent, so they answer
 * 404 rather than anything that looks like success. */
#include "api/routes.h"

#include <string.h>

#include "api/handlers.h"

#define GP (API_GET | API_POST)

static const api_route routes[] = {
    { "/loki/api/v1/push", API_POST, "loki_api_v1_push", true, api_h_push },
    { "/api/prom/push", API_POST, "api_prom_push", true, api_h_push_legacy },
    { "/otlp/v1/logs", API_POST, "otlp_v1_logs", true, api_h_otlp_logs },
    { "/loki/api/v1/query_range", GP, "loki_api_v1_query_range", true, api_h_query_range, true },
    { "/loki/api/v1/query", GP, "loki_api_v1_query", true, api_h_query, true },
    { "/api/prom/query", GP, "api_prom_query", true, api_h_query_legacy, true },
    { "/loki/api/v1/format_query", GP, "loki_api_v1_format_query", true, api_h_format_query, true },
    { "/loki/api/v1/labels", GP, "loki_api_v1_labels", true, api_h_labels, true },
    { "/loki/api/v1/label", GP, "loki_api_v1_label", true, api_h_labels, true },
    { "/loki/api/v1/label/{name}/values", GP, "loki_api_v1_label_name_values", true,
      api_h_label_values, true },
    { "/loki/api/v1/series", GP, "loki_api_v1_series", true, api_h_series, true },
    { "/api/prom/label", GP, "api_prom_label", true, api_h_labels_legacy, true },
    { "/api/prom/label/{name}/values", GP, "api_prom_label_name_values", true,
      api_h_label_values_legacy, true },
    { "/api/prom/series", GP, "api_prom_series", true, api_h_series, true },
    { "/loki/api/v1/index/stats", GP, "loki_api_v1_index_stats", true, api_h_index_stats, true },
    { "/loki/api/v1/index/volume", GP, "loki_api_v1_index_volume", true, api_h_volume, true },
    { "/loki/api/v1/index/volume_range", GP, "loki_api_v1_index_volume_range", true,
      api_h_volume_range, true },
    { "/loki/api/v1/detected_labels", GP, "loki_api_v1_detected_labels", true,
      api_h_detected_labels, true },
    { "/loki/api/v1/detected_fields", GP, "loki_api_v1_detected_fields", true,
      api_h_detected_fields, true },
    { "/loki/api/v1/detected_field/{name}/values", GP, "loki_api_v1_detected_field_name_values",
      true, api_h_detected_field_values, true },
    { "/loki/api/v1/patterns", GP, "loki_api_v1_patterns", true, api_h_patterns, true },
    { "/loki/api/v1/tail", API_GET, "loki_api_v1_tail", true, api_h_tail },
    { "/api/prom/tail", API_GET, "api_prom_tail", true, api_h_tail_legacy },
    { "/loki/api/v1/drilldown-limits", API_GET, "loki_api_v1_drilldown_limits", false,
      api_h_drilldown_limits },
    { "/config/tenant/v1/limits", API_GET, "config_tenant_v1_limits", false,
      api_h_tenant_limits },
    { "/loki/api/v1/rules", API_GET, "loki_api_v1_rules", true, api_h_rules },
    { "/loki/api/v1/rules/{*}", API_GET | API_POST | API_DELETE, "loki_api_v1_rules_namespace",
      true, api_h_rules },
    { "/api/prom/rules", API_GET, "api_prom_rules", true, api_h_rules },
    { "/api/prom/rules/{*}", API_GET | API_POST | API_DELETE, "api_prom_rules_namespace", true,
      api_h_rules },
    { "/prometheus/api/v1/rules", API_GET, "prometheus_api_v1_rules", true, api_h_prom_rules },
    { "/prometheus/api/v1/alerts", API_GET, "prometheus_api_v1_alerts", true,
      api_h_prom_alerts },
    { "/loki/api/v1/delete", GP | API_PUT | API_DELETE, "loki_api_v1_delete", true,
      api_h_delete },
    { "/flush", GP, "flush", false, api_h_flush },
    { "/ready", API_GET, "ready", false, api_h_ready },
    { "/metrics", API_GET, "metrics", false, api_h_metrics },
    { "/config", API_GET, "config", false, api_h_config },
    { "/runtime_config", API_GET, "runtime_config", false, api_h_runtime_config },
    { "/loki/api/v1/status/buildinfo", API_GET, "loki_api_v1_status_buildinfo", false,
      api_h_buildinfo },
    { "/services", API_GET, "services", false, api_h_services },
    { "/log_level", GP, "log_level", false, api_h_log_level },
    /* the log explorer: "/" only (api_route_find keeps its one slash), so it
     * shadows no API path */
    { "/", API_GET, "root", false, api_h_ui_index },
    { "/ui/{name}", API_GET, "ui", false, api_h_ui_asset },
};

int api_method_bit(const char *method)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return API_GET;
    if (strcmp(method, "POST") == 0)
        return API_POST;
    if (strcmp(method, "PUT") == 0)
        return API_PUT;
    if (strcmp(method, "DELETE") == 0)
        return API_DELETE;
    return 0;
}

/* Matches path against pattern; a "{x}" segment matches one non-empty path
 * segment, returned in *arg; "{*}" matches the non-empty rest, slashes
 * included (the rules API's namespace/group). */
static bool match(const char *pattern, lk_str path, lk_str *arg)
{
    const char *open = strchr(pattern, '{');
    if (!open)
        return lk_str_eq_c(path, pattern);
    size_t pre = (size_t)(open - pattern);
    const char *post = strchr(open, '}') + 1;
    size_t post_len = strlen(post);
    if (path.len < pre + post_len + 1 || memcmp(path.p, pattern, pre) != 0 ||
        memcmp(path.p + path.len - post_len, post, post_len) != 0)
        return false;
    lk_str seg = lk_str_n(path.p + pre, path.len - pre - post_len);
    if (open[1] != '*' && memchr(seg.p, '/', seg.len))
        return false;
    *arg = seg;
    return true;
}

const api_route *api_route_find(lk_str path, lk_str *arg)
{
    /* tolerate one trailing slash, as Loki's router does for its API paths */
    if (path.len > 1 && path.p[path.len - 1] == '/')
        path.len--;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (match(routes[i].pattern, path, arg))
            return &routes[i];
    return NULL;
}
