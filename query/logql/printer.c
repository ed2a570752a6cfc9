/* Prints a LogQL tree in Loki's canonical form: the String() methods of
 * pkg/logql/syntax/ast.go and pkg/logql/log/label_filter.go, e.g.
 *   sum by (level)(count_over_time({app="api"} | logfmt[5m]))
 *   (sum(rate({app="api"}[5m])) / 2)
 *   {app="api"} | logfmt | ( status>=500 , duration>100ms )
 * Numbers follow Go's formatting (%v, FormatFloat 'f' -1, %f), durations
 * Prometheus' (ranges) and Go's (offsets, label filters), byte sizes
 * go-humanize's. Where Loki's own text would not parse back the same (a NaN
 * or infinite literal, a byte size of 0 or in exabytes, `ignoring ()` with
 * group_left) an equivalent that does is printed, so printing is stable:
 * format(parse(format(e))) == format(e). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/gofloat.h"
#include "lib/labels.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/logql/ast.h"
#include "query/logql/lexer.h"

/* ---- Go number formatting (lib/gofloat.h) --------------------------------- */

/* A number as it must be written to read back as itself: Loki's lexer reads
 * "-0" as a duration (Go's time.ParseDuration accepts it). */
static void print_number_f(double v, lk_buf *out)
{
    if (v == 0 && signbit(v))
        lk_buf_puts(out, "-0.0");
    else
        lk_gofloat_append(out, v, 'f', -1);
}

/* A literal as it must be written to read back as itself. */
static void print_literal(double v, lk_buf *out)
{
    if (v == 0 && signbit(v))
        lk_buf_puts(out, "-0.0");
    else if (isnan(v))
        lk_buf_puts(out, "(0 / 0)");
    else if (isinf(v))
        lk_buf_puts(out, v > 0 ? "(2 ^ 1024)" : "(-2 ^ 1025)");
    else
        lk_gofloat_append(out, v, 'g', -1); /* fmt.Sprint */
}

/* ---- byte sizes: go-humanize Bytes, spaces removed ------------------------- */

static void humanize_bytes(uint64_t s, lk_buf *out)
{
    static const char *const sizes[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
    if (s < 10) {
        lk_buf_printf(out, "%" PRIu64 "B", s);
        return;
    }
    double e = floor(log((double)s) / log(1000.0));
    int ei = (int)e;
    if (ei > 6)
        ei = 6;
    double val = floor((double)s / pow(1000.0, e) * 10 + 0.5) / 10;
    lk_buf_printf(out, val < 10 ? "%.1f%s" : "%.0f%s", val, sizes[ei]);
}

/* What the lexer reads back from a printed size. */
static bool reparse_bytes(lk_str s, uint64_t *out)
{
    size_t i = 0;
    while (i < s.len && ((s.p[i] >= '0' && s.p[i] <= '9') || s.p[i] == '.'))
        i++;
    double f;
    if (logql_parse_float((lk_str){ s.p, i }, &f) != 0)
        return false;
    lk_str unit = { s.p + i, s.len - i };
    static const struct {
        const char *u;
        double m;
    } units[] = { { "B", 1 }, { "kB", 1e3 }, { "MB", 1e6 }, { "GB", 1e9 }, { "TB", 1e12 } };
    for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
        if (lk_str_eq_c(unit, units[k].u)) {
            double b = f * units[k].m;
            if (b >= 18446744073709551616.0)
                return false;
            *out = (uint64_t)b;
            return true;
        }
    }
    return false;
}

/* humanize.Bytes without spaces, except where that text would not lex
 * back: 0 ("0B" starts a binary literal), petabytes ("5PB": a 'p' exponent)
 * and exabytes (no 'E' unit), which are written "0kB" and as a byte count. */
static void bytes_text(uint64_t v, lk_buf *out)
{
    if (v == 0) {
        lk_buf_puts(out, "0kB");
        return;
    }
    size_t mark = out->len;
    humanize_bytes(v, out);
    if (out->len - mark >= 2 && out->p[out->len - 1] == 'B' &&
        (out->p[out->len - 2] == 'P' || out->p[out->len - 2] == 'E')) {
        out->len = mark;
        out->p[mark] = '\0';
        lk_buf_printf(out, "%" PRIu64 "B", v);
    }
}

/* Loki's text for a byte size. Rounding can make it read back as another
 * size ("1000kB" is 1MB, printed "1.0MB"); settle on the text that reads
 * back as itself so printing is stable. */
static void print_bytes(uint64_t v, lk_buf *out)
{
    lk_buf cur = { 0 }, nxt = { 0 };
    bytes_text(v, &cur);
    for (int i = 0; i < 8; i++) {
        uint64_t back;
        if (!reparse_bytes(lk_buf_str(&cur), &back))
            break;
        lk_buf_reset(&nxt);
        bytes_text(back, &nxt);
        if (lk_str_eq(lk_buf_str(&cur), lk_buf_str(&nxt)))
            break;
        lk_buf tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    lk_buf_put_str(out, lk_buf_str(&cur));
    lk_buf_free(&cur);
    lk_buf_free(&nxt);
}

/* ---- pieces ----------------------------------------------------------------- */

static void print_matcher(const lk_matcher *m, lk_buf *out)
{
    lk_buf_append(out, m->name, m->name_len);
    lk_buf_puts(out, matcher_op(m->type));
    lk_go_quote((lk_str){ m->value, m->value_len }, out);
}

static void print_labels(const lk_str *labels, size_t n, lk_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            lk_buf_putc(out, ',');
        lk_buf_put_str(out, labels[i]);
    }
}

static void print_grouping(const logql_grouping *g, lk_buf *out)
{
    lk_buf_puts(out, g->without ? " without (" : " by (");
    print_labels(g->labels, g->n_labels, out);
    lk_buf_putc(out, ')');
}

static void print_lf_alt(const logql_lf_alt *a, lk_buf *out)
{
    if (a->ip) {
        lk_buf_puts(out, "ip(");
        lk_go_quote(a->value, out);
        lk_buf_putc(out, ')');
    } else {
        lk_go_quote(a->value, out);
    }
}

static void print_line_filter(const logql_line_filter *f, lk_buf *out)
{
    const char *op = logql_lf_op(f->type);
    if (logql_lf_negative(f->type)) {
        /* Loki rewrites `!= "a" or "b"` into `!= "a" != "b"` */
        for (size_t i = 0; i < f->n_alts; i++) {
            if (i)
                lk_buf_putc(out, ' ');
            lk_buf_printf(out, "%s ", op);
            print_lf_alt(&f->alts[i], out);
        }
        return;
    }
    lk_buf_printf(out, "%s ", op);
    for (size_t i = 0; i < f->n_alts; i++) {
        if (i)
            lk_buf_puts(out, " or ");
        print_lf_alt(&f->alts[i], out);
    }
}

void logql_format_label_filter(const logql_label_filter *f, lk_buf *out)
{
    switch (f->kind) {
    case LOGQL_LBF_STRING:
        print_matcher(f->u.matcher, out);
        return;
    case LOGQL_LBF_NUMBER:
        lk_buf_put_str(out, f->name);
        lk_buf_puts(out, logql_cmp_op(f->cmp));
        print_number_f(f->u.number, out);
        return;
    case LOGQL_LBF_DURATION:
        lk_buf_put_str(out, f->name);
        lk_buf_puts(out, logql_cmp_op(f->cmp));
        lk_format_go_duration(f->u.duration_ns, out);
        return;
    case LOGQL_LBF_BYTES:
        lk_buf_put_str(out, f->name);
        lk_buf_puts(out, logql_cmp_op(f->cmp));
        print_bytes(f->u.bytes, out);
        return;
    case LOGQL_LBF_IP:
        lk_buf_put_str(out, f->name);
        lk_buf_puts(out, f->cmp == LOGQL_CMP_NE ? "!=ip(" : "=ip(");
        lk_go_quote(f->u.ip_pattern, out);
        lk_buf_putc(out, ')');
        return;
    case LOGQL_LBF_AND:
    case LOGQL_LBF_OR:
        lk_buf_puts(out, "( ");
        logql_format_label_filter(f->u.bin.left, out);
        lk_buf_puts(out, f->kind == LOGQL_LBF_AND ? " , " : " or ");
        logql_format_label_filter(f->u.bin.right, out);
        lk_buf_puts(out, " )");
        return;
    }
    LK_BUG("label filter kind %d", (int)f->kind);
}

static void print_extractions(const logql_extract *x, size_t n, lk_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            lk_buf_putc(out, ',');
        lk_buf_put_str(out, x[i].label);
        lk_buf_putc(out, '=');
        lk_go_quote(x[i].expr, out);
    }
}

static void print_named_matchers(const char *op, const logql_stage *s, lk_buf *out)
{
    lk_buf_printf(out, "| %s ", op);
    for (size_t i = 0; i < s->u.names.n; i++) {
        if (i)
            lk_buf_putc(out, ',');
        if (s->u.names.v[i].matcher)
            print_matcher(s->u.names.v[i].matcher, out);
        else
            lk_buf_put_str(out, s->u.names.v[i].name);
    }
}

void logql_format_stage(const logql_stage *s, lk_buf *out)
{
    switch (s->kind) {
    case LOGQL_STAGE_LINE_FILTER:
        print_line_filter(&s->u.line_filter, out);
        return;
    case LOGQL_STAGE_JSON:
        if (!s->u.json.n_params) {
            lk_buf_puts(out, "| json");
            return;
        }
        lk_buf_puts(out, "| json ");
        print_extractions(s->u.json.params, s->u.json.n_params, out);
        return;
    case LOGQL_STAGE_LOGFMT:
        if (!s->u.logfmt.n_params) {
            lk_buf_puts(out, "| logfmt");
            if (s->u.logfmt.strict)
                lk_buf_puts(out, " --strict");
            if (s->u.logfmt.keep_empty)
                lk_buf_puts(out, " --keep-empty");
            return;
        }
        lk_buf_puts(out, "| logfmt ");
        if (s->u.logfmt.strict)
            lk_buf_puts(out, "--strict ");
        if (s->u.logfmt.keep_empty)
            lk_buf_puts(out, "--keep-empty ");
        print_extractions(s->u.logfmt.params, s->u.logfmt.n_params, out);
        return;
    case LOGQL_STAGE_REGEXP:
        lk_buf_puts(out, "| regexp ");
        lk_go_quote(s->u.regexp, out);
        return;
    case LOGQL_STAGE_PATTERN:
        lk_buf_puts(out, "| pattern ");
        lk_go_quote(s->u.pattern, out);
        return;
    case LOGQL_STAGE_UNPACK:
        lk_buf_puts(out, "| unpack");
        return;
    case LOGQL_STAGE_LABEL_FILTER:
        lk_buf_puts(out, "| ");
        logql_format_label_filter(s->u.label_filter, out);
        return;
    case LOGQL_STAGE_LINE_FORMAT:
        lk_buf_puts(out, "| line_format ");
        lk_go_quote(s->u.line_format, out);
        return;
    case LOGQL_STAGE_LABEL_FORMAT:
        lk_buf_puts(out, "| label_format ");
        for (size_t i = 0; i < s->u.label_format.n; i++) {
            const logql_label_fmt *f = &s->u.label_format.v[i];
            if (i)
                lk_buf_putc(out, ',');
            lk_buf_put_str(out, f->dst);
            lk_buf_putc(out, '=');
            if (f->rename)
                lk_buf_put_str(out, f->value);
            else
                lk_go_quote(f->value, out);
        }
        return;
    case LOGQL_STAGE_DROP:
        print_named_matchers("drop", s, out);
        return;
    case LOGQL_STAGE_KEEP:
        print_named_matchers("keep", s, out);
        return;
    case LOGQL_STAGE_DECOLORIZE:
        lk_buf_puts(out, "| decolorize");
        return;
    }
    LK_BUG("stage kind %d", (int)s->kind);
}

static void print_selector(const logql_log_selector *sel, lk_buf *out)
{
    lk_buf_putc(out, '{');
    for (size_t i = 0; i < sel->n_matchers; i++) {
        if (i)
            lk_buf_puts(out, ", ");
        print_matcher(&sel->matchers[i], out);
    }
    lk_buf_putc(out, '}');
    for (size_t i = 0; i < sel->n_stages; i++) {
        lk_buf_putc(out, ' ');
        logql_format_stage(&sel->stages[i], out);
    }
}

static void print_unwrap(const logql_unwrap *u, lk_buf *out)
{
    static const char *const conv[] = {
        [LOGQL_CONV_NONE] = "",
        [LOGQL_CONV_BYTES] = "bytes",
        [LOGQL_CONV_DURATION] = "duration",
        [LOGQL_CONV_DURATION_SECONDS] = "duration_seconds",
    };
    if (u->conv == LOGQL_CONV_NONE)
        lk_buf_printf(out, " | unwrap %.*s", LK_STR_FMT(u->label));
    else
        lk_buf_printf(out, " | unwrap %s(%.*s)", conv[u->conv], LK_STR_FMT(u->label));
    for (size_t i = 0; i < u->n_post; i++) {
        lk_buf_puts(out, " | ");
        logql_format_label_filter(u->post[i], out);
    }
}

/* Loki's LogRangeExpr: {...} | pipeline | unwrap x[5m] offset 1h */
static void print_log_range(const logql_range_agg *r, lk_buf *out)
{
    print_selector(&r->sel, out);
    if (r->unwrap)
        print_unwrap(r->unwrap, out);
    lk_buf_putc(out, '[');
    lk_format_prom_duration(r->range_ns, out);
    lk_buf_putc(out, ']');
    if (r->offset_ns) {
        lk_buf_puts(out, " offset ");
        lk_format_go_duration(r->offset_ns, out);
    }
}

static void print_range_agg(const logql_range_agg *r, lk_buf *out)
{
    lk_buf_puts(out, logql_range_op_name(r->op));
    lk_buf_putc(out, '(');
    if (r->has_param) {
        lk_gofloat_append(out, r->param, 'f', -1);
        lk_buf_putc(out, ',');
    }
    print_log_range(r, out);
    lk_buf_putc(out, ')');
    if (r->grouping.present)
        print_grouping(&r->grouping, out);
}

static void print_vector_agg(const logql_vector_agg *v, lk_buf *out)
{
    lk_buf_puts(out, logql_vector_op_name(v->op));
    /* a missing grouping and `by ()` both aggregate everything */
    if (v->grouping.present && (v->grouping.without || v->grouping.n_labels))
        print_grouping(&v->grouping, out);
    lk_buf_putc(out, '(');
    bool k_op = v->op == LOGQL_VEC_TOPK || v->op == LOGQL_VEC_BOTTOMK ||
                v->op == LOGQL_VEC_APPROX_TOPK;
    if (k_op || (v->has_param && v->param != 0))
        lk_buf_printf(out, "%" PRId64 ",", v->param);
    logql_format(v->inner, out);
    lk_buf_putc(out, ')');
}

static void print_binop(const logql_binop_expr *b, lk_buf *out)
{
    lk_buf rhs = { 0 };
    logql_format(b->rhs, &rhs);
    lk_buf_putc(out, '(');
    logql_format(b->lhs, out);
    lk_buf_printf(out, " %s", logql_binop_name(b->op));
    if (b->return_bool)
        lk_buf_puts(out, " bool");
    /* Loki prints the matching when on(...) or a non-empty ignoring(...) was
     * given; an `ignoring ()` carrying group_left / group_right is printed
     * too, or the cardinality would be lost */
    if (b->matching && (b->on || b->n_match_labels || b->card != LOGQL_CARD_ONE_TO_ONE)) {
        lk_buf_printf(out, " %s (", b->on ? "on" : "ignoring");
        print_labels(b->match_labels, b->n_match_labels, out);
        lk_buf_puts(out, ") ");
        if (b->card == LOGQL_CARD_MANY_TO_ONE)
            lk_buf_puts(out, "group_left");
        else if (b->card == LOGQL_CARD_ONE_TO_MANY)
            lk_buf_puts(out, "group_right");
        if (b->n_include) {
            lk_buf_puts(out, " (");
            print_labels(b->include, b->n_include, out);
            lk_buf_putc(out, ')');
        } else if (b->card != LOGQL_CARD_ONE_TO_ONE && rhs.len && rhs.p[0] == '(') {
            /* `group_left (` opens the include list: say it is empty */
            lk_buf_puts(out, " ()");
        }
    }
    lk_buf_putc(out, ' ');
    lk_buf_put_str(out, lk_buf_str(&rhs));
    lk_buf_putc(out, ')');
    lk_buf_free(&rhs);
}

static void print_label_replace(const logql_label_replace *l, lk_buf *out)
{
    lk_buf_puts(out, "label_replace(");
    logql_format(l->inner, out);
    const lk_str args[4] = { l->dst, l->replacement, l->src, l->regex };
    for (int i = 0; i < 4; i++) {
        lk_buf_putc(out, ',');
        lk_go_quote(args[i], out);
    }
    lk_buf_putc(out, ')');
}

static void print_variants(const logql_variants *v, lk_buf *out)
{
    lk_buf_puts(out, "variants(");
    for (size_t i = 0; i < v->n; i++) {
        if (i)
            lk_buf_puts(out, ", ");
        logql_format(v->v[i], out);
    }
    lk_buf_puts(out, ") of (");
    print_log_range(&v->of, out);
    lk_buf_putc(out, ')');
}

void logql_format(const logql_expr *e, lk_buf *out)
{
    switch (e->kind) {
    case LOGQL_EXPR_LOG:
        print_selector(&e->u.log, out);
        return;
    case LOGQL_EXPR_RANGE_AGG:
        print_range_agg(&e->u.range, out);
        return;
    case LOGQL_EXPR_VECTOR_AGG:
        print_vector_agg(&e->u.vagg, out);
        return;
    case LOGQL_EXPR_BINOP:
        print_binop(&e->u.binop, out);
        return;
    case LOGQL_EXPR_LITERAL:
        print_literal(e->u.literal.value, out);
        return;
    case LOGQL_EXPR_VECTOR:
        lk_buf_printf(out, "vector(%f)", e->u.literal.value);
        return;
    case LOGQL_EXPR_LABEL_REPLACE:
        print_label_replace(&e->u.label_replace, out);
        return;
    case LOGQL_EXPR_VARIANTS:
        print_variants(&e->u.variants, out);
        return;
    }
    LK_BUG("expression kind %d", (int)e->kind);
}
