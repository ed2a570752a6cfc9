/* Lexer and parser for Go's text/template language, following
 * text/template/parse (Go 1.24): the same tokens, trim markers, comments,
 * three-token lookahead, variable scoping and error messages
 * ("template: line:1: unexpected \"}\" in operand"). Builds the tree of
 * template_int.h in the template's arena; errors unwind with longjmp (Go panics)
 * and everything allocated so far belongs to that arena. Also: Node.String()
 * for error context and Loki's list of referenced fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/mem.h"
#include "query/template/template_int.h"

/* ---- tokens ------------------------------------------------------------ */

enum {
    IT_ERROR,
    IT_BOOL,
    IT_CHAR,
    IT_CHAR_CONST,
    IT_COMMENT,
    IT_COMPLEX,
    IT_ASSIGN,
    IT_DECLARE,
    IT_EOF,
    IT_FIELD,
    IT_IDENT,
    IT_LDELIM,
    IT_LPAREN,
    IT_NUMBER,
    IT_PIPE,
    IT_RAW,
    IT_RDELIM,
    IT_RPAREN,
    IT_SPACE,
    IT_STRING,
    IT_TEXT,
    IT_VARIABLE,
    IT_KEYWORD, /* keywords follow */
    IT_BLOCK,
    IT_BREAK,
    IT_CONTINUE,
    IT_DOT,
    IT_DEFINE,
    IT_ELSE,
    IT_END,
    IT_IF,
    IT_NIL,
    IT_RANGE,
    IT_TEMPLATE,
    IT_WITH,
};

typedef struct item {
    int typ;
    size_t pos;
    lk_str val;
    int line;
} item;

typedef enum lstate {
    LS_EMIT, /* l->it holds the next item */
    LS_TEXT,
    LS_LEFT,
    LS_COMMENT,
    LS_RIGHT,
    LS_INSIDE,
    LS_SPACE,
    LS_IDENT,
    LS_FIELD,
    LS_VARIABLE,
    LS_CHAR,
    LS_NUMBER,
    LS_QUOTE,
    LS_RAW,
} lstate;

typedef struct lexer {
    const char *in;
    size_t n;
    size_t pos, start;
    int line, start_line;
    int paren_depth;
    bool inside, at_eof;
    item it;
    lk_arena *arena; /* error messages */
} lexer;

#define L_EOF (-1)

static bool is_space(int32_t r)
{
    return r == ' ' || r == '\t' || r == '\r' || r == '\n';
}

static bool is_alnum(int32_t r)
{
    if (r < 0)
        return false;
    if (r < 0x80)
        return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9');
    return tu_is_letter_or_digit((uint32_t)r);
}

static int32_t l_next(lexer *l)
{
    if (l->pos >= l->n) {
        l->at_eof = true;
        return L_EOF;
    }
    uint32_t r;
    size_t w = lk_utf8_decode((const unsigned char *)l->in + l->pos, l->n - l->pos, &r);
    l->pos += w;
    if (r == '\n')
        l->line++;
    return (int32_t)r;
}

static void l_backup(lexer *l)
{
    if (!l->at_eof && l->pos > 0) {
        uint32_t r;
        size_t w = lk_utf8_decode_last(l->in, l->pos, &r);
        l->pos -= w;
        if (w == 1 && l->in[l->pos] == '\n')
            l->line--;
    }
}

static int32_t l_peek(lexer *l)
{
    int32_t r = l_next(l);
    l_backup(l);
    return r;
}

static size_t count_nl(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += p[i] == '\n';
    return c;
}

static item l_this(lexer *l, int t)
{
    item i = { t, l->start, lk_str_n(l->in + l->start, l->pos - l->start), l->start_line };
    l->start = l->pos;
    l->start_line = l->line;
    return i;
}

static lstate l_emit_item(lexer *l, item i)
{
    l->it = i;
    return LS_EMIT;
}

static lstate l_emit(lexer *l, int t)
{
    return l_emit_item(l, l_this(l, t));
}

static void l_ignore(lexer *l)
{
    l->line += (int)count_nl(l->in + l->start, l->pos - l->start);
    l->start = l->pos;
    l->start_line = l->line;
}

static lstate l_errorf(lexer *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static lstate l_errorf(lexer *l, const char *fmt, ...)
{
    lk_buf b = { 0 };
    va_list ap;
    va_start(ap, fmt);
    lk_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    l->it = (item){ IT_ERROR, l->start, lk_arena_str(l->arena, lk_buf_str(&b)), l->start_line };
    lk_buf_free(&b);
    l->start = 0;
    l->pos = 0;
    l->n = 0;
    return LS_EMIT;
}

static bool has_prefix(const lexer *l, size_t at, const char *p)
{
    size_t n = strlen(p);
    return at <= l->n && l->n - at >= n && memcmp(l->in + at, p, n) == 0;
}

static bool left_trim_marker(const lexer *l, size_t at)
{
    return at + 2 <= l->n && l->in[at] == '-' && is_space((unsigned char)l->in[at + 1]);
}

static bool right_trim_marker(const lexer *l, size_t at)
{
    return at + 2 <= l->n && is_space((unsigned char)l->in[at]) && l->in[at + 1] == '-';
}

static void at_right_delim(const lexer *l, bool *delim, bool *trim)
{
    *delim = *trim = false;
    if (right_trim_marker(l, l->pos) && has_prefix(l, l->pos + 2, "}}")) {
        *delim = *trim = true;
        return;
    }
    if (has_prefix(l, l->pos, "}}"))
        *delim = true;
}

static size_t left_trim_len(const lexer *l, size_t at)
{
    size_t i = at;
    while (i < l->n && is_space((unsigned char)l->in[i]))
        i++;
    return i - at;
}

/* %#U of a rune, as in Go's "bad character U+0023 '#'". */
static void fmt_sharp_u(char *out, size_t cap, int32_t r)
{
    if (r < 0) {
        snprintf(out, cap, "U+FFFFFFFFFFFFFFFF");
        return;
    }
    lk_buf b = { 0 };
    lk_buf_printf(&b, "U+%04X", (unsigned)r);
    if ((uint32_t)r <= 0x10FFFF && tu_is_print((uint32_t)r)) {
        lk_buf_puts(&b, " '");
        lk_utf8_put(&b, (uint32_t)r);
        lk_buf_putc(&b, '\'');
    }
    snprintf(out, cap, "%s", b.p);
    lk_buf_free(&b);
}

static lstate lex_text(lexer *l)
{
    const char *x = NULL;
    if (l->pos < l->n) {
        const char *h = l->in + l->pos;
        size_t hn = l->n - l->pos;
        for (size_t i = 0; i + 1 < hn; i++) {
            if (h[i] == '{' && h[i + 1] == '{') {
                x = h + i;
                break;
            }
        }
    }
    if (x) {
        size_t off = (size_t)(x - (l->in + l->pos));
        if (off > 0) {
            l->pos += off;
            size_t trim = 0;
            if (left_trim_marker(l, l->pos + 2)) {
                size_t e = l->pos;
                while (e > l->start && is_space((unsigned char)l->in[e - 1]))
                    e--;
                trim = l->pos - e;
            }
            l->pos -= trim;
            l->line += (int)count_nl(l->in + l->start, l->pos - l->start);
            item i = l_this(l, IT_TEXT);
            l->pos += trim;
            l_ignore(l);
            if (i.val.len > 0)
                return l_emit_item(l, i);
        }
        return LS_LEFT;
    }
    l->pos = l->n;
    if (l->pos > l->start) {
        l->line += (int)count_nl(l->in + l->start, l->pos - l->start);
        return l_emit(l, IT_TEXT);
    }
    return l_emit(l, IT_EOF);
}

static lstate lex_left(lexer *l)
{
    l->pos += 2;
    bool trim = left_trim_marker(l, l->pos);
    size_t after = trim ? 2 : 0;
    if (has_prefix(l, l->pos + after, "/*")) {
        l->pos += after;
        l_ignore(l);
        return LS_COMMENT;
    }
    item i = l_this(l, IT_LDELIM);
    l->inside = true;
    l->pos += after;
    l_ignore(l);
    l->paren_depth = 0;
    return l_emit_item(l, i);
}

static lstate lex_comment(lexer *l)
{
    l->pos += 2;
    size_t x = SIZE_MAX;
    for (size_t i = l->pos; i + 1 < l->n; i++) {
        if (l->in[i] == '*' && l->in[i + 1] == '/') {
            x = i;
            break;
        }
    }
    if (x == SIZE_MAX)
        return l_errorf(l, "unclosed comment");
    l->pos = x + 2;
    bool delim, trim;
    at_right_delim(l, &delim, &trim);
    if (!delim)
        return l_errorf(l, "comment ends before closing delimiter");
    l->line += (int)count_nl(l->in + l->start, l->pos - l->start);
    (void)l_this(l, IT_COMMENT);
    if (trim)
        l->pos += 2;
    l->pos += 2;
    if (trim)
        l->pos += left_trim_len(l, l->pos);
    l_ignore(l);
    return LS_TEXT;
}

static lstate lex_right(lexer *l)
{
    bool delim, trim;
    at_right_delim(l, &delim, &trim);
    if (trim) {
        l->pos += 2;
        l_ignore(l);
    }
    l->pos += 2;
    item i = l_this(l, IT_RDELIM);
    if (trim) {
        l->pos += left_trim_len(l, l->pos);
        l_ignore(l);
    }
    l->inside = false;
    return l_emit_item(l, i);
}

static lstate lex_inside(lexer *l)
{
    bool delim, trim;
    at_right_delim(l, &delim, &trim);
    if (delim) {
        if (l->paren_depth == 0)
            return LS_RIGHT;
        return l_errorf(l, "unclosed left paren");
    }
    int32_t r = l_next(l);
    char u[48];
    if (r == L_EOF)
        return l_errorf(l, "unclosed action");
    if (is_space(r)) {
        l_backup(l);
        return LS_SPACE;
    }
    switch (r) {
    case '=':
        return l_emit(l, IT_ASSIGN);
    case ':':
        if (l_next(l) != '=')
            return l_errorf(l, "expected :=");
        return l_emit(l, IT_DECLARE);
    case '|':
        return l_emit(l, IT_PIPE);
    case '"':
        return LS_QUOTE;
    case '`':
        return LS_RAW;
    case '$':
        return LS_VARIABLE;
    case '\'':
        return LS_CHAR;
    case '.':
        if (l->pos < l->n) {
            char c = l->in[l->pos];
            if (c < '0' || c > '9')
                return LS_FIELD;
        }
        l_backup(l);
        return LS_NUMBER;
    case '(':
        l->paren_depth++;
        return l_emit(l, IT_LPAREN);
    case ')':
        l->paren_depth--;
        if (l->paren_depth < 0)
            return l_errorf(l, "unexpected right paren");
        return l_emit(l, IT_RPAREN);
    default:
        break;
    }
    if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
        l_backup(l);
        return LS_NUMBER;
    }
    if (is_alnum(r)) {
        l_backup(l);
        return LS_IDENT;
    }
    if (r >= 0x20 && r < 0x7F)
        return l_emit(l, IT_CHAR);
    fmt_sharp_u(u, sizeof u, r);
    return l_errorf(l, "unrecognized character in action: %s", u);
}

static lstate lex_space(lexer *l)
{
    int nspace = 0;
    for (;;) {
        int32_t r = l_peek(l);
        if (!is_space(r))
            break;
        l_next(l);
        nspace++;
    }
    if (right_trim_marker(l, l->pos - 1) && has_prefix(l, l->pos - 1 + 2, "}}")) {
        l_backup(l);
        if (nspace == 1)
            return LS_RIGHT;
    }
    return l_emit(l, IT_SPACE);
}

static bool at_terminator(lexer *l)
{
    int32_t r = l_peek(l);
    if (is_space(r))
        return true;
    switch (r) {
    case L_EOF:
    case '.':
    case ',':
    case '|':
    case ':':
    case ')':
    case '(':
        return true;
    default:
        break;
    }
    return has_prefix(l, l->pos, "}}");
}

static int keyword(lk_str w)
{
    static const struct {
        const char *w;
        int t;
    } kw[] = {
        { "block", IT_BLOCK }, { "break", IT_BREAK }, { "continue", IT_CONTINUE },
        { "define", IT_DEFINE }, { "else", IT_ELSE }, { "end", IT_END },
        { "if", IT_IF }, { "range", IT_RANGE }, { "nil", IT_NIL },
        { "template", IT_TEMPLATE }, { "with", IT_WITH },
    };
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (lk_str_eq_c(w, kw[i].w))
            return kw[i].t;
    return 0;
}

static lstate lex_ident(lexer *l)
{
    for (;;) {
        int32_t r = l_next(l);
        if (is_alnum(r))
            continue;
        l_backup(l);
        lk_str word = lk_str_n(l->in + l->start, l->pos - l->start);
        if (!at_terminator(l)) {
            char u[48];
            fmt_sharp_u(u, sizeof u, r);
            return l_errorf(l, "bad character %s", u);
        }
        int k = keyword(word);
        if (k)
            return l_emit(l, k);
        if (lk_str_eq_c(word, "true") || lk_str_eq_c(word, "false"))
            return l_emit(l, IT_BOOL);
        return l_emit(l, IT_IDENT);
    }
}

static lstate lex_field_or_var(lexer *l, int typ)
{
    if (at_terminator(l))
        return l_emit(l, typ == IT_VARIABLE ? IT_VARIABLE : IT_DOT);
    int32_t r;
    for (;;) {
        r = l_next(l);
        if (!is_alnum(r)) {
            l_backup(l);
            break;
        }
    }
    if (!at_terminator(l)) {
        char u[48];
        fmt_sharp_u(u, sizeof u, r);
        return l_errorf(l, "bad character %s", u);
    }
    return l_emit(l, typ);
}

static lstate lex_variable(lexer *l)
{
    if (at_terminator(l))
        return l_emit(l, IT_VARIABLE);
    return lex_field_or_var(l, IT_VARIABLE);
}

static lstate lex_char(lexer *l)
{
    for (;;) {
        int32_t r = l_next(l);
        if (r == '\\') {
            r = l_next(l);
            if (r != L_EOF && r != '\n')
                continue;
            return l_errorf(l, "unterminated character constant");
        }
        if (r == L_EOF || r == '\n')
            return l_errorf(l, "unterminated character constant");
        if (r == '\'')
            break;
    }
    return l_emit(l, IT_CHAR_CONST);
}

static bool l_accept(lexer *l, const char *valid)
{
    int32_t r = l_next(l);
    if (r > 0 && r < 0x80 && strchr(valid, (int)r))
        return true;
    l_backup(l);
    return false;
}

static void l_accept_run(lexer *l, const char *valid)
{
    for (;;) {
        int32_t r = l_next(l);
        if (!(r > 0 && r < 0x80 && strchr(valid, (int)r)))
            break;
    }
    l_backup(l);
}

static bool scan_number(lexer *l)
{
    l_accept(l, "+-");
    const char *digits = "0123456789_";
    if (l_accept(l, "0")) {
        if (l_accept(l, "xX"))
            digits = "0123456789abcdefABCDEF_";
        else if (l_accept(l, "oO"))
            digits = "01234567_";
        else if (l_accept(l, "bB"))
            digits = "01_";
    }
    l_accept_run(l, digits);
    if (l_accept(l, "."))
        l_accept_run(l, digits);
    size_t nd = strlen(digits);
    if (nd == 11 && l_accept(l, "eE")) {
        l_accept(l, "+-");
        l_accept_run(l, "0123456789_");
    }
    if (nd == 23 && l_accept(l, "pP")) {
        l_accept(l, "+-");
        l_accept_run(l, "0123456789_");
    }
    l_accept(l, "i");
    if (is_alnum(l_peek(l))) {
        l_next(l);
        return false;
    }
    return true;
}

static lstate l_bad_number(lexer *l)
{
    lk_buf q = { 0 };
    tf_quote(&q, lk_str_n(l->in + l->start, l->pos - l->start), false);
    lstate s = l_errorf(l, "bad number syntax: %s", q.p);
    lk_buf_free(&q);
    return s;
}

static lstate lex_number(lexer *l)
{
    if (!scan_number(l))
        return l_bad_number(l);
    int32_t sign = l_peek(l);
    if (sign == '+' || sign == '-') {
        if (!scan_number(l) || l->in[l->pos - 1] != 'i')
            return l_bad_number(l);
        return l_emit(l, IT_COMPLEX);
    }
    return l_emit(l, IT_NUMBER);
}

static lstate lex_quote(lexer *l)
{
    for (;;) {
        int32_t r = l_next(l);
        if (r == '\\') {
            r = l_next(l);
            if (r != L_EOF && r != '\n')
                continue;
            return l_errorf(l, "unterminated quoted string");
        }
        if (r == L_EOF || r == '\n')
            return l_errorf(l, "unterminated quoted string");
        if (r == '"')
            break;
    }
    return l_emit(l, IT_STRING);
}

static lstate lex_raw(lexer *l)
{
    for (;;) {
        int32_t r = l_next(l);
        if (r == L_EOF)
            return l_errorf(l, "unterminated raw quoted string");
        if (r == '`')
            break;
    }
    return l_emit(l, IT_RAW);
}

static item lex_item(lexer *l)
{
    l->it = (item){ IT_EOF, l->pos, LK_STR("EOF"), l->start_line };
    lstate s = l->inside ? LS_INSIDE : LS_TEXT;
    for (;;) {
        switch (s) {
        case LS_EMIT: return l->it;
        case LS_TEXT: s = lex_text(l); break;
        case LS_LEFT: s = lex_left(l); break;
        case LS_COMMENT: s = lex_comment(l); break;
        case LS_RIGHT: s = lex_right(l); break;
        case LS_INSIDE: s = lex_inside(l); break;
        case LS_SPACE: s = lex_space(l); break;
        case LS_IDENT: s = lex_ident(l); break;
        case LS_FIELD: s = lex_field_or_var(l, IT_FIELD); break;
        case LS_VARIABLE: s = lex_variable(l); break;
        case LS_CHAR: s = lex_char(l); break;
        case LS_NUMBER: s = lex_number(l); break;
        case LS_QUOTE: s = lex_quote(l); break;
        case LS_RAW: s = lex_raw(l); break;
        }
    }
}

/* item.String() */
static void item_write(lk_buf *b, const item *i)
{
    if (i->typ == IT_EOF) {
        lk_buf_puts(b, "EOF");
    } else if (i->typ == IT_ERROR) {
        lk_buf_put_str(b, i->val);
    } else if (i->typ > IT_KEYWORD) {
        lk_buf_putc(b, '<');
        lk_buf_put_str(b, i->val);
        lk_buf_putc(b, '>');
    } else if (i->val.len > 10) {
        /* %.10q: the first ten runes, quoted */
        size_t off = 0;
        for (int k = 0; k < 10 && off < i->val.len; k++) {
            uint32_t r;
            off += lk_utf8_decode((const unsigned char *)i->val.p + off, i->val.len - off, &r);
        }
        tf_quote(b, lk_str_n(i->val.p, off), false);
        lk_buf_puts(b, "...");
    } else {
        tf_quote(b, i->val, false);
    }
}

/* ---- the parser -------------------------------------------------------- */

typedef struct vec {
    void **v;
    uint32_t n, cap;
} vec;

typedef struct parser {
    struct tmpl *t;
    lk_arena *a;
    lexer lx;
    item token[3];
    int peek_count;
    lk_str *vars;
    uint32_t nvars, capvars;
    int action_line;
    int range_depth;
    int depth;
    lk_buf *err;
    lk_buf scratch;
    vec defs; /* tmpl_def* */
    jmp_buf jb;
} parser;

static _Noreturn void p_errorf(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void p_errorf(parser *p, const char *fmt, ...)
{
    if (p->err) {
        lk_buf_printf(p->err, "template: %.*s:%d: ", LK_STR_FMT(p->t->name), p->token[0].line);
        va_list ap;
        va_start(ap, fmt);
        lk_buf_vprintf(p->err, fmt, ap);
        va_end(ap);
    }
    longjmp(p->jb, 1);
}

static void vec_push(parser *p, vec *v, void *x)
{
    if (v->n == v->cap) {
        uint32_t nc = v->cap ? v->cap * 2 : 4;
        void **nv = lk_arena_alloc(p->a, nc * sizeof(void *));
        if (v->n)
            memcpy(nv, v->v, v->n * sizeof(void *));
        v->v = nv;
        v->cap = nc;
    }
    v->v[v->n++] = x;
}

static item p_next(parser *p)
{
    if (p->peek_count > 0)
        p->peek_count--;
    else
        p->token[0] = lex_item(&p->lx);
    return p->token[p->peek_count];
}

static void p_backup(parser *p)
{
    p->peek_count++;
}

static void p_backup2(parser *p, item t1)
{
    p->token[1] = t1;
    p->peek_count = 2;
}

static void p_backup3(parser *p, item t2, item t1)
{
    p->token[1] = t1;
    p->token[2] = t2;
    p->peek_count = 3;
}

static item p_peek(parser *p)
{
    if (p->peek_count > 0)
        return p->token[p->peek_count - 1];
    p->peek_count = 1;
    p->token[0] = lex_item(&p->lx);
    return p->token[0];
}

static item p_next_nonspace(parser *p)
{
    item t;
    do
        t = p_next(p);
    while (t.typ == IT_SPACE);
    return t;
}

static item p_peek_nonspace(parser *p)
{
    item t = p_next_nonspace(p);
    p_backup(p);
    return t;
}

static _Noreturn void p_unexpected(parser *p, const item *tok, const char *context)
{
    lk_buf b = { 0 };
    item_write(&b, tok);
    if (tok->typ == IT_ERROR) {
        if (p->action_line != 0 && p->action_line != tok->line) {
            if (tok->val.len >= 7 && memcmp(tok->val.p + tok->val.len - 7, " action", 7) == 0)
                lk_buf_printf(&b, " started at %.*s:%d", LK_STR_FMT(p->t->name), p->action_line);
            else
                lk_buf_printf(&b, " in action started at %.*s:%d", LK_STR_FMT(p->t->name),
                              p->action_line);
        }
        lk_str s = lk_arena_str(p->a, lk_buf_str(&b));
        lk_buf_free(&b);
        p_errorf(p, "%.*s", LK_STR_FMT(s));
    }
    lk_str s = lk_arena_str(p->a, lk_buf_str(&b));
    lk_buf_free(&b);
    p_errorf(p, "unexpected %.*s in %s", LK_STR_FMT(s), context);
}

static item p_expect(parser *p, int typ, const char *context)
{
    item t = p_next_nonspace(p);
    if (t.typ != typ)
        p_unexpected(p, &t, context);
    return t;
}

static tnode *nn(parser *p, int type, size_t pos)
{
    tnode *n = lk_arena_alloc(p->a, sizeof *n);
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    n->pos = (uint32_t)pos;
    return n;
}

static void list_append(parser *p, tnode *list, vec *items, tnode *n)
{
    vec_push(p, items, n);
    list->u.list.v = (tnode **)items->v;
    list->u.list.n = items->n;
}

/* Node string of a node built here, for messages. */
static lk_str node_str(parser *p, const tnode *n)
{
    lk_buf b = { 0 };
    tn_write(&b, n);
    lk_str s = lk_arena_str(p->a, lk_buf_str(&b));
    lk_buf_free(&b);
    return s;
}

static lk_str *split_idents(parser *p, lk_str s, uint32_t *n)
{
    uint32_t cnt = 1;
    for (size_t i = 0; i < s.len; i++)
        cnt += s.p[i] == '.';
    lk_str *v = lk_arena_alloc(p->a, cnt * sizeof *v);
    uint32_t k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= s.len; i++) {
        if (i == s.len || s.p[i] == '.') {
            v[k++] = lk_str_n(s.p + start, i - start);
            start = i + 1;
        }
    }
    *n = k;
    return v;
}

static tnode *new_field(parser *p, size_t pos, lk_str ident)
{
    tnode *n = nn(p, TN_FIELD, pos);
    n->u.f.id = split_idents(p, lk_str_n(ident.p + 1, ident.len - 1), &n->u.f.n);
    return n;
}

static tnode *new_variable(parser *p, size_t pos, lk_str ident)
{
    tnode *n = nn(p, TN_VARIABLE, pos);
    n->u.f.id = split_idents(p, ident, &n->u.f.n);
    return n;
}

/* strconv.UnquoteChar for a character constant's body (after the opening
 * quote): 1 when it is one character and the closing quote, 2 when the
 * character is followed by something else, 0 on a syntax error. */
static int unquote_char(lk_str s, uint32_t *out)
{
    const unsigned char *q = (const unsigned char *)s.p;
    size_t n = s.len, i = 0;
    if (n == 0)
        return false;
    uint32_t v;
    if (q[0] == '\'')
        return false;
    if (q[0] >= 0x80) {
        i = lk_utf8_decode(q, n, &v);
    } else if (q[0] != '\\') {
        v = q[0];
        i = 1;
    } else {
        if (n <= 1)
            return false;
        unsigned char c = q[1];
        i = 2;
        switch (c) {
        case 'a': v = '\a'; break;
        case 'b': v = '\b'; break;
        case 'f': v = '\f'; break;
        case 'n': v = '\n'; break;
        case 'r': v = '\r'; break;
        case 't': v = '\t'; break;
        case 'v': v = '\v'; break;
        case '\\': v = '\\'; break;
        case '\'': v = '\''; break;
        case 'x':
        case 'u':
        case 'U': {
            size_t nd = c == 'x' ? 2 : c == 'u' ? 4 : 8;
            if (n - i < nd)
                return false;
            v = 0;
            for (size_t j = 0; j < nd; j++) {
                unsigned char h = q[i + j];
                int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                      : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                if (d < 0)
                    return false;
                v = (v << 4) | (uint32_t)d;
            }
            i += nd;
            if (c != 'x' && (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)))
                return false;
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                v = c - '0';
                if (n - i < 2)
                    return false;
                for (int j = 0; j < 2; j++) {
                    int d = (int)q[i + (size_t)j] - '0';
                    if (d < 0 || d > 7)
                        return false;
                    v = (v << 3) | (uint32_t)d;
                }
                i += 2;
                if (v > 255)
                    return false;
                break;
            }
            return false;
        }
    }
    if (n - i == 1 && q[i] == '\'') {
        *out = v;
        return 1;
    }
    return 2;
}

static bool contains_any(lk_str s, const char *set)
{
    for (size_t i = 0; i < s.len; i++)
        if (strchr(set, s.p[i]) && s.p[i])
            return true;
    return false;
}

static void simplify_complex(tnum *n)
{
    n->is_float = n->im == 0;
    if (n->is_float) {
        n->f = n->re;
        n->is_int = n->f >= -9223372036854775808.0 && n->f < 9223372036854775808.0 &&
                    (double)(int64_t)n->f == n->f;
        if (n->is_int)
            n->i = (int64_t)n->f;
        n->is_uint = n->f >= 0 && n->f < 18446744073709551616.0 && (double)(uint64_t)n->f == n->f;
        if (n->is_uint)
            n->u = (uint64_t)n->f;
    }
}

static tnode *new_number(parser *p, const item *tok)
{
    tnum *n = lk_arena_alloc(p->a, sizeof *n);
    memset(n, 0, sizeof *n);
    n->text = tok->val;
    lk_str text = tok->val;
    if (tok->typ == IT_CHAR_CONST) {
        uint32_t r = 0;
        int ok = unquote_char(lk_str_n(text.p + 1, text.len - 1), &r);
        if (!ok)
            p_errorf(p, "invalid syntax");
        if (ok == 2)
            p_errorf(p, "malformed character constant: %.*s", LK_STR_FMT(text));
        n->i = r;
        n->u = r;
        n->f = r;
        n->is_int = n->is_uint = n->is_float = true;
    } else if (tok->typ == IT_COMPLEX) {
        /* a+bi: split before the sign of the imaginary part */
        size_t k = text.len - 1;
        while (k > 1 && !((text.p[k] == '+' || text.p[k] == '-') &&
                          text.p[k - 1] != 'e' && text.p[k - 1] != 'E' &&
                          text.p[k - 1] != 'p' && text.p[k - 1] != 'P'))
            k--;
        double re, im;
        if (tnum_parse_float(lk_str_n(text.p, k), &re) != 0 ||
            tnum_parse_float(lk_str_n(text.p + k, text.len - k - 1), &im) != 0)
            p_errorf(p, "expected integer");
        n->re = re;
        n->im = im;
        n->is_complex = true;
        simplify_complex(n);
    } else {
        bool done = false;
        if (text.len > 0 && text.p[text.len - 1] == 'i') {
            double f;
            if (tnum_parse_float(lk_str_n(text.p, text.len - 1), &f) == 0) {
                n->is_complex = true;
                n->re = 0;
                n->im = f;
                simplify_complex(n);
                done = true;
            }
        }
        if (!done) {
            uint64_t u = 0;
            int64_t i;
            if (tnum_parse_uint(text, 0, &u) == 0) {
                n->is_uint = true;
                n->u = u;
            }
            if (tnum_parse_int(text, 0, &i) == 0) {
                n->is_int = true;
                n->i = i;
                if (i == 0) {
                    n->is_uint = true;
                    n->u = n->is_uint ? n->u : 0;
                }
            }
            if (n->is_int) {
                n->is_float = true;
                n->f = (double)n->i;
            } else if (n->is_uint) {
                n->is_float = true;
                n->f = (double)n->u;
            } else {
                double f;
                if (tnum_parse_float(text, &f) == 0) {
                    if (!contains_any(text, ".eEpP")) {
                        lk_buf q = { 0 };
                        tf_quote(&q, text, false);
                        lk_str qs = lk_arena_str(p->a, lk_buf_str(&q));
                        lk_buf_free(&q);
                        p_errorf(p, "integer overflow: %.*s", LK_STR_FMT(qs));
                    }
                    n->is_float = true;
                    n->f = f;
                    if (f >= -9223372036854775808.0 && f < 9223372036854775808.0 &&
                        (double)(int64_t)f == f) {
                        n->is_int = true;
                        n->i = (int64_t)f;
                    }
                    if (f >= 0 && f < 18446744073709551616.0 && (double)(uint64_t)f == f) {
                        n->is_uint = true;
                        n->u = (uint64_t)f;
                    }
                }
            }
            if (!n->is_int && !n->is_uint && !n->is_float) {
                lk_buf q = { 0 };
                tf_quote(&q, text, false);
                lk_str qs = lk_arena_str(p->a, lk_buf_str(&q));
                lk_buf_free(&q);
                p_errorf(p, "illegal number syntax: %.*s", LK_STR_FMT(qs));
            }
        }
    }
    tnode *node = nn(p, TN_NUMBER, tok->pos);
    node->u.num = n;
    return node;
}

static lk_str unquote(parser *p, lk_str lit)
{
    lk_buf_reset(&p->scratch);
    if (lk_go_unquote(lit, &p->scratch) != 0)
        p_errorf(p, "invalid syntax");
    return lk_arena_str(p->a, lk_buf_str(&p->scratch));
}

static void push_var(parser *p, lk_str name)
{
    if (p->nvars == p->capvars) {
        uint32_t nc = p->capvars * 2;
        lk_str *nv = lk_arena_alloc(p->a, nc * sizeof *nv);
        memcpy(nv, p->vars, p->nvars * sizeof *nv);
        p->vars = nv;
        p->capvars = nc;
    }
    p->vars[p->nvars++] = name;
}

static tnode *pipeline(parser *p, const char *context, int end);
static tnode *item_list(parser *p, tnode **next);

static tnode *term(parser *p)
{
    item tok = p_next_nonspace(p);
    switch (tok.typ) {
    case IT_IDENT: {
        const tfunc *fn = p->t->prom ? tf_lookup_prom(tok.val) : tf_lookup(tok.val);
        if (!fn) {
            lk_buf q = { 0 };
            tf_quote(&q, tok.val, false);
            lk_str qs = lk_arena_str(p->a, lk_buf_str(&q));
            lk_buf_free(&q);
            p_errorf(p, "function %.*s not defined", LK_STR_FMT(qs));
        }
        tnode *n = nn(p, TN_IDENT, tok.pos);
        n->u.ident.name = tok.val;
        n->u.ident.fn = fn;
        return n;
    }
    case IT_DOT:
        return nn(p, TN_DOT, tok.pos);
    case IT_NIL:
        return nn(p, TN_NIL, tok.pos);
    case IT_VARIABLE: {
        tnode *v = new_variable(p, tok.pos, tok.val);
        for (uint32_t i = 0; i < p->nvars; i++)
            if (lk_str_eq(p->vars[i], v->u.f.id[0]))
                return v;
        lk_buf q = { 0 };
        tf_quote(&q, v->u.f.id[0], false);
        lk_str qs = lk_arena_str(p->a, lk_buf_str(&q));
        lk_buf_free(&q);
        p_errorf(p, "undefined variable %.*s", LK_STR_FMT(qs));
    }
    case IT_FIELD:
        return new_field(p, tok.pos, tok.val);
    case IT_BOOL: {
        tnode *n = nn(p, TN_BOOL, tok.pos);
        n->u.b = lk_str_eq_c(tok.val, "true");
        return n;
    }
    case IT_CHAR_CONST:
    case IT_COMPLEX:
    case IT_NUMBER:
        return new_number(p, &tok);
    case IT_LPAREN: {
        if (p->depth >= TMPL_MAX_DEPTH)
            p_errorf(p, "max expression depth exceeded");
        p->depth++;
        tnode *pipe = pipeline(p, "parenthesized pipeline", IT_RPAREN);
        p->depth--;
        return pipe;
    }
    case IT_STRING:
    case IT_RAW: {
        lk_str s = unquote(p, tok.val);
        tnode *n = nn(p, TN_STRING, tok.pos);
        n->u.str.quoted = tok.val;
        n->u.str.text = s;
        return n;
    }
    default:
        p_backup(p);
        return NULL;
    }
}

static tnode *operand(parser *p)
{
    tnode *node = term(p);
    if (!node)
        return NULL;
    if (p_peek(p).typ == IT_FIELD) {
        size_t cpos = p_peek(p).pos;
        vec fields = { 0 };
        while (p_peek(p).typ == IT_FIELD) {
            item f = p_next(p);
            lk_str *s = lk_arena_alloc(p->a, sizeof *s);
            *s = lk_str_n(f.val.p + 1, f.val.len - 1);
            vec_push(p, &fields, s);
        }
        tnode *chain = nn(p, TN_CHAIN, cpos);
        chain->u.chain.node = node;
        chain->u.chain.n = fields.n;
        chain->u.chain.id = lk_arena_alloc(p->a, fields.n * sizeof(lk_str));
        for (uint32_t i = 0; i < fields.n; i++)
            chain->u.chain.id[i] = *(lk_str *)fields.v[i];
        switch (node->type) {
        case TN_FIELD:
        case TN_VARIABLE: {
            lk_str s = node_str(p, chain);
            return node->type == TN_FIELD ? new_field(p, cpos, s) : new_variable(p, cpos, s);
        }
        case TN_BOOL:
        case TN_STRING:
        case TN_NUMBER:
        case TN_NIL:
        case TN_DOT: {
            lk_buf q = { 0 };
            tf_quote(&q, node_str(p, node), false);
            lk_str qs = lk_arena_str(p->a, lk_buf_str(&q));
            lk_buf_free(&q);
            p_errorf(p, "unexpected . after term %.*s", LK_STR_FMT(qs));
        }
        default:
            return chain;
        }
    }
    return node;
}

static tnode *command(parser *p)
{
    tnode *cmd = nn(p, TN_COMMAND, p_peek_nonspace(p).pos);
    vec args = { 0 };
    for (;;) {
        p_peek_nonspace(p);
        tnode *op = operand(p);
        if (op) {
            vec_push(p, &args, op);
            cmd->u.cmd.args = (tnode **)args.v;
            cmd->u.cmd.n = args.n;
        }
        item tok = p_next(p);
        if (tok.typ == IT_SPACE)
            continue;
        if (tok.typ == IT_RDELIM || tok.typ == IT_RPAREN)
            p_backup(p);
        else if (tok.typ != IT_PIPE)
            p_unexpected(p, &tok, "operand");
        break;
    }
    if (args.n == 0)
        p_errorf(p, "empty command");
    return cmd;
}

static void check_pipeline(parser *p, tnode *pipe, const char *context)
{
    if (pipe->u.p.ncmds == 0)
        p_errorf(p, "missing value for %s", context);
    for (uint32_t i = 1; i < pipe->u.p.ncmds; i++) {
        switch (pipe->u.p.cmds[i]->u.cmd.args[0]->type) {
        case TN_BOOL:
        case TN_DOT:
        case TN_NIL:
        case TN_NUMBER:
        case TN_STRING:
            p_errorf(p, "non executable command in pipeline stage %u", i + 1);
        default:
            break;
        }
    }
}

static tnode *pipeline(parser *p, const char *context, int end)
{
    item tok = p_peek_nonspace(p);
    tnode *pipe = nn(p, TN_PIPE, tok.pos);
    vec decl = { 0 }, cmds = { 0 };
    bool is_range = strcmp(context, "range") == 0;
decls:;
    item v = p_peek_nonspace(p);
    if (v.typ == IT_VARIABLE) {
        p_next(p);
        item after = p_peek(p);
        item next = p_peek_nonspace(p);
        if (next.typ == IT_ASSIGN || next.typ == IT_DECLARE) {
            pipe->u.p.is_assign = next.typ == IT_ASSIGN;
            p_next_nonspace(p);
            vec_push(p, &decl, new_variable(p, v.pos, v.val));
            push_var(p, v.val);
        } else if (next.typ == IT_CHAR && lk_str_eq_c(next.val, ",")) {
            p_next_nonspace(p);
            vec_push(p, &decl, new_variable(p, v.pos, v.val));
            push_var(p, v.val);
            pipe->u.p.decl = (tnode **)decl.v;
            pipe->u.p.ndecl = decl.n;
            if (is_range && decl.n < 2) {
                int t = p_peek_nonspace(p).typ;
                if (t == IT_VARIABLE || t == IT_RDELIM || t == IT_RPAREN)
                    goto decls;
                p_errorf(p, "range can only initialize variables");
            }
            p_errorf(p, "too many declarations in %s", context);
        } else if (after.typ == IT_SPACE) {
            p_backup3(p, v, after);
        } else {
            p_backup2(p, v);
        }
    }
    pipe->u.p.decl = (tnode **)decl.v;
    pipe->u.p.ndecl = decl.n;
    for (;;) {
        item t = p_next_nonspace(p);
        if (t.typ == end) {
            check_pipeline(p, pipe, context);
            return pipe;
        }
        switch (t.typ) {
        case IT_BOOL:
        case IT_CHAR_CONST:
        case IT_COMPLEX:
        case IT_DOT:
        case IT_FIELD:
        case IT_IDENT:
        case IT_NUMBER:
        case IT_NIL:
        case IT_RAW:
        case IT_STRING:
        case IT_VARIABLE:
        case IT_LPAREN:
            p_backup(p);
            vec_push(p, &cmds, command(p));
            pipe->u.p.cmds = (tnode **)cmds.v;
            pipe->u.p.ncmds = cmds.n;
            if (cmds.n > 100000)
                p_errorf(p, "pipeline too long");
            break;
        default:
            p_unexpected(p, &t, context);
        }
    }
}

static void parse_control(parser *p, const char *context, tnode *n)
{
    uint32_t saved = p->nvars;
    if (p->depth >= TMPL_MAX_DEPTH)
        p_errorf(p, "max expression depth exceeded");
    p->depth++;
    tnode *pipe = pipeline(p, context, IT_RDELIM);
    bool is_range = strcmp(context, "range") == 0;
    if (is_range)
        p->range_depth++;
    tnode *next;
    tnode *list = item_list(p, &next);
    if (is_range)
        p->range_depth--;
    tnode *else_list = NULL;
    if (next->type == TN_ELSE) {
        bool is_if = strcmp(context, "if") == 0, is_with = strcmp(context, "with") == 0;
        if ((is_if && p_peek(p).typ == IT_IF) || (is_with && p_peek(p).typ == IT_WITH)) {
            p_next(p);
            else_list = nn(p, TN_LIST, next->pos);
            vec items = { 0 };
            tnode *inner = nn(p, is_if ? TN_IF : TN_WITH, 0);
            parse_control(p, context, inner);
            list_append(p, else_list, &items, inner);
        } else {
            else_list = item_list(p, &next);
            if (next->type != TN_END)
                p_errorf(p, "expected end; found %.*s", LK_STR_FMT(node_str(p, next)));
        }
    }
    p->depth--;
    p->nvars = saved;
    n->pos = pipe->pos;
    n->u.br.pipe = pipe;
    n->u.br.list = list;
    n->u.br.else_list = else_list;
}

static lk_str template_name(parser *p, const item *tok, const char *context)
{
    if (tok->typ == IT_STRING || tok->typ == IT_RAW)
        return unquote(p, tok->val);
    p_unexpected(p, tok, context);
}

static bool is_empty_tree(const tnode *n)
{
    if (!n)
        return true;
    switch (n->type) {
    case TN_LIST:
        for (uint32_t i = 0; i < n->u.list.n; i++)
            if (!is_empty_tree(n->u.list.v[i]))
                return false;
        return true;
    case TN_TEXT: {
        size_t i = 0;
        while (i < n->u.text.len) {
            uint32_t r;
            size_t w = lk_utf8_decode((const unsigned char *)n->u.text.p + i, n->u.text.len - i, &r);
            if (!lk_unicode_is_space(r))
                return false;
            i += w;
        }
        return true;
    }
    default:
        return false;
    }
}

/* Go's Tree.add for a named tree. */
static void add_tree(parser *p, lk_str name, tnode *root)
{
    for (uint32_t i = 0; i < p->defs.n; i++) {
        tmpl_def *d = p->defs.v[i];
        if (!lk_str_eq(d->name, name))
            continue;
        if (is_empty_tree(d->root)) {
            d->root = root;
            return;
        }
        if (!is_empty_tree(root)) {
            lk_buf q = { 0 };
            tf_quote(&q, name, false);
            lk_str qs = lk_arena_str(p->a, lk_buf_str(&q));
            lk_buf_free(&q);
            p_errorf(p, "template: multiple definition of template %.*s", LK_STR_FMT(qs));
        }
        return;
    }
    tmpl_def *d = lk_arena_alloc(p->a, sizeof *d);
    d->name = name;
    d->root = root;
    vec_push(p, &p->defs, d);
}

/* A nested tree ({{define}} / {{block}} body): fresh token buffer,
 * variables and range depth on the shared lexer. */
typedef struct subtree_save {
    item token[3];
    int peek_count;
    lk_str *vars;
    uint32_t nvars, capvars;
    int range_depth, action_line;
} subtree_save;

static void subtree_enter(parser *p, subtree_save *s)
{
    memcpy(s->token, p->token, sizeof p->token);
    s->peek_count = p->peek_count;
    s->vars = p->vars;
    s->nvars = p->nvars;
    s->capvars = p->capvars;
    s->range_depth = p->range_depth;
    s->action_line = p->action_line;
    memset(p->token, 0, sizeof p->token);
    p->peek_count = 0;
    p->capvars = 8;
    p->vars = lk_arena_alloc(p->a, p->capvars * sizeof(lk_str));
    p->vars[0] = LK_STR("$");
    p->nvars = 1;
    p->range_depth = 0;
    p->action_line = 0;
}

static void subtree_leave(parser *p, const subtree_save *s)
{
    memcpy(p->token, s->token, sizeof p->token);
    p->peek_count = s->peek_count;
    p->vars = s->vars;
    p->nvars = s->nvars;
    p->capvars = s->capvars;
    p->range_depth = s->range_depth;
    p->action_line = s->action_line;
}

static tnode *template_control(parser *p)
{
    item tok = p_next_nonspace(p);
    lk_str name = template_name(p, &tok, "template clause");
    tnode *pipe = NULL;
    if (p_next_nonspace(p).typ != IT_RDELIM) {
        p_backup(p);
        pipe = pipeline(p, "template clause", IT_RDELIM);
    }
    tnode *n = nn(p, TN_TEMPLATE, tok.pos);
    n->u.tmpl.name = name;
    n->u.tmpl.pipe = pipe;
    return n;
}

static tnode *block_control(parser *p)
{
    const char *context = "block clause";
    item tok = p_next_nonspace(p);
    lk_str name = template_name(p, &tok, context);
    tnode *pipe = pipeline(p, context, IT_RDELIM);
    subtree_save s;
    subtree_enter(p, &s);
    tnode *end;
    tnode *root = item_list(p, &end);
    if (end->type != TN_END) {
        subtree_leave(p, &s);
        p_errorf(p, "unexpected %.*s in %s", LK_STR_FMT(node_str(p, end)), context);
    }
    add_tree(p, name, root);
    subtree_leave(p, &s);
    tnode *n = nn(p, TN_TEMPLATE, tok.pos);
    n->u.tmpl.name = name;
    n->u.tmpl.pipe = pipe;
    return n;
}

static void parse_definition(parser *p)
{
    const char *context = "define clause";
    subtree_save s;
    subtree_enter(p, &s);
    item name = p_next_nonspace(p);
    if (name.typ != IT_STRING && name.typ != IT_RAW)
        p_unexpected(p, &name, context);
    lk_str n = unquote(p, name.val);
    p_expect(p, IT_RDELIM, context);
    tnode *end;
    tnode *root = item_list(p, &end);
    if (end->type != TN_END)
        p_errorf(p, "unexpected %.*s in %s", LK_STR_FMT(node_str(p, end)), context);
    add_tree(p, n, root);
    subtree_leave(p, &s);
}

static tnode *action(parser *p)
{
    item tok = p_next_nonspace(p);
    tnode *n;
    switch (tok.typ) {
    case IT_BLOCK:
        return block_control(p);
    case IT_BREAK:
    case IT_CONTINUE: {
        item t = p_next_nonspace(p);
        const char *ctx = tok.typ == IT_BREAK ? "{{break}}" : "{{continue}}";
        if (t.typ != IT_RDELIM)
            p_unexpected(p, &t, ctx);
        if (p->range_depth == 0)
            p_errorf(p, "%s outside {{range}}", ctx);
        return nn(p, tok.typ == IT_BREAK ? TN_BREAK : TN_CONTINUE, tok.pos);
    }
    case IT_ELSE: {
        item pk = p_peek_nonspace(p);
        if (pk.typ == IT_IF || pk.typ == IT_WITH)
            return nn(p, TN_ELSE, pk.pos);
        item t = p_expect(p, IT_RDELIM, "else");
        return nn(p, TN_ELSE, t.pos);
    }
    case IT_END:
        return nn(p, TN_END, p_expect(p, IT_RDELIM, "end").pos);
    case IT_IF:
        n = nn(p, TN_IF, 0);
        parse_control(p, "if", n);
        return n;
    case IT_RANGE:
        n = nn(p, TN_RANGE, 0);
        parse_control(p, "range", n);
        return n;
    case IT_TEMPLATE:
        return template_control(p);
    case IT_WITH:
        n = nn(p, TN_WITH, 0);
        parse_control(p, "with", n);
        return n;
    default:
        break;
    }
    p_backup(p);
    item t = p_peek(p);
    n = nn(p, TN_ACTION, t.pos);
    n->u.pipe = pipeline(p, "command", IT_RDELIM);
    return n;
}

static tnode *text_or_action(parser *p)
{
    item tok = p_next_nonspace(p);
    switch (tok.typ) {
    case IT_TEXT: {
        tnode *n = nn(p, TN_TEXT, tok.pos);
        n->u.text = tok.val;
        return n;
    }
    case IT_LDELIM: {
        p->action_line = tok.line;
        tnode *n = action(p);
        p->action_line = 0;
        return n;
    }
    default:
        p_unexpected(p, &tok, "input");
    }
}

static tnode *item_list(parser *p, tnode **next)
{
    tnode *list = nn(p, TN_LIST, p_peek_nonspace(p).pos);
    vec items = { 0 };
    while (p_peek_nonspace(p).typ != IT_EOF) {
        tnode *n = text_or_action(p);
        if (n->type == TN_END || n->type == TN_ELSE) {
            *next = n;
            return list;
        }
        list_append(p, list, &items, n);
    }
    p_errorf(p, "unexpected EOF");
}

static tnode *parse_top(parser *p)
{
    tnode *root = nn(p, TN_LIST, p_peek(p).pos);
    vec items = { 0 };
    while (p_peek(p).typ != IT_EOF) {
        if (p_peek(p).typ == IT_LDELIM) {
            item delim = p_next(p);
            if (p_next_nonspace(p).typ == IT_DEFINE) {
                parse_definition(p);
                continue;
            }
            p_backup2(p, delim);
        }
        tnode *n = text_or_action(p);
        if (n->type == TN_END || n->type == TN_ELSE)
            p_errorf(p, "unexpected %.*s", LK_STR_FMT(node_str(p, n)));
        list_append(p, root, &items, n);
    }
    return root;
}

/* ---- Loki's referenced fields (listNodeFields) -------------------------- */

typedef struct fieldset {
    lk_arena *a;
    lk_str *v;
    size_t n, cap;
} fieldset;

static void fields_add(fieldset *fs, lk_str s)
{
    if (s.len == 0)
        return;
    for (size_t i = 0; i < fs->n; i++)
        if (lk_str_eq(fs->v[i], s))
            return;
    if (fs->n == fs->cap) {
        size_t nc = fs->cap ? fs->cap * 2 : 8;
        lk_str *nv = lk_arena_alloc(fs->a, nc * sizeof *nv);
        if (fs->n)
            memcpy(nv, fs->v, fs->n * sizeof *nv);
        fs->v = nv;
        fs->cap = nc;
    }
    fs->v[fs->n++] = s;
}

static void fields_walk(fieldset *fs, const tnode *n);

static void fields_pipe(fieldset *fs, const tnode *pipe)
{
    for (uint32_t i = 0; i < pipe->u.p.ncmds; i++) {
        const tnode *c = pipe->u.p.cmds[i];
        for (uint32_t j = 0; j < c->u.cmd.n; j++)
            fields_walk(fs, c->u.cmd.args[j]);
    }
}

static void fields_walk(fieldset *fs, const tnode *n)
{
    if (!n)
        return;
    switch (n->type) {
    case TN_PIPE:
        fields_pipe(fs, n);
        break;
    case TN_ACTION:
        fields_pipe(fs, n->u.pipe);
        break;
    case TN_LIST:
        for (uint32_t i = 0; i < n->u.list.n; i++)
            fields_walk(fs, n->u.list.v[i]);
        break;
    case TN_COMMAND:
        for (uint32_t i = 0; i < n->u.cmd.n; i++)
            fields_walk(fs, n->u.cmd.args[i]);
        break;
    case TN_IF:
    case TN_WITH:
    case TN_RANGE:
        if (n->u.br.pipe)
            fields_pipe(fs, n->u.br.pipe);
        fields_walk(fs, n->u.br.list);
        fields_walk(fs, n->u.br.else_list);
        break;
    case TN_FIELD:
        for (uint32_t i = 0; i < n->u.f.n; i++)
            fields_add(fs, n->u.f.id[i]);
        break;
    default:
        break;
    }
}

/* Precompiles the literal pattern of regexReplaceAll & co (Prometheus'
 * reReplaceAll and match too). */
static void cache_regexes(parser *p, tnode *n)
{
    if (!n)
        return;
    switch (n->type) {
    case TN_LIST:
        for (uint32_t i = 0; i < n->u.list.n; i++)
            cache_regexes(p, n->u.list.v[i]);
        break;
    case TN_ACTION:
        cache_regexes(p, n->u.pipe);
        break;
    case TN_IF:
    case TN_WITH:
    case TN_RANGE:
        cache_regexes(p, n->u.br.pipe);
        cache_regexes(p, n->u.br.list);
        cache_regexes(p, n->u.br.else_list);
        break;
    case TN_TEMPLATE:
        cache_regexes(p, n->u.tmpl.pipe);
        break;
    case TN_PIPE:
        for (uint32_t i = 0; i < n->u.p.ncmds; i++)
            cache_regexes(p, n->u.p.cmds[i]);
        break;
    case TN_CHAIN:
        cache_regexes(p, n->u.chain.node);
        break;
    case TN_COMMAND: {
        for (uint32_t i = 0; i < n->u.cmd.n; i++)
            cache_regexes(p, n->u.cmd.args[i]);
        if (n->u.cmd.n < 2 || n->u.cmd.args[0]->type != TN_IDENT ||
            n->u.cmd.args[1]->type != TN_STRING)
            break;
        const char *name = n->u.cmd.args[0]->u.ident.fn->name;
        if (strcmp(name, "regexReplaceAll") && strcmp(name, "regexReplaceAllLiteral") &&
            strcmp(name, "count") && strcmp(name, "reReplaceAll") && strcmp(name, "match"))
            break;
        tx_regex *re = tf_regex_compile(n->u.cmd.args[1]->u.str.text, NULL);
        if (!re)
            break;
        struct tmpl *t = p->t;
        tx_regex **nv = lk_realloc(t->regexes, (t->nregexes + 1) * sizeof *nv);
        t->regexes = nv;
        t->regexes[t->nregexes++] = re;
        n->u.cmd.re = re;
        break;
    }
    default:
        break;
    }
}

int tp_parse(struct tmpl *t, lk_buf *err)
{
    parser *p = lk_calloc(1, sizeof *p);
    p->t = t;
    p->a = &t->arena;
    p->err = err;
    p->lx.in = t->text.p;
    p->lx.n = t->text.len;
    p->lx.line = p->lx.start_line = 1;
    p->lx.arena = &t->arena;
    p->capvars = 8;
    p->vars = lk_arena_alloc(p->a, p->capvars * sizeof(lk_str));
    p->vars[0] = LK_STR("$");
    p->nvars = 1;
    int rc = 0;
    if (setjmp(p->jb)) {
        rc = LK_EPARSE;
        goto out;
    }
    tnode *root = parse_top(p);
    add_tree(p, t->name, root);
    for (uint32_t i = 0; i < p->defs.n; i++) {
        tmpl_def *d = p->defs.v[i];
        if (lk_str_eq(d->name, t->name))
            t->root = d->root;
        cache_regexes(p, d->root);
    }
    t->ndefs = p->defs.n;
    t->defs = lk_arena_alloc(p->a, (t->ndefs ? t->ndefs : 1) * sizeof *t->defs);
    for (uint32_t i = 0; i < p->defs.n; i++)
        t->defs[i] = *(tmpl_def *)p->defs.v[i];
    fieldset fs = { .a = p->a };
    fields_walk(&fs, t->root);
    t->fields = fs.v;
    t->nfields = fs.n;
out:
    lk_buf_free(&p->scratch);
    free(p);
    return rc;
}

/* ---- Node.String() ------------------------------------------------------ */

static void write_pipe(lk_buf *b, const tnode *p)
{
    if (p->u.p.ndecl > 0) {
        for (uint32_t i = 0; i < p->u.p.ndecl; i++) {
            if (i > 0)
                lk_buf_puts(b, ", ");
            tn_write(b, p->u.p.decl[i]);
        }
        lk_buf_puts(b, " := ");
    }
    for (uint32_t i = 0; i < p->u.p.ncmds; i++) {
        if (i > 0)
            lk_buf_puts(b, " | ");
        tn_write(b, p->u.p.cmds[i]);
    }
}

void tn_write(lk_buf *b, const tnode *n)
{
    switch (n->type) {
    case TN_LIST:
        for (uint32_t i = 0; i < n->u.list.n; i++)
            tn_write(b, n->u.list.v[i]);
        break;
    case TN_TEXT:
        lk_buf_put_str(b, n->u.text);
        break;
    case TN_ACTION:
        lk_buf_puts(b, "{{");
        write_pipe(b, n->u.pipe);
        lk_buf_puts(b, "}}");
        break;
    case TN_IF:
    case TN_RANGE:
    case TN_WITH:
        lk_buf_puts(b, n->type == TN_IF ? "{{if " : n->type == TN_RANGE ? "{{range " : "{{with ");
        write_pipe(b, n->u.br.pipe);
        lk_buf_puts(b, "}}");
        tn_write(b, n->u.br.list);
        if (n->u.br.else_list) {
            lk_buf_puts(b, "{{else}}");
            tn_write(b, n->u.br.else_list);
        }
        lk_buf_puts(b, "{{end}}");
        break;
    case TN_TEMPLATE:
        lk_buf_puts(b, "{{template ");
        tf_quote(b, n->u.tmpl.name, false);
        if (n->u.tmpl.pipe) {
            lk_buf_putc(b, ' ');
            write_pipe(b, n->u.tmpl.pipe);
        }
        lk_buf_puts(b, "}}");
        break;
    case TN_BREAK:
        lk_buf_puts(b, "{{break}}");
        break;
    case TN_CONTINUE:
        lk_buf_puts(b, "{{continue}}");
        break;
    case TN_PIPE:
        write_pipe(b, n);
        break;
    case TN_COMMAND:
        for (uint32_t i = 0; i < n->u.cmd.n; i++) {
            if (i > 0)
                lk_buf_putc(b, ' ');
            const tnode *a = n->u.cmd.args[i];
            if (a->type == TN_PIPE) {
                lk_buf_putc(b, '(');
                write_pipe(b, a);
                lk_buf_putc(b, ')');
            } else {
                tn_write(b, a);
            }
        }
        break;
    case TN_FIELD:
        for (uint32_t i = 0; i < n->u.f.n; i++) {
            lk_buf_putc(b, '.');
            lk_buf_put_str(b, n->u.f.id[i]);
        }
        break;
    case TN_VARIABLE:
        for (uint32_t i = 0; i < n->u.f.n; i++) {
            if (i > 0)
                lk_buf_putc(b, '.');
            lk_buf_put_str(b, n->u.f.id[i]);
        }
        break;
    case TN_CHAIN:
        if (n->u.chain.node->type == TN_PIPE) {
            lk_buf_putc(b, '(');
            write_pipe(b, n->u.chain.node);
            lk_buf_putc(b, ')');
        } else {
            tn_write(b, n->u.chain.node);
        }
        for (uint32_t i = 0; i < n->u.chain.n; i++) {
            lk_buf_putc(b, '.');
            lk_buf_put_str(b, n->u.chain.id[i]);
        }
        break;
    case TN_IDENT:
        lk_buf_put_str(b, n->u.ident.name);
        break;
    case TN_DOT:
        lk_buf_putc(b, '.');
        break;
    case TN_NIL:
        lk_buf_puts(b, "nil");
        break;
    case TN_BOOL:
        lk_buf_puts(b, n->u.b ? "true" : "false");
        break;
    case TN_NUMBER:
        lk_buf_put_str(b, n->u.num->text);
        break;
    case TN_STRING:
        lk_buf_put_str(b, n->u.str.quoted);
        break;
    case TN_END:
        lk_buf_puts(b, "{{end}}");
        break;
    case TN_ELSE:
        lk_buf_puts(b, "{{else}}");
        break;
    default:
        break;
    }
}
