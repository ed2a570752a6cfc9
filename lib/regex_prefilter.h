/* The required-literal prefilter of lib/regex.c (lib/regex_prefilter.c): a
 * few ASCII literals at least one of which every match of a pattern
 * contains, so that a subject holding none of them is rejected without
 * running RE2. */
#ifndef LOKIC_LIB_REGEX_PREFILTER_H
#define LOKIC_LIB_REGEX_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

typedef struct lk_regex_prefilter {
    size_t n;    /* 0: no prefilter (every subject passes) */
    lk_str *lit; /* the literals; bytes in mem */
    char *mem;
} lk_regex_prefilter;

/* Reads a pattern as lib/regex_syntax.c spells it for RE2 (lk_regex_syntax.re2)
 * and fills *out; out->n is 0 when nothing useful is required (a branch
 * without a literal, a pattern that matches "", only one-byte literals,
 * letters only under (?i), only non-ASCII text). */
void lk_regex_prefilter_build(lk_str re2_pattern, lk_regex_prefilter *out);
/* Does s contain one of the literals (always true without a prefilter)? */
bool lk_regex_prefilter_pass(const lk_regex_prefilter *pf, lk_str s);
void lk_regex_prefilter_free(lk_regex_prefilter *pf);

#endif
