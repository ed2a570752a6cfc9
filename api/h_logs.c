/* Execution of log queries ({selector} | pipeline) for the query endpoints:
 * the pipeline compiled (query/pipeline), selection through query/select
 * with Loki's limit and interval semantics, and Loki's streams response —
 * categorized when the client sends X-Loki-Response-Encoding-Flags:
 * categorize-labels (not on the legacy endpoint). */
#include <stdlib.h>
#include <string.h>

#include "api/qlimits.h"
#include "api/query_exec.h"
#include "api/resp.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/logql/parser.h"
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

/* A failed selection: the memory limits answer as Loki answers its query
 * limits (400) and its full queue (429), query_timeout as Loki's 504. */
static void reply_failure(api_resp *rs, int rc, const lk_buf *err)
{
    const char *msg = err->p ? err->p : lk_strerror(rc);
    if (rc == LK_ELIMIT)
        api_reply_error(rs, 400, "%s", msg);
    else if (rc == LK_ERATE)
        api_reply_error(rs, 429, "%s", msg);
    else if (rc == LK_ERANGE)
        api_reply_error(rs, 504, "%s", API_TIMEOUT_MESSAGE);
    else
        api_reply_error(rs, 500, "query failed: %s", msg);
}

/* A multi-tenant query ("a|b") selects streams with its matchers but those
 * on __tenant_id__ (which choose the tenants); Loki re-parses that selector
 * and refuses it, as a 400, when no matcher is left that rejects the empty
 * value. false when answered. */
static bool tenant_selector_ok(const api_req *rq, api_resp *rs, const logql_log_selector *sel)
{
    if (!memchr(rq->tenant.p, '|', rq->tenant.len))
        return true;
    lk_matcher *left = lk_malloc((sel->n_matchers + 1) * sizeof(*left));
    size_t n = 0;
    for (size_t i = 0; i < sel->n_matchers; i++)
        if (!lk_str_eq_c((lk_str){ sel->matchers[i].name, sel->matchers[i].name_len },
                         "__tenant_id__"))
            left[n++] = sel->matchers[i];
    lk_buf err = { 0 };
    int rc = logql_validate_matchers(left, n, &err);
    if (rc != LK_OK)
        api_reply_error(rs, 400, "log selector is invalid after matcher update: %s", err.p);
    lk_buf_free(&err);
    free(left);
    return rc == LK_OK;
}

/* Selects and answers, the answer charged to mem once written. */
static int select_and_write(api_req *rq, api_resp *rs, const api_log_query *q,
                            const logql_select *s, lk_buf *err)
{
    int64_t t0 = lk_now_ns();
    logql_streams res;
    int rc = logql_select_logs(rq->st->ingester, s, &res, err);
    if (rc != LK_OK)
        return rc;
    if (q->legacy)
        api_write_legacy_streams_response(&rs->body, &res, lk_now_ns() - t0);
    else
        api_write_streams_response(&rs->body, &res, lk_now_ns() - t0);
    logql_streams_free(&res);
    rc = qm_charge(s->mem, (int64_t)rs->body.len);
    if (rc != LK_OK) {
        lk_buf_free(&rs->body);
        qm_error(s->mem, rc, err);
    }
    return rc;
}

void api_exec_log_query(api_req *rq, api_resp *rs, const logql_expr *e, const api_log_query *q)
{
    const logql_log_selector *sel = &e->u.log;
    int max = api_max_entries(rq);
    if (max > 0 && q->limit > max) {
        api_reply_error(rs, 400,
                        "max entries limit per query exceeded, limit > max_entries_limit (%d > %d)",
                        q->limit, max);
        return;
    }
    if (!tenant_selector_ok(rq, rs, sel))
        return;
    lk_buf err = { 0 };
    qm_query mem;
    int rc = qm_begin(rq->st->qmem, rq->st->cfg->max_memory_per_query, &mem);
    if (rc != LK_OK) {
        qm_error(&mem, rc, &err);
        reply_failure(rs, rc, &err);
        lk_buf_free(&err);
        return;
    }
    lp_pipeline *p = NULL;
    if (lp_compile(sel->stages, sel->n_stages, &p, &err) != LK_OK) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "invalid pipeline");
        qm_end(&mem);
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
        .mem = &mem,
        .deadline_ns = api_query_timeout(rq) > 0 ? lk_now_ns() + api_query_timeout(rq) : 0,
    };
    rc = select_and_write(rq, rs, q, &s, &err);
    if (rc != LK_OK)
        reply_failure(rs, rc, &err);
    else
        api_reply_json(rs, 200);
    qm_end(&mem);
    lp_free(p);
    lk_buf_free(&err);
}
