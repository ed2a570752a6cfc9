/* Unit tests: hex digit values (lib/hex.h) for every byte, signed chars
 * and runes beyond a byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "lib/hex.h"

/* Against strtol in base 16 on the byte alone. */
static void test_every_byte(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        char s[2] = { (char)c, '\0' }, *end;
        long v = strtol(s, &end, 16);
        int want = end == s + 1 ? (int)v : -1;
        if (lk_hex_val(c) != want)
            fail_msg("lk_hex_val(0x%02x) = %d, want %d", c, lk_hex_val(c), want);
        assert_int_equal(lk_is_hex(c), want >= 0);
    }
}

static void test_outside_a_byte(void **state)
{
    (void)state;
    assert_int_equal(lk_hex_val((char)0xC1), -1); /* a negative char */
    assert_int_equal(lk_hex_val(-1), -1);
    assert_int_equal(lk_hex_val(0xFF10), -1); /* FULLWIDTH DIGIT ZERO */
    assert_int_equal(lk_hex_val('A' + 0x100), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_outside_a_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
