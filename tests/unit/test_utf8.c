/* Unit tests: UTF-8 with Go's rules (lib/utf8.h): DecodeRune on valid,
 * truncated, overlong, surrogate and out-of-range sequences, DecodeLastRune,
 * EncodeRune, Valid, RuneCount and unicode.IsSpace, with the answers Go's
 * unicode/utf8 and unicode packages give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/utf8.h"

static void decodes(const char *s, uint32_t want_r, size_t want_w)
{
    uint32_t r = 0;
    size_t w = lk_utf8_decode(s, strlen(s), &r);
    if (r != want_r || w != want_w)
        fail_msg("DecodeRune(%s) = U+%04X %zu, want U+%04X %zu", s, r, w, want_r, want_w);
    size_t valid = lk_utf8_valid_len(s, strlen(s));
    bool bad = want_r == LK_RUNE_ERROR && want_w == 1;
    assert_int_equal(valid, bad ? 0 : want_w);
}

static void test_decode(void **state)
{
    (void)state;
    decodes("a", 'a', 1);
    decodes("\x7f", 0x7F, 1);
    decodes("\xc3\xa9x", 0xE9, 2);
    decodes("\xe2\x82\xac", 0x20AC, 3);
    decodes("\xf0\x9f\x98\x80", 0x1F600, 4);
    decodes("\xef\xbf\xbd", 0xFFFD, 3); /* a real U+FFFD is valid */
    decodes("\xf4\x8f\xbf\xbf", 0x10FFFF, 4);
    decodes("\x80", LK_RUNE_ERROR, 1);             /* continuation byte */
    decodes("\xc0\x80", LK_RUNE_ERROR, 1);         /* overlong NUL */
    decodes("\xc1\xbf", LK_RUNE_ERROR, 1);         /* overlong */
    decodes("\xe0\x80\xaf", LK_RUNE_ERROR, 1);     /* overlong '/' */
    decodes("\xf0\x8f\xbf\xbf", LK_RUNE_ERROR, 1); /* overlong */
    decodes("\xed\xa0\x80", LK_RUNE_ERROR, 1);     /* surrogate U+D800 */
    decodes("\xf4\x90\x80\x80", LK_RUNE_ERROR, 1); /* U+110000 */
    decodes("\xf5\x80\x80\x80", LK_RUNE_ERROR, 1);
    decodes("\xff", LK_RUNE_ERROR, 1);
    decodes("\xe2\x82", LK_RUNE_ERROR, 1); /* truncated */
    decodes("\xe2\x28\xa1", LK_RUNE_ERROR, 1);
    uint32_t r = 0;
    assert_int_equal(lk_utf8_decode("", 0, &r), 0);
    assert_int_equal(r, LK_RUNE_ERROR);
}

static void decodes_last(const char *s, uint32_t want_r, size_t want_w)
{
    uint32_t r = 0;
    size_t w = lk_utf8_decode_last(s, strlen(s), &r);
    if (r != want_r || w != want_w)
        fail_msg("DecodeLastRune(%s) = U+%04X %zu, want U+%04X %zu", s, r, w, want_r, want_w);
}

static void test_decode_last(void **state)
{
    (void)state;
    decodes_last("ab", 'b', 1);
    decodes_last("a\xe2\x82\xac", 0x20AC, 3);
    decodes_last("\xf0\x9f\x98\x80", 0x1F600, 4);
    decodes_last("a\xe2\x82", LK_RUNE_ERROR, 1);
    decodes_last("\xe2\x82\xac\x80", LK_RUNE_ERROR, 1);
    decodes_last("\x80\x80\x80\x80\x80", LK_RUNE_ERROR, 1);
    decodes_last("\xc3", LK_RUNE_ERROR, 1);
    uint32_t r = 0;
    assert_int_equal(lk_utf8_decode_last("", 0, &r), 0);
}

static void encodes(uint32_t r, const char *want)
{
    char o[LK_UTF8_MAX];
    size_t n = lk_utf8_encode(o, r);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(o, want, n);
    lk_buf b = { 0 };
    lk_buf_puts(&b, "<");
    lk_utf8_put(&b, r);
    assert_int_equal(b.len, n + 1);
    assert_memory_equal(b.p + 1, want, n);
    lk_buf_free(&b);
}

static void test_encode(void **state)
{
    (void)state;
    encodes('A', "A");
    encodes(0xE9, "\xc3\xa9");
    encodes(0x7FF, "\xdf\xbf");
    encodes(0x800, "\xe0\xa0\x80");
    encodes(0x20AC, "\xe2\x82\xac");
    encodes(0xFFFF, "\xef\xbf\xbf");
    encodes(0x10000, "\xf0\x90\x80\x80");
    encodes(0x10FFFF, "\xf4\x8f\xbf\xbf");
    encodes(0xD800, "\xef\xbf\xbd"); /* surrogate */
    encodes(0x110000, "\xef\xbf\xbd");
}

static void test_valid_and_count(void **state)
{
    (void)state;
    assert_true(lk_utf8_valid(LK_STR("")));
    assert_true(lk_utf8_valid(LK_STR("plain ascii, longer than eight bytes")));
    assert_true(lk_utf8_valid(LK_STR("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80")));
    assert_false(lk_utf8_valid(LK_STR("ascii ascii ascii \xed\xa0\x80")));
    assert_int_equal(lk_utf8_valid_prefix(LK_STR("abcdefghij\xc3\xa9\xff\xc3\xa9")), 12);
    assert_int_equal(lk_utf8_valid_prefix(LK_STR("abcdefgh\xe2\x82")), 8);
    assert_int_equal(lk_utf8_count(LK_STR("")), 0);
    assert_int_equal(lk_utf8_count(LK_STR("a\xff" "b\xe2\x82\xac")), 4);
    assert_int_equal(lk_utf8_count(LK_STR("\xe2\x82")), 2); /* two invalid bytes */
}

static void test_is_space(void **state)
{
    (void)state;
    static const uint32_t spaces[] = { '\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0,
                                       0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F,
                                       0x205F, 0x3000 };
    static const uint32_t others[] = { 'a', 0, 0x1C, 0x180E, 0x200B, 0xFEFF, 0xFFFD };
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++)
        assert_true(lk_unicode_is_space(spaces[i]));
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        assert_false(lk_unicode_is_space(others[i]));
}

static void trims(const char *in, const char *want)
{
    lk_str got = lk_unicode_trim_space(lk_str_c(in));
    if (!lk_str_eq_c(got, want))
        fail_msg("TrimSpace(\"%s\") = \"%.*s\", want \"%s\"", in, LK_STR_FMT(got), want);
}

static void test_trim_space(void **state)
{
    (void)state;
    trims("", "");
    trims("abc", "abc");
    trims(" \t\n\v\f\r a b \r\n", "a b");
    trims("\xc2\xa0x\xc2\x85", "x");                     /* U+00A0, U+0085 */
    trims("\xe3\x80\x80x\xe2\x80\xa8\xe1\x9a\x80", "x"); /* U+3000, U+2028, U+1680 */
    trims("\xe2\x80\x8bx", "\xe2\x80\x8bx");             /* U+200B is not a space */
    trims(" \xc2 ", "\xc2");                              /* an invalid byte stops it */
    trims("\xe2\xc2\xa0", "\xe2");
    trims(" \xe2\x80\x80 ", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_last),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_valid_and_count),
        cmocka_unit_test(test_is_space),
        cmocka_unit_test(test_trim_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
