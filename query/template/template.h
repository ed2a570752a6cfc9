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

/* One sample of an instant query's result, as Prometheus' templates see
 * it (template.sample: .Labels and .Value). */
typedef struct tmpl_sample {
    lk_label *labels; /* sorted by name */
    size_t n_labels;
    double value;
} tmpl_sample;

/* Runs query q (the `query` function) at the template's time; the samples
 * and their strings are allocated in *a, which the execution frees. 0 or a
 * negative LK_E* code with the message in *err. */
typedef int (*tmpl_query_fn)(void *ctx, lk_str q, lk_arena *a, tmpl_sample **out, size_t *n,
                             lk_buf *err);

/* Prometheus' alert template data (template.AlertTemplateData): with it
 * (tmpl_exec_prom) dot is struct { Labels, ExternalLabels map[string]string; ExternalURL
 * string; Value interface{} }, Labels being tmpl_data's labels. */
typedef struct tmpl_prom {
    const lk_label *external; /* sorted by name */
    size_t n_external;
    lk_str external_url;      /* also externalURL and pathPrefix */
    double value;
    tmpl_query_fn query;      /* NULL: query fails */
    void *query_ctx;
} tmpl_prom;

typedef struct tmpl_data {
    const lk_label *labels; /* sorted by name */
    size_t n_labels;
    lk_str line;            /* __line__ */
    int64_t ts;             /* __timestamp__, Unix ns; Prometheus' now */
} tmpl_data;

/* Appends the output to *out. On an execution error returns LK_EINVAL with
 * Go's message in *err (Loki then sets __error__=TemplateFormatErr). The
 * template is immutable and may be executed from several threads at once. */
int tmpl_exec(const tmpl *t, const tmpl_data *d, lk_buf *out, lk_buf *err);
/* As tmpl_exec with Prometheus' alert data as dot (prom: d's labels are
 * .Labels) and the query functions using prom->query. */
int tmpl_exec_prom(const tmpl *t, const tmpl_data *d, const tmpl_prom *prom, lk_buf *out,
                   lk_buf *err);
/* The labels the template reads as .name (for label_format's "referenced
 * labels are kept" rule and for keep/drop planning); *n set to the count. */
const lk_str *tmpl_fields(const tmpl *t, size_t *n);
void tmpl_free(tmpl *t);

#endif
