/* Private to the line filters: the regexes that are substring tests in
 * disguise (Loki's simplifiedRegex in pkg/logql/log/filter.go):
 * `error|warn` is contains("error") or contains("warn"), `(?i)fatal` an
 * ASCII case-insensitive contains, `.*` and "" match every line, `.+` every
 * line with a character other than '\n'. See regex_simplify.c. */
#ifndef LOKIC_QUERY_PIPELINE_REGEX_SIMPLIFY_H
#define LOKIC_QUERY_PIPELINE_REGEX_SIMPLIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* What a simplifiable regex matches: every line (all), or a line that has
 * a character other than '\n' (exists) or contains one of subs (compared
 * without ASCII case when ci). */
typedef struct lf_simple {
    bool all, exists, ci;
    lk_buf *subs;
    size_t n;
} lf_simple;

/* false when re is not in the simplifiable subset (*out is then empty). */
bool lf_regex_simplify(lk_str re, lf_simple *out);
void lf_simple_free(lf_simple *s);

#endif
