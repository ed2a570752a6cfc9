/* Splitting a log line into the tokens Drain clusters (query/pattern/drain.h),
 * and joining a cluster's tokens back into its pattern text, as Loki 3.6's
 * pattern ingester does (pkg/pattern/drain/line_tokenizer.go). The format is
 * guessed once per stream from its first line:
 *   json    the first string among the top-level fields log, message, msg,
 *           msg_, _msg, content is tokenized as plain text; its pattern is
 *           wrapped in <_> ... <_>; a line without one is not mined
 *   logfmt  key, value, key, value ...; the values of ts, t, traceID, time
 *           and timestamp are <_>; a malformed line is not mined
 *   plain   runs of letters, digits and _-.:/ are tokens; a space separates;
 *           = and other punctuation are tokens of their own (the spaces are
 *           remembered so that the pattern keeps them)
 * Lines (for JSON: messages) longer than PAT_MAX_LINE bytes are not mined. */
#ifndef LOKIC_QUERY_PATTERN_TOKENIZE_H
#define LOKIC_QUERY_PATTERN_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

#define PAT_PARAM "<_>"
#define PAT_MAX_LINE 3000
#define PAT_MAX_TOKENS 128   /* the plain tokenizer stops here */

typedef enum pat_format { PAT_FMT_PLAIN, PAT_FMT_LOGFMT, PAT_FMT_JSON } pat_format;

/* A tokenized line. Tokens borrow from the line or from the tokenizer's
 * scratch memory (unquoted logfmt values), valid until the next call. */
typedef struct pat_tokens {
    lk_str *tok;
    size_t n, cap;
    int *spaces;        /* plain/json: index of the token a space follows */
    size_t n_spaces, cap_spaces;
    struct lp_scratch *scratch; /* unquoted logfmt values (allocated on first use) */
} pat_tokens;

/* Loki's DetectLogFormat on a stream's first line. */
pat_format pat_detect_format(lk_str line);

/* Tokenizes line; false when the line is not mined (too long, malformed
 * logfmt, JSON without a message field). */
bool pat_tokenize(pat_format f, lk_str line, pat_tokens *t);
void pat_tokens_free(pat_tokens *t);

/* The pattern text of tokens (with the space positions of the cluster's
 * first line), runs of <_> collapsed to one; "" when logfmt cannot encode
 * a key (Loki then hides the pattern). Appends to out. */
void pat_join(pat_format f, const lk_str *tok, size_t n, const int *spaces, size_t n_spaces,
              lk_buf *out);

#endif
