/* Private to the label filter stage: what Loki 3 (and 2.8+) runs for
 * `| name=~"re"` and `| name!~"re"` instead of the anchored regex when its
 * regex simplifier accepts the pattern (NewStringLabelFilter ->
 * NewLabelFilter -> parseRegexpFilter(isLabel=true), pkg/logql/log).
 *
 * Loki's simplifier anchors a literal (`foo` is value == "foo") but drops
 * the anchoring for concatenations: `a.*`, `.*a` and `.*a.*` are all
 * "contains a", and so is every alternation Go's parser factors into a
 * concatenation (`warn|warning` is warn(?:|ing): contains "warn" or
 * contains "warning"). Legs that match everything vanish from an `or`
 * (`foo|.*` is value == "foo"). Case-insensitive literals compare with
 * Loki's containsLower. A pattern outside what the simplifier accepts is
 * matched by the anchored regex as before. See label_simplify.c. */
#ifndef LOKIC_QUERY_PIPELINE_LABEL_SIMPLIFY_H
#define LOKIC_QUERY_PIPELINE_LABEL_SIMPLIFY_H

#include <stdbool.h>

#include "lib/str.h"

typedef struct lf_lsimple lf_lsimple;

/* The filter Loki builds for the label regex re (Go syntax), or false when
 * Loki runs the anchored regex instead (*out is then NULL). */
bool lf_label_regex_simplify(lk_str re, lf_lsimple **out);
/* Does the label value v pass the simplified filter (of =~)? */
bool lf_lsimple_match(const lf_lsimple *f, lk_str v);
void lf_lsimple_free(lf_lsimple *f);

#endif
