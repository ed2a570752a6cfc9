/* libFuzzer driver for the LogQL front end: arbitrary text must never crash,
 * read out of bounds or leak. When it parses, the canonical form must parse
 * again (without the semantic checks being able to fail: they passed once)
 * and print identically; and every filter-only pipeline must compile into a
 * line filter chain and run over a few lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "query/ast.h"
#include "query/linefilter.h"
#include "query/parser.h"

static void run_filters(const logql_expr *e)
{
    const logql_log_selector *sel = logql_expr_selector(e);
    if (!sel || !logql_pipeline_is_filter_only(sel->stages, sel->n_stages))
        return;
    lf_chain *c = NULL;
    lk_buf err = { 0 };
    if (lf_chain_compile(sel->stages, sel->n_stages, &c, &err) == 0) {
        static const char *const lines[] = {
            "", "\n", "10.1.2.3 - alice GET /x", "level=error msg=\"FATAL: boom\"",
            "2001:db8::1 ::ffff:10.0.0.1", "日本語 <_> foo bar",
        };
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
            (void)lf_chain_match(c, lk_str_c(lines[i]));
        const lk_str *req;
        size_t n = lf_chain_required(c, &req);
        for (size_t i = 0; i < n; i++)
            if (req[i].len == 0)
                abort();
        lf_chain_free(c);
    }
    lk_buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    logql_expr *e = NULL, *again = NULL;
    lk_buf err = { 0 }, first = { 0 }, second = { 0 };
    if (logql_parse(lk_str_n((const char *)data, size), &e, &err) != 0) {
        if (err.len == 0)
            abort(); /* every failure says why */
        goto out;
    }
    logql_format(e, &first);
    if (first.len >= LOGQL_MAX_QUERY_BYTES)
        goto out; /* escapes can make the canonical form longer than allowed */
    lk_buf_reset(&err);
    if (logql_parse(lk_buf_str(&first), &again, &err) != 0) {
        fprintf(stderr, "canonical form does not parse:\n  %s\n  %s\n", first.p, err.p);
        abort();
    }
    logql_format(again, &second);
    if (!lk_str_eq(lk_buf_str(&first), lk_buf_str(&second))) {
        fprintf(stderr, "canonical form is not stable:\n  %s\n  %s\n", first.p, second.p);
        abort();
    }
    run_filters(e);
out:
    logql_expr_free(e);
    logql_expr_free(again);
    lk_buf_free(&err);
    lk_buf_free(&first);
    lk_buf_free(&second);
    return 0;
}
