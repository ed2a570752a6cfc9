/* Unit tests: lib/jsonw (Go encoding/json compatible escaping and layout). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "lib/jsonw.h"

static void assert_escape(const char *in, size_t len, const char *want)
{
    lk_buf b = { 0 };
    jw_escape(&b, lk_str_n(in, len));
    assert_string_equal(b.p, want);
    lk_buf_free(&b);
}

static void test_escape_like_go(void **state)
{
    (void)state;
    assert_escape("plain", 5, "\"plain\"");
    assert_escape("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    assert_escape("<a&b>", 5, "\"\\u003ca\\u0026b\\u003e\"");
    assert_escape("\n\r\t", 3, "\"\\n\\r\\t\"");
    assert_escape("\x01\x1f\x1b[31m", 7, "\"\\u0001\\u001f\\u001b[31m\"");
    assert_escape("\xe6\x97\xa5\xe6\x9c\xac", 6, "\"\xe6\x97\xa5\xe6\x9c\xac\"");       /* 日本 kept */
    assert_escape("\xe2\x80\xa8x\xe2\x80\xa9", 7, "\"\\u2028x\\u2029\"");                /* line/para separators */
    assert_escape("a\xff" "b", 3, "\"a\\ufffdb\"");                                      /* invalid byte */
    assert_escape("\xc3", 1, "\"\\ufffd\"");                                             /* truncated sequence */
    assert_escape("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");                       /* surrogate */
    assert_escape("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");                         /* emoji kept */
    assert_escape("", 0, "\"\"");
    assert_escape("nul\0x", 5, "\"nul\\u0000x\"");
}

static void test_structure_and_commas(void **state)
{
    (void)state;
    lk_buf b = { 0 };
    jw w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "a");
    jw_arr_open(&w);
    jw_i64(&w, 1);
    jw_i64_str(&w, -2);
    jw_bool(&w, true);
    jw_null(&w);
    jw_arr_close(&w);
    jw_key(&w, "b");
    jw_obj_open(&w);
    jw_obj_close(&w);
    jw_key(&w, "c");
    jw_f64(&w, 0.1);
    jw_key(&w, "d");
    jw_f64(&w, 1793491200.5);
    jw_key(&w, "e");
    jw_arr_open(&w);
    jw_f64(&w, 0.000085);
    jw_f64(&w, 1e-7);
    jw_f64(&w, -2.5e21);
    jw_f64(&w, 1e20);
    jw_f64(&w, 0);
    jw_f64(&w, 3);
    jw_arr_close(&w);
    jw_obj_close(&w);
    assert_string_equal(b.p, "{\"a\":[1,\"-2\",true,null],\"b\":{},\"c\":0.1,\"d\":1793491200.5,"
                             "\"e\":[0.000085,1e-7,-2.5e+21,100000000000000000000,0,3]}");
    lk_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_like_go),
        cmocka_unit_test(test_structure_and_commas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
