/* The `| json` stage: every field flattened with '_' (nested objects),
 * arrays and nulls skipped, keys sanitized, `_extracted` on a clash with a
 * stream label, the first value of a key kept; or, with parameters
 * (`| json a="x.y", b="list[0]", c=`["k"]``), Loki's jsonexpr paths, objects
 * and arrays returned as JSON text. Invalid JSON sets
 * __error__=JSONParserErr with jsonparser's message as details. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/pipeline/pipeline_int.h"

static const lk_str JSON_PARSER_ERR = { "JSONParserErr", 13 };

/* ---- `| json` (every field) ------------------------------------------------------ */

typedef struct json_walk {
    lp_exec *r;
    lp_sb prefix; /* the sanitized key path of the enclosing objects */
} json_walk;

/* appendSanitized: a leading digit gets '_' only at the start of the path. */
static void append_sanitized(lp_sb *b, lk_str key)
{
    lp_sanitize_append(b, key, b->len == 0);
}

static lk_str read_value(lk_str v, lp_jtype t, lp_scratch *s)
{
    switch (t) {
    case LP_J_STRING:
        return lp_json_string_value(v, s);
    case LP_J_NUMBER:
        return v;
    case LP_J_BOOL:
        return v.p[0] == 't' ? LK_STR("true") : LK_STR("false");
    default:
        return LK_STR("");
    }
}

/* Returned through ObjectEach when the hints are satisfied. */
static const char *const ALL_FOUND = "all found";

static const char *set_extracted(lp_exec *r, lk_str name, lk_str value)
{
    if (name.len == 0)
        return NULL;
    return lp_lbs_parsed_kv(&r->lbs, name, value, &r->scratch) ? ALL_FOUND : NULL;
}

static const char *json_member(void *ctx, lk_str key, lk_str value, lp_jtype t)
{
    json_walk *w = ctx;
    lp_scratch *s = &w->r->scratch;
    if (t == LP_J_OBJECT) {
        size_t keep = w->prefix.len;
        if (w->prefix.len)
            lp_sb_putc(&w->prefix, '_');
        append_sanitized(&w->prefix, key);
        const char *e = NULL;
        if (lp_lbs_wants_prefix(&w->r->lbs, lp_sb_str(&w->prefix)))
            e = lp_json_object_each(value, json_member, w, s);
        w->prefix.len = keep;
        return e;
    }
    if (t != LP_J_STRING && t != LP_J_NUMBER && t != LP_J_BOOL)
        return NULL; /* arrays and nulls are skipped */
    lk_str name;
    if (w->prefix.len == 0) {
        name = lp_sanitize_key(key, s);
    } else {
        size_t keep = w->prefix.len;
        lp_sb_putc(&w->prefix, '_');
        append_sanitized(&w->prefix, key);
        name = (lk_str){ lp_strdup(s, w->prefix.p, w->prefix.len), w->prefix.len };
        w->prefix.len = keep;
    }
    return set_extracted(w->r, name, read_value(value, t, s));
}

static void json_error(lp_exec *r, const char *details)
{
    lp_lbs_set_err(&r->lbs, JSON_PARSER_ERR);
    lp_lbs_set_details(&r->lbs, details ? lk_str_c(details) : LK_STR_NULL);
}

static bool json_all_run(const lp_stage *st, lp_exec *r)
{
    (void)st;
    if (r->skip_parsers)
        return true;
    json_walk w = { .r = r };
    lp_sb_init(&w.prefix, &r->scratch, 64);
    const char *e = lp_json_object_each(r->line, json_member, &w, &r->scratch);
    if (e && e != ALL_FOUND)
        json_error(r, e);
    return true;
}

/* ---- jsonexpr: `a.b`, `a["b"]`, `a[0]` ------------------------------------------ */

typedef struct jpath_step {
    bool index;
    long idx;
    lk_str key;
} jpath_step;

typedef struct jparam {
    lk_str label;
    jpath_step *steps;
    size_t n;
} jparam;

typedef struct json_params {
    jparam *v;
    size_t n;
    char *mem; /* keys */
} json_params;

typedef enum { JT_END, JT_LSB, JT_RSB, JT_DOT, JT_FIELD, JT_STRING, JT_INDEX, JT_ERR } jtok;

typedef struct jlex {
    lk_str s;
    size_t i;
    lk_str text;
    long idx;
    char msg[64];
} jlex;

static bool jl_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static jtok jl_next(jlex *l)
{
    while (l->i < l->s.len && (l->s.p[l->i] == ' ' || l->s.p[l->i] == '\t' ||
                               l->s.p[l->i] == '\n'))
        l->i++;
    if (l->i >= l->s.len || l->s.p[l->i] == '\0')
        return JT_END;
    char c = l->s.p[l->i];
    if (c >= '0' && c <= '9') {
        long v = 0;
        size_t st = l->i;
        while (l->i < l->s.len) {
            char d = l->s.p[l->i];
            if (d == '.') {
                snprintf(l->msg, sizeof(l->msg), "cannot use float as array index");
                return JT_ERR;
            }
            if (d == ' ' || d == '\t' || d == '\n' || d == ']')
                break;
            if (d < '0' || d > '9') {
                snprintf(l->msg, sizeof(l->msg), "non-integer value: %c", d);
                return JT_ERR;
            }
            if (v < 100000000000L)
                v = v * 10 + (d - '0');
            l->i++;
        }
        if (l->i >= l->s.len) {
            snprintf(l->msg, sizeof(l->msg), "non-integer value: %c", 0);
            return JT_ERR;
        }
        l->idx = v;
        l->text = (lk_str){ l->s.p + st, l->i - st };
        return JT_INDEX;
    }
    l->i++;
    switch (c) {
    case '[': return JT_LSB;
    case ']': return JT_RSB;
    case '.': return JT_DOT;
    case '"': {
        size_t st = l->i;
        while (l->i < l->s.len && l->s.p[l->i] != '"' && l->s.p[l->i] != ']' &&
               l->s.p[l->i] != '\0')
            l->i++;
        l->text = (lk_str){ l->s.p + st, l->i - st };
        if (l->i < l->s.len && l->s.p[l->i] != '\0')
            l->i++; /* the closing '"' or ']' */
        return JT_STRING;
    }
    default:
        if (jl_ident_start(c)) {
            size_t st = l->i - 1;
            while (l->i < l->s.len && (jl_ident_start(l->s.p[l->i]) ||
                                       (l->s.p[l->i] >= '0' && l->s.p[l->i] <= '9')))
                l->i++;
            l->text = (lk_str){ l->s.p + st, l->i - st };
            return JT_FIELD;
        }
        snprintf(l->msg, sizeof(l->msg), "unexpected char %c", c);
        return JT_ERR;
    }
}

/* Parses one expression into steps (keys copied into *mem as it grows). */
static int jexpr_parse(lk_str expr, jparam *out, lk_buf *err)
{
    jlex l = { .s = expr };
    size_t cap = 0;
    out->steps = NULL;
    out->n = 0;
    bool first = true;
    const char *why = "syntax error";
    for (;;) {
        jtok t = jl_next(&l);
        if (t == JT_END && !first)
            return 0;
        jpath_step step = { 0 };
        if (t == JT_FIELD && first) {
            step.key = l.text;
        } else if (t == JT_DOT && !first) {
            if (jl_next(&l) != JT_FIELD)
                goto bad;
            step.key = l.text;
        } else if (t == JT_LSB) {
            jtok k = jl_next(&l);
            if (k == JT_STRING) {
                step.key = l.text;
            } else if (k == JT_INDEX) {
                step.index = true;
                step.idx = l.idx;
            } else {
                if (k == JT_ERR)
                    why = l.msg;
                goto bad;
            }
            jtok rsb = jl_next(&l);
            if (rsb != JT_RSB) {
                if (rsb == JT_ERR)
                    why = l.msg;
                goto bad;
            }
        } else {
            if (t == JT_ERR)
                why = l.msg;
            goto bad;
        }
        out->steps = lk_grow(out->steps, &cap, out->n + 1, sizeof(*out->steps));
        out->steps[out->n++] = step;
        first = false;
    }
bad:
    free(out->steps);
    out->steps = NULL;
    out->n = 0;
    if (err)
        lk_buf_printf(err, "cannot parse expression [%.*s]: %s", LK_STR_FMT(expr), why);
    return LK_EPARSE;
}

/* Finds member key (first occurrence) in the object at v; false when absent. */
typedef struct find_ctx {
    lk_str key;
    bool found;
    lk_str value;
    lp_jtype t;
} find_ctx;

static const char *STOP = "stop";

static const char *find_member(void *ctx, lk_str key, lk_str value, lp_jtype t)
{
    find_ctx *f = ctx;
    if (!lk_str_eq(key, f->key))
        return NULL;
    f->found = true;
    f->value = value;
    f->t = t;
    return STOP;
}

/* Walks one path; *found false when it leads nowhere. */
static const char *jpath_get(lk_str line, const jparam *jp, lp_scratch *s, bool *found,
                             lk_str *val, lp_jtype *t)
{
    size_t vs, ve;
    const char *e = lp_json_value(line, &vs, &ve, t);
    if (e)
        return e;
    lk_str cur = { line.p + vs, ve - vs };
    *found = false;
    for (size_t i = 0; i < jp->n; i++) {
        const jpath_step *st = &jp->steps[i];
        bool hit = false;
        if (st->index) {
            if (*t != LP_J_ARRAY)
                return NULL;
            e = lp_json_array_elem(cur, st->idx, &hit, &cur, t);
        } else {
            if (*t != LP_J_OBJECT)
                return NULL;
            find_ctx f = { .key = st->key };
            e = lp_json_object_each(cur, find_member, &f, s);
            if (e == STOP)
                e = NULL;
            hit = f.found;
            cur = f.value;
            *t = f.t;
        }
        if (e)
            return e;
        if (!hit)
            return NULL;
    }
    *found = true;
    *val = cur;
    return NULL;
}

static bool json_params_run(const lp_stage *stg, lp_exec *r)
{
    const json_params *jp = stg->impl;
    if (r->line.len == 0 || r->skip_parsers)
        return true;
    char c0 = r->line.p[0];
    if (c0 != '"' && c0 != '{' && c0 != '[') {
        json_error(r, NULL);
        return true;
    }
    for (size_t i = 0; i < jp->n; i++) {
        const jparam *p = &jp->v[i];
        bool found = false;
        lk_str v = LK_STR("");
        lp_jtype t = LP_J_NONE;
        const char *e = jpath_get(r->line, p, &r->scratch, &found, &v, &t);
        if (e) {
            json_error(r, e);
            found = false;
        }
        lk_str name = lp_dedup_key(&r->lbs, p->label, &r->scratch);
        if (found) {
            lk_str val = t == LP_J_STRING ? lp_json_string_value(v, &r->scratch)
                       : t == LP_J_NULL   ? LK_STR("")
                                          : v;
            lp_lbs_set(&r->lbs, LP_CAT_PARSED, name, val);
        } else {
            lk_str cur;
            if (!lp_lbs_get(&r->lbs, p->label, &cur))
                lp_lbs_set(&r->lbs, LP_CAT_PARSED, p->label, LK_STR(""));
        }
    }
    return true;
}

static void json_params_free(void *impl)
{
    json_params *jp = impl;
    if (!jp)
        return;
    for (size_t i = 0; i < jp->n; i++)
        free(jp->v[i].steps);
    free(jp->v);
    free(jp->mem);
    free(jp);
}

int lp_compile_json(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    st->kind = LOGQL_STAGE_JSON;
    if (s->u.json.n_params == 0) {
        st->run = json_all_run;
        return 0;
    }
    /* copy the expressions so the compiled stage does not borrow the AST */
    size_t bytes = 0;
    for (size_t i = 0; i < s->u.json.n_params; i++)
        bytes += s->u.json.params[i].label.len + s->u.json.params[i].expr.len + 2;
    json_params *jp = lk_calloc(1, sizeof(*jp));
    jp->v = lk_calloc(s->u.json.n_params, sizeof(*jp->v));
    jp->mem = lk_malloc(bytes ? bytes : 1);
    size_t at = 0;
    for (size_t i = 0; i < s->u.json.n_params; i++) {
        const logql_extract *x = &s->u.json.params[i];
        char *lab = jp->mem + at;
        memcpy(lab, x->label.p, x->label.len);
        lab[x->label.len] = '\0';
        at += x->label.len + 1;
        char *ex = jp->mem + at;
        memcpy(ex, x->expr.p, x->expr.len);
        ex[x->expr.len] = '\0';
        at += x->expr.len + 1;
        jp->v[i].label = (lk_str){ lab, x->label.len };
        if (jexpr_parse((lk_str){ ex, x->expr.len }, &jp->v[i], err) != 0) {
            jp->n = i;
            json_params_free(jp);
            return LK_EPARSE;
        }
        jp->n = i + 1;
    }
    st->impl = jp;
    st->free_impl = json_params_free;
    st->run = json_params_run;
    return 0;
}
