/* Unit tests for Loki 3's push-time enrichment (api/push_discover.c and the
 * line reader query/pipeline/level.c): service_name discovery, detected_level
 * from labels, metadata, OTLP severity, JSON, logfmt and keywords, with the
 * cases where Loki's rules surprise, and how validation applies them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "api/push_discover.h"
#include "api/push_validate.h"
#include "lib/err.h"
#include "query/pipeline/level.h"

#define SEC INT64_C(1000000000)
#define NOW (INT64_C(1793491200) * SEC)

/* Loki 3.6's defaults, as lokic's config has them. */
static void loki3(lk_config *c, const char *extra)
{
    config_defaults(c);
    lk_buf err = { 0 };
    if (extra && config_load_yaml(c, "test.yaml", lk_str_c(extra), false, &err) != LK_OK)
        fail_msg("config: %s", err.p);
    lk_buf_free(&err);
}

static lk_labels parse(const char *text)
{
    lk_labels l;
    lk_buf err = { 0 };
    assert_int_equal(labels_parse(lk_str_c(text), &l, &err), LK_OK);
    lk_buf_free(&err);
    return l;
}

/* The service_name discovery gives text (NULL: leaves the labels alone). */
static void check_service(const lk_config *c, const char *labels, const char *want)
{
    lk_labels l = parse(labels);
    bool added = push_discover_service_name(c, &l);
    const lk_str *v = labels_get(&l, LK_STR("service_name"));
    if (!want) {
        assert_false(added);
    } else {
        assert_true(added);
        assert_non_null(v);
        if (!lk_str_eq_c(*v, want))
            fail_msg("%s: service_name=%.*s, want %s", labels, LK_STR_FMT(*v), want);
    }
    lk_buf canon = { 0 };
    labels_canonical(&l, &canon); /* still sorted */
    lk_labels again = parse(canon.p);
    assert_int_equal(again.n, l.n);
    labels_free(&again);
    lk_buf_free(&canon);
    labels_free(&l);
}

static void test_service_name(void **state)
{
    (void)state;
    lk_config c;
    loki3(&c, NULL);
    /* the list's order decides, not the labels' */
    check_service(&c, "{container=\"c\", app=\"a\", job=\"j\"}", "a");
    check_service(&c, "{job=\"batch/reporter\", pod=\"p\"}", "batch/reporter");
    check_service(&c, "{app_kubernetes_io_name=\"payments\", container=\"x\"}", "payments");
    check_service(&c, "{k8s_job_name=\"last\"}", "last");
    check_service(&c, "{host=\"edge-1\", cluster=\"edge\"}", "unknown_service");
    /* an explicit service_name is kept as it is */
    check_service(&c, "{service_name=\"legacy-billing\", app=\"other\"}", NULL);
    /* Loki's internal streams get none */
    check_service(&c, "{__pattern__=\"x\", app=\"a\"}", NULL);
    check_service(&c, "{__aggregated_metric__=\"x\"}", NULL);
    config_free(&c);

    loki3(&c, "limits_config:\n  discover_service_name: [job, app]\n");
    check_service(&c, "{app=\"a\", job=\"j\"}", "j");
    check_service(&c, "{service=\"s\"}", "unknown_service");
    config_free(&c);

    loki3(&c, "limits_config:\n  discover_service_name: []\n");
    check_service(&c, "{app=\"a\"}", NULL);
    config_free(&c);
}

static const char *line_level(const lk_config *c, const char *line)
{
    lk_str fields[32];
    assert_true(c->log_level_fields.n <= 32);
    for (size_t i = 0; i < c->log_level_fields.n; i++)
        fields[i] = lk_str_c(c->log_level_fields.v[i]);
    return lp_line_level(lk_str_c(line), fields, c->log_level_fields.n,
                         c->log_level_from_json_max_depth);
}

#define LINE(c, line, want) assert_string_equal(line_level(c, line), want)

static void test_line_json(void **state)
{
    (void)state;
    lk_config c;
    loki3(&c, NULL);
    LINE(&c, "{\"msg\":\"an error happened\",\"level\":\"critical\"}", "critical");
    LINE(&c, "  {\"LEVEL\":\"Wrn\"}\n", "warn");
    LINE(&c, "{\"severity\":\"information\"}", "info");
    LINE(&c, "{\"lvl\":\"TRC\"}", "trace");
    LINE(&c, "{\"level\":\"FATAL\"}", "fatal");
    /* names are exact in JSON: LeVeL is no level field, the keywords decide */
    LINE(&c, "{\"LeVeL\":\"error\",\"msg\":\"debug dump\"}", "debug");
    /* one nested level is searched (depth 2), deeper ones are not */
    LINE(&c, "{\"log\":{\"level\":\"error\"}}", "error");
    LINE(&c, "{\"a\":{\"b\":{\"level\":\"error\"}}}", "unknown");
    /* document order: a nested field before a later top-level one wins */
    LINE(&c, "{\"ctx\":{\"lvl\":\"debug\"},\"level\":\"error\"}", "debug");
    /* only string values count */
    LINE(&c, "{\"level\":5,\"msg\":\"INFO\"}", "info");
    /* an unknown value falls back to the keywords of the whole line */
    LINE(&c, "{\"level\":\"notice\",\"msg\":\"a warning\"}", "warn");
    /* escaped values are compared as they are written */
    LINE(&c, "{\"level\":\"\\u0065rror\"}", "unknown");
    config_free(&c);

    loki3(&c, "limits_config:\n  log_level_from_json_max_depth: 0\n");
    LINE(&c, "{\"a\":{\"b\":{\"level\":\"error\"}}}", "error");
    config_free(&c);
}

static void test_line_logfmt(void **state)
{
    (void)state;
    lk_config c;
    loki3(&c, NULL);
    LINE(&c, "ts=1 level=info msg=\"x\"", "info");
    /* keys ignore case in logfmt */
    LINE(&c, "LeVeL=Err msg=boom", "error");
    /* the field listed first wins, wherever it is in the line */
    LINE(&c, "lvl=debug level=error", "error");
    LINE(&c, "Severity=warning lvl=debug", "warn");
    LINE(&c, "level=\"WARN\" msg=\"quoted\"", "warn");
    /* a value Loki does not know: the keywords */
    LINE(&c, "level=notice msg=\"disk warning\"", "warn");
    LINE(&c, "a=b c=d", "unknown");
    /* the reader stops at the first malformed pair ("error" alone is no keyword) */
    LINE(&c, "x\"y=1 level=error", "unknown");
    LINE(&c, "msg=\"unterminated level=error", "unknown");
    LINE(&c, "msg=\"x\"y level=error", "error"); /* y is a key of its own */
    config_free(&c);
}

static void test_line_keywords(void **state)
{
    (void)state;
    lk_config c;
    loki3(&c, NULL);
    LINE(&c, "this is a warning log", "warn");
    LINE(&c, "this is a DEBUG message", "debug");
    LINE(&c, "this is a critical message", "unknown"); /* needs "critical:" or [critical] */
    LINE(&c, "CRITICAL: disk full", "critical");
    LINE(&c, "app[1]: error: connection refused", "unknown"); /* "error:" is not "err:" */
    LINE(&c, "ERR: connection refused", "error");
    LINE(&c, "[error] upstream timed out", "error");
    LINE(&c, "information error", "info"); /* info is looked for first */
    LINE(&c, "", "unknown");
    config_free(&c);
}

/* The detected level of an entry; want NULL: none. */
static void level_of(const lk_config *c, const char *labels, const lk_label *meta,
                     size_t n_meta, const char *line, const char *want)
{
    lk_labels l = parse(labels);
    lk_entry e = { NOW, lk_str_c(line), n_meta, meta };
    lk_str v = LK_STR_NULL;
    bool ok = push_detect_level(c, &l, &e, &v);
    if (ok != (want != NULL) || (want && !lk_str_eq_c(v, want)))
        fail_msg("%s %s: got %s %.*s, want %s", labels, line, ok ? "level" : "none",
                 LK_STR_FMT(v), want ? want : "none");
    labels_free(&l);
}

static void test_level_sources(void **state)
{
    (void)state;
    lk_config c;
    loki3(&c, NULL);
    /* a stream label's value is taken as it is, not normalised */
    level_of(&c, "{app=\"a\", level=\"WARN\"}", NULL, 0, "level=debug", "WARN");
    /* so is metadata's, after the labels */
    lk_label m1[] = { { LK_STR("lvl"), LK_STR("Err") } };
    level_of(&c, "{app=\"a\"}", m1, 1, "level=debug", "Err");
    /* an entry with detected_level keeps it */
    lk_label m2[] = { { LK_STR("detected_level"), LK_STR("info") } };
    level_of(&c, "{level=\"error\"}", m2, 1, "x", NULL);
    /* a level field present but empty in metadata: no level at all */
    lk_label m3[] = { { LK_STR("level"), LK_STR("") } };
    level_of(&c, "{app=\"a\"}", m3, 1, "level=debug", NULL);
    /* OTLP's severity_number, before the line */
    lk_label m4[] = { { LK_STR("severity_number"), LK_STR("17") } };
    level_of(&c, "{app=\"a\"}", m4, 1, "level=debug", "error");
    lk_label m5[] = { { LK_STR("severity_number"), LK_STR("0") } };
    level_of(&c, "{app=\"a\"}", m5, 1, "x", "unknown");
    lk_label m6[] = { { LK_STR("severity_number"), LK_STR("nine") } };
    level_of(&c, "{app=\"a\"}", m6, 1, "x", "info");
    lk_label m7[] = { { LK_STR("severity_number"), LK_STR("24") } };
    level_of(&c, "{app=\"a\"}", m7, 1, "x", "fatal");
    /* Regression: a number past uint64 wrapped to 1 (trace) in push_discover's
     * own Atoi; Go's Atoi fails on it, which reads as info */
    lk_label m9[] = { { LK_STR("severity_number"), LK_STR("18446744073709551617") } };
    level_of(&c, "{app=\"a\"}", m9, 1, "x", "info");
    /* the line */
    level_of(&c, "{app=\"a\"}", NULL, 0, "lvl=dbg", "debug");
    config_free(&c);

    /* log_level_fields: [] is Loki's longer built-in list (log.level, SeverityText) */
    loki3(&c, "limits_config:\n  log_level_fields: []\n");
    lk_label m8[] = { { LK_STR("SeverityText"), LK_STR("Warning") } };
    level_of(&c, "{app=\"a\"}", m8, 1, "x", "Warning");
    config_free(&c);
    loki3(&c, "limits_config:\n  log_level_fields: [sev]\n");
    level_of(&c, "{app=\"a\", level=\"error\"}", NULL, 0, "SEV=wrn", "warn");
    config_free(&c);
}

static const lk_str *meta_value(const lk_entry *e, const char *name)
{
    for (size_t i = 0; i < e->n_meta; i++)
        if (lk_str_eq_c(e->meta[i].name, name))
            return &e->meta[i].value;
    return NULL;
}

static void check_name(const char *in, const char *want)
{
    lk_buf out = { 0 };
    bool changed;
    bool ok = push_metadata_name(lk_str_c(in), &out, &changed);
    if (!want) {
        assert_false(ok);
    } else {
        assert_true(ok);
        if (!lk_str_eq_c(lk_buf_str(&out), want))
            fail_msg("%s -> %.*s, want %s", in, (int)out.len, out.p, want);
        assert_int_equal(changed, strcmp(in, want) != 0);
    }
    lk_buf_free(&out);
}

static void test_metadata_names(void **state)
{
    (void)state;
    check_name("trace_id", "trace_id");
    check_name("trace.id", "trace_id");
    check_name("http.request..method", "http_request_method");
    check_name("user__id", "user_id"); /* runs of underscores collapse too */
    check_name("_private", "_private");
    check_name("1st", "key_1st");
    check_name("caf\xc3\xa9", "caf_");
    check_name("__tenant.id__", "__tenant_id__");
    check_name("", NULL);
    check_name("._.", NULL); /* only underscores: Loki refuses, lokic keeps it */
}

/* Metadata is rewritten whatever the discovery settings, before the level
 * is looked for (so a level under a rewritten name counts). */
static void test_enrich_rewrites(void **state)
{
    (void)state;
    lk_config c;
    loki3(&c, "limits_config:\n  discover_log_levels: false\n");
    lk_labels l = parse("{app=\"a\"}");
    lk_label m1[] = { { LK_STR("trace.id"), LK_STR("t1") }, { LK_STR("ok"), LK_STR("bad\xff!") } };
    lk_label m2[] = { { LK_STR("a_b"), LK_STR("2") }, { LK_STR("a.b"), LK_STR("1") } };
    lk_label m3[] = { { LK_STR("plain"), LK_STR("x") } };
    lk_entry e[] = { { NOW, LK_STR("x"), 2, m1 }, { NOW, LK_STR("y"), 2, m2 },
                     { NOW, LK_STR("z"), 1, m3 } };
    push_meta_buf b;
    memset(&b, 0, sizeof b);
    assert_int_equal(push_enrich_entries(&c, &l, e, 3, &b), 2);
    assert_int_equal(e[0].n_meta, 2);
    assert_true(lk_str_eq_c(*meta_value(&e[0], "trace_id"), "t1"));
    assert_true(lk_str_eq_c(*meta_value(&e[0], "ok"), "bad !"));
    assert_int_equal(e[1].n_meta, 1); /* the rewritten pair replaces a_b */
    assert_true(lk_str_eq_c(*meta_value(&e[1], "a_b"), "1"));
    assert_ptr_equal(e[2].meta, m3); /* nothing to do: not copied */
    config_free(&c);

    loki3(&c, NULL);
    lk_label m4[] = { { LK_STR("severity.text"), LK_STR("WRN") } };
    lk_entry e4 = { NOW, LK_STR("x"), 1, m4 };
    assert_int_equal(push_enrich_entries(&c, &l, &e4, 1, &b), 1);
    assert_int_equal(e4.n_meta, 2);
    assert_true(lk_str_eq_c(*meta_value(&e4, "severity_text"), "WRN"));
    assert_true(lk_str_eq_c(*meta_value(&e4, "detected_level"), "WRN"));
    push_meta_buf_free(&b);
    labels_free(&l);
    config_free(&c);
}

static push_stream text_stream(const char *labels, lk_entry *e, size_t n)
{
    push_stream s;
    memset(&s, 0, sizeof s);
    s.labels_text = lk_str_c(labels);
    s.entries = e;
    s.n_entries = n;
    return s;
}


/* Validation applies both: service_name counts against the label limits,
 * detected_level does not count against the metadata limits, and the
 * stream is marked enriched (the WAL may not keep the request whole). */
static void test_validate_applies(void **state)
{
    (void)state;
    lk_config c;
    loki3(&c, "limits_config:\n  max_structured_metadata_entries_count: 1\n"
              "  reject_old_samples: false\n");
    lk_label meta[] = { { LK_STR("trace_id"), LK_STR("abc") } };
    lk_entry e[] = {
        { NOW, LK_STR("level=warn msg=x"), 1, meta },
        { NOW + 1, LK_STR("plain text"), 0, NULL },
    };
    push_stream s = text_stream("{app=\"cart\"}", e, 2);
    push_valid_stream v;
    memset(&v, 0, sizeof v);
    lk_buf err = { 0 };
    assert_int_equal(push_validate_stream(&c, LK_STR("fake"), &s, NOW, &v, &err), LK_OK);
    assert_true(v.enriched);
    assert_string_equal(v.canonical.p, "{app=\"cart\", service_name=\"cart\"}");
    assert_int_equal(v.n_entries, 2);
    assert_int_equal(v.entries[0].n_meta, 2);
    assert_true(lk_str_eq_c(*meta_value(&v.entries[0], "trace_id"), "abc"));
    assert_true(lk_str_eq_c(*meta_value(&v.entries[0], "detected_level"), "warn"));
    assert_true(lk_str_eq_c(*meta_value(&v.entries[1], "detected_level"), "unknown"));
    assert_int_equal(e[0].n_meta, 1); /* the request itself is not changed */
    push_valid_stream_free(&v);
    config_free(&c);

    /* service_name is the 2nd label over a limit of 1, and names the stream */
    loki3(&c, "limits_config:\n  max_label_names_per_series: 1\n  reject_old_samples: false\n");
    memset(&v, 0, sizeof v);
    s = text_stream("{app=\"cart\"}", e, 1);
    assert_int_equal(push_validate_stream(&c, LK_STR("fake"), &s, NOW, &v, &err), LK_EINVAL);
    assert_string_equal(err.p, "entry for stream '{app=\"cart\", service_name=\"cart\"}' has 2 "
                               "label names; limit 1");
    push_valid_stream_free(&v);
    lk_buf_free(&err);
    config_free(&c);

    /* discovery off: nothing added, nothing marked */
    loki3(&c, "limits_config:\n  discover_service_name: []\n  discover_log_levels: false\n"
              "  reject_old_samples: false\n");
    memset(&v, 0, sizeof v);
    s = text_stream("{app=\"cart\"}", e, 2);
    assert_int_equal(push_validate_stream(&c, LK_STR("fake"), &s, NOW, &v, NULL), LK_OK);
    assert_false(v.enriched);
    assert_string_equal(v.canonical.p, "{app=\"cart\"}");
    assert_int_equal(v.entries[0].n_meta, 1);
    push_valid_stream_free(&v);
    config_free(&c);

    /* no level without structured metadata allowed */
    loki3(&c, "limits_config:\n  allow_structured_metadata: false\n  reject_old_samples: false\n");
    memset(&v, 0, sizeof v);
    s = text_stream("{app=\"cart\"}", &e[1], 1);
    assert_int_equal(push_validate_stream(&c, LK_STR("fake"), &s, NOW, &v, NULL), LK_OK);
    assert_int_equal(v.entries[0].n_meta, 0);
    push_valid_stream_free(&v);
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_name),   cmocka_unit_test(test_line_json),
        cmocka_unit_test(test_line_logfmt),    cmocka_unit_test(test_line_keywords),
        cmocka_unit_test(test_level_sources),  cmocka_unit_test(test_metadata_names),
        cmocka_unit_test(test_enrich_rewrites), cmocka_unit_test(test_validate_applies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
