/* Public API of the Go text/template engine used by line_format and
 * label_format (query/template/template.h): parse once into an immutable tree, run
 * many times from many threads. An execution keeps its state in a stack
 * struct: a 4 KiB inline memory block (then heap blocks, freed on return),
 * the variable stack, and a jmp_buf that execution errors unwind to (Go
 * panics out of the executor the same way); string results are built in
 * the tail of the caller's output buffer and copied out, so the common case
 * allocates nothing. Limits: 1 MiB of output (or of any one string), 64 MiB
 * of memory, 4 million steps, per execution. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/template/template_int.h"

int tmpl_parse(lk_str text, tmpl **out, lk_buf *err)
{
    return tmpl_parse_named(LK_STR("line"), text, out, err);
}

static int parse(lk_str name, lk_str text, bool prom, tmpl **out, lk_buf *err)
{
    tmpl *t = lk_calloc(1, sizeof *t);
    t->prom = prom;
    t->text = lk_arena_str(&t->arena, text);
    t->name = lk_arena_str(&t->arena, name);
    int rc = tp_parse(t, err);
    if (rc != 0) {
        tmpl_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int tmpl_parse_named(lk_str name, lk_str text, tmpl **out, lk_buf *err)
{
    return parse(name, text, false, out, err);
}

int tmpl_parse_prom(lk_str name, lk_str text, tmpl **out, lk_buf *err)
{
    return parse(name, text, true, out, err);
}

const lk_str *tmpl_fields(const tmpl *t, size_t *n)
{
    *n = t->nfields;
    return t->fields;
}

void tmpl_free(tmpl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nregexes; i++)
        tf_regex_free(t->regexes[i]);
    free(t->regexes);
    lk_arena_free(&t->arena);
    free(t);
}

/* ---- execution memory ---------------------------------------------------- */

void *tx_alloc(tx *x, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if ((size_t)(x->mend - x->mcur) >= n) {
        void *p = x->mcur;
        x->mcur += n;
        return p;
    }
    x->heap_used += n;
    if (x->heap_used > TMPL_MAX_MEMORY)
        tx_errorf(x, "template execution used more than %u bytes of memory", TMPL_MAX_MEMORY);
    return lk_arena_alloc(&x->heap, n);
}

lk_str tx_strdup(tx *x, const char *p, size_t n)
{
    if (n == 0)
        return LK_STR("");
    char *d = tx_alloc(x, n);
    memcpy(d, p, n);
    return lk_str_n(d, n);
}

size_t tx_sb_begin(tx *x)
{
    return x->out->len;
}

void tx_sb_check(tx *x, size_t mark, size_t extra)
{
    if (x->out->len - mark + extra > TMPL_MAX_OUTPUT)
        tx_errorf(x, "template output too large (limit %u bytes)", TMPL_MAX_OUTPUT);
}

lk_str tx_sb_end(tx *x, size_t mark)
{
    tx_sb_check(x, mark, 0);
    if (x->out->len == mark)
        return LK_STR("");
    lk_str s = tx_strdup(x, x->out->p + mark, x->out->len - mark);
    x->out->len = mark;
    if (x->out->p)
        x->out->p[mark] = 0;
    return s;
}

/* ---- errors ---------------------------------------------------------------- */

/* "template: line:1:2: executing \"line\" at <.x>: " (Go's state.errorf) */
static void error_prefix(tx *x)
{
    lk_buf *e = x->err;
    if (!x->node) {
        lk_buf_printf(e, "template: %.*s: ", LK_STR_FMT(x->tname));
        return;
    }
    size_t pos = x->node->pos;
    const char *text = x->t->text.p;
    if (pos > x->t->text.len)
        pos = x->t->text.len;
    size_t line = 1, last_nl = SIZE_MAX;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            line++;
            last_nl = i;
        }
    }
    size_t col = last_nl == SIZE_MAX ? pos : pos - (last_nl + 1);
    lk_buf_printf(e, "template: %.*s:%zu:%zu: executing ", LK_STR_FMT(x->t->name), line, col);
    tf_quote(e, x->tname, false);
    lk_buf_puts(e, " at <");
    tn_write(e, x->node);
    lk_buf_puts(e, ">: ");
}

void tx_errorf(tx *x, const char *fmt, ...)
{
    if (x->err) {
        error_prefix(x);
        va_list ap;
        va_start(ap, fmt);
        lk_buf_vprintf(x->err, fmt, ap);
        va_end(ap);
    }
    longjmp(x->jb, 1);
}

void tx_callerr(tx *x, const char *fmt, ...)
{
    x->node = x->call_node;
    if (x->err) {
        error_prefix(x);
        lk_buf_printf(x->err, "error calling %s: ", x->call);
        va_list ap;
        va_start(ap, fmt);
        lk_buf_vprintf(x->err, fmt, ap);
        va_end(ap);
    }
    longjmp(x->jb, 1);
}

/* ---- run -------------------------------------------------------------------- */

static void tx_release(tx *x)
{
    if (x->tmp_re)
        lk_regex_free(x->tmp_re);
    lk_arena_free(&x->heap);
}

int tmpl_exec(const tmpl *t, const tmpl_data *d, lk_buf *out, lk_buf *err)
{
    return tmpl_exec_prom(t, d, NULL, out, err);
}

int tmpl_exec_prom(const tmpl *t, const tmpl_data *d, const tmpl_prom *prom, lk_buf *out,
                   lk_buf *err)
{
    tx xs;
    tx *x = &xs;
    memset(x, 0, offsetof(tx, inline_vars));
    x->t = t;
    x->d = d;
    x->prom = prom;
    x->out = out;
    x->err = err;
    x->out_base = out->len;
    x->tname = t->name;
    x->vars = x->inline_vars;
    x->capvars = TX_INLINE_VARS;
    x->mcur = x->inline_mem;
    x->mend = x->inline_mem + TX_INLINE_MEM;
    if (setjmp(x->jb)) {
        out->len = x->out_base;
        if (out->p)
            out->p[out->len] = 0;
        tx_release(x);
        return LK_EINVAL;
    }
    tx_run(x);
    tx_release(x);
    return 0;
}
