/* Prometheus' template expansion of alert labels and annotations, on the Go
 * text/template engine of query/template: the text runs after Prometheus'
 * own prelude, so $labels (the alert's labels), $value (float64),
 * $externalLabels and $externalURL mean what they mean in Prometheus; the
 * Prometheus functions (humanize, humanize1024, humanizeDuration,
 * humanizePercentage, toUpper, toLower, stripPort, stripDomain, safeHtml)
 * come with tmpl_parse_prom, Loki's and sprig's (title, ...) with them. */
#ifndef LOKIC_QUERY_RULER_EXPAND_H
#define LOKIC_QUERY_RULER_EXPAND_H

#include "lib/labels.h"
#include "lib/str.h"

typedef struct rul_tmpl_ctx {
    const lk_labels *labels;
    double value;
    const lk_label *external;  /* external labels */
    size_t n_external;
    const char *external_url;
} rul_tmpl_ctx;

/* Appends the expansion of text to *out. On an error Prometheus keeps an
 * error text in the value ("<error expanding template: ...>"); so does this,
 * returning LK_EINVAL. */
int rul_expand(const char *name, lk_str text, const rul_tmpl_ctx *c, lk_buf *out);

#endif
