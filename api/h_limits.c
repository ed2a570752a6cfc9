/* The tenant's published limits, as Loki 3.6 serves them:
 *   GET /loki/api/v1/drilldown-limits  {"limits":{...},"pattern_ingester_enabled":b,"version":"..."}
 *   GET /config/tenant/v1/limits       the same limits as YAML
 * Loki publishes only the fields of its default tenant_limits_allow_publish
 * list, under their JSON names, keys sorted (a Go map): the JSON answer is
 * encoding/json's, the YAML one yaml.v2's rendering of that map (nested
 * lists unindented, numbers as float64 with %g, "" for the empty string).
 * retention_stream is omitted as Loki omits it when empty.
 *
 * Both read X-Scope-OrgID themselves, as Loki's handler does: without it
 * (even with auth_enabled: false) they answer 401 "no org id"; a bad id is
 * 401 with dskit's message. lokic has no per-tenant overrides, so every
 * tenant gets the configured limits; the fields lokic has no option for are
 * published with the value lokic acts by (no look-back or range limit, no
 * bytes-read limit) or Loki's default. */
#include "api/handlers.h"
#include "api/state.h"
#include "api/tenant.h"
#include "lib/gofloat.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"

/* ---- a small value tree (keys sorted by the builder) ---------------------- */

typedef enum lv_kind {
    LV_NULL = 0,
    LV_BOOL,
    LV_INT,
    LV_STR,
    LV_STRS, /* a list of strings */
    LV_MAP,
    LV_ARR,  /* a list of maps */
} lv_kind;

typedef struct lv {
    const char *key; /* within a map */
    lv_kind kind;
    bool b;
    int64_t i;
    const char *s;
    const char *const *strs;
    size_t n;        /* STRS: strings; MAP, ARR: kids */
    const struct lv *kids;
} lv;

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The default index-label attributes, the list the OTLP decoder applies. */
static const char *const otlp_index_labels[] = { LK_OTLP_DEFAULT_INDEX_ATTRS };

/* The default otlp_config, as encoding/json spells a push.OTLPConfig (Go
 * field names, no tags). */
static const lv otlp_attr_cfg[] = {
    { .key = "Action", .kind = LV_STR, .s = "index_label" },
    { .key = "Attributes", .kind = LV_STRS, .strs = otlp_index_labels,
      .n = N_OF(otlp_index_labels) },
    { .key = "Regex", .kind = LV_STR, .s = "" },
};
static const lv otlp_attr_cfgs[] = {
    { .kind = LV_MAP, .kids = otlp_attr_cfg, .n = N_OF(otlp_attr_cfg) },
};
static const lv otlp_resource[] = {
    { .key = "AttributesConfig", .kind = LV_ARR, .kids = otlp_attr_cfgs,
      .n = N_OF(otlp_attr_cfgs) },
    { .key = "IgnoreDefaults", .kind = LV_BOOL },
};
static const lv otlp_config[] = {
    { .key = "LogAttributes", .kind = LV_NULL },
    { .key = "ResourceAttributes", .kind = LV_MAP, .kids = otlp_resource,
      .n = N_OF(otlp_resource) },
    { .key = "ScopeAttributes", .kind = LV_NULL },
    { .key = "SeverityTextAsLabel", .kind = LV_BOOL },
};

#define N_LIMITS 17

typedef struct limits {
    lv v[N_LIMITS];
    lk_buf durs[3]; /* max_query_length, query_timeout, retention_period */
} limits;

static const char *duration(lk_buf *b, int64_t ns)
{
    lk_format_prom_duration(ns, b);
    return b->p;
}

/* The published limits of the configuration, sorted by name. */
static void limits_build(limits *l, const lk_config *c)
{
    size_t n = 0;
    lv *v = l->v;
    v[n++] = (lv){ .key = "discover_log_levels", .kind = LV_BOOL, .b = c->discover_log_levels };
    v[n++] = (lv){ .key = "discover_service_name", .kind = LV_STRS,
                   .strs = (const char *const *)c->discover_service_name.v,
                   .n = c->discover_service_name.n };
    v[n++] = (lv){ .key = "log_level_fields", .kind = LV_STRS,
                   .strs = (const char *const *)c->log_level_fields.v, .n = c->log_level_fields.n };
    v[n++] = (lv){ .key = "max_entries_limit_per_query", .kind = LV_INT,
                   .i = c->max_entries_limit_per_query };
    v[n++] = (lv){ .key = "max_line_size_truncate", .kind = LV_BOOL,
                   .b = c->max_line_size_truncate };
    v[n++] = (lv){ .key = "max_query_bytes_read", .kind = LV_STR, .s = "0B" };
    v[n++] = (lv){ .key = "max_query_length", .kind = LV_STR,
                   .s = duration(&l->durs[0], c->max_query_length_ns) };
    v[n++] = (lv){ .key = "max_query_lookback", .kind = LV_STR, .s = "0s" };
    v[n++] = (lv){ .key = "max_query_range", .kind = LV_STR, .s = "0s" };
    v[n++] = (lv){ .key = "max_query_series", .kind = LV_INT, .i = c->max_query_series };
    v[n++] = (lv){ .key = "metric_aggregation_enabled", .kind = LV_BOOL };
    v[n++] = (lv){ .key = "otlp_config", .kind = LV_MAP, .kids = otlp_config,
                   .n = N_OF(otlp_config) };
    v[n++] = (lv){ .key = "pattern_persistence_enabled", .kind = LV_BOOL };
    v[n++] = (lv){ .key = "query_timeout", .kind = LV_STR,
                   .s = duration(&l->durs[1], c->query_timeout_ns) };
    v[n++] = (lv){ .key = "retention_period", .kind = LV_STR,
                   .s = duration(&l->durs[2], c->retention_period_ns) };
    v[n++] = (lv){ .key = "volume_enabled", .kind = LV_BOOL, .b = c->volume_enabled };
    v[n++] = (lv){ .key = "volume_max_series", .kind = LV_INT, .i = c->volume_max_series };
}

static void limits_free(limits *l)
{
    for (size_t i = 0; i < N_OF(l->durs); i++)
        lk_buf_free(&l->durs[i]);
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_value(jw *w, const lv *v)
{
    switch (v->kind) {
    case LV_NULL: jw_null(w); return;
    case LV_BOOL: jw_bool(w, v->b); return;
    case LV_INT: jw_i64(w, v->i); return;
    case LV_STR: jw_cstr(w, v->s); return;
    case LV_STRS:
        jw_arr_open(w);
        for (size_t i = 0; i < v->n; i++)
            jw_cstr(w, v->strs[i]);
        jw_arr_close(w);
        return;
    case LV_MAP:
        jw_obj_open(w);
        for (size_t i = 0; i < v->n; i++) {
            jw_key(w, v->kids[i].key);
            json_value(w, &v->kids[i]);
        }
        jw_obj_close(w);
        return;
    case LV_ARR:
        jw_arr_open(w);
        for (size_t i = 0; i < v->n; i++)
            json_value(w, &v->kids[i]);
        jw_arr_close(w);
        return;
    }
}

/* ---- YAML (yaml.v2's layout) ----------------------------------------------- */

static void yaml_indent(lk_buf *out, int n)
{
    for (int i = 0; i < n; i++)
        lk_buf_putc(out, ' ');
}

/* A scalar after "key:" or "- ". The strings published are names, durations
 * and sizes, which yaml.v2 leaves plain; only the empty one is quoted. */
static void yaml_scalar(lk_buf *out, const lv *v)
{
    switch (v->kind) {
    case LV_BOOL: lk_buf_puts(out, v->b ? "true" : "false"); break;
    case LV_INT: lk_gofloat_append(out, (double)v->i, 'g', -1); break; /* a float64 */
    case LV_STR: lk_buf_puts(out, *v->s ? v->s : "\"\""); break;
    default: lk_buf_puts(out, "null"); break;
    }
}

static void yaml_map(lk_buf *out, const lv *kids, size_t n, int indent, bool first_inline);

/* The value of a map entry, after "key:". */
static void yaml_entry_value(lk_buf *out, const lv *v, int indent)
{
    switch (v->kind) {
    case LV_STRS:
        if (!v->n) {
            lk_buf_puts(out, " []\n");
            return;
        }
        lk_buf_putc(out, '\n');
        for (size_t i = 0; i < v->n; i++) {
            yaml_indent(out, indent);
            lk_buf_printf(out, "- %s\n", v->strs[i]);
        }
        return;
    case LV_MAP:
        if (!v->n) {
            lk_buf_puts(out, " {}\n");
            return;
        }
        lk_buf_putc(out, '\n');
        yaml_map(out, v->kids, v->n, indent + 2, false);
        return;
    case LV_ARR:
        if (!v->n) {
            lk_buf_puts(out, " []\n");
            return;
        }
        lk_buf_putc(out, '\n');
        for (size_t i = 0; i < v->n; i++) {
            yaml_indent(out, indent);
            lk_buf_puts(out, "- ");
            yaml_map(out, v->kids[i].kids, v->kids[i].n, indent + 2, true);
        }
        return;
    default:
        lk_buf_putc(out, ' ');
        yaml_scalar(out, v);
        lk_buf_putc(out, '\n');
        return;
    }
}

/* A map's entries at indent; with first_inline the first key follows a
 * "- " already written. */
static void yaml_map(lk_buf *out, const lv *kids, size_t n, int indent, bool first_inline)
{
    for (size_t i = 0; i < n; i++) {
        if (i || !first_inline)
            yaml_indent(out, indent);
        lk_buf_printf(out, "%s:", kids[i].key);
        yaml_entry_value(out, &kids[i], indent);
    }
}

/* ---- the handlers ------------------------------------------------------------ */

/* The tenant from X-Scope-OrgID as Loki's tenant limits handler reads it:
 * any failure is 401 with dskit's message. */
/* The tenant's limits (with its runtime config overrides) in *cfg; false
 * (401 answered) without a tenant. */
static bool limits_tenant(api_req *rq, api_resp *rs, const lk_config **cfg)
{
    lk_str tenant;
    int status = 0;
    lk_buf err = { 0 };
    bool ok = api_tenant_parse(api_header(rq, "X-Scope-OrgID"), &tenant, &status, &err) == 0;
    if (!ok) {
        api_reply_text(rs, 401, "");
        lk_buf_put_str(&rs->body, lk_buf_str(&err));
        lk_buf_putc(&rs->body, '\n');
    }
    lk_buf_free(&err);
    if (ok)
        *cfg = api_limits(rq->st, tenant);
    return ok;
}

void api_h_drilldown_limits(api_req *rq, api_resp *rs)
{
    const lk_config *cfg;
    if (!limits_tenant(rq, rs, &cfg))
        return;
    limits l = { 0 };
    limits_build(&l, cfg);
    jw w;
    jw_init(&w, &rs->body);
    jw_obj_open(&w);
    jw_key(&w, "limits");
    lv all = { .kind = LV_MAP, .kids = l.v, .n = N_LIMITS };
    json_value(&w, &all);
    jw_key(&w, "pattern_ingester_enabled");
    jw_bool(&w, rq->st->cfg->pattern_ingester_enabled);
    jw_key(&w, "version");
    jw_cstr(&w, api_loki_version());
    jw_obj_close(&w);
    lk_buf_putc(&rs->body, '\n'); /* json.Encoder ends with a newline */
    api_reply_json(rs, 200);
    limits_free(&l);
}

void api_h_tenant_limits(api_req *rq, api_resp *rs)
{
    const lk_config *cfg;
    if (!limits_tenant(rq, rs, &cfg))
        return;
    limits l = { 0 };
    limits_build(&l, cfg);
    yaml_map(&rs->body, l.v, N_LIMITS, 0, false);
    rs->status = 200;
    rs->content_type = "text/plain; charset=utf-8";
    limits_free(&l);
}
