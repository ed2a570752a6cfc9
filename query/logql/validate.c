/* Semantic checks of a parsed LogQL query, with Loki 2.9's messages and in
 * Loki's order: its validateExpr / validateSampleExpr walk, plus the errors
 * its AST constructors (newRangeAggregationExpr, mustNewVectorAggregationExpr,
 * mustNewBinOpExpr, mustNewLabelReplaceExpr, literals) record while parsing
 * and that surface during that walk. All are "parse error : ..." (HTTP 400). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "lib/err.h"
#include "lib/goint.h"
#include "lib/labels.h"
#include "lib/mem.h"
#include "query/logql/lexer.h"
#include "query/logql/parser.h"

#define ERR_EMPTY_MATCHERS                                                                   \
    "queries require at least one regexp or equality matcher that does not have an "      \
    "empty-compatible value. For instance, app=~\".*\" does not meet this requirement, "    \
    "but app=~\".+\" will"

static int fail(lk_buf *err, const char *msg)
{
    if (err) {
        logql_error_prefix(err, 0, 0);
        lk_buf_puts(err, msg);
    }
    return LK_EPARSE;
}

/* Go's %f: NaN and infinities spelled as Go spells them. */
static void go_percent_f(double v, lk_buf *out)
{
    if (isnan(v))
        lk_buf_puts(out, "NaN");
    else if (isinf(v))
        lk_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else
        lk_buf_printf(out, "%f", v);
}

/* strconv.ParseFloat's error text for a number token. */
static void parse_float_error(lk_str text, lk_buf *out)
{
    double v;
    int rc = logql_parse_float(text, &v);
    lk_buf_puts(out, "strconv.ParseFloat: parsing ");
    lk_go_quote(text, out);
    lk_buf_puts(out, rc == LK_ERANGE ? ": value out of range" : ": invalid syntax");
}

int logql_validate_matchers(const lk_matcher *ms, size_t n, lk_buf *err)
{
    for (size_t i = 0; i < n; i++)
        if (!matcher_matches_empty(&ms[i]))
            return 0;
    return fail(err, ERR_EMPTY_MATCHERS);
}

static int validate_matchers(const logql_log_selector *sel, lk_buf *err)
{
    return sel ? logql_validate_matchers(sel->matchers, sel->n_matchers, err)
               : logql_validate_matchers(NULL, 0, err);
}

static int literal_error(const logql_expr *e, lk_buf *err)
{
    if (!e->u.literal.bad)
        return 0;
    lk_buf msg = { 0 };
    lk_buf_puts(&msg, e->kind == LOGQL_EXPR_VECTOR ? "unable to parse vectorExpr as a float: "
                                                    : "unable to parse literal as a float: ");
    parse_float_error(e->u.literal.text, &msg);
    int rc = fail(err, msg.p);
    lk_buf_free(&msg);
    return rc;
}

static bool range_allows_grouping(logql_range_op op)
{
    switch (op) {
    case LOGQL_RANGE_AVG: case LOGQL_RANGE_STDDEV: case LOGQL_RANGE_STDVAR:
    case LOGQL_RANGE_QUANTILE: case LOGQL_RANGE_MAX: case LOGQL_RANGE_MIN:
    case LOGQL_RANGE_FIRST: case LOGQL_RANGE_LAST:
        return true;
    default:
        return false;
    }
}

static bool range_allows_unwrap(logql_range_op op)
{
    switch (op) {
    case LOGQL_RANGE_AVG: case LOGQL_RANGE_SUM: case LOGQL_RANGE_MAX: case LOGQL_RANGE_MIN:
    case LOGQL_RANGE_STDDEV: case LOGQL_RANGE_STDVAR: case LOGQL_RANGE_QUANTILE:
    case LOGQL_RANGE_RATE: case LOGQL_RANGE_RATE_COUNTER: case LOGQL_RANGE_ABSENT:
    case LOGQL_RANGE_FIRST: case LOGQL_RANGE_LAST:
        return true;
    default:
        return false;
    }
}

static bool range_works_without_unwrap(logql_range_op op)
{
    switch (op) {
    case LOGQL_RANGE_BYTES: case LOGQL_RANGE_BYTES_RATE: case LOGQL_RANGE_COUNT:
    case LOGQL_RANGE_RATE: case LOGQL_RANGE_ABSENT:
        return true;
    default:
        return false;
    }
}

/* newRangeAggregationExpr and RangeAggregationExpr.validate */
static int range_error(const logql_range_agg *r, lk_buf *err)
{
    const char *op = logql_range_op_name(r->op);
    lk_buf msg = { 0 };
    int rc = 0;
    if (r->has_param) {
        if (r->op != LOGQL_RANGE_QUANTILE) {
            lk_buf_printf(&msg, "parameter %.*s not supported for operation %s",
                          LK_STR_FMT(r->param_text), op);
            goto out;
        }
        double v;
        if (logql_parse_float(r->param_text, &v) != 0) {
            lk_buf_printf(&msg, "invalid parameter for operation %s: ", op);
            parse_float_error(r->param_text, &msg);
            goto out;
        }
    } else if (r->op == LOGQL_RANGE_QUANTILE) {
        lk_buf_printf(&msg, "parameter required for operation %s", op);
        goto out;
    }
    if (r->grouping.present && !range_allows_grouping(r->op)) {
        lk_buf_printf(&msg, "grouping not allowed for %s aggregation", op);
        goto out;
    }
    if (r->unwrap) {
        if (!range_allows_unwrap(r->op))
            lk_buf_printf(&msg, "invalid aggregation %s with unwrap", op);
        goto out;
    }
    if (!range_works_without_unwrap(r->op))
        lk_buf_printf(&msg, "invalid aggregation %s without unwrap", op);
out:
    if (msg.len)
        rc = fail(err, msg.p);
    lk_buf_free(&msg);
    return rc;
}

/* mustNewVectorAggregationExpr */
static int vagg_error(const logql_vector_agg *v, lk_buf *err)
{
    const char *op = logql_vector_op_name(v->op);
    lk_buf msg = { 0 };
    int rc = 0;
    switch (v->op) {
    case LOGQL_VEC_BOTTOMK:
    case LOGQL_VEC_TOPK:
    case LOGQL_VEC_APPROX_TOPK: {
        int64_t k;
        if (!v->has_param)
            lk_buf_printf(&msg, "parameter required for operation %s", op);
        else if (lk_go_parse_int(v->param_text, &k) != 0)
            lk_buf_printf(&msg, "invalid parameter %s(%.*s,", op, LK_STR_FMT(v->param_text));
        else if (k <= 0)
            lk_buf_printf(&msg, "invalid parameter (must be greater than 0) %s(%.*s", op,
                          LK_STR_FMT(v->param_text));
        else if (v->op == LOGQL_VEC_APPROX_TOPK && v->grouping.present)
            lk_buf_printf(&msg, "grouping not allowed for %s aggregation", op);
        break;
    }
    default:
        if (v->has_param)
            lk_buf_printf(&msg, "unsupported parameter for operation %s(%.*s,", op,
                          LK_STR_FMT(v->param_text));
        break;
    }
    if (msg.len)
        rc = fail(err, msg.p);
    lk_buf_free(&msg);
    return rc;
}

/* mustNewBinOpExpr */
static int binop_error(const logql_binop_expr *b, lk_buf *err)
{
    const char *op = logql_binop_name(b->op);
    lk_buf msg = { 0 };
    int rc = 0;
    const logql_expr *legs[2] = { b->lhs, b->rhs };
    const char *side[2] = { "left", "right" };
    for (int i = 0; i < 2; i++) {
        if (legs[i]->kind == LOGQL_EXPR_LOG) {
            lk_buf_printf(&msg, "unexpected type for %s leg of binary operation (%s): %s", side[i],
                          op, legs[i]->u.log.n_stages ? "*syntax.PipelineExpr"
                                                      : "*syntax.MatchersExpr");
            goto out;
        }
    }
    for (int i = 0; i < 2; i++)
        if (legs[i]->kind == LOGQL_EXPR_LITERAL && (rc = literal_error(legs[i], err)))
            goto out;
    if (logql_binop_is_logical(b->op)) {
        for (int i = 0; i < 2; i++) {
            if (legs[i]->kind == LOGQL_EXPR_LITERAL) {
                lk_buf_printf(&msg, "unexpected literal for %s leg of logical/set binary "
                                    "operation (%s): ", side[i], op);
                go_percent_f(legs[i]->u.literal.value, &msg);
                goto out;
            }
        }
    }
out:
    if (msg.len)
        rc = fail(err, msg.p);
    lk_buf_free(&msg);
    return rc;
}

/* Expr.Selector(): the log selector whose matchers get the emptiness check,
 * NULL (no matchers) for literals and vector(). */
static int selector_of(const logql_expr *e, const logql_log_selector **sel, lk_buf *err)
{
    int rc;
    switch (e->kind) {
    case LOGQL_EXPR_LOG:
        *sel = &e->u.log;
        return 0;
    case LOGQL_EXPR_RANGE_AGG:
        if ((rc = range_error(&e->u.range, err)))
            return rc;
        *sel = &e->u.range.sel;
        return 0;
    case LOGQL_EXPR_VECTOR_AGG:
        if ((rc = vagg_error(&e->u.vagg, err)))
            return rc;
        return selector_of(e->u.vagg.inner, sel, err);
    case LOGQL_EXPR_BINOP:
        if ((rc = binop_error(&e->u.binop, err)))
            return rc;
        return selector_of(e->u.binop.lhs, sel, err);
    case LOGQL_EXPR_LABEL_REPLACE:
        if (e->u.label_replace.re_error) {
            lk_buf msg = { 0 };
            lk_buf_printf(&msg, "invalid regex in label_replace: %s", e->u.label_replace.re_error);
            rc = fail(err, msg.p);
            lk_buf_free(&msg);
            return rc;
        }
        return selector_of(e->u.label_replace.inner, sel, err);
    case LOGQL_EXPR_LITERAL:
    case LOGQL_EXPR_VECTOR:
        if ((rc = literal_error(e, err)))
            return rc;
        *sel = NULL;
        return 0;
    case LOGQL_EXPR_VARIANTS:
        /* Loki checks only the matchers of the shared log range here; the
         * variants themselves are checked when they are evaluated */
        *sel = &e->u.variants.of.sel;
        return 0;
    }
    LK_BUG("expression kind %d", (int)e->kind);
}

static int validate_sample(const logql_expr *e, lk_buf *err)
{
    int rc;
    switch (e->kind) {
    case LOGQL_EXPR_BINOP:
        if ((rc = binop_error(&e->u.binop, err)) || (rc = validate_sample(e->u.binop.lhs, err)))
            return rc;
        return validate_sample(e->u.binop.rhs, err);
    case LOGQL_EXPR_LITERAL:
    case LOGQL_EXPR_VECTOR:
        return literal_error(e, err);
    case LOGQL_EXPR_VECTOR_AGG:
        if ((rc = vagg_error(&e->u.vagg, err)))
            return rc;
        if ((e->u.vagg.op == LOGQL_VEC_SORT || e->u.vagg.op == LOGQL_VEC_SORT_DESC) &&
            e->u.vagg.grouping.n_labels > 0)
            return fail(err, "sort and sort_desc doesn't allow grouping by ");
        return validate_sample(e->u.vagg.inner, err);
    default: {
        const logql_log_selector *sel = NULL;
        if ((rc = selector_of(e, &sel, err)))
            return rc;
        return validate_matchers(sel, err);
    }
    }
}

int logql_validate(const logql_expr *e, lk_buf *err)
{
    if (e->kind == LOGQL_EXPR_LOG)
        return validate_matchers(&e->u.log, err);
    return validate_sample(e, err);
}
