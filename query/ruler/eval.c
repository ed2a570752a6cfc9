/* Evaluation of one group (ruler_int.h), rule by rule in file order, as
 * Prometheus' Group.Eval: an instant LogQL query as the tenant at the
 * group's time (run without the ruler's lock) through lm_eval (the evaluation the /loki/api/v1/query
 * endpoint runs, with the same limits: max_query_series, query_timeout,
 * querier.max_memory_per_query), then
 *   recording rule: each series renamed to the record with the rule's
 *     labels set, queued for remote write;
 *   alerting rule:  each series' labels (less __name__) with the rule's
 *     labels expanded and alertname set, annotations expanded, handed to
 *     the alert state machine; ALERTS{alertstate} = 1 and
 *     ALERTS_FOR_STATE = active time (seconds) of every pending or firing
 *     alert queued for remote write, as Loki's ruler appends them; then the
 *     alerts that need sending go to the Alertmanagers.
 * A failed query or a result with duplicate label sets marks the rule
 * unhealthy (lastError) and counts a failure. */
#include "query/ruler/ruler_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/logql/parser.h"
#include "query/metric/metric.h"
#include "query/ruler/expand.h"

/* A growable set of label pairs borrowed from elsewhere. */
typedef struct pairs {
    lk_label *v;
    size_t n, cap;
} pairs;

static void pairs_set(pairs *p, lk_str name, lk_str value)
{
    for (size_t i = 0; i < p->n; i++)
        if (lk_str_eq(p->v[i].name, name)) {
            p->v[i].value = value;
            return;
        }
    p->v = lk_grow(p->v, &p->cap, p->n + 1, sizeof *p->v);
    p->v[p->n++] = (lk_label){ name, value };
}

static void pairs_from(pairs *p, const lk_labels *l)
{
    p->n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!lk_str_eq_c(l->v[i].name, "__name__"))
            pairs_set(p, l->v[i].name, l->v[i].value);
}

static int run_query(rul_ruler *r, const char *tenant, const logql_expr *e, int64_t ts,
                     lm_result *res, lk_buf *err)
{
    const lk_config *cfg = r->overrides ? lk_limits_for(r->overrides, lk_str_c(tenant)) : r->cfg;
    qm_query mem;
    int rc = qm_begin(r->qmem, cfg->max_memory_per_query, &mem);
    if (rc != LK_OK) {
        qm_error(&mem, rc, err);
        return rc;
    }
    lm_query q = {
        .g = r->g,
        .tenant = lk_str_c(tenant),
        .expr = e,
        .start = ts,
        .end = ts,
        .max_series = cfg->max_query_series,
        .deadline_ns = cfg->query_timeout_ns > 0 ? lk_now_ns() + cfg->query_timeout_ns : 0,
        .instant = true,
        .mem = &mem,
    };
    rc = lm_eval(&q, res, err);
    qm_end(&mem);
    return rc;
}

/* The result as (labels, value) samples: a scalar is one sample without
 * labels, as in Prometheus. */
typedef struct vec {
    const lk_labels *labels;
    double v;
} vec;

static size_t result_vector(const lm_result *res, vec **out)
{
    static const lk_labels none = { 0 };
    size_t n = res->scalar ? 1 : res->n_series;
    vec *v = lk_calloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    if (res->scalar) {
        v[k++] = (vec){ &none, res->scalar_v[0] };
    } else {
        for (size_t i = 0; i < res->n_series; i++)
            if (res->series[i].present[0])
                v[k++] = (vec){ &res->series[i].labels, res->series[i].v[0] };
    }
    *out = v;
    return k;
}

/* The templates' query function: an instant LogQL query as the group's
 * tenant at the evaluation time, as Loki's ruler gives Prometheus' rules
 * manager its query function. */
typedef struct tq_ctx {
    rul_ruler *r;
    const rul_rgroup *grp;
    int64_t ts;
} tq_ctx;

static void samples_into(const vec *v, size_t n, lk_arena *a, tmpl_sample *s)
{
    for (size_t i = 0; i < n; i++) {
        const lk_labels *l = v[i].labels;
        s[i].labels = lk_arena_alloc(a, (l->n ? l->n : 1) * sizeof(lk_label));
        for (size_t j = 0; j < l->n; j++)
            s[i].labels[j] = (lk_label){ lk_arena_str(a, l->v[j].name),
                                         lk_arena_str(a, l->v[j].value) };
        s[i].n_labels = l->n;
        s[i].value = v[i].v;
    }
}

static int template_query(void *ctx, lk_str q, lk_arena *a, tmpl_sample **out, size_t *n,
                          lk_buf *err)
{
    const tq_ctx *c = ctx;
    logql_expr *e = NULL;
    int rc = logql_parse(q, &e, err);
    if (rc == LK_OK && logql_expr_is_log(e)) {
        lk_buf_puts(err, "log queries are not supported, use a metric query");
        rc = LK_EINVAL;
    }
    lm_result res = { 0 };
    if (rc == LK_OK)
        rc = run_query(c->r, c->grp->file->tenant, e, c->ts, &res, err);
    logql_expr_free(e);
    if (rc != LK_OK)
        return rc;
    vec *v = NULL;
    size_t k = result_vector(&res, &v);
    tmpl_sample *s = lk_arena_alloc(a, (k ? k : 1) * sizeof *s);
    samples_into(v, k, a, s);
    free(v);
    lm_result_free(&res);
    *out = s;
    *n = k;
    return LK_OK;
}

static void queue_samples(rul_ruler *r, const rul_rgroup *grp, rul_sample *s, size_t n)
{
    rul_rw_push(r->rw, lk_str_c(grp->file->tenant), s, n);
    for (size_t i = 0; i < n; i++)
        labels_free(&s[i].labels);
    free(s);
}

static void record(rul_ruler *r, const rul_rgroup *grp, const rul_rule *rule, const vec *v,
                   size_t n, int64_t ts)
{
    rul_sample *s = lk_calloc(n ? n : 1, sizeof *s);
    pairs p = { 0 };
    for (size_t i = 0; i < n; i++) {
        pairs_from(&p, v[i].labels);
        for (size_t j = 0; j < rule->n_labels; j++)
            pairs_set(&p, rule->labels[j].name, rule->labels[j].value);
        pairs_set(&p, LK_STR("__name__"), rule->record);
        labels_from_pairs(p.v, p.n, &s[i].labels);
        s[i].value = v[i].v;
        s[i].ts_ms = ts / 1000000;
    }
    free(p.v);
    queue_samples(r, grp, s, n);
}

static void expand_all(const lk_label *src, size_t n, const rul_tmpl_ctx *c,
                       const char *what, pairs *into, lk_buf *mem)
{
    /* values are expanded into mem first: pointers are taken once it stops growing */
    size_t *offs = lk_calloc(n ? n * 2 : 1, sizeof *offs);
    for (size_t j = 0; j < n; j++) {
        offs[2 * j] = mem->len;
        if (rul_expand(what, src[j].value, c, mem) != LK_OK)
            log_warn("expanding an alert template failed", "template=%s name=%.*s", what,
                     LK_STR_FMT(src[j].name));
        offs[2 * j + 1] = mem->len;
    }
    for (size_t j = 0; j < n; j++)
        pairs_set(into, src[j].name,
                  lk_str_n(mem->p + offs[2 * j], offs[2 * j + 1] - offs[2 * j]));
    free(offs);
}

static void alert_series(rul_ruler *r, const rul_rgroup *grp, const rul_rule *rule, const vec *v,
                         int64_t ts, rul_active *out)
{
    const lk_config *cfg = r->cfg;
    const lk_cfg_list *ext = &cfg->ruler_external_labels;
    lk_label *extl = lk_calloc(ext->n / 2 + 1, sizeof *extl);
    for (size_t i = 0; i + 1 < ext->n; i += 2)
        extl[i / 2] = (lk_label){ lk_str_c(ext->v[i]), lk_str_c(ext->v[i + 1]) };
    lk_labels base;
    pairs p = { 0 };
    pairs_from(&p, v->labels);
    labels_from_pairs(p.v, p.n, &base);
    tq_ctx qc = { r, grp, ts };
    rul_tmpl_ctx c = { .labels = &base, .value = v->v, .external = extl,
                       .n_external = ext->n / 2, .external_url = cfg->ruler_external_url,
                       .ts = ts, .query = template_query, .query_ctx = &qc };
    lk_buf lmem = { 0 }, amem = { 0 };
    lk_buf_reserve(&lmem, 256);
    expand_all(rule->labels, rule->n_labels, &c, "__alert_labels", &p, &lmem);
    pairs_set(&p, LK_STR("alertname"), rule->alert);
    labels_from_pairs(p.v, p.n, &out->labels);
    pairs a = { 0 };
    expand_all(rule->annotations, rule->n_annotations, &c, "__alert_annotations", &a, &amem);
    labels_from_pairs(a.v, a.n, &out->annotations);
    out->value = v->v;
    free(a.v);
    free(p.v);
    lk_buf_free(&lmem);
    lk_buf_free(&amem);
    labels_free(&base);
    free(extl);
}

/* ALERTS and ALERTS_FOR_STATE of the rule's active alerts. */
static void alert_samples(rul_ruler *r, const rul_rgroup *grp, const rul_alerts *as, int64_t ts)
{
    size_t n = 0;
    rul_sample *s = lk_calloc(as->n * 2 + 1, sizeof *s);
    pairs p = { 0 };
    for (size_t i = 0; i < as->n; i++) {
        const rul_alert *al = &as->v[i];
        if (al->state == RUL_INACTIVE)
            continue;
        pairs_from(&p, &al->labels);
        pairs_set(&p, LK_STR("__name__"), LK_STR("ALERTS_FOR_STATE"));
        labels_from_pairs(p.v, p.n, &s[n].labels);
        s[n].value = (double)(al->active_at / 1000000000);
        s[n++].ts_ms = ts / 1000000;
        pairs_set(&p, LK_STR("__name__"), LK_STR("ALERTS"));
        pairs_set(&p, LK_STR("alertstate"), lk_str_c(rul_state_name(al->state)));
        labels_from_pairs(p.v, p.n, &s[n].labels);
        s[n].value = 1;
        s[n++].ts_ms = ts / 1000000;
    }
    free(p.v);
    queue_samples(r, grp, s, n);
}

static bool duplicate_labels(const rul_active *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            lk_buf x = { 0 }, y = { 0 };
            labels_canonical(&a[i].labels, &x);
            labels_canonical(&a[j].labels, &y);
            bool same = x.len == y.len && memcmp(x.p, y.p, x.len) == 0;
            lk_buf_free(&x);
            lk_buf_free(&y);
            if (same)
                return true;
        }
    return false;
}

static int alert(rul_ruler *r, rul_rgroup *grp, size_t idx, const vec *v, size_t n, int64_t ts,
                 lk_buf *err)
{
    const rul_rule *rule = &grp->g->rules[idx];
    rul_active *act = lk_calloc(n ? n : 1, sizeof *act);
    for (size_t i = 0; i < n; i++)
        alert_series(r, grp, rule, &v[i], ts, &act[i]);
    int rc = LK_OK;
    if (duplicate_labels(act, n)) {
        lk_buf_puts(err, "vector contains metrics with the same labelset after applying alert "
                         "labels");
        rc = LK_EINVAL;
        for (size_t i = 0; i < n; i++) {
            labels_free(&act[i].labels);
            labels_free(&act[i].annotations);
        }
    } else {
        rul_alerts *as = &grp->rules[idx].alerts;
        rul_alerts_update(as, act, n, ts, rule->for_ns, rule->keep_firing_for_ns);
        alert_samples(r, grp, as, ts);
        rul_notify(r, grp, idx, ts);
    }
    free(act);
    return rc;
}

/* The rule's query without mu, so the API and the state endpoints do not
 * wait for it; a reload meanwhile keeps the rule's file alive (rul_unbury)
 * and makes the result void: false then. */
static bool query_unlocked(rul_ruler *r, const rul_rgroup *grp, const rul_rule *rule, int64_t ts,
                           lm_result *res, lk_buf *err, int *rc)
{
    uint64_t gen = r->gen;
    char *tenant = lk_strdup(grp->file->tenant);
    const logql_expr *e = rule->e;
    r->in_query = true;
    pthread_mutex_unlock(&r->mu);
    *rc = run_query(r, tenant, e, ts, res, err);
    pthread_mutex_lock(&r->mu);
    r->in_query = false;
    rul_unbury(r);
    free(tenant);
    if (r->gen == gen)
        return true;
    if (*rc == LK_OK)
        lm_result_free(res);
    return false;
}

static bool eval_rule(rul_ruler *r, rul_rgroup *grp, size_t idx, int64_t ts, const char *const *lv)
{
    const rul_rule *rule = &grp->g->rules[idx];
    int64_t t0 = lk_now_ns();
    lk_buf err = { 0 };
    lm_result res = { 0 };
    int rc;
    if (!query_unlocked(r, grp, rule, ts, &res, &err, &rc)) {
        lk_buf_free(&err);
        return false;
    }
    rul_rstate *st = &grp->rules[idx];
    if (rc == LK_OK) {
        vec *v = NULL;
        size_t n = result_vector(&res, &v);
        if (rule->record.len)
            record(r, grp, rule, v, n, ts);
        else
            rc = alert(r, grp, idx, v, n, ts, &err);
        free(v);
        lm_result_free(&res);
    }
    lk_counter_add(r->m_evals, lv, 1);
    free(st->last_error);
    st->last_error = NULL;
    if (rc != LK_OK) {
        lk_counter_add(r->m_eval_failures, lv, 1);
        st->last_error = lk_strdup(err.p ? err.p : lk_strerror(rc));
        log_warn("rule evaluation failed", "tenant=%s group=\"%s\" rule=%.*s err=\"%s\"",
                 grp->file->tenant, lv[0], LK_STR_FMT(rule->alert.len ? rule->alert : rule->record),
                 st->last_error);
    }
    st->evaluated = true;
    st->last_eval = ts;
    st->eval_ns = lk_now_ns() - t0;
    lk_histogram_observe(r->m_eval_duration, &lv[1], (double)st->eval_ns / 1e9);
    lk_buf_free(&err);
    return true;
}

bool rul_eval_group(rul_ruler *r, rul_rgroup *grp, int64_t ts)
{
    int64_t t0 = lk_now_ns();
    lk_buf key = { 0 };
    rul_group_key(grp, &key);
    char *tenant = lk_strdup(grp->file->tenant);
    const char *lv[] = { key.p, tenant };
    bool ok = true;
    for (size_t i = 0; ok && i < grp->g->n_rules; i++)
        ok = eval_rule(r, grp, i, ts, lv);
    if (ok) {
        grp->last_eval = ts;
        grp->eval_ns = lk_now_ns() - t0;
    }
    free(tenant);
    lk_buf_free(&key);
    return ok;
}
