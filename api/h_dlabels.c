/* GET /loki/api/v1/detected_labels: the stream labels of the streams a
 * selector picks over [start, end], with their number of distinct values,
 * as Loki 3's querier offers them to Logs Drilldown:
 *   {"detectedLabels":[{"label":"app","cardinality":2},...]}
 * (no status wrapper). A label whose values are all IDs (numbers, UUIDs)
 * is left out unless it is one of the static labels cluster, namespace,
 * instance and pod (query/detected.h). `query` is optional (all streams). */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/params.h"
#include "api/qlimits.h"
#include "api/selector.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/jsonw.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/detected.h"
#include "storage/ingester.h"

typedef struct label_values {
    char *name;
    dt_set values;
} label_values;

typedef struct label_map {
    label_values *v;
    size_t n, cap;
} label_map;

static dt_set *values_of(label_map *m, lk_str name)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = lk_str_cmp(lk_str_c(m->v[mid].name), name);
        if (c == 0)
            return &m->v[mid].values;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->v = lk_realloc(m->v, m->cap * sizeof(*m->v));
    }
    memmove(m->v + lo + 1, m->v + lo, (m->n - lo) * sizeof(*m->v));
    m->v[lo] = (label_values){ .name = lk_strndup(name.p, name.len) };
    m->n++;
    return &m->v[lo].values;
}

static void label_map_free(label_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].name);
        dt_set_free(&m->v[i].values);
    }
    free(m->v);
}

static bool is_static(const char *name)
{
    return strcmp(name, "cluster") == 0 || strcmp(name, "namespace") == 0 ||
           strcmp(name, "instance") == 0 || strcmp(name, "pod") == 0;
}

static int collect(api_req *rq, const api_matchers *m, const api_range *r, label_map *out)
{
    st_view **v;
    size_t n;
    int rc = ing_select(rq->st->ingester, rq->tenant, m->v, m->n, r->start, r->end, false, &v, &n);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const lk_labels *l = st_view_labels(v[i]);
        for (size_t k = 0; k < l->n; k++)
            dt_set_add(values_of(out, l->v[k].name), l->v[k].value);
    }
    st_views_free(v, n);
    return 0;
}

static void write_labels(jw *w, const label_map *m)
{
    jw_obj_open(w);
    jw_key(w, "detectedLabels");
    jw_arr_open(w);
    for (size_t i = 0; i < m->n; i++) {
        const label_values *lv = &m->v[i];
        bool keep = is_static(lv->name) ? lv->values.n > 0
                                        : !dt_label_rejected(lv->values.v, lv->values.n);
        if (!keep)
            continue;
        jw_obj_open(w);
        jw_key(w, "label");
        jw_cstr(w, lv->name);
        jw_key(w, "cardinality");
        jw_i64(w, (int64_t)lv->values.n);
        jw_obj_close(w);
    }
    jw_arr_close(w);
    jw_obj_close(w);
}

void api_h_detected_labels(api_req *rq, api_resp *rs)
{
    api_range r;
    api_matchers m = { 0 };
    lk_buf err = { 0 };
    label_map map = { 0 };
    lk_str q = LK_STR("");
    api_param_get(rq, "query", &q);
    if (api_parse_bounds(rq, lk_now_ns(), &r, &err) != 0 ||
        api_parse_selector(q.len ? q : LK_STR("{}"), true, &m, &err) != 0 ||
        api_check_query_length(rq, r.start, r.end, &err) != 0) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "bad request");
        goto out;
    }
    int rc = collect(rq, &m, &r, &map);
    if (rc != 0) {
        api_reply_error(rs, 500, "reading the index: %s", lk_strerror(rc));
        goto out;
    }
    jw w;
    jw_init(&w, &rs->body);
    write_labels(&w, &map);
    api_reply_json(rs, 200);
out:
    label_map_free(&map);
    api_matchers_free(&m);
    lk_buf_free(&err);
}
