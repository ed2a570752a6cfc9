/* The formatting stages: `| line_format "tmpl"` replaces the line with the
 * template's output over the current labels; `| label_format dst=src`
 * renames (src removed) and `dst="tmpl"` sets a label from a template.
 * Templates (query/template/template.h) see every current label, __error__ included;
 * in one label_format stage they all see the labels as they were when the
 * first template ran. An execution error keeps the line (or label) and sets
 * __error__=TemplateFormatErr with Go's message as details. */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/pipeline/pipeline_int.h"
#include "query/template/template.h"

static const lk_str TEMPLATE_FORMAT_ERR = { "TemplateFormatErr", 17 };

/* The current labels, sorted, as template data. */
static void tmpl_data_of(lp_exec *r, tmpl_data *d)
{
    lp_lbl *all = lp_alloc(&r->scratch, lp_lbs_count_max(&r->lbs) * sizeof(*all));
    size_t n = lp_lbs_collect(&r->lbs, all);
    lk_label *v = lp_alloc(&r->scratch, (n ? n : 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        lk_label x = { all[i].name, all[i].value };
        size_t j = i;
        while (j > 0 && lk_str_cmp(v[j - 1].name, x.name) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    d->labels = v;
    d->n_labels = n;
    d->line = r->line;
    d->ts = r->ts;
}

static void template_error(lp_exec *r, const lk_buf *msg)
{
    lp_lbs_set_err(&r->lbs, TEMPLATE_FORMAT_ERR);
    size_t n = msg->len;
    lp_lbs_set_details(&r->lbs, (lk_str){ lp_strdup(&r->scratch, n ? msg->p : "", n), n });
}

/* ---- line_format ------------------------------------------------------------------- */

static bool line_format_run(const lp_stage *st, lp_exec *r)
{
    tmpl_data d;
    tmpl_data_of(r, &d);
    lk_buf_reset(&r->tmp);
    lk_buf_reset(&r->tmp2);
    if (tmpl_exec(st->impl, &d, &r->tmp, &r->tmp2) != 0) {
        template_error(r, &r->tmp2);
        return true;
    }
    r->line = (lk_str){ lp_strdup(&r->scratch, r->tmp.p ? r->tmp.p : "", r->tmp.len), r->tmp.len };
    return true;
}

static void tmpl_names(const tmpl *t, lp_name_fn add, void *ctx)
{
    size_t n = 0;
    const lk_str *f = tmpl_fields(t, &n);
    for (size_t i = 0; i < n; i++)
        add(ctx, f[i]);
}

static void line_format_required(const lp_stage *st, lp_name_fn add, void *ctx)
{
    tmpl_names(st->impl, add, ctx);
}

static void tmpl_free_impl(void *impl)
{
    tmpl_free(impl);
}

int lp_compile_line_format(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    tmpl *t;
    lk_buf why = { 0 };
    int rc = tmpl_parse_named(LK_STR("line"), s->u.line_format, &t, &why);
    if (rc) {
        if (err)
            lk_buf_printf(err, "invalid line template: %s", why.p ? why.p : "parse error");
        lk_buf_free(&why);
        return rc;
    }
    lk_buf_free(&why);
    st->kind = LOGQL_STAGE_LINE_FORMAT;
    st->run = line_format_run;
    st->required = line_format_required;
    st->impl = t;
    st->free_impl = tmpl_free_impl;
    return 0;
}

/* ---- label_format ------------------------------------------------------------------ */

typedef struct label_fmt {
    lk_str dst;
    lk_str src;   /* rename */
    tmpl *t;      /* template */
} label_fmt;

typedef struct label_format_stage {
    label_fmt *v;
    size_t n;
    char *mem;
} label_format_stage;

static bool label_format_run(const lp_stage *st, lp_exec *r)
{
    const label_format_stage *ls = st->impl;
    tmpl_data d;
    bool have_data = false;
    for (size_t i = 0; i < ls->n; i++) {
        const label_fmt *f = &ls->v[i];
        if (!f->t) {
            /* Loki 3.6 sets every label_format output as a parsed label,
             * a renamed one too, whatever the category of its source */
            lk_str v;
            if (lp_lbs_get(&r->lbs, f->src, &v)) {
                lp_lbs_set(&r->lbs, LP_CAT_PARSED, f->dst, v);
                lp_lbs_del(&r->lbs, f->src);
            }
            continue;
        }
        if (!have_data) {
            tmpl_data_of(r, &d);
            have_data = true;
        }
        lk_buf_reset(&r->tmp);
        lk_buf_reset(&r->tmp2);
        if (tmpl_exec(f->t, &d, &r->tmp, &r->tmp2) != 0) {
            template_error(r, &r->tmp2);
            continue;
        }
        lk_str v = { lp_strdup(&r->scratch, r->tmp.p ? r->tmp.p : "", r->tmp.len), r->tmp.len };
        lp_lbs_set(&r->lbs, LP_CAT_PARSED, f->dst, v);
    }
    return true;
}

static void label_format_required(const lp_stage *st, lp_name_fn add, void *ctx)
{
    const label_format_stage *ls = st->impl;
    for (size_t i = 0; i < ls->n; i++) {
        if (ls->v[i].t)
            tmpl_names(ls->v[i].t, add, ctx);
        else
            add(ctx, ls->v[i].src);
    }
}

static void label_format_free(void *impl)
{
    label_format_stage *ls = impl;
    if (!ls)
        return;
    for (size_t i = 0; i < ls->n; i++)
        if (ls->v[i].t)
            tmpl_free(ls->v[i].t);
    free(ls->v);
    free(ls->mem);
    free(ls);
}

int lp_compile_label_format(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    size_t n = s->u.label_format.n, bytes = 1;
    const logql_label_fmt *in = s->u.label_format.v;
    for (size_t i = 0; i < n; i++) {
        if (lk_str_eq(in[i].dst, LP_ERROR_LABEL)) {
            if (err)
                lk_buf_printf(err, "%.*s cannot be formatted", LK_STR_FMT(in[i].dst));
            return LK_EPARSE;
        }
        for (size_t j = 0; j < i; j++) {
            if (lk_str_eq(in[i].dst, in[j].dst)) {
                if (err)
                    lk_buf_printf(err,
                                  "multiple label name '%.*s' not allowed in a single format "
                                  "operation",
                                  LK_STR_FMT(in[i].dst));
                return LK_EPARSE;
            }
        }
        bytes += in[i].dst.len + (in[i].rename ? in[i].value.len : 0);
    }
    label_format_stage *ls = lk_calloc(1, sizeof(*ls));
    ls->v = lk_calloc(n ? n : 1, sizeof(*ls->v));
    ls->mem = lk_malloc(bytes);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        label_fmt *f = &ls->v[i];
        ls->n = i + 1;
        memcpy(ls->mem + at, in[i].dst.p, in[i].dst.len);
        f->dst = (lk_str){ ls->mem + at, in[i].dst.len };
        at += in[i].dst.len;
        if (in[i].rename) {
            memcpy(ls->mem + at, in[i].value.p, in[i].value.len);
            f->src = (lk_str){ ls->mem + at, in[i].value.len };
            at += in[i].value.len;
            continue;
        }
        lk_buf why = { 0 };
        if (tmpl_parse_named(LK_STR("label"), in[i].value, &f->t, &why) != 0) {
            if (err)
                lk_buf_printf(err, "invalid template for label '%.*s': %s", LK_STR_FMT(f->dst),
                              why.p ? why.p : "parse error");
            lk_buf_free(&why);
            f->t = NULL;
            label_format_free(ls);
            return LK_EPARSE;
        }
        lk_buf_free(&why);
    }
    st->kind = LOGQL_STAGE_LABEL_FORMAT;
    st->run = label_format_run;
    st->required = label_format_required;
    st->impl = ls;
    st->free_impl = label_format_free;
    return 0;
}
