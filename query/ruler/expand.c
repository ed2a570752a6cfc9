/* rul_expand (expand.h): the prelude Prometheus' template.Expander puts in
 * front of every alert template, written with values instead of data
 * fields: the labels and external labels as fromJson maps, the value as
 * float64 of its shortest decimal form. */
#include "query/ruler/expand.h"

#include "lib/err.h"
#include "lib/gofloat.h"
#include "lib/jsonw.h"
#include "query/template/template.h"

static void json_map(lk_buf *out, const lk_label *v, size_t n)
{
    lk_buf j = { 0 };
    jw w;
    jw_init(&w, &j);
    jw_obj_open(&w);
    for (size_t i = 0; i < n; i++) {
        jw_key_str(&w, v[i].name);
        jw_str(&w, v[i].value);
    }
    jw_obj_close(&w);
    lk_go_quote(lk_buf_str(&j), out);
    lk_buf_free(&j);
}

static void prelude(const rul_tmpl_ctx *c, lk_buf *out)
{
    lk_buf_puts(out, "{{$labels := fromJson ");
    json_map(out, c->labels->v, c->labels->n);
    lk_buf_puts(out, "}}{{$externalLabels := fromJson ");
    json_map(out, c->external, c->n_external);
    lk_buf_puts(out, "}}{{$externalURL := ");
    lk_go_quote(lk_str_c(c->external_url ? c->external_url : ""), out);
    lk_buf_puts(out, "}}{{$value := float64 \"");
    lk_gofloat_append(out, c->value, 'g', -1);
    lk_buf_puts(out, "\"}}");
}

int rul_expand(const char *name, lk_str text, const rul_tmpl_ctx *c, lk_buf *out)
{
    lk_buf src = { 0 }, err = { 0 };
    prelude(c, &src);
    lk_buf_put_str(&src, text);
    tmpl *t = NULL;
    int rc = tmpl_parse_prom(lk_str_c(name), lk_buf_str(&src), &t, &err);
    if (rc == LK_OK) {
        tmpl_data d = { .labels = c->labels->v, .n_labels = c->labels->n };
        size_t mark = out->len;
        rc = tmpl_exec(t, &d, out, &err);
        if (rc != LK_OK)
            { out->len = mark; if (out->p) out->p[mark] = '\0'; }
    }
    if (rc != LK_OK)
        lk_buf_printf(out, "<error expanding template: %s>", err.p ? err.p : "error");
    tmpl_free(t);
    lk_buf_free(&src);
    lk_buf_free(&err);
    return rc;
}
