/* Log deletion: /loki/api/v1/delete (POST or PUT adds a request, GET lists
 * the tenant's, DELETE cancels one) and /loki/api/v1/cache/generation_numbers,
 * answered as Loki 3.6's compactor answers (pkg/compactor/deletion): the
 * routes exist only with compactor.retention_enabled (else Go's 404), a
 * tenant whose limits_config.deletion_mode is disabled gets 403, and the
 * 400 texts are Loki's. The requests themselves live in the ingester
 * (storage/delete.h). */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/routes.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/gofloat.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "query/delfilter.h"
#include "storage/delete.h"

/* Loki's deletionNotAvailableMsg. */
#define NOT_AVAILABLE "deletion is not available for this tenant"

static bool available(api_req *rq, api_resp *rs)
{
    const lk_config *cfg = api_limits(rq->st, rq->tenant); /* deletion_mode is per tenant */
    if (!cfg->retention_enabled) {
        api_reply_text(rs, 404, "404 page not found\n");
        return false;
    }
    if (!cfg->deletion_mode || strcmp(cfg->deletion_mode, "disabled") == 0) {
        api_reply_error(rs, 403, NOT_AVAILABLE);
        return false;
    }
    return true;
}

/* Loki's parseTime: RFC3339, else exactly 10 characters of Unix seconds;
 * empty is now. Unix ms into *ms. */
static bool parse_time_ms(lk_str v, int64_t *ms)
{
    if (v.len == 0) {
        *ms = lk_now_ns() / LK_NS_PER_MS;
        return true;
    }
    int64_t ns;
    if (lk_parse_rfc3339(v, &ns) == 0) {
        *ms = ns / LK_NS_PER_MS - (ns % LK_NS_PER_MS < 0);
        return true;
    }
    if (v.len != 10)
        return false;
    char buf[11], *end;
    memcpy(buf, v.p, 10);
    buf[10] = 0;
    double s = strtod(buf, &end);
    if (*end || s != s)
        return false;
    *ms = (int64_t)(s * 1000.0);
    return true;
}

/* Loki's interval(): only for a query with line filters. */
static bool check_interval(api_req *rq, int64_t start_ms, int64_t end_ms, lk_buf *err)
{
    int64_t span = (end_ms - start_ms) * LK_NS_PER_MS, max = rq->st->cfg->delete_max_interval_ns;
    lk_str v;
    if (!api_param_get(rq, "max_interval", &v) || v.len == 0) {
        if (span < LK_NS_PER_SEC) {
            lk_buf_puts(err, "difference between start time and end time must be at least one "
                             "second");
            return false;
        }
        return true;
    }
    int64_t iv;
    if (lk_parse_go_duration(v, &iv) != 0 || iv < LK_NS_PER_SEC) {
        lk_buf_puts(err, "invalid max_interval: valid time units are 's', 'm', 'h'");
        return false;
    }
    if (max != 0 && iv > max) {
        lk_buf_puts(err, "max_interval can't be greater than ");
        lk_format_go_duration(max, err);
        return false;
    }
    if (iv > span) {
        lk_buf_puts(err, "max_interval can't be greater than the interval to be deleted (");
        lk_format_go_duration(span, err);
        lk_buf_putc(err, ')');
        return false;
    }
    return true;
}

/* Loki's checks in its order: query, start, end, max_interval. */
static bool add_params(api_req *rq, lk_str *query, int64_t *start_ms, int64_t *end_ms,
                       lk_buf *err)
{
    lk_str v = { 0 };
    if (!api_param_get(rq, "query", query) || query->len == 0) {
        lk_buf_puts(err, "query not set");
        return false;
    }
    void *c = NULL;
    if (logql_delete_filter.compile(*query, &c, err) != 0)
        return false;
    bool has_filter = logql_delete_has_pipeline(c);
    logql_delete_filter.free(c);
    if (!api_param_get(rq, "start", &v) || v.len == 0) {
        lk_buf_puts(err, "start time not set");
        return false;
    }
    if (!parse_time_ms(v, start_ms)) {
        lk_buf_puts(err, "invalid start time: require unix seconds or RFC3339 format");
        return false;
    }
    v = (lk_str){ 0 };
    api_param_get(rq, "end", &v);
    if (!parse_time_ms(v, end_ms)) {
        lk_buf_puts(err, "invalid end time: require unix seconds or RFC3339 format");
        return false;
    }
    if (*end_ms > lk_now_ns() / LK_NS_PER_MS) {
        lk_buf_puts(err, "deletes in the future are not allowed");
        return false;
    }
    if (*start_ms > *end_ms) {
        lk_buf_puts(err, "start time can't be greater than end time");
        return false;
    }
    return !has_filter || check_interval(rq, *start_ms, *end_ms, err);
}

static void add(api_req *rq, api_resp *rs)
{
    lk_buf err = { 0 };
    lk_str query;
    int64_t start_ms = 0, end_ms = 0;
    if (!add_params(rq, &query, &start_ms, &end_ms, &err)) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "bad request");
    } else if (ing_delete_add(rq->st->ingester, rq->tenant, query, start_ms, end_ms, NULL,
                              &err) != 0) {
        api_reply_error(rs, 500, "%s", err.p ? err.p : "adding the delete request failed");
    } else {
        rs->status = 204;
    }
    lk_buf_free(&err);
}

/* model.Time's JSON: seconds with up to 3 decimals, as a number. */
static void write_time(jw *w, lk_buf *scratch, int64_t ms)
{
    lk_buf_reset(scratch);
    lk_gofloat_append(scratch, (double)ms / 1000.0, 'f', -1);
    jw_raw(w, scratch->p, scratch->len);
}

static void list(api_req *rq, api_resp *rs)
{
    const del_set *s = ing_deletes(rq->st->ingester, rq->tenant);
    size_t n = 0;
    const del_req *v = s ? del_set_reqs(s, &n) : NULL;
    lk_buf tmp = { 0 };
    jw w;
    jw_init(&w, &rs->body);
    jw_arr_open(&w);
    for (size_t i = 0; i < n; i++) { /* the set is sorted by creation */
        jw_obj_open(&w);
        jw_key(&w, "request_id");
        jw_cstr(&w, v[i].id);
        jw_key(&w, "start_time");
        write_time(&w, &tmp, v[i].start_ms);
        jw_key(&w, "end_time");
        write_time(&w, &tmp, v[i].end_ms);
        jw_key(&w, "query");
        jw_str(&w, v[i].query);
        jw_key(&w, "status");
        jw_cstr(&w, v[i].processed ? "processed" : "received");
        jw_key(&w, "created_at");
        write_time(&w, &tmp, v[i].created_ms);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    lk_buf_putc(&rs->body, '\n'); /* json.Encoder's */
    rs->status = 200;
    rs->content_type = "application/json";
    lk_buf_free(&tmp);
    del_set_release(s);
}

static void cancel(api_req *rq, api_resp *rs)
{
    lk_str id = { 0 };
    api_param_get(rq, "request_id", &id);
    lk_buf err = { 0 };
    int rc = ing_delete_cancel(rq->st->ingester, rq->tenant, id, &err);
    if (rc == LK_ENOTFOUND)
        api_reply_error(rs, 404, "could not find delete request with given id");
    else if (rc == LK_EINVAL)
        api_reply_error(rs, 400, "deletion of request which is in process or already "
                                 "processed is not allowed");
    else if (rc != 0)
        api_reply_error(rs, 500, "%s", err.p ? err.p : "cancelling the delete request failed");
    else
        rs->status = 204;
    lk_buf_free(&err);
}

void api_h_delete(api_req *rq, api_resp *rs)
{
    if (!available(rq, rs))
        return;
    int m = api_method_bit(rq->method);
    if (m == API_POST || m == API_PUT)
        add(rq, rs);
    else if (m == API_DELETE)
        cancel(rq, rs);
    else
        list(rq, rs);
}
