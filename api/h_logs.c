/* Execution of log queries ({selector} | pipeline) for the query endpoints:
 * the pipeline compiled (query/pipeline), selection through query/select
 * with Loki's limit and interval semantics, and Loki's streams response —
 * categorized when the client sends X-Loki-Response-Encoding-Flags:
 * categorize-labels (not on the legacy endpoint). */
#include <stdlib.h>

#include "api/query_exec.h"
#include "api/resp.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/timeutil.h"
#include "query/pipeline/pipeline.h"
#include "query/select.h"

bool api_wants_categorized(const api_req *rq)
{
    lk_str h = api_header(rq, "X-Loki-Response-Encoding-Flags");
    size_t i = 0;
    while (h.p && i <= h.len) {
        size_t j = i;
        while (j < h.len && h.p[j] != ',')
            j++;
        if (lk_str_eq(lk_str_trim((lk_str){ h.p + i, j - i }), LK_STR("categorize-labels")))
            return true;
        i = j + 1;
    }
    return false;
}

void api_exec_log_query(api_req *rq, api_resp *rs, const logql_expr *e, const api_log_query *q)
{
    const logql_log_selector *sel = &e->u.log;
    int max = rq->st->cfg->max_entries_limit_per_query;
    if (max > 0 && q->limit > max) {
        api_reply_error(rs, 400,
                        "max entries limit per query exceeded, limit > max_entries_limit (%d > %d)",
                        q->limit, max);
        return;
    }
    lk_buf err = { 0 };
    lp_pipeline *p = NULL;
    if (lp_compile(sel->stages, sel->n_stages, &p, &err) != LK_OK) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "invalid pipeline");
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
        .pipeline = p,
        .interval_ns = q->interval_ns,
        .categorize = !q->legacy && api_wants_categorized(rq),
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
    lp_free(p);
    lk_buf_free(&err);
}
