/* Unit tests: SHA-1 (lib/sha1.h) against FIPS 180 test vectors, inputs
 * split across its two arguments, and the WebSocket accept value of
 * RFC 6455's example (api/ws.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "api/ws.h"
#include "lib/sha1.h"

static void hex(const uint8_t *d, char out[41])
{
    for (int i = 0; i < LK_SHA1_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void check(const char *a, const char *b, const char *want)
{
    uint8_t d[LK_SHA1_LEN];
    char h[41];
    lk_sha1(a, strlen(a), b, strlen(b), d);
    hex(d, h);
    assert_string_equal(h, want);
}

static void test_vectors(void **state)
{
    (void)state;
    check("", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    check("abc", "", "a9993e364706816aba3e25717850c26c9cd0d89d");
    check("a", "bc", "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes */
    check(m, "", "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    check(m, m, "afc53a4ea20856f98e08dc6f3a5c9833137768ed");
    char million[1000001];
    memset(million, 'a', 1000000);
    million[1000000] = '\0';
    check(million, "", "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_websocket_accept(void **state)
{
    (void)state;
    lk_buf out = { 0 };
    ws_accept_value(LK_STR("dGhlIHNhbXBsZSBub25jZQ=="), &out);
    assert_string_equal(out.p, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    lk_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_websocket_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
