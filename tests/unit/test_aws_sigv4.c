/* Unit tests: AWS Signature Version 4 (storage/aws_sigv4.h) against AWS's
 * published vectors: the SigV4 test suite's get-vanilla,
 * get-vanilla-query-order-key-case, post-vanilla and get-utf8 (credentials
 * AKIDEXAMPLE, service "service", 20150830T123600Z) and the S3 API
 * reference's header-signing examples (GET with Range, PUT of "test$file.text",
 * GET ?lifecycle, GET ?max-keys=2&prefix=J; examplebucket, 20130524). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/err.h"
#include "storage/aws_sigv4.h"

#define SUITE_KEY "AKIDEXAMPLE"
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define S3_KEY "AKIAIOSFODNN7EXAMPLE"
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3_HOST "examplebucket.s3.amazonaws.com"

static const char *signature_of(const char *auth)
{
    const char *s = strstr(auth, "Signature=");
    assert_non_null(s);
    return s + 10;
}

static void sign_suite(const char *method, const char *path, const char *query,
                       const char *want_sig)
{
    const aws_hdr h[] = { { "Host", "example.amazonaws.com" },
                          { "X-Amz-Date", "20150830T123600Z" } };
    aws_sign_in in = { method, path, query, h, 2, AWS_EMPTY_SHA256, SUITE_KEY, SUITE_SECRET,
                       "us-east-1", "service", "20150830T123600Z" };
    lk_buf out = { 0 };
    assert_int_equal(aws_sigv4_authorization(&in, &out), LK_OK);
    assert_string_equal(signature_of(out.p), want_sig);
    lk_buf_free(&out);
}

static void test_suite_get_vanilla(void **state)
{
    (void)state;
    const aws_hdr h[] = { { "Host", "example.amazonaws.com" },
                          { "X-Amz-Date", "20150830T123600Z" } };
    aws_sign_in in = { "GET", "/", "", h, 2, AWS_EMPTY_SHA256, SUITE_KEY, SUITE_SECRET,
                       "us-east-1", "service", "20150830T123600Z" };
    lk_buf out = { 0 };
    assert_int_equal(aws_sigv4_authorization(&in, &out), LK_OK);
    assert_string_equal(out.p, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                               "service/aws4_request, SignedHeaders=host;x-amz-date, "
                               "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8"
                               "aae1d763fbf31");
    lk_buf_free(&out);
}

static void test_suite_query_order_and_post(void **state)
{
    (void)state;
    sign_suite("GET", "/", "Param2=value2&Param1=value1",
               "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    sign_suite("POST", "/", "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

static void test_suite_get_utf8(void **state)
{
    (void)state;
    lk_buf path = { 0 };
    aws_uri_encode(&path, LK_STR("/\xe1\x88\xb4"), true);
    assert_string_equal(path.p, "/%E1%88%B4");
    sign_suite("GET", path.p, "", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
    lk_buf_free(&path);
}

static void sign_s3(const char *method, const char *path, const char *query, const aws_hdr *extra,
                    size_t nextra, const char *payload_hash, const char *want_sig)
{
    aws_hdr h[8] = { { "host", S3_HOST }, { "x-amz-date", "20130524T000000Z" },
                     { "x-amz-content-sha256", payload_hash } };
    size_t n = 3;
    for (size_t i = 0; i < nextra; i++)
        h[n++] = extra[i];
    aws_sign_in in = { method, path, query, h, n, payload_hash, S3_KEY, S3_SECRET, "us-east-1",
                       "s3", "20130524T000000Z" };
    lk_buf out = { 0 };
    assert_int_equal(aws_sigv4_authorization(&in, &out), LK_OK);
    assert_string_equal(signature_of(out.p), want_sig);
    lk_buf_free(&out);
}

static void test_s3_get_range(void **state)
{
    (void)state;
    const aws_hdr range[] = { { "Range", "bytes=0-9" } };
    sign_s3("GET", "/test.txt", "", range, 1, AWS_EMPTY_SHA256,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void test_s3_put_escaped_key(void **state)
{
    (void)state;
    const char body[] = "Welcome to Amazon S3.";
    char hash[65];
    aws_sha256_hex(body, strlen(body), hash);
    assert_string_equal(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    lk_buf path = { 0 };
    aws_uri_encode(&path, LK_STR("/test$file.text"), true);
    assert_string_equal(path.p, "/test%24file.text");
    const aws_hdr extra[] = { { "Date", "Fri, 24 May 2013 00:00:00 GMT" },
                              { "x-amz-storage-class", "REDUCED_REDUNDANCY" } };
    sign_s3("PUT", path.p, "", extra, 2, hash,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    lk_buf_free(&path);
}

static void test_s3_queries(void **state)
{
    (void)state;
    /* a bare name is signed as "name=" */
    sign_s3("GET", "/", "lifecycle", NULL, 0, AWS_EMPTY_SHA256,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    /* sorted by name whatever order the request has */
    sign_s3("GET", "/", "prefix=J&max-keys=2", NULL, 0, AWS_EMPTY_SHA256,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

static void test_canonical_request(void **state)
{
    (void)state;
    const aws_hdr h[] = { { "X-Amz-Date", "20150830T123600Z" },
                          { "My-Header1", "  a   b   c  " },
                          { "Host", "example.amazonaws.com" } };
    aws_sign_in in = { "GET", "/", "b=2&a=1&a=0", h, 3, AWS_EMPTY_SHA256, SUITE_KEY,
                       SUITE_SECRET, "us-east-1", "service", "20150830T123600Z" };
    lk_buf out = { 0 };
    aws_sigv4_canonical_request(&in, &out);
    assert_string_equal(out.p, "GET\n/\na=0&a=1&b=2\nhost:example.amazonaws.com\n"
                               "my-header1:a b c\nx-amz-date:20150830T123600Z\n\n"
                               "host;my-header1;x-amz-date\n" AWS_EMPTY_SHA256);
    lk_buf_free(&out);
}

static void test_encode_and_date(void **state)
{
    (void)state;
    lk_buf out = { 0 };
    aws_uri_encode(&out, LK_STR("a b*(c)/~-_.+="), false);
    assert_string_equal(out.p, "a%20b%2A%28c%29%2F~-_.%2B%3D");
    char d[17];
    aws_amz_date(1440938160, d);
    assert_string_equal(d, "20150830T123600Z");
    aws_sign_in in = { .amz_date = "2015" };
    assert_int_equal(aws_sigv4_authorization(&in, &out), LK_EINVAL);
    lk_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_get_vanilla),
        cmocka_unit_test(test_suite_query_order_and_post),
        cmocka_unit_test(test_suite_get_utf8),
        cmocka_unit_test(test_s3_get_range),
        cmocka_unit_test(test_s3_put_escaped_key),
        cmocka_unit_test(test_s3_queries),
        cmocka_unit_test(test_canonical_request),
        cmocka_unit_test(test_encode_and_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
