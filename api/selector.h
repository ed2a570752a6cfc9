/* Parsing the stream selectors that metadata endpoints take (`query=` of
 * labels and label values, `match[]` of series) into label matchers. */
#ifndef LOKIC_API_SELECTOR_H
#define LOKIC_API_SELECTOR_H

#include "lib/matcher.h"
#include "lib/str.h"

typedef struct api_matchers {
    lk_matcher *v;
    size_t n;
} api_matchers;

/* A LogQL stream selector (optionally with a pipeline, which is ignored as
 * Loki's metadata endpoints do). LK_EPARSE with Loki's message. `{}` gives
 * zero matchers when allow_empty, else an error. */
int api_parse_selector(lk_str text, bool allow_empty, api_matchers *out, lk_buf *err);
void api_matchers_free(api_matchers *m);

#endif
