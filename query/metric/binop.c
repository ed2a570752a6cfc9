/* Binary operators with Loki's semantics (pkg/logql/evaluator.go,
 * syntax.MergeBinOp): scalar-scalar (comparisons give 0/1), vector-scalar
 * (comparisons filter and keep the vector's value, or give 0/1 with bool;
 * labels are kept), vector-vector with one-to-one matching on the full label
 * set or on(...)/ignoring(...), group_left/group_right with included labels
 * from the "one" side, and the set operators and/or/unless. Division and
 * modulo by zero give NaN, as in Loki. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/metric/metric_int.h"

double lm_binop_value(logql_binop op, double l, double r)
{
    switch (op) {
    case LOGQL_OP_ADD:
        return l + r;
    case LOGQL_OP_SUB:
        return l - r;
    case LOGQL_OP_MUL:
        return l * r;
    case LOGQL_OP_DIV:
        return r == 0 ? NAN : l / r;
    case LOGQL_OP_MOD:
        return r == 0 ? NAN : fmod(l, r);
    case LOGQL_OP_POW:
        return pow(l, r);
    case LOGQL_OP_EQ:
        return l == r;
    case LOGQL_OP_NE:
        return l != r;
    case LOGQL_OP_GT:
        return l > r;
    case LOGQL_OP_GE:
        return l >= r;
    case LOGQL_OP_LT:
        return l < r;
    case LOGQL_OP_LE:
        return l <= r;
    default:
        return NAN;
    }
}

/* ---- vector <op> scalar */

static void with_scalar(const logql_binop_expr *b, lm_matrix *m, double sv, bool scalar_left,
                        size_t n_steps)
{
    bool cmp = logql_binop_is_comparison(b->op);
    for (size_t i = 0; i < m->n; i++) {
        lm_series *s = &m->s[i];
        for (size_t t = 0; t < n_steps; t++) {
            if (!s->present[t])
                continue;
            double v = s->v[t];
            double r = scalar_left ? lm_binop_value(b->op, sv, v) : lm_binop_value(b->op, v, sv);
            if (cmp && !b->return_bool) {
                if (r == 0)
                    s->present[t] = 0;
                continue; /* keeps the vector's value */
            }
            s->v[t] = r;
        }
    }
    lm_matrix_prune(m, n_steps);
}

/* ---- matching */

/* The labels a series is matched on: all, on(...) only, or ignoring(...). */
static void signature(const logql_binop_expr *b, const lk_labels *l, lk_labels *out)
{
    if (!b->matching) {
        labels_copy(l, out);
        return;
    }
    lm_labels_group(l, b->match_labels, b->n_match_labels, !b->on, out);
}

/* The signature id of every series of m, interned in sigs. */
static size_t *signatures(const logql_binop_expr *b, const lm_matrix *m, lm_outset *sigs)
{
    size_t *id = lk_malloc((m->n ? m->n : 1) * sizeof *id);
    for (size_t i = 0; i < m->n; i++) {
        lk_labels sig;
        signature(b, &m->s[i].labels, &sig);
        id[i] = lm_outset_take(sigs, &sig);
    }
    return id;
}

static bool named(lk_str name, const lk_str *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lk_str_eq(name, names[i]))
            return true;
    }
    return false;
}

/* Loki's resultMetric: the "many" side's labels (only the on() labels, or
 * without the ignoring() ones, for one-to-one), then each group_x label
 * taken from the "one" side (removed when it has none there). */
static void result_metric(const logql_binop_expr *b, const lk_labels *many,
                          const lk_labels *one, lk_labels *out)
{
    lk_label *v = lk_malloc((many->n + b->n_include + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < many->n; i++) {
        lk_str name = many->v[i].name;
        if (b->card == LOGQL_CARD_ONE_TO_ONE && b->matching &&
            named(name, b->match_labels, b->n_match_labels) != b->on)
            continue;
        if (named(name, b->include, b->n_include))
            continue;
        v[n++] = many->v[i];
    }
    for (size_t i = 0; i < b->n_include; i++) {
        const lk_str *val = labels_get(one, b->include[i]);
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = lk_str_eq(b->include[j], b->include[i]);
        if (val && val->len && !dup)
            v[n++] = (lk_label){ b->include[i], *val };
    }
    labels_from_pairs(v, n, out);
    free(v);
}

typedef struct vv {
    lm_ctx *c;
    const logql_binop_expr *b;
    const lm_matrix *many, *one;
    size_t *sig_many, *sig_one;
    size_t n_sigs;
    bool swapped;             /* group_right: the right side is "many" */
    lm_outset out;
    size_t *last_one, *last_out; /* per many-side series: the pair's output series */
    size_t *written;          /* per output series: step + 1 last written */
    size_t n_written, cap_written;
} vv;

static int fail(vv *x, const char *msg)
{
    lk_buf_puts(x->c->err, msg);
    return LK_EINVAL;
}

static size_t output_of(vv *x, size_t i, size_t j)
{
    if (x->last_one[i] == j)
        return x->last_out[i];
    lk_labels l;
    result_metric(x->b, &x->many->s[i].labels, &x->one->s[j].labels, &l);
    size_t o = lm_outset_take(&x->out, &l);
    if (x->out.m->n > x->n_written) {
        x->written = lk_grow(x->written, &x->cap_written, x->out.m->n, sizeof *x->written);
        memset(x->written + x->n_written, 0, (x->out.m->n - x->n_written) * sizeof *x->written);
        x->n_written = x->out.m->n;
    }
    x->last_one[i] = j;
    x->last_out[i] = o;
    return o;
}

static int vv_step(vv *x, size_t t, size_t *match, size_t *matched)
{
    const logql_binop_expr *b = x->b;
    for (size_t s = 0; s < x->n_sigs; s++)
        match[s] = SIZE_MAX;
    for (size_t j = 0; j < x->one->n; j++) {
        if (!x->one->s[j].present[t])
            continue;
        if (match[x->sig_one[j]] != SIZE_MAX)
            return fail(x, x->swapped
                               ? "found duplicate series on the left hand-side;many-to-many "
                                 "matching not allowed: matching labels must be unique on one side"
                               : "found duplicate series on the right hand-side;many-to-many "
                                 "matching not allowed: matching labels must be unique on one side");
        match[x->sig_one[j]] = j;
    }
    bool cmp = logql_binop_is_comparison(b->op);
    for (size_t i = 0; i < x->many->n; i++) {
        if (!x->many->s[i].present[t])
            continue;
        size_t sig = x->sig_many[i], j = match[sig];
        if (j == SIZE_MAX)
            continue;
        size_t o = output_of(x, i, j);
        if (b->card == LOGQL_CARD_ONE_TO_ONE) {
            if (matched[sig] == t + 1)
                return fail(x, "multiple matches for labels: many-to-one matching must be "
                               "explicit (group_left/group_right)");
            matched[sig] = t + 1;
            if (x->written[o] == t + 1)
                return fail(x, LM_MSG_DUP_LABELSET);
        } else if (x->written[o] == t + 1) {
            return fail(x, "multiple matches for labels: grouping labels must ensure unique "
                           "matches");
        }
        double lv = x->many->s[i].v[t], rv = x->one->s[j].v[t];
        if (x->swapped) {
            double tmp = lv;
            lv = rv;
            rv = tmp;
        }
        double r = lm_binop_value(b->op, lv, rv);
        if (cmp && !b->return_bool) {
            if (r == 0)
                continue;
            r = lv; /* the left-hand side's value */
        }
        lm_series *os = &x->out.m->s[o];
        os->present[t] = 1;
        os->v[t] = r;
        x->written[o] = t + 1;
    }
    return LK_OK;
}

static int vector_vector(lm_ctx *c, const logql_binop_expr *b, lm_matrix *l, lm_matrix *r,
                         lm_matrix *out)
{
    lm_matrix sigm = { 0 };
    lm_outset sigs;
    lm_outset_init(&sigs, &sigm, 1);
    vv x = { .c = c, .b = b, .swapped = b->card == LOGQL_CARD_ONE_TO_MANY };
    x.many = x.swapped ? r : l;
    x.one = x.swapped ? l : r;
    x.sig_many = signatures(b, x.many, &sigs);
    x.sig_one = signatures(b, x.one, &sigs);
    x.n_sigs = sigm.n;
    lm_outset_init(&x.out, out, c->n_steps);
    size_t nm = x.many->n ? x.many->n : 1;
    x.last_one = lk_malloc(nm * sizeof *x.last_one);
    x.last_out = lk_malloc(nm * sizeof *x.last_out);
    memset(x.last_one, 0xff, nm * sizeof *x.last_one);
    size_t *match = lk_malloc((x.n_sigs ? x.n_sigs : 1) * sizeof *match);
    size_t *matched = lk_calloc(x.n_sigs ? x.n_sigs : 1, sizeof *matched);
    int rc = LK_OK;
    for (size_t t = 0; t < c->n_steps && rc == LK_OK; t++)
        rc = vv_step(&x, t, match, matched);
    free(match);
    free(matched);
    free(x.last_one);
    free(x.last_out);
    free(x.written);
    free(x.sig_many);
    free(x.sig_one);
    lm_outset_free(&x.out);
    lm_outset_free(&sigs);
    lm_matrix_free(&sigm);
    return rc;
}

/* ---- and / or / unless */

static void emit(lm_outset *o, size_t *cache, const lm_series *s, size_t t)
{
    if (*cache == SIZE_MAX)
        *cache = lm_outset_get(o, &s->labels);
    lm_series *d = &o->m->s[*cache];
    d->present[t] = 1;
    d->v[t] = s->v[t];
}

static bool any_present(const lm_matrix *m, size_t t)
{
    for (size_t i = 0; i < m->n; i++) {
        if (m->s[i].present[t])
            return true;
    }
    return false;
}

static void logical(lm_ctx *c, const logql_binop_expr *b, lm_matrix *l, lm_matrix *r,
                    lm_matrix *out)
{
    lm_matrix sigm = { 0 };
    lm_outset sigs, o;
    lm_outset_init(&sigs, &sigm, 1);
    size_t *sl = signatures(b, l, &sigs), *sr = signatures(b, r, &sigs);
    size_t ns = sigm.n ? sigm.n : 1;
    size_t *stamp = lk_calloc(ns, sizeof *stamp);
    size_t *cl = lk_malloc((l->n ? l->n : 1) * sizeof *cl);
    size_t *cr = lk_malloc((r->n ? r->n : 1) * sizeof *cr);
    memset(cl, 0xff, (l->n ? l->n : 1) * sizeof *cl);
    memset(cr, 0xff, (r->n ? r->n : 1) * sizeof *cr);
    lm_outset_init(&o, out, c->n_steps);
    for (size_t t = 0; t < c->n_steps; t++) {
        bool lany = any_present(l, t), rany = any_present(r, t);
        if (b->op == LOGQL_OP_AND && (!lany || !rany))
            continue;
        /* stamp the signatures of the side that filters the other */
        const lm_matrix *f = b->op == LOGQL_OP_OR ? l : r;
        const size_t *fs = b->op == LOGQL_OP_OR ? sl : sr;
        for (size_t i = 0; i < f->n; i++) {
            if (f->s[i].present[t])
                stamp[fs[i]] = t + 1;
        }
        for (size_t i = 0; i < l->n; i++) {
            if (!l->s[i].present[t])
                continue;
            bool in_r = stamp[sl[i]] == t + 1;
            if (b->op == LOGQL_OP_OR || (b->op == LOGQL_OP_AND) == in_r)
                emit(&o, &cl[i], &l->s[i], t);
        }
        if (b->op != LOGQL_OP_OR)
            continue;
        for (size_t i = 0; i < r->n; i++) {
            if (r->s[i].present[t] && stamp[sr[i]] != t + 1)
                emit(&o, &cr[i], &r->s[i], t);
        }
    }
    lm_outset_free(&o);
    lm_outset_free(&sigs);
    lm_matrix_free(&sigm);
    free(stamp);
    free(sl);
    free(sr);
    free(cl);
    free(cr);
}

int lm_eval_binop(lm_ctx *c, const logql_binop_expr *b, lm_val *l, lm_val *r, lm_val *out)
{
    bool logic = logql_binop_is_logical(b->op);
    if (logic && (l->scalar || r->scalar)) {
        lk_buf_printf(c->err,
                      "unexpected literal for %s leg of logical/set binary operation (%s): %f",
                      l->scalar ? "left" : "right", logql_binop_name(b->op),
                      l->scalar ? l->sv : r->sv);
        return LK_EINVAL;
    }
    *out = (lm_val){ 0 };
    if (l->scalar && r->scalar) {
        out->scalar = true;
        out->sv = lm_binop_value(b->op, l->sv, r->sv);
        return LK_OK;
    }
    if (l->scalar || r->scalar) {
        lm_val *v = l->scalar ? r : l;
        out->m = v->m;
        v->m = (lm_matrix){ 0 };
        with_scalar(b, &out->m, l->scalar ? l->sv : r->sv, l->scalar, c->n_steps);
        return LK_OK;
    }
    lm_matrix_prune(&l->m, c->n_steps);
    lm_matrix_prune(&r->m, c->n_steps);
    if (logic) {
        logical(c, b, &l->m, &r->m, &out->m);
        return LK_OK;
    }
    int rc = vector_vector(c, b, &l->m, &r->m, &out->m);
    if (rc == LK_OK)
        lm_matrix_prune(&out->m, c->n_steps);
    return rc;
}
