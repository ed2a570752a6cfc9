/* Field detection for detected_fields and detected_field/<name>/values, as
 * Loki 3.6's query frontend does it (ParseDetectedFields): for each entry
 * of a log query's result (categorized), its structured metadata (fields
 * with no parser) and the labels parsed from its line — the query's own
 * parsed labels, and the line run through `| json`, or `| logfmt` when that
 * fails (fields with parser "json" or "logfmt"; none when both fail).
 * Each field has the distinct values seen, the type of the value of the
 * last entry that had it (query/detected.h), and for json fields the JSON
 * path of the keys. At most `limit` fields, in the order first seen. */
#ifndef LOKIC_QUERY_DFIELDS_H
#define LOKIC_QUERY_DFIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "query/detected.h"
#include "query/pipeline/pipeline.h"
#include "storage/iter.h"

#define DT_PARSER_JSON 1u
#define DT_PARSER_LOGFMT 2u

typedef struct dt_field {
    char *name;
    dt_set values;
    const char *type;   /* static */
    unsigned parsers;   /* DT_PARSER_* */
    lk_str *path;       /* json: the keys (owned), else none */
    size_t n_path;
} dt_field;

typedef struct dt_fields {
    dt_field *v;        /* sorted by name */
    size_t n, cap;
    size_t limit;
    lp_pipeline *json, *logfmt;
    lp_runner *rj, *rl;
} dt_fields;

int dt_fields_init(dt_fields *f, size_t limit, lk_buf *err);
/* One entry of a result stream (labels: the stream labels left after the
 * query's pipeline; e->meta: its structured metadata; parsed: the labels
 * the query's pipeline parsed, may be NULL). */
void dt_fields_add(dt_fields *f, const lk_labels *stream, const lk_entry *e,
                   const lk_labels *parsed);
const dt_field *dt_fields_get(const dt_fields *f, lk_str name);
void dt_fields_free(dt_fields *f);

#endif
