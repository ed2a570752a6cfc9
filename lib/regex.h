/* Regular expressions with RE2/Go semantics on top of PCRE2 (JIT when
 * available): `$` matches only at the end, `.` does not match `\n`, invalid
 * UTF-8 in subjects is tolerated. Thread-safe: match data is per thread. */
#ifndef LOKIC_LIB_REGEX_H
#define LOKIC_LIB_REGEX_H

#include <stdbool.h>

#include "lib/str.h"

typedef struct lk_regex lk_regex;

enum {
    LK_RE_ANCHORED = 1, /* must match the whole subject, as Prometheus matchers do */
};

/* LK_EPARSE with a message like Go's regexp: "error parsing regexp: missing
 * closing ): `(`" appended to *err. */
int lk_regex_compile(lk_str pattern, int flags, lk_regex **out, lk_buf *err);
bool lk_regex_match(const lk_regex *re, lk_str subject);
/* Finds the leftmost match at or after `from`; fills ovector pairs (start,end
 * byte offsets, -1 when a group did not take part) for up to n_pairs groups
 * (group 0 = whole match). Returns the number of pairs set, 0 on no match. */
int lk_regex_exec(const lk_regex *re, lk_str subject, size_t from, long *ovector, int n_pairs);
/* Names of capture groups: returns count; name_of(i) gives group index and name. */
int lk_regex_group_count(const lk_regex *re);
int lk_regex_named_groups(const lk_regex *re, int (*cb)(void *ctx, int group, lk_str name), void *ctx);
void lk_regex_free(lk_regex *re);

#endif
