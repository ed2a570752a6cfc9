/* Go's regexp/syntax reading of a pattern (lib/regex_syntax.c), for
 * lib/regex.c only: Go's error messages for everything Go rejects, and the
 * same expression spelled for RE2, with the facts lib/regex.c needs about
 * it. */
#ifndef LOKIC_LIB_REGEX_SYNTAX_H
#define LOKIC_LIB_REGEX_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

typedef struct lk_regex_group {
    int group;       /* capture index, from 1 */
    size_t off, len; /* the name, in lk_regex_syntax.names */
} lk_regex_group;

typedef struct lk_regex_syntax {
    lk_buf re2;             /* the pattern in RE2's syntax (names dropped) */
    int ncap;               /* capturing groups */
    lk_regex_group *groups; /* the named ones, in group order */
    size_t ngroups;
    lk_buf names;
    /* Some item may match U+FFFD or a surrogate: Go reads each invalid
     * UTF-8 byte of a subject as U+FFFD, RE2 lets nothing match it (and
     * reads an encoded surrogate as a character), so subjects with invalid
     * UTF-8 must be rewritten for this pattern. */
    bool fffd;
    /* It has \B, which RE2 (stepping bytes, not characters) can find
     * between the bytes of a multibyte character, where Go never looks. */
    bool inner_empty;
} lk_regex_syntax;

/* Reads pattern as Go does. LK_EPARSE with Go's message ("error parsing
 * regexp: missing closing ): `(`") appended to err (may be NULL). *out is
 * filled either way; free it with lk_regex_syntax_free. */
int lk_regex_syntax_read(lk_str pattern, lk_regex_syntax *out, lk_buf *err);
void lk_regex_syntax_free(lk_regex_syntax *s);


#endif
