/* Unit tests: query/pipeline line filters (line filter matching): substrings, regexes
 * and their simplification into substring tests (checked against the regex
 * engine), Loki's ip() and pattern filters, `or` alternatives, chains and
 * the literals they require, and the `| regexp` / `| pattern` stage checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/regex.h"
#include "query/logql/ast.h"
#include "query/pipeline/linefilter.h"
#include "query/logql/parser.h"

/* Parses `{a="b"} <filters>` and compiles its pipeline into a chain. */
static lf_chain *chain_of(const char *filters)
{
    char q[2048];
    snprintf(q, sizeof(q), "{a=\"b\"} %s", filters);
    logql_expr *e = NULL;
    lk_buf err = { 0 };
    if (logql_parse(lk_str_c(q), &e, &err) != 0)
        fail_msg("%s: %s", q, err.p);
    lf_chain *c = NULL;
    if (lf_chain_compile(e->u.log.stages, e->u.log.n_stages, &c, &err) != 0)
        fail_msg("%s: %s", q, err.p);
    logql_expr_free(e);
    lk_buf_free(&err);
    return c;
}

/* The error lf_chain_compile reports for `{a="b"} <filters>`. */
static void assert_compile_error(const char *filters, const char *want)
{
    char q[2048];
    snprintf(q, sizeof(q), "{a=\"b\"} %s", filters);
    logql_expr *e = NULL;
    lk_buf err = { 0 };
    if (logql_parse(lk_str_c(q), &e, &err) != 0)
        fail_msg("%s: %s", q, err.p);
    lf_chain *c = NULL;
    int rc = lf_chain_compile(e->u.log.stages, e->u.log.n_stages, &c, &err);
    assert_int_equal(rc, LK_EPARSE);
    assert_null(c);
    if (!err.p || strcmp(err.p, want) != 0)
        fail_msg("%s\n  got  %s\n  want %s", filters, err.p ? err.p : "(none)", want);
    logql_expr_free(e);
    lk_buf_free(&err);
}

typedef struct line_case {
    const char *line;
    bool match;
} line_case;

static void check_lines(const char *filters, const line_case *cases, size_t n)
{
    lf_chain *c = chain_of(filters);
    for (size_t i = 0; i < n; i++) {
        bool got = lf_chain_match(c, lk_str_c(cases[i].line));
        if (got != cases[i].match)
            fail_msg("%s on \"%s\": got %d", filters, cases[i].line, got);
    }
    lf_chain_free(c);
}

#define CHECK(filters, ...)                                                                  \
    do {                                                                                     \
        static const line_case cases_[] = { __VA_ARGS__ };                                    \
        check_lines(filters, cases_, sizeof(cases_) / sizeof(cases_[0]));                     \
    } while (0)

static void test_contains(void **state)
{
    (void)state;
    CHECK("|= \"error\"", { "an error here", true }, { "error", true }, { "ERROR", false },
          { "erro", false }, { "", false });
    CHECK("!= \"info\"", { "level=info", false }, { "level=warn", true }, { "", true });
    CHECK("|= \"日本語\"", { "x 日本語 y", true }, { "日本", false }, { "日本 語", false });
    CHECK("|= `\"level\":\"error\"`", { "{\"level\":\"error\"}", true },
          { "{\"level\": \"error\"}", false });
    CHECK("|= \"x\"", { "x", true }, { "abcx", true }, { "abc", false });
    /* an empty needle keeps every line, its negation none */
    CHECK("|= \"\"", { "", true }, { "anything", true });
    CHECK("!= \"\"", { "", false }, { "anything", false });
    /* a long needle */
    CHECK("|= \"the quick brown fox jumps over the lazy dog\"",
          { "xx the quick brown fox jumps over the lazy dog yy", true },
          { "the quick brown fox jumps over the lazy cat", false });
    /* stages AND together */
    CHECK("|= \"timeout\" != \"lag\"", { "db timeout", true }, { "db timeout lag", false },
          { "lag", false });
}

static void test_regex(void **state)
{
    (void)state;
    CHECK("|~ \"status=5[0-9]{2}\"", { "status=503 x", true }, { "status=404", false },
          { "status=5", false });
    CHECK("!~ \"GET|PUT\"", { "GET /", false }, { "a PUT b", false }, { "POST /", true });
    /* unanchored, '.' does not match a newline */
    CHECK("|~ \"a.c\"", { "xxabcxx", true }, { "a\nc", false });
    CHECK("|~ \"^foo$\"", { "foo", true }, { "foo bar", false });
    CHECK("|~ \"(?i)fatal\"", { "FATAL: x", true }, { "a Fatal b", true }, { "ffatal", true },
          { "fatl", false }, { "", false });
    /* k and s fold to non-ASCII runes in Go: left to the regex engine */
    CHECK("|~ \"(?i)kelvin\"", { "KELVIN", true }, { "kelvi", false });
    CHECK("|~ \"error|warn\"", { "warning", true }, { "an error", true }, { "err", false });
    CHECK("|~ \"(error|warn)ing\"", { "warning", true }, { "erroring", true },
          { "warn", false });
    CHECK("|~ \".*\"", { "", true }, { "x", true });
    CHECK("|~ \"\"", { "", true }, { "x", true });
    CHECK("!~ \".*\"", { "", false }, { "x", false });
    CHECK("|~ \".+\"", { "", false }, { "\n", false }, { "x", true });
    CHECK("|~ \"\\\\.\\\\*\"", { "a.*b", true }, { "ab", false });
    CHECK("|~ \"日本\"", { "日本語", true }, { "本日", false });
    CHECK("|~ \"a\" or \"b\"", { "xa", true }, { "xb", true }, { "c", false });
    CHECK("!~ \"a\" or \"b\"", { "xa", false }, { "xb", false }, { "c", true });
    assert_compile_error("|~ \"(\"", "parse error : stage '|~ \"(\"' : error parsing regexp: "
                                    "missing closing ): `(`");
    assert_compile_error("|= \"x\" !~ \"a\" or \"[\"",
                         "parse error : stage '!~ \"a\" !~ \"[\"' : error parsing regexp: "
                         "missing closing ]: `[`");
}

/* The simplifier must agree with the regex engine (which is Go's semantics
 * on valid UTF-8). */
static void test_regex_simplifier_agrees(void **state)
{
    (void)state;
    static const char *const regexes[] = {
        "error", "error|warn", "(?i)fatal", "(?i)ERR|warn", "(a|b)c", "a(b|c)d", ".*foo.*",
        ".*foo", "foo.*", ".+", ".*", "", "foo(|bar)", "(?:x|y)z", "\\.\\*", "abc|",
        "(foo)(bar)", ".*.+.*", "x\\ty", "(?i)a\\.b", "((a|b)(c|d))", "a|b|c|d|e|f",
        "(?i)(err|warn)or", "foo.*bar", "fo+", "[ab]c", "^x", "x$", "(?i)x|Y", "\\d",
        "(?s).+", "a{2}", "(?i)über", "über|x", ".+x", "x.+", "(x).*",
    };
    static const char *const lines[] = {
        "", "\n", "error", "ERROR warn", "FaTaL", "ac bc", "abd acd", "xfooy", "foobar",
        "a.*b", "abc", "xz yz", "x\ty", "a.b A.B", "warnor", "d", "foo\nbar", "foo bar",
        "fooo", "cc", "x", "xx", "Y", "7", "ÜBER über", "\n\n", "zx\n",
    };
    for (size_t r = 0; r < sizeof(regexes) / sizeof(regexes[0]); r++) {
        lk_regex *re = NULL;
        assert_int_equal(lk_regex_compile(lk_str_c(regexes[r]), 0, &re, NULL), 0);
        for (int neg = 0; neg < 2; neg++) {
            logql_lf_alt alt = { lk_str_c(regexes[r]), false };
            logql_line_filter f = { neg ? LOGQL_LF_NOT_REGEX : LOGQL_LF_REGEX, &alt, 1 };
            lf_matcher *m = NULL;
            assert_int_equal(lf_compile(&f, &m, NULL), 0);
            for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
                lk_str line = lk_str_c(lines[l]);
                bool want = lk_regex_match(re, line) != (neg != 0);
                if (lf_match(m, line) != want)
                    fail_msg("%s%s on \"%s\": want %d", neg ? "!~ " : "|~ ", regexes[r],
                             lines[l], want);
            }
            lf_free(m);
        }
        lk_regex_free(re);
    }
}

static void test_ip(void **state)
{
    (void)state;
    CHECK("|= ip(\"10.1.0.0/16\")", { "10.1.2.3 - alice GET /", true },
          { "10.2.0.1 - bob", false }, { "x=10.1.255.255", true }, { "110.1.2.3", false },
          { "10.1.2", false }, { "10.1.2.3.", false }, /* Loki reads the trailing '.' too */
          { "010.1.2.3", false },                      /* leading zeros are not IPv4 */
          { "a 10.2.0.1 b 10.1.0.7", true }, { "", false }, { "::ffff:10.1.2.3", false });
    CHECK("!= ip(\"10.1.0.0/16\")", { "10.1.2.3 - alice", false }, { "10.2.0.1 - bob", true });
    CHECK("|= ip(\"192.168.0.1\")", { "from 192.168.0.1 to", true }, { "192.168.0.10", false },
          { "192.168.0.1", true });
    CHECK("|= ip(\"192.168.0.1-192.168.0.20\")", { "ip 192.168.0.5 x", true },
          { "ip 192.168.0.20 x", true }, { "ip 192.168.0.21 x", false },
          { "ip 192.168.0.0 x", false });
    CHECK("|= ip(\"2001:db8::/32\")", { "addr=2001:db8::1 ok", true },
          { "addr=2001:db9::1 ok", false }, { "2001:0db8:0000::ffff x", true },
          { "10.0.0.1", false });
    CHECK("|= ip(\"::1\")", { "host ::1 x", true }, { "host ::2 x", false });
    CHECK("|= ip(\"::ffff:0:0/96\")", { "v ::ffff:1.2.3.4 v", true }, { "v 1.2.3.4 v", false });
    CHECK("|= ip(\"fe80::1-fe80::ff\")", { "[fe80::a]:80", true }, { "[fe80::100]:80", false });
    CHECK("|= ip(\"1.2.3.4\") or ip(\"5.6.7.8\")", { "a 5.6.7.8", true }, { "a 1.2.3.4", true },
          { "a 1.2.3.5", false });
    assert_compile_error("|= ip(\"1.2.3\")",
                         "parse error : stage '|= ip(\"1.2.3\")' : ip: invalid pattern: \"1.2.3\"");
    assert_compile_error("|= ip(\"1.2.3.4/33\")",
                         "parse error : stage '|= ip(\"1.2.3.4/33\")' : ip: invalid pattern: "
                         "\"1.2.3.4/33\"");
    assert_compile_error("|= ip(\"1.2.3.9-1.2.3.4\")",
                         "parse error : stage '|= ip(\"1.2.3.9-1.2.3.4\")' : ip: invalid "
                         "pattern: \"1.2.3.9-1.2.3.4\"");
    assert_compile_error("|~ ip(\"1.2.3.4\")",
                         "parse error : stage '|~ ip(\"1.2.3.4\")' : ip: invalid operation");
}

static void test_ip_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        bool ok;
    } cases[] = {
        { "1.2.3.4", true },        { "255.255.255.255", true }, { "256.1.1.1", false },
        { "1.2.3", false },         { "1.2.3.4.5", false },      { "01.2.3.4", false },
        { "::", true },             { "::1", true },             { "1::", true },
        { "1:2:3:4:5:6:7:8", true }, { "1:2:3:4:5:6:7:8:9", false }, { "1::2::3", false },
        { "12345::", false },       { "::ffff:1.2.3.4", true },  { "1:2:3:4:5:6:1.2.3.4", true },
        { "1:2:3:4:5:6:7:1.2.3.4", false }, { "fe80::1%eth0", true }, { "fe80::1%", false },
        { "10.0.0.0/8", true },     { "10.0.0.0/0", true },      { "10.0.0.0/08", false },
        { "10.0.0.0/", false },     { "::/128", true },          { "::/129", false },
        { "fe80::1%eth0/64", true }, /* Go: an address with zone "eth0/64" */ { "1.2.3.4-1.2.3.4", true }, { "1.2.3.4-::1", false },
        { "", false },              { "x", false },              { "1.2.3.4 - 1.2.3.5", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lf_ip *ip = NULL;
        lk_buf err = { 0 };
        int rc = lf_ip_compile(lk_str_c(cases[i].pattern), &ip, &err);
        if ((rc == 0) != cases[i].ok)
            fail_msg("ip(\"%s\"): rc %d", cases[i].pattern, rc);
        if (rc == 0) {
            lf_ip_free(ip);
        } else {
            char want[256];
            snprintf(want, sizeof(want), "ip: invalid pattern: \"%s\"", cases[i].pattern);
            assert_string_equal(err.p, want);
        }
        lk_buf_free(&err);
    }
    /* a zoned single address never matches: lines carry no zones */
    lf_ip *ip = NULL;
    assert_int_equal(lf_ip_compile(LK_STR("fe80::1%eth0"), &ip, NULL), 0);
    assert_false(lf_ip_contains(ip, LK_STR("at fe80::1 now")));
    lf_ip_free(ip);
    /* label values: the same search */
    assert_int_equal(lf_ip_compile(LK_STR("10.0.0.0/8"), &ip, NULL), 0);
    assert_true(lf_ip_contains(ip, LK_STR("10.20.30.40")));
    assert_false(lf_ip_contains(ip, LK_STR("11.0.0.1")));
    lf_ip_free(ip);
}

static void test_pattern_filter(void **state)
{
    (void)state;
    CHECK("|> \"<_> foo <_>\"", { "a foo b", true }, { "foo b", false }, { "a foo ", false },
          { "a foo", false }, { "xx foo yy zz", true });
    CHECK("!> \"<_> foo <_>\"", { "a foo b", false }, { "foo b", true });
    CHECK("|> \"<_> - <_> [<_>] \\\"GET <_>\"",
          { "10.0.0.1 - alice [01/Nov/2026] \"GET /x HTTP/1.1\"", true },
          { "10.0.0.1 - alice [01/Nov/2026] \"POST /x HTTP/1.1\"", false });
    /* ending on a literal: the line must end with it */
    CHECK("|> \"<_> done\"", { "job done", true }, { "job done!", false });
    /* Loki does not anchor a leading literal in the filter */
    CHECK("|> \"foo <_>\"", { "foo bar", true }, { "xx foo bar", true }, { "foo ", false });
    /* an empty pattern matches only empty lines */
    CHECK("|> \"\"", { "", true }, { "x", false });
    CHECK("|> \"<_>\"", { "x", true }, { "", false });
    CHECK("|> \"a <_> or \" or \"b <_>\"", { "b x", true }, { "a x or ", true },
          { "c", false });
    assert_compile_error("|> \"<a> x\"",
                         "parse error : stage '|> \"<a> x\"' : named captures are not allowed");
    assert_compile_error("|> \"<_><_>\"", "parse error : stage '|> \"<_><_>\"' : "
                                         "found consecutive capture: invalid expression");
}

static void test_pattern_parse(void **state)
{
    (void)state;
    lf_pattern p;
    lf_pattern_parse(LK_STR("<ip> - <_> [<1x>] <a_b2>end<"), &p);
    assert_int_equal(p.n, 6);
    assert_true(p.nodes[0].capture);
    assert_true(lk_str_eq_c(p.nodes[0].text, "ip"));
    assert_false(p.nodes[1].capture);
    assert_true(lk_str_eq_c(p.nodes[1].text, " - "));
    assert_true(p.nodes[2].capture);
    assert_true(lk_str_eq_c(p.nodes[2].text, "_"));
    /* <1x> is not a capture: names start with a letter or '_' */
    assert_false(p.nodes[3].capture);
    assert_true(lk_str_eq_c(p.nodes[3].text, " [<1x>] "));
    assert_true(p.nodes[4].capture);
    assert_true(lk_str_eq_c(p.nodes[4].text, "a_b2"));
    assert_false(p.nodes[5].capture);
    assert_true(lk_str_eq_c(p.nodes[5].text, "end<"));
    lf_pattern_free(&p);
    lf_pattern_parse(LK_STR(""), &p);
    assert_int_equal(p.n, 0);
    lf_pattern_free(&p);

    lk_buf err = { 0 };
    assert_int_equal(lf_pattern_check_stage(LK_STR("<a> <b>"), &err), 0);
    assert_int_equal(lf_pattern_check_stage(LK_STR("<_> x"), &err), LK_EPARSE);
    assert_string_equal(err.p, "at least one capture is required");
    lk_buf_reset(&err);
    assert_int_equal(lf_pattern_check_stage(LK_STR("<a> <_><b>"), &err), LK_EPARSE);
    assert_string_equal(err.p, "found consecutive capture: invalid expression");
    lk_buf_reset(&err);
    assert_int_equal(lf_pattern_check_stage(LK_STR("<a> <a>"), &err), LK_EPARSE);
    assert_string_equal(err.p, "duplicate capture name (a): invalid expression");
    lk_buf_free(&err);
}

static void test_regexp_stage_check(void **state)
{
    (void)state;
    lk_buf err = { 0 };
    assert_int_equal(lf_regexp_stage_check(LK_STR("(?P<ip>\\S+) (?P<user>\\S+)"), &err), 0);
    assert_int_equal(lf_regexp_stage_check(LK_STR("(a)(?P<x>b)"), &err), 0);
    assert_int_equal(lf_regexp_stage_check(LK_STR("abc"), &err), LK_EPARSE);
    assert_string_equal(err.p, "at least one named capture must be supplied");
    lk_buf_reset(&err);
    assert_int_equal(lf_regexp_stage_check(LK_STR("(abc)"), &err), LK_EPARSE);
    assert_string_equal(err.p, "at least one named capture must be supplied");
    lk_buf_reset(&err);
    assert_int_equal(lf_regexp_stage_check(LK_STR("(?P<a>x)(?P<a>y)"), &err), LK_EPARSE);
    assert_string_equal(err.p, "duplicate extracted label name 'a'");
    lk_buf_reset(&err);
    assert_int_equal(lf_regexp_stage_check(LK_STR("(?P<a>x"), &err), LK_EPARSE);
    assert_string_equal(err.p, "error parsing regexp: missing closing ): `(?P<a>x`");
    lk_buf_free(&err);
}

static void test_chain(void **state)
{
    (void)state;
    lf_chain *c = chain_of("|~ \"b.r\" |= \"foo\" |~ \"bar\" |> \"<_> baz <_>\" != \"qux\" "
                           "|= \"q1\" or \"q2\" |~ \"(?i)zz\"");
    const lk_str *req;
    size_t n = lf_chain_required(c, &req);
    assert_int_equal(n, 3);
    /* the substring stages first, then patterns, then regexes */
    assert_true(lk_str_eq_c(req[0], "foo"));
    assert_true(lk_str_eq_c(req[1], "bar"));
    assert_true(lk_str_eq_c(req[2], " baz "));
    assert_true(lf_chain_match(c, LK_STR("x foo bar baz q2 ZZ")));
    assert_true(lf_chain_match(c, LK_STR("x foo bar baz q1 zz")));
    assert_false(lf_chain_match(c, LK_STR("x foo bar baz q1 ZZ qux")));
    assert_false(lf_chain_match(c, LK_STR("x foo bar baz q3 ZZ")));
    assert_false(lf_chain_match(c, LK_STR("x foo bxr baz q1 ZZ")));
    assert_false(lf_chain_match(c, LK_STR("x foo bar baz q1 Z")));
    lf_chain_free(c);

    /* no stages: everything */
    c = chain_of("");
    assert_int_equal(lf_chain_required(c, &req), 0);
    assert_true(lf_chain_match(c, LK_STR("")));
    lf_chain_free(c);

    /* only line filters compile into a chain */
    logql_expr *e = NULL;
    lk_buf err = { 0 };
    assert_int_equal(logql_parse(LK_STR("{a=\"b\"} |= \"x\" | json"), &e, &err), 0);
    c = NULL;
    assert_int_equal(lf_chain_compile(e->u.log.stages, e->u.log.n_stages, &c, &err), LK_EINVAL);
    assert_null(c);
    logql_expr_free(e);
    lk_buf_free(&err);
}

static void test_matcher_direct(void **state)
{
    (void)state;
    logql_lf_alt alts[2] = { { LK_STR("abc"), false }, { LK_STR("xyz"), false } };
    logql_line_filter f = { LOGQL_LF_CONTAINS, alts, 2 };
    lf_matcher *m = NULL;
    assert_int_equal(lf_compile(&f, &m, NULL), 0);
    assert_true(lf_match(m, LK_STR("__xyz__")));
    assert_false(lf_match(m, LK_STR("ab yz")));
    lf_free(m);
    f.type = LOGQL_LF_NOT_CONTAINS;
    assert_int_equal(lf_compile(&f, &m, NULL), 0);
    assert_false(lf_match(m, LK_STR("__xyz__")));
    assert_true(lf_match(m, LK_STR("ab yz")));
    lf_free(m);
    lf_free(NULL);
    lf_chain_free(NULL);
    lf_ip_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_regex_simplifier_agrees),
        cmocka_unit_test(test_ip),
        cmocka_unit_test(test_ip_patterns),
        cmocka_unit_test(test_pattern_filter),
        cmocka_unit_test(test_pattern_parse),
        cmocka_unit_test(test_regexp_stage_check),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_matcher_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
