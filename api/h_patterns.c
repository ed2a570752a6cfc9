/* GET/POST /loki/api/v1/patterns: the log patterns the pattern ingester
 * mined (query/pattern/store.h) for the streams of a selector, with their
 * line counts per step over [start, end]:
 *   {"status":"success","data":[{"pattern":"...","level":"info",
 *    "samples":[[<unix s>,<count>],...]},...]}
 * `query` is a stream selector; start, end and step as for query_range.
 * With pattern_ingester.enabled false Loki has no pattern querier and
 * answers 404. */
#include "api/handlers.h"
#include "api/params.h"
#include "api/resp.h"
#include "api/selector.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "query/pattern/store.h"

static void write_series(jw *w, const pat_series *s)
{
    jw_obj_open(w);
    jw_key(w, "pattern");
    jw_cstr(w, s->pattern);
    jw_key(w, "level");
    jw_cstr(w, s->level);
    jw_key(w, "samples");
    jw_arr_open(w);
    for (size_t i = 0; i < s->n; i++) {
        jw_arr_open(w);
        jw_i64(w, s->v[i].ts / 1000);
        jw_i64(w, s->v[i].v);
        jw_arr_close(w);
    }
    jw_arr_close(w);
    jw_obj_close(w);
}

void api_h_patterns(api_req *rq, api_resp *rs)
{
    api_range r;
    api_matchers m = { 0 };
    pat_result res = { 0 };
    lk_buf err = { 0 };
    int64_t step = 0;
    lk_str q = LK_STR("");
    if (!rq->st->patterns) {
        api_reply_error(rs, 404, "%s", "");
        goto out;
    }
    api_param_get(rq, "query", &q);
    if (api_parse_bounds(rq, lk_now_ns(), &r, &err) != LK_OK ||
        api_parse_selector(q, false, &m, &err) != LK_OK ||
        api_parse_step(rq, &r, &step, &err) != LK_OK) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "bad request");
        goto out;
    }
    int rc = pat_store_query(rq->st->patterns, rq->tenant, m.v, m.n, r.start, r.end, step, &res);
    if (rc != LK_OK) {
        api_reply_error(rs, 500, "querying patterns: %s", lk_strerror(rc));
        goto out;
    }
    jw w;
    jw_init(&w, &rs->body);
    jw_obj_open(&w);
    jw_key(&w, "status");
    jw_cstr(&w, "success");
    jw_key(&w, "data");
    jw_arr_open(&w);
    for (size_t i = 0; i < res.n; i++)
        write_series(&w, &res.s[i]);
    jw_arr_close(&w);
    jw_obj_close(&w);
    api_reply_json(rs, 200);
out:
    pat_result_free(&res);
    api_matchers_free(&m);
    lk_buf_free(&err);
}
