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
#include "lib/regex.h"
#include "query/logql/ast.h"
#include "query/pipeline/linefilter.h"
#include "query/logql/parser.h"
#include "tests/fuzz/fuzz.h"

static const char *const sample_lines[] = {
    "", "\n", "10.1.2.3 - alice GET /x", "level=error msg=\"FATAL: boom\"",
    "2001:db8::1 ::ffff:10.0.0.1", "\xe6\x97\xa5\xe6\x9c\xac <_> foo bar", "a\nb", "\xff\xfe",
    "warn Error fatal KELVIN \xe2\x84\xaa", "foobar bazqux", "abcabc",
};
#define N_SAMPLES (sizeof(sample_lines) / sizeof(sample_lines[0]))

/* A |~ / !~ filter compiled by lf_compile (possibly simplified into
 * substring tests) must agree with the regex engine on every sample line. */
static void check_regex_simplifier(const logql_line_filter *f)
{
    if ((f->type != LOGQL_LF_REGEX && f->type != LOGQL_LF_NOT_REGEX) || f->n_alts != 1)
        return;
    lf_matcher *m = NULL;
    lk_regex *re = NULL;
    if (lf_compile(f, &m, NULL) != 0 || lk_regex_compile(f->alts[0].value, 0, &re, NULL) != 0) {
        lf_free(m);
        lk_regex_free(re);
        return;
    }
    for (size_t i = 0; i < N_SAMPLES; i++) {
        lk_str line = lk_str_c(sample_lines[i]);
        bool want = lk_regex_match(re, line) != (f->type == LOGQL_LF_NOT_REGEX);
        if (lf_match(m, line) != want) {
            fprintf(stderr, "simplified regex %.*s disagrees on line %zu\n",
                    LK_STR_FMT(f->alts[0].value), i);
            abort();
        }
    }
    lf_free(m);
    lk_regex_free(re);
}

static void run_filters(const logql_expr *e)
{
    const logql_log_selector *sel = logql_expr_selector(e);
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n_stages; i++)
        if (sel->stages[i].kind == LOGQL_STAGE_LINE_FILTER)
            check_regex_simplifier(&sel->stages[i].u.line_filter);
    if (!logql_pipeline_is_filter_only(sel->stages, sel->n_stages))
        return;
    lf_chain *c = NULL;
    lk_buf err = { 0 };
    if (lf_chain_compile(sel->stages, sel->n_stages, &c, &err) == 0) {
        for (size_t i = 0; i < N_SAMPLES; i++)
            (void)lf_chain_match(c, lk_str_c(sample_lines[i]));
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
