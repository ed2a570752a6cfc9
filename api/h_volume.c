/* GET/POST /loki/api/v1/index/volume and /index/volume_range: the bytes
 * the streams a selector picks hold over [start, end], aggregated as Loki
 * does (query/volume.h) and answered as Loki's query endpoints answer:
 *   volume:        resultType "vector", [{"metric":{...},"value":[<end>,"<bytes>"]}]
 *   volume_range:  "matrix", one point per step bucket at the bucket's end
 * Parameters: query (a selector, required), start, end, step (range),
 * limit (100), targetLabels (comma separated), aggregateBy (series|labels).
 * Off (404) when limits_config.volume_enabled is false. */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/params.h"
#include "api/resp.h"
#include "api/selector.h"
#include "api/state.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/jsonw.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/volume.h"
#include "storage/ingester.h"
#include "storage/stream.h"

#define MAX_TARGETS 64

/* The time buckets of a volume query, as Loki's frontend splits a
 * volume_range request: aligned to step, the first starting at start, each
 * ending 1ms before the next, the last at end. One bucket for volume.
 * Loki counts a range bucket's bytes up to its end truncated to the second
 * (a bucket ending at 599.999s counts chunks' shares up to 599s), while the
 * point carries the bucket's end. */
typedef struct buckets {
    int64_t *from, *through;
    int64_t *counted;          /* through as the bytes are counted (below) */
    size_t n;
} buckets;

static void buckets_make(buckets *b, int64_t start, int64_t end, int64_t step)
{
    memset(b, 0, sizeof(*b));
    if (step <= 0) {
        b->from = lk_malloc(sizeof(int64_t));
        b->through = lk_malloc(sizeof(int64_t));
        b->counted = lk_malloc(sizeof(int64_t));
        b->from[0] = start;
        b->through[0] = b->counted[0] = end;
        b->n = 1;
        return;
    }
    int64_t first = start - start % step;
    size_t n = 0;
    for (int64_t t = first; t < end; t += step)
        n++;
    b->from = lk_malloc((n ? n : 1) * sizeof(int64_t));
    b->through = lk_malloc((n ? n : 1) * sizeof(int64_t));
    b->counted = lk_malloc((n ? n : 1) * sizeof(int64_t));
    for (int64_t t = first; t < end; t += step) {
        int64_t to = t + step;
        b->from[b->n] = b->n == 0 ? start : t;
        b->through[b->n] = to >= end ? end : to - LK_NS_PER_MS;
        b->counted[b->n] = b->through[b->n] - b->through[b->n] % LK_NS_PER_SEC;
        b->n++;
    }
}

static void buckets_free(buckets *b)
{
    free(b->from);
    free(b->through);
    free(b->counted);
}

typedef struct vol_params {
    api_range r;
    int64_t step;              /* 0: volume (instant) */
    api_matchers m;
    lk_str targets[MAX_TARGETS];
    size_t n_targets;
    bool by_labels;
    int limit;
} vol_params;

static int parse_targets(lk_str s, vol_params *p, lk_buf *err)
{
    while (s.len) {
        const char *comma = memchr(s.p, ',', s.len);
        size_t n = comma ? (size_t)(comma - s.p) : s.len;
        lk_str t = lk_str_trim(lk_str_n(s.p, n));
        if (t.len) {
            if (p->n_targets == MAX_TARGETS) {
                lk_buf_printf(err, "too many targetLabels (at most %d)", MAX_TARGETS);
                return LK_EINVAL;
            }
            p->targets[p->n_targets++] = t;
        }
        s = comma ? lk_str_n(comma + 1, s.len - n - 1) : LK_STR("");
    }
    return 0;
}

static int parse_params(api_req *rq, bool range, vol_params *p, lk_buf *err)
{
    lk_str q = LK_STR(""), agg = LK_STR(""), targets = LK_STR("");
    if (!api_param_get(rq, "query", &q) || !q.len) {
        lk_buf_puts(err, "query is required");
        return LK_EINVAL;
    }
    int rc = api_parse_bounds(rq, lk_now_ns(), &p->r, err);
    if (rc == 0 && range)
        rc = api_parse_step(rq, &p->r, &p->step, err);
    if (rc == 0)
        rc = api_parse_limit(rq, &p->limit, err);
    if (rc != 0)
        return rc;
    api_param_get(rq, "aggregateBy", &agg);
    if (agg.len && !lk_str_eq_c(agg, "series") && !lk_str_eq_c(agg, "labels")) {
        lk_buf_printf(err, "invalid aggregation option: %.*s", LK_STR_FMT(agg));
        return LK_EINVAL;
    }
    p->by_labels = lk_str_eq_c(agg, "labels");
    api_param_get(rq, "targetLabels", &targets);
    rc = parse_targets(targets, p, err);
    if (rc == 0)
        rc = api_parse_selector(q, true, &p->m, err); /* `{}`: every stream */
    return rc;
}

/* Every selected stream's bytes per bucket, into the accumulator. */
static int aggregate(api_req *rq, const vol_params *p, const buckets *b, vol_acc *acc)
{
    st_view **v;
    size_t n;
    int rc = ing_select(rq->st->ingester, rq->tenant, p->m.v, p->m.n, p->r.start, p->r.end, true,
                        &v, &n);
    if (rc != 0)
        return rc;
    uint64_t *bytes = lk_malloc(b->n * sizeof(*bytes));
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!vol_stream_wanted(&acc->spec, st_view_labels(v[i])))
            continue;
        for (size_t k = 0; k < b->n; k++)
            bytes[k] = ing_view_bytes(v[i], b->from[k], b->counted[k]);
        rc = vol_acc_add(acc, st_view_labels(v[i]), bytes);
    }
    free(bytes);
    st_views_free(v, n);
    return rc;
}

static void write_metric(jw *w, const lk_labels *l)
{
    jw_key(w, "metric");
    jw_obj_open(w);
    for (size_t i = 0; i < l->n; i++) {
        jw_key_str(w, l->v[i].name);
        jw_str(w, l->v[i].value);
    }
    jw_obj_close(w);
}

/* [<sec>,"<bytes>"] */
static void write_point(jw *w, lk_buf *tmp, int64_t ns, uint64_t bytes)
{
    jw_arr_open(w);
    api_write_sample_time(w, tmp, ns);
    lk_buf_reset(tmp);
    lk_buf_put_u64(tmp, bytes);
    jw_str(w, lk_buf_str(tmp));
    jw_arr_close(w);
}

static bool any_kept(const vol_series *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s->kept[k])
            return true;
    return false;
}

static void write_result(jw *w, const vol_acc *acc, const buckets *b, bool range)
{
    lk_buf tmp = { 0 };
    jw_obj_open(w);
    jw_key(w, "status");
    jw_cstr(w, "success");
    jw_key(w, "data");
    jw_obj_open(w);
    jw_key(w, "resultType");
    jw_cstr(w, range ? "matrix" : "vector");
    jw_key(w, "result");
    jw_arr_open(w);
    for (size_t i = 0; i < acc->n; i++) {
        const vol_series *s = &acc->v[i];
        if (!any_kept(s, b->n))
            continue;
        jw_obj_open(w);
        write_metric(w, &s->metric);
        jw_key(w, range ? "values" : "value");
        if (range)
            jw_arr_open(w);
        for (size_t k = 0; k < b->n; k++)
            if (s->kept[k])
                write_point(w, &tmp, b->through[k], s->bytes[k]);
        if (range)
            jw_arr_close(w);
        jw_obj_close(w);
    }
    jw_arr_close(w);
    jw_obj_close(w);
    jw_obj_close(w);
    lk_buf_free(&tmp);
}

static void volume(api_req *rq, api_resp *rs, bool range)
{
    vol_params p = { 0 };
    lk_buf err = { 0 };
    buckets b = { 0 };
    vol_acc acc = { 0 };
    const lk_config *cfg = api_limits(rq->st, rq->tenant);
    if (!cfg->volume_enabled) {
        api_reply_error(rs, 404, "not found");
        goto out;
    }
    if (parse_params(rq, range, &p, &err) != 0) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "bad request");
        goto out;
    }
    buckets_make(&b, p.r.start, p.r.end, p.step);
    vol_spec spec = { .targets = p.targets, .n_targets = p.n_targets, .ms = p.m.v, .nm = p.m.n,
                      .by_labels = p.by_labels, .limit = (size_t)p.limit,
                      .max_series = (size_t)cfg->volume_max_series };
    vol_acc_init(&acc, &spec, b.n);
    int rc = aggregate(rq, &p, &b, &acc);
    if (rc == LK_ELIMIT) {
        api_reply_error(rs, 400, "the query hit the max number of series limit (limit: %d series)",
                        cfg->volume_max_series);
        goto out;
    }
    if (rc != 0) {
        api_reply_error(rs, 500, "reading the index: %s", lk_strerror(rc));
        goto out;
    }
    vol_acc_finish(&acc);
    jw w;
    jw_init(&w, &rs->body);
    write_result(&w, &acc, &b, range);
    api_reply_json(rs, 200);
out:
    vol_acc_free(&acc);
    buckets_free(&b);
    api_matchers_free(&p.m);
    lk_buf_free(&err);
}

void api_h_volume(api_req *rq, api_resp *rs)
{
    volume(rq, rs, false);
}

void api_h_volume_range(api_req *rq, api_resp *rs)
{
    volume(rq, rs, true);
}
