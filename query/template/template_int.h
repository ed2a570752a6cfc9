/* Internals of the Go text/template engine (query/template/): the parse
 * tree, runtime values, the execution state and the function table. One
 * header so the parser, executor, fmt, function library and time code share
 * the same shapes; nothing here is visible outside query/template/. */
#ifndef LOKIC_QUERY_TMPL_INT_H
#define LOKIC_QUERY_TMPL_INT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/regex.h"
#include "lib/str.h"
#include "lib/utf8.h"
#include "query/template/template.h"

/* ---- limits (Go has none of these; they keep one execution bounded) ---- */
#define TMPL_MAX_OUTPUT (1u << 20)       /* bytes of output or of one string value */
#define TMPL_MAX_MEMORY (64u << 20)      /* bytes of per-execution memory */
#define TMPL_MAX_STEPS 4000000u          /* nodes walked + range iterations */
#define TMPL_MAX_DEPTH 200               /* nested parens / control structures */
#define TMPL_MAX_CALL_DEPTH 100          /* nested {{template}} calls */

/* ---- parse tree -------------------------------------------------------- */

typedef enum tn_type {
    TN_LIST,
    TN_TEXT,
    TN_ACTION,
    TN_IF,
    TN_RANGE,
    TN_WITH,
    TN_TEMPLATE,
    TN_BREAK,
    TN_CONTINUE,
    TN_PIPE,
    TN_COMMAND,
    TN_FIELD,
    TN_CHAIN,
    TN_IDENT,
    TN_VARIABLE,
    TN_DOT,
    TN_NIL,
    TN_BOOL,
    TN_NUMBER,
    TN_STRING,
    TN_END,  /* parser only */
    TN_ELSE, /* parser only */
} tn_type;

typedef struct tnode tnode;
typedef struct tfunc tfunc;

typedef struct tnum {
    bool is_int, is_uint, is_float, is_complex;
    int64_t i;
    uint64_t u;
    double f, re, im;
    lk_str text;
} tnum;

/* A regular expression compiled at parse time (a literal first argument of
 * regexReplaceAll, regexReplaceAllLiteral or count). */
typedef struct tx_regex {
    lk_regex *re;
    int ncap;
    lk_str *names; /* names[g] for group g; empty when unnamed */
} tx_regex;

struct tnode {
    uint8_t type;
    uint32_t pos; /* byte offset in the template text */
    union {
        struct {
            tnode **v;
            uint32_t n;
        } list;
        lk_str text;
        tnode *pipe; /* TN_ACTION */
        struct {
            tnode *pipe, *list, *else_list;
        } br; /* TN_IF, TN_RANGE, TN_WITH */
        struct {
            lk_str name;
            tnode *pipe; /* may be NULL */
        } tmpl;
        struct {
            tnode **decl, **cmds;
            uint32_t ndecl, ncmds;
            bool is_assign;
        } p; /* TN_PIPE */
        struct {
            tnode **args;
            uint32_t n;
            const tx_regex *re; /* precompiled args[1], or NULL */
        } cmd;
        struct {
            lk_str *id; /* TN_FIELD: names without '.'; TN_VARIABLE: id[0] = "$x" */
            uint32_t n;
        } f;
        struct {
            tnode *node;
            lk_str *id;
            uint32_t n;
        } chain;
        struct {
            lk_str name;
            const tfunc *fn;
        } ident;
        bool b;
        const tnum *num;
        struct {
            lk_str quoted, text;
        } str;
    } u;
};

/* The parsed template (template.c owns it). */
typedef struct tmpl_def {
    lk_str name;
    tnode *root;
} tmpl_def;

struct tmpl {
    lk_arena arena;   /* nodes, strings, arrays */
    lk_str text;      /* the source (in the arena) */
    lk_str name;      /* "line", "label", ... */
    tnode *root;      /* what tmpl_exec runs */
    tmpl_def *defs;   /* {{define}} / {{block}} templates */
    size_t ndefs;
    lk_str *fields;   /* distinct .name fields, first-seen order */
    size_t nfields;
    tx_regex **regexes; /* owned compiled regexes */
    size_t nregexes;
    bool prom;          /* Prometheus' functions too (tmpl_parse_prom) */
};

/* Parses into t (t->arena, t->text, t->name set by the caller). 0 or
 * LK_EPARSE with Go's message appended to err. */
int tp_parse(struct tmpl *t, lk_buf *err);
/* Go's Node.String() for error context. */
void tn_write(lk_buf *b, const tnode *n);

/* ---- runtime values ---------------------------------------------------- */

typedef enum tv_kind {
    TV_INVALID,  /* Go's zero reflect.Value: nil, missing */
    TV_NILIFACE, /* a nil interface{} (JSON null, missing key of a JSON map) */
    TV_BOOL,
    TV_INT,      /* int */
    TV_INT64,    /* int64 (sprig arithmetic) */
    TV_UINT8,    /* byte (index of a string) */
    TV_MONTH,    /* time.Month */
    TV_WEEKDAY,  /* time.Weekday */
    TV_FLOAT,    /* float64 */
    TV_COMPLEX,  /* complex128 */
    TV_STRING,
    TV_TIME,     /* time.Time */
    TV_LABELS,   /* the data: map[string]string */
    TV_JMAP,     /* map[string]interface{} from fromJson */
    TV_JSLICE,   /* []interface{} from fromJson */
} tv_kind;

enum {
    TL_UTC,   /* time.UTC */
    TL_LOCAL, /* time.Local (this server runs it as UTC) */
    TL_FIXED, /* a FixedZone or an IANA location */
};

typedef struct tv_time {
    int64_t sec;    /* Unix seconds */
    int32_t nsec;
    int32_t off;    /* seconds east of UTC */
    lk_str zone;    /* abbreviation ("" for a nameless fixed zone) */
    lk_str locname; /* location name for GoString (TL_FIXED) */
    uint8_t loc;
    bool mono;      /* has a monotonic reading (time.Now) */
    int64_t mono_ns;
} tv_time;

typedef struct tv tv;

/* What a tv_jmap stands for in Go. */
enum {
    TJ_IFACE,   /* map[string]interface{} (fromJson, args) */
    TJ_STRINGS, /* map[string]string: a missing key is "" */
    TJ_STRUCT,  /* a struct (Prometheus' template data and samples) */
};

typedef struct tv_jmap {
    uint8_t shape; /* TJ_* */
    uint32_t n;
    lk_str *keys; /* sorted, distinct */
    tv *vals;
} tv_jmap;

typedef struct tv_jslice {
    uint32_t n;
    tv *v;
} tv_jslice;

struct tv {
    uint8_t kind;
    uint8_t iface; /* dynamic type is interface{} (an element of a JSON value) */
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            double re, im;
        } c;
        lk_str s;
        const tv_time *t;
        const tv_jmap *m;
        const tv_jslice *a;
    } u;
};

/* Strings from callers may be { NULL, 0 }; values always point somewhere. */
static inline lk_str nz(lk_str s)
{
    return s.p ? s : (lk_str){ "", 0 };
}

static inline tv tv_str(lk_str s)
{
    tv v = { .kind = TV_STRING };
    v.u.s = nz(s);
    return v;
}

static inline tv tv_int(uint8_t kind, int64_t i)
{
    tv v = { .kind = kind };
    v.u.i = i;
    return v;
}

static inline tv tv_float(double f)
{
    tv v = { .kind = TV_FLOAT };
    v.u.f = f;
    return v;
}

static inline tv tv_bool(bool b)
{
    tv v = { .kind = TV_BOOL };
    v.u.b = b;
    return v;
}

static inline bool tv_is_intkind(uint8_t k)
{
    return k == TV_INT || k == TV_INT64 || k == TV_MONTH || k == TV_WEEKDAY;
}

/* Go's reflect type name: "string", "map[string]interface {}", ... */
const char *tv_type_name(uint8_t kind);

/* ---- execution state --------------------------------------------------- */

typedef struct tx_var {
    lk_str name;
    tv v;
} tx_var;

#define TX_INLINE_MEM 4096
#define TX_INLINE_VARS 16

typedef struct tx {
    const struct tmpl *t;
    const tmpl_data *d;
    const tmpl_prom *prom; /* tmpl_exec_prom's alert data, or NULL */
    lk_buf *out;
    lk_buf *err;
    size_t out_base;     /* out->len at entry */
    const tnode *node;   /* Go's s.node: where an error is reported */
    lk_str tname;        /* name of the executing template */
    const char *call;    /* function being called (for "error calling") */
    const tnode *call_node;
    tv recv;             /* receiver of a method call */
    tx_var *vars;
    uint32_t nvars, capvars, varbase;
    char *mcur, *mend;   /* bump memory: inline block, then heap blocks */
    lk_arena heap;
    size_t heap_used;
    uint64_t steps;
    int depth;
    lk_regex *tmp_re;    /* compiled during a call; freed on unwind */
    jmp_buf jb;
    tx_var inline_vars[TX_INLINE_VARS];
    _Alignas(16) char inline_mem[TX_INLINE_MEM];
} tx;

/* Memory that lives until tmpl_exec returns (16-byte aligned). */
void *tx_alloc(tx *x, size_t n);
lk_str tx_strdup(tx *x, const char *p, size_t n);

/* Scratch building in the tail of x->out: tx_sb_begin returns the mark,
 * callers append to x->out, tx_sb_end copies the bytes into execution
 * memory, truncates x->out back and returns them. */
size_t tx_sb_begin(tx *x);
lk_str tx_sb_end(tx *x, size_t mark);
/* Errors when a string being built would exceed TMPL_MAX_OUTPUT. */
void tx_sb_check(tx *x, size_t mark, size_t extra);

/* Go's s.errorf: formats "template: line:1:2: executing \"line\" at <ctx>:
 * msg" and unwinds to tmpl_exec. */
_Noreturn void tx_errorf(tx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "error calling <fn>: msg" at the command being called. */
_Noreturn void tx_callerr(tx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A panic inside a function (Go recovers it as "error calling <fn>: msg"). */
#define tx_panic tx_callerr

/* ---- functions --------------------------------------------------------- */

/* Go parameter types. */
enum {
    TPARAM_NONE,   /* untyped (chain receiver): value as is */
    TPARAM_STRING,
    TPARAM_INT,
    TPARAM_INT64,
    TPARAM_FLOAT,
    TPARAM_BOOL,
    TPARAM_TIME,
    TPARAM_IFACE,  /* interface{} */
    TPARAM_RVALUE, /* reflect.Value (builtins) */
};
const char *tparam_name(uint8_t tp);

/* A function: args[0..n) already converted to the parameter types. The
 * result goes to *res. Errors: tx_callerr. For methods x->recv is set. */
typedef void (*tfunc_impl)(tx *x, tv *args, int n, tv *res, const tnode *cmd);

enum {
    TF_PLAIN,
    TF_AND,
    TF_OR,
    TF_CALL,
};

struct tfunc {
    const char *name;
    uint8_t nin;      /* Go's NumIn (a variadic slice counts as one) */
    bool variadic;
    uint8_t in[4];    /* parameter types; variadic: in[nin-1] is the element */
    uint8_t special;  /* TF_AND / TF_OR / TF_CALL */
    bool builtin;     /* text/template builtin (isBuiltin) */
    tfunc_impl fn;
};

/* Runs the template (exec.c); errors unwind through x->jb. */
void tx_run(tx *x);
/* Go's isTrue after indirectInterface. */
bool tx_truth(const tv *v);

/* Implementations shared between the function files: Go's builtins
 * (builtins.c) and the time methods (time.c). */
#define TFI(name) void name(tx *x, tv *a, int n, tv *res, const tnode *cmd)
TFI(tfi_and_or);
TFI(tfi_call);
TFI(tfi_html);
TFI(tfi_js);
TFI(tfi_urlquery);
TFI(tfi_index);
TFI(tfi_slice);
TFI(tfi_len);
TFI(tfi_not);
TFI(tfi_print);
TFI(tfi_printf);
TFI(tfi_println);
TFI(tfi_eq);
TFI(tfi_ne);
TFI(tfi_lt);
TFI(tfi_le);
TFI(tfi_gt);
TFI(tfi_ge);
/* time.Time / time.Month / time.Weekday methods (time.c). */
const tfunc *tt_method(uint8_t kind, lk_str name);
/* url.QueryEscape into b. */
void tf_query_escape(lk_buf *b, lk_str s);

/* regexp.MustCompile(pattern).ReplaceAllString(src, repl) and
 * regexp.MatchString(pattern, s), with the command's parse-time regex
 * when it has one (funcs.c). */
lk_str tf_regex_replace_all(tx *x, const tnode *cmd, lk_str pattern, lk_str src, lk_str repl);
bool tf_regex_match(tx *x, const tnode *cmd, lk_str pattern, lk_str s);
/* Prometheus' alert data as dot (x->prom set) and the query functions
 * (promquery.c): query, first, label, value, strvalue, sortByLabel. */
tv tf_prom_data(tx *x);
const tfunc *tf_lookup_prom_query(lk_str name);

/* Function lookup by name (parse time). NULL when not defined. */
const tfunc *tf_lookup(lk_str name);
/* The same with Prometheus' alert template functions first (promfuncs.c). */
const tfunc *tf_lookup_prom(lk_str name);
/* Methods of a receiver kind (time.Time, time.Month, time.Weekday). */
const tfunc *tf_method(uint8_t kind, lk_str name);
/* Compiles a regexp for the cache or for one call; NULL + message when bad. */
tx_regex *tf_regex_compile(lk_str pattern, lk_buf *err);
void tf_regex_free(tx_regex *r);

/* ---- fmt (Go's fmt package for template values) ------------------------ */

/* fmt.Sprint / Sprintln / Sprintf of values, appended to b. */
void tf_sprint(tx *x, lk_buf *b, const tv *a, int n);
void tf_sprintln(tx *x, lk_buf *b, const tv *a, int n);
void tf_sprintf(tx *x, lk_buf *b, lk_str format, const tv *a, int n);
/* fmt.Print of one value (the text of a {{pipeline}}); invalid = "<no value>"
 * is handled by the caller. */
void tf_print_value(tx *x, lk_buf *b, const tv *v);
/* strconv.Quote / QuoteToASCII / QuoteRune. */
void tf_quote(lk_buf *b, lk_str s, bool ascii);
/* Unicode classes and case mappings with Go's answers (UTF-8 itself and
 * unicode.IsSpace: lib/utf8.h). */
bool tu_is_print(uint32_t r);
bool tu_is_letter_or_digit(uint32_t r);
uint32_t tu_to_upper(uint32_t r);
uint32_t tu_to_lower(uint32_t r);
uint32_t tu_to_title(uint32_t r);

/* ---- numbers ----------------------------------------------------------- */

/* spf13/cast ToInt64 / ToFloat64 (errors give 0). */
int64_t tnum_to_int64(const tv *v);
double tnum_to_float64(const tv *v);
/* strconv.ParseFloat(s, 64): 0 ok, -1 syntax, -2 range (*out = ±Inf/0). */
int tnum_parse_float(lk_str s, double *out);
/* strconv.ParseInt(s, base, 64): 0 ok, -1 syntax, -2 range. */
int tnum_parse_int(lk_str s, int base, int64_t *out);
int tnum_parse_uint(lk_str s, int base, uint64_t *out);
/* The shopspring decimal operation behind addf/subf/mulf/divf. */
enum { TD_ADD, TD_SUB, TD_MUL, TD_DIV };
double tnum_decimal_op(tx *x, const tv *first, const tv *rest, int n, int op);

/* ---- time -------------------------------------------------------------- */

tv_time *tt_new(tx *x);
tv tt_value(tv_time *t);
/* time.Unix(sec, nsec) in Local. */
tv tt_unix(tx *x, int64_t sec, int64_t nsec);
tv tt_now(tx *x);
/* Time.Format(layout), appended. */
void tt_format(lk_buf *b, const tv_time *t, lk_str layout);
/* Time.String(). */
void tt_string(lk_buf *b, const tv_time *t);
/* Time.GoString(). */
void tt_gostring(lk_buf *b, const tv_time *t);
/* time.ParseInLocation(layout, value, LoadLocation(zone)) as Loki/sprig
 * call it: the zero time when it fails. zone "Local" is the server zone. */
tv tt_parse_in_zone(tx *x, lk_str layout, lk_str value, lk_str zone);
/* Converts to Local (t.In(time.Local)). */
tv_time tt_in_local(const tv_time *t);

/* IANA zone lookup (tz.c): 0 when found. For a Unix time, the
 * abbreviation/offset in effect; for local wall time, Go's Date() offset. */
typedef struct tz_zone tz_zone;
const tz_zone *tz_load(lk_str name);
void tz_lookup(const tz_zone *z, int64_t utime, int32_t *off, lk_str *abbr, int64_t *start,
               int64_t *end);
bool tz_lookup_name(const tz_zone *z, lk_str abbr, int64_t utime, int32_t *off);
lk_str tz_name(const tz_zone *z);

/* ---- JSON -------------------------------------------------------------- */

/* sprig fromJson: json.Unmarshal into interface{}; NILIFACE when invalid. */
tv tj_from_json(tx *x, lk_str s);

#endif
