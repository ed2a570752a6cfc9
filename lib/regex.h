/* Regular expressions with Go's regexp syntax and semantics (leftmost-first,
 * `$` only at the end, `.` not matching `\n`, invalid UTF-8 in a subject read
 * as U+FFFD), run by RE2 in time linear in the subject. Thread-safe: a
 * compiled expression is immutable. */
#ifndef LOKIC_LIB_REGEX_H
#define LOKIC_LIB_REGEX_H

#include <stdbool.h>

#include "lib/str.h"

typedef struct lk_regex lk_regex;

enum {
    LK_RE_ANCHORED = 1, /* must match the whole subject, as Prometheus matchers do */
    LK_RE_NO_PREFILTER = 2, /* every subject goes to RE2 (tests compare the answers) */
};

/* LK_EPARSE with a message like Go's regexp: "error parsing regexp: missing
 * closing ): `(`" appended to *err. */
int lk_regex_compile(lk_str pattern, int flags, lk_regex **out, lk_buf *err);
bool lk_regex_match(const lk_regex *re, lk_str subject);
/* Finds the leftmost match at or after `from`; fills ovector pairs (start,end
 * byte offsets, -1 when a group did not take part) for up to n_pairs groups
 * (group 0 = whole match). Returns the number of pairs set, 0 on no match.
 * Each call may read the whole subject; loops over one subject use
 * lk_regex_exec_in. */
int lk_regex_exec(const lk_regex *re, lk_str subject, size_t from, long *ovector, int n_pairs);

/* A subject prepared once for many lk_regex_exec_in calls with re (Go's
 * FindAll and ReplaceAll loops), so that each call costs what the match
 * reads rather than a pass over the whole subject. lk_regex_subject_init
 * returns the bytes of memory the preparation needs, 0 for most subjects;
 * otherwise lk_regex_subject_fill must be given that much (aligned for a
 * size_t, e.g. from malloc or an arena), which then lives as long as the
 * prepared subject. The subject's bytes must not change meanwhile. The
 * fields are lib/regex.c's. */
typedef struct lk_regex_subject {
    lk_str s;    /* the subject */
    lk_str run;  /* what RE2 reads: s, or s with each invalid byte as U+FFFD */
    size_t *bad; /* offsets in s of the invalid bytes, ascending */
    size_t nbad;
} lk_regex_subject;

size_t lk_regex_subject_init(lk_regex_subject *rs, const lk_regex *re, lk_str s);
void lk_regex_subject_fill(lk_regex_subject *rs, void *mem);
/* lk_regex_exec on a prepared subject: the same answers. */
int lk_regex_exec_in(const lk_regex *re, const lk_regex_subject *rs, size_t from, long *ovector,
                     int n_pairs);

/* Names of capture groups: returns count; name_of(i) gives group index and name. */
int lk_regex_group_count(const lk_regex *re);
int lk_regex_named_groups(const lk_regex *re, int (*cb)(void *ctx, int group, lk_str name), void *ctx);
void lk_regex_free(lk_regex *re);

#endif
