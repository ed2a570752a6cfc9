/* Regexes with Go's semantics run by RE2 (anchoring, newline, \s, flags,
 * errors, groups, fast paths, invalid UTF-8, linear time on ReDoS patterns)
 * and the label matchers built on them. Expected answers are Go's
 * (regexp.MatchString / FindSubmatchIndex). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pthread.h>

#include "lib/err.h"
#include "lib/matcher.h"
#include "lib/regex.h"
#include "lib/regex_prefilter.h"
#include "lib/regex_syntax.h"

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
    /* Go reads each invalid byte as U+FFFD, which `.`, negated classes,
     * \pS and U+FFFD itself match; RE2 alone matched no invalid byte. */
    assert_true(m_n("a.b", 0, "a\xff" "b", 3));
    assert_true(m_n("^.$", 0, "\xff", 1));
    assert_true(m_n("^[^a]$", 0, "\xc3", 1)); /* a lead byte without its continuation */
    assert_true(m_n("^\\pS$", 0, "\x80", 1));
    assert_true(m_n("^\\PL$", 0, "\xfe", 1));
    assert_true(m_n("\\x{FFFD}", 0, "\xff", 1));
    assert_true(m_n("\xef\xbf\xbd", 0, "x\xffy", 3)); /* a literal U+FFFD: no memmem */
    assert_true(m_n("^.{2}$", 0, "\xe2\x82", 2)); /* a truncated sequence: two runes */
    assert_false(m_n("^.$", 0, "\xe2\x82", 2));
    /* An encoded surrogate is three invalid bytes in Go, one rune in RE2. */
    assert_true(m_n("^.{3}$", 0, "\xed\xa0\x80", 3));
    assert_false(m_n("^.$", 0, "\xed\xa0\x80", 3));
    assert_false(m_n("\\x{D800}", 0, "\xed\xa0\x80", 3));
    assert_false(m_n("^.$", 0, "\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(m_n("^.$", 0, "\xc0\xaf", 2));           /* overlong */
    /* Offsets are the subject's, not those of the rewritten copy. */
    lk_regex *re = compile_ok("(.)(b)", 0);
    long ov[6];
    assert_int_equal(lk_regex_exec(re, lk_str_n("\xff\xfe" "b", 3), 0, ov, 3), 3);
    assert_int_equal(ov[0], 1);
    assert_int_equal(ov[1], 3);
    assert_int_equal(ov[2], 1);
    assert_int_equal(ov[3], 2);
    assert_int_equal(ov[4], 2);
    assert_int_equal(ov[5], 3);
    assert_int_equal(lk_regex_exec(re, lk_str_n("\xff\xfe" "b\xff" "b", 5), 3, ov, 1), 1);
    assert_int_equal(ov[0], 3);
    assert_int_equal(ov[1], 5);
    lk_regex_free(re);
    /* A pattern that matches no U+FFFD reads the subject as it is. */
    assert_true(m_n("ab", 0, "\xff" "ab\xff", 4));
    assert_false(m_n("^ab$", 0, "\xff" "ab", 3));
}

/* A prepared subject (Go's FindAll / ReplaceAll loops) gives the answers of
 * lk_regex_exec at every offset, invalid UTF-8 included. */
static void test_prepared_subject(void **state)
{
    (void)state;
    static const char subj[] = "a\xff" "b\xc3\xa9\xed\xa0\x80" "cb\xe2\x82";
    lk_str s = lk_str_n(subj, sizeof(subj) - 1);
    const char *pats[] = { ".", "[^b]", "b", "\\B", "(.)(b)?", "" };
    for (size_t k = 0; k < sizeof(pats) / sizeof(pats[0]); k++) {
        lk_regex *re = compile_ok(pats[k], 0);
        lk_regex_subject rs;
        size_t need = lk_regex_subject_init(&rs, re, s);
        void *mem = need ? malloc(need) : NULL;
        if (need)
            lk_regex_subject_fill(&rs, mem);
        for (size_t from = 0; from <= s.len; from++) {
            long a[6], b[6];
            int na = lk_regex_exec(re, s, from, a, 3);
            int nb = lk_regex_exec_in(re, &rs, from, b, 3);
            assert_int_equal(na, nb);
            for (int i = 0; i < 2 * na; i++)
                if (a[i] != b[i])
                    fail_msg("pattern %s from %zu pair %d: %ld vs %ld", pats[k], from, i, a[i], b[i]);
        }
        free(mem);
        lk_regex_free(re);
    }
    lk_regex *re = compile_ok("x", 0);
    lk_regex_subject rs;
    assert_int_equal(lk_regex_subject_init(&rs, re, s), 0); /* no U+FFFD in the pattern */
    lk_regex_free(re);
}

/* RE2 steps bytes: \B holds between the bytes of "é", where Go never
 * looks. An empty match there is passed over. */
static void test_inner_empty(void **state)
{
    (void)state;
    assert_false(part("\\B", "a\xc3\xa9" "b"));
    assert_true(part("\\B", "a\xc3\xa9"));
    lk_regex *re = compile_ok("\\B", 0);
    long ov[2];
    assert_int_equal(lk_regex_exec(re, LK_STR("a\xc3\xa9"), 0, ov, 1), 1);
    assert_int_equal(ov[0], 3); /* the end, after "é" */
    assert_int_equal(ov[1], 3);
    lk_regex_free(re);
}

/* RE2 2022-06 factors alternations with case folding wrongly: [Kk] became a
 * folded literal that then matched the Kelvin sign, and a folded literal
 * merged after a plain one lost its other case. */
static void test_case_fold_alternations(void **state)
{
    (void)state;
    assert_false(part("[Kk]|a", "\xe2\x84\xaa"));   /* U+212A, Kelvin */
    assert_false(part("[Ss]|x", "\xc5\xbf"));        /* U+017F, long s */
    assert_true(part("[Kk]|a", "k"));
    assert_true(part("(?i)k|x", "\xe2\x84\xaa"));   /* (?i) does fold to it, as in Go */
    assert_true(part("a|(?i:a)", "A"));
    assert_true(part("a|[Aa]", "A"));
    assert_true(part("[a-c]|(?i:b)", "B"));
    assert_true(part("x|a|(?i)a", "A"));
    assert_true(part("(?i)(?:a|(?-i:a))", "A"));
    assert_true(part("a(?i)b|B", "aB"));
    assert_false(full("a(?i)b|B", "Ab"));
    assert_true(full("a(?i)b|B", "b")); /* (?i) lasts to the group's end, past | */
    assert_true(full("(?i:\\Qab\\E)|a", "AB"));
    assert_true(full("(?i)error|warn", "ERROR"));
}

/* Patterns whose RE2 program is big get a bigger memory budget; past that
 * the compile fails with Go's "expression too large" instead of matching
 * with a partial program. */
static void test_big_patterns(void **state)
{
    (void)state;
    lk_regex *re = compile_ok("\\pL{1000}", 0); /* ~1.2M RE2 instructions */
    assert_false(lk_regex_match(re, LK_STR("abc")));
    lk_regex_free(re);
    const char *huge = "\\pL{1000}\\pL{1000}\\pL{1000}\\pL{1000}\\pL{1000}"; /* Go takes it */
    char want[128];
    snprintf(want, sizeof(want), "error parsing regexp: expression too large: `%s`", huge);
    expect_error(huge, want);
}

/* ---- ReDoS: answers that a backtracking limit decided, and time ----------- */

static char *redos_subject(int which, size_t n, size_t *len)
{
    char *s = malloc(n + 8);
    size_t k = 0;
    switch (which) {
    case 0: memset(s, 'a', n); k = n; break;                              /* a^n */
    case 1: memset(s, 'a', n); k = n; s[k++] = 'b'; break;                /* a^n b */
    case 2: memset(s, 'a', n); k = n; memcpy(s + k, "caab", 4); k += 4; break;
    case 3: /* word word ... word! */
    case 4: /* word word ... word */
        for (k = 0; k + 5 <= n; k += 5)
            memcpy(s + k, "word ", 5);
        k--;
        if (which == 3)
            s[k++] = '!';
        break;
    case 5: memset(s, 'x', n); k = n; memset(s + k, 'a', 5); k += 5; break;
    case 6: for (k = 0; k + 2 <= n; k += 2) memcpy(s + k, "ax", 2); break;
    case 7: memset(s, '1', n); k = n; s[k++] = 'x'; break;
    default: memset(s, '1', n); k = n; break;
    }
    *len = k;
    return s;
}

#define REDOS_SUBJECTS 9

/* pattern, and a bit per subject it matches (Go's answers on these lines). */
static const struct {
    const char *pat;
    unsigned want;
} redos[] = {
    { "(a|aa)+b", 0x006 },        { "(a+)+b", 0x006 },      { "(a|a)*b", 0x006 },
    { "(.*a){12}", 0x047 },       { "(\\w+\\s?)+$", 0x1f7 }, { "^(\\d+)*$", 0x100 },
    { "(x+x+)+y", 0x000 },        { "(\\w|\\d)+!", 0x008 },  { "(a|ab|b)*c", 0x004 },
    { "([a-z]+)*[0-9]", 0x180 },  { "(.*)*[bc]", 0x006 },     { "(?i)(A|a)+B", 0x006 },
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the battery over lines of n bytes, checking every answer; returns
 * the seconds the matching took. */
static double redos_run(size_t n)
{
    double spent = 0;
    for (size_t p = 0; p < sizeof(redos) / sizeof(redos[0]); p++) {
        lk_regex *re = compile_ok(redos[p].pat, 0);
        for (int i = 0; i < REDOS_SUBJECTS; i++) {
            size_t len;
            char *s = redos_subject(i, n, &len);
            bool want = (redos[p].want >> i) & 1;
            long ov[2];
            double t0 = now_s();
            bool got = lk_regex_match(re, lk_str_n(s, len));
            int got_exec = lk_regex_exec(re, lk_str_n(s, len), 0, ov, 1);
            spent += now_s() - t0;
            if (got != want || (got_exec > 0) != want)
                fail_msg("%s on subject %d (%zu bytes): match %d exec %d, Go says %d",
                         redos[p].pat, i, len, got, got_exec, want);
            free(s);
        }
        lk_regex_free(re);
    }
    return spent;
}

/* Issue 9 item 2: `(a|aa)+b` on 40 a's + "caab" was "no match" (PCRE2's
 * match limit read as a failure), and regexes without a literal took
 * seconds on long lines. Go's answers, in time linear in the line. */
static void test_redos_battery(void **state)
{
    (void)state;
    assert_true(part("(a|aa)+b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaacaab"));
    assert_true(part("(a|aa)+b", "aab plain"));
    double small = redos_run(25000);
    double big = redos_run(50000);
    /* Generous for ASan on a loaded 2-core machine; backtracking took
     * seconds per line, quadratic time would quadruple. */
    if (big > 10.0)
        fail_msg("battery over 50 KB lines took %.2fs", big);
    if (big > 3 * small + 0.5)
        fail_msg("not linear: 25 KB lines %.3fs, 50 KB lines %.3fs", small, big);
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

/* Every fast path must agree with the same pattern run by RE2: the pattern
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
    /* Subjects with NUL bytes go through RE2 too. */
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

static int lit_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The prefilter's literals for a Go pattern, sorted, joined with ','; ""
 * for no prefilter. */
static void expect_lits(const char *pat, const char *want)
{
    lk_regex_syntax syn;
    lk_regex_prefilter pf;
    char got[1024] = "", *each[32];
    assert_int_equal(lk_regex_syntax_read(lk_str_c(pat), &syn, NULL), 0);
    lk_regex_prefilter_build(lk_buf_str(&syn.re2), &pf);
    assert_true(pf.n <= 32);
    for (size_t i = 0; i < pf.n; i++) {
        each[i] = calloc(1, pf.lit[i].len + 1);
        memcpy(each[i], pf.lit[i].p, pf.lit[i].len);
    }
    qsort(each, pf.n, sizeof(char *), lit_cmp);
    for (size_t i = 0; i < pf.n; i++) {
        if (i)
            strcat(got, ",");
        strcat(got, each[i]);
        free(each[i]);
    }
    lk_regex_prefilter_free(&pf);
    lk_regex_syntax_free(&syn);
    if (strcmp(got, want) != 0)
        fail_msg("prefilter of %s: got [%s], want [%s]", pat, got, want);
}

static void test_prefilter_literals(void **state)
{
    (void)state;
    expect_lits("status=5..", "status=5");
    /* Cut to the longest length that leaves fewest strings (not below 4). */
    expect_lits("(GET|POST) /api/v[12]/", "GET /api/v,POST /api/");
    expect_lits("(GET|POST) /api/v[12]/[a-z]+", "GET /api/v,POST /api/");
    expect_lits("ab(1234|5678)", "ab1234,ab5678");
    expect_lits("(abcdx|abcdy)", "abcd");
    expect_lits("^abc", "abc");
    expect_lits("abc$", "abc");
    expect_lits("\\bfoo\\b", "foo");
    expect_lits("colou?r", "colo");
    expect_lits("[ab]c", "ac,bc");
    expect_lits("[^a]bc", "bc");
    expect_lits("[a-z]+foo", "foo");
    expect_lits("(ab)+", "ab");
    expect_lits("(abc){2,}x", "abc");
    expect_lits("x{0}bc", "bc");
    expect_lits("foo|bar.*", "bar,foo");
    expect_lits("\\Qa.b\\E", "a.b");
    expect_lits("\\x41B\\101", "ABA");
    expect_lits("(?P<x>ab)c", "abc");
    /* No literal every match must hold, or only one byte long. */
    expect_lits("", "");
    expect_lits(".*", "");
    expect_lits("a*", "");
    expect_lits("a+", "");
    expect_lits("\\d+\\.\\d+\\.\\d+\\.\\d+", "");
    expect_lits("(abc){0,}", "");
    expect_lits("(abc)?", "");
    expect_lits("foo|\\d+", "");
    expect_lits("foo|", "");
    expect_lits("[a-z]+", "");
    expect_lits("\\pL+", "");
    expect_lits("(a|b|c|d|e|f|g|h|i|j|l|m|n|o|p|q|r)", "");
    expect_lits("(a|b|c|d|e|f|g|h|i|j|l|m|n|o|p|q|r)zz", "zz");
    /* Only ASCII; U+FFFD (Go's reading of an invalid byte) ends a literal. */
    expect_lits("é+xy", "xy");
    expect_lits("ab\\x{fffd}c", "ab");
    expect_lits("日本", "");
    /* Letters under (?i) are left to RE2 (and k, s fold to non-ASCII). */
    expect_lits("(?i)error", "");
    expect_lits("(?i)status=5", "=5");
    expect_lits("(?i)k8s", "");
    expect_lits("(?i:ab)cd", "cd");
    expect_lits("(?i)[ab]xy", "");
    expect_lits("(?i)[.]12", ".12");
    expect_lits("(?i)ab(?-i)xyz", "xyz");
    expect_lits("xx(?i:y)|zz", "xx,zz");
    expect_lits("a(?i)bc|de", "");
}

/* Patterns x subjects: the prefiltered answers equal RE2's alone. */
static void test_prefilter_agrees(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "status=5..", "(GET|POST) /api/v[12]/", "\\d+\\.\\d+\\.\\d+\\.\\d+", "(?i)error",
        "(?i)status", "(?i)status=5", "(?i)k8s", "(?i)[ks]x", "a(?i)bc|de", "colou?r", "^abc",
        "abc$", "\\bfoo\\b",
        "foo|bar.*", "(a+)(b+)?c", "(?i)ab(?-i)xyz", "[^a]bc", "a.c", "x\\x{fffd}y", "(?s)a.b",
        "(?m)^a$", "(?i)Straße", "level=(warn|error)\\b", "\\Bb", ".*", "a*", "é+x",
    };
    static const char *const subjs[] = {
        "", "status=500", "STATUS=500", "GET /api/v1/x", "POST /api/v3/", "10.0.0.1 ok",
        "an ERROR here", "Error", "error", "\xE2\x84\xAA" "8s", "k8\xC5\xBF", "K8S", "\xE2\x84\xAAx",
        "Sx", "color", "colour", "colr", "abc", "xabc", "abcx", "foo", "a foo b", "foobar",
        "barbaz", "aabbc", "ac", "ABXYZ", "abxyz", "ABxyz", "xbc", "abc\xFF", "\xFF" "bc",
        "x\xFFy", "x\xEF\xBF\xBDy", "a\nb", "b\na\nc", "STRASSE", "strasse", "straße",
        "level=warn", "level=errors", "aébx", "éééx", "\xC3" "b", "Status=5", "aBC", "abc de",
    };
    for (size_t p = 0; p < sizeof(pats) / sizeof(pats[0]); p++) {
        for (int flags = 0; flags <= LK_RE_ANCHORED; flags++) {
            lk_regex *a = compile_ok(pats[p], flags);
            lk_regex *b = compile_ok(pats[p], flags | LK_RE_NO_PREFILTER);
            for (size_t s = 0; s < sizeof(subjs) / sizeof(subjs[0]); s++) {
                lk_str subj = lk_str_c(subjs[s]);
                long oa[8] = { 0 }, ob[8] = { 0 };
                if (lk_regex_match(a, subj) != lk_regex_match(b, subj))
                    fail_msg("match %s on [%s] differs with the prefilter", pats[p], subjs[s]);
                int na = lk_regex_exec(a, subj, 0, oa, 4);
                int nb = lk_regex_exec(b, subj, 0, ob, 4);
                if (na != nb || memcmp(oa, ob, sizeof(oa)) != 0)
                    fail_msg("exec %s on [%s] differs with the prefilter", pats[p], subjs[s]);
            }
            lk_regex_free(a);
            lk_regex_free(b);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anchoring),
        cmocka_unit_test(test_newlines),
        cmocka_unit_test(test_go_classes),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_invalid_utf8_subject),
        cmocka_unit_test(test_prepared_subject),
        cmocka_unit_test(test_inner_empty),
        cmocka_unit_test(test_case_fold_alternations),
        cmocka_unit_test(test_big_patterns),
        cmocka_unit_test(test_redos_battery),
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
        cmocka_unit_test(test_prefilter_literals),
        cmocka_unit_test(test_prefilter_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
