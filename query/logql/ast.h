/* The LogQL abstract syntax tree: what logql_parse (query/logql/parser.h) builds
 * for the whole of Loki's grammar (pkg/logql/syntax/syntax.y), what the
 * engine walks, and what logql_format prints back in Loki's canonical
 * String() form.
 *
 * Ownership: every node, array and string of one parsed query lives in one
 * arena owned by the tree (logql_tree); matchers and compiled regexes are
 * registered with the tree and released with it. The root expression
 * returned by logql_parse carries the tree in `owner`; logql_expr_free on
 * the root frees everything, on any other node it does nothing.
 *
 * Strings (lk_str) in the tree point into the arena and are NUL-terminated
 * there (p[len] == '\0'), so they can be handed to C APIs directly. */
#ifndef LOKIC_QUERY_AST_H
#define LOKIC_QUERY_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/matcher.h"
#include "lib/regex.h"
#include "lib/str.h"

typedef struct logql_expr logql_expr;
typedef struct logql_stage logql_stage;
typedef struct logql_label_filter logql_label_filter;
typedef struct logql_tree logql_tree;

/* ---- line filters: |= != |~ !~ |> !> ------------------------------------- */

typedef enum logql_lf_type {
    LOGQL_LF_CONTAINS = 0,   /* |= */
    LOGQL_LF_NOT_CONTAINS,   /* != */
    LOGQL_LF_REGEX,          /* |~ */
    LOGQL_LF_NOT_REGEX,      /* !~ */
    LOGQL_LF_PATTERN,        /* |> */
    LOGQL_LF_NOT_PATTERN,    /* !> */
} logql_lf_type;

/* One alternative: "text" or ip("text"). */
typedef struct logql_lf_alt {
    lk_str value;
    bool ip;
} logql_lf_alt;

/* One filter stage. With several alternatives (`|= "a" or "b"`, Loki 3) a
 * positive filter keeps a line when any alternative matches; a negative one
 * (!=, !~, !>) keeps it when none does, as Loki rewrites `!= "a" or "b"`
 * into `!= "a" != "b"`. */
typedef struct logql_line_filter {
    logql_lf_type type;
    logql_lf_alt *alts;
    size_t n_alts;
} logql_line_filter;

bool logql_lf_negative(logql_lf_type t);
const char *logql_lf_op(logql_lf_type t); /* "|=", "!=", ... */

/* ---- label filters: | status >= 500, | level=~"warn|error" or a="b" ------ */

typedef enum logql_lbf_kind {
    LOGQL_LBF_STRING = 0, /* a matcher on the label value: = != =~ !~ */
    LOGQL_LBF_NUMBER,     /* float compare */
    LOGQL_LBF_DURATION,   /* the value read as a Go duration */
    LOGQL_LBF_BYTES,      /* the value read as humanized bytes */
    LOGQL_LBF_IP,         /* label = ip("..."), label != ip("...") */
    LOGQL_LBF_AND,        /* and / comma / juxtaposition */
    LOGQL_LBF_OR,
} logql_lbf_kind;

typedef enum logql_cmp {
    LOGQL_CMP_EQ = 0, /* = and == */
    LOGQL_CMP_NE,
    LOGQL_CMP_GT,
    LOGQL_CMP_GE,
    LOGQL_CMP_LT,
    LOGQL_CMP_LE,
} logql_cmp;

struct logql_label_filter {
    logql_lbf_kind kind;
    lk_str name;   /* the label, for every kind but AND / OR */
    logql_cmp cmp; /* NUMBER, DURATION, BYTES, IP (EQ or NE) */
    union {
        lk_matcher *matcher; /* STRING */
        double number;
        int64_t duration_ns;
        uint64_t bytes;
        lk_str ip_pattern;   /* checked when the stage is built, as in Loki */
        struct {
            logql_label_filter *left, *right;
        } bin;
    } u;
};

const char *logql_cmp_op(logql_cmp c); /* "==", "!=", ">", ... */

/* ---- pipeline stages ----------------------------------------------------- */

typedef enum logql_stage_kind {
    LOGQL_STAGE_LINE_FILTER = 0,
    LOGQL_STAGE_JSON,         /* | json [a="path", ...] */
    LOGQL_STAGE_LOGFMT,       /* | logfmt [--strict] [--keep-empty] [a="key", ...] */
    LOGQL_STAGE_REGEXP,       /* | regexp "re" */
    LOGQL_STAGE_PATTERN,      /* | pattern "p" */
    LOGQL_STAGE_UNPACK,
    LOGQL_STAGE_LABEL_FILTER,
    LOGQL_STAGE_LINE_FORMAT,  /* | line_format "tmpl" */
    LOGQL_STAGE_LABEL_FORMAT, /* | label_format a=b, c="tmpl" */
    LOGQL_STAGE_DROP,
    LOGQL_STAGE_KEEP,
    LOGQL_STAGE_DECOLORIZE,
} logql_stage_kind;

/* A json / logfmt parameter: label="expression" (`| json a` is a="a"). */
typedef struct logql_extract {
    lk_str label;
    lk_str expr;
} logql_extract;

/* label_format: dst=src (rename) or dst="template". */
typedef struct logql_label_fmt {
    lk_str dst;
    lk_str value;
    bool rename;
} logql_label_fmt;

/* drop / keep: a bare name (matcher NULL) or a matcher on name and value. */
typedef struct logql_named_matcher {
    lk_str name;
    lk_matcher *matcher;
} logql_named_matcher;

struct logql_stage {
    logql_stage_kind kind;
    union {
        logql_line_filter line_filter;
        struct {
            bool strict, keep_empty;
            logql_extract *params; /* none: extract every key */
            size_t n_params;
        } logfmt;
        struct {
            logql_extract *params; /* none: extract every field */
            size_t n_params;
        } json;
        lk_str regexp;       /* REGEXP: the expression (validated at parse) */
        lk_str pattern;      /* PATTERN: the pattern (validated at parse) */
        logql_label_filter *label_filter;
        lk_str line_format;  /* the template */
        struct {
            logql_label_fmt *v;
            size_t n;
        } label_format;
        struct {
            logql_named_matcher *v;
            size_t n;
        } names;             /* DROP and KEEP */
    } u;
};

/* ---- expressions --------------------------------------------------------- */

typedef enum logql_expr_kind {
    LOGQL_EXPR_LOG = 0,       /* {matchers} | pipeline */
    LOGQL_EXPR_RANGE_AGG,     /* count_over_time({...} ... [5m]) */
    LOGQL_EXPR_VECTOR_AGG,    /* sum by (x) (...) */
    LOGQL_EXPR_BINOP,
    LOGQL_EXPR_LITERAL,       /* 1.5, -2 */
    LOGQL_EXPR_VECTOR,        /* vector(1) */
    LOGQL_EXPR_LABEL_REPLACE, /* label_replace(v, "dst", "repl", "src", "re") */
    LOGQL_EXPR_VARIANTS,      /* variants(v1, v2) of ({...}[5m]) */
} logql_expr_kind;

typedef struct logql_log_selector {
    lk_matcher *matchers; /* {} has none */
    size_t n_matchers;
    logql_stage *stages;
    size_t n_stages;
} logql_log_selector;

typedef enum logql_range_op {
    LOGQL_RANGE_COUNT = 0, /* count_over_time */
    LOGQL_RANGE_RATE,
    LOGQL_RANGE_RATE_COUNTER,
    LOGQL_RANGE_BYTES,     /* bytes_over_time */
    LOGQL_RANGE_BYTES_RATE,
    LOGQL_RANGE_AVG,       /* avg_over_time */
    LOGQL_RANGE_SUM,
    LOGQL_RANGE_MIN,
    LOGQL_RANGE_MAX,
    LOGQL_RANGE_STDVAR,
    LOGQL_RANGE_STDDEV,
    LOGQL_RANGE_QUANTILE,
    LOGQL_RANGE_FIRST,
    LOGQL_RANGE_LAST,
    LOGQL_RANGE_ABSENT,
} logql_range_op;

typedef enum logql_vector_op {
    LOGQL_VEC_SUM = 0,
    LOGQL_VEC_AVG,
    LOGQL_VEC_COUNT,
    LOGQL_VEC_MAX,
    LOGQL_VEC_MIN,
    LOGQL_VEC_STDDEV,
    LOGQL_VEC_STDVAR,
    LOGQL_VEC_BOTTOMK,
    LOGQL_VEC_TOPK,
    LOGQL_VEC_SORT,
    LOGQL_VEC_SORT_DESC,
    LOGQL_VEC_APPROX_TOPK,
} logql_vector_op;

typedef enum logql_binop {
    LOGQL_OP_OR = 0,
    LOGQL_OP_AND,
    LOGQL_OP_UNLESS,
    LOGQL_OP_ADD,
    LOGQL_OP_SUB,
    LOGQL_OP_MUL,
    LOGQL_OP_DIV,
    LOGQL_OP_MOD,
    LOGQL_OP_POW,
    LOGQL_OP_EQ,  /* == */
    LOGQL_OP_NE,
    LOGQL_OP_GT,
    LOGQL_OP_GE,
    LOGQL_OP_LT,
    LOGQL_OP_LE,
} logql_binop;

typedef enum logql_card {
    LOGQL_CARD_ONE_TO_ONE = 0,
    LOGQL_CARD_MANY_TO_ONE, /* group_left */
    LOGQL_CARD_ONE_TO_MANY, /* group_right */
} logql_card;

typedef enum logql_conv {
    LOGQL_CONV_NONE = 0,         /* unwrap label: the value as a float */
    LOGQL_CONV_BYTES,            /* unwrap bytes(label) */
    LOGQL_CONV_DURATION,         /* unwrap duration(label): seconds */
    LOGQL_CONV_DURATION_SECONDS, /* unwrap duration_seconds(label) */
} logql_conv;

typedef struct logql_unwrap {
    lk_str label;
    logql_conv conv;
    logql_label_filter **post; /* label filters after the unwrap */
    size_t n_post;
} logql_unwrap;

/* by / without. `present` is false when none was written; a vector
 * aggregation without one aggregates everything, like `by ()`. */
typedef struct logql_grouping {
    bool present;
    bool without;
    lk_str *labels;
    size_t n_labels;
} logql_grouping;

typedef struct logql_range_agg {
    logql_range_op op;
    logql_log_selector sel; /* the pipeline, wherever it was written */
    int64_t range_ns;
    int64_t offset_ns;
    logql_unwrap *unwrap;   /* NULL without unwrap */
    bool has_param;         /* quantile_over_time(phi, ...) */
    double param;
    lk_str param_text;
    logql_grouping grouping;
} logql_range_agg;

typedef struct logql_vector_agg {
    logql_vector_op op;
    logql_expr *inner;
    logql_grouping grouping;
    bool has_param;         /* topk(k, ...) */
    int64_t param;          /* k once validated */
    lk_str param_text;
} logql_vector_agg;

typedef struct logql_binop_expr {
    logql_binop op;
    logql_expr *lhs, *rhs;
    bool return_bool;
    logql_card card;
    bool matching;          /* on(...) or ignoring(...) was written */
    bool on;                /* on(...) rather than ignoring(...) */
    lk_str *match_labels;
    size_t n_match_labels;
    lk_str *include;        /* group_left(a, b) / group_right(a, b) */
    size_t n_include;
} logql_binop_expr;

typedef struct logql_label_replace {
    logql_expr *inner;
    lk_str dst, replacement, src, regex;
    lk_regex *re;           /* ^(?:regex)$; NULL when it did not compile */
    const char *re_error;   /* the compile error, reported by validation */
} logql_label_replace;

/* variants(count_over_time({a="b"}[5m]), ...) of ({a="b"}[5m]) (Loki 3.5):
 * several metric queries over one log range. Loki evaluates it only where
 * limits_config.enable_multi_variant_queries is on (off by default); lokic
 * parses and prints it, and answers Loki's "disabled" error. */
typedef struct logql_variants {
    logql_expr **v;         /* the metric expressions */
    size_t n;
    logql_range_agg of;     /* the log range: sel, range_ns, offset_ns, unwrap */
} logql_variants;

struct logql_expr {
    logql_expr_kind kind;
    union {
        logql_log_selector log;
        logql_range_agg range;
        logql_vector_agg vagg;
        logql_binop_expr binop;
        struct {
            double value;
            lk_str text;    /* the number as written */
            bool bad;       /* did not parse as a float (reported by validation) */
        } literal;          /* LITERAL and VECTOR */
        logql_label_replace label_replace;
        logql_variants variants;
    } u;
    logql_tree *owner;      /* the root only */
};

/* ---- helpers for the engine --------------------------------------------- */

/* A log query ({...} | pipeline) as opposed to a metric (sample) query. */
bool logql_expr_is_log(const logql_expr *e);
/* The log selector of a LOG expression or of a range aggregation; NULL for
 * the other kinds. */
const logql_log_selector *logql_expr_selector(const logql_expr *e);
/* Does the query hold a variants(...) of (...) anywhere? */
bool logql_expr_has_variants(const logql_expr *e);
/* Every stage is a line filter (vacuously true for no stages). */
bool logql_pipeline_is_filter_only(const logql_stage *stages, size_t n);

const char *logql_range_op_name(logql_range_op op);   /* "count_over_time" */
const char *logql_vector_op_name(logql_vector_op op); /* "sum" */
const char *logql_binop_name(logql_binop op);         /* "+", "and", ... */
bool logql_binop_is_logical(logql_binop op);          /* and, or, unless */
bool logql_binop_is_comparison(logql_binop op);

/* Loki's canonical String() form, appended to out:
 *   {app="api"} |= "error"
 *   sum by (level)(count_over_time({app="api"} | logfmt[5m]))
 * Parsing the output again gives the same output. */
void logql_format(const logql_expr *e, lk_buf *out);
void logql_format_stage(const logql_stage *s, lk_buf *out);
/* The multi-line form /loki/api/v1/format_query answers (Loki's
 * syntax.Prettify; query/logql/pretty.c). */
void logql_prettify(const logql_expr *e, lk_buf *out);
/* The same with another line width than Loki's 100 (for tests). */
void logql_prettify_width(const logql_expr *e, size_t width, lk_buf *out);
void logql_format_label_filter(const logql_label_filter *f, lk_buf *out);

/* Frees the whole tree when e is the root returned by logql_parse. */
void logql_expr_free(logql_expr *e);

/* ---- tree construction (used by the parser) ------------------------------ */

logql_tree *logql_tree_new(void);
void logql_tree_free(logql_tree *t);
lk_arena *logql_tree_arena(logql_tree *t);
/* Zeroed memory from the tree's arena. */
void *logql_tree_alloc(logql_tree *t, size_t n);
/* A NUL-terminated copy in the arena. */
lk_str logql_tree_str(logql_tree *t, lk_str s);
/* Initialises *m (memory from the arena or the caller) with matcher_init and
 * registers it for release with the tree. */
int logql_tree_matcher(logql_tree *t, lk_matcher *m, lk_match_type type, lk_str name,
                       lk_str value, lk_buf *err);
/* Hands a compiled regex to the tree. */
void logql_tree_own_regex(logql_tree *t, lk_regex *re);

#endif
