/* Label sets: parsing promtail's stream labels as Loki does, the canonical
 * form and its round trip, Go quoting and unquoting, helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "tests/unit/testutil.h"

/* Parses text and returns its canonical form (malloc'd), failing the test
 * on a parse error. */
static char *canon_n(const char *text, size_t n)
{
    lk_labels l;
    lk_buf err = { 0 }, out = { 0 };
    int rc = labels_parse(lk_str_n(text, n), &l, &err);
    if (rc != 0)
        fail_msg("parse [%.*s]: %s", (int)n, text, err.p ? err.p : "?");
    labels_canonical(&l, &out);
    labels_free(&l);
    lk_buf_free(&err);
    lk_buf_reserve(&out, 0);
    return lk_buf_steal(&out);
}

static char *canon(const char *text)
{
    return canon_n(text, strlen(text));
}

static void expect_canon(const char *text, const char *want)
{
    char *got = canon(text);
    if (strcmp(got, want) != 0)
        fail_msg("parse [%s]: canonical [%s], want [%s]", text, got, want);
    free(got);
}

static void expect_error_n(const char *text, size_t n, const char *want)
{
    lk_labels l = { 0 };
    lk_buf err = { 0 };
    int rc = labels_parse(lk_str_n(text, n), &l, &err);
    if (rc != LK_EPARSE)
        fail_msg("parse [%.*s] should fail with [%s]", (int)n, text, want ? want : "(any)");
    if (want && strcmp(err.p, want) != 0)
        fail_msg("parse [%.*s]: error [%s], want [%s]", (int)n, text, err.p ? err.p : "", want);
    lk_buf_free(&err);
}

static void expect_error(const char *text, const char *want)
{
    expect_error_n(text, strlen(text), want);
}

static void test_parse_basic(void **state)
{
    (void)state;
    expect_canon("{a=\"1\", b=\"2\"}", "{a=\"1\", b=\"2\"}");
    expect_canon("{b=\"2\",a=\"1\"}", "{a=\"1\", b=\"2\"}");
    expect_canon("  { job = \"x\" ,\n\tenv=\"prod\" }  ", "{env=\"prod\", job=\"x\"}");
    expect_canon("{}", "{}");
    expect_canon("{ }", "{}");
    expect_canon("", "{}");
    expect_canon("   ", "{}");
    expect_canon("{__name__=\"x\", _a1=\"y\", A=\"z\"}", "{A=\"z\", __name__=\"x\", _a1=\"y\"}");
    expect_canon("{a=`raw \\n \"q\"`}", "{a=\"raw \\\\n \\\"q\\\"\"}");
    expect_canon("{a='single \"q\" \\''}", "{a=\"single \\\"q\\\" '\"}");
    expect_canon("{a=\"1\",}", "{a=\"1\"}"); /* Prometheus allows a trailing comma */
    expect_canon("{a=\"1\", # a comment\n b=\"2\"}", "{a=\"1\", b=\"2\"}");
    /* Loki drops empty values (labels.Builder). */
    expect_canon("{a=\"\", b=\"2\"}", "{b=\"2\"}");
    expect_canon("{a=\"\"}", "{}");
    expect_canon("{a=\"1\", a=\"\"}", "{}");
    /* A metric name becomes __name__ and wins over one in braces. */
    expect_canon("up{job=\"x\"}", "{__name__=\"up\", job=\"x\"}");
    expect_canon("up", "{__name__=\"up\"}");
    expect_canon("a:b {__name__=\"z\"}", "{__name__=\"a:b\"}");
    /* Duplicate names are kept (the caller reports them). */
    expect_canon("{a=\"2\", a=\"1\"}", "{a=\"2\", a=\"1\"}");
}

static void test_parse_escapes(void **state)
{
    (void)state;
    expect_canon("{a=\"x\\\"y\"}", "{a=\"x\\\"y\"}");
    expect_canon("{a=\"\\a\\b\\f\\n\\r\\t\\v\\\\\"}", "{a=\"\\a\\b\\f\\n\\r\\t\\v\\\\\"}");
    expect_canon("{a=\"\\x41\\101\\u00e9\\U0001F600\"}", "{a=\"AAé😀\"}");
    expect_canon("{a=\"\\x00\\x1f\\x7f\"}", "{a=\"\\x00\\x1f\\x7f\"}");
    expect_canon("{a=\"\\xff\"}", "{a=\"\\xff\"}"); /* a byte escape: invalid UTF-8 kept */
    expect_canon("{a=\"日本語\"}", "{a=\"日本語\"}");
    expect_canon("{a=\"\\u00a0\\u200b\\ufeff\\u2028\"}", "{a=\"\\u00a0\\u200b\\ufeff\\u2028\"}");
    expect_canon("{a=\"\\U000e0001\\U0010fffd\"}", "{a=\"\\U000e0001\\U0010fffd\"}");
    expect_canon("{a=\"\\u0085\"}", "{a=\"\\u0085\"}");
    expect_canon("{a=\"\\ufffd\"}", "{a=\"\xef\xbf\xbd\"}");
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("{a=}", "1:4: parse error: unexpected \"}\" in label set, expected string");
    expect_error("{a=\"1\" b=\"2\"}",
                 "1:8: parse error: unexpected identifier \"b\" in label set, expected \",\" or \"}\"");
    expect_error("{a=\"1\",,}",
                 "1:8: parse error: unexpected \",\" in label set, expected identifier or \"}\"");
    expect_error("{a!=\"1\"}",
                 "1:3: parse error: unexpected <op:!=> in label set, expected identifier or \"}\"");
    expect_error("{a=~\"1\"}",
                 "1:3: parse error: unexpected <op:=~> in label set, expected identifier or \"}\"");
    expect_error("{a=1}", "1:4: parse error: unexpected character inside braces: '1'");
    expect_error("{a=\"1\"", "1:7: parse error: unexpected end of input inside braces");
    expect_error("{", "1:2: parse error: unexpected end of input inside braces");
    expect_error("{a=\"1}", "1:4: parse error: unterminated quoted string");
    expect_error("{a=\"x\ny\"}", "1:4: parse error: unterminated quoted string");
    expect_error("{a=`x}", "1:4: parse error: unterminated raw string");
    expect_error("{a=\"\\q\"}", "1:4: parse error: unknown escape sequence U+0071 'q'");
    expect_error("{a=\"\\'\"}", "1:4: parse error: unknown escape sequence U+0027 '''");
    expect_error("{a=\"\\xZ1\"}", "1:4: parse error: illegal character U+005A 'Z' in escape sequence");
    expect_error("{a=\"\\ud800\"}",
                 "1:4: parse error: escape sequence is an invalid Unicode code point");
    expect_error("{a=\"\\400\"}", "1:4: parse error: escape sequence is an invalid Unicode code point");
    expect_error("{a=\"\xff\"}", "1:4: parse error: invalid UTF-8 rune");
    expect_error("{a=\"1\"}}", "1:8: parse error: unexpected right bracket '}'");
    expect_error("{a=\"1\"} x", "1:9: parse error: unexpected identifier \"x\"");
    expect_error("a=\"1\"", "1:2: parse error: unexpected \"=\"");
    expect_error("{1a=\"1\"}", "1:2: parse error: unexpected character inside braces: '1'");
    expect_error("{a.b=\"1\"}", "1:3: parse error: unexpected character inside braces: '.'");
    expect_error("{a=\"1\", {", "1:9: parse error: unexpected left brace '{'");
    expect_error("{a=\"1\" b}",
                 "1:8: parse error: unexpected identifier \"b\" in label set, expected \",\" or \"}\"");
    expect_error("{a=\"0123456789abc\" b}",
                 "1:20: parse error: unexpected identifier \"b\" in label set, expected \",\" or \"}\"");
    expect_error("{a=\"1\"\n, b=}", "2:5: parse error: unexpected \"}\" in label set, expected string");
    expect_error("{a=\"1\", b=\"2\" c=\"3\"}", NULL);
    expect_error("{a, b}", "1:3: parse error: unexpected \",\" in label set, expected identifier or \"}\"");
    expect_error("{=\"1\"}", "1:2: parse error: unexpected \"=\" in label set, expected identifier or \"}\"");
    expect_error("{a=\"x\"=\"y\"}",
                 "1:7: parse error: unexpected \"=\" in label set, expected \",\" or \"}\"");
    expect_error("{a=\"x\", b=\"0123456789abcdef\" \"y\"}",
                 "1:30: parse error: unexpected string \"\\\"y\\\"\" in label set, expected \",\" or \"}\"");
    expect_error("{a=\"x\", b=\"y\" \"0123456789abcdef\"}",
                 "1:15: parse error: unexpected string \"\\\"012345678\"... in label set, expected \",\" or \"}\"");
    expect_error_n("{a=\"1\"\0}", 8, "1:7: parse error: unexpected character inside braces: '\\x00'");
    /* A NULL err buffer is allowed. */
    lk_labels l;
    assert_int_equal(labels_parse(LK_STR("{a="), &l, NULL), LK_EPARSE);
}

static void quote_is(const char *in, size_t n, const char *want)
{
    lk_buf b = { 0 };
    lk_go_quote(lk_str_n(in, n), &b);
    if (strcmp(b.p, want) != 0)
        fail_msg("quote: got [%s], want [%s]", b.p, want);
    /* Unquoting the quoted form gives the input back, except that Go's
     * Unquote turns invalid UTF-8 bytes written raw into U+FFFD; Quote
     * writes them as \x escapes, which come back as the same bytes. */
    lk_buf u = { 0 };
    assert_int_equal(lk_go_unquote(lk_buf_str(&b), &u), 0);
    assert_int_equal(u.len, n);
    assert_memory_equal(u.p ? u.p : "", in, n);
    lk_buf_free(&b);
    lk_buf_free(&u);
}

static void test_go_quote(void **state)
{
    (void)state;
    quote_is("", 0, "\"\"");
    quote_is("abc", 3, "\"abc\"");
    quote_is("a\"b\\c'", 6, "\"a\\\"b\\\\c'\"");
    quote_is("\a\b\f\n\r\t\v", 7, "\"\\a\\b\\f\\n\\r\\t\\v\"");
    quote_is("\0\x01\x1b\x1f\x7f", 5, "\"\\x00\\x01\\x1b\\x1f\\x7f\"");
    quote_is("\xff\xfe", 2, "\"\\xff\\xfe\"");
    quote_is("a\xc3", 2, "\"a\\xc3\"");             /* truncated sequence */
    quote_is("\xed\xa0\x80", 3, "\"\\xed\\xa0\\x80\"");  /* encoded surrogate */
    quote_is("\xc0\xaf", 2, "\"\\xc0\\xaf\"");        /* overlong */
    quote_is("é日本😀", 12, "\"é日本😀\"");
    quote_is("\xc2\x85", 2, "\"\\u0085\"");           /* C1 control */
    quote_is("\xc2\xa0", 2, "\"\\u00a0\"");           /* no-break space */
    quote_is("\xc2\xa1", 2, "\"¡\"");
    quote_is("\xc2\xad", 2, "\"\\u00ad\"");           /* soft hyphen */
    quote_is("\xe2\x80\x8b", 3, "\"\\u200b\"");
    quote_is("\xe2\x80\xa8", 3, "\"\\u2028\"");
    quote_is("\xe3\x80\x80", 3, "\"\\u3000\"");
    quote_is("\xef\xbb\xbf", 3, "\"\\ufeff\"");
    quote_is("\xee\x80\x80", 3, "\"\\ue000\"");       /* private use */
    quote_is("\xef\xbf\xbe", 3, "\"\\ufffe\"");
    quote_is("\xef\xbf\xbd", 3, "\"\xef\xbf\xbd\"");   /* U+FFFD is printable */
    quote_is("\xf3\xa0\x80\x81", 4, "\"\\U000e0001\"");
    quote_is("\xf4\x8f\xbf\xbd", 4, "\"\\U0010fffd\"");
    quote_is("\xf0\x9f\x98\x80x", 5, "\"😀x\"");
}

static void unquote_is(const char *lit, const char *want, size_t want_len)
{
    lk_buf b = { 0 };
    lk_buf_puts(&b, "prefix");
    int rc = lk_go_unquote(lk_str_c(lit), &b);
    if (rc != 0)
        fail_msg("unquote [%s] failed", lit);
    assert_int_equal(b.len, 6 + want_len);
    assert_memory_equal(b.p, "prefix", 6);
    assert_memory_equal(b.p + 6, want, want_len);
    lk_buf_free(&b);
}

static void unquote_fails(const char *lit, size_t n)
{
    lk_buf b = { 0 };
    lk_buf_puts(&b, "keep");
    if (lk_go_unquote(lk_str_n(lit, n), &b) != LK_EPARSE)
        fail_msg("unquote [%.*s] should fail", (int)n, lit);
    assert_string_equal(b.p, "keep"); /* nothing appended on failure */
    lk_buf_free(&b);
}

#define UQ_OK(lit, want) unquote_is(lit, want, sizeof(want) - 1)
#define UQ_BAD(lit) unquote_fails(lit, sizeof(lit) - 1)

static void test_go_unquote(void **state)
{
    (void)state;
    UQ_OK("\"\"", "");
    UQ_OK("\"abc\"", "abc");
    UQ_OK("\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\"", "\a\b\f\n\r\t\v\\\"");
    UQ_OK("\"\\x41\\x4a\\xff\"", "AJ\xff");
    UQ_OK("\"\\101\\000\\377\"", "A\0\xff");
    UQ_OK("\"\\u00e9\\U0001F600\"", "é😀");
    UQ_OK("\"'\"", "'");
    UQ_OK("\"\xff\"", "\xef\xbf\xbd"); /* raw invalid byte -> U+FFFD, as Go */
    UQ_OK("`raw \\n \"x\"`", "raw \\n \"x\"");
    UQ_OK("`a\nb`", "a\nb");
    UQ_OK("`a\r\nb`", "a\nb"); /* Go drops \r in raw strings */
    UQ_OK("'a'", "a");
    UQ_OK("'\\''", "'");
    UQ_OK("'\\x41'", "A");
    UQ_OK("'é'", "é");
    UQ_OK("'\"'", "\"");
    UQ_BAD("");
    UQ_BAD("\"");
    UQ_BAD("\"abc");
    UQ_BAD("abc\"");
    UQ_BAD("\"a\"b\"");
    UQ_BAD("\"a\nb\"");
    UQ_BAD("\"\\'\"");  /* \' only in '...' */
    UQ_BAD("\"\\q\"");
    UQ_BAD("\"\\x4\"");
    UQ_BAD("\"\\400\"");
    UQ_BAD("\"\\12\"");
    UQ_BAD("\"\\ud800\"");
    UQ_BAD("\"\\U00110000\"");
    UQ_BAD("\"\\\"");
    UQ_BAD("`a`b`");
    UQ_BAD("'ab'");
    UQ_BAD("''");
    UQ_BAD("'\\\"'");
    UQ_BAD("xabcx");
}

/* Interesting values: every one must survive value -> canonical -> parse. */
static void test_roundtrip(void **state)
{
    (void)state;
    const char *vals[] = {
        "plain", "with \"quotes\"", "back\\slash", "new\nline", "tab\tand\rcr",
        "\x01\x02\x7f", "\xff\xfe", "é日本😀", "\xc2\x85\xc2\xa0\xe2\x80\xa8",
        "\xef\xbb\xbf", "`backtick`", "'single'", "{a=\"b\"}", "\xed\xa0\x80",
        "\xef\xbf\xbd", "#", "\xf4\x8f\xbf\xbf",
    };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        lk_label pair[2] = { { LK_STR("k"), lk_str_c(vals[i]) }, { LK_STR("a"), LK_STR("1") } };
        lk_labels l, back;
        labels_from_pairs(pair, 2, &l);
        lk_buf c1 = { 0 }, c2 = { 0 }, err = { 0 };
        labels_canonical(&l, &c1);
        if (labels_parse(lk_buf_str(&c1), &back, &err) != 0)
            fail_msg("value %zu: [%s] does not parse: %s", i, c1.p, err.p);
        assert_int_equal(back.n, 2);
        assert_true(lk_str_eq(back.v[1].value, lk_str_c(vals[i])));
        labels_canonical(&back, &c2);
        assert_string_equal(c1.p, c2.p);
        assert_int_equal(labels_hash(lk_buf_str(&c1)), labels_hash(lk_buf_str(&c2)));
        labels_free(&l);
        labels_free(&back);
        lk_buf_free(&c1);
        lk_buf_free(&c2);
        lk_buf_free(&err);
    }
}


/* Many labels (the sort's merge path) and random values through the
 * canonical form and back. */
static void test_many_and_random(void **state)
{
    (void)state;
    tst_rng rng = tst_rng_seed(2463534242u);
    for (int round = 0; round < 200; round++) {
        lk_label pairs[40];
        char names[40][12];
        char vals[40][24];
        size_t n = 1 + (size_t)(round % 40);
        for (size_t i = 0; i < n; i++) {
            uint64_t x = tst_rand(&rng);
            snprintf(names[i], sizeof(names[i]), "l%u", (unsigned)(x % 97));
            size_t vl = 1 + x % 23;
            for (size_t k = 0; k < vl; k++)
                vals[i][k] = (char)(tst_rand(&rng) & 0xff);
            pairs[i] = (lk_label){ lk_str_c(names[i]), lk_str_n(vals[i], vl) };
        }
        lk_labels l, back;
        labels_from_pairs(pairs, n, &l);
        for (size_t i = 1; i < n; i++)
            assert_true(lk_str_cmp(l.v[i - 1].name, l.v[i].name) <= 0);
        lk_buf c1 = { 0 }, c2 = { 0 }, err = { 0 };
        labels_canonical(&l, &c1);
        if (labels_parse(lk_buf_str(&c1), &back, &err) != 0)
            fail_msg("[%s] does not parse: %s", c1.p, err.p);
        assert_int_equal(back.n, n);
        for (size_t i = 0; i < n; i++) {
            assert_true(lk_str_eq(back.v[i].name, l.v[i].name));
            assert_true(lk_str_eq(back.v[i].value, l.v[i].value));
        }
        labels_canonical(&back, &c2);
        assert_string_equal(c1.p, c2.p);
        assert_int_equal(labels_find_duplicate(&l) != NULL, labels_find_duplicate(&back) != NULL);
        labels_free(&l);
        labels_free(&back);
        lk_buf_free(&c1);
        lk_buf_free(&c2);
        lk_buf_free(&err);
    }
}

static void test_helpers(void **state)
{
    (void)state;
    lk_label pairs[] = {
        { LK_STR("zone"), LK_STR("eu") }, { LK_STR("app"), LK_STR("api") },
        { LK_STR("env"), LK_STR("prod") }, { LK_STR("app"), LK_STR("web") },
    };
    lk_labels l, c;
    labels_from_pairs(pairs, 4, &l);
    assert_int_equal(l.n, 4);
    assert_true(lk_str_eq_c(l.v[0].name, "app"));
    assert_true(lk_str_eq_c(l.v[0].value, "api")); /* stable */
    assert_true(lk_str_eq_c(l.v[1].value, "web"));
    assert_true(lk_str_eq_c(l.v[3].name, "zone"));
    assert_int_equal(l.v[3].name.p[l.v[3].name.len], '\0'); /* NUL-terminated copies */
    const lk_str *d = labels_find_duplicate(&l);
    assert_non_null(d);
    assert_true(lk_str_eq_c(*d, "app"));
    assert_true(lk_str_eq_c(*labels_get(&l, LK_STR("env")), "prod"));
    assert_true(lk_str_eq_c(*labels_get(&l, LK_STR("app")), "api"));
    assert_true(lk_str_eq_c(*labels_get(&l, LK_STR("zone")), "eu"));
    assert_null(labels_get(&l, LK_STR("nope")));
    assert_null(labels_get(&l, LK_STR("")));
    labels_copy(&l, &c);
    labels_free(&l);
    assert_int_equal(c.n, 4);
    assert_true(lk_str_eq_c(*labels_get(&c, LK_STR("env")), "prod"));
    labels_free(&c);
    labels_free(&c); /* idempotent */

    labels_from_pairs(pairs, 1, &l);
    assert_null(labels_find_duplicate(&l));
    labels_free(&l);
    labels_from_pairs(NULL, 0, &l);
    assert_int_equal(l.n, 0);
    assert_null(labels_find_duplicate(&l));
    assert_null(labels_get(&l, LK_STR("a")));
    lk_buf b = { 0 };
    labels_canonical(&l, &b);
    assert_string_equal(b.p, "{}");
    labels_free(&l);
    lk_buf_free(&b);

    /* Sorting is stable and byte-wise on many elements. */
    lk_label many[40];
    char names[40][4];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "%c", 'a' + (i * 7) % 5);
        many[i] = (lk_label){ lk_str_c(names[i]), lk_str_n((const char *)&names[i], (size_t)0) };
        many[i].value = (lk_str){ names[i], (size_t)i }; /* distinguishes order */
    }
    labels_sort(many, 40);
    for (int i = 1; i < 40; i++) {
        int c0 = lk_str_cmp(many[i - 1].name, many[i].name);
        assert_true(c0 <= 0);
        if (c0 == 0)
            assert_true(many[i - 1].value.len < many[i].value.len);
    }
}

static void test_valid_name(void **state)
{
    (void)state;
    assert_true(labels_valid_name(LK_STR("a")));
    assert_true(labels_valid_name(LK_STR("_")));
    assert_true(labels_valid_name(LK_STR("__name__")));
    assert_true(labels_valid_name(LK_STR("A_b9")));
    assert_false(labels_valid_name(LK_STR("")));
    assert_false(labels_valid_name(LK_STR("9a")));
    assert_false(labels_valid_name(LK_STR("a-b")));
    assert_false(labels_valid_name(LK_STR("a.b")));
    assert_false(labels_valid_name(LK_STR("a:b")));
    assert_false(labels_valid_name(LK_STR("é")));
}

static void test_hash(void **state)
{
    (void)state;
    lk_str s = LK_STR("{a=\"1\"}");
    assert_int_equal(labels_hash(s), XXH3_64bits(s.p, s.len));
    assert_int_not_equal(labels_hash(s), labels_hash(LK_STR("{a=\"2\"}")));
    assert_int_equal(labels_hash(LK_STR_NULL), XXH3_64bits("", 0));
    char *a = canon("{b=\"2\", a=\"1\"}");
    char *b = canon("{a=\"1\",b=`2`}");
    assert_string_equal(a, b);
    assert_int_equal(labels_hash(lk_str_c(a)), labels_hash(lk_str_c(b)));
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),
        cmocka_unit_test(test_parse_escapes),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_go_quote),
        cmocka_unit_test(test_go_unquote),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_many_and_random),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_valid_name),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
