/* GET/POST /loki/api/v1/index/stats: how much a stream selector would read
 * over [start, end] (Grafana's query-size hint): {"streams":N, "chunks":N,
 * "bytes":N, "entries":N}, without Loki's status wrapper. `query` is a log
 * selector (a pipeline is ignored); start and end as for query_range. */
#include "api/handlers.h"
#include "api/params.h"
#include "api/qlimits.h"
#include "api/resp.h"
#include "api/selector.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"

static void put_count(jw *w, const char *key, uint64_t v)
{
    jw_key(w, key);
    jw_i64(w, v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v);
}

void api_h_index_stats(api_req *rq, api_resp *rs)
{
    api_range r;
    api_matchers m = { 0 };
    lk_buf err = { 0 };
    lk_str q = LK_STR("");
    api_param_get(rq, "query", &q);
    if (api_parse_bounds(rq, lk_now_ns(), &r, &err) != LK_OK ||
        api_parse_selector(q, false, &m, &err) != LK_OK ||
        api_check_query_length(rq, r.start, r.end, &err) != LK_OK) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "bad request");
        goto out;
    }
    ing_index_stats st;
    int rc = ing_index_stats_get(rq->st->ingester, rq->tenant, m.v, m.n, r.start, r.end, &st);
    if (rc != LK_OK) {
        api_reply_error(rs, 500, "reading the index: %s", lk_strerror(rc));
        goto out;
    }
    jw w;
    jw_init(&w, &rs->body);
    jw_obj_open(&w);
    put_count(&w, "streams", st.streams);
    put_count(&w, "chunks", st.chunks);
    put_count(&w, "bytes", st.bytes);
    put_count(&w, "entries", st.entries);
    jw_obj_close(&w);
    api_reply_json(rs, 200);
out:
    api_matchers_free(&m);
    lk_buf_free(&err);
}
