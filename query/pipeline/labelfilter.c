/* The label filter stage: string matchers on a label's value (a missing
 * label is ""; `__error__` is the entry's error), numeric, duration and
 * byte-size comparisons, ip() matches, combined with and / or.
 *
 * As in Loki 2.9: once an entry carries an error only string matchers can
 * drop it (the typed filters keep it); a typed filter on a missing label
 * drops the entry; a value that does not convert keeps the entry and sets
 * __error__=LabelFilterErr with the conversion error as details.
 *
 * A regex string matcher runs the filter Loki's regex simplifier builds
 * when it accepts the pattern (label_simplify.h: `a.*` is "contains a"),
 * the anchored regex otherwise. */
#include <stdlib.h>
#include <string.h>

#include "lib/bytesize.h"
#include "lib/err.h"
#include "lib/matcher.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/pipeline/label_simplify.h"
#include "query/pipeline/linefilter.h"
#include "query/pipeline/conv.h"
#include "query/pipeline/pipeline_int.h"

typedef struct lbf lbf;
struct lbf {
    logql_lbf_kind kind;
    char *name;
    size_t name_len;
    bool is_error;       /* name is __error__ */
    logql_cmp cmp;
    lk_matcher matcher;  /* STRING */
    bool has_matcher;
    lf_lsimple *simple;  /* STRING =~ / !~ that Loki's simplifier accepts */
    double number;
    int64_t duration_ns;
    uint64_t bytes;
    lf_ip *ip;
    lbf *left, *right;
};

static const lk_str LABEL_FILTER_ERR = { "LabelFilterErr", 14 };

static void lbf_free(lbf *f)
{
    if (!f)
        return;
    lbf_free(f->left);
    lbf_free(f->right);
    if (f->has_matcher)
        matcher_free(&f->matcher);
    lf_lsimple_free(f->simple);
    lf_ip_free(f->ip);
    free(f->name);
    free(f);
}

static int lbf_build(const logql_label_filter *a, lbf **out, lk_buf *err)
{
    lbf *f = lk_calloc(1, sizeof(*f));
    f->kind = a->kind;
    f->cmp = a->cmp;
    int rc = 0;
    if (a->kind == LOGQL_LBF_AND || a->kind == LOGQL_LBF_OR) {
        rc = lbf_build(a->u.bin.left, &f->left, err);
        if (!rc)
            rc = lbf_build(a->u.bin.right, &f->right, err);
        goto out;
    }
    f->name = lk_strndup(a->name.p, a->name.len);
    f->name_len = a->name.len;
    f->is_error = lk_str_eq(a->name, LP_ERROR_LABEL);
    switch (a->kind) {
    case LOGQL_LBF_STRING: {
        const lk_matcher *m = a->u.matcher;
        rc = matcher_init(&f->matcher, m->type, a->name, (lk_str){ m->value, m->value_len }, err);
        f->has_matcher = rc == 0;
        if (!rc && (m->type == LK_MATCH_RE || m->type == LK_MATCH_NRE))
            lf_label_regex_simplify((lk_str){ m->value, m->value_len }, &f->simple);
        break;
    }
    case LOGQL_LBF_NUMBER:
        f->number = a->u.number;
        break;
    case LOGQL_LBF_DURATION:
        f->duration_ns = a->u.duration_ns;
        break;
    case LOGQL_LBF_BYTES:
        f->bytes = a->u.bytes;
        break;
    case LOGQL_LBF_IP:
        rc = lf_ip_compile(a->u.ip_pattern, &f->ip, err);
        break;
    default:
        break;
    }
out:
    if (rc) {
        lbf_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* How two values compare: -1, 0, 1, or UNORDERED (a NaN is involved). */
#define UNORDERED 2
#define ORDER(a, b) (((a) > (b)) - ((a) < (b)))

/* Does the comparison hold for values in that order? Unordered values are
 * only unequal, as IEEE comparisons of a NaN are. */
static bool cmp_holds(logql_cmp c, int order)
{
    switch (c) {
    case LOGQL_CMP_EQ: return order == 0;
    case LOGQL_CMP_NE: return order != 0;
    case LOGQL_CMP_GT: return order == 1;
    case LOGQL_CMP_GE: return order == 1 || order == 0;
    case LOGQL_CMP_LT: return order == -1;
    case LOGQL_CMP_LE: return order == -1 || order == 0;
    }
    return false;
}

static int order_f(double a, double b)
{
    return a == b || a < b || a > b ? ORDER(a, b) : UNORDERED;
}

/* A conversion failed: the entry is kept with LabelFilterErr. */
static bool conv_failed(lp_exec *r)
{
    lp_lbs_set_err(&r->lbs, LABEL_FILTER_ERR);
    lp_lbs_set_details(&r->lbs, (lk_str){ lp_strdup(&r->scratch, r->tmp.p, r->tmp.len),
                                          r->tmp.len });
    return true;
}

static bool lbf_eval(const lbf *f, lp_exec *r)
{
    lk_str name = { f->name, f->name_len };
    lk_str v;
    switch (f->kind) {
    case LOGQL_LBF_AND: {
        bool l = lbf_eval(f->left, r);
        bool rr = lbf_eval(f->right, r);
        return l && rr;
    }
    case LOGQL_LBF_OR:
        return lbf_eval(f->left, r) || lbf_eval(f->right, r);
    case LOGQL_LBF_STRING:
        if (f->is_error)
            v = r->lbs.has_err ? r->lbs.err : LK_STR("");
        else if (!lp_lbs_get(&r->lbs, name, &v))
            v = LK_STR("");
        if (f->simple)
            return lf_lsimple_match(f->simple, v) == (f->matcher.type == LK_MATCH_RE);
        return matcher_matches(&f->matcher, v);
    default:
        break;
    }
    if (r->lbs.has_err)
        return true; /* only string matchers filter entries with an error */
    if (!lp_lbs_get(&r->lbs, name, &v))
        return false;
    lk_buf_reset(&r->tmp);
    switch (f->kind) {
    case LOGQL_LBF_NUMBER: {
        double x;
        if (lp_parse_float(v, &x, &r->tmp) != 0)
            return conv_failed(r);
        return cmp_holds(f->cmp, order_f(x, f->number));
    }
    case LOGQL_LBF_DURATION: {
        int64_t d;
        if (lk_parse_go_duration_err(v, &d, &r->tmp) != 0)
            return conv_failed(r);
        return cmp_holds(f->cmp, ORDER(d, f->duration_ns));
    }
    case LOGQL_LBF_BYTES: {
        uint64_t b;
        if (lk_parse_bytes(v, &b, &r->tmp) != 0)
            return conv_failed(r);
        return cmp_holds(f->cmp, ORDER(b, f->bytes));
    }
    case LOGQL_LBF_IP: {
        bool hit = lf_ip_contains(f->ip, v);
        return f->cmp == LOGQL_CMP_NE ? !hit : hit;
    }
    default:
        break;
    }
    LK_BUG("label filter kind %d", (int)f->kind);
}

static void lbf_names(const lbf *f, lp_name_fn add, void *ctx)
{
    if (f->kind == LOGQL_LBF_AND || f->kind == LOGQL_LBF_OR) {
        lbf_names(f->left, add, ctx);
        lbf_names(f->right, add, ctx);
        return;
    }
    add(ctx, (lk_str){ f->name, f->name_len });
}

static void label_filter_required(const lp_stage *st, lp_name_fn add, void *ctx)
{
    lbf_names(st->impl, add, ctx);
}

static bool label_filter_run(const lp_stage *st, lp_exec *r)
{
    return lbf_eval(st->impl, r);
}

static void label_filter_free(void *impl)
{
    lbf_free(impl);
}

int lp_compile_label_filter(const logql_label_filter *f, lp_stage *st, lk_buf *err)
{
    lbf *c;
    int rc = lbf_build(f, &c, err);
    if (rc)
        return rc;
    st->kind = LOGQL_STAGE_LABEL_FILTER;
    st->run = label_filter_run;
    st->required = label_filter_required;
    st->impl = c;
    st->free_impl = label_filter_free;
    return 0;
}
