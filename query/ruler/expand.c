/* rul_expand (expand.h): Prometheus' template.Expander for alert labels and
 * annotations: its prelude in front of the text, its alert data as dot. */
#include "query/ruler/expand.h"

#include "lib/err.h"
#include "query/template/template.h"

/* Prometheus' prelude (template.Expander's defs). */
static const char prelude[] = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
                              "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

int rul_expand(const char *name, lk_str text, const rul_tmpl_ctx *c, lk_buf *out)
{
    lk_buf src = { 0 }, err = { 0 };
    lk_buf_puts(&src, prelude);
    lk_buf_put_str(&src, text);
    tmpl *t = NULL;
    int rc = tmpl_parse_prom(lk_str_c(name), lk_buf_str(&src), &t, &err);
    if (rc == LK_OK) {
        tmpl_prom prom = {
            .external = c->external,
            .n_external = c->n_external,
            .external_url = lk_str_c(c->external_url ? c->external_url : ""),
            .value = c->value,
            .query = c->query,
            .query_ctx = c->query_ctx,
        };
        tmpl_data d = { .labels = c->labels->v, .n_labels = c->labels->n, .ts = c->ts };
        size_t mark = out->len;
        rc = tmpl_exec_prom(t, &d, &prom, out, &err);
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
