/* Unit tests: base64 (lib/base64.h) against RFC 4648's vectors, every
 * padding case both ways, appending to what a buffer holds, and the
 * malformed inputs decoding refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/err.h"

static void test_rfc4648(void **state)
{
    (void)state;
    static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                        "Zm9vYmFy" };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        lk_buf out = { 0 };
        lk_base64_encode(in[i], strlen(in[i]), &out);
        assert_int_equal(out.len, strlen(want[i]));
        assert_memory_equal(out.p ? out.p : "", want[i], out.len);
        lk_buf_free(&out);
    }
}

static void test_appends(void **state)
{
    (void)state;
    lk_buf out = { 0 };
    lk_buf_puts(&out, "x:");
    const uint8_t bytes[] = { 0xfb, 0xff, 0x00 };
    lk_base64_encode(bytes, sizeof bytes, &out);
    assert_string_equal(out.p, "x:+/8A");
    lk_buf_free(&out);
}

static void test_decode_rfc4648(void **state)
{
    (void)state;
    static const char *const want[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const in[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                      "Zm9vYmFy" };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        lk_buf out = { 0 };
        assert_int_equal(lk_base64_decode(lk_str_c(in[i]), &out), LK_OK);
        assert_int_equal(out.len, strlen(want[i]));
        assert_memory_equal(out.p ? out.p : "", want[i], out.len);
        lk_buf_free(&out);
    }
}

static void test_decode_round_trip(void **state)
{
    (void)state;
    uint8_t bytes[256];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(255 - i);
    for (size_t n = 0; n <= sizeof bytes; n += 37) {
        lk_buf enc = { 0 }, dec = { 0 };
        lk_base64_encode(bytes, n, &enc);
        lk_buf_puts(&dec, "x");
        assert_int_equal(lk_base64_decode(lk_buf_str(&enc), &dec), LK_OK);
        assert_int_equal(dec.len, n + 1);
        assert_memory_equal(dec.p + 1, bytes, n);
        lk_buf_free(&enc);
        lk_buf_free(&dec);
    }
}

static void test_decode_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = { "Zg=", "Zg", "Z===", "Zm9v\n", "Zg==Zg==", "Zh==",
                                       "Zm9=", "Zm$v", "=Zm9" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_buf out = { 0 };
        lk_buf_puts(&out, "kept");
        assert_int_equal(lk_base64_decode(lk_str_c(bad[i]), &out), LK_EINVAL);
        assert_string_equal(out.p, "kept");
        lk_buf_free(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_decode_rfc4648),
        cmocka_unit_test(test_decode_round_trip),
        cmocka_unit_test(test_decode_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
