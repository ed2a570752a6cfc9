/* The `| unpack` stage (the inverse of promtail's pack): a JSON object whose
 * `_entry` string replaces the line and whose other string members become
 * labels. An object without `_entry` changes nothing (Loki 2.9); a line
 * that is not an object sets __error__=JSONParserErr. */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/pipeline/pipeline_int.h"

static const lk_str JSON_PARSER_ERR = { "JSONParserErr", 13 };
static const lk_str PACKED_ENTRY_KEY = { "_entry", 6 };

typedef struct unpack_ctx {
    lp_exec *r;
    lp_lbl *kv;        /* string members other than _entry, in scratch */
    size_t n, cap;
    bool packed;
    lk_str entry;
} unpack_ctx;

static const char *unpack_member(void *ctx, lk_str key, lk_str value, lp_jtype t)
{
    unpack_ctx *u = ctx;
    lp_scratch *s = &u->r->scratch;
    if (t != LP_J_STRING)
        return NULL;
    if (lk_str_eq(key, PACKED_ENTRY_KEY)) {
        if (!lp_json_unescape(value, s, &u->entry))
            return LP_JERR_BAD_ESCAPE;
        u->packed = true;
        return NULL;
    }
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 16;
        lp_lbl *kv = lp_alloc(s, cap * sizeof(*kv));
        if (u->n)
            memcpy(kv, u->kv, u->n * sizeof(*kv));
        u->kv = kv;
        u->cap = cap;
    }
    u->kv[u->n++] = (lp_lbl){ key, value, LP_CAT_PARSED };
    return NULL;
}

static void unpack_error(lp_exec *r, const char *details)
{
    lp_lbs_set_err(&r->lbs, JSON_PARSER_ERR);
    lp_lbs_set_details(&r->lbs, lk_str_c(details));
}

static bool unpack_run(const lp_stage *st, lp_exec *r)
{
    (void)st;
    if (r->line.len == 0 || r->skip_parsers)
        return true;
    if (r->line.p[0] != '{') {
        unpack_error(r, "expecting json object(6), but it is not");
        return true;
    }
    unpack_ctx u = { .r = r };
    const char *e = lp_json_object_each(r->line, unpack_member, &u, &r->scratch);
    if (e) {
        unpack_error(r, e);
        return true;
    }
    if (!u.packed)
        return true;
    for (size_t i = 0; i < u.n; i++) {
        lk_str key = lp_sanitize_key(u.kv[i].name, &r->scratch);
        if (key.len == 0 || lk_str_eq(key, LP_ERROR_LABEL) ||
            lk_str_eq(key, LP_ERROR_DETAILS_LABEL))
            continue;
        key = lp_dedup_key(&r->lbs, key, &r->scratch);
        lp_lbs_set(&r->lbs, LP_CAT_PARSED, key, lp_json_string_value(u.kv[i].value, &r->scratch));
    }
    r->line = u.entry;
    return true;
}

int lp_compile_unpack(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    (void)s;
    (void)err;
    st->kind = LOGQL_STAGE_UNPACK;
    st->run = unpack_run;
    return 0;
}
