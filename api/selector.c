/* Stream selectors of the metadata endpoints, parsed with the LogQL parser;
 * the matchers are copied out so the parse tree can go. */
#include "api/selector.h"

#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/logql/ast.h"
#include "query/logql/parser.h"

int api_parse_selector(lk_str text, bool allow_empty, api_matchers *out, lk_buf *err)
{
    lk_str t = lk_str_trim(text);
    *out = (api_matchers){ 0 };
    if (allow_empty && lk_str_eq_c(t, "{}"))
        return LK_OK;
    logql_expr *e = NULL;
    int rc = logql_parse(t, &e, err);
    if (rc)
        return rc;
    const logql_log_selector *sel = e->kind == LOGQL_EXPR_LOG ? &e->u.log : NULL;
    if (!sel) {
        lk_buf_puts(err, "only label matchers are supported");
        logql_expr_free(e);
        return LK_EPARSE;
    }
    out->v = lk_calloc(sel->n_matchers ? sel->n_matchers : 1, sizeof *out->v);
    for (size_t i = 0; i < sel->n_matchers; i++) {
        const lk_matcher *m = &sel->matchers[i];
        rc = matcher_init(&out->v[i], m->type, lk_str_n(m->name, m->name_len),
                          lk_str_n(m->value, m->value_len), err);
        if (rc)
            break;
        out->n++;
    }
    logql_expr_free(e);
    if (rc)
        api_matchers_free(out);
    return rc;
}

void api_matchers_free(api_matchers *m)
{
    for (size_t i = 0; i < m->n; i++)
        matcher_free(&m->v[i]);
    free(m->v);
    *m = (api_matchers){ 0 };
}
