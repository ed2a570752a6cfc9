/* Label matchers: name =|!=|=~|!~ value. Regex matchers are fully anchored
 * (Prometheus semantics). */
#ifndef LOKIC_LIB_MATCHER_H
#define LOKIC_LIB_MATCHER_H

#include <stdbool.h>

#include "lib/labels.h"
#include "lib/regex.h"
#include "lib/str.h"

typedef enum lk_match_type {
    LK_MATCH_EQ = 0,  /* =  */
    LK_MATCH_NEQ = 1, /* != */
    LK_MATCH_RE = 2,  /* =~ */
    LK_MATCH_NRE = 3, /* !~ */
} lk_match_type;

typedef struct lk_matcher {
    lk_match_type type;
    char *name;   /* owned, NUL-terminated */
    size_t name_len;
    char *value;  /* owned, NUL-terminated (the regex source for =~ / !~) */
    size_t value_len;
    lk_regex *re; /* for =~ and !~ */
} lk_matcher;

/* Initialises m (copies name and value, compiles regexes). LK_EPARSE with
 * the regex error in *err. */
int matcher_init(lk_matcher *m, lk_match_type type, lk_str name, lk_str value, lk_buf *err);
void matcher_free(lk_matcher *m);
bool matcher_matches(const lk_matcher *m, lk_str value);
/* Does the matcher accept the empty string (i.e. a missing label)? */
bool matcher_matches_empty(const lk_matcher *m);
/* Do all matchers accept this label set? A missing label is "". */
bool matchers_match_labels(const lk_matcher *ms, size_t n, const lk_labels *l);
const char *matcher_op(lk_match_type t); /* "=", "!=", "=~", "!~" */

#endif
