/* The LogQL parser: recursive descent over the tokens of query/logql/lexer.c,
 * building the tree of query/logql/ast.h. It accepts exactly Loki's grammar
 * (pkg/logql/syntax/syntax.y) and resolves its ambiguities the way goyacc's
 * LALR tables do:
 *   - binary operators by precedence (or < and unless < comparisons < + - <
 *     * / % < ^, ^ right-associative), literals folded like reduceBinOp;
 *   - after a log selector a `!=` is a line filter, never a comparison;
 *   - in label filters `and` binds tighter than `or`, while a comma or plain
 *     juxtaposition next to `or` groups to the right (a , b or c is
 *     a and (b or c)), as the shift/reduce defaults decide;
 *   - `group_left (` always opens the include list.
 * Syntax errors are goyacc's "syntax error: unexpected X[, expecting A or
 * B]", at the unexpected token; the expectation list is given where the
 * LALR state has at most four shiftable tokens and no default reduction. */
#include "query/logql/parser.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/mem.h"
#include "query/logql/lexer.h"
#include "query/pipeline/linefilter.h"

#define MAX_DEPTH 1000

typedef struct parser {
    logql_lexer lx;
    logql_tree *tree;
    lk_buf *err;
    logql_token tok; /* the current token */
    logql_token la;  /* the one after it, when has_la */
    bool has_la;
    int depth;
} parser;

/* ---- tokens and errors ---------------------------------------------------- */

static int next(parser *p)
{
    if (p->has_la) {
        p->tok = p->la;
        p->has_la = false;
        return 0;
    }
    return logql_lexer_next(&p->lx, &p->tok, p->err);
}

static int peek(parser *p, logql_tok *kind)
{
    if (!p->has_la) {
        int rc = logql_lexer_next(&p->lx, &p->la, p->err);
        if (rc)
            return rc;
        p->has_la = true;
    }
    *kind = p->la.kind;
    return 0;
}

static int syntax_error(parser *p, const char *expecting)
{
    if (p->err) {
        logql_error_prefix(p->err, p->tok.line, p->tok.col);
        lk_buf_printf(p->err, "syntax error: unexpected %s", logql_tok_name(p->tok.kind));
        if (expecting)
            lk_buf_printf(p->err, ", expecting %s", expecting);
    }
    return LK_EPARSE;
}

static int semantic_error(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int semantic_error(parser *p, const char *fmt, ...)
{
    if (p->err) {
        logql_error_prefix(p->err, 0, 0);
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n > 0) {
            lk_buf_reserve(p->err, (size_t)n + 1);
            va_start(ap, fmt);
            vsnprintf(p->err->p + p->err->len, (size_t)n + 1, fmt, ap);
            va_end(ap);
            p->err->len += (size_t)n;
        }
    }
    return LK_EPARSE;
}

/* Consumes a token of the given kind or reports it missing. */
static int expect(parser *p, logql_tok kind, const char *expecting)
{
    if (p->tok.kind != kind)
        return syntax_error(p, expecting);
    return next(p);
}

static int enter(parser *p)
{
    if (++p->depth > MAX_DEPTH)
        return semantic_error(p, "query nested too deeply (more than %d levels)", MAX_DEPTH);
    return 0;
}

static void leave(parser *p)
{
    p->depth--;
}

/* ---- arena vectors -------------------------------------------------------- */

typedef struct vec {
    void *v;
    size_t n, cap;
} vec;

static void *vec_push(parser *p, vec *a, size_t elem)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 4;
        void *nv = logql_tree_alloc(p->tree, nc * elem);
        if (a->n)
            memcpy(nv, a->v, a->n * elem);
        a->v = nv;
        a->cap = nc;
    }
    void *slot = (char *)a->v + a->n * elem;
    a->n++;
    memset(slot, 0, elem);
    return slot;
}

static lk_str tree_str(parser *p, lk_str s)
{
    return logql_tree_str(p->tree, s);
}

static logql_expr *new_expr(parser *p, logql_expr_kind kind)
{
    logql_expr *e = logql_tree_alloc(p->tree, sizeof(*e));
    e->kind = kind;
    return e;
}

/* A matcher in the tree; a bad regex is a parse error, as Loki's
 * mustNewMatcher panics while parsing. */
static int new_matcher(parser *p, lk_match_type type, lk_str name, lk_str value,
                       lk_matcher **out)
{
    lk_matcher *m = logql_tree_alloc(p->tree, sizeof(*m));
    lk_buf msg = { 0 };
    int rc = logql_tree_matcher(p->tree, m, type, name, value, &msg);
    if (rc) {
        rc = semantic_error(p, "%s", msg.len ? msg.p : "invalid matcher");
        lk_buf_free(&msg);
        return rc;
    }
    lk_buf_free(&msg);
    *out = m;
    return 0;
}

static bool match_type(logql_tok t, lk_match_type *out)
{
    switch (t) {
    case LQ_EQ: *out = LK_MATCH_EQ; return true;
    case LQ_NEQ: *out = LK_MATCH_NEQ; return true;
    case LQ_RE: *out = LK_MATCH_RE; return true;
    case LQ_NRE: *out = LK_MATCH_NRE; return true;
    default: return false;
    }
}

/* ---- label lists: by (a, b), on (a), group_left (a) ------------------------ */

/* Current token is '('. Reads `( [IDENT {, IDENT}] )`. */
static int parse_label_list(parser *p, lk_str **labels, size_t *n)
{
    int rc = next(p);
    if (rc)
        return rc;
    vec v = { 0 };
    if (p->tok.kind == LQ_RPAREN) {
        *labels = NULL;
        *n = 0;
        return next(p);
    }
    for (bool first = true;; first = false) {
        if (p->tok.kind != LQ_IDENT)
            return syntax_error(p, first ? "IDENTIFIER or )" : "IDENTIFIER");
        lk_str *slot = vec_push(p, &v, sizeof(lk_str));
        *slot = tree_str(p, p->tok.text);
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind == LQ_COMMA) {
            if ((rc = next(p)))
                return rc;
            continue;
        }
        if (p->tok.kind == LQ_RPAREN)
            break;
        return syntax_error(p, ", or )");
    }
    *labels = v.v;
    *n = v.n;
    return next(p);
}

static int parse_grouping(parser *p, logql_grouping *g)
{
    g->present = true;
    g->without = p->tok.kind == LQ_WITHOUT;
    int rc = next(p);
    if (rc)
        return rc;
    if (p->tok.kind != LQ_LPAREN)
        return syntax_error(p, "(");
    return parse_label_list(p, &g->labels, &g->n_labels);
}

/* ---- label filters -------------------------------------------------------- */

static logql_label_filter *new_lbf(parser *p, logql_lbf_kind kind)
{
    logql_label_filter *f = logql_tree_alloc(p->tree, sizeof(*f));
    f->kind = kind;
    return f;
}

static int parse_label_filter_expr(parser *p, logql_label_filter **out);

static bool cmp_of(logql_tok t, logql_cmp *out)
{
    switch (t) {
    case LQ_EQ: case LQ_CMP_EQ: *out = LOGQL_CMP_EQ; return true;
    case LQ_NEQ: *out = LOGQL_CMP_NE; return true;
    case LQ_GT: *out = LOGQL_CMP_GT; return true;
    case LQ_GTE: *out = LOGQL_CMP_GE; return true;
    case LQ_LT: *out = LOGQL_CMP_LT; return true;
    case LQ_LTE: *out = LOGQL_CMP_LE; return true;
    default: return false;
    }
}

/* A numeric literal: NUMBER, + NUMBER or - NUMBER. */
static int parse_signed_number(parser *p, double *out, lk_str *text)
{
    bool neg = false;
    int rc;
    if (p->tok.kind == LQ_ADD || p->tok.kind == LQ_SUB) {
        neg = p->tok.kind == LQ_SUB;
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind != LQ_NUMBER)
            return syntax_error(p, "NUMBER");
    }
    double v = 0;
    rc = logql_parse_float(p->tok.text, &v);
    if (rc) {
        lk_buf q = { 0 };
        lk_go_quote(p->tok.text, &q);
        rc = semantic_error(p,
                            "unable to parse literal as a float: strconv.ParseFloat: parsing %s: %s",
                            q.p, rc == LK_ERANGE ? "value out of range" : "invalid syntax");
        lk_buf_free(&q);
        return rc;
    }
    if (text)
        *text = p->tok.text;
    *out = neg ? -v : v;
    return next(p);
}

/* IDENTIFIER op value */
static int parse_label_filter_leaf(parser *p, logql_label_filter **out)
{
    lk_str name = tree_str(p, p->tok.text);
    int rc = next(p);
    if (rc)
        return rc;
    logql_tok op = p->tok.kind;
    logql_cmp cmp = LOGQL_CMP_EQ;
    lk_match_type mt = LK_MATCH_EQ;
    if (op == LQ_RE || op == LQ_NRE) {
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind != LQ_STRING)
            return syntax_error(p, "STRING");
        match_type(op, &mt);
    } else if (!cmp_of(op, &cmp)) {
        return syntax_error(p, NULL);
    } else if ((rc = next(p))) {
        return rc;
    }
    bool eq_or_ne = op == LQ_EQ || op == LQ_NEQ;
    logql_label_filter *f;
    switch (p->tok.kind) {
    case LQ_STRING:
        if (!eq_or_ne && op != LQ_RE && op != LQ_NRE)
            return syntax_error(p, NULL);
        if (eq_or_ne)
            match_type(op, &mt);
        f = new_lbf(p, LOGQL_LBF_STRING);
        f->name = name;
        if ((rc = new_matcher(p, mt, name, p->tok.text, &f->u.matcher)))
            return rc;
        *out = f;
        return next(p);
    case LQ_IP:
        if (!eq_or_ne)
            return syntax_error(p, NULL);
        f = new_lbf(p, LOGQL_LBF_IP);
        f->name = name;
        f->cmp = cmp;
        if ((rc = next(p)) || (rc = expect(p, LQ_LPAREN, "(")))
            return rc;
        if (p->tok.kind != LQ_STRING)
            return syntax_error(p, "STRING");
        f->u.ip_pattern = tree_str(p, p->tok.text);
        if ((rc = next(p)) || (rc = expect(p, LQ_RPAREN, ")")))
            return rc;
        *out = f;
        return 0;
    case LQ_DURATION:
        f = new_lbf(p, LOGQL_LBF_DURATION);
        f->name = name;
        f->cmp = cmp;
        f->u.duration_ns = p->tok.dur_ns;
        *out = f;
        return next(p);
    case LQ_BYTES:
        f = new_lbf(p, LOGQL_LBF_BYTES);
        f->name = name;
        f->cmp = cmp;
        f->u.bytes = p->tok.bytes;
        *out = f;
        return next(p);
    case LQ_NUMBER:
    case LQ_ADD:
    case LQ_SUB:
        f = new_lbf(p, LOGQL_LBF_NUMBER);
        f->name = name;
        f->cmp = cmp;
        if ((rc = parse_signed_number(p, &f->u.number, NULL)))
            return rc;
        *out = f;
        return 0;
    default:
        return syntax_error(p, NULL);
    }
}

static int parse_label_filter_atom(parser *p, logql_label_filter **out)
{
    if (p->tok.kind == LQ_IDENT)
        return parse_label_filter_leaf(p, out);
    if (p->tok.kind != LQ_LPAREN)
        return syntax_error(p, "IDENTIFIER or (");
    int rc = enter(p);
    if (rc || (rc = next(p)) || (rc = parse_label_filter_expr(p, out)))
        return rc;
    leave(p);
    if (p->tok.kind != LQ_RPAREN)
        return syntax_error(p, NULL);
    return next(p);
}

typedef enum lbf_op { LBF_OR, LBF_AND, LBF_COMMA, LBF_JUXT } lbf_op;

/* yacc precedence: or < and; the comma and juxtaposition rules have none,
 * so every conflict with them shifts. */
static int lbf_prec(lbf_op o)
{
    return o == LBF_OR ? 1 : o == LBF_AND ? 2 : 0;
}

static bool lbf_reduce_first(lbf_op top, lbf_op incoming)
{
    if (!lbf_prec(top) || !lbf_prec(incoming))
        return false;
    return lbf_prec(incoming) <= lbf_prec(top);
}

typedef struct lbf_stacks {
    vec vals, ops;
} lbf_stacks;

static void lbf_reduce(parser *p, lbf_stacks *s)
{
    logql_label_filter **vals = s->vals.v;
    lbf_op *ops = s->ops.v;
    lbf_op op = ops[--s->ops.n];
    logql_label_filter *r = vals[--s->vals.n];
    logql_label_filter *l = vals[--s->vals.n];
    logql_label_filter *f = new_lbf(p, op == LBF_OR ? LOGQL_LBF_OR : LOGQL_LBF_AND);
    f->u.bin.left = l;
    f->u.bin.right = r;
    *(logql_label_filter **)vec_push(p, &s->vals, sizeof(f)) = f;
}

static int parse_label_filter_expr(parser *p, logql_label_filter **out)
{
    lbf_stacks s = { { 0 }, { 0 } };
    logql_label_filter *f;
    int rc = parse_label_filter_atom(p, &f);
    if (rc)
        return rc;
    *(logql_label_filter **)vec_push(p, &s.vals, sizeof(f)) = f;
    for (;;) {
        lbf_op op;
        switch (p->tok.kind) {
        case LQ_OR: op = LBF_OR; break;
        case LQ_AND: op = LBF_AND; break;
        case LQ_COMMA: op = LBF_COMMA; break;
        case LQ_IDENT:
        case LQ_LPAREN: op = LBF_JUXT; break;
        default: goto done;
        }
        if (op != LBF_JUXT && (rc = next(p)))
            return rc;
        while (s.ops.n && lbf_reduce_first(((lbf_op *)s.ops.v)[s.ops.n - 1], op))
            lbf_reduce(p, &s);
        *(lbf_op *)vec_push(p, &s.ops, sizeof(op)) = op;
        if ((rc = parse_label_filter_atom(p, &f)))
            return rc;
        *(logql_label_filter **)vec_push(p, &s.vals, sizeof(f)) = f;
    }
done:
    while (s.ops.n)
        lbf_reduce(p, &s);
    *out = ((logql_label_filter **)s.vals.v)[0];
    return 0;
}

/* ---- pipeline stages ------------------------------------------------------ */

static bool is_line_filter_tok(logql_tok t)
{
    switch (t) {
    case LQ_PIPE_EXACT: case LQ_NEQ: case LQ_PIPE_MATCH: case LQ_NRE:
    case LQ_PIPE_PATTERN: case LQ_NPA:
        return true;
    default:
        return false;
    }
}

static logql_lf_type lf_type_of(logql_tok t)
{
    switch (t) {
    case LQ_PIPE_EXACT: return LOGQL_LF_CONTAINS;
    case LQ_NEQ: return LOGQL_LF_NOT_CONTAINS;
    case LQ_PIPE_MATCH: return LOGQL_LF_REGEX;
    case LQ_NRE: return LOGQL_LF_NOT_REGEX;
    case LQ_PIPE_PATTERN: return LOGQL_LF_PATTERN;
    default: return LOGQL_LF_NOT_PATTERN;
    }
}

/* "text" or ip("text") */
static int parse_lf_alt(parser *p, vec *alts)
{
    logql_lf_alt *a = vec_push(p, alts, sizeof(*a));
    int rc;
    if (p->tok.kind == LQ_STRING) {
        a->value = tree_str(p, p->tok.text);
        return next(p);
    }
    if (p->tok.kind != LQ_IP)
        return syntax_error(p, "STRING or ip");
    a->ip = true;
    if ((rc = next(p)) || (rc = expect(p, LQ_LPAREN, "(")))
        return rc;
    if (p->tok.kind != LQ_STRING)
        return syntax_error(p, "STRING");
    a->value = tree_str(p, p->tok.text);
    if ((rc = next(p)))
        return rc;
    return expect(p, LQ_RPAREN, ")");
}

static int parse_line_filter(parser *p, logql_stage *st)
{
    st->kind = LOGQL_STAGE_LINE_FILTER;
    st->u.line_filter.type = lf_type_of(p->tok.kind);
    vec alts = { 0 };
    int rc = next(p);
    if (rc || (rc = parse_lf_alt(p, &alts)))
        return rc;
    /* Loki 3: `|= "a" or "b"`; the grammar shifts every `or` here */
    while (p->tok.kind == LQ_OR) {
        if ((rc = next(p)) || (rc = parse_lf_alt(p, &alts)))
            return rc;
    }
    st->u.line_filter.alts = alts.v;
    st->u.line_filter.n_alts = alts.n;
    return 0;
}

/* IDENT [= STRING] {, IDENT [= STRING]} */
static int parse_extractions(parser *p, logql_extract **out, size_t *n)
{
    vec v = { 0 };
    int rc;
    for (;;) {
        if (p->tok.kind != LQ_IDENT)
            return syntax_error(p, "IDENTIFIER");
        logql_extract *x = vec_push(p, &v, sizeof(*x));
        x->label = tree_str(p, p->tok.text);
        x->expr = x->label;
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind == LQ_EQ) {
            if ((rc = next(p)))
                return rc;
            if (p->tok.kind != LQ_STRING)
                return syntax_error(p, "STRING");
            x->expr = tree_str(p, p->tok.text);
            if ((rc = next(p)))
                return rc;
        }
        if (p->tok.kind != LQ_COMMA)
            break;
        if ((rc = next(p)))
            return rc;
    }
    *out = v.v;
    *n = v.n;
    return 0;
}

static int parse_label_format(parser *p, logql_stage *st)
{
    vec v = { 0 };
    int rc;
    for (;;) {
        if (p->tok.kind != LQ_IDENT)
            return syntax_error(p, "IDENTIFIER");
        logql_label_fmt *f = vec_push(p, &v, sizeof(*f));
        f->dst = tree_str(p, p->tok.text);
        if ((rc = next(p)) || (rc = expect(p, LQ_EQ, "=")))
            return rc;
        if (p->tok.kind != LQ_IDENT && p->tok.kind != LQ_STRING)
            return syntax_error(p, "IDENTIFIER or STRING");
        f->rename = p->tok.kind == LQ_IDENT;
        f->value = tree_str(p, p->tok.text);
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind != LQ_COMMA)
            break;
        if ((rc = next(p)))
            return rc;
    }
    st->u.label_format.v = v.v;
    st->u.label_format.n = v.n;
    return 0;
}

/* drop / keep: name or name op "value", comma separated */
static int parse_named_matchers(parser *p, logql_stage *st)
{
    vec v = { 0 };
    int rc;
    for (;;) {
        if (p->tok.kind != LQ_IDENT)
            return syntax_error(p, "IDENTIFIER");
        logql_named_matcher *m = vec_push(p, &v, sizeof(*m));
        m->name = tree_str(p, p->tok.text);
        if ((rc = next(p)))
            return rc;
        lk_match_type mt;
        if (match_type(p->tok.kind, &mt)) {
            if ((rc = next(p)))
                return rc;
            if (p->tok.kind != LQ_STRING)
                return syntax_error(p, "STRING");
            if ((rc = new_matcher(p, mt, m->name, p->tok.text, &m->matcher)) || (rc = next(p)))
                return rc;
        }
        if (p->tok.kind != LQ_COMMA)
            break;
        if ((rc = next(p)))
            return rc;
    }
    st->u.names.v = v.v;
    st->u.names.n = v.n;
    return 0;
}

/* `| regexp "re"` and `| pattern "p"`: Loki checks them while parsing. */
static int parse_parser_string(parser *p, logql_stage *st)
{
    bool is_regexp = p->tok.kind == LQ_REGEXP;
    st->kind = is_regexp ? LOGQL_STAGE_REGEXP : LOGQL_STAGE_PATTERN;
    int rc = next(p);
    if (rc)
        return rc;
    if (p->tok.kind != LQ_STRING)
        return syntax_error(p, "STRING");
    lk_str src = tree_str(p, p->tok.text);
    lk_buf why = { 0 };
    rc = is_regexp ? lf_regexp_stage_check(src, &why) : lf_pattern_check_stage(src, &why);
    if (rc) {
        rc = semantic_error(p, "invalid %s parser: %s", is_regexp ? "regexp" : "pattern",
                            why.len ? why.p : "invalid expression");
        lk_buf_free(&why);
        return rc;
    }
    lk_buf_free(&why);
    if (is_regexp)
        st->u.regexp = src;
    else
        st->u.pattern = src;
    return next(p);
}

/* The token after '|'. */
static int parse_stage(parser *p, logql_stage *st)
{
    int rc;
    switch (p->tok.kind) {
    case LQ_LOGFMT:
        st->kind = LOGQL_STAGE_LOGFMT;
        if ((rc = next(p)))
            return rc;
        while (p->tok.kind == LQ_PARSER_FLAG) {
            if (lk_str_eq(p->tok.text, LK_STR("--strict")))
                st->u.logfmt.strict = true;
            else
                st->u.logfmt.keep_empty = true;
            if ((rc = next(p)))
                return rc;
        }
        if (p->tok.kind == LQ_IDENT)
            return parse_extractions(p, &st->u.logfmt.params, &st->u.logfmt.n_params);
        return 0;
    case LQ_JSON:
        st->kind = LOGQL_STAGE_JSON;
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind == LQ_IDENT)
            return parse_extractions(p, &st->u.json.params, &st->u.json.n_params);
        return 0;
    case LQ_REGEXP:
    case LQ_PATTERN:
        return parse_parser_string(p, st);
    case LQ_UNPACK:
        st->kind = LOGQL_STAGE_UNPACK;
        return next(p);
    case LQ_DECOLORIZE:
        st->kind = LOGQL_STAGE_DECOLORIZE;
        return next(p);
    case LQ_LINE_FMT:
        st->kind = LOGQL_STAGE_LINE_FORMAT;
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind != LQ_STRING)
            return syntax_error(p, "STRING");
        st->u.line_format = tree_str(p, p->tok.text);
        return next(p);
    case LQ_LABEL_FMT:
        st->kind = LOGQL_STAGE_LABEL_FORMAT;
        if ((rc = next(p)))
            return rc;
        return parse_label_format(p, st);
    case LQ_DROP:
    case LQ_KEEP:
        st->kind = p->tok.kind == LQ_DROP ? LOGQL_STAGE_DROP : LOGQL_STAGE_KEEP;
        if ((rc = next(p)))
            return rc;
        return parse_named_matchers(p, st);
    case LQ_IDENT:
    case LQ_LPAREN:
        st->kind = LOGQL_STAGE_LABEL_FILTER;
        return parse_label_filter_expr(p, &st->u.label_filter);
    default:
        return syntax_error(p, NULL);
    }
}

/* Stages while they come. In a range aggregation a `| unwrap` ends the
 * pipeline (the current token is then that '|'). */
static int parse_pipeline(parser *p, vec *stages, bool in_range)
{
    int rc;
    for (;;) {
        if (is_line_filter_tok(p->tok.kind)) {
            logql_stage *st = vec_push(p, stages, sizeof(*st));
            if ((rc = parse_line_filter(p, st)))
                return rc;
            continue;
        }
        if (p->tok.kind != LQ_PIPE)
            return 0;
        if (in_range) {
            logql_tok la;
            if ((rc = peek(p, &la)))
                return rc;
            if (la == LQ_UNWRAP)
                return 0;
        }
        if ((rc = next(p)))
            return rc;
        logql_stage *st = vec_push(p, stages, sizeof(*st));
        if ((rc = parse_stage(p, st)))
            return rc;
    }
}

static int parse_selector(parser *p, logql_log_selector *sel)
{
    int rc = next(p); /* '{' */
    if (rc)
        return rc;
    vec ms = { 0 };
    if (p->tok.kind == LQ_RBRACE)
        return next(p);
    for (bool first = true;; first = false) {
        if (p->tok.kind != LQ_IDENT)
            return syntax_error(p, first ? "IDENTIFIER or }" : "IDENTIFIER");
        lk_str name = p->tok.text;
        if ((rc = next(p)))
            return rc;
        lk_match_type mt;
        if (!match_type(p->tok.kind, &mt))
            return syntax_error(p, "= or =~ or !~ or !=");
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind != LQ_STRING)
            return syntax_error(p, "STRING");
        lk_matcher **slot = vec_push(p, &ms, sizeof(lk_matcher *));
        if ((rc = new_matcher(p, mt, name, p->tok.text, slot)) || (rc = next(p)))
            return rc;
        if (p->tok.kind == LQ_COMMA) {
            if ((rc = next(p)))
                return rc;
            continue;
        }
        if (p->tok.kind == LQ_RBRACE)
            break;
        return syntax_error(p, "} or ,");
    }
    /* the engine reads the matchers as one array (the tree frees the
     * registered originals) */
    sel->n_matchers = ms.n;
    sel->matchers = logql_tree_alloc(p->tree, ms.n * sizeof(lk_matcher));
    for (size_t i = 0; i < ms.n; i++)
        sel->matchers[i] = *((lk_matcher **)ms.v)[i];
    return next(p);
}

static void set_stages(logql_log_selector *sel, vec *stages)
{
    sel->stages = stages->v;
    sel->n_stages = stages->n;
}

/* ---- range aggregations --------------------------------------------------- */

static int parse_unwrap(parser *p, logql_unwrap **out)
{
    logql_unwrap *u = logql_tree_alloc(p->tree, sizeof(*u));
    int rc;
    if ((rc = next(p)) || (rc = next(p))) /* '|' 'unwrap' */
        return rc;
    switch (p->tok.kind) {
    case LQ_IDENT:
        u->label = tree_str(p, p->tok.text);
        if ((rc = next(p)))
            return rc;
        break;
    case LQ_BYTES_CONV:
    case LQ_DURATION_CONV:
    case LQ_DURATION_SECONDS_CONV:
        u->conv = p->tok.kind == LQ_BYTES_CONV      ? LOGQL_CONV_BYTES
                : p->tok.kind == LQ_DURATION_CONV   ? LOGQL_CONV_DURATION
                                                    : LOGQL_CONV_DURATION_SECONDS;
        if ((rc = next(p)) || (rc = expect(p, LQ_LPAREN, "(")))
            return rc;
        if (p->tok.kind != LQ_IDENT)
            return syntax_error(p, "IDENTIFIER");
        u->label = tree_str(p, p->tok.text);
        if ((rc = next(p)) || (rc = expect(p, LQ_RPAREN, ")")))
            return rc;
        break;
    default:
        return syntax_error(p, "IDENTIFIER or BYTES_CONV or DURATION_CONV or DURATION_SECONDS_CONV");
    }
    vec post = { 0 };
    while (p->tok.kind == LQ_PIPE) {
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind != LQ_IDENT && p->tok.kind != LQ_LPAREN)
            return syntax_error(p, "IDENTIFIER or (");
        logql_label_filter **slot = vec_push(p, &post, sizeof(*slot));
        if ((rc = parse_label_filter_expr(p, slot)))
            return rc;
    }
    u->post = post.v;
    u->n_post = post.n;
    *out = u;
    return 0;
}

static int maybe_unwrap(parser *p, logql_range_agg *r, bool *found)
{
    *found = false;
    if (p->tok.kind != LQ_PIPE)
        return 0;
    logql_tok la;
    int rc = peek(p, &la);
    if (rc || la != LQ_UNWRAP)
        return rc;
    *found = true;
    return parse_unwrap(p, &r->unwrap);
}

/* RANGE [offset DURATION], then (when nothing came before the range) an
 * optional pipeline and unwrap. */
static int parse_range_tail(parser *p, logql_range_agg *r, vec *stages, bool before)
{
    r->range_ns = p->tok.dur_ns;
    int rc = next(p);
    if (rc)
        return rc;
    if (p->tok.kind == LQ_OFFSET) {
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind != LQ_DURATION)
            return syntax_error(p, "DURATION");
        r->offset_ns = p->tok.dur_ns;
        if ((rc = next(p)))
            return rc;
    }
    if (before)
        return 0;
    bool unwrap;
    if ((rc = maybe_unwrap(p, r, &unwrap)) || unwrap)
        return rc;
    if ((rc = parse_pipeline(p, stages, true)))
        return rc;
    return maybe_unwrap(p, r, &unwrap);
}

static int parse_log_range(parser *p, logql_range_agg *r, bool after_param)
{
    vec stages = { 0 };
    bool unwrap;
    int rc;
    if (p->tok.kind == LQ_LPAREN) {
        if ((rc = enter(p)) || (rc = next(p)))
            return rc;
        if (p->tok.kind == LQ_LPAREN) {
            /* ( logRangeExpr ) */
            if ((rc = parse_log_range(p, r, after_param)))
                return rc;
            leave(p);
            return expect(p, LQ_RPAREN, ")");
        }
        if (p->tok.kind != LQ_LBRACE)
            return syntax_error(p, "{ or (");
        if ((rc = parse_selector(p, &r->sel)) || (rc = parse_pipeline(p, &stages, true)) ||
            (rc = maybe_unwrap(p, r, &unwrap)))
            return rc;
        bool before = stages.n > 0 || unwrap;
        if (p->tok.kind == LQ_RANGE) {
            /* ( selector ... [range] ... ) */
            if ((rc = parse_range_tail(p, r, &stages, before)))
                return rc;
            set_stages(&r->sel, &stages);
            leave(p);
            return expect(p, LQ_RPAREN, ")");
        }
        if (p->tok.kind != LQ_RPAREN)
            return syntax_error(p, unwrap ? "RANGE or |" : NULL);
        leave(p);
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind != LQ_RANGE)
            return syntax_error(p, "RANGE");
        if ((rc = parse_range_tail(p, r, &stages, true)))
            return rc;
        set_stages(&r->sel, &stages);
        if (before || p->tok.kind != LQ_PIPE)
            return 0;
        /* (selector)[range] | unwrap ... */
        logql_tok la;
        if ((rc = peek(p, &la)))
            return rc;
        if (la != LQ_UNWRAP) {
            if ((rc = next(p)))
                return rc;
            return syntax_error(p, "unwrap");
        }
        return parse_unwrap(p, &r->unwrap);
    }
    if (p->tok.kind != LQ_LBRACE)
        return syntax_error(p, after_param ? "{ or (" : "NUMBER or { or (");
    if ((rc = parse_selector(p, &r->sel)) || (rc = parse_pipeline(p, &stages, true)) ||
        (rc = maybe_unwrap(p, r, &unwrap)))
        return rc;
    if (p->tok.kind != LQ_RANGE)
        return syntax_error(p, unwrap ? "RANGE or |" : NULL);
    if ((rc = parse_range_tail(p, r, &stages, stages.n > 0 || unwrap)))
        return rc;
    set_stages(&r->sel, &stages);
    return 0;
}

static bool range_op_of(logql_tok t, logql_range_op *op)
{
    switch (t) {
    case LQ_COUNT_OVER_TIME: *op = LOGQL_RANGE_COUNT; return true;
    case LQ_RATE: *op = LOGQL_RANGE_RATE; return true;
    case LQ_RATE_COUNTER: *op = LOGQL_RANGE_RATE_COUNTER; return true;
    case LQ_BYTES_OVER_TIME: *op = LOGQL_RANGE_BYTES; return true;
    case LQ_BYTES_RATE: *op = LOGQL_RANGE_BYTES_RATE; return true;
    case LQ_AVG_OVER_TIME: *op = LOGQL_RANGE_AVG; return true;
    case LQ_SUM_OVER_TIME: *op = LOGQL_RANGE_SUM; return true;
    case LQ_MIN_OVER_TIME: *op = LOGQL_RANGE_MIN; return true;
    case LQ_MAX_OVER_TIME: *op = LOGQL_RANGE_MAX; return true;
    case LQ_STDVAR_OVER_TIME: *op = LOGQL_RANGE_STDVAR; return true;
    case LQ_STDDEV_OVER_TIME: *op = LOGQL_RANGE_STDDEV; return true;
    case LQ_QUANTILE_OVER_TIME: *op = LOGQL_RANGE_QUANTILE; return true;
    case LQ_FIRST_OVER_TIME: *op = LOGQL_RANGE_FIRST; return true;
    case LQ_LAST_OVER_TIME: *op = LOGQL_RANGE_LAST; return true;
    case LQ_ABSENT_OVER_TIME: *op = LOGQL_RANGE_ABSENT; return true;
    default: return false;
    }
}

static bool vector_op_of(logql_tok t, logql_vector_op *op)
{
    switch (t) {
    case LQ_SUM: *op = LOGQL_VEC_SUM; return true;
    case LQ_AVG: *op = LOGQL_VEC_AVG; return true;
    case LQ_COUNT: *op = LOGQL_VEC_COUNT; return true;
    case LQ_MAX: *op = LOGQL_VEC_MAX; return true;
    case LQ_MIN: *op = LOGQL_VEC_MIN; return true;
    case LQ_STDDEV: *op = LOGQL_VEC_STDDEV; return true;
    case LQ_STDVAR: *op = LOGQL_VEC_STDVAR; return true;
    case LQ_BOTTOMK: *op = LOGQL_VEC_BOTTOMK; return true;
    case LQ_TOPK: *op = LOGQL_VEC_TOPK; return true;
    case LQ_SORT: *op = LOGQL_VEC_SORT; return true;
    case LQ_SORT_DESC: *op = LOGQL_VEC_SORT_DESC; return true;
    case LQ_APPROX_TOPK: *op = LOGQL_VEC_APPROX_TOPK; return true;
    default: return false;
    }
}

static int parse_range_agg(parser *p, logql_range_op op, logql_expr **out)
{
    logql_expr *e = new_expr(p, LOGQL_EXPR_RANGE_AGG);
    logql_range_agg *r = &e->u.range;
    r->op = op;
    int rc = next(p);
    if (rc || (rc = expect(p, LQ_LPAREN, "(")))
        return rc;
    bool param = false;
    if (p->tok.kind == LQ_NUMBER) {
        param = true;
        r->has_param = true;
        r->param_text = tree_str(p, p->tok.text);
        (void)logql_parse_float(r->param_text, &r->param); /* checked by validation */
        if ((rc = next(p)) || (rc = expect(p, LQ_COMMA, ",")))
            return rc;
    }
    if ((rc = parse_log_range(p, r, param)))
        return rc;
    if ((rc = expect(p, LQ_RPAREN, ")")))
        return rc;
    if (p->tok.kind == LQ_BY || p->tok.kind == LQ_WITHOUT)
        if ((rc = parse_grouping(p, &r->grouping)))
            return rc;
    *out = e;
    return 0;
}

/* ---- metric expressions --------------------------------------------------- */

static int parse_expr(parser *p, int min_prec, logql_expr **out);

/* A metric expression argument: a log query is a syntax error there, and
 * so is a variants expression (Loki's grammar allows it only as a whole
 * query or an operand of a binary operation). */
static int parse_metric_arg(parser *p, logql_expr **out)
{
    int rc = parse_expr(p, 0, out);
    if (rc)
        return rc;
    if ((*out)->kind == LOGQL_EXPR_LOG || (*out)->kind == LOGQL_EXPR_VARIANTS)
        return syntax_error(p, NULL);
    return 0;
}

/* variants ( metricExpr {, metricExpr} ) of ( logRangeExpr ) */
static int parse_variants(parser *p, logql_expr **out)
{
    logql_expr *e = new_expr(p, LOGQL_EXPR_VARIANTS);
    logql_variants *v = &e->u.variants;
    vec list = { 0 };
    int rc = next(p);
    if (rc || (rc = expect(p, LQ_LPAREN, "(")))
        return rc;
    for (;;) {
        logql_expr **slot = vec_push(p, &list, sizeof(*slot));
        if ((rc = enter(p)) || (rc = parse_metric_arg(p, slot)))
            return rc;
        leave(p);
        if (p->tok.kind != LQ_COMMA)
            break;
        if ((rc = next(p)))
            return rc;
    }
    v->v = list.v;
    v->n = list.n;
    if ((rc = expect(p, LQ_RPAREN, NULL)) || (rc = expect(p, LQ_OF, "of")) ||
        (rc = expect(p, LQ_LPAREN, "(")) || (rc = parse_log_range(p, &v->of, true)) ||
        (rc = expect(p, LQ_RPAREN, ")")))
        return rc;
    *out = e;
    return 0;
}

static int parse_vector_agg(parser *p, logql_vector_op op, logql_expr **out)
{
    logql_expr *e = new_expr(p, LOGQL_EXPR_VECTOR_AGG);
    logql_vector_agg *v = &e->u.vagg;
    v->op = op;
    int rc = next(p);
    if (rc)
        return rc;
    bool before = false;
    if (p->tok.kind == LQ_BY || p->tok.kind == LQ_WITHOUT) {
        before = true;
        if ((rc = parse_grouping(p, &v->grouping)) || (rc = expect(p, LQ_LPAREN, "(")))
            return rc;
    } else if ((rc = expect(p, LQ_LPAREN, "( or by or without"))) {
        return rc;
    }
    if (p->tok.kind == LQ_NUMBER) {
        logql_tok la;
        if ((rc = peek(p, &la)))
            return rc;
        if (la == LQ_COMMA) {
            v->has_param = true;
            v->param_text = tree_str(p, p->tok.text);
            v->param = strtoll(v->param_text.p, NULL, 10); /* checked by validation */
            if ((rc = next(p)) || (rc = next(p)))
                return rc;
        }
    }
    if ((rc = enter(p)) || (rc = parse_metric_arg(p, &v->inner)))
        return rc;
    leave(p);
    if ((rc = expect(p, LQ_RPAREN, NULL)))
        return rc;
    if (!before && (p->tok.kind == LQ_BY || p->tok.kind == LQ_WITHOUT))
        if ((rc = parse_grouping(p, &v->grouping)))
            return rc;
    *out = e;
    return 0;
}

static int parse_string_arg(parser *p, lk_str *out, logql_tok after, const char *after_name)
{
    if (p->tok.kind != LQ_STRING)
        return syntax_error(p, "STRING");
    *out = tree_str(p, p->tok.text);
    int rc = next(p);
    if (rc)
        return rc;
    return expect(p, after, after_name);
}

static int parse_label_replace(parser *p, logql_expr **out)
{
    logql_expr *e = new_expr(p, LOGQL_EXPR_LABEL_REPLACE);
    logql_label_replace *l = &e->u.label_replace;
    int rc = next(p);
    if (rc || (rc = expect(p, LQ_LPAREN, "(")) || (rc = enter(p)) ||
        (rc = parse_metric_arg(p, &l->inner)))
        return rc;
    leave(p);
    if ((rc = expect(p, LQ_COMMA, NULL)) || (rc = parse_string_arg(p, &l->dst, LQ_COMMA, ",")) ||
        (rc = parse_string_arg(p, &l->replacement, LQ_COMMA, ",")) ||
        (rc = parse_string_arg(p, &l->src, LQ_COMMA, ",")) ||
        (rc = parse_string_arg(p, &l->regex, LQ_RPAREN, ")")))
        return rc;
    /* Loki compiles ^(?:regex)$ here and reports a failure when validating */
    lk_buf src = { 0 }, why = { 0 };
    lk_buf_puts(&src, "^(?:");
    lk_buf_put_str(&src, l->regex);
    lk_buf_puts(&src, ")$");
    if (lk_regex_compile(lk_buf_str(&src), 0, &l->re, &why) == 0) {
        logql_tree_own_regex(p->tree, l->re);
    } else {
        l->re = NULL;
        l->re_error = tree_str(p, why.len ? lk_buf_str(&why) : LK_STR("invalid regex")).p;
    }
    lk_buf_free(&src);
    lk_buf_free(&why);
    *out = e;
    return 0;
}

static int parse_vector(parser *p, logql_expr **out)
{
    logql_expr *e = new_expr(p, LOGQL_EXPR_VECTOR);
    int rc = next(p);
    if (rc || (rc = expect(p, LQ_LPAREN, "(")))
        return rc;
    if (p->tok.kind != LQ_NUMBER)
        return syntax_error(p, "NUMBER");
    e->u.literal.text = tree_str(p, p->tok.text);
    e->u.literal.bad = logql_parse_float(p->tok.text, &e->u.literal.value) != 0;
    if ((rc = next(p)) || (rc = expect(p, LQ_RPAREN, ")")))
        return rc;
    *out = e;
    return 0;
}

static int parse_literal(parser *p, logql_expr **out)
{
    logql_expr *e = new_expr(p, LOGQL_EXPR_LITERAL);
    bool neg = false;
    int rc;
    if (p->tok.kind == LQ_ADD || p->tok.kind == LQ_SUB) {
        neg = p->tok.kind == LQ_SUB;
        if ((rc = next(p)))
            return rc;
        if (p->tok.kind != LQ_NUMBER)
            return syntax_error(p, "NUMBER");
    }
    e->u.literal.text = tree_str(p, p->tok.text);
    e->u.literal.bad = logql_parse_float(p->tok.text, &e->u.literal.value) != 0;
    if (neg)
        e->u.literal.value = -e->u.literal.value;
    *out = e;
    return next(p);
}

static int parse_operand(parser *p, logql_expr **out)
{
    logql_range_op rop;
    logql_vector_op vop;
    int rc;
    switch (p->tok.kind) {
    case LQ_LBRACE: {
        logql_expr *e = new_expr(p, LOGQL_EXPR_LOG);
        vec stages = { 0 };
        if ((rc = parse_selector(p, &e->u.log)) || (rc = parse_pipeline(p, &stages, false)))
            return rc;
        set_stages(&e->u.log, &stages);
        *out = e;
        return 0;
    }
    case LQ_LPAREN:
        if ((rc = enter(p)) || (rc = next(p)) || (rc = parse_expr(p, 0, out)))
            return rc;
        leave(p);
        if ((*out)->kind == LOGQL_EXPR_VARIANTS) /* ( variants ... ) */
            return syntax_error(p, NULL);
        return expect(p, LQ_RPAREN, NULL);
    case LQ_NUMBER:
    case LQ_ADD:
    case LQ_SUB:
        return parse_literal(p, out);
    case LQ_LABEL_REPLACE:
        return parse_label_replace(p, out);
    case LQ_VECTOR:
        return parse_vector(p, out);
    case LQ_VARIANTS:
        return parse_variants(p, out);
    default:
        if (range_op_of(p->tok.kind, &rop))
            return parse_range_agg(p, rop, out);
        if (vector_op_of(p->tok.kind, &vop))
            return parse_vector_agg(p, vop, out);
        return syntax_error(p, NULL);
    }
}

static int binop_prec(logql_tok t, logql_binop *op)
{
    switch (t) {
    case LQ_OR: *op = LOGQL_OP_OR; return 1;
    case LQ_AND: *op = LOGQL_OP_AND; return 2;
    case LQ_UNLESS: *op = LOGQL_OP_UNLESS; return 2;
    case LQ_CMP_EQ: *op = LOGQL_OP_EQ; return 3;
    case LQ_NEQ: *op = LOGQL_OP_NE; return 3;
    case LQ_GT: *op = LOGQL_OP_GT; return 3;
    case LQ_GTE: *op = LOGQL_OP_GE; return 3;
    case LQ_LT: *op = LOGQL_OP_LT; return 3;
    case LQ_LTE: *op = LOGQL_OP_LE; return 3;
    case LQ_ADD: *op = LOGQL_OP_ADD; return 4;
    case LQ_SUB: *op = LOGQL_OP_SUB; return 4;
    case LQ_MUL: *op = LOGQL_OP_MUL; return 5;
    case LQ_DIV: *op = LOGQL_OP_DIV; return 5;
    case LQ_MOD: *op = LOGQL_OP_MOD; return 5;
    case LQ_POW: *op = LOGQL_OP_POW; return 6;
    default: return 0;
    }
}

/* bool, on / ignoring (...), group_left / group_right [(...)] */
static int parse_modifiers(parser *p, logql_binop_expr *b)
{
    int rc;
    if (p->tok.kind == LQ_BOOL) {
        b->return_bool = true;
        if ((rc = next(p)))
            return rc;
    }
    if (p->tok.kind != LQ_ON && p->tok.kind != LQ_IGNORING)
        return 0;
    b->matching = true;
    b->on = p->tok.kind == LQ_ON;
    if ((rc = next(p)))
        return rc;
    if (p->tok.kind != LQ_LPAREN)
        return syntax_error(p, "(");
    if ((rc = parse_label_list(p, &b->match_labels, &b->n_match_labels)))
        return rc;
    if (p->tok.kind != LQ_GROUP_LEFT && p->tok.kind != LQ_GROUP_RIGHT)
        return 0;
    b->card = p->tok.kind == LQ_GROUP_LEFT ? LOGQL_CARD_MANY_TO_ONE : LOGQL_CARD_ONE_TO_MANY;
    if ((rc = next(p)))
        return rc;
    if (p->tok.kind == LQ_LPAREN)
        return parse_label_list(p, &b->include, &b->n_include);
    return 0;
}

/* Loki's reduceBinOp: two literals make one (comparisons give 1 or 0). */
static double fold(logql_binop op, double l, double r)
{
    switch (op) {
    case LOGQL_OP_ADD: return l + r;
    case LOGQL_OP_SUB: return l - r;
    case LOGQL_OP_MUL: return l * r;
    case LOGQL_OP_DIV: return r == 0 ? NAN : l / r;
    case LOGQL_OP_MOD: return r == 0 ? NAN : fmod(l, r);
    case LOGQL_OP_POW: return pow(l, r);
    case LOGQL_OP_EQ: return l == r;
    case LOGQL_OP_NE: return l != r;
    case LOGQL_OP_GT: return l > r;
    case LOGQL_OP_GE: return l >= r;
    case LOGQL_OP_LT: return l < r;
    case LOGQL_OP_LE: return l <= r;
    default: LK_BUG("fold %d", (int)op);
    }
}

static logql_expr *make_binop(parser *p, logql_binop_expr *b)
{
    const logql_expr *l = b->lhs, *r = b->rhs;
    if (l->kind == LOGQL_EXPR_LITERAL && r->kind == LOGQL_EXPR_LITERAL &&
        !l->u.literal.bad && !r->u.literal.bad && !logql_binop_is_logical(b->op)) {
        logql_expr *e = new_expr(p, LOGQL_EXPR_LITERAL);
        e->u.literal.value = fold(b->op, l->u.literal.value, r->u.literal.value);
        e->u.literal.text = LK_STR("");
        return e;
    }
    logql_expr *e = new_expr(p, LOGQL_EXPR_BINOP);
    e->u.binop = *b;
    return e;
}

static int parse_expr(parser *p, int min_prec, logql_expr **out)
{
    logql_expr *lhs;
    int rc = enter(p);
    if (rc || (rc = parse_operand(p, &lhs)))
        return rc;
    for (;;) {
        logql_binop op;
        int prec = binop_prec(p->tok.kind, &op);
        if (!prec || prec < min_prec)
            break;
        logql_binop_expr b = { .op = op, .lhs = lhs };
        if ((rc = next(p)) || (rc = parse_modifiers(p, &b)))
            return rc;
        /* ^ is right-associative, everything else left */
        if ((rc = parse_expr(p, op == LOGQL_OP_POW ? prec : prec + 1, &b.rhs)))
            return rc;
        lhs = make_binop(p, &b);
    }
    leave(p);
    *out = lhs;
    return 0;
}

/* ---- entry points ----------------------------------------------------------- */

static int parse_text(lk_str text, bool validate, logql_expr **out, lk_buf *err)
{
    if (text.len >= LOGQL_MAX_QUERY_BYTES) {
        if (err)
            lk_buf_printf(err, "parse error : input size too long (%zu > %d)", text.len,
                          LOGQL_MAX_QUERY_BYTES);
        return LK_EPARSE;
    }
    parser p = { .err = err };
    p.tree = logql_tree_new();
    logql_lexer_init(&p.lx, text, logql_tree_arena(p.tree));
    logql_expr *e = NULL;
    int rc = next(&p);
    if (!rc)
        rc = parse_expr(&p, 0, &e);
    if (!rc && p.tok.kind != LQ_EOF)
        rc = syntax_error(&p, NULL);
    if (!rc && validate)
        rc = logql_validate(e, err);
    logql_lexer_free(&p.lx);
    if (rc) {
        logql_tree_free(p.tree);
        return rc;
    }
    e->owner = p.tree;
    *out = e;
    return 0;
}

int logql_parse(lk_str text, logql_expr **out, lk_buf *err)
{
    return parse_text(text, true, out, err);
}

int logql_parse_unvalidated(lk_str text, logql_expr **out, lk_buf *err)
{
    return parse_text(text, false, out, err);
}
