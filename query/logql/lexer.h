/* The LogQL lexer, with the token rules of Loki's pkg/logql/syntax/lex.go on
 * top of Go's text/scanner: identifiers, Go numbers, "..." and `...`
 * strings, // and / * comments plus '#' to end of line, durations (5m, 1.5h,
 * -3s) and byte sizes (150KB, 2MiB) glued to a number, [range] literals,
 * --parser-flags, keywords matched case-insensitively and function names
 * recognised only when '(' (or by / without) follows.
 *
 * Positions are Loki's: line and column start at 1 and the column counts
 * characters (runes), not bytes. Like Loki's lexer, a token completed by
 * reading ahead (two-character operators, durations, byte sizes, ranges,
 * flags) reports line 0 in error messages. */
#ifndef LOKIC_QUERY_LEXER_H
#define LOKIC_QUERY_LEXER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"

typedef enum logql_tok {
    LQ_EOF = 0,
    LQ_IDENT,
    LQ_ODD,         /* any other character: an IDENTIFIER to Loki, which
                     * accepts it as a label name; never accepted here */
    LQ_STRING,
    LQ_NUMBER,
    LQ_DURATION,
    LQ_BYTES,
    LQ_RANGE,
    LQ_PARSER_FLAG,
    /* punctuation */
    LQ_COMMA,
    LQ_DOT,
    LQ_LBRACE,
    LQ_RBRACE,
    LQ_LBRACKET,
    LQ_RBRACKET,
    LQ_LPAREN,
    LQ_RPAREN,
    LQ_EQ,          /* = */
    LQ_NEQ,         /* != */
    LQ_RE,          /* =~ */
    LQ_NRE,         /* !~ */
    LQ_NPA,         /* !> */
    LQ_PIPE_EXACT,  /* |= */
    LQ_PIPE_MATCH,  /* |~ */
    LQ_PIPE_PATTERN,/* |> */
    LQ_PIPE,        /* | */
    LQ_CMP_EQ,      /* == */
    LQ_GT,
    LQ_GTE,
    LQ_LT,
    LQ_LTE,
    LQ_ADD,
    LQ_SUB,
    LQ_MUL,
    LQ_DIV,
    LQ_MOD,
    LQ_POW,
    /* keywords */
    LQ_BY,
    LQ_WITHOUT,
    LQ_BOOL,
    LQ_OFFSET,
    LQ_ON,
    LQ_IGNORING,
    LQ_GROUP_LEFT,
    LQ_GROUP_RIGHT,
    LQ_OR,
    LQ_AND,
    LQ_UNLESS,
    LQ_JSON,
    LQ_LOGFMT,
    LQ_REGEXP,
    LQ_UNPACK,
    LQ_PATTERN,
    LQ_LINE_FMT,
    LQ_LABEL_FMT,
    LQ_DECOLORIZE,
    LQ_DROP,
    LQ_KEEP,
    LQ_UNWRAP,
    LQ_VARIANTS,    /* variants(...) of (...), Loki 3.5 */
    LQ_OF,
    /* function names (only before '(' or by / without) */
    LQ_LABEL_REPLACE,
    LQ_IP,
    LQ_VECTOR,
    LQ_COUNT_OVER_TIME,
    LQ_RATE,
    LQ_RATE_COUNTER,
    LQ_BYTES_OVER_TIME,
    LQ_BYTES_RATE,
    LQ_AVG_OVER_TIME,
    LQ_SUM_OVER_TIME,
    LQ_MIN_OVER_TIME,
    LQ_MAX_OVER_TIME,
    LQ_STDVAR_OVER_TIME,
    LQ_STDDEV_OVER_TIME,
    LQ_QUANTILE_OVER_TIME,
    LQ_FIRST_OVER_TIME,
    LQ_LAST_OVER_TIME,
    LQ_ABSENT_OVER_TIME,
    LQ_SUM,
    LQ_AVG,
    LQ_COUNT,
    LQ_MAX,
    LQ_MIN,
    LQ_STDDEV,
    LQ_STDVAR,
    LQ_BOTTOMK,
    LQ_TOPK,
    LQ_SORT,
    LQ_SORT_DESC,
    LQ_APPROX_TOPK,
    LQ_BYTES_CONV,
    LQ_DURATION_CONV,
    LQ_DURATION_SECONDS_CONV,
    LQ_NTOKENS
} logql_tok;

typedef struct logql_token {
    logql_tok kind;
    lk_str text;     /* source text (IDENT, NUMBER, ...); the value for STRING */
    int line, col;   /* where an error about this token is reported */
    int64_t dur_ns;  /* DURATION, RANGE */
    uint64_t bytes;  /* BYTES */
} logql_token;

typedef struct logql_lexer {
    lk_str src;
    size_t pos;      /* byte offset of the next character */
    int line, col;   /* position of the next character */
    lk_arena *arena; /* string values */
    lk_buf tmp;
} logql_lexer;

void logql_lexer_init(logql_lexer *lx, lk_str src, lk_arena *arena);
void logql_lexer_free(logql_lexer *lx);
/* The next token. On a lexical error returns LK_EPARSE with Loki's message
 * ("parse error at line 1, col 8: literal not terminated") in *err. */
int logql_lexer_next(logql_lexer *lx, logql_token *tok, lk_buf *err);

/* The name goyacc gives a token in "unexpected X" messages: "$end", "{",
 * "IDENTIFIER", "by", "SUM", ... */
const char *logql_tok_name(logql_tok t);

/* Go's strconv.ParseFloat for a number token: 0, LK_EPARSE (invalid syntax)
 * or LK_ERANGE (out of range, *out is +-Inf). */
int logql_parse_float(lk_str s, double *out);

/* Appends "parse error at line L, col C: " (or "parse error : " for 0, 0). */
void logql_error_prefix(lk_buf *err, int line, int col);

#endif
