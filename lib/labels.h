/* Label sets: parsing Loki's `{a="1", b="2"}` stream-label syntax, the
 * canonical form (sorted by name, values quoted as Go's strconv.Quote) and
 * the 64-bit fingerprint (XXH3 of the canonical bytes). */
#ifndef LOKIC_LIB_LABELS_H
#define LOKIC_LIB_LABELS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"

typedef struct lk_label {
    lk_str name;
    lk_str value;
} lk_label;

/* An owned label set: v[] and the bytes name/value point to live in one
 * allocation owned by the set. */
typedef struct lk_labels {
    size_t n;
    lk_label *v;
    void *mem;
} lk_labels;

/* Parses a stream label set as promtail sends it, as Loki's
 * syntax.ParseLabels does (Prometheus' metric parser): `{a="1", b="2"}` with
 * "double", 'single' or `raw` quoted values, optional spaces and a trailing
 * comma; a leading metric name becomes __name__; labels with empty values
 * are dropped. The result is sorted by name. Errors (LK_EPARSE) are
 * Prometheus' messages, e.g.
 *   1:4: parse error: unexpected "}" in label set, expected string
 * Duplicate names are not an error here (see labels_find_duplicate). */
int labels_parse(lk_str text, lk_labels *out, lk_buf *err);

/* Builds an owned, sorted set from borrowed pairs (copied). */
void labels_from_pairs(const lk_label *pairs, size_t n, lk_labels *out);
void labels_copy(const lk_labels *src, lk_labels *dst);
void labels_free(lk_labels *l);

/* Sorts by name (stable for equal names). */
void labels_sort(lk_label *v, size_t n);
/* On a sorted set: the first name that appears twice, or NULL. */
const lk_str *labels_find_duplicate(const lk_labels *l);
/* Whether two sorted sets hold the same pairs. */
bool labels_equal(const lk_labels *a, const lk_labels *b);
/* Value of name, or NULL. */
const lk_str *labels_get(const lk_labels *l, lk_str name);

/* Prometheus label name rule: [a-zA-Z_][a-zA-Z0-9_]*. */
bool labels_valid_name(lk_str name);

/* Appends the canonical form of a sorted set: {a="1", b="x\"y"}. */
void labels_canonical(const lk_labels *l, lk_buf *out);
/* XXH3-64 of bytes (the canonical form for a stream fingerprint). */
uint64_t labels_hash(lk_str canonical);

/* Go strconv.Quote of s appended to out (with the surrounding quotes). */
void lk_go_quote(lk_str s, lk_buf *out);
/* Go strconv.Unquote of a "..." or `...` literal, appended to out.
 * LK_EPARSE on a malformed literal. */
int lk_go_unquote(lk_str lit, lk_buf *out);

#endif
