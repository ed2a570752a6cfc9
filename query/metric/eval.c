/* Metric query evaluation (query/metric/metric.h): the steps, the walk over the
 * expression tree (literals, vector(), and dispatch to the range, vector
 * aggregation, binary operator and label_replace evaluators), Loki's sum
 * push-down, the series limit, and the result. */
#include "query/metric/metric.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/metric/metric_int.h"

/* Far beyond Loki's 11,000 points per series: a sanity bound. */
#define LM_MAX_STEPS 1000000

/* ---- matrices */

lm_series *lm_matrix_add(lm_matrix *m, lk_labels *labels, size_t n_steps)
{
    m->s = lk_grow(m->s, &m->cap, m->n + 1, sizeof *m->s);
    lm_series *s = &m->s[m->n++];
    s->labels = *labels;
    *labels = (lk_labels){ 0 };
    s->v = lk_calloc(n_steps ? n_steps : 1, sizeof *s->v);
    s->present = lk_calloc(n_steps ? n_steps : 1, 1);
    return s;
}

static void series_free(lm_series *s)
{
    labels_free(&s->labels);
    free(s->v);
    free(s->present);
}

void lm_matrix_free(lm_matrix *m)
{
    for (size_t i = 0; i < m->n; i++)
        series_free(&m->s[i]);
    free(m->s);
    *m = (lm_matrix){ 0 };
}

bool lm_series_empty(const lm_series *s, size_t n_steps)
{
    for (size_t i = 0; i < n_steps; i++) {
        if (s->present[i])
            return false;
    }
    return true;
}

void lm_matrix_prune(lm_matrix *m, size_t n_steps)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (lm_series_empty(&m->s[i], n_steps))
            series_free(&m->s[i]);
        else
            m->s[k++] = m->s[i];
    }
    m->n = k;
}

static int cmp_series(const void *a, const void *b)
{
    return lm_labels_cmp(&((const lm_series *)a)->labels, &((const lm_series *)b)->labels);
}

void lm_matrix_sort(lm_matrix *m)
{
    if (m->n > 1)
        qsort(m->s, m->n, sizeof *m->s, cmp_series);
}

void lm_val_free(lm_val *v)
{
    lm_matrix_free(&v->m);
    *v = (lm_val){ 0 };
}

int lm_check_deadline(lm_ctx *c)
{
    if (c->q->deadline_ns && lk_now_ns() > c->q->deadline_ns) {
        if (c->err && !c->err->len)
            lk_buf_puts(c->err, LM_MSG_TIMEOUT);
        return LK_ERANGE;
    }
    return LK_OK;
}

int lm_series_limit(lm_ctx *c, size_t n)
{
    int max = c->q->max_series;
    if (max > 0 && n > (size_t)max) {
        if (c->err)
            lk_buf_printf(c->err, LM_MSG_SERIES_LIMIT, max);
        return LK_ELIMIT;
    }
    return LK_OK;
}

int lm_charge(lm_ctx *c, int64_t n)
{
    if (!c->q->mem)
        return LK_OK;
    int rc = qm_charge(c->q->mem, n);
    if (rc && c->err && !c->err->len)
        qm_error(c->q->mem, rc, c->err);
    return rc;
}

int64_t lm_series_bytes(size_t n_steps, int64_t label_bytes)
{
    return (int64_t)(sizeof(lm_series) + n_steps * (sizeof(double) + 1)) + label_bytes;
}

int lm_charge_matrix(lm_ctx *c, const lm_matrix *m)
{
    if (!c->q->mem)
        return LK_OK;
    int64_t n = (int64_t)(m->cap * sizeof *m->s);
    for (size_t i = 0; i < m->n; i++)
        n += lm_series_bytes(c->n_steps, lm_labels_bytes(&m->s[i].labels)) -
             (int64_t)sizeof(lm_series);
    return lm_charge(c, n);
}

/* ---- nodes */

static void eval_vector(lm_ctx *c, double value, lm_val *out)
{
    lk_labels none = { 0 };
    labels_from_pairs(NULL, 0, &none);
    lm_series *s = lm_matrix_add(&out->m, &none, c->n_steps);
    for (size_t i = 0; i < c->n_steps; i++) {
        s->v[i] = value;
        s->present[i] = 1;
    }
}

/* Loki injects the grouping of `sum by/without (...)` into the extractor of
 * a directly nested count/rate/bytes/sum range aggregation without its own
 * grouping (syntax.canInjectVectorGrouping). */
static const logql_grouping *sum_pushdown(const logql_vector_agg *va)
{
    if (va->op != LOGQL_VEC_SUM || va->inner->kind != LOGQL_EXPR_RANGE_AGG)
        return NULL;
    const logql_range_agg *ra = &va->inner->u.range;
    if (ra->grouping.present)
        return NULL;
    switch (ra->op) {
    case LOGQL_RANGE_BYTES:
    case LOGQL_RANGE_BYTES_RATE:
    case LOGQL_RANGE_SUM:
    case LOGQL_RANGE_RATE:
    case LOGQL_RANGE_COUNT:
        return &va->grouping;
    default:
        return NULL;
    }
}

static int eval_vagg(lm_ctx *c, const logql_vector_agg *va, lm_val *out)
{
    lm_val in = { 0 };
    int rc;
    const logql_grouping *push = sum_pushdown(va);
    if (push) {
        rc = lm_eval_range(c, &va->inner->u.range, push, &in.m);
    } else {
        rc = lm_eval_node(c, va->inner, &in);
        if (rc == LK_OK && in.scalar) {
            lk_buf_printf(c->err, "unexpected scalar for the vector aggregation %s",
                          logql_vector_op_name(va->op));
            rc = LK_EINVAL;
        }
    }
    if (rc == LK_OK)
        rc = lm_eval_vagg(c, va, &in.m, &out->m);
    if (rc == LK_OK)
        rc = lm_charge_matrix(c, &out->m);
    lm_val_free(&in);
    return rc;
}

static int eval_binop(lm_ctx *c, const logql_binop_expr *b, lm_val *out)
{
    lm_val l = { 0 }, r = { 0 };
    int rc = lm_eval_node(c, b->lhs, &l);
    if (rc == LK_OK)
        rc = lm_eval_node(c, b->rhs, &r);
    if (rc == LK_OK)
        rc = lm_eval_binop(c, b, &l, &r, out);
    if (rc == LK_OK)
        rc = lm_charge_matrix(c, &out->m);
    lm_val_free(&l);
    lm_val_free(&r);
    return rc;
}

static int eval_label_replace(lm_ctx *c, const logql_label_replace *lr, lm_val *out)
{
    if (!lr->re) {
        lk_buf_printf(c->err, "invalid regex in label_replace: %s",
                      lr->re_error ? lr->re_error : "invalid regex");
        return LK_EINVAL;
    }
    lm_val in = { 0 };
    int rc = lm_eval_node(c, lr->inner, &in);
    if (rc == LK_OK && in.scalar) {
        lk_buf_puts(c->err, "unexpected scalar for label_replace");
        rc = LK_EINVAL;
    }
    if (rc == LK_OK)
        rc = lm_eval_label_replace(c, lr, &in.m, &out->m);
    if (rc == LK_OK)
        rc = lm_charge_matrix(c, &out->m);
    lm_val_free(&in);
    return rc;
}

int lm_eval_node(lm_ctx *c, const logql_expr *e, lm_val *out)
{
    int rc = lm_check_deadline(c);
    if (rc)
        return rc;
    *out = (lm_val){ 0 };
    switch (e->kind) {
    case LOGQL_EXPR_LITERAL:
        out->scalar = true;
        out->sv = e->u.literal.value;
        rc = LK_OK;
        break;
    case LOGQL_EXPR_VECTOR:
        eval_vector(c, e->u.literal.value, out);
        rc = LK_OK;
        break;
    case LOGQL_EXPR_RANGE_AGG:
        rc = lm_eval_range(c, &e->u.range, NULL, &out->m);
        break;
    case LOGQL_EXPR_VECTOR_AGG:
        rc = eval_vagg(c, &e->u.vagg, out);
        break;
    case LOGQL_EXPR_BINOP:
        rc = eval_binop(c, &e->u.binop, out);
        break;
    case LOGQL_EXPR_LABEL_REPLACE:
        rc = eval_label_replace(c, &e->u.label_replace, out);
        break;
    case LOGQL_EXPR_LOG:
    default:
        lk_buf_puts(c->err, "a log query is not a metric query");
        rc = LK_EINVAL;
        break;
    }
    if (rc)
        lm_val_free(out);
    return rc;
}

/* ---- the query */

static int plan_steps(const lm_query *q, lm_ctx *c)
{
    c->start = q->start;
    if (q->start == q->end) {
        c->step = 0;
        c->n_steps = 1;
        return LK_OK;
    }
    if (q->end < q->start || q->step <= 0) {
        lk_buf_puts(c->err, q->step <= 0
                                ? "zero or negative query resolution step widths are not "
                                  "accepted. Try a positive integer"
                                : "end timestamp must not be before or equal to start time");
        return LK_EINVAL;
    }
    uint64_t n = (uint64_t)(q->end - q->start) / (uint64_t)q->step + 1;
    if (n > LM_MAX_STEPS) {
        lk_buf_puts(c->err, "exceeded maximum resolution of 11,000 points per time series. "
                            "Try increasing the value of the step parameter");
        return LK_EINVAL;
    }
    c->step = q->step;
    c->n_steps = (size_t)n;
    return LK_OK;
}

static int resolve_threads(int t)
{
    if (t > 0)
        return t;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n > 256 ? 256 : n) : 1;
}


static void fill_result(lm_ctx *c, lm_val *v, lm_result *out)
{
    out->start = c->start;
    out->step = c->step;
    out->n_steps = c->n_steps;
    if (v->scalar) {
        out->scalar = true;
        out->scalar_v = lk_malloc(c->n_steps * sizeof *out->scalar_v);
        for (size_t i = 0; i < c->n_steps; i++)
            out->scalar_v[i] = v->sv;
        return;
    }
    out->sorted = c->sorted && c->q->instant && c->n_steps == 1;
    if (!out->sorted)
        lm_matrix_sort(&v->m);
    out->series = v->m.s;
    out->n_series = v->m.n;
    v->m = (lm_matrix){ 0 };
}

int lm_eval(const lm_query *q, lm_result *out, lk_buf *err)
{
    lk_buf own = { 0 };
    lm_ctx c = { .q = q, .err = err ? err : &own };
    c.threads = resolve_threads(q->threads);
    lm_val v = { 0 };
    if (logql_expr_has_variants(q->expr)) {
        /* Loki's engine refuses them unless enable_multi_variant_queries is
         * on, which lokic does not offer */
        lk_buf_puts(c.err, "multi variant queries are disabled for this instance");
        lk_buf_free(&own);
        return LK_EINVAL;
    }
    int rc = plan_steps(q, &c);
    if (rc == LK_OK)
        rc = lm_eval_node(&c, q->expr, &v);
    if (rc == LK_OK && !v.scalar) {
        lm_matrix_prune(&v.m, c.n_steps);
        rc = lm_series_limit(&c, v.m.n);
    }
    if (rc == LK_OK) {
        *out = (lm_result){ .stats = c.stats, .lines_read = c.lines };
        fill_result(&c, &v, out);
    }
    lm_val_free(&v);
    lk_buf_free(&own);
    return rc;
}

void lm_result_free(lm_result *r)
{
    if (!r)
        return;
    lm_matrix m = { .s = r->series, .n = r->n_series };
    lm_matrix_free(&m);
    free(r->scalar_v);
    *r = (lm_result){ 0 };
}
