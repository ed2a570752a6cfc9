/* Unit tests: Loki's detected_labels / detected_fields rules
 * (query/detected.h, query/dfields.h): field types in Loki's order of
 * attempts, IDs (numbers, UUIDs), the labels left out, distinct value sets,
 * and field detection from metadata, json (with jsonPath) and logfmt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "query/detected.h"
#include "query/dfields.h"

static void type_is(const char *v, const char *want)
{
    const char *got = dt_field_type(lk_str_c(v));
    if (strcmp(got, want) != 0)
        fail_msg("type of \"%s\" = %s, want %s", v, got, want);
}

static void test_field_types(void **state)
{
    (void)state;
    type_is("200", "int");
    type_is("-7", "int");
    type_is("9223372036854775808", "float"); /* past int64: ParseFloat takes it */
    type_is("1.5", "float");
    type_is("1e3", "float");
    type_is("NaN", "float");
    type_is("true", "boolean");
    type_is("F", "boolean");
    type_is("yes", "string");
    type_is("244.0ms", "duration");
    type_is("1h30m", "duration");
    type_is("10KB", "bytes");
    type_is("3 MiB", "bytes");
    type_is("GET", "string");
    type_is("", "string");
    type_is("2026-11-02T00:00:14.371Z", "string");
}

static void test_ids(void **state)
{
    (void)state;
    assert_true(dt_is_id(LK_STR("42")));
    assert_true(dt_is_id(LK_STR("4.2")));
    assert_true(dt_is_id(LK_STR("123e4567-e89b-12d3-a456-426614174000")));
    assert_true(dt_is_id(LK_STR("{123e4567-e89b-12d3-a456-426614174000}")));
    assert_true(dt_is_id(LK_STR("urn:uuid:123e4567-e89b-12d3-a456-426614174000")));
    assert_true(dt_is_id(LK_STR("123e4567e89b12d3a456426614174000")));
    assert_false(dt_is_id(LK_STR("123e4567-e89b-12d3-a456-42661417400g")));
    assert_false(dt_is_id(LK_STR("checkout")));

    lk_str none[1];
    assert_true(dt_label_rejected(none, 0));
    lk_str bools[] = { LK_STR("0"), LK_STR("1") };
    assert_false(dt_label_rejected(bools, 2));
    lk_str nums[] = { LK_STR("0"), LK_STR("7") };
    assert_true(dt_label_rejected(nums, 2));
    lk_str three[] = { LK_STR("0"), LK_STR("1"), LK_STR("2") };
    assert_true(dt_label_rejected(three, 3));
    lk_str mixed[] = { LK_STR("1"), LK_STR("2"), LK_STR("web") };
    assert_false(dt_label_rejected(mixed, 3));
}

static void test_set(void **state)
{
    (void)state;
    dt_set s = { 0 };
    assert_true(dt_set_add(&s, LK_STR("b")));
    assert_true(dt_set_add(&s, LK_STR("a")));
    assert_false(dt_set_add(&s, LK_STR("b")));
    assert_true(dt_set_add(&s, LK_STR("")));
    assert_int_equal(s.n, 3);
    assert_true(lk_str_eq_c(s.v[0], ""));
    assert_true(lk_str_eq_c(s.v[1], "a"));
    assert_true(lk_str_eq_c(s.v[2], "b"));
    dt_set_free(&s);
}

static void add_line(dt_fields *f, const lk_labels *stream, const char *line, const lk_label *meta,
                     size_t n_meta)
{
    lk_entry e = { .ts = 1, .line = lk_str_c(line), .n_meta = n_meta, .meta = meta };
    dt_fields_add(f, stream, &e, NULL);
}

static const dt_field *field(const dt_fields *f, const char *name)
{
    const dt_field *df = dt_fields_get(f, lk_str_c(name));
    if (!df)
        fail_msg("no field %s", name);
    return df;
}

static void test_fields(void **state)
{
    (void)state;
    lk_labels stream;
    lk_buf err = { 0 };
    assert_int_equal(labels_parse(LK_STR("{level=\"info\", service_name=\"x\"}"), &stream, &err), 0);
    dt_fields f;
    assert_int_equal(dt_fields_init(&f, 100, &err), 0);
    lk_label meta[] = { { LK_STR("trace_id"), LK_STR("abc") } };
    add_line(&f, &stream, "{\"http\":{\"status\":200,\"user-agent\":\"curl\"},\"msg\":\"hi\","
                          "\"tags\":[1,2],\"level\":\"warn\"}", meta, 1);
    add_line(&f, &stream, "status=500 took=1.5s msg=\"a b\"", NULL, 0);
    add_line(&f, &stream, "not \"logfmt", NULL, 0);

    const dt_field *df = field(&f, "trace_id");
    assert_int_equal(df->parsers, 0);
    assert_int_equal(df->n_path, 0);
    df = field(&f, "http_status");
    assert_int_equal(df->parsers, DT_PARSER_JSON);
    assert_string_equal(df->type, "int");
    assert_int_equal(df->n_path, 2);
    assert_true(lk_str_eq_c(df->path[0], "http") && lk_str_eq_c(df->path[1], "status"));
    df = field(&f, "http_user_agent"); /* sanitized name, original keys */
    assert_true(lk_str_eq_c(df->path[1], "user-agent"));
    df = field(&f, "level_extracted"); /* a stream label's name */
    assert_int_equal(df->n_path, 1);
    assert_true(lk_str_eq_c(df->path[0], "level"));
    assert_null(dt_fields_get(&f, LK_STR("tags"))); /* arrays are skipped */
    df = field(&f, "msg");                          /* json and logfmt */
    assert_int_equal(df->parsers, DT_PARSER_JSON | DT_PARSER_LOGFMT);
    assert_int_equal(df->values.n, 2);
    df = field(&f, "took");
    assert_string_equal(df->type, "duration");
    assert_int_equal(df->parsers, DT_PARSER_LOGFMT);
    assert_null(dt_fields_get(&f, LK_STR("__error__")));
    assert_int_equal(f.n, 7);
    dt_fields_free(&f);

    /* the limit counts fields in the order first seen */
    assert_int_equal(dt_fields_init(&f, 2, &err), 0);
    add_line(&f, &stream, "a=1 b=2 c=3", NULL, 0);
    assert_int_equal(f.n, 2);
    dt_fields_free(&f);
    labels_free(&stream);
    lk_buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_types),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
