/* Execution of log queries ({selector} | pipeline) for the query endpoints:
 * selection through query/select, Loki's streams response. Stages that are
 * not evaluated yet answer 501, never a fake result. */
#include <stdlib.h>

#include "api/query_exec.h"
#include "api/resp.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/timeutil.h"
#include "query/linefilter.h"
#include "query/select.h"

static bool line_pred(void *ctx, const lk_entry *e)
{
    return lf_chain_match(ctx, e->line);
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
