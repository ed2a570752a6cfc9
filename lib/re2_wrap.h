/* A small C interface to RE2 (lib/re2_wrap.cc), the linear-time engine
 * behind lib/regex.c. Patterns are in RE2's syntax; lib/regex.c reads Go's
 * syntax and hands RE2 only what Go accepts. Compiled expressions are
 * immutable and may be matched from many threads at once. RE2 allocates with
 * operator new: running out of memory ends the process, as lk_malloc does. */
#ifndef LOKIC_LIB_RE2_WRAP_H
#define LOKIC_LIB_RE2_WRAP_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#define LK_RE2_NOEXCEPT noexcept
#else
#define LK_RE2_NOEXCEPT
#endif

#include "lib/str.h"

typedef struct lk_re2 lk_re2;

/* Compiles pattern (UTF-8) with Go's defaults: leftmost-first, case-sensitive,
 * `.` not matching `\n`, `^` and `$` at the ends of the text. max_mem bounds
 * the compiled program and its DFA caches (RE2's Options::max_mem). Returns 0,
 * LK_ETOOLARGE when the program does not fit in max_mem, or LK_EPARSE with
 * "error parsing regexp: <what>: `<where>`" appended to err (may be NULL). */
int lk_re2_compile(lk_str pattern, int64_t max_mem, lk_re2 **out, lk_buf *err) LK_RE2_NOEXCEPT;
void lk_re2_free(lk_re2 *re) LK_RE2_NOEXCEPT;
int lk_re2_group_count(const lk_re2 *re) LK_RE2_NOEXCEPT;

/* The leftmost-first match in text[from:] (the text before `from` is context
 * for ^ and \b); anchored: it must span text[from:] whole. Fills n_pairs
 * (start, end) byte offsets into text, -1 for a group that did not take
 * part (n_pairs may be 0). */
bool lk_re2_match(const lk_re2 *re, lk_str text, size_t from, bool anchored, long *ovector,
                  int n_pairs) LK_RE2_NOEXCEPT;

/* Does RE2 know the Unicode class of this \p item (\pL, \p{Greek},
 * \P{^Lu})? */
bool lk_re2_knows_class(lk_str item) LK_RE2_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif
