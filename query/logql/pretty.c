/* logql_prettify: the multi-line form of /loki/api/v1/format_query, after
 * Loki's syntax.Prettify (itself after PromQL's prettier). An expression
 * whose canonical form (logql_format) fits in 100 characters stays on one
 * line, indented by two spaces per level; a longer one is split: pipeline
 * stages one per line (consecutive line filters form one stage, split
 * further only when they are too long themselves), aggregation arguments
 * on their own lines, binary operators between their operands. Loki's
 * quirks are kept (`| decolorize` is never indented, a split range puts a
 * space before `[5m]`, a split binary operation drops its parentheses). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/labels.h"
#include "lib/timeutil.h"
#include "query/logql/ast.h"

/* Loki splits expressions longer than this (maxCharsPerLine). */
static _Thread_local size_t max_line = 100;

static void indent(lk_buf *out, int level)
{
    for (int i = 0; i < level; i++)
        lk_buf_puts(out, "  ");
}

static size_t expr_len(const logql_expr *e)
{
    lk_buf b = { 0 };
    logql_format(e, &b);
    size_t n = b.len;
    lk_buf_free(&b);
    return n;
}

static void put_expr(lk_buf *out, int level, const logql_expr *e)
{
    indent(out, level);
    logql_format(e, out);
}

/* The stages of a selector grouped as Loki's AST holds them: a run of line
 * filters is one stage. Returns the index after the group starting at i. */
static size_t stage_group_end(const logql_log_selector *sel, size_t i)
{
    if (sel->stages[i].kind != LOGQL_STAGE_LINE_FILTER)
        return i + 1;
    while (i < sel->n_stages && sel->stages[i].kind == LOGQL_STAGE_LINE_FILTER)
        i++;
    return i;
}

static void stage_group_text(const logql_log_selector *sel, size_t from, size_t to, lk_buf *out)
{
    for (size_t i = from; i < to; i++) {
        if (i > from)
            lk_buf_putc(out, ' ');
        logql_format_stage(&sel->stages[i], out);
    }
}

static void pretty_stage_group(const logql_log_selector *sel, size_t from, size_t to,
                               int level, lk_buf *out)
{
    lk_buf t = { 0 };
    stage_group_text(sel, from, to, &t);
    bool decolorize = to == from + 1 && sel->stages[from].kind == LOGQL_STAGE_DECOLORIZE;
    if (sel->stages[from].kind != LOGQL_STAGE_LINE_FILTER || t.len <= max_line) {
        if (!decolorize) /* Loki's DecolorizeExpr.Pretty forgets the indent */
            indent(out, level);
        lk_buf_put_str(out, lk_buf_str(&t));
    } else {
        for (size_t i = from; i < to; i++) { /* a long filter chain: one per line */
            if (i > from)
                lk_buf_putc(out, '\n');
            indent(out, level);
            logql_format_stage(&sel->stages[i], out);
        }
    }
    lk_buf_free(&t);
}

static void pretty_selector(const logql_log_selector *sel, int level, lk_buf *out)
{
    logql_expr tmp = { .kind = LOGQL_EXPR_LOG, .u.log = *sel };
    if (!sel->n_stages || expr_len(&tmp) <= max_line) {
        put_expr(out, level, &tmp);
        return;
    }
    logql_expr bare = { .kind = LOGQL_EXPR_LOG, .u.log = *sel };
    bare.u.log.n_stages = 0;
    put_expr(out, level, &bare);
    lk_buf_putc(out, '\n');
    for (size_t i = 0; i < sel->n_stages;) {
        size_t j = stage_group_end(sel, i);
        pretty_stage_group(sel, i, j, level + 1, out);
        if (j < sel->n_stages)
            lk_buf_putc(out, '\n');
        i = j;
    }
}

static void pretty_unwrap(const logql_unwrap *u, int level, lk_buf *out)
{
    static const char *const conv[] = {
        [LOGQL_CONV_NONE] = "",
        [LOGQL_CONV_BYTES] = "bytes",
        [LOGQL_CONV_DURATION] = "duration",
        [LOGQL_CONV_DURATION_SECONDS] = "duration_seconds",
    };
    indent(out, level);
    if (u->conv == LOGQL_CONV_NONE)
        lk_buf_printf(out, "| unwrap %.*s", LK_STR_FMT(u->label));
    else
        lk_buf_printf(out, "| unwrap %s(%.*s)", conv[u->conv], LK_STR_FMT(u->label));
    for (size_t i = 0; i < u->n_post; i++) {
        lk_buf_putc(out, '\n');
        indent(out, level);
        lk_buf_puts(out, "| ");
        logql_format_label_filter(u->post[i], out);
    }
}

static void pretty_grouping(const logql_grouping *g, lk_buf *out)
{
    if (!g->present)
        return;
    if (g->without)
        lk_buf_puts(out, " without");
    else if (g->n_labels)
        lk_buf_puts(out, " by");
    if (g->n_labels) {
        lk_buf_puts(out, " (");
        for (size_t i = 0; i < g->n_labels; i++) {
            if (i)
                lk_buf_puts(out, ", ");
            lk_buf_put_str(out, g->labels[i]);
        }
        lk_buf_putc(out, ')');
    }
}

/* Go's fmt.Sprint of a float64 (%v: shortest, exponent past 1e21). */
static void go_float(double v, lk_buf *out)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    lk_buf_puts(out, tmp);
}

static void pretty(const logql_expr *e, int level, lk_buf *out);

/* Loki's LogRangeExpr.Pretty: the selector at level, the unwrap on its own
 * line, then " [5m]" and the offset. */
static void pretty_log_range(const logql_range_agg *r, int level, lk_buf *out)
{
    pretty_selector(&r->sel, level, out);
    if (r->unwrap) {
        lk_buf_putc(out, '\n');
        pretty_unwrap(r->unwrap, level + 1, out);
    }
    lk_buf_puts(out, " [");
    lk_format_prom_duration(r->range_ns, out);
    lk_buf_putc(out, ']');
    if (r->offset_ns) {
        lk_buf_puts(out, " offset ");
        lk_format_prom_duration(r->offset_ns, out);
    }
}

static void pretty_range(const logql_range_agg *r, int level, lk_buf *out)
{
    lk_buf_puts(out, logql_range_op_name(r->op));
    lk_buf_puts(out, "(\n");
    if (r->has_param) {
        indent(out, level + 1);
        go_float(r->param, out);
        lk_buf_puts(out, ",\n");
    }
    pretty_log_range(r, level + 1, out);
    lk_buf_putc(out, '\n');
    indent(out, level);
    lk_buf_putc(out, ')');
    pretty_grouping(&r->grouping, out);
}

static void pretty_vector(const logql_vector_agg *v, int level, lk_buf *out)
{
    lk_buf_puts(out, logql_vector_op_name(v->op));
    pretty_grouping(&v->grouping, out);
    lk_buf_puts(out, "(\n");
    bool k_op = v->op == LOGQL_VEC_TOPK || v->op == LOGQL_VEC_BOTTOMK ||
                v->op == LOGQL_VEC_APPROX_TOPK;
    if (k_op || (v->has_param && v->param != 0)) {
        indent(out, level + 1);
        lk_buf_printf(out, "%" PRId64 ",\n", v->param);
    }
    pretty(v->inner, level + 1, out);
    lk_buf_putc(out, '\n');
    indent(out, level);
    lk_buf_putc(out, ')');
}

static void pretty_binop(const logql_binop_expr *b, int level, lk_buf *out)
{
    pretty(b->lhs, level + 1, out);
    lk_buf_putc(out, '\n');
    indent(out, level);
    lk_buf_puts(out, logql_binop_name(b->op));
    if (b->return_bool)
        lk_buf_puts(out, " bool");
    if (b->matching && b->n_match_labels) {
        lk_buf_printf(out, " %s (", b->on ? "on" : "ignoring");
        for (size_t i = 0; i < b->n_match_labels; i++) {
            if (i)
                lk_buf_puts(out, ", ");
            lk_buf_put_str(out, b->match_labels[i]);
        }
        lk_buf_puts(out, ") ");
        if (b->card == LOGQL_CARD_MANY_TO_ONE)
            lk_buf_puts(out, "group_left");
        else if (b->card == LOGQL_CARD_ONE_TO_MANY)
            lk_buf_puts(out, "group_right");
        if (b->card != LOGQL_CARD_ONE_TO_ONE && b->n_include) {
            lk_buf_puts(out, " (");
            for (size_t i = 0; i < b->n_include; i++) {
                if (i)
                    lk_buf_puts(out, ", ");
                lk_buf_put_str(out, b->include[i]);
            }
            lk_buf_putc(out, ')');
        }
    }
    lk_buf_putc(out, '\n');
    pretty(b->rhs, level + 1, out);
}

static void pretty_label_replace(const logql_label_replace *l, int level, lk_buf *out)
{
    lk_buf_puts(out, "label_replace(\n");
    pretty(l->inner, level + 1, out);
    const lk_str args[4] = { l->dst, l->replacement, l->src, l->regex };
    for (int i = 0; i < 4; i++) {
        lk_buf_puts(out, ",\n");
        indent(out, level + 1);
        lk_go_quote(args[i], out);
    }
    lk_buf_putc(out, '\n');
    indent(out, level);
    lk_buf_putc(out, ')');
}

/* Loki's MultiVariantExpr.Pretty splits whatever the length, and ends with
 * the indent before the newline rather than after it. */
static void pretty_variants(const logql_variants *v, int level, lk_buf *out)
{
    lk_buf_puts(out, "variants(\n");
    for (size_t i = 0; i < v->n; i++) {
        pretty(v->v[i], level + 1, out);
        lk_buf_puts(out, i + 1 < v->n ? ",\n" : "\n");
    }
    indent(out, level);
    lk_buf_puts(out, ") of (\n");
    pretty_log_range(&v->of, level + 1, out);
    indent(out, level);
    lk_buf_puts(out, "\n)");
}

static void pretty(const logql_expr *e, int level, lk_buf *out)
{
    if (e->kind == LOGQL_EXPR_VARIANTS) {
        indent(out, level);
        pretty_variants(&e->u.variants, level, out);
        return;
    }
    if (e->kind == LOGQL_EXPR_LOG) {
        pretty_selector(&e->u.log, level, out);
        return;
    }
    if (e->kind == LOGQL_EXPR_LITERAL || e->kind == LOGQL_EXPR_VECTOR || expr_len(e) <= max_line) {
        put_expr(out, level, e);
        return;
    }
    if (e->kind != LOGQL_EXPR_BINOP)
        indent(out, level);
    switch (e->kind) {
    case LOGQL_EXPR_RANGE_AGG: pretty_range(&e->u.range, level, out); break;
    case LOGQL_EXPR_VECTOR_AGG: pretty_vector(&e->u.vagg, level, out); break;
    case LOGQL_EXPR_BINOP: pretty_binop(&e->u.binop, level, out); break;
    case LOGQL_EXPR_LABEL_REPLACE: pretty_label_replace(&e->u.label_replace, level, out); break;
    default: break;
    }
}

void logql_prettify_width(const logql_expr *e, size_t width, lk_buf *out)
{
    size_t saved = max_line;
    max_line = width;
    pretty(e, 0, out);
    max_line = saved;
}

void logql_prettify(const logql_expr *e, lk_buf *out)
{
    logql_prettify_width(e, 100, out);
}
