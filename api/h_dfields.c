/* GET /loki/api/v1/detected_fields and /loki/api/v1/detected_field/<name>/values:
 * the fields of the newest `line_limit` entries (100) a log query returns,
 * as Loki 3.6's query frontend detects them (query/dfields.h):
 *   {"fields":[{"label":"status","type":"int","cardinality":6,
 *               "parsers":["logfmt"],"jsonPath":[...]},...],"limit":1000}
 *   {"values":["200","404",...],"limit":1000}
 * (no status wrapper). `query` (required) is a log query; `limit` bounds
 * the fields (or the values), 1000 by default. */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/params.h"
#include "api/qlimits.h"
#include "api/state.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "query/dfields.h"
#include "query/logql/parser.h"
#include "query/select.h"

#define DEFAULT_LINE_LIMIT 100
#define DEFAULT_FIELD_LIMIT 1000

/* A positive integer parameter, def when absent. */
static int int_param(const api_req *rq, const char *name, int def, int *out, lk_buf *err)
{
    lk_str v;
    *out = def;
    if (!api_param_get(rq, name, &v) || v.len == 0)
        return 0;
    long long n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9' || n > INT32_MAX) {
            lk_buf_printf(err, "invalid %s: %.*s", name, LK_STR_FMT(v));
            return LK_EINVAL;
        }
        n = n * 10 + (v.p[i] - '0');
    }
    if (n <= 0 || n > INT32_MAX) {
        lk_buf_printf(err, "%s must be a positive value", name);
        return LK_EINVAL;
    }
    *out = (int)n;
    return 0;
}

typedef struct df_params {
    api_range r;
    int line_limit, limit;
    logql_expr *e;
} df_params;

static int parse_params(api_req *rq, df_params *p, lk_buf *err)
{
    lk_str q = LK_STR("");
    if (!api_param_get(rq, "query", &q) || !q.len) {
        lk_buf_puts(err, "query is required");
        return LK_EINVAL;
    }
    int rc = api_parse_bounds(rq, lk_now_ns(), &p->r, err);
    if (rc == 0)
        rc = api_check_query_length(rq, p->r.start, p->r.end, err);
    if (rc == 0)
        rc = int_param(rq, "line_limit", DEFAULT_LINE_LIMIT, &p->line_limit, err);
    if (rc == 0)
        rc = int_param(rq, "limit", DEFAULT_FIELD_LIMIT, &p->limit, err);
    if (rc != 0)
        return rc;
    int max = api_max_entries(rq);
    if (max > 0 && p->line_limit > max) {
        lk_buf_printf(err, "max entries limit per query exceeded, limit > max_entries_limit "
                           "(%d > %d)", p->line_limit, max);
        return LK_EINVAL;
    }
    rc = logql_parse(q, &p->e, err);
    if (rc == 0 && !logql_expr_is_log(p->e)) {
        lk_buf_puts(err, "only log queries are supported");
        rc = LK_EINVAL;
    }
    return rc;
}

/* Runs the query (newest first, categorized) and detects its fields. */
static int detect(api_req *rq, const df_params *p, qm_query *mem, dt_fields *f, lk_buf *err)
{
    if (memchr(rq->tenant.p, '|', rq->tenant.len))
        return 0; /* several tenants: Loki's multi-tenant querier detects nothing */
    const logql_log_selector *sel = &p->e->u.log;
    lp_pipeline *pl = NULL;
    int rc = lp_compile(sel->stages, sel->n_stages, &pl, err);
    if (rc != 0)
        return rc;
    logql_select s = {
        .tenant = rq->tenant, .matchers = sel->matchers, .n_matchers = sel->n_matchers,
        .start = p->r.start, .end = p->r.end, .limit = (size_t)p->line_limit,
        .backward = true, .pipeline = pl, .categorize = true, .mem = mem,
    };
    logql_streams res;
    rc = logql_select_logs(rq->st->ingester, &s, &res, err);
    if (rc == 0) {
        for (size_t i = 0; i < res.n; i++) {
            const logql_stream_res *sr = &res.v[i];
            for (size_t k = 0; k < sr->n; k++)
                dt_fields_add(f, sr->labels, &sr->entries[k], sr->parsed ? &sr->parsed[k] : NULL);
        }
        logql_streams_free(&res);
    }
    lp_free(pl);
    return rc;
}

static void write_field(jw *w, const dt_field *df)
{
    jw_obj_open(w);
    jw_key(w, "label");
    jw_cstr(w, df->name);
    jw_key(w, "type");
    jw_cstr(w, df->type);
    jw_key(w, "cardinality");
    jw_i64(w, (int64_t)df->values.n);
    jw_key(w, "parsers");
    if (!df->parsers) {
        jw_null(w);
    } else {
        jw_arr_open(w);
        if (df->parsers & DT_PARSER_JSON)
            jw_cstr(w, "json");
        if (df->parsers & DT_PARSER_LOGFMT)
            jw_cstr(w, "logfmt");
        jw_arr_close(w);
    }
    if (df->n_path) {
        jw_key(w, "jsonPath");
        jw_arr_open(w);
        for (size_t i = 0; i < df->n_path; i++)
            jw_str(w, df->path[i]);
        jw_arr_close(w);
    }
    jw_obj_close(w);
}

static void write_fields(jw *w, const dt_fields *f, int limit)
{
    jw_obj_open(w);
    jw_key(w, "fields");
    jw_arr_open(w);
    for (size_t i = 0; i < f->n; i++)
        write_field(w, &f->v[i]);
    jw_arr_close(w);
    jw_key(w, "limit");
    jw_i64(w, limit);
    jw_obj_close(w);
}

static void write_values(jw *w, const dt_field *df, int limit)
{
    jw_obj_open(w);
    jw_key(w, "values");
    jw_arr_open(w);
    for (size_t i = 0; df && i < df->values.n && i < (size_t)limit; i++)
        jw_str(w, df->values.v[i]);
    jw_arr_close(w);
    jw_key(w, "limit");
    jw_i64(w, limit);
    jw_obj_close(w);
}

/* values: the field name of detected_field/<name>/values, else NULL. */
static void detected(api_req *rq, api_resp *rs, const lk_str *values)
{
    df_params p = { 0 };
    lk_buf err = { 0 };
    dt_fields f = { 0 };
    qm_query mem;
    bool began = false;
    if (parse_params(rq, &p, &err) != 0) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "bad request");
        goto out;
    }
    /* the values of one field: every field counts, however many */
    int rc = dt_fields_init(&f, values ? SIZE_MAX : (size_t)p.limit, &err);
    if (rc == 0) {
        rc = qm_begin(rq->st->qmem, rq->st->cfg->max_memory_per_query, &mem);
        began = rc == 0;
        if (rc != 0)
            qm_error(&mem, rc, &err);
    }
    if (rc == 0)
        rc = detect(rq, &p, &mem, &f, &err);
    if (rc != 0) {
        int status = rc == LK_ELIMIT ? 400 : rc == LK_ERATE ? 429 : 500;
        api_reply_error(rs, status, "%s", err.p ? err.p : lk_strerror(rc));
        goto out;
    }
    jw w;
    jw_init(&w, &rs->body);
    if (values)
        write_values(&w, dt_fields_get(&f, *values), p.limit);
    else
        write_fields(&w, &f, p.limit);
    api_reply_json(rs, 200);
out:
    if (began)
        qm_end(&mem);
    dt_fields_free(&f);
    if (p.e)
        logql_expr_free(p.e);
    lk_buf_free(&err);
}

void api_h_detected_fields(api_req *rq, api_resp *rs)
{
    detected(rq, rs, NULL);
}

void api_h_detected_field_values(api_req *rq, api_resp *rs)
{
    lk_str name = rq->path_arg;
    detected(rq, rs, &name);
}
