/* Log and metric query endpoints: /loki/api/v1/query_range,
 * /loki/api/v1/query and the legacy /api/prom/query. Parameters are checked
 * in Loki's order; log queries run through query/select. Stages and metric
 * queries that are not evaluated yet answer 501, never a fake result. */
#include <stdlib.h>

#include "api/handlers.h"
#include "api/params.h"
#include "api/resp.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/labels.h"
#include "lib/timeutil.h"
#include "query/ast.h"
#include "query/linefilter.h"
#include "query/parser.h"
#include "query/select.h"

/* Loki's engine looks this far back for a log query at an instant
 * (querier.engine.max_look_back_period). */
#define INSTANT_LOG_LOOKBACK_NS (30 * LK_NS_PER_SEC)

typedef struct log_query {
    lk_str query;
    int64_t start, end;     /* [start, end) */
    int limit;
    bool backward;
    bool legacy;
} log_query;

static bool line_pred(void *ctx, const lk_entry *e)
{
    return lf_chain_match(ctx, e->line);
}

/* Parses q->query; answers 400 on a bad query. NULL when answered. */
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

static void run_log_query(api_req *rq, api_resp *rs, const logql_expr *e, const log_query *q)
{
    const logql_log_selector *sel = &e->u.log;
    int max = rq->st->cfg->max_entries_limit_per_query;
    if (max > 0 && q->limit > max) {
        api_reply_error(rs, 400,
                        "max entries limit per query exceeded, limit > max_entries_limit (%d > %d)",
                        q->limit, max);
        return;
    }
    if (!logql_pipeline_is_filter_only(sel->stages, sel->n_stages)) {
        api_reply_error(rs, 501,
                        "not implemented: lokic does not evaluate parser and formatting stages yet "
                        "(only line filters)");
        return;
    }
    lk_buf err = { 0 };
    lf_chain *chain = NULL;
    if (lf_chain_compile(sel->stages, sel->n_stages, &chain, &err) != LK_OK) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "invalid line filter");
        lk_buf_free(&err);
        return;
    }
    logql_select s = {
        .tenant = rq->tenant,
        .matchers = sel->matchers,
        .n_matchers = sel->n_matchers,
        .start = q->start,
        .end = q->end,
        .limit = (size_t)q->limit,
        .backward = q->backward,
        .pred = sel->n_stages ? line_pred : NULL,
        .pred_ctx = chain,
    };
    int64_t t0 = lk_now_ns();
    logql_streams res;
    int rc = logql_select_logs(rq->st->ingester, &s, &res, &err);
    if (rc != LK_OK) {
        api_reply_error(rs, 500, "query failed: %s", err.p ? err.p : lk_strerror(rc));
    } else {
        if (q->legacy)
            api_write_legacy_streams_response(&rs->body, &res, lk_now_ns() - t0);
        else
            api_write_streams_response(&rs->body, &res, lk_now_ns() - t0);
        api_reply_json(rs, 200);
        logql_streams_free(&res);
    }
    lf_chain_free(chain);
    lk_buf_free(&err);
}

static void reply_metric_unsupported(api_resp *rs)
{
    api_reply_error(rs, 501, "not implemented: lokic does not evaluate metric queries yet");
}

/* Range parameters in Loki's order; false when an error was answered. */
static bool range_params(api_req *rq, api_resp *rs, log_query *q)
{
    lk_buf err = { 0 };
    api_range r;
    int64_t step, interval;
    bool ok = api_parse_bounds(rq, lk_now_ns(), &r, &err) == LK_OK &&
              api_parse_limit(rq, &q->limit, &err) == LK_OK &&
              api_parse_direction(rq, &q->backward, &err) == LK_OK;
    if (ok && r.end < r.start) {
        lk_buf_puts(&err, "end timestamp must not be before or equal to start time");
        ok = false;
    }
    ok = ok && api_parse_step(rq, &r, &step, &err) == LK_OK &&
         api_parse_interval(rq, &interval, &err) == LK_OK;
    if (!ok)
        api_reply_error(rs, 400, "%s", err.p ? err.p : "bad request");
    q->start = r.start;
    q->end = r.end;
    lk_buf_free(&err);
    return ok;
}

static void query_range(api_req *rq, api_resp *rs, bool legacy)
{
    log_query q = { .legacy = legacy };
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
    if (e) {
        if (logql_expr_is_log(e))
            run_log_query(rq, rs, e, &q);
        else if (legacy)
            api_reply_error(rs, 400, "legacy endpoints only support streams result type");
        else
            reply_metric_unsupported(rs);
        logql_expr_free(e);
    }
    lk_buf_free(&folded);
}

void api_h_query_range(api_req *rq, api_resp *rs) { query_range(rq, rs, false); }
void api_h_query_legacy(api_req *rq, api_resp *rs) { query_range(rq, rs, true); }

void api_h_query(api_req *rq, api_resp *rs)
{
    log_query q = { 0 };
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
            /* Loki 2.9 answers a log query at an instant from the look-back window */
            q.start = t - INSTANT_LOG_LOOKBACK_NS;
            q.end = t;
            run_log_query(rq, rs, e, &q);
        } else {
            reply_metric_unsupported(rs);
        }
        logql_expr_free(e);
    }
    lk_buf_free(&err);
}
