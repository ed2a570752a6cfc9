/* The LogQL tree's storage (one arena plus the matchers and regexes that own
 * memory outside it) and the small helpers the engine uses to inspect a
 * parsed query. */
#include "query/logql/ast.h"

#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"

struct logql_tree {
    lk_arena arena;
    lk_matcher **matchers;
    size_t n_matchers, cap_matchers;
    lk_regex **regexes;
    size_t n_regexes, cap_regexes;
};

logql_tree *logql_tree_new(void)
{
    return lk_calloc(1, sizeof(logql_tree));
}

void logql_tree_free(logql_tree *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_matchers; i++)
        matcher_free(t->matchers[i]);
    for (size_t i = 0; i < t->n_regexes; i++)
        lk_regex_free(t->regexes[i]);
    free(t->matchers);
    free(t->regexes);
    lk_arena_free(&t->arena);
    free(t);
}

lk_arena *logql_tree_arena(logql_tree *t)
{
    return &t->arena;
}

void *logql_tree_alloc(logql_tree *t, size_t n)
{
    void *p = lk_arena_alloc(&t->arena, n ? n : 1);
    memset(p, 0, n ? n : 1);
    return p;
}

lk_str logql_tree_str(logql_tree *t, lk_str s)
{
    char *p = lk_arena_strndup(&t->arena, s.p ? s.p : "", s.len);
    return (lk_str){ p, s.len };
}

int logql_tree_matcher(logql_tree *t, lk_matcher *m, lk_match_type type, lk_str name,
                       lk_str value, lk_buf *err)
{
    int rc = matcher_init(m, type, name, value, err);
    if (rc)
        return rc;
    if (t->n_matchers == t->cap_matchers)
        t->matchers = lk_grow(t->matchers, &t->cap_matchers, t->n_matchers + 1,
                              sizeof(*t->matchers));
    t->matchers[t->n_matchers++] = m;
    return 0;
}

void logql_tree_own_regex(logql_tree *t, lk_regex *re)
{
    if (!re)
        return;
    if (t->n_regexes == t->cap_regexes)
        t->regexes = lk_grow(t->regexes, &t->cap_regexes, t->n_regexes + 1,
                             sizeof(*t->regexes));
    t->regexes[t->n_regexes++] = re;
}

void logql_expr_free(logql_expr *e)
{
    if (e && e->owner)
        logql_tree_free(e->owner);
}

/* ---- inspection ---------------------------------------------------------- */

bool logql_expr_is_log(const logql_expr *e)
{
    return e && e->kind == LOGQL_EXPR_LOG;
}

const logql_log_selector *logql_expr_selector(const logql_expr *e)
{
    if (!e)
        return NULL;
    if (e->kind == LOGQL_EXPR_LOG)
        return &e->u.log;
    if (e->kind == LOGQL_EXPR_RANGE_AGG)
        return &e->u.range.sel;
    return NULL;
}

bool logql_expr_has_variants(const logql_expr *e)
{
    switch (e->kind) {
    case LOGQL_EXPR_VARIANTS:
        return true;
    case LOGQL_EXPR_VECTOR_AGG:
        return logql_expr_has_variants(e->u.vagg.inner);
    case LOGQL_EXPR_BINOP:
        return logql_expr_has_variants(e->u.binop.lhs) ||
               logql_expr_has_variants(e->u.binop.rhs);
    case LOGQL_EXPR_LABEL_REPLACE:
        return logql_expr_has_variants(e->u.label_replace.inner);
    default:
        return false;
    }
}

bool logql_pipeline_is_filter_only(const logql_stage *stages, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (stages[i].kind != LOGQL_STAGE_LINE_FILTER)
            return false;
    return true;
}

bool logql_lf_negative(logql_lf_type t)
{
    return t == LOGQL_LF_NOT_CONTAINS || t == LOGQL_LF_NOT_REGEX || t == LOGQL_LF_NOT_PATTERN;
}

const char *logql_lf_op(logql_lf_type t)
{
    switch (t) {
    case LOGQL_LF_CONTAINS: return "|=";
    case LOGQL_LF_NOT_CONTAINS: return "!=";
    case LOGQL_LF_REGEX: return "|~";
    case LOGQL_LF_NOT_REGEX: return "!~";
    case LOGQL_LF_PATTERN: return "|>";
    case LOGQL_LF_NOT_PATTERN: return "!>";
    }
    LK_BUG("line filter type %d", (int)t);
}

const char *logql_cmp_op(logql_cmp c)
{
    switch (c) {
    case LOGQL_CMP_EQ: return "==";
    case LOGQL_CMP_NE: return "!=";
    case LOGQL_CMP_GT: return ">";
    case LOGQL_CMP_GE: return ">=";
    case LOGQL_CMP_LT: return "<";
    case LOGQL_CMP_LE: return "<=";
    }
    LK_BUG("comparison %d", (int)c);
}

const char *logql_range_op_name(logql_range_op op)
{
    static const char *const names[] = {
        [LOGQL_RANGE_COUNT] = "count_over_time",
        [LOGQL_RANGE_RATE] = "rate",
        [LOGQL_RANGE_RATE_COUNTER] = "rate_counter",
        [LOGQL_RANGE_BYTES] = "bytes_over_time",
        [LOGQL_RANGE_BYTES_RATE] = "bytes_rate",
        [LOGQL_RANGE_AVG] = "avg_over_time",
        [LOGQL_RANGE_SUM] = "sum_over_time",
        [LOGQL_RANGE_MIN] = "min_over_time",
        [LOGQL_RANGE_MAX] = "max_over_time",
        [LOGQL_RANGE_STDVAR] = "stdvar_over_time",
        [LOGQL_RANGE_STDDEV] = "stddev_over_time",
        [LOGQL_RANGE_QUANTILE] = "quantile_over_time",
        [LOGQL_RANGE_FIRST] = "first_over_time",
        [LOGQL_RANGE_LAST] = "last_over_time",
        [LOGQL_RANGE_ABSENT] = "absent_over_time",
    };
    if ((unsigned)op >= sizeof(names) / sizeof(names[0]))
        LK_BUG("range op %d", (int)op);
    return names[op];
}

const char *logql_vector_op_name(logql_vector_op op)
{
    static const char *const names[] = {
        [LOGQL_VEC_SUM] = "sum",
        [LOGQL_VEC_AVG] = "avg",
        [LOGQL_VEC_COUNT] = "count",
        [LOGQL_VEC_MAX] = "max",
        [LOGQL_VEC_MIN] = "min",
        [LOGQL_VEC_STDDEV] = "stddev",
        [LOGQL_VEC_STDVAR] = "stdvar",
        [LOGQL_VEC_BOTTOMK] = "bottomk",
        [LOGQL_VEC_TOPK] = "topk",
        [LOGQL_VEC_SORT] = "sort",
        [LOGQL_VEC_SORT_DESC] = "sort_desc",
        [LOGQL_VEC_APPROX_TOPK] = "approx_topk",
    };
    if ((unsigned)op >= sizeof(names) / sizeof(names[0]))
        LK_BUG("vector op %d", (int)op);
    return names[op];
}

const char *logql_binop_name(logql_binop op)
{
    static const char *const names[] = {
        [LOGQL_OP_OR] = "or",   [LOGQL_OP_AND] = "and", [LOGQL_OP_UNLESS] = "unless",
        [LOGQL_OP_ADD] = "+",   [LOGQL_OP_SUB] = "-",   [LOGQL_OP_MUL] = "*",
        [LOGQL_OP_DIV] = "/",   [LOGQL_OP_MOD] = "%",   [LOGQL_OP_POW] = "^",
        [LOGQL_OP_EQ] = "==",   [LOGQL_OP_NE] = "!=",   [LOGQL_OP_GT] = ">",
        [LOGQL_OP_GE] = ">=",   [LOGQL_OP_LT] = "<",    [LOGQL_OP_LE] = "<=",
    };
    if ((unsigned)op >= sizeof(names) / sizeof(names[0]))
        LK_BUG("binary op %d", (int)op);
    return names[op];
}

bool logql_binop_is_logical(logql_binop op)
{
    return op == LOGQL_OP_OR || op == LOGQL_OP_AND || op == LOGQL_OP_UNLESS;
}

bool logql_binop_is_comparison(logql_binop op)
{
    return op >= LOGQL_OP_EQ && op <= LOGQL_OP_LE;
}
