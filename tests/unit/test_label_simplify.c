/* Unit tests: query/pipeline/label_simplify.c, the label-filter regexes
 * Loki's simplifier turns into equality and substring tests (shapes from
 * Loki's filter.go, Go's parser factoring and grafana/loki#23892), and the
 * ones left to the anchored regex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "query/pipeline/label_simplify.h"

/* Does value pass `| l=~"re"`, re simplified (it must be)? */
static bool simple_match(const char *re, const char *value)
{
    lf_lsimple *f = NULL;
    if (!lf_label_regex_simplify(lk_str_c(re), &f))
        fail_msg("%s: expected Loki's simplifier to accept it", re);
    bool m = lf_lsimple_match(f, lk_str_c(value));
    lf_lsimple_free(f);
    return m;
}

static bool simplified(const char *re)
{
    lf_lsimple *f = NULL;
    bool ok = lf_label_regex_simplify(lk_str_c(re), &f);
    lf_lsimple_free(f);
    return ok;
}

/* Regression (conformance3 sm.trace.re): Loki 3.6 answers
 * `| trace_id=~"a.*"` with every trace id that contains an "a"; lokic
 * anchored the regex and kept only those starting with one. */
static void test_one_sided_star_is_contains(void **state)
{
    (void)state;
    assert_true(simple_match("a.*", "19a91ab9"));
    assert_true(simple_match("a.*", "abc"));
    assert_false(simple_match("a.*", "1991"));
    assert_true(simple_match(".*al", "prealpha"));
    assert_true(simple_match(".*al.*", "xalx"));
    assert_false(simple_match("al.*", ""));
}

static void test_literal_and_alternation_are_equality(void **state)
{
    (void)state;
    assert_true(simple_match("foo", "foo"));
    assert_false(simple_match("foo", "foobar"));
    assert_true(simple_match("(foo)", "foo"));
    assert_true(simple_match("foo|bar", "bar"));
    assert_false(simple_match("foo|bar", "xbar"));
    assert_true(simple_match("(foo)|(foobar)", "foobar"));
    assert_false(simple_match("(foo)|(foobar)", "foobarx"));
}

/* Go's parser factors a shared leading literal into a concatenation, which
 * Loki's simplifier reads as substring tests. */
static void test_factored_alternation_is_contains(void **state)
{
    (void)state;
    assert_true(simple_match("warn|warning", "prewarn"));
    assert_true(simple_match("prod|preprod", "nonprod"));
    assert_true(simple_match("prod|preprod", "production"));
    assert_true(simple_match("bar|buzz", "xbuzzx"));
    assert_false(simple_match("bar|buzz", "bu"));
    assert_true(simple_match("foo(bar|qux)", "xfooquxx"));
    assert_false(simplified("foo(bar|baz)")); /* ba[rz] */
    assert_true(simple_match(".*foo|bar.*", "xbarx"));
}

static void test_true_and_exists(void **state)
{
    (void)state;
    assert_true(simple_match(".*", ""));
    assert_true(simple_match("", "anything"));
    assert_true(simple_match(".+", "x"));
    assert_false(simple_match(".+", ""));
    /* a leg matching everything vanishes from an or (newOrFilter) */
    assert_true(simple_match("foo|.*", "foo"));
    assert_false(simple_match("foo|.*", "bar"));
}

static void test_case_insensitive(void **state)
{
    (void)state;
    assert_true(simple_match("(?i)foo", "FoO"));
    assert_false(simple_match("(?i)foo", "FoOx"));
    assert_true(simple_match("(?i)ab.*", "xAbx"));
    /* containsLower does not back up after a partial match */
    assert_false(simple_match("(?i).*aab.*", "aaab"));
    assert_true(simple_match("(?i).*aab.*", "aab"));
}

static void test_left_to_the_regex(void **state)
{
    (void)state;
    assert_false(simplified("400|404"));   /* 40[04]: a class */
    assert_false(simplified("a|b"));
    assert_false(simplified("^a.*"));
    assert_false(simplified("[ab].*"));
    assert_false(simplified("a+"));
    assert_false(simplified("a.*b.*c"));   /* four pieces */
    assert_false(simplified("a.*b"));      /* two literals */
    assert_false(simplified("a(?:b.*)"));  /* spliced: two literals, as in Go */
    assert_false(simplified("(?i)é.*"));
    assert_true(simplified("a(?:b)c.*"));  /* merged into one literal */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_sided_star_is_contains),
        cmocka_unit_test(test_literal_and_alternation_are_equality),
        cmocka_unit_test(test_factored_alternation_is_contains),
        cmocka_unit_test(test_true_and_exists),
        cmocka_unit_test(test_case_insensitive),
        cmocka_unit_test(test_left_to_the_regex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
