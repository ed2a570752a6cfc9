/* Unit tests: api/tenant (X-Scope-OrgID -> tenant, dskit's rules and
 * messages). Issue 9 item 1: a NUL inside the id ("victimA<NUL>evil") was
 * taken for a valid character (strchr finds the terminator), so the id
 * read as another tenant's; "." and ".." got a wrong message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/tenant.h"
#include "lib/err.h"

/* Parses id (n bytes) and expects the tenant want. */
static void ok(const char *id, size_t n, const char *want)
{
    lk_str t = LK_STR_NULL;
    int status = 0;
    lk_buf err = { 0 };
    assert_int_equal(api_tenant_parse(lk_str_n(id, n), &t, &status, &err), LK_OK);
    assert_true(lk_str_eq_c(t, want));
    assert_int_equal(status, 0);
    assert_null(err.p);
}

/* Parses id (n bytes) and expects status and Loki's message. */
static void bad(const char *id, size_t n, int want_status, const char *want_msg, size_t msg_len)
{
    lk_str t = LK_STR_NULL;
    int status = 0;
    lk_buf err = { 0 };
    assert_int_equal(api_tenant_parse(lk_str_n(id, n), &t, &status, &err), LK_EINVAL);
    assert_int_equal(status, want_status);
    assert_int_equal(err.len, msg_len);
    assert_memory_equal(err.p, want_msg, msg_len);
    assert_null(t.p);
    lk_buf_free(&err);
}

#define OK(id, want) ok(id, sizeof(id) - 1, want)
#define BAD(id, st, msg) bad(id, sizeof(id) - 1, st, msg, sizeof(msg) - 1)

static void test_valid(void **state)
{
    (void)state;
    OK("team-a", "team-a");
    OK("A.z_0-9!*'()", "A.z_0-9!*'()");
    OK("...", "...");
    OK(".a", ".a");
    char max[API_TENANT_MAX_LEN + 1];
    memset(max, 'x', sizeof max - 1);
    max[sizeof max - 1] = '\0';
    ok(max, API_TENANT_MAX_LEN, max);
}

static void test_nul_and_bytes(void **state)
{
    (void)state;
    /* every byte is checked: the NUL, and what follows it */
    BAD("victimA\0evil", 400, "tenant ID 'victimA\0evil' contains unsupported character '\0'");
    BAD("victimA\0", 400, "tenant ID 'victimA\0' contains unsupported character '\0'");
    BAD("a b", 400, "tenant ID 'a b' contains unsupported character ' '");
    BAD("a/b", 400, "tenant ID 'a/b' contains unsupported character '/'");
    BAD("a:b", 400, "tenant ID 'a:b' contains unsupported character ':'");
    /* Go prints the byte as the code point U+00xx: 0xC3 is 'Ã' */
    BAD("caf\xc3\xa9", 400, "tenant ID 'caf\xc3\xa9' contains unsupported character '\xc3\x83'");
}

static void test_length_and_dots(void **state)
{
    (void)state;
    char long_id[API_TENANT_MAX_LEN + 1];
    memset(long_id, 'x', sizeof long_id);
    bad(long_id, sizeof long_id, 400, "tenant ID is too long: max 150 characters", 41);
    BAD(".", 400, "tenant ID is '.' or '..'");
    BAD("..", 400, "tenant ID is '.' or '..'");
    /* characters are checked before the length */
    char long_bad[API_TENANT_MAX_LEN + 2];
    memset(long_bad, 'x', sizeof long_bad);
    long_bad[sizeof long_bad - 1] = ' ';
    lk_str t;
    int status = 0;
    lk_buf err = { 0 };
    assert_int_equal(api_tenant_parse(lk_str_n(long_bad, sizeof long_bad), &t, &status, &err),
                     LK_EINVAL);
    assert_non_null(strstr(err.p, "contains unsupported character ' '"));
    lk_buf_free(&err);
}

static void test_missing_and_several(void **state)
{
    (void)state;
    BAD("", 401, "no org id");
    OK("a|a", "a");
    OK("a|a|a", "a");
    BAD("a|b", 400, "multiple org IDs present");
    BAD("a|", 400, "multiple org IDs present");
    BAD("a||a", 400, "multiple org IDs present");
    /* Loki would take "|" as the empty tenant */
    BAD("|", 401, "no org id");
    /* every part is checked before "several" is answered */
    BAD("a|b c", 400, "tenant ID 'b c' contains unsupported character ' '");
    BAD("a|..", 400, "tenant ID is '.' or '..'");
}

/* Several tenants where a multi-tenant read allows them (dskit's
 * TenantIDs): sorted, distinct, joined with '|'. */
static void multi(const char *id, const char *want, size_t want_n)
{
    lk_arena a = { 0 };
    lk_str t = LK_STR_NULL;
    size_t n = 0;
    int status = 0;
    lk_buf err = { 0 };
    assert_int_equal(api_tenants_parse(lk_str_c(id), &a, &t, &n, &status, &err), LK_OK);
    assert_true(lk_str_eq_c(t, want));
    assert_int_equal(n, want_n);
    lk_arena_free(&a);
}

static void multi_bad(const char *id, int want_status, const char *want_msg)
{
    lk_arena a = { 0 };
    lk_str t = LK_STR_NULL;
    size_t n = 0;
    int status = 0;
    lk_buf err = { 0 };
    assert_int_equal(api_tenants_parse(lk_str_c(id), &a, &t, &n, &status, &err), LK_EINVAL);
    assert_int_equal(status, want_status);
    assert_string_equal(err.p, want_msg);
    lk_buf_free(&err);
    lk_arena_free(&a);
}

static void test_multi_tenant(void **state)
{
    (void)state;
    multi("a", "a", 1);
    multi("b|a", "a|b", 2);
    multi("c|a|c|b|a", "a|b|c", 3);
    multi("a|a", "a", 1);
    multi("a||b|", "a|b", 2);
    multi_bad("", 401, "no org id");
    multi_bad("|", 401, "no org id");
    multi_bad("a|b c", 400, "tenant ID 'b c' contains unsupported character ' '");
    multi_bad("a|..", 400, "tenant ID is '.' or '..'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_nul_and_bytes),
        cmocka_unit_test(test_length_and_dots),
        cmocka_unit_test(test_missing_and_several),
        cmocka_unit_test(test_multi_tenant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
