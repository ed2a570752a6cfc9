/* Prometheus' template expansion of alert labels and annotations, on the Go
 * text/template engine of query/template: dot is Prometheus' alert data
 * (.Labels, .ExternalLabels, .ExternalURL, .Value) and the text runs after
 * Prometheus' own prelude, so $labels, $value, $externalLabels and
 * $externalURL mean what they mean in Prometheus; Prometheus' functions
 * (humanize..., query, first, label, value, reReplaceAll, match, args, ...)
 * come with tmpl_parse_prom, Loki's and sprig's (title, ...) with them. */
#ifndef LOKIC_QUERY_RULER_EXPAND_H
#define LOKIC_QUERY_RULER_EXPAND_H

#include "lib/labels.h"
#include "lib/str.h"
#include "query/template/template.h"

typedef struct rul_tmpl_ctx {
    const lk_labels *labels;
    double value;
    const lk_label *external;  /* external labels */
    size_t n_external;
    const char *external_url;
    int64_t ts;                /* evaluation time, Unix ns (now, query) */
    tmpl_query_fn query;       /* the query function; NULL: query fails */
    void *query_ctx;
} rul_tmpl_ctx;

/* Appends the expansion of text to *out. On an error Prometheus keeps an
 * error text in the value ("<error expanding template: ...>"); so does this,
 * returning LK_EINVAL. */
int rul_expand(const char *name, lk_str text, const rul_tmpl_ctx *c, lk_buf *out);

#endif
