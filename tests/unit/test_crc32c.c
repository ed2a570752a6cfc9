/* CRC-32C: known vectors, chaining, and the hardware path against the table
 * path on every length and alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/crc32c.h"

/* The table implementation, exported by lib/crc32c.c for this test. */
uint32_t lk_crc32c_sw(uint32_t crc, const void *p, size_t n);

static void test_vectors(void **state)
{
    (void)state;
    assert_int_equal(lk_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(lk_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(lk_crc32c(0, "", 0), 0);
    assert_int_equal(lk_crc32c(0, "a", 1), 0xC1D04330u);
    /* RFC 3720 B.4: 32 bytes of zeros, of 0xff, ascending, descending. */
    unsigned char buf[32];
    memset(buf, 0, sizeof(buf));
    assert_int_equal(lk_crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(lk_crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)i;
    assert_int_equal(lk_crc32c(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)(31 - i);
    assert_int_equal(lk_crc32c(0, buf, 32), 0x113FDB5Cu);
    assert_int_equal(lk_crc32c_sw(0, buf, 32), 0x113FDB5Cu);
}

static void test_chaining(void **state)
{
    (void)state;
    const char *s = "The quick brown fox jumps over the lazy dog, again and again and again.";
    size_t n = strlen(s);
    uint32_t whole = lk_crc32c(0, s, n);
    for (size_t cut = 0; cut <= n; cut++) {
        uint32_t c = lk_crc32c(0, s, cut);
        c = lk_crc32c(c, s + cut, n - cut);
        assert_int_equal(c, whole);
        uint32_t d = lk_crc32c_sw(lk_crc32c_sw(0, s, cut), s + cut, n - cut);
        assert_int_equal(d, whole);
    }
    /* A zero-length update leaves the value alone. */
    assert_int_equal(lk_crc32c(whole, s, 0), whole);
}

static void test_hw_matches_sw(void **state)
{
    (void)state;
    static unsigned char buf[4096 + 16];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len < 300; len++)
            assert_int_equal(lk_crc32c(0, buf + off, len), lk_crc32c_sw(0, buf + off, len));
    assert_int_equal(lk_crc32c(0, buf, 4096), lk_crc32c_sw(0, buf, 4096));
    assert_int_equal(lk_crc32c(0xdeadbeef, buf + 3, 4000), lk_crc32c_sw(0xdeadbeef, buf + 3, 4000));
}

static void test_detects_single_bit_flip(void **state)
{
    (void)state;
    unsigned char buf[64];
    for (int i = 0; i < 64; i++)
        buf[i] = (unsigned char)(i * 7);
    uint32_t good = lk_crc32c(0, buf, sizeof(buf));
    for (int i = 0; i < 64 * 8; i++) {
        buf[i / 8] ^= (unsigned char)(1u << (i % 8));
        assert_int_not_equal(lk_crc32c(0, buf, sizeof(buf)), good);
        buf[i / 8] ^= (unsigned char)(1u << (i % 8));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_chaining),
        cmocka_unit_test(test_hw_matches_sw),
        cmocka_unit_test(test_detects_single_bit_flip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
