/* Regexes with Go/RE2 semantics (anchoring, newline, \s, flags, errors,
 * groups, fast paths) and the label matchers built on them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "lib/err.h"
#include "lib/matcher.h"
#include "lib/regex.h"

static lk_regex *compile_ok(const char *pat, int flags)
{
    lk_buf err = { 0 };
    lk_regex *re = NULL;
    int rc = lk_regex_compile(lk_str_c(pat), flags, &re, &err);
    if (rc != 0)
        fail_msg("compile %s: %s", pat, err.p ? err.p : "?");
    lk_buf_free(&err);
    return re;
}

/* Matches pattern against subject (n bytes) with flags. */
static bool m_n(const char *pat, int flags, const char *subj, size_t n)
{
    lk_regex *re = compile_ok(pat, flags);
    bool r = lk_regex_match(re, lk_str_n(subj, n));
    lk_regex_free(re);
    return r;
}

static bool full(const char *pat, const char *subj)
{
    return m_n(pat, LK_RE_ANCHORED, subj, strlen(subj));
}

static bool part(const char *pat, const char *subj)
{
    return m_n(pat, 0, subj, strlen(subj));
}

static void expect_error(const char *pat, const char *msg)
{
    lk_buf err = { 0 };
    lk_regex *re = NULL;
    int rc = lk_regex_compile(lk_str_c(pat), 0, &re, &err);
    if (rc != LK_EPARSE)
        fail_msg("pattern %s compiled but should fail with %s", pat, msg);
    assert_null(re);
    if (msg && strcmp(err.p, msg) != 0)
        fail_msg("pattern %s: got [%s], want [%s]", pat, err.p, msg);
    lk_buf_free(&err);
}

static void test_anchoring(void **state)
{
    (void)state;
    assert_true(full("a.*", "abc"));
    assert_false(full("a.*", "ba"));
    assert_true(part("a.*", "ba"));
    assert_false(full("b", "abc"));
    assert_true(part("b", "abc"));
    assert_true(full("a|ab", "ab")); /* full match must try later alternatives */
    assert_true(full("(a|ab)(c|bcd)", "abcd"));
    assert_false(full("foo", "foobar"));
    assert_false(full("bar", "foobar"));
    assert_true(full("", ""));
    assert_false(full("", "x"));
    assert_true(part("", "x"));
    assert_true(full("fo+", "foo"));
    assert_false(full("^fo$", "fox"));
    /* Exec at an offset, anchored: the rest of the subject must match. */
    lk_regex *re = compile_ok("b+", LK_RE_ANCHORED);
    long ov[2];
    assert_int_equal(lk_regex_exec(re, LK_STR("abb"), 1, ov, 1), 1);
    assert_int_equal(ov[0], 1);
    assert_int_equal(ov[1], 3);
    assert_int_equal(lk_regex_exec(re, LK_STR("abb"), 0, ov, 1), 0);
    assert_int_equal(lk_regex_exec(re, LK_STR("abb"), 4, ov, 1), 0);
    lk_regex_free(re);
}

static void test_newlines(void **state)
{
    (void)state;
    assert_false(full(".*", "a\nb"));
    assert_true(full("(?s).*", "a\nb"));
    assert_true(full("(?s:.*)", "a\nb"));
    assert_false(full(".+", ""));
    assert_true(full(".+", "x"));
    assert_false(full(".+", "a\n"));
    assert_true(part("a$", "xa"));
    assert_false(part("a$", "a\n")); /* $ is the end only, not before a final \n */
    assert_true(part("(?m)a$", "a\nb"));
    assert_false(part("a$", "a\nb"));
    assert_true(part("(?m)^b", "a\nb"));
    assert_false(part("^b", "a\nb"));
    assert_true(part("(?m)^$", "a\n")); /* Go: ^ matches after a final newline */
    assert_true(part("a\\z", "xa"));
    assert_false(part("a\\z", "a\n"));
    assert_true(part("\\Aa", "ab"));
    assert_false(part("\\Ab", "ab"));
    assert_true(full("[^a]", "\n")); /* negated classes match newline in Go */
    assert_true(full(".*foo.*", "xx foo yy"));
    assert_false(full(".*foo.*", "xx\nfoo"));
    assert_false(full("foo.*", "foo\n"));
    assert_false(full(".*foo", "\nfoo"));
}

static void test_go_classes(void **state)
{
    (void)state;
    assert_true(full("\\s", " "));
    assert_true(full("\\s", "\t"));
    assert_false(full("\\s", "\v")); /* RE2's \s has no vertical tab */
    assert_true(full("\\S", "\v"));
    assert_false(full("\\S", " "));
    assert_true(full("[\\s]", "\n"));
    assert_false(full("[\\s]", "\v"));
    assert_true(full("[^\\s]", "\v"));
    assert_true(full("[^\\S]", " "));
    assert_false(full("[^\\S]", "\v"));
    assert_true(full("\\v", "\v"));
    assert_false(full("\\v", "\n"));
    assert_true(full("\\d+", "0123456789"));
    assert_false(full("\\d", "\xd9\xa3")); /* ASCII digits only */
    assert_false(full("\\w", "\xc3\xa9"));  /* ASCII word chars only */
    assert_true(full("\\w+", "a_Z9"));
    assert_true(full("[[:alpha:]]+", "abcXYZ"));
    assert_true(full("[[:^digit:]]", "x"));
    assert_true(full("[[:word:]]+", "a_1"));
    assert_true(full("\\pL+", "h\xc3\xa9llo"));
    assert_true(full("\\p{Greek}", "\xce\xb1"));
    assert_true(full("\\P{Greek}", "a"));
    assert_true(full("\\p{^Greek}", "a"));
    assert_true(full("[\\d-z]+", "1-z"));      /* '-' after a class escape is literal */
    assert_true(full("[a-]+", "a-"));
    assert_true(full("[]a]+", "]a"));
    assert_true(full("[^]a]", "b"));
    assert_true(full("[[a]+", "[a"));
    assert_true(full("a{,2}", "a{,2}"));        /* not a repeat in Go: literal */
    assert_true(full("a{01}", "a{01}"));
    assert_true(full("a{2}", "aa"));
    assert_true(full("a{2,}", "aaaa"));
    assert_true(full("a{1,2}b", "aab"));
    assert_true(full("x{", "x{"));
    assert_true(full("\\101\\x41\\x{41}", "AAA"));
    assert_true(full("\\0", "\0") == false); /* subject is "" (strlen) */
    assert_true(m_n("\\0", LK_RE_ANCHORED, "\0", 1));
    assert_true(full("\\Q.*\\E+", ".**"));
    assert_true(full("\\Qa.b", "a.b"));
    assert_true(full("\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\", ".*+?()[]{}|^$\\"));
    assert_true(full("\\#\\ \\-", "# -"));
    assert_true(full("^*a", "a")); /* Go accepts a repeated assertion */
    assert_true(full("a\\b*", "a"));
}

static void test_flags(void **state)
{
    (void)state;
    assert_true(full("(?i)abc", "AbC"));
    assert_true(full("(?i)\xc3\xa9", "\xc3\x89")); /* Unicode case folding */
    assert_false(full("abc", "ABC"));
    assert_true(full("a(?i)b", "aB"));
    assert_false(full("a(?i)b", "AB"));
    assert_true(full("(?i:a)b", "Ab"));
    assert_false(full("(?i:a)b", "AB"));
    assert_true(full("(?i)a(?-i)b", "Ab"));
    assert_false(full("(?i)a(?-i)b", "AB"));
    assert_true(full("(?)a", "a"));
    lk_regex *re = compile_ok("(?U)a+", 0);
    long ov[2];
    assert_int_equal(lk_regex_exec(re, LK_STR("aaa"), 0, ov, 1), 1);
    assert_int_equal(ov[1] - ov[0], 1);
    lk_regex_free(re);
    re = compile_ok("(?U)a+?", 0);
    assert_int_equal(lk_regex_exec(re, LK_STR("aaa"), 0, ov, 1), 1);
    assert_int_equal(ov[1] - ov[0], 3);
    lk_regex_free(re);
}

static void test_invalid_utf8_subject(void **state)
{
    (void)state;
    /* Invalid bytes are tolerated; valid parts still match. */
    assert_true(m_n("abc", 0, "\xff" "abc", 4));
    assert_true(m_n("b.d", 0, "\xff" "bcd\xfe", 5));
    assert_true(m_n("x|abc", 0, "\xff" "abc", 4));
    assert_true(m_n("(b)c", 0, "\xff" "abc", 4));
    /* The fast paths read invalid bytes as Go does (one rune each). */
    assert_true(m_n(".*", LK_RE_ANCHORED, "a\xff" "b", 3));
    assert_true(m_n(".+", LK_RE_ANCHORED, "\xff", 1));
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("(", "error parsing regexp: missing closing ): `(`");
    expect_error("a(b", "error parsing regexp: missing closing ): `a(b`");
    expect_error("a)", "error parsing regexp: unexpected ): `a)`");
    expect_error("[a", "error parsing regexp: missing closing ]: `[a`");
    expect_error("x[]", "error parsing regexp: missing closing ]: `[]`");
    expect_error("*", "error parsing regexp: missing argument to repetition operator: `*`");
    expect_error("a|*", "error parsing regexp: missing argument to repetition operator: `*`");
    expect_error("(+)", "error parsing regexp: missing argument to repetition operator: `+`");
    expect_error("(*ACCEPT)", "error parsing regexp: missing argument to repetition operator: `*`");
    expect_error("{2}", "error parsing regexp: missing argument to repetition operator: `{2}`");
    expect_error("a**", "error parsing regexp: invalid nested repetition operator: `**`");
    expect_error("a*+", "error parsing regexp: invalid nested repetition operator: `*+`");
    expect_error("a*?+", "error parsing regexp: invalid nested repetition operator: `*?+`");
    expect_error("a{2}{3}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`");
    expect_error("a{1001}", "error parsing regexp: invalid repeat count: `{1001}`");
    expect_error("(a{1000}){1000}", "error parsing regexp: invalid repeat count: `{1000}`");
    expect_error("((a{10}){10}b){11}", "error parsing regexp: invalid repeat count: `{11}`");
    expect_error("(a{2}|b{501}){2}", "error parsing regexp: invalid repeat count: `{2}`");
    lk_regex_free(compile_ok("((a{1}){1000})", 0));  /* products up to 1000 are fine */
    lk_regex_free(compile_ok("(a{10}){100}", 0));
    lk_regex_free(compile_ok("(a*b+c?){1000}", 0)); /* only {n,m} counts */
    expect_error("(?:(?:a{0}){1000}){1000}", "error parsing regexp: invalid repeat count: `{1000}`");
    lk_regex_free(compile_ok("(?:a{0}){1000}", 0));
    expect_error("a{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`");
    expect_error("[z-a]", "error parsing regexp: invalid character class range: `z-a`");
    expect_error("[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`");
    expect_error("\\p{Foo}", "error parsing regexp: invalid character class range: `\\p{Foo}`");
    expect_error("[\\pX]", "error parsing regexp: invalid character class range: `\\pX`");
    expect_error("\\p{greek}", "error parsing regexp: invalid character class range: `\\p{greek}`");
    expect_error("\\p{Xan}", "error parsing regexp: invalid character class range: `\\p{Xan}`");
    expect_error("\\p{Greek", "error parsing regexp: invalid character class range: `\\p{Greek`");
    expect_error("a\\", "error parsing regexp: trailing backslash at end of expression: ``");
    expect_error("\\q", "error parsing regexp: invalid escape sequence: `\\q`");
    expect_error("\\1", "error parsing regexp: invalid escape sequence: `\\1`");
    expect_error("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`");
    expect_error("\\8", "error parsing regexp: invalid escape sequence: `\\8`");
    expect_error("\\Z", "error parsing regexp: invalid escape sequence: `\\Z`");
    expect_error("\\e", "error parsing regexp: invalid escape sequence: `\\e`");
    expect_error("\\K", "error parsing regexp: invalid escape sequence: `\\K`");
    expect_error("\\C", "error parsing regexp: invalid escape sequence: `\\C`");
    expect_error("[\\b]", "error parsing regexp: invalid escape sequence: `\\b`");
    expect_error("\\xZZ", "error parsing regexp: invalid escape sequence: `\\xZZ`");
    expect_error("\\x{zz}", "error parsing regexp: invalid escape sequence: `\\x{z`");
    expect_error("\\x{110000}", "error parsing regexp: invalid escape sequence: `\\x{110000`");
    expect_error("(?=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`");
    expect_error("(?!a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?!`");
    expect_error("(?>a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?>`");
    expect_error("(?x)a", "error parsing regexp: invalid or unsupported Perl syntax: `(?x`");
    expect_error("(?#c)", "error parsing regexp: invalid or unsupported Perl syntax: `(?#`");
    expect_error("(?i-)a", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`");
    expect_error("(?P=n)", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`");
    expect_error("(?<=a)b", "error parsing regexp: invalid named capture: `(?<=a)b`");
    expect_error("(?P<a-b>x)", "error parsing regexp: invalid named capture: `(?P<a-b>`");
    expect_error("(?P<>x)", "error parsing regexp: invalid named capture: `(?P<>`");
    expect_error("a\xff", "error parsing regexp: invalid UTF-8: `\xff`");
    /* A NULL err buffer is allowed. */
    lk_regex *re = NULL;
    assert_int_equal(lk_regex_compile(LK_STR("("), 0, &re, NULL), LK_EPARSE);
    assert_null(re);
}

typedef struct names {
    int n;
    int group[8];
    char name[8][16];
} names;

static int collect(void *ctx, int group, lk_str name)
{
    names *ns = ctx;
    ns->group[ns->n] = group;
    snprintf(ns->name[ns->n], sizeof(ns->name[0]), "%.*s", LK_STR_FMT(name));
    ns->n++;
    return 0;
}

static int stop_at_first(void *ctx, int group, lk_str name)
{
    (void)ctx;
    (void)group;
    (void)name;
    return -42;
}

static void test_groups(void **state)
{
    (void)state;
    lk_regex *re = compile_ok("(?P<zeta>\\w+)-(\\d+)(?<alpha>x)?", 0);
    assert_int_equal(lk_regex_group_count(re), 3);
    names ns = { 0 };
    assert_int_equal(lk_regex_named_groups(re, collect, &ns), 2);
    assert_int_equal(ns.n, 2);
    assert_int_equal(ns.group[0], 1); /* group order, not name order */
    assert_string_equal(ns.name[0], "zeta");
    assert_int_equal(ns.group[1], 3);
    assert_string_equal(ns.name[1], "alpha");
    assert_int_equal(lk_regex_named_groups(re, stop_at_first, NULL), -42);

    long ov[8];
    int n = lk_regex_exec(re, LK_STR("  ab-12 cd-3x"), 0, ov, 4);
    assert_int_equal(n, 4);
    assert_int_equal(ov[0], 2);
    assert_int_equal(ov[1], 7);
    assert_int_equal(ov[2], 2);
    assert_int_equal(ov[3], 4);
    assert_int_equal(ov[4], 5);
    assert_int_equal(ov[5], 7);
    assert_int_equal(ov[6], -1); /* did not take part */
    assert_int_equal(ov[7], -1);
    n = lk_regex_exec(re, LK_STR("  ab-12 cd-3x"), 7, ov, 4);
    assert_int_equal(n, 4);
    assert_int_equal(ov[0], 8);
    assert_int_equal(ov[1], 13);
    assert_int_equal(ov[6], 12);
    /* Fewer pairs than groups. */
    assert_int_equal(lk_regex_exec(re, LK_STR("a-1"), 0, ov, 1), 1);
    assert_int_equal(lk_regex_exec(re, LK_STR("nothing"), 0, ov, 4), 0);
    lk_regex_free(re);

    re = compile_ok("abc", 0);
    assert_int_equal(lk_regex_named_groups(re, collect, &ns), 0);
    assert_int_equal(lk_regex_group_count(re), 0);
    lk_regex_free(re);
}

static void test_many_groups(void **state)
{
    (void)state;
    /* More groups than the per-thread match data holds. */
    lk_buf pat = { 0 }, subj = { 0 };
    for (int i = 0; i < 100; i++) {
        lk_buf_puts(&pat, "(a)");
        lk_buf_putc(&subj, 'a');
    }
    lk_regex *re = compile_ok(pat.p, LK_RE_ANCHORED);
    assert_int_equal(lk_regex_group_count(re), 100);
    long *ov = calloc(202, sizeof(long));
    assert_int_equal(lk_regex_exec(re, lk_buf_str(&subj), 0, ov, 101), 101);
    assert_int_equal(ov[200], 99);
    assert_int_equal(ov[201], 100);
    assert_true(lk_regex_match(re, lk_buf_str(&subj)));
    free(ov);
    lk_regex_free(re);
    lk_buf_free(&pat);
    lk_buf_free(&subj);
}

/* Every fast path must agree with the same pattern run by PCRE2: the pattern
 * wrapped in a group has no fast path but the same meaning. */
static void test_fast_paths_agree(void **state)
{
    (void)state;
    const char *pats[] = { "foo", "", "a b", "shop|data", "shop|", "|x", ".*", ".+",
                           ".*foo.*", "foo.*", ".*foo", "a\nb", "é", "日本|語" };
    const char *subjs[] = { "", "foo", "xfoo", "foox", "xfooy", "fo", "shop", "data",
                            "shopdata", "x", "a b", "a\nb", "foo\n", "\nfoo", "é",
                            "日本", "語", "日本語", "\n", "data\n" };
    for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
        char wrapped[64];
        snprintf(wrapped, sizeof(wrapped), "(?:%s)", pats[i]);
        for (int flags = 0; flags <= LK_RE_ANCHORED; flags += LK_RE_ANCHORED) {
            lk_regex *a = compile_ok(pats[i], flags);
            lk_regex *b = compile_ok(wrapped, flags);
            for (size_t j = 0; j < sizeof(subjs) / sizeof(subjs[0]); j++) {
                lk_str s = lk_str_c(subjs[j]);
                if (lk_regex_match(a, s) != lk_regex_match(b, s))
                    fail_msg("pattern [%s] flags %d subject [%s] disagree", pats[i], flags,
                             subjs[j]);
            }
            lk_regex_free(a);
            lk_regex_free(b);
        }
    }
    assert_true(full("shop|data", "data"));
    assert_false(full("shop|data", "shopdata"));
    assert_true(part("shop|data", "xxdatayy"));
}

static void test_match_empty_subject_null(void **state)
{
    (void)state;
    lk_regex *re = compile_ok("a*", LK_RE_ANCHORED);
    assert_true(lk_regex_match(re, LK_STR_NULL));
    lk_regex_free(re);
    re = compile_ok("x", 0);
    assert_false(lk_regex_match(re, LK_STR_NULL));
    lk_regex_free(re);
    re = compile_ok(".*", LK_RE_ANCHORED);
    assert_true(lk_regex_match(re, LK_STR_NULL));
    lk_regex_free(re);
}


static void test_exec_offsets(void **state)
{
    (void)state;
    long ov[4];
    /* Leftmost-first, as Go: the first alternative wins at a position. */
    lk_regex *re = compile_ok("a|ab", 0);
    assert_int_equal(lk_regex_exec(re, LK_STR("xab"), 0, ov, 1), 1);
    assert_int_equal(ov[0], 1);
    assert_int_equal(ov[1], 2);
    lk_regex_free(re);
    /* Literal fast path: offsets from `from`, NUL bytes are ordinary. */
    re = compile_ok("lo", 0);
    assert_int_equal(lk_regex_exec(re, LK_STR("hello lo"), 0, ov, 2), 1);
    assert_int_equal(ov[0], 3);
    assert_int_equal(ov[1], 5);
    assert_int_equal(lk_regex_exec(re, LK_STR("hello lo"), 4, ov, 2), 1);
    assert_int_equal(ov[0], 6);
    assert_int_equal(lk_regex_exec(re, LK_STR("hello lo"), 7, ov, 2), 0);
    assert_true(lk_regex_match(re, lk_str_n("a\0lo", 4)));
    lk_regex_free(re);
    re = compile_ok("", 0);
    assert_int_equal(lk_regex_exec(re, LK_STR("abc"), 2, ov, 1), 1);
    assert_int_equal(ov[0], 2);
    assert_int_equal(ov[1], 2);
    assert_int_equal(lk_regex_exec(re, LK_STR("abc"), 3, ov, 1), 1);
    lk_regex_free(re);
    /* An anchored fast path reports the whole rest of the subject. */
    re = compile_ok(".*x.*", LK_RE_ANCHORED);
    assert_int_equal(lk_regex_exec(re, LK_STR("abxcd"), 1, ov, 1), 1);
    assert_int_equal(ov[0], 1);
    assert_int_equal(ov[1], 5);
    assert_int_equal(lk_regex_exec(re, LK_STR("abxcd"), 3, ov, 1), 0);
    lk_regex_free(re);
    /* Subjects with NUL bytes go through PCRE2 too. */
    re = compile_ok("a.b", 0);
    assert_true(lk_regex_match(re, lk_str_n("a\0b", 3)));
    lk_regex_free(re);
}

typedef struct thr_arg {
    const lk_regex *re;
    int ok;
} thr_arg;

static void *thr_main(void *v)
{
    thr_arg *a = v;
    char buf[64];
    a->ok = 1;
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(buf, sizeof(buf), "user-%d id=%d", i, i * 7);
        long ov[6];
        int r = lk_regex_exec(a->re, lk_str_n(buf, (size_t)n), 0, ov, 3);
        char want[16];
        snprintf(want, sizeof(want), "%d", i * 7);
        if (r != 3 || (size_t)(ov[5] - ov[4]) != strlen(want) ||
            memcmp(buf + ov[4], want, strlen(want)) != 0)
            a->ok = 0;
    }
    return NULL;
}

/* One compiled expression used by many threads at once (per-thread match
 * data); each thread checks its own captures. */
static void test_threads(void **state)
{
    (void)state;
    lk_regex *re = compile_ok("(\\w+)-\\d+ id=(\\d+)", 0);
    pthread_t th[4];
    thr_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thr_arg){ re, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, thr_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].ok, 1);
    }
    lk_regex_free(re);
}

/* ---- matchers ------------------------------------------------------------- */

static void test_matcher_ops(void **state)
{
    (void)state;
    lk_matcher m;
    assert_int_equal(matcher_init(&m, LK_MATCH_EQ, LK_STR("app"), LK_STR("api"), NULL), 0);
    assert_string_equal(m.name, "app");
    assert_int_equal(m.name_len, 3);
    assert_string_equal(m.value, "api");
    assert_null(m.re);
    assert_true(matcher_matches(&m, LK_STR("api")));
    assert_false(matcher_matches(&m, LK_STR("apis")));
    assert_false(matcher_matches_empty(&m));
    matcher_free(&m);

    assert_int_equal(matcher_init(&m, LK_MATCH_NEQ, LK_STR("app"), LK_STR("api"), NULL), 0);
    assert_false(matcher_matches(&m, LK_STR("api")));
    assert_true(matcher_matches(&m, LK_STR("web")));
    assert_true(matcher_matches_empty(&m));
    matcher_free(&m);

    assert_int_equal(matcher_init(&m, LK_MATCH_RE, LK_STR("app"), LK_STR("a.*"), NULL), 0);
    assert_non_null(m.re);
    assert_true(matcher_matches(&m, LK_STR("api")));
    assert_false(matcher_matches(&m, LK_STR("bapi"))); /* anchored */
    assert_false(matcher_matches_empty(&m));
    matcher_free(&m);

    assert_int_equal(matcher_init(&m, LK_MATCH_NRE, LK_STR("app"), LK_STR("a.*"), NULL), 0);
    assert_false(matcher_matches(&m, LK_STR("api")));
    assert_true(matcher_matches(&m, LK_STR("bapi")));
    assert_true(matcher_matches_empty(&m));
    matcher_free(&m);

    assert_int_equal(matcher_init(&m, LK_MATCH_RE, LK_STR("a"), LK_STR(".*"), NULL), 0);
    assert_true(matcher_matches_empty(&m));
    matcher_free(&m);
    assert_int_equal(matcher_init(&m, LK_MATCH_RE, LK_STR("a"), LK_STR(".+"), NULL), 0);
    assert_false(matcher_matches_empty(&m));
    matcher_free(&m);
    assert_int_equal(matcher_init(&m, LK_MATCH_EQ, LK_STR("a"), LK_STR(""), NULL), 0);
    assert_true(matcher_matches_empty(&m));
    matcher_free(&m);
    assert_int_equal(matcher_init(&m, LK_MATCH_RE, LK_STR("a"), LK_STR("x|"), NULL), 0);
    assert_true(matcher_matches_empty(&m));
    matcher_free(&m);

    assert_string_equal(matcher_op(LK_MATCH_EQ), "=");
    assert_string_equal(matcher_op(LK_MATCH_NEQ), "!=");
    assert_string_equal(matcher_op(LK_MATCH_RE), "=~");
    assert_string_equal(matcher_op(LK_MATCH_NRE), "!~");
    matcher_free(NULL);
}

static void test_matcher_bad_regex(void **state)
{
    (void)state;
    lk_matcher m;
    lk_buf err = { 0 };
    assert_int_equal(matcher_init(&m, LK_MATCH_RE, LK_STR("a"), LK_STR("(x"), &err), LK_EPARSE);
    assert_string_equal(err.p, "error parsing regexp: missing closing ): `(x`");
    lk_buf_free(&err);
    assert_int_equal(matcher_init(&m, LK_MATCH_NRE, LK_STR("a"), LK_STR("*"), NULL), LK_EPARSE);
    /* = and != never compile their value. */
    assert_int_equal(matcher_init(&m, LK_MATCH_EQ, LK_STR("a"), LK_STR("(x"), NULL), 0);
    assert_true(matcher_matches(&m, LK_STR("(x")));
    matcher_free(&m);
}

static void test_matchers_match_labels(void **state)
{
    (void)state;
    lk_labels l;
    assert_int_equal(labels_parse(LK_STR("{app=\"api\", env=\"prod\", zone=\"eu-1\"}"), &l, NULL), 0);
    lk_matcher ms[4];
    assert_int_equal(matcher_init(&ms[0], LK_MATCH_EQ, LK_STR("app"), LK_STR("api"), NULL), 0);
    assert_int_equal(matcher_init(&ms[1], LK_MATCH_RE, LK_STR("env"), LK_STR("prod|dev"), NULL), 0);
    assert_int_equal(matcher_init(&ms[2], LK_MATCH_NRE, LK_STR("zone"), LK_STR("us-.*"), NULL), 0);
    assert_int_equal(matcher_init(&ms[3], LK_MATCH_EQ, LK_STR("team"), LK_STR(""), NULL), 0);
    assert_true(matchers_match_labels(ms, 4, &l));
    assert_true(matchers_match_labels(ms, 0, &l));
    matcher_free(&ms[3]);
    /* A missing label reads as "": != "x" matches, = "x" does not. */
    assert_int_equal(matcher_init(&ms[3], LK_MATCH_NEQ, LK_STR("team"), LK_STR("x"), NULL), 0);
    assert_true(matchers_match_labels(ms, 4, &l));
    matcher_free(&ms[3]);
    assert_int_equal(matcher_init(&ms[3], LK_MATCH_EQ, LK_STR("team"), LK_STR("x"), NULL), 0);
    assert_false(matchers_match_labels(ms, 4, &l));
    matcher_free(&ms[3]);
    assert_int_equal(matcher_init(&ms[3], LK_MATCH_RE, LK_STR("team"), LK_STR(".*"), NULL), 0);
    assert_true(matchers_match_labels(ms, 4, &l));
    for (int i = 0; i < 4; i++)
        matcher_free(&ms[i]);
    labels_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anchoring),
        cmocka_unit_test(test_newlines),
        cmocka_unit_test(test_go_classes),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_invalid_utf8_subject),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_many_groups),
        cmocka_unit_test(test_fast_paths_agree),
        cmocka_unit_test(test_match_empty_subject_null),
        cmocka_unit_test(test_exec_offsets),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_matcher_ops),
        cmocka_unit_test(test_matcher_bad_regex),
        cmocka_unit_test(test_matchers_match_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
