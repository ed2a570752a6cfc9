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

typedef struct pl_block pl_block;

typedef struct pl_scratch {
    pl_block *head;    /* current block; older blocks chained behind */
    size_t used;       /* in head */
    size_t total;      /* bytes handed out since the last reset */
} pl_scratch;

void *pl_alloc(pl_scratch *s, size_t n);              /* 8-byte aligned */
char *pl_strdup(pl_scratch *s, const char *p, size_t n);
/* Keeps one block big enough for what the last entry needed. */
void pl_scratch_reset(pl_scratch *s);
void pl_scratch_free(pl_scratch *s);

/* A growable string being built in scratch: reserve, write, commit. */
typedef struct pl_sb {
    pl_scratch *s;
    char *p;
    size_t len, cap;
} pl_sb;

void pl_sb_init(pl_sb *b, pl_scratch *s, size_t hint);
void pl_sb_put(pl_sb *b, const void *p, size_t n);
void pl_sb_putc(pl_sb *b, char c);
lk_str pl_sb_str(const pl_sb *b);

/* ---- parser hints ------------------------------------------------------------ */

/* Loki's parser hints for a metric query grouped `by (...)`: the only labels
 * anything downstream reads (the groups, label filters, templates, the
 * unwrapped label). Parsers then set only these, and stop once all are
 * known. */
typedef struct pl_hints {
    lk_str *names;
    uint32_t *h;
    size_t n;
} pl_hints;

/* ---- the label builder ----------------------------------------------------- */

typedef enum pl_cat {
    PL_CAT_STREAM = 0, /* a stream label (renamed by label_format) */
    PL_CAT_META = 1,   /* structured metadata */
    PL_CAT_PARSED = 2, /* set by a parser or a formatting stage */
} pl_cat;

typedef struct pl_lbl {
    lk_str name, value;
    uint32_t h;        /* pl_name_hash(name) */
    uint8_t cat;       /* 0 (stream label), PL_CAT_META or PL_CAT_PARSED */
    bool shadows;      /* an add whose name is also a stream label */
} pl_lbl;

/* A cheap fingerprint of a label name, compared before the bytes. */
static inline uint32_t pl_name_hash(lk_str s)
{
    uint32_t h = 2166136261u ^ (uint32_t)s.len;
    for (size_t i = 0; i < s.len; i++)
        h = (h ^ (unsigned char)s.p[i]) * 16777619u;
    return h;
}

typedef struct pl_lbs {
    const lk_labels *base; /* the stream labels, sorted */
    uint32_t *base_h;      /* pl_name_hash of each base name */
    size_t cap_base_h;
    pl_lbl *add;
    size_t n_add, cap_add;
    lk_str *del;           /* names removed from the base */
    size_t n_del, cap_del;
    size_t n_shadow;       /* adds that shadow a stream label */
    const pl_hints *hints; /* NULL: parsers extract everything */
    lk_str err, err_details;
    bool has_err, has_details;
} pl_lbs;

void pl_lbs_init(pl_lbs *b);
void pl_lbs_free(pl_lbs *b);
/* New stream: base labels. */
void pl_lbs_set_base(pl_lbs *b, const lk_labels *base);
/* New entry: forgets adds, deletions and errors. */
void pl_lbs_reset(pl_lbs *b);
bool pl_lbs_base_has(const pl_lbs *b, lk_str name);
/* The current value; false when the label is not in the set. */
bool pl_lbs_get(const pl_lbs *b, lk_str name, lk_str *out);
/* The same with the label's category. */
bool pl_lbs_get_cat(const pl_lbs *b, lk_str name, lk_str *out, pl_cat *cat);
/* Loki's Set: parsed labels win over metadata, metadata over stream labels
 * (setting a lower category over a higher one does nothing). */
void pl_lbs_set(pl_lbs *b, pl_cat cat, lk_str name, lk_str value);
/* What parsers do with a key they found: _extracted when a stream label
 * has the name, skipped when the hints do not want it, then the first value
 * wins. Returns true when the hints are all satisfied (the parser may stop). */
bool pl_lbs_parsed_kv(pl_lbs *b, lk_str name, lk_str value, pl_scratch *s);
/* With hints: does any wanted name start with prefix + "_" (a nested JSON
 * object worth descending into)? */
bool pl_lbs_wants_prefix(const pl_lbs *b, lk_str prefix);
void pl_lbs_del(pl_lbs *b, lk_str name);
/* The entry's structured metadata: a name clashing with a stream label gets
 * the _extracted suffix; __error__ / __error_details__ set the error. */
void pl_lbs_add_meta(pl_lbs *b, const lk_label *meta, size_t n, pl_scratch *s);
void pl_lbs_set_err(pl_lbs *b, lk_str err);
void pl_lbs_set_details(pl_lbs *b, lk_str details);
static inline bool pl_lbs_changed(const pl_lbs *b)
{
    return b->n_add || b->n_del || b->has_err || b->has_details;
}
/* Appends every label of the current set (unsorted, errors last). */
size_t pl_lbs_collect(const pl_lbs *b, pl_lbl *out);
/* Only the adds and the error labels (unsorted). */
size_t pl_lbs_collect_adds(const pl_lbs *b, pl_lbl *out);
/* The stream labels left: all of them when nothing shadows or deletes one. */
static inline bool pl_lbs_base_intact(const pl_lbs *b)
{
    return b->n_shadow == 0 && b->n_del == 0;
}
size_t pl_lbs_count_max(const pl_lbs *b);

/* Label names Loki's parsers make: sanitizeLabelKey (invalid runes become
 * '_', a leading digit gets a '_' prefix, spaces trimmed). */
lk_str pl_sanitize_key(lk_str key, pl_scratch *s);
/* The same appended to b; digit_prefix: add '_' before a leading digit. */
void pl_sanitize_append(pl_sb *b, lk_str key, bool digit_prefix);
/* name + "_extracted" when the stream labels have name. */
lk_str pl_dedup_key(const pl_lbs *b, lk_str name, pl_scratch *s);

extern const lk_str PL_ERROR_LABEL;         /* __error__ */
extern const lk_str PL_ERROR_DETAILS_LABEL; /* __error_details__ */

/* ---- stages ------------------------------------------------------------------ */

typedef struct pl_run pl_run;
typedef struct pl_stage pl_stage;

/* Runs on r->line and r->lbs; false drops the entry. */
typedef bool (*pl_stage_fn)(const pl_stage *st, pl_run *r);

/* Reports a label name a stage reads. */
typedef void (*pl_name_fn)(void *ctx, lk_str name);

struct pl_stage {
    logql_stage_kind kind;
    pl_stage_fn run;
    /* The label names the stage reads (label filters, templates, renames);
     * NULL: none. */
    void (*required)(const pl_stage *st, pl_name_fn add, void *ctx);
    void *impl;               /* the compiled stage, immutable */
    void (*free_impl)(void *impl);
};

/* The mutable state of one entry's run. */
struct pl_run {
    lk_str line;
    int64_t ts;
    pl_lbs lbs;
    pl_scratch scratch;
    lk_buf tmp;               /* stage-local temporary, contents undefined between stages */
    lk_buf tmp2;
    bool skip_parsers;        /* metric query without labels: Loki's parser hints */
};

void pl_run_init(pl_run *r);
void pl_run_free(pl_run *r);
/* Starts an entry. */
void pl_run_begin(pl_run *r, const lk_entry *e);

/* Compilers, one per stage kind; each fills st (run, impl, free_impl). */
int pl_compile_line_filter(const logql_stage *s, pl_stage *st, lk_buf *err);
int pl_compile_json(const logql_stage *s, pl_stage *st, lk_buf *err);
int pl_compile_logfmt(const logql_stage *s, pl_stage *st, lk_buf *err);
int pl_compile_regexp(const logql_stage *s, pl_stage *st, lk_buf *err);
int pl_compile_pattern(const logql_stage *s, pl_stage *st, lk_buf *err);
int pl_compile_unpack(const logql_stage *s, pl_stage *st, lk_buf *err);
int pl_compile_label_filter(const logql_label_filter *f, pl_stage *st, lk_buf *err);
int pl_compile_line_format(const logql_stage *s, pl_stage *st, lk_buf *err);
int pl_compile_label_format(const logql_stage *s, pl_stage *st, lk_buf *err);
int pl_compile_drop(const logql_stage *s, pl_stage *st, lk_buf *err);
int pl_compile_keep(const logql_stage *s, pl_stage *st, lk_buf *err);
int pl_compile_decolorize(const logql_stage *s, pl_stage *st, lk_buf *err);

/* Runs a compiled pipeline's stages on r (already begun); false: dropped. */
bool pl_pipeline_process(const lp_pipeline *p, pl_run *r);
/* Every label name the pipeline's stages read. */
void pl_pipeline_required(const lp_pipeline *p, pl_name_fn add, void *ctx);

/* Does the stage read labels (Loki's RequiredLabelNames non-empty)? */
bool pl_stage_reads_labels(const logql_stage *s);

/* ---- JSON scanning (buger/jsonparser's rules and messages) ------------------ */

typedef enum pl_jtype {
    PL_J_NONE = 0,
    PL_J_STRING,
    PL_J_NUMBER,
    PL_J_OBJECT,
    PL_J_ARRAY,
    PL_J_BOOL,
    PL_J_NULL,
} pl_jtype;

extern const char *const PL_JERR_MALFORMED_JSON;    /* "Malformed JSON error" */
extern const char *const PL_JERR_MALFORMED_OBJECT;  /* "Value looks like object, ..." */
extern const char *const PL_JERR_MALFORMED_ARRAY;
extern const char *const PL_JERR_MALFORMED_STRING;
extern const char *const PL_JERR_UNKNOWN_VALUE;
extern const char *const PL_JERR_BAD_ESCAPE;

/* Callback for each member of an object: key (unescaped), value (strings
 * without their quotes, still escaped; objects and arrays as raw text).
 * Returns NULL to go on or an error message to stop with. */
typedef const char *(*pl_json_member_fn)(void *ctx, lk_str key, lk_str value, pl_jtype t);

/* jsonparser.ObjectEach: NULL on success, else the error message. */
const char *pl_json_object_each(lk_str data, pl_json_member_fn fn, void *ctx, pl_scratch *s);
/* jsonparser.Unescape of a string's contents into scratch; false on a bad
 * escape. Returns the input itself when it has no backslash. */
bool pl_json_unescape(lk_str in, pl_scratch *s, lk_str *out);
/* A label value from a JSON string: unescaped; "" when the escape is bad
 * or the text is not valid UTF-8 (Loki rejects the replacement rune). */
lk_str pl_json_string_value(lk_str raw, pl_scratch *s);
/* Value type and extent at data[0] (after whitespace): jsonparser.getType. */
const char *pl_json_value(lk_str data, size_t *start, size_t *end, pl_jtype *t);
/* The idx-th element of the array text v (starting with '['): *found false
 * when there are fewer; NULL or jsonparser's error message. */
const char *pl_json_array_elem(lk_str v, long idx, bool *found, lk_str *out, pl_jtype *t);

/* ---- UTF-8 ------------------------------------------------------------------- */

/* true when s is valid UTF-8 without U+FFFD (Go's "contains RuneError"). */
bool pl_utf8_clean(lk_str s);
/* Encodes r (U+FFFD when not a scalar value) at o; returns the length. */
size_t pl_utf8_put(char *o, uint32_t r);

#endif
