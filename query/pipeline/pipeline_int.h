/* Private to the pipeline (the files of query/pipeline/):
 * the per-entry scratch allocator, the label builder with Loki's rules, the
 * compiled stage interface and the runner every stage works on.
 *
 * Memory: a runner owns a scratch allocator reset before each entry; every
 * string a stage makes for the current entry (a rewritten line, an unescaped
 * value, a sanitized key) comes from it, so a steady-state entry allocates
 * nothing. Label names and values in the builder point into the line, the
 * compiled pipeline, the stream labels or the scratch. */
#ifndef LOKIC_QUERY_PL_INT_H
#define LOKIC_QUERY_PL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "query/logql/ast.h"
#include "query/pipeline/pipeline.h"

/* ---- scratch: a bump allocator reset per entry ----------------------------- */

typedef struct lp_block lp_block;

typedef struct lp_scratch {
    lp_block *head;    /* current block; older blocks chained behind */
    size_t used;       /* in head */
    size_t total;      /* bytes handed out since the last reset */
} lp_scratch;

void *lp_alloc(lp_scratch *s, size_t n);              /* 8-byte aligned */
char *lp_strdup(lp_scratch *s, const char *p, size_t n);
/* Keeps one block big enough for what the last entry needed. */
void lp_scratch_reset(lp_scratch *s);
void lp_scratch_free(lp_scratch *s);

/* A growable string being built in scratch: reserve, write, commit. */
typedef struct lp_sb {
    lp_scratch *s;
    char *p;
    size_t len, cap;
} lp_sb;

void lp_sb_init(lp_sb *b, lp_scratch *s, size_t hint);
void lp_sb_put(lp_sb *b, const void *p, size_t n);
void lp_sb_putc(lp_sb *b, char c);
lk_str lp_sb_str(const lp_sb *b);

/* ---- parser hints ------------------------------------------------------------ */

/* Loki's parser hints for a metric query grouped `by (...)`: the only labels
 * anything downstream reads (the groups, label filters, templates, the
 * unwrapped label). Parsers then set only these, and stop once all are
 * known. */
typedef struct lp_hints {
    lk_str *names;
    uint32_t *h;
    size_t n;
} lp_hints;

/* ---- the label builder ----------------------------------------------------- */

typedef enum lp_cat {
    LP_CAT_STREAM = 0, /* a stream label */
    LP_CAT_META = 1,   /* structured metadata */
    LP_CAT_PARSED = 2, /* set by a parser or a formatting stage */
} lp_cat;

typedef struct lp_lbl {
    lk_str name, value;
    uint32_t h;        /* lp_name_hash(name) */
    uint8_t cat;       /* 0 (stream label), LP_CAT_META or LP_CAT_PARSED */
    bool shadows;      /* an add whose name is also a stream label */
} lp_lbl;

/* A cheap fingerprint of a label name, compared before the bytes. */
static inline uint32_t lp_name_hash(lk_str s)
{
    uint32_t h = 2166136261u ^ (uint32_t)s.len;
    for (size_t i = 0; i < s.len; i++)
        h = (h ^ (unsigned char)s.p[i]) * 16777619u;
    return h;
}

typedef struct lp_lbs {
    const lk_labels *base; /* the stream labels, sorted */
    uint32_t *base_h;      /* lp_name_hash of each base name */
    size_t cap_base_h;
    lp_lbl *add;
    size_t n_add, cap_add;
    lk_str *del;           /* names removed from the base */
    size_t n_del, cap_del;
    size_t n_shadow;       /* adds that shadow a stream label */
    const lp_hints *hints; /* NULL: parsers extract everything */
    lk_str err, err_details;
    bool has_err, has_details;
} lp_lbs;

void lp_lbs_init(lp_lbs *b);
void lp_lbs_free(lp_lbs *b);
/* New stream: base labels. */
void lp_lbs_set_base(lp_lbs *b, const lk_labels *base);
/* New entry: forgets adds, deletions and errors. */
void lp_lbs_reset(lp_lbs *b);
bool lp_lbs_base_has(const lp_lbs *b, lk_str name);
/* The current value; false when the label is not in the set. */
bool lp_lbs_get(const lp_lbs *b, lk_str name, lk_str *out);
/* The same with the label's category. */
bool lp_lbs_get_cat(const lp_lbs *b, lk_str name, lk_str *out, lp_cat *cat);
/* Loki's Set: parsed labels win over metadata, metadata over stream labels
 * (setting a lower category over a higher one does nothing). */
void lp_lbs_set(lp_lbs *b, lp_cat cat, lk_str name, lk_str value);
/* What parsers do with a key they found: _extracted when a stream label
 * has the name, skipped when the hints do not want it, then the first value
 * wins. Returns true when the hints are all satisfied (the parser may stop). */
bool lp_lbs_parsed_kv(lp_lbs *b, lk_str name, lk_str value, lp_scratch *s);
/* With hints: does any wanted name start with prefix + "_" (a nested JSON
 * object worth descending into)? */
bool lp_lbs_wants_prefix(const lp_lbs *b, lk_str prefix);
void lp_lbs_del(lp_lbs *b, lk_str name);
/* The entry's structured metadata: a name clashing with a stream label gets
 * the _extracted suffix; __error__ / __error_details__ set the error. */
void lp_lbs_add_meta(lp_lbs *b, const lk_label *meta, size_t n, lp_scratch *s);
void lp_lbs_set_err(lp_lbs *b, lk_str err);
void lp_lbs_set_details(lp_lbs *b, lk_str details);
static inline bool lp_lbs_changed(const lp_lbs *b)
{
    return b->n_add || b->n_del || b->has_err || b->has_details;
}
/* Appends every label of the current set (unsorted, errors last). */
size_t lp_lbs_collect(const lp_lbs *b, lp_lbl *out);
/* Only the adds and the error labels (unsorted). */
size_t lp_lbs_collect_adds(const lp_lbs *b, lp_lbl *out);
/* The stream labels left: all of them when nothing shadows or deletes one. */
static inline bool lp_lbs_base_intact(const lp_lbs *b)
{
    return b->n_shadow == 0 && b->n_del == 0;
}
size_t lp_lbs_count_max(const lp_lbs *b);

/* Label names Loki's parsers make: sanitizeLabelKey (invalid runes become
 * '_', a leading digit gets a '_' prefix, spaces trimmed). */
lk_str lp_sanitize_key(lk_str key, lp_scratch *s);
/* The same appended to b; digit_prefix: add '_' before a leading digit. */
void lp_sanitize_append(lp_sb *b, lk_str key, bool digit_prefix);
/* name + "_extracted" when the stream labels have name. */
lk_str lp_dedup_key(const lp_lbs *b, lk_str name, lp_scratch *s);

extern const lk_str LP_ERROR_LABEL;         /* __error__ */
extern const lk_str LP_ERROR_DETAILS_LABEL; /* __error_details__ */

/* ---- stages ------------------------------------------------------------------ */

typedef struct lp_exec lp_exec;
typedef struct lp_stage lp_stage;

/* Runs on r->line and r->lbs; false drops the entry. */
typedef bool (*lp_stage_fn)(const lp_stage *st, lp_exec *r);

/* Reports a label name a stage reads. */
typedef void (*lp_name_fn)(void *ctx, lk_str name);

struct lp_stage {
    logql_stage_kind kind;
    lp_stage_fn run;
    /* The label names the stage reads (label filters, templates, renames);
     * NULL: none. */
    void (*required)(const lp_stage *st, lp_name_fn add, void *ctx);
    void *impl;               /* the compiled stage, immutable */
    void (*free_impl)(void *impl);
};

/* The mutable state of one entry's run. */
struct lp_exec {
    lk_str line;
    int64_t ts;
    lp_lbs lbs;
    lp_scratch scratch;
    lk_buf tmp;               /* stage-local temporary, contents undefined between stages */
    lk_buf tmp2;
    bool skip_parsers;        /* metric query without labels: Loki's parser hints */
};

void lp_run_init(lp_exec *r);
void lp_run_free(lp_exec *r);
/* Starts an entry. */
void lp_run_begin(lp_exec *r, const lk_entry *e);

/* Compilers, one per stage kind; each fills st (run, impl, free_impl). */
int lp_compile_line_filter(const logql_stage *s, lp_stage *st, lk_buf *err);
int lp_compile_json(const logql_stage *s, lp_stage *st, lk_buf *err);
int lp_compile_logfmt(const logql_stage *s, lp_stage *st, lk_buf *err);
int lp_compile_regexp(const logql_stage *s, lp_stage *st, lk_buf *err);
int lp_compile_pattern(const logql_stage *s, lp_stage *st, lk_buf *err);
int lp_compile_unpack(const logql_stage *s, lp_stage *st, lk_buf *err);
int lp_compile_label_filter(const logql_label_filter *f, lp_stage *st, lk_buf *err);
int lp_compile_line_format(const logql_stage *s, lp_stage *st, lk_buf *err);
int lp_compile_label_format(const logql_stage *s, lp_stage *st, lk_buf *err);
int lp_compile_drop(const logql_stage *s, lp_stage *st, lk_buf *err);
int lp_compile_keep(const logql_stage *s, lp_stage *st, lk_buf *err);
int lp_compile_decolorize(const logql_stage *s, lp_stage *st, lk_buf *err);

/* Does the line pass the pipeline's front filters (the line filters before
 * any stage)? Checked before lp_run_begin, so that a line they drop costs
 * no label work. */
bool lp_pipeline_front(const lp_pipeline *p, lk_str line);
/* Runs a compiled pipeline's stages after the front filters on r (already
 * begun); false: dropped. */
bool lp_pipeline_process(const lp_pipeline *p, lp_exec *r);
/* Every label name the pipeline's stages read. */
void lp_pipeline_required(const lp_pipeline *p, lp_name_fn add, void *ctx);

/* Does the stage read labels (Loki's RequiredLabelNames non-empty)? */
bool lp_stage_reads_labels(const logql_stage *s);

/* ---- JSON scanning (buger/jsonparser's rules and messages) ------------------ */

typedef enum lp_jtype {
    LP_J_NONE = 0,
    LP_J_STRING,
    LP_J_NUMBER,
    LP_J_OBJECT,
    LP_J_ARRAY,
    LP_J_BOOL,
    LP_J_NULL,
} lp_jtype;

extern const char *const LP_JERR_MALFORMED_JSON;    /* "Malformed JSON error" */
extern const char *const LP_JERR_MALFORMED_OBJECT;  /* "Value looks like object, ..." */
extern const char *const LP_JERR_MALFORMED_ARRAY;
extern const char *const LP_JERR_MALFORMED_STRING;
extern const char *const LP_JERR_UNKNOWN_VALUE;
extern const char *const LP_JERR_BAD_ESCAPE;

/* Callback for each member of an object: key (unescaped), value (strings
 * without their quotes, still escaped; objects and arrays as raw text).
 * Returns NULL to go on or an error message to stop with. */
typedef const char *(*lp_json_member_fn)(void *ctx, lk_str key, lk_str value, lp_jtype t);

/* jsonparser.ObjectEach: NULL on success, else the error message. */
const char *lp_json_object_each(lk_str data, lp_json_member_fn fn, void *ctx, lp_scratch *s);
/* jsonparser.Unescape of a string's contents into scratch; false on a bad
 * escape. Returns the input itself when it has no backslash. */
bool lp_json_unescape(lk_str in, lp_scratch *s, lk_str *out);
/* A label value from a JSON string: unescaped; "" when the escape is bad
 * or the text is not valid UTF-8 (Loki rejects the replacement rune). */
lk_str lp_json_string_value(lk_str raw, lp_scratch *s);
/* Value type and extent at data[0] (after whitespace): jsonparser.getType. */
const char *lp_json_value(lk_str data, size_t *start, size_t *end, lp_jtype *t);
/* The idx-th element of the array text v (starting with '['): *found false
 * when there are fewer; NULL or jsonparser's error message. */
const char *lp_json_array_elem(lk_str v, long idx, bool *found, lk_str *out, lp_jtype *t);

/* logfmt.c: the value of the first key of the line (Loki's logfmt decoder,
 * stopping at the first malformed pair) that equals keys[x] ignoring ASCII
 * case, for the smallest such x; a key without a value gives "". Quoted
 * values are unquoted into s. False when no key matches. */
bool lp_logfmt_find(lk_str line, const lk_str *keys, size_t n_keys, lp_scratch *s,
                    lk_str *value);
/* logfmt.c: fn for every pair of the line in order (a key without a value
 * gives ""; quoted values unquoted into s), stopping at the first malformed
 * pair; false when there was one (Loki's decoder Err()). */
bool lp_logfmt_each(lk_str line, lp_scratch *s, void (*fn)(void *ctx, lk_str key, lk_str value),
                    void *ctx);

/* ---- UTF-8 ------------------------------------------------------------------- */

/* true when s is valid UTF-8 without U+FFFD (Go's "contains RuneError"). */
bool lp_utf8_clean(lk_str s);

#endif
