/* Execution of metric queries for the query endpoints: query/metric
 * evaluates, this file answers in Loki's shapes (pkg/util/marshal):
 *   range query:  resultType "matrix", [{"metric":{...},"values":[[<sec>,"<v>"],...]}]
 *   instant:      "vector", [{"metric":{...},"value":[<sec>,"<v>"]}], or
 *                 "scalar", [<sec>,"<v>"]
 * Times are model.Time.String() (seconds, up to 3 decimals), values Go's
 * strconv.FormatFloat(v, 'f', -1, 64) ("NaN", "+Inf", "-Inf"). A query that
 * could not read everything answers with Loki 3's "warnings" beside "status". */

#include "api/qlimits.h"
#include "api/query_exec.h"
#include "api/resp.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/gofloat.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "query/metric/metric.h"

/* [<sec>,"<value>"] for the step at ns */
static void write_point(jw *w, lk_buf *tmp, int64_t ns, double v)
{
    jw_arr_open(w);
    api_write_sample_time(w, tmp, ns);
    lk_buf_reset(tmp);
    lk_gofloat_append(tmp, v, 'f', -1);
    jw_str(w, lk_buf_str(tmp));
    jw_arr_close(w);
}

/* The answer being written, charged to the query's memory as it grows. */
typedef struct body_meter {
    qm_query *mem;
    const lk_buf *body;
    size_t charged;
    int rc;
} body_meter;

/* Series written between charges. */
#define SERIES_PER_CHARGE 256

static int meter(body_meter *m)
{
    if (!m->rc && m->body->len > m->charged) {
        m->rc = qm_charge(m->mem, (int64_t)(m->body->len - m->charged));
        m->charged = m->body->len;
    }
    return m->rc;
}

static int64_t step_time(const lm_result *r, size_t i)
{
    return r->start + (int64_t)i * r->step;
}

/* The result array; returns the number of points written (stops when the
 * meter fails). */
static int64_t write_result(jw *w, const lm_result *r, bool instant, lk_buf *tmp,
                            body_meter *bm)
{
    int64_t points = 0;
    if (r->scalar && instant) {
        write_point(w, tmp, r->start, r->scalar_v[0]);
        return 1;
    }
    jw_arr_open(w);
    if (r->scalar) {
        jw_obj_open(w);
        jw_key(w, "metric");
        jw_obj_open(w);
        jw_obj_close(w);
        jw_key(w, "values");
        jw_arr_open(w);
        for (size_t i = 0; i < r->n_steps; i++, points++)
            write_point(w, tmp, step_time(r, i), r->scalar_v[i]);
        jw_arr_close(w);
        jw_obj_close(w);
    }
    for (size_t s = 0; s < r->n_series; s++) {
        if (s % SERIES_PER_CHARGE == SERIES_PER_CHARGE - 1 && meter(bm))
            return points;
        const lm_series *se = &r->series[s];
        jw_obj_open(w);
        jw_key(w, "metric");
        api_write_labels(w, &se->labels);
        if (instant) {
            jw_key(w, "value");
            write_point(w, tmp, r->start, se->v[0]);
            points++;
        } else {
            jw_key(w, "values");
            jw_arr_open(w);
            for (size_t i = 0; i < r->n_steps; i++) {
                if (!se->present[i])
                    continue;
                write_point(w, tmp, step_time(r, i), se->v[i]);
                points++;
            }
            jw_arr_close(w);
        }
        jw_obj_close(w);
    }
    jw_arr_close(w);
    return points;
}

/* LK_OK, or the error of a charge (the body is then incomplete). */
static int write_response(lk_buf *out, const lm_result *r, bool instant, int64_t exec_ns,
                          qm_query *mem)
{
    body_meter bm = { .mem = mem, .body = out };
    jw w;
    lk_buf tmp = { 0 };
    jw_init(&w, out);
    jw_obj_open(&w);
    jw_key(&w, "status");
    jw_cstr(&w, "success");
    api_write_warnings(&w, &r->stats);
    jw_key(&w, "data");
    jw_obj_open(&w);
    jw_key(&w, "resultType");
    jw_cstr(&w, !instant ? "matrix" : r->scalar ? "scalar" : "vector");
    jw_key(&w, "result");
    int64_t points = write_result(&w, r, instant, &tmp, &bm);
    api_query_stats qs = { .store = &r->stats, .exec_ns = exec_ns, .entries_returned = points,
                           .post_filter_lines = r->lines_read };
    api_write_stats(&w, &qs);
    jw_obj_close(&w);
    jw_obj_close(&w);
    lk_buf_free(&tmp);
    return meter(&bm);
}

static void reply_failure(api_resp *rs, int rc, const lk_buf *err)
{
    const char *msg = err->len ? err->p : lk_strerror(rc);
    switch (rc) {
    case LK_EINVAL:
    case LK_EPARSE:
    case LK_ELIMIT:
        api_reply_error(rs, 400, "%s", msg);
        break;
    case LK_ERANGE:
        api_reply_error(rs, 504, "%s", API_TIMEOUT_MESSAGE);
        break;
    case LK_ERATE:
        api_reply_error(rs, 429, "%s", msg);
        break;
    default:
        api_reply_error(rs, 500, "query failed: %s", msg);
        break;
    }
}

void api_exec_metric_query(api_req *rq, api_resp *rs, const logql_expr *e,
                           const api_metric_query *q)
{
    const lk_config *cfg = api_limits(rq->st, rq->tenant);
    int64_t t0 = lk_now_ns();
    lk_buf err = { 0 };
    qm_query mem;
    int rc = qm_begin(rq->st->qmem, cfg->max_memory_per_query, &mem);
    if (rc != LK_OK) {
        qm_error(&mem, rc, &err);
        reply_failure(rs, rc, &err);
        lk_buf_free(&err);
        return;
    }
    lm_query lq = {
        .g = rq->st->ingester,
        .tenant = rq->tenant,
        .expr = e,
        .start = q->start,
        .end = q->instant ? q->start : q->end,
        .step = q->step_ns,
        .max_series = api_max_query_series(rq),
        .deadline_ns = api_query_timeout(rq) > 0 ? t0 + api_query_timeout(rq) : 0,
        .threads = 0,
        .instant = q->instant,
        .mem = &mem,
    };
    lm_result res = { 0 };
    rc = lm_eval(&lq, &res, &err);
    if (rc == LK_OK) {
        rc = write_response(&rs->body, &res, q->instant, lk_now_ns() - t0, &mem);
        lm_result_free(&res);
        if (rc != LK_OK) {
            lk_buf_free(&rs->body); /* what was written goes now, not after the answer */
            qm_error(&mem, rc, &err);
        }
    }
    if (rc != LK_OK)
        reply_failure(rs, rc, &err);
    else
        api_reply_json(rs, 200);
    qm_end(&mem);
    lk_buf_free(&err);
}
