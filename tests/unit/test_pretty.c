/* Unit tests: query/logql/pretty.c (format_query's Prettify), with Loki's own
 * cases (pkg/logql/syntax/prettier_test.go, width 20) and width-100 ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "lib/err.h"
#include "query/logql/ast.h"
#include "query/logql/parser.h"

static void check(const char *in, size_t width, const char *want)
{
    logql_expr *e = NULL;
    lk_buf err = { 0 }, out = { 0 };
    if (logql_parse(lk_str_c(in), &e, &err) != LK_OK)
        fail_msg("parse %s: %s", in, err.p);
    logql_prettify_width(e, width, &out);
    if (strcmp(out.p, want) != 0)
        fail_msg("prettify %s:\n--- got\n%s\n--- want\n%s", in, out.p, want);
    /* the pretty form parses back to the same query */
    logql_expr *again = NULL;
    lk_buf a = { 0 }, b = { 0 };
    if (logql_parse(lk_buf_str(&out), &again, &err) != LK_OK)
        fail_msg("pretty form does not parse: %s: %s", out.p, err.p);
    logql_format(e, &a);
    logql_format(again, &b);
    assert_string_equal(a.p, b.p);
    logql_expr_free(e);
    logql_expr_free(again);
    lk_buf_free(&err);
    lk_buf_free(&out);
    lk_buf_free(&a);
    lk_buf_free(&b);
}

static void test_loki_cases(void **state)
{
    (void)state;
    check("{job=\"loki\", instance=\"localhost\"}", 20, "{job=\"loki\", instance=\"localhost\"}");
    check("{job=\"loki\", instance=\"localhost\"}|logfmt|level=\"error\" ", 20,
          "{job=\"loki\", instance=\"localhost\"}\n  | logfmt\n  | level=\"error\"");
    check("count_over_time({job=\"loki\", instance=\"localhost\"}|logfmt[1m])", 20,
          "count_over_time(\n  {job=\"loki\", instance=\"localhost\"}\n    | logfmt [1m]\n)");
    check("count_over_time({job=\"loki\", instance=\"localhost\"}|= \"error\" != \"memcached\" "
          "|= ip(\"192.168.0.1\") |logfmt[1m])", 20,
          "count_over_time(\n  {job=\"loki\", instance=\"localhost\"}\n    |= \"error\"\n"
          "    != \"memcached\"\n    |= ip(\"192.168.0.1\")\n    | logfmt [1m]\n)");
}

static void test_width_100(void **state)
{
    (void)state;
    check("{app=\"api\"} |= \"error\"", 100, "{app=\"api\"} |= \"error\"");
    /* short line-filter chains stay on one line inside a split pipeline */
    check("{app=\"api\", cluster=\"prod-eu\", namespace=\"shop\"} |= \"error\" != \"timeout\" | logfmt "
          "| status >= 500 | line_format \"{{.method}} {{.path}}\"",
          100,
          "{app=\"api\", cluster=\"prod-eu\", namespace=\"shop\"}\n  |= \"error\" != \"timeout\"\n"
          "  | logfmt\n  | status>=500\n  | line_format \"{{.method}} {{.path}}\"");
    check("sum by (cluster) (count_over_time({app=\"api\"} |= \"error\" [10m])) / on (cluster) "
          "sum by (cluster) (count_over_time({app=\"api\"}[10m]))",
          100,
          "  sum by (cluster)(count_over_time({app=\"api\"} |= \"error\"[10m]))\n"
          "/ on (cluster) \n  sum by (cluster)(count_over_time({app=\"api\"}[10m]))");
    check("sum by (cluster, namespace, app, pod, container, job) (quantile_over_time(0.99, "
          "{app=\"api\", cluster=\"prod-eu\"} | logfmt | unwrap duration(duration) | __error__=\"\" [5m]))",
          100,
          "sum by (cluster, namespace, app, pod, container, job)(\n  quantile_over_time(\n    0.99,\n"
          "    {app=\"api\", cluster=\"prod-eu\"} | logfmt\n      | unwrap duration(duration)\n"
          "      | __error__=\"\" [5m]\n  )\n)");
}

/* Loki's Test_VariantsExpr_Pretty: split whatever the width */
static void test_variants(void **state)
{
    (void)state;
    check("variants(count_over_time({foo=\"bar\"}[5m])) of ({foo=\"bar\"}[5m])", 100,
          "variants(\n  count_over_time({foo=\"bar\"}[5m])\n) of (\n  {foo=\"bar\"} [5m]\n)");
    check("variants(count_over_time({baz=\"qux\", foo=~\"bar\"}[5m]), bytes_over_time({baz=\"qux\", "
          "foo=~\"bar\"}[5m])) of ({baz=\"qux\", foo=~\"bar\"} | logfmt | this = \"that\"[5m])",
          100,
          "variants(\n  count_over_time({baz=\"qux\", foo=~\"bar\"}[5m]),\n"
          "  bytes_over_time({baz=\"qux\", foo=~\"bar\"}[5m])\n) of (\n"
          "  {baz=\"qux\", foo=~\"bar\"} | logfmt | this=\"that\" [5m]\n)");
    /* an unwrap goes to its own line; the offset follows the range */
    check("variants(sum_over_time({a=\"b\"} | unwrap n [1m])) of ({a=\"b\"} | unwrap n [1m] "
          "offset 2h)",
          100,
          "variants(\n  sum_over_time({a=\"b\"} | unwrap n[1m])\n) of (\n  {a=\"b\"}\n"
          "    | unwrap n [1m] offset 2h\n)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loki_cases),
        cmocka_unit_test(test_width_100),
        cmocka_unit_test(test_variants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
