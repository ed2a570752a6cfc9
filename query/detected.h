/* The rules of Loki's detected_labels and detected_fields (pkg/querier):
 * a value's field type, whether a label's values are all IDs (then the
 * label is not offered), and a set of distinct values, whose size is the
 * cardinality Loki estimates with a HyperLogLog sketch (exact for the
 * small sets it is used on). */
#ifndef LOKIC_QUERY_DETECTED_H
#define LOKIC_QUERY_DETECTED_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* "int", "float", "boolean", "duration", "bytes" or "string": the first of
 * Go's strconv.ParseInt, ParseFloat, ParseBool, time.ParseDuration and
 * humanize.ParseBytes that accepts v. */
const char *dt_field_type(lk_str v);

/* Is v an ID: a number (strconv.ParseFloat) or a UUID (uuid.Parse)? */
bool dt_is_id(lk_str v);

/* A label whose values are none, or all IDs, is left out of
 * detected_labels; one or two values that are all "0"/"1" are kept. */
bool dt_label_rejected(const lk_str *values, size_t n);

/* A set of distinct strings (owned copies), kept sorted. */
typedef struct dt_set {
    lk_str *v;
    size_t n, cap;
} dt_set;

/* true when v was added (it was not in the set). */
bool dt_set_add(dt_set *s, lk_str v);
void dt_set_free(dt_set *s);

#endif
