/* The `| regexp "..."` stage: the named groups of the leftmost match become
 * labels (a group that took no part gives ""); no match adds nothing. Also
 * the stage's rules (lf_regexp_stage_check), which the parser checks too. */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/mem.h"
#include "lib/regex.h"
#include "query/pipeline/linefilter.h"
#include "query/pipeline/pipeline_int.h"

typedef struct regexp_stage {
    lk_regex *re;
    int n_groups;       /* capture groups, not counting group 0 */
    lk_str *names;      /* by group index - 1; {NULL,0} for unnamed groups */
    char *mem;
} regexp_stage;

typedef struct names_ctx {
    regexp_stage *rs;
    size_t at;
} names_ctx;

static int take_name(void *ctx, int group, lk_str name)
{
    names_ctx *c = ctx;
    if (group < 1 || group > c->rs->n_groups)
        return 0;
    memcpy(c->rs->mem + c->at, name.p, name.len);
    c->rs->names[group - 1] = (lk_str){ c->rs->mem + c->at, name.len };
    c->at += name.len;
    return 0;
}

static int count_bytes(void *ctx, int group, lk_str name)
{
    (void)group;
    *(size_t *)ctx += name.len;
    return 0;
}

static bool regexp_run(const lp_stage *st, lp_exec *r)
{
    const regexp_stage *rs = st->impl;
    if (r->skip_parsers)
        return true;
    int pairs = rs->n_groups + 1;
    long small[64];
    long *ov = pairs * 2 <= 64 ? small : lp_alloc(&r->scratch, (size_t)pairs * 2 * sizeof(long));
    int got = lk_regex_exec(rs->re, r->line, 0, ov, pairs);
    if (got <= 0)
        return true;
    for (int g = 1; g < pairs; g++) {
        lk_str name = rs->names[g - 1];
        if (!name.p)
            continue;
        lk_str v = LK_STR("");
        if (g < got && ov[2 * g] >= 0)
            v = (lk_str){ r->line.p + ov[2 * g], (size_t)(ov[2 * g + 1] - ov[2 * g]) };
        if (lp_lbs_parsed_kv(&r->lbs, name, v, &r->scratch))
            break;
    }
    return true;
}

static void regexp_free(void *impl)
{
    regexp_stage *rs = impl;
    if (!rs)
        return;
    lk_regex_free(rs->re);
    free(rs->names);
    free(rs->mem);
    free(rs);
}

int lp_compile_regexp(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    lk_buf why = { 0 };
    if (lf_regexp_stage_check(s->u.regexp, &why) != 0) {
        if (err)
            lk_buf_printf(err, "invalid regexp parser: %s", why.p ? why.p : "invalid expression");
        lk_buf_free(&why);
        return LK_EPARSE;
    }
    lk_buf_free(&why);
    regexp_stage *rs = lk_calloc(1, sizeof(*rs));
    int rc = lk_regex_compile(s->u.regexp, 0, &rs->re, err);
    if (rc) {
        regexp_free(rs);
        return rc;
    }
    rs->n_groups = lk_regex_group_count(rs->re);
    rs->names = lk_calloc((size_t)rs->n_groups + 1, sizeof(*rs->names));
    size_t bytes = 1;
    lk_regex_named_groups(rs->re, count_bytes, &bytes);
    rs->mem = lk_malloc(bytes);
    names_ctx c = { rs, 0 };
    lk_regex_named_groups(rs->re, take_name, &c);
    st->kind = LOGQL_STAGE_REGEXP;
    st->run = regexp_run;
    st->impl = rs;
    st->free_impl = regexp_free;
    return 0;
}

/* ---- the stage's rules ---------------------------------------------------------- */

typedef struct group_names {
    lk_str *v;
    int n;
} group_names;

static int collect_name(void *ctx, int group, lk_str name)
{
    group_names *g = ctx;
    if (group >= 1 && group <= g->n)
        g->v[group - 1] = name;
    return 0;
}

int lf_regexp_stage_check(lk_str re, lk_buf *err)
{
    lk_regex *rx;
    int rc = lk_regex_compile(re, 0, &rx, err);
    if (rc)
        return rc;
    int n = lk_regex_group_count(rx);
    if (n == 0) {
        lk_regex_free(rx);
        if (err)
            lk_buf_puts(err, "at least one named capture must be supplied");
        return LK_EPARSE;
    }
    group_names g = { lk_calloc((size_t)n, sizeof(lk_str)), n };
    lk_regex_named_groups(rx, collect_name, &g);
    rc = 0;
    int named = 0;
    for (int i = 0; i < n && !rc; i++) {
        if (g.v[i].len == 0)
            continue; /* unnamed groups extract nothing */
        named++;
        if (!labels_valid_name(g.v[i])) {
            if (err)
                lk_buf_printf(err, "invalid extracted label name '%.*s'", LK_STR_FMT(g.v[i]));
            rc = LK_EPARSE;
            break;
        }
        for (int j = 0; j < i; j++) {
            if (lk_str_eq(g.v[j], g.v[i])) {
                if (err)
                    lk_buf_printf(err, "duplicate extracted label name '%.*s'",
                                  LK_STR_FMT(g.v[i]));
                rc = LK_EPARSE;
                break;
            }
        }
    }
    if (!rc && named == 0) {
        if (err)
            lk_buf_puts(err, "at least one named capture must be supplied");
        rc = LK_EPARSE;
    }
    free(g.v);
    lk_regex_free(rx);
    return rc;
}
