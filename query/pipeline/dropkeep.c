/* The `| drop` and `| keep` stages. drop removes the named labels (or those
 * whose value matches, `drop a="x"`), including __error__ and
 * __error_details__; keep removes every label not listed (a listed matcher
 * must match the value), and never removes the error labels. */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/matcher.h"
#include "lib/mem.h"
#include "query/pipeline/pipeline_int.h"

typedef struct named {
    lk_str name;         /* a bare name; {NULL,0} with a matcher */
    lk_matcher m;
    bool has_m;
} named;

typedef struct names_stage {
    named *v;
    size_t n;
    char *mem;
} names_stage;

static void names_free(void *impl)
{
    names_stage *ns = impl;
    if (!ns)
        return;
    for (size_t i = 0; i < ns->n; i++)
        if (ns->v[i].has_m)
            matcher_free(&ns->v[i].m);
    free(ns->v);
    free(ns->mem);
    free(ns);
}

static int names_build(const logql_stage *s, names_stage **out, lk_buf *err)
{
    names_stage *ns = lk_calloc(1, sizeof(*ns));
    size_t n = s->u.names.n, bytes = 1;
    for (size_t i = 0; i < n; i++)
        bytes += s->u.names.v[i].name.len;
    ns->v = lk_calloc(n ? n : 1, sizeof(*ns->v));
    ns->mem = lk_malloc(bytes);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const logql_named_matcher *a = &s->u.names.v[i];
        named *d = &ns->v[i];
        ns->n = i + 1;
        if (a->matcher) {
            int rc = matcher_init(&d->m, a->matcher->type, a->name,
                                  (lk_str){ a->matcher->value, a->matcher->value_len }, err);
            if (rc) {
                ns->n = i;
                names_free(ns);
                return rc;
            }
            d->has_m = true;
            continue;
        }
        memcpy(ns->mem + at, a->name.p, a->name.len);
        d->name = (lk_str){ ns->mem + at, a->name.len };
        at += a->name.len;
    }
    *out = ns;
    return 0;
}

static lk_str matcher_name(const lk_matcher *m)
{
    return (lk_str){ m->name, m->name_len };
}

static bool drop_run(const lp_stage *st, lp_exec *r)
{
    const names_stage *ns = st->impl;
    lp_lbs *b = &r->lbs;
    for (size_t i = 0; i < ns->n; i++) {
        const named *d = &ns->v[i];
        lk_str name = d->has_m ? matcher_name(&d->m) : d->name;
        bool is_err = lk_str_eq(name, LP_ERROR_LABEL);
        bool is_details = lk_str_eq(name, LP_ERROR_DETAILS_LABEL);
        if (!d->has_m) {
            if (is_err)
                lp_lbs_set_err(b, LK_STR_NULL);
            else if (is_details)
                lp_lbs_set_details(b, LK_STR_NULL);
            else {
                lk_str v;
                if (lp_lbs_get(b, name, &v))
                    lp_lbs_del(b, name);
            }
            continue;
        }
        if (is_err) {
            if (matcher_matches(&d->m, b->has_err ? b->err : LK_STR("")))
                lp_lbs_set_err(b, LK_STR_NULL);
            continue;
        }
        if (is_details) {
            if (matcher_matches(&d->m, b->has_details ? b->err_details : LK_STR("")))
                lp_lbs_set_details(b, LK_STR_NULL);
            continue;
        }
        lk_str v;
        if (!lp_lbs_get(b, name, &v))
            v = LK_STR("");
        if (matcher_matches(&d->m, v))
            lp_lbs_del(b, name);
    }
    return true;
}

static bool keeps(const names_stage *ns, lk_str name, lk_str value)
{
    for (size_t i = 0; i < ns->n; i++) {
        const named *d = &ns->v[i];
        if (d->has_m) {
            if (lk_str_eq(matcher_name(&d->m), name) && matcher_matches(&d->m, value))
                return true;
        } else if (lk_str_eq(d->name, name)) {
            return true;
        }
    }
    return false;
}

static bool keep_run(const lp_stage *st, lp_exec *r)
{
    const names_stage *ns = st->impl;
    if (ns->n == 0)
        return true;
    lp_lbl *all = lp_alloc(&r->scratch, lp_lbs_count_max(&r->lbs) * sizeof(*all));
    size_t n = lp_lbs_collect(&r->lbs, all);
    for (size_t i = 0; i < n; i++) {
        if (lk_str_eq(all[i].name, LP_ERROR_LABEL) ||
            lk_str_eq(all[i].name, LP_ERROR_DETAILS_LABEL))
            continue;
        if (!keeps(ns, all[i].name, all[i].value))
            lp_lbs_del(&r->lbs, all[i].name);
    }
    return true;
}

static int compile_names(const logql_stage *s, lp_stage *st, lp_stage_fn fn, lk_buf *err)
{
    names_stage *ns;
    int rc = names_build(s, &ns, err);
    if (rc)
        return rc;
    st->kind = s->kind;
    st->run = fn;
    st->impl = ns;
    st->free_impl = names_free;
    return 0;
}

int lp_compile_drop(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    return compile_names(s, st, drop_run, err);
}

int lp_compile_keep(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    return compile_names(s, st, keep_run, err);
}
