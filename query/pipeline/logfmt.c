/* The `| logfmt` stage: Loki's logfmt decoder (a go-logfmt fork) over the
 * line, each key sanitized into a label (`_extracted` on a clash with a
 * stream label). Non-strict by default (Loki 2.9): a malformed pair is
 * skipped; --strict stops at the first error and sets
 * __error__=LogfmtParserErr; --keep-empty keeps keys without a value.
 * With parameters (`| logfmt a, b="key"`) only the named keys are taken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/utf8.h"
#include "query/pipeline/pipeline_int.h"

static const lk_str LOGFMT_PARSER_ERR = { "LogfmtParserErr", 15 };

/* ---- the decoder ---------------------------------------------------------------- */

typedef struct lfdec {
    lk_str line;
    size_t pos;
    lk_str key, value;
    bool failed;
    char err[96];
    lp_scratch *s;
} lfdec;

static void dec_reset(lfdec *d, lk_str line, lp_scratch *s)
{
    memset(d, 0, sizeof(*d));
    d->line = line;
    d->s = s;
}

static bool dec_eol(const lfdec *d)
{
    return d->pos >= d->line.len;
}

static void syntax_error(lfdec *d, const char *msg)
{
    d->failed = true;
    snprintf(d->err, sizeof(d->err), "logfmt syntax error at pos %zu : %s", d->pos + 1, msg);
}

static void unexpected_byte(lfdec *d, unsigned char c)
{
    char m[32];
    if (c == '\'')
        snprintf(m, sizeof(m), "unexpected '\\''");
    else
        snprintf(m, sizeof(m), "unexpected '%c'", c);
    syntax_error(d, m);
}

/* \uXXXX at in[at], or -1. */
static long u4(lk_str in, size_t at)
{
    if (at + 6 > in.len || in.p[at] != '\\' || in.p[at + 1] != 'u')
        return -1;
    long v = 0;
    for (size_t i = at + 2; i < at + 6; i++) {
        char c = in.p[i];
        int h = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* go-logfmt's unquoteBytes (JSON-style escapes) of a quoted value. */
static bool unquote(lk_str q, lp_scratch *s, lk_str *out)
{
    lk_str in = { q.p + 1, q.len - 2 };
    char *o = lp_alloc(s, in.len * 3 + 4);
    size_t w = 0;
    for (size_t r = 0; r < in.len;) {
        unsigned char c = (unsigned char)in.p[r];
        if (c == '\\') {
            r++;
            if (r >= in.len)
                return false;
            char e = in.p[r];
            switch (e) {
            case '"': case '\\': case '/': case '\'':
                o[w++] = e; r++; continue;
            case 'b': o[w++] = '\b'; r++; continue;
            case 'f': o[w++] = '\f'; r++; continue;
            case 'n': o[w++] = '\n'; r++; continue;
            case 'r': o[w++] = '\r'; r++; continue;
            case 't': o[w++] = '\t'; r++; continue;
            case 'u': {
                long rr = u4(in, r - 1);
                if (rr < 0)
                    return false;
                r += 5;
                if (rr >= 0xd800 && rr <= 0xdfff) {
                    long r2 = u4(in, r);
                    if (rr <= 0xdbff && r2 >= 0xdc00 && r2 <= 0xdfff) {
                        rr = (((rr - 0xd800) << 10) | (r2 - 0xdc00)) + 0x10000;
                        r += 6;
                    } else {
                        rr = 0xfffd;
                    }
                }
                w += lk_utf8_encode(o + w, (uint32_t)rr);
                continue;
            }
            default:
                return false;
            }
        }
        if (c == '"')
            return false;
        o[w++] = (char)c;
        r++;
    }
    *out = (lk_str){ o, w };
    return true;
}

/* ScanKeyval: true with key (and maybe value) set; false at the end or on
 * an error (d->failed). */
static bool dec_scan(lfdec *d)
{
    const unsigned char *p = (const unsigned char *)d->line.p;
    size_t n = d->line.len;
    d->key = d->value = LK_STR_NULL;
    while (d->pos < n && p[d->pos] <= ' ')
        d->pos++;
    if (d->pos >= n)
        return false;

    size_t start = d->pos;
    bool multibyte = false;
    for (; d->pos < n; d->pos++) {
        unsigned char c = p[d->pos];
        if (c == '=') {
            if (d->pos > start) {
                d->key = (lk_str){ d->line.p + start, d->pos - start };
                if (multibyte && !lp_utf8_clean(d->key)) {
                    syntax_error(d, "invalid key");
                    goto skip_value;
                }
            }
            if (!d->key.p) {
                unexpected_byte(d, c);
                goto skip_value;
            }
            goto equal;
        }
        if (c == '"') {
            unexpected_byte(d, c);
            goto skip_value;
        }
        if (c <= ' ') {
            d->key = (lk_str){ d->line.p + start, d->pos - start };
            if (multibyte && !lp_utf8_clean(d->key)) {
                syntax_error(d, "invalid key");
                return false;
            }
            return true;
        }
        if (c >= 0x80)
            multibyte = true;
    }
    d->key = (lk_str){ d->line.p + start, d->pos - start };
    if (multibyte && !lp_utf8_clean(d->key)) {
        syntax_error(d, "invalid key");
        return false;
    }
    return true;

equal:
    d->pos++;
    if (d->pos >= n)
        return true;
    if (p[d->pos] <= ' ')
        return true;
    if (p[d->pos] == '"')
        goto qvalue;
    start = d->pos;
    for (; d->pos < n; d->pos++) {
        unsigned char c = p[d->pos];
        if (c == '=' || c == '"') {
            unexpected_byte(d, c);
            goto skip_value;
        }
        if (c <= ' ')
            break;
    }
    if (d->pos > start)
        d->value = (lk_str){ d->line.p + start, d->pos - start };
    return true;

skip_value:
    while (d->pos < n && p[d->pos] > ' ')
        d->pos++;
    return false;

qvalue:
    start = d->pos;
    {
        bool has_esc = false, esc = false;
        for (size_t i = d->pos + 1; i < n; i++) {
            unsigned char c = p[i];
            if (esc) {
                esc = false;
            } else if (c == '\\') {
                has_esc = esc = true;
            } else if (c == '"') {
                d->pos = i + 1;
                lk_str q = { d->line.p + start, d->pos - start };
                if (has_esc) {
                    lk_str v;
                    if (!unquote(q, d->s, &v)) {
                        syntax_error(d, "invalid quoted value");
                        return false;
                    }
                    d->value = v;
                } else if (q.len > 2) {
                    d->value = (lk_str){ q.p + 1, q.len - 2 };
                }
                return true;
            }
        }
    }
    d->pos = n;
    syntax_error(d, "unterminated quoted value");
    return false;
}

/* ---- the stage ------------------------------------------------------------------------ */

typedef struct lf_param {
    lk_str label, key;
} lf_param;

typedef struct logfmt_stage {
    bool strict, keep_empty;
    lf_param *params;
    size_t n_params;
    char *mem;
} logfmt_stage;

static void logfmt_error(lp_exec *r, const lfdec *d)
{
    lp_lbs_set_err(&r->lbs, LOGFMT_PARSER_ERR);
    size_t n = strlen(d->err);
    lp_lbs_set_details(&r->lbs, (lk_str){ lp_strdup(&r->scratch, d->err, n), n });
}

static lk_str clean_value(lk_str v)
{
    /* the replacement rune is rejected by Prometheus: such values become empty */
    if (v.len && !lp_utf8_clean(v))
        return LK_STR("");
    return v.p ? v : LK_STR("");
}

static bool logfmt_all_run(const logfmt_stage *ls, lp_exec *r)
{
    lfdec d;
    dec_reset(&d, r->line, &r->scratch);
    while (!dec_eol(&d)) {
        if (!dec_scan(&d)) {
            if (ls->strict && d.failed)
                break;
            d.failed = false;
            continue;
        }
        lk_str key = lp_sanitize_key(d.key, &r->scratch);
        if (key.len == 0)
            continue;
        lk_str val = clean_value(d.value);
        if (!ls->keep_empty && val.len == 0)
            continue;
        if (key.len >= 9 && key.p[0] == '_' && key.p[1] == '_' &&
            (lk_str_eq(key, LP_ERROR_LABEL) || lk_str_eq(key, LP_ERROR_DETAILS_LABEL)))
            continue;
        if (lp_lbs_parsed_kv(&r->lbs, key, val, &r->scratch))
            return true; /* everything the query needs is known */
    }
    if (ls->strict && d.failed)
        logfmt_error(r, &d);
    return true;
}

static bool logfmt_params_run(const logfmt_stage *ls, lp_exec *r)
{
    for (size_t i = 0; i < ls->n_params; i++)
        if (!lp_lbs_base_has(&r->lbs, ls->params[i].label))
            lp_lbs_set(&r->lbs, LP_CAT_PARSED, ls->params[i].label, LK_STR(""));
    lfdec d;
    dec_reset(&d, r->line, &r->scratch);
    while (!dec_eol(&d)) {
        if (!dec_scan(&d)) {
            if (ls->strict && d.failed)
                break;
            d.failed = false;
            continue;
        }
        lk_str key = lp_sanitize_key(d.key, &r->scratch);
        if (key.len == 0)
            continue;
        lk_str label = LK_STR_NULL;
        for (size_t i = 0; i < ls->n_params && !label.p; i++)
            if (lk_str_eq(ls->params[i].key, key))
                label = ls->params[i].label;
        for (size_t i = 0; i < ls->n_params && !label.p; i++)
            if (lk_str_eq(ls->params[i].label, key))
                label = key;
        if (!label.p)
            continue;
        label = lp_dedup_key(&r->lbs, label, &r->scratch);
        lp_lbs_set(&r->lbs, LP_CAT_PARSED, label, clean_value(d.value));
    }
    if (ls->strict && d.failed)
        logfmt_error(r, &d);
    return true;
}

static bool logfmt_run(const lp_stage *st, lp_exec *r)
{
    const logfmt_stage *ls = st->impl;
    if (r->skip_parsers)
        return true;
    return ls->n_params ? logfmt_params_run(ls, r) : logfmt_all_run(ls, r);
}

static void logfmt_free(void *impl)
{
    logfmt_stage *ls = impl;
    if (!ls)
        return;
    free(ls->params);
    free(ls->mem);
    free(ls);
}

int lp_compile_logfmt(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    (void)err;
    logfmt_stage *ls = lk_calloc(1, sizeof(*ls));
    ls->strict = s->u.logfmt.strict;
    ls->keep_empty = s->u.logfmt.keep_empty;
    size_t n = s->u.logfmt.n_params, bytes = 1;
    for (size_t i = 0; i < n; i++)
        bytes += s->u.logfmt.params[i].label.len + s->u.logfmt.params[i].expr.len;
    ls->params = lk_calloc(n ? n : 1, sizeof(*ls->params));
    ls->mem = lk_malloc(bytes);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const logql_extract *x = &s->u.logfmt.params[i];
        memcpy(ls->mem + at, x->label.p, x->label.len);
        ls->params[i].label = (lk_str){ ls->mem + at, x->label.len };
        at += x->label.len;
        memcpy(ls->mem + at, x->expr.p, x->expr.len);
        ls->params[i].key = (lk_str){ ls->mem + at, x->expr.len };
        at += x->expr.len;
    }
    ls->n_params = n;
    st->kind = LOGQL_STAGE_LOGFMT;
    st->run = logfmt_run;
    st->impl = ls;
    st->free_impl = logfmt_free;
    return 0;
}

/* ---- push-time field lookup ------------------------------------------------------------- */

bool lp_logfmt_find(lk_str line, const lk_str *keys, size_t n_keys, lp_scratch *s,
                    lk_str *value)
{
    lfdec d;
    dec_reset(&d, line, s);
    size_t best = n_keys;
    while (!dec_eol(&d) && dec_scan(&d)) {
        for (size_t x = 0; x < best; x++) {
            if (!lk_str_eq_fold(d.key, keys[x]))
                continue;
            *value = d.value.p ? d.value : LK_STR("");
            best = x;
            break;
        }
        if (best == 0)
            break;
    }
    return best < n_keys;
}

/* ---- every pair (the pattern ingester's logfmt tokenizer) ------------------------------- */

bool lp_logfmt_each(lk_str line, lp_scratch *s, void (*fn)(void *ctx, lk_str key, lk_str value),
                    void *ctx)
{
    lfdec d;
    dec_reset(&d, line, s);
    while (!dec_eol(&d) && dec_scan(&d))
        fn(ctx, d.key, d.value.p ? d.value : LK_STR(""));
    return !d.failed;
}
