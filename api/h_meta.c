/* Metadata endpoints: label names, label values and series. They answer
 * from the streams whose chunks overlap [start, end] (Loki's store
 * semantics; Loki's ingester ignores the range, lokic does not). Names
 * and values without a `query` selector come from the label indexes
 * (ing_label_strs), not from a view of every stream. */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/params.h"
#include "api/qlimits.h"
#include "api/resp.h"
#include "api/selector.h"
#include "api/state.h"
#include "lib/err.h"
#include "lib/jsonw.h"
#include "lib/mem.h"
#include "lib/timeutil.h"

typedef struct strset {
    lk_str *v;
    size_t n, cap;
} strset;

static void strset_add(strset *s, lk_str x)
{
    s->v = lk_grow(s->v, &s->cap, s->n + 1, sizeof *s->v);
    s->v[s->n++] = x;
}

static int cmp_str(const void *a, const void *b)
{
    return lk_str_cmp(*(const lk_str *)a, *(const lk_str *)b);
}

static void strset_sort_unique(strset *s)
{
    if (!s->n)
        return;
    qsort(s->v, s->n, sizeof *s->v, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < s->n; i++)
        if (!lk_str_eq(s->v[i], s->v[k - 1]))
            s->v[k++] = s->v[i];
    s->n = k;
}

/* Bounds and optional `query` selector shared by labels and label values. */
typedef struct meta_req {
    api_range r;
    api_matchers m;
    st_view **views;
    size_t n_views;
} meta_req;

/* Whether ing_label_strs can answer names and values without a selector:
 * a multi-tenant read ("a|b") needs each tenant's streams relabelled with
 * __tenant_id__, which only the selection does (storage/ingmulti.c). */
static bool label_index_answers(const api_req *rq, const meta_req *mr)
{
    return !mr->m.n && !memchr(rq->tenant.p, '|', rq->tenant.len);
}

/* Parses the bounds and the selector; then, unless names_only and
 * label_index_answers, selects the streams. */
static bool meta_select(api_req *rq, api_resp *rs, meta_req *mr, bool names_only)
{
    lk_buf err = { 0 };
    bool ok = false;
    if (api_parse_bounds(rq, lk_now_ns(), &mr->r, &err) != LK_OK ||
        api_check_query_length(rq, mr->r.start, mr->r.end, &err) != LK_OK)
        goto bad;
    lk_str q;
    if (api_param_get(rq, "query", &q) && lk_str_trim(q).len &&
        api_parse_selector(q, false, &mr->m, &err) != LK_OK)
        goto bad;
    ok = true;
    if (names_only && label_index_answers(rq, mr))
        goto out;
    int rc = ing_select(rq->st->ingester, rq->tenant, mr->m.v, mr->m.n, mr->r.start, mr->r.end,
                        false, &mr->views, &mr->n_views);
    if (rc) {
        api_reply_error(rs, 500, "selecting streams: %s", lk_strerror(rc));
        ok = false;
    }
    goto out;
bad:
    api_reply_error(rs, 400, "%s", err.p ? err.p : "bad request");
out:
    lk_buf_free(&err);
    return ok;
}

static void meta_free(meta_req *mr)
{
    st_views_free(mr->views, mr->n_views);
    api_matchers_free(&mr->m);
}

/* {"status":"success","data":[...]}; data omitted when empty (omitempty). */
static void reply_values(api_resp *rs, const strset *s, bool legacy)
{
    jw w;
    jw_init(&w, &rs->body);
    jw_obj_open(&w);
    if (legacy) {
        jw_key(&w, "values");
        jw_arr_open(&w);
    } else {
        jw_key(&w, "status");
        jw_cstr(&w, "success");
        if (s->n) {
            jw_key(&w, "data");
            jw_arr_open(&w);
        }
    }
    for (size_t i = 0; i < s->n; i++)
        jw_str(&w, s->v[i]);
    if (legacy || s->n)
        jw_arr_close(&w);
    jw_obj_close(&w);
    api_reply_json(rs, 200);
}

/* The label names (name NULL) or values of label *name: without a
 * selector from ing_label_strs (no view per stream), with one from the
 * selected streams' labels. */
static void label_strs(api_req *rq, api_resp *rs, const lk_str *name, bool legacy)
{
    meta_req mr = { 0 };
    if (!meta_select(rq, rs, &mr, true))
        return;
    ing_strs fast = { 0 };
    strset s = { 0 };
    if (label_index_answers(rq, &mr)) {
        ing_label_strs(rq->st->ingester, rq->tenant, name, mr.r.start, mr.r.end, NULL, &fast);
        s = (strset){ .v = fast.v, .n = fast.n, .cap = fast.cap };
        fast.v = NULL;
    }
    for (size_t i = 0; i < mr.n_views; i++) {
        const lk_labels *l = st_view_labels(mr.views[i]);
        const lk_str *v = name ? labels_get(l, *name) : NULL;
        if (v)
            strset_add(&s, *v);
        for (size_t j = 0; !name && j < l->n; j++)
            strset_add(&s, l->v[j].name);
    }
    strset_sort_unique(&s);
    reply_values(rs, &s, legacy);
    free(s.v);
    ing_strs_free(&fast);
    meta_free(&mr);
}

static void labels(api_req *rq, api_resp *rs, bool legacy)
{
    label_strs(rq, rs, NULL, legacy);
}

static void label_values(api_req *rq, api_resp *rs, bool legacy)
{
    label_strs(rq, rs, &rq->path_arg, legacy);
}

void api_h_labels(api_req *rq, api_resp *rs) { labels(rq, rs, false); }
void api_h_labels_legacy(api_req *rq, api_resp *rs) { labels(rq, rs, true); }
void api_h_label_values(api_req *rq, api_resp *rs) { label_values(rq, rs, false); }
void api_h_label_values_legacy(api_req *rq, api_resp *rs) { label_values(rq, rs, true); }

static int cmp_view(const void *a, const void *b)
{
    return lk_str_cmp(st_view_canonical(*(st_view *const *)a),
                      st_view_canonical(*(st_view *const *)b));
}

/* Selects the streams of one match[] selector into *all. */
static bool series_add(api_req *rq, api_resp *rs, lk_str sel, const api_range *r,
                       st_view ***all, size_t *n_all, size_t *cap)
{
    api_matchers m = { 0 };
    lk_buf err = { 0 };
    if (api_parse_selector(sel, true, &m, &err) != LK_OK) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "bad selector");
        lk_buf_free(&err);
        return false;
    }
    st_view **v = NULL;
    size_t n = 0;
    int rc = ing_select(rq->st->ingester, rq->tenant, m.v, m.n, r->start, r->end, false, &v, &n);
    api_matchers_free(&m);
    if (rc) {
        api_reply_error(rs, 500, "selecting streams: %s", lk_strerror(rc));
        return false;
    }
    *all = lk_grow(*all, cap, *n_all + n, sizeof **all);
    for (size_t i = 0; i < n; i++)
        (*all)[(*n_all)++] = v[i];
    free(v); /* the views moved to *all */
    return true;
}

void api_h_series(api_req *rq, api_resp *rs)
{
    api_range r;
    lk_buf err = { 0 };
    if (api_parse_bounds(rq, lk_now_ns(), &r, &err) != LK_OK ||
        api_check_query_length(rq, r.start, r.end, &err) != LK_OK) {
        api_reply_error(rs, 400, "%s", err.p);
        lk_buf_free(&err);
        return;
    }
    st_view **all = NULL;
    size_t n = 0, cap = 0;
    bool any = false, ok = true;
    for (size_t i = 0; ok && i < rq->n_params; i++) {
        api_param *p = &rq->params[i];
        if (!lk_str_eq_c(p->name, "match[]") && !lk_str_eq_c(p->name, "match"))
            continue;
        any = true;
        ok = series_add(rq, rs, p->value, &r, &all, &n, &cap);
    }
    if (ok && !any)
        ok = series_add(rq, rs, LK_STR("{}"), &r, &all, &n, &cap);
    if (ok) {
        if (n > 1)
            qsort(all, n, sizeof *all, cmp_view);
        jw w;
        jw_init(&w, &rs->body);
        jw_obj_open(&w);
        jw_key(&w, "status");
        jw_cstr(&w, "success");
        jw_key(&w, "data");
        jw_arr_open(&w);
        for (size_t i = 0; i < n; i++) {
            if (i && lk_str_eq(st_view_canonical(all[i]), st_view_canonical(all[i - 1])))
                continue; /* selected by two match[] */
            api_write_labels(&w, st_view_labels(all[i]));
        }
        jw_arr_close(&w);
        jw_obj_close(&w);
        api_reply_json(rs, 200);
    }
    st_views_free(all, n);
}
