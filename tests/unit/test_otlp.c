/* Unit tests for api/otlp*: OTLP logs in protobuf (bodies built by the
 * small encoder below from opentelemetry-proto's field numbers) and JSON
 * mapped to push requests as Loki 3.6 maps them; AnyValue rendering,
 * label name normalization, limits_config.otlp_config and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/otlp.h"
#include "lib/config.h"
#include "lib/err.h"

/* ------------------------------------------------------------ encoder */

static void varint(lk_buf *b, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        lk_buf_putc(b, (char)(0x80 | (v & 0x7f)));
    lk_buf_putc(b, (char)v);
}

static void tag(lk_buf *b, int field, int wire) { varint(b, (uint64_t)(field << 3 | wire)); }

static void bytes_field(lk_buf *b, int field, const void *p, size_t n)
{
    tag(b, field, 2);
    varint(b, n);
    lk_buf_append(b, p, n);
}

static void str_field(lk_buf *b, int field, const char *s) { bytes_field(b, field, s, strlen(s)); }

static void sub_field(lk_buf *b, int field, lk_buf *sub)
{
    bytes_field(b, field, sub->p, sub->len);
    lk_buf_free(sub);
}

static void fixed64_field(lk_buf *b, int field, uint64_t v)
{
    tag(b, field, 1);
    for (int i = 0; i < 8; i++)
        lk_buf_putc(b, (char)(v >> (8 * i)));
}

/* KeyValue{key, AnyValue{string_value}} */
static void kv_str(lk_buf *b, int field, const char *k, const char *v)
{
    lk_buf kv = { 0 }, av = { 0 };
    str_field(&kv, 1, k);
    str_field(&av, 1, v);
    sub_field(&kv, 2, &av);
    sub_field(b, field, &kv);
}

/* KeyValue{key, AnyValue{int_value}} */
static void kv_int(lk_buf *b, int field, const char *k, int64_t v)
{
    lk_buf kv = { 0 }, av = { 0 };
    str_field(&kv, 1, k);
    tag(&av, 3, 0);
    varint(&av, (uint64_t)v);
    sub_field(&kv, 2, &av);
    sub_field(b, field, &kv);
}

#define T1 UINT64_C(1793577600000000001)
#define T2 UINT64_C(1793577600500000000)

/* One resource (service.name=cart, k8s.pod.name=p1, host.name=h1, a map
 * attribute net={peer.port: 8080}), one scope (lib 1.2, attribute
 * team=core), two records: the first with everything set, the second with
 * only an observed time. */
static void sample_proto(lk_buf *out)
{
    lk_buf res = { 0 }, rl = { 0 }, sl = { 0 }, scope = { 0 }, lr = { 0 }, lr2 = { 0 };
    kv_str(&res, 1, "service.name", "cart");
    kv_str(&res, 1, "k8s.pod.name", "p1");
    kv_str(&res, 1, "host.name", "h1");
    {
        lk_buf kv = { 0 }, av = { 0 }, list = { 0 };
        kv_int(&list, 1, "peer.port", 8080);
        sub_field(&av, 6, &list);
        str_field(&kv, 1, "net");
        sub_field(&kv, 2, &av);
        sub_field(&res, 1, &kv);
    }
    sub_field(&rl, 1, &res);
    str_field(&scope, 1, "lib");
    str_field(&scope, 2, "1.2");
    kv_str(&scope, 3, "team", "core");
    sub_field(&sl, 1, &scope);

    fixed64_field(&lr, 1, T1);
    tag(&lr, 2, 0);
    varint(&lr, 9);
    str_field(&lr, 3, "INFO");
    {
        lk_buf av = { 0 };
        str_field(&av, 1, "hello otlp");
        sub_field(&lr, 5, &av);
    }
    kv_str(&lr, 6, "http.method", "GET");
    kv_int(&lr, 6, "status", 200);
    tag(&lr, 8, 5);
    lk_buf_append(&lr, "\x01\x00\x00\x00", 4);
    bytes_field(&lr, 9, "\xf0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16);
    bytes_field(&lr, 10, "\xab\xcd\x00\x00\x00\x00\x00\x01", 8);
    fixed64_field(&lr, 11, T1 + 5);
    sub_field(&sl, 2, &lr);

    fixed64_field(&lr2, 11, T2);
    {
        lk_buf av = { 0 };
        tag(&av, 2, 0);
        varint(&av, 1);
        sub_field(&lr2, 5, &av);
    }
    sub_field(&sl, 2, &lr2);
    sub_field(&rl, 2, &sl);
    sub_field(out, 1, &rl);
}

static const char sample_json[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"cart\"}},"
    "{\"key\":\"k8s.pod.name\",\"value\":{\"stringValue\":\"p1\"}},"
    "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"h1\"}},"
    "{\"key\":\"net\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"peer.port\","
    "\"value\":{\"intValue\":\"8080\"}}]}}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"lib\",\"version\":\"1.2\",\"attributes\":["
    "{\"key\":\"team\",\"value\":{\"stringValue\":\"core\"}}]},\"logRecords\":["
    "{\"timeUnixNano\":\"1793577600000000001\",\"observedTimeUnixNano\":\"1793577600000000006\","
    "\"severityNumber\":\"SEVERITY_NUMBER_INFO\",\"severityText\":\"INFO\","
    "\"body\":{\"stringValue\":\"hello otlp\"},\"attributes\":["
    "{\"key\":\"http.method\",\"value\":{\"stringValue\":\"GET\"}},"
    "{\"key\":\"status\",\"value\":{\"intValue\":200}}],\"flags\":1,"
    "\"traceId\":\"F00102030405060708090A0B0C0D0E0F\",\"spanId\":\"abcd000000000001\"},"
    "{\"observed_time_unix_nano\":1793577600500000000,\"body\":{\"boolValue\":true}}]}]}]}";

/* ------------------------------------------------------------ helpers */

/* Loki 3.6's default discover_service_name list, from the config defaults. */
static const lk_cfg_list *default_discover_list(void)
{
    static lk_config cfg;
    static bool done;
    if (!done) {
        config_defaults(&cfg);
        done = true;
    }
    return &cfg.discover_service_name;
}

static int decode(const char *ct, const char *enc, lk_str body, const lk_otlp_config *cfg,
                  push_request *req, lk_buf *err)
{
    otlp_input in = {
        .content_type = lk_str_c(ct),
        .content_encoding = lk_str_c(enc),
        .body = body.p,
        .len = body.len,
        .max_decompressed = 1 << 20,
        .cfg = cfg,
        .discover_service_name = default_discover_list(),
    };
    return otlp_decode(&in, req, err);
}

/* "name=value,..." of n labels */
static void join(const lk_label *l, size_t n, lk_buf *out)
{
    for (size_t i = 0; i < n; i++)
        lk_buf_printf(out, "%s%.*s=%.*s", i ? "," : "", LK_STR_FMT(l[i].name),
                      LK_STR_FMT(l[i].value));
}

static void assert_labels(const lk_label *l, size_t n, const char *want)
{
    lk_buf b = { 0 };
    join(l, n, &b);
    assert_string_equal(b.p ? b.p : "", want);
    lk_buf_free(&b);
}

static void check_sample(const push_request *req)
{
    assert_int_equal(req->n_streams, 1);
    const push_stream *s = &req->streams[0];
    assert_true(s->has_pairs);
    assert_labels(s->pairs, s->n_pairs, "service_name=cart,k8s_pod_name=p1");
    assert_int_equal(s->n_entries, 2);
    const lk_entry *e = &s->entries[0];
    assert_true(e->ts == (int64_t)T1);
    assert_true(lk_str_eq_c(e->line, "hello otlp"));
    assert_labels(e->meta, e->n_meta,
                  "http_method=GET,status=200,observed_timestamp=1793577600000000006,"
                  "severity_number=9,severity_text=INFO,flags=1,"
                  "trace_id=f00102030405060708090a0b0c0d0e0f,span_id=abcd000000000001,"
                  "host_name=h1,net_peer_port=8080,team=core,scope_name=lib,scope_version=1.2");
    e = &s->entries[1];
    assert_true(e->ts == (int64_t)T2);
    assert_true(lk_str_eq_c(e->line, "true"));
    assert_labels(e->meta, e->n_meta, "host_name=h1,net_peer_port=8080,team=core,scope_name=lib,"
                                      "scope_version=1.2");
}

/* ------------------------------------------------------------ tests */

static void test_proto_mapping(void **state)
{
    (void)state;
    lk_buf body = { 0 }, err = { 0 };
    sample_proto(&body);
    push_request req;
    assert_int_equal(decode("application/x-protobuf", "", lk_buf_str(&body), NULL, &req, &err),
                     LK_OK);
    check_sample(&req);
    push_request_free(&req);
    lk_buf_free(&body);
    lk_buf_free(&err);
}

static void test_json_mapping(void **state)
{
    (void)state;
    lk_buf err = { 0 };
    push_request req;
    assert_int_equal(decode("application/json", "", LK_STR(sample_json), NULL, &req, &err),
                     LK_OK);
    check_sample(&req);
    push_request_free(&req);
    lk_buf_free(&err);
}

static void gzip_to(lk_str in, lk_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    lk_buf_reserve(out, deflateBound(&zs, in.len));
    zs.next_in = (unsigned char *)in.p;
    zs.avail_in = (unsigned)in.len;
    zs.next_out = (unsigned char *)out->p;
    zs.avail_out = (unsigned)deflateBound(&zs, in.len);
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out->len = zs.total_out;
    deflateEnd(&zs);
}

static void test_gzip(void **state)
{
    (void)state;
    lk_buf body = { 0 }, gz = { 0 }, err = { 0 };
    sample_proto(&body);
    gzip_to(lk_buf_str(&body), &gz);
    push_request req;
    assert_int_equal(decode("application/x-protobuf", "gzip", lk_buf_str(&gz), NULL, &req, &err),
                     LK_OK);
    check_sample(&req);
    push_request_free(&req);
    lk_buf_free(&gz);
    gz = (lk_buf){ 0 };
    gzip_to(LK_STR(sample_json), &gz);
    assert_int_equal(decode("application/json", "gzip", lk_buf_str(&gz), NULL, &req, &err), LK_OK);
    check_sample(&req);
    push_request_free(&req);
    lk_buf_free(&body);
    lk_buf_free(&gz);
    lk_buf_free(&err);
}

static void one_resource(const char *attrs_json, const lk_otlp_config *cfg, const char *labels,
                         const char *meta)
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"resourceLogs\":[{\"resource\":{\"attributes\":[%s]},\"scopeLogs\":[{"
             "\"logRecords\":[{\"timeUnixNano\":\"5\",\"body\":{\"stringValue\":\"x\"}}]}]}]}",
             attrs_json);
    lk_buf err = { 0 };
    push_request req;
    assert_int_equal(decode("application/json", "", lk_str_c(body), cfg, &req, &err), LK_OK);
    assert_int_equal(req.n_streams, 1);
    assert_labels(req.streams[0].pairs, req.streams[0].n_pairs, labels);
    assert_labels(req.streams[0].entries[0].meta, req.streams[0].entries[0].n_meta, meta);
    push_request_free(&req);
    lk_buf_free(&err);
}

#define A(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"

static void test_service_name(void **state)
{
    (void)state;
    /* no service.name: unknown_service */
    one_resource(A("k8s.namespace.name", "ns") "," A("host.name", "h"), NULL,
                 "k8s_namespace_name=ns,service_name=unknown_service", "host_name=h");
    /* an empty service.name does not count; k8s.container.name is in
     * Loki's discovery list */
    one_resource(A("service.name", "") "," A("k8s.container.name", "web"), NULL,
                 "service_name=web,k8s_container_name=web", "");
    one_resource(A("service.name", "svc") "," A("k8s.container.name", "web"), NULL,
                 "service_name=svc,k8s_container_name=web", "");
}

static void load_cfg(const char *yaml, lk_config *c, int want_rc, const char *want_err)
{
    config_defaults(c);
    lk_buf err = { 0 };
    assert_int_equal(config_load_yaml(c, "t.yaml", lk_str_c(yaml), false, &err), want_rc);
    if (want_err)
        assert_non_null(strstr(err.p ? err.p : "", want_err));
    lk_buf_free(&err);
}

static void test_otlp_config(void **state)
{
    (void)state;
    lk_config c;
    load_cfg("limits_config:\n  otlp_config:\n    resource_attributes:\n"
             "      attributes_config:\n        - action: index_label\n"
             "          attributes: [host.name]\n        - action: drop\n"
             "          regex: tmp\\..*\n        - action: drop\n"
             "          attributes: [service.name]\n"
             "    log_attributes:\n      - action: drop\n        attributes: [secret]\n",
             &c, LK_OK, NULL);
    /* defaults first: service.name stays an index label */
    one_resource(A("service.name", "s") "," A("host.name", "h") "," A("tmp.a", "1") ","
                 A("tmp", "2"), &c.otlp, "service_name=s,host_name=h", "tmp=2");
    config_free(&c);

    load_cfg("limits_config:\n  otlp_config:\n    resource_attributes:\n"
             "      ignore_defaults: true\n      attributes_config:\n"
             "        - action: index_label\n          attributes: [host.name]\n",
             &c, LK_OK, NULL);
    /* service.name, though not an index label, still names the service
     * (no unknown_service), as in Loki */
    one_resource(A("service.name", "s") "," A("host.name", "h"), &c.otlp, "host_name=h",
                 "service_name=s");
    config_free(&c);

    load_cfg("limits_config:\n  otlp_config:\n    log_attributes:\n"
             "      - action: index_label\n        attributes: [a]\n",
             &c, LK_EINVAL, "index_label action is only supported for resource_attributes");
    config_free(&c);
    load_cfg("limits_config:\n  otlp_config:\n    scope_attributes:\n"
             "      - action: keep\n        attributes: [a]\n",
             &c, LK_EINVAL, "t.yaml:4:17: unsupported action");
    config_free(&c);
    load_cfg("limits_config:\n  otlp_config:\n    scope_attributes:\n"
             "      - action: drop\n        attributes: [a]\n        regex: b\n",
             &c, LK_EINVAL, "only one of attributes or regex must be set");
    config_free(&c);
}

static void assert_value(const otlp_value *v, const char *want)
{
    lk_buf b = { 0 };
    otlp_value_string(v, &b);
    assert_string_equal(b.p ? b.p : "", want);
    lk_buf_free(&b);
}

static void test_value_string(void **state)
{
    (void)state;
    assert_value(&(otlp_value){ .kind = OTLP_EMPTY }, "");
    assert_value(&(otlp_value){ .kind = OTLP_BOOL, .b = false }, "false");
    assert_value(&(otlp_value){ .kind = OTLP_INT, .i = -42 }, "-42");
    assert_value(&(otlp_value){ .kind = OTLP_DOUBLE, .d = 1.5 }, "1.5");
    assert_value(&(otlp_value){ .kind = OTLP_DOUBLE, .d = 1e21 }, "1e+21");
    assert_value(&(otlp_value){ .kind = OTLP_DOUBLE, .d = 1e-7 }, "1e-7");
    assert_value(&(otlp_value){ .kind = OTLP_DOUBLE, .d = 123456789.0 }, "123456789");
    assert_value(&(otlp_value){ .kind = OTLP_DOUBLE, .d = NAN },
                 "json: unsupported value: NaN");
    assert_value(&(otlp_value){ .kind = OTLP_BYTES, .s = LK_STR("hi!") }, "aGkh");
    otlp_value items[3] = {
        { .kind = OTLP_STRING, .s = LK_STR("<a>") },
        { .kind = OTLP_EMPTY },
        { .kind = OTLP_DOUBLE, .d = 2 },
    };
    assert_value(&(otlp_value){ .kind = OTLP_ARRAY, .items = items, .n = 3 },
                 "[\"\\u003ca\\u003e\",null,2]");
    otlp_kv kvs[3] = {
        { LK_STR("z"), { .kind = OTLP_INT, .i = 1 } },
        { LK_STR("a"), { .kind = OTLP_BOOL, .b = true } },
        { LK_STR("z"), { .kind = OTLP_INT, .i = 2 } },
    };
    /* a Go map: sorted keys, the last duplicate wins */
    assert_value(&(otlp_value){ .kind = OTLP_KVLIST, .kvs = kvs, .n = 3 }, "{\"a\":true,\"z\":2}");
    /* a key-less KeyValue (no key field on the wire) is the key "": a
     * regression for fuzz_otlp's regress_null_key (NULL passed to the
     * escaper) */
    otlp_kv nokey = { LK_STR_NULL, { .kind = OTLP_INT, .i = 1 } };
    assert_value(&(otlp_value){ .kind = OTLP_KVLIST, .kvs = &nokey, .n = 1 }, "{\"\":1}");
    /* json.Marshal fails on NaN: "" */
    items[2].d = NAN;
    assert_value(&(otlp_value){ .kind = OTLP_ARRAY, .items = items, .n = 3 }, "");
}

static void assert_norm(const char *in, const char *want)
{
    lk_buf b = { 0 };
    otlp_normalize_label(lk_str_c(in), &b);
    assert_string_equal(b.p ? b.p : "", want);
    lk_buf_free(&b);
}

static void test_normalize_label(void **state)
{
    (void)state;
    assert_norm("k8s.pod.name", "k8s_pod_name");
    assert_norm("0abc", "key_0abc");
    assert_norm("_x", "key_x");
    assert_norm("__x", "__x");
    assert_norm(".x", "key_x");
    assert_norm("caf\xc3\xa9-x", "caf__x");
    assert_norm("a\xff" "b", "a_b");
    assert_norm("", "");
}

static void expect_error(const char *ct, lk_str body, int status, const char *msg)
{
    lk_buf err = { 0 };
    push_request req;
    int rc = decode(ct, "", body, NULL, &req, &err);
    assert_true(rc < 0);
    assert_int_equal(push_decode_status(rc), status);
    assert_non_null(strstr(err.p ? err.p : "", msg));
    lk_buf_free(&err);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("text/plain", LK_STR("x"), 400, "content type: text/plain is not supported");
    expect_error("application/json; charset=utf-8", LK_STR("{}"), 400,
                 "content type: application/json; charset=utf-8 is not supported");
    expect_error("application/x-protobuf", LK_STR("\x0a\x05\x0a"), 400, "unexpected EOF");
    expect_error("application/x-protobuf", LK_STR("\x08\x01"), 400, "wrong wireType");
    expect_error("application/json", LK_STR("{\"resourceLogs\":[{"), 400, "");
    expect_error("application/json",
                 LK_STR("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":\"ab\"}]}]}]}"),
                 400, "invalid length for traceId");
    /* a value nested past the limit is refused, not recursed into */
    lk_buf deep = { 0 };
    lk_buf_puts(&deep, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":");
    for (int i = 0; i < OTLP_MAX_DEPTH + 2; i++)
        lk_buf_puts(&deep, "{\"arrayValue\":{\"values\":[");
    for (int i = 0; i < OTLP_MAX_DEPTH + 2; i++)
        lk_buf_puts(&deep, "]}}");
    lk_buf_puts(&deep, "}]}]}]}");
    expect_error("application/json", lk_buf_str(&deep), 400, "nested too deeply");
    lk_buf_free(&deep);
    /* over max_decompressed */
    char big[2 << 20];
    memset(big, ' ', sizeof big);
    expect_error("application/json", lk_str_n(big, sizeof big), 413, "request body too large");
}

static void test_empty_request(void **state)
{
    (void)state;
    lk_buf err = { 0 };
    push_request req;
    assert_int_equal(decode("application/x-protobuf", "", LK_STR(""), NULL, &req, &err), LK_OK);
    assert_int_equal(req.n_streams, 0);
    push_request_free(&req);
    assert_int_equal(decode("application/json", "", LK_STR("{}"), NULL, &req, &err), LK_OK);
    assert_int_equal(req.n_streams, 0);
    push_request_free(&req);
    lk_buf_free(&err);
}

static void test_error_body(void **state)
{
    (void)state;
    lk_buf b = { 0 };
    otlp_error_body(&b, LK_STR("bad"));
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.p, "\x12\x03" "bad", 5);
    lk_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto_mapping),
        cmocka_unit_test(test_json_mapping),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_service_name),
        cmocka_unit_test(test_otlp_config),
        cmocka_unit_test(test_value_string),
        cmocka_unit_test(test_normalize_label),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_empty_request),
        cmocka_unit_test(test_error_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
