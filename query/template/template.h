/* Go text/template for line_format and label_format: the template language
 * (actions, pipelines, variables, if/else/range/with, comparison and builtin
 * functions) with Loki's function set and the sprig functions Loki exposes
 * (pkg/logql/log/fmt.go). Data is the current label set: `.name` is a label
 * value ("" when missing, as Loki's missingkey=zero map). `__line__` and
 * `__timestamp__` are functions giving the current line and entry time. */
#ifndef LOKIC_QUERY_TEMPLATE_H
#define LOKIC_QUERY_TEMPLATE_H

#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"

typedef struct tmpl tmpl;

/* Parses Go template text. LK_EPARSE with Go's message, e.g.
 *   template: line:1: function "nope" not defined */
int tmpl_parse(lk_str text, tmpl **out, lk_buf *err);
/* As tmpl_parse, naming the template as Go's messages do: "line" for
 * line_format (tmpl_parse's default), "label" for label_format. */
int tmpl_parse_named(lk_str name, lk_str text, tmpl **out, lk_buf *err);
/* As tmpl_parse_named, with Prometheus' alert template functions
 * (humanize, humanizeDuration, toUpper, ...: promfuncs.c) on top of Loki's
 * set, for the ruler's labels and annotations. */
int tmpl_parse_prom(lk_str name, lk_str text, tmpl **out, lk_buf *err);

typedef struct tmpl_data {
    const lk_label *labels; /* sorted by name */
    size_t n_labels;
    lk_str line;            /* __line__ */
    int64_t ts;             /* __timestamp__, Unix ns */
} tmpl_data;

/* Appends the output to *out. On an execution error returns LK_EINVAL with
 * Go's message in *err (Loki then sets __error__=TemplateFormatErr). The
 * template is immutable and may be executed from several threads at once. */
int tmpl_exec(const tmpl *t, const tmpl_data *d, lk_buf *out, lk_buf *err);
/* The labels the template reads as .name (for label_format's "referenced
 * labels are kept" rule and for keep/drop planning); *n set to the count. */
const lk_str *tmpl_fields(const tmpl *t, size_t *n);
void tmpl_free(tmpl *t);

#endif
