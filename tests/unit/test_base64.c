/* Unit tests: base64 encoding (lib/base64.h) against RFC 4648's vectors,
 * every padding case, and appending to what a buffer holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/base64.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648),
        cmocka_unit_test(test_appends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
