/* Log and metric query endpoints: /loki/api/v1/query_range,
 * /loki/api/v1/query and the legacy /api/prom/query. Parameters are checked
 * in Loki's order, then the parsed query goes to api/h_logs.c or
 * api/h_metric.c. */
#include <stdlib.h>

#include "api/handlers.h"
#include "api/params.h"
#include "api/qlimits.h"
#include "api/query_exec.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/labels.h"
#include "lib/timeutil.h"
#include "query/logql/ast.h"
#include "query/logql/parser.h"

typedef struct range_req {
    api_log_query log;
    api_metric_query metric;
} range_req;

/* Parses the query; answers 400 on a bad query. NULL when answered. */
static logql_expr *parse_or_reply(api_resp *rs, lk_str query)
{
    logql_expr *e = NULL;
    lk_buf err = { 0 };
    if (logql_parse(query, &e, &err) != LK_OK) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "failed to parse the log query");
        e = NULL;
    }
    lk_buf_free(&err);
    return e;
}

/* Loki's query-frontend checks max_query_length on the bounds cut to
 * milliseconds; false when the 400 was answered. */
static bool length_ok(api_req *rq, api_resp *rs, const range_req *q)
{
    const int64_t ms = 1000000;
    lk_buf err = { 0 };
    int rc = api_check_query_length(rq, q->log.start / ms * ms, q->log.end / ms * ms, &err);
    if (rc != LK_OK)
        api_reply_error(rs, 400, "%s", err.p);
    lk_buf_free(&err);
    return rc == LK_OK;
}

/* Range parameters in Loki's order; false when an error was answered. */
static bool range_params(api_req *rq, api_resp *rs, range_req *q)
{
    lk_buf err = { 0 };
    api_range r;
    int64_t step = 0, interval = 0;
    bool ok = api_parse_bounds(rq, lk_now_ns(), &r, &err) == LK_OK &&
              api_parse_limit(rq, &q->log.limit, &err) == LK_OK &&
              api_parse_direction(rq, &q->log.backward, &err) == LK_OK;
    if (ok && r.end < r.start) {
        lk_buf_puts(&err, "end timestamp must not be before or equal to start time");
        ok = false;
    }
    ok = ok && api_parse_step(rq, &r, &step, &err) == LK_OK &&
         api_parse_interval(rq, &interval, &err) == LK_OK;
    if (!ok)
        api_reply_error(rs, 400, "%s", err.p ? err.p : "bad request");
    q->log.start = q->metric.start = r.start;
    q->log.end = q->metric.end = r.end;
    q->log.interval_ns = interval;
    q->metric.step_ns = step;
    lk_buf_free(&err);
    return ok;
}

static void query_range(api_req *rq, api_resp *rs, bool legacy)
{
    range_req q = { .log.legacy = legacy };
    if (!range_params(rq, rs, &q))
        return;
    lk_str text = LK_STR("");
    api_param_get(rq, "query", &text);
    lk_buf folded = { 0 };
    lk_str re;
    if (legacy && api_param_get(rq, "regexp", &re) && re.len) {
        /* the legacy `regexp` parameter is a |~ filter on the query */
        lk_buf_put_str(&folded, text);
        lk_buf_puts(&folded, " |~ ");
        lk_go_quote(re, &folded);
        text = lk_buf_str(&folded);
    }
    logql_expr *e = parse_or_reply(rs, text);
    if (e && length_ok(rq, rs, &q)) {
        if (logql_expr_is_log(e))
            api_exec_log_query(rq, rs, e, &q.log);
        else if (legacy)
            api_reply_error(rs, 400, "legacy endpoints only support streams result type");
        else
            api_exec_metric_query(rq, rs, e, &q.metric);
    }
    logql_expr_free(e);
    lk_buf_free(&folded);
}

void api_h_query_range(api_req *rq, api_resp *rs) { query_range(rq, rs, false); }
void api_h_query_legacy(api_req *rq, api_resp *rs) { query_range(rq, rs, true); }

void api_h_query(api_req *rq, api_resp *rs)
{
    api_log_query q = { 0 };
    lk_buf err = { 0 };
    int64_t t;
    if (api_parse_time(rq, lk_now_ns(), &t, &err) != LK_OK ||
        api_parse_limit(rq, &q.limit, &err) != LK_OK ||
        api_parse_direction(rq, &q.backward, &err) != LK_OK) {
        api_reply_error(rs, 400, "%s", err.p);
        lk_buf_free(&err);
        return;
    }
    lk_str text = LK_STR("");
    api_param_get(rq, "query", &text);
    logql_expr *e = parse_or_reply(rs, text);
    if (e) {
        if (logql_expr_is_log(e)) {
            /* Loki 3 refuses a log query at an instant (2.9 read a
             * 30 s look-back window). */
            api_reply_error(rs, 400, "log queries are not supported as an instant "
                            "query type, please change your query to a range query type");
        } else {
            api_metric_query mq = { .start = t, .end = t, .instant = true };
            api_exec_metric_query(rq, rs, e, &mq);
        }
        logql_expr_free(e);
    }
    lk_buf_free(&err);
}
