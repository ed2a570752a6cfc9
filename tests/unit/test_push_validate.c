/* Unit tests for api/validate: every Loki validation message, truncation,
 * partial acceptance and the combined message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "api/push_validate.h"
#include "lib/err.h"

#define SEC INT64_C(1000000000)
#define MIN (60 * SEC)
#define DAY (86400 * SEC)
#define NOW (INT64_C(1793491200) * SEC) /* 2026-11-01T00:00:00Z */

/* Loki's defaults, set by hand so this test depends on validate.c only. */
static void limits(lk_config *c)
{
    memset(c, 0, sizeof *c);
    c->reject_old_samples = true;
    c->reject_old_samples_max_age_ns = 7 * DAY;
    c->creation_grace_period_ns = 10 * MIN;
    c->max_line_size = 256 * 1024;
    c->max_line_size_truncate = false;
    c->max_label_names_per_series = 15;
    c->max_label_name_length = 1024;
    c->max_label_value_length = 2048;
    c->allow_structured_metadata = true;
    c->max_structured_metadata_size = 64 * 1024;
    c->max_structured_metadata_entries_count = 128;
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

static lk_entry ent(int64_t ts, const char *line)
{
    lk_entry e = { .ts = ts, .line = lk_str_c(line) };
    return e;
}

/* Validates a one-entry stream and returns the message (static buffer). */
static int one(const lk_config *cfg, const char *labels, lk_entry e, char *msg, size_t cap)
{
    push_stream s = text_stream(labels, &e, 1);
    push_valid_stream v;
    memset(&v, 0, sizeof v);
    lk_buf err = { 0 };
    int rc = push_validate_stream(cfg, LK_STR("fake"), &s, NOW, &v, &err);
    snprintf(msg, cap, "%s", err.p ? err.p : "");
    if (rc != LK_OK) {
        assert_int_equal(v.http_status, 400);
        assert_int_equal(v.n_rejected, 1);
        assert_int_equal(v.n_entries, 0);
    } else {
        assert_int_equal(v.http_status, 0);
        assert_int_equal(v.n_entries, 1);
    }
    lk_buf_free(&err);
    push_valid_stream_free(&v);
    return rc;
}

static void test_accepts_and_canonicalises(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    lk_entry e[2] = { ent(NOW - SEC, "hello"), ent(NOW, "world") };
    push_stream s = text_stream("{job=\"x\", app=\"a\\\"b\", empty=\"\"}", e, 2);
    push_valid_stream v;
    memset(&v, 0, sizeof v);
    lk_buf err = { 0 };
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, &err), LK_OK);
    assert_int_equal(err.len, 0);
    assert_int_equal(v.labels.n, 2);
    assert_string_equal(v.canonical.p, "{app=\"a\\\"b\", job=\"x\"}");
    assert_true(v.fingerprint == labels_hash(lk_buf_str(&v.canonical)));
    assert_int_equal(v.n_entries, 2);
    assert_int_equal(v.accepted_bytes, 10);
    assert_int_equal(v.n_rejected, 0);
    assert_int_equal(v.http_status, 0);
    assert_ptr_equal(v.entries[0].line.p, e[0].line.p); /* borrowed, not copied */
    push_valid_stream_free(&v);
}

static void test_label_messages(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    char m[2048];
    lk_entry e = ent(NOW, "x");

    assert_int_equal(one(&cfg, "{a=}", e, m, sizeof m), LK_EINVAL);
    assert_true(strncmp(m, "error parsing labels '{a=}' with error: ", 40) == 0);
    assert_true(strlen(m) > 40);

    assert_int_equal(one(&cfg, "{}", e, m, sizeof m), LK_EINVAL);
    assert_string_equal(m, "error at least one label pair is required per stream");
    assert_int_equal(one(&cfg, "{a=\"\"}", e, m, sizeof m), LK_EINVAL);
    assert_string_equal(m, "error at least one label pair is required per stream");

    char many[512] = "{";
    for (int i = 0; i < 16; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%sl%02d=\"v\"", i ? ", " : "",
                 i);
    strcat(many, "}");
    char want[1024];
    assert_int_equal(one(&cfg, many, e, m, sizeof m), LK_EINVAL);
    snprintf(want, sizeof want, "entry for stream '%s' has 16 label names; limit 15", many);
    assert_string_equal(m, want);

    cfg.max_label_name_length = 3;
    assert_int_equal(one(&cfg, "{abcd=\"1\", b=\"2\"}", e, m, sizeof m), LK_EINVAL);
    assert_string_equal(m, "stream '{abcd=\"1\", b=\"2\"}' has label name too long: 'abcd'");
    cfg.max_label_name_length = 1024;

    cfg.max_label_value_length = 3;
    assert_int_equal(one(&cfg, "{b=\"2\", a=\"long\"}", e, m, sizeof m), LK_EINVAL);
    assert_string_equal(m, "stream '{b=\"2\", a=\"long\"}' has label value too long: 'long'");
    assert_int_equal(one(&cfg, "{b=\"123\"}", e, m, sizeof m), LK_OK);
    cfg.max_label_value_length = 2048;

    assert_int_equal(one(&cfg, "{a=\"1\", b=\"2\", a=\"3\"}", e, m, sizeof m), LK_EINVAL);
    assert_string_equal(m, "stream '{a=\"1\", b=\"2\", a=\"3\"}' has duplicate label name: 'a'");
}

/* The label checks run in sorted order: the first offending label wins. */
static void test_label_check_order(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    cfg.max_label_value_length = 2;
    char m[512];
    assert_int_equal(one(&cfg, "{z=\"1\", z=\"2\", a=\"toolong\"}", ent(NOW, "x"), m, sizeof m),
                     LK_EINVAL);
    assert_string_equal(m,
                        "stream '{z=\"1\", z=\"2\", a=\"toolong\"}' has label value too long: "
                        "'toolong'");
}

static push_stream pair_stream(lk_label *p, size_t n, lk_entry *e, size_t ne)
{
    push_stream s;
    memset(&s, 0, sizeof s);
    s.has_pairs = true;
    s.pairs = p;
    s.n_pairs = n;
    s.entries = e;
    s.n_entries = ne;
    return s;
}

static void test_pairs(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    lk_entry e = ent(NOW, "line");
    lk_label p[3] = {
        { LK_STR("job"), LK_STR("say \"hi\" \\ bye") },
        { LK_STR("app"), LK_STR("") },
        { LK_STR("env"), LK_STR("prod") },
    };
    push_stream s = pair_stream(p, 3, &e, 1);
    push_valid_stream v;
    memset(&v, 0, sizeof v);
    lk_buf err = { 0 };
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, &err), LK_OK);
    assert_int_equal(v.labels.n, 2); /* the empty value is dropped, as Loki does */
    assert_true(lk_str_eq_c(v.labels.v[1].value, "say \"hi\" \\ bye"));
    assert_string_equal(v.canonical.p, "{env=\"prod\", job=\"say \\\"hi\\\" \\\\ bye\"}");

    /* label messages name the stream by its sorted rendering, empty values included */
    cfg.max_label_names_per_series = 1;
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, &err), LK_EINVAL);
    assert_string_equal(err.p,
                        "entry for stream '{app=\"\", env=\"prod\", job=\"say \\\"hi\\\" \\\\ bye\"}' "
                        "has 2 label names; limit 1");
    lk_buf_reset(&err);
    cfg.max_label_names_per_series = 15;

    /* an invalid name is a parse error of that rendering */
    lk_label bad[2] = { { LK_STR("a-b"), LK_STR("1") }, { LK_STR("c"), LK_STR("2") } };
    s = pair_stream(bad, 2, &e, 1);
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, &err), LK_EINVAL);
    assert_true(strncmp(err.p, "error parsing labels '{a-b=\"1\", c=\"2\"}' with error: ", 52) == 0);
    assert_int_equal(v.discarded[PUSH_R_INVALID_LABELS], 1);
    lk_buf_reset(&err);

    /* no pairs at all */
    s = pair_stream(NULL, 0, &e, 1);
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, &err), LK_EINVAL);
    assert_string_equal(err.p, "error at least one label pair is required per stream");
    assert_int_equal(v.discarded[PUSH_R_MISSING_LABELS], 1);
    lk_buf_free(&err);
    push_valid_stream_free(&v);
}

static void test_timestamps(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    char m[1024];
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(NOW - 8 * DAY + 1, "x"), m, sizeof m), LK_EINVAL);
    assert_string_equal(m,
                        "entry for stream '{a=\"1\"}' has timestamp too old: 2026-10-24T00:00:00Z, "
                        "oldest acceptable timestamp is: 2026-10-25T00:00:00Z");
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(NOW - 7 * DAY, "x"), m, sizeof m), LK_OK);
    cfg.reject_old_samples = false;
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(NOW - 800 * DAY, "x"), m, sizeof m), LK_OK);
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(0, "x"), m, sizeof m), LK_OK);
    cfg.reject_old_samples = true;
    /* before 1970: whole seconds are floored as Go's time does */
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(-1, "x"), m, sizeof m), LK_EINVAL);
    assert_true(strstr(m, "too old: 1969-12-31T23:59:59Z, ") != NULL);

    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(NOW + 10 * MIN, "x"), m, sizeof m), LK_OK);
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(NOW + 11 * MIN + 500000000, "x"), m, sizeof m),
                     LK_EINVAL);
    assert_string_equal(m, "entry for stream '{a=\"1\"}' has timestamp too new: 2026-11-01T00:11:00Z");
    /* extreme values saturate instead of overflowing */
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(INT64_MAX, "x"), m, sizeof m), LK_EINVAL);
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(INT64_MIN, "x"), m, sizeof m), LK_EINVAL);
}

static void test_line_size(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    cfg.max_line_size = 10;
    char m[1024];
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(NOW, "0123456789"), m, sizeof m), LK_OK);
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(NOW, "0123456789a"), m, sizeof m), LK_EINVAL);
    assert_string_equal(m,
                        "max entry size '10' bytes exceeded for stream '{a=\"1\"}' while adding an "
                        "entry with length '11' bytes");
    /* bytes, not characters */
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(NOW, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x"),
                         m, sizeof m),
                     LK_EINVAL);
    cfg.max_line_size = 0; /* no limit */
    assert_int_equal(one(&cfg, "{a=\"1\"}", ent(NOW, "0123456789abcdef"), m, sizeof m), LK_OK);
}

static void test_truncate(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    cfg.max_line_size = 5;
    cfg.max_line_size_truncate = true;
    lk_entry e[4] = {
        ent(NOW, "hello world"),
        ent(NOW, "hi"),
        ent(NOW, "h\xc3\xa9llo"),          /* é spans bytes 1-2: cut at 5 is fine */
        ent(NOW, "abcd\xe2\x82\xac"),      /* € at 4-6: cut back to 4 */
    };
    push_stream s = text_stream("{a=\"1\"}", e, 4);
    push_valid_stream v;
    memset(&v, 0, sizeof v);
    lk_buf err = { 0 };
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, &err), LK_OK);
    assert_int_equal(v.n_entries, 4);
    assert_int_equal(v.n_truncated, 3);
    assert_true(lk_str_eq_c(v.entries[0].line, "hello"));
    assert_true(lk_str_eq_c(v.entries[1].line, "hi"));
    assert_true(lk_str_eq_c(v.entries[2].line, "h\xc3\xa9ll"));
    assert_true(lk_str_eq_c(v.entries[3].line, "abcd"));
    assert_int_equal(v.accepted_bytes, 5 + 2 + 5 + 4);
    /* the request's own entries are untouched */
    assert_int_equal(e[0].line.len, 11);
    lk_buf_free(&err);
    push_valid_stream_free(&v);
}

static void test_structured_metadata(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    char m[1024];
    lk_label md[3] = {
        { LK_STR("trace_id"), LK_STR("abc") },
        { LK_STR("user"), LK_STR("bob") },
        { LK_STR("k"), LK_STR("v") },
    };
    lk_entry e = ent(NOW, "x");
    e.meta = md;
    e.n_meta = 3;
    assert_int_equal(one(&cfg, "{a=\"1\"}", e, m, sizeof m), LK_OK);

    cfg.allow_structured_metadata = false;
    assert_int_equal(one(&cfg, "{a=\"1\"}", e, m, sizeof m), LK_EINVAL);
    assert_string_equal(m,
                        "stream '{a=\"1\"}' includes structured metadata, but this feature is "
                        "disallowed. Please see `limits_config.allow_structured_metadata` or "
                        "contact your Loki administrator to enable it.");
    cfg.allow_structured_metadata = true;

    cfg.max_structured_metadata_size = 20; /* 8+3 + 4+3 + 1+1 = 20 */
    assert_int_equal(one(&cfg, "{a=\"1\"}", e, m, sizeof m), LK_OK);
    cfg.max_structured_metadata_size = 19;
    assert_int_equal(one(&cfg, "{a=\"1\"}", e, m, sizeof m), LK_EINVAL);
    assert_string_equal(m,
                        "stream '{a=\"1\"}' has structured metadata too large: '20' bytes, limit: "
                        "'19' bytes. Please see `limits_config.max_structured_metadata_size` or "
                        "contact your Loki administrator to increase it.");
    cfg.max_structured_metadata_size = 64 * 1024;

    cfg.max_structured_metadata_entries_count = 2;
    assert_int_equal(one(&cfg, "{a=\"1\"}", e, m, sizeof m), LK_EINVAL);
    assert_string_equal(m,
                        "stream '{a=\"1\"}' has too many structured metadata labels: '3', limit: "
                        "'2'. Please see `limits_config.max_structured_metadata_entries_count` or "
                        "contact your Loki administrator to increase it.");
    cfg.max_structured_metadata_entries_count = 0; /* no limit */
    assert_int_equal(one(&cfg, "{a=\"1\"}", e, m, sizeof m), LK_OK);
}

/* Loki's order: age before size before metadata. */
static void test_entry_check_order(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    cfg.max_line_size = 1;
    cfg.allow_structured_metadata = false;
    lk_label md = { LK_STR("k"), LK_STR("v") };
    lk_entry e = ent(NOW + DAY, "long");
    e.meta = &md;
    e.n_meta = 1;
    char m[1024];
    one(&cfg, "{a=\"1\"}", e, m, sizeof m);
    assert_true(strstr(m, "too new") != NULL);
    e.ts = NOW;
    one(&cfg, "{a=\"1\"}", e, m, sizeof m);
    assert_true(strncmp(m, "max entry size", 14) == 0);
    e.line = LK_STR("s");
    one(&cfg, "{a=\"1\"}", e, m, sizeof m);
    assert_true(strstr(m, "disallowed") != NULL);
}

static void test_partial_acceptance(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    cfg.max_line_size = 4;
    lk_entry e[4] = { ent(NOW, "ok"), ent(NOW + DAY, "new"), ent(NOW, "fine"), ent(NOW, "toolong") };
    push_stream s = text_stream("{b=\"2\", a=\"1\"}", e, 3);
    push_valid_stream v;
    memset(&v, 0, sizeof v);
    lk_buf err = { 0 };

    /* one bad entry: exactly Loki's message, no summary line */
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, &err), LK_EINVAL);
    assert_string_equal(err.p,
                        "entry for stream '{a=\"1\", b=\"2\"}' has timestamp too new: "
                        "2026-11-02T00:00:00Z");
    assert_int_equal(v.n_entries, 2);
    assert_true(lk_str_eq_c(v.entries[0].line, "ok"));
    assert_true(lk_str_eq_c(v.entries[1].line, "fine"));
    assert_int_equal(v.n_rejected, 1);
    assert_int_equal(v.rejected_bytes, 3);
    assert_int_equal(v.accepted_bytes, 6);
    assert_int_equal(v.discarded[PUSH_R_TOO_NEW], 1);
    assert_int_equal(v.discarded_bytes[PUSH_R_TOO_NEW], 3);
    assert_int_equal(v.http_status, 400);

    /* two bad entries: both listed, then the summary; out is reused */
    lk_buf_reset(&err);
    s.n_entries = 4;
    assert_int_equal(push_validate_stream(&cfg, LK_STR("tenant1"), &s, NOW, &v, &err), LK_EINVAL);
    assert_string_equal(err.p,
                        "entry for stream '{a=\"1\", b=\"2\"}' has timestamp too new: "
                        "2026-11-02T00:00:00Z\n"
                        "max entry size '4' bytes exceeded for stream '{a=\"1\", b=\"2\"}' while "
                        "adding an entry with length '7' bytes\n"
                        "user 'tenant1', total ignored: 2 out of 4 for stream: {a=\"1\", b=\"2\"}");
    assert_int_equal(v.n_entries, 2);
    assert_int_equal(v.n_rejected, 2);
    assert_int_equal(v.discarded[PUSH_R_TOO_NEW], 1);
    assert_int_equal(v.discarded[PUSH_R_LINE_TOO_LONG], 1);

    /* all good: LK_OK, nothing appended, counters reset */
    lk_buf_reset(&err);
    s.n_entries = 1;
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, &err), LK_OK);
    assert_int_equal(err.len, 0);
    assert_int_equal(v.n_rejected, 0);
    assert_int_equal(v.discarded[PUSH_R_TOO_NEW], 0);
    assert_int_equal(v.http_status, 0);
    lk_buf_free(&err);
    push_valid_stream_free(&v);
}

static void test_many_errors_capped(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    lk_entry e[25];
    for (int i = 0; i < 25; i++)
        e[i] = ent(i == 12 ? NOW : NOW - 30 * DAY, "x");
    push_stream s = text_stream("{a=\"1\"}", e, 25);
    push_valid_stream v;
    memset(&v, 0, sizeof v);
    lk_buf err = { 0 };
    lk_buf_puts(&err, "earlier stream's error");
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, &err), LK_EINVAL);
    assert_int_equal(v.n_entries, 1);
    assert_int_equal(v.n_rejected, 24);
    int lines = 1;
    for (size_t i = 0; i < err.len; i++)
        lines += err.p[i] == '\n';
    assert_int_equal(lines, 1 + PUSH_MAX_STREAM_ERRORS + 1);
    assert_true(strncmp(err.p, "earlier stream's error\nentry for stream", 39) == 0);
    const char *last = strrchr(err.p, '\n') + 1;
    assert_string_equal(last, "user 'fake', total ignored: 24 out of 25 for stream: {a=\"1\"}");
    lk_buf_free(&err);
    push_valid_stream_free(&v);
}

/* A stream rejected for its labels counts all its entries, with no summary. */
static void test_rejected_stream_counts(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    cfg.max_line_size = 3;
    cfg.max_line_size_truncate = true;
    lk_entry e[3] = { ent(NOW, "abcdef"), ent(NOW, "ab"), ent(NOW - 30 * DAY, "a") };
    push_stream s = text_stream("{}", e, 3);
    push_valid_stream v;
    memset(&v, 0, sizeof v);
    lk_buf err = { 0 };
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, &err), LK_EINVAL);
    assert_string_equal(err.p, "error at least one label pair is required per stream");
    assert_int_equal(v.n_rejected, 3);
    assert_int_equal(v.n_entries, 0);
    assert_int_equal(v.rejected_bytes, 3 + 2 + 1); /* after truncation, as Loki counts */
    assert_int_equal(v.discarded[PUSH_R_MISSING_LABELS], 3);
    assert_int_equal(v.labels.n, 0);
    lk_buf_free(&err);
    push_valid_stream_free(&v);
}

static void test_empty_stream_and_null_err(void **state)
{
    (void)state;
    lk_config cfg;
    limits(&cfg);
    push_stream s = text_stream("not even labels", NULL, 0);
    push_valid_stream v;
    memset(&v, 0, sizeof v);
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, NULL), LK_OK);
    assert_int_equal(v.n_entries, 0);
    assert_int_equal(v.n_rejected, 0);

    lk_entry e[2] = { ent(NOW + DAY, "a"), ent(NOW + DAY, "b") };
    s = text_stream("{a=\"1\"}", e, 2);
    assert_int_equal(push_validate_stream(&cfg, LK_STR("fake"), &s, NOW, &v, NULL), LK_EINVAL);
    assert_int_equal(v.n_rejected, 2);
    push_valid_stream_free(&v);
    push_valid_stream_free(NULL);
}

static void test_helpers(void **state)
{
    (void)state;
    assert_string_equal(push_reason_name(PUSH_R_TOO_OLD), "greater_than_max_sample_age");
    assert_string_equal(push_reason_name(PUSH_R_LINE_TOO_LONG), "line_too_long");
    assert_string_equal(push_reason_name(PUSH_R_SM_TOO_MANY), "structured_metadata_too_many");
    assert_string_equal(push_reason_name(PUSH_R_COUNT), "unknown");
    for (int r = 0; r < PUSH_R_COUNT; r++)
        assert_non_null(push_reason_name((push_reason)r));

    lk_buf b = { 0 };
    push_err_join(&b, LK_STR("first"));
    push_err_join(&b, LK_STR("second"));
    assert_string_equal(b.p, "first\nsecond");
    push_err_join(NULL, LK_STR("ignored"));
    lk_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_and_canonicalises),
        cmocka_unit_test(test_label_messages),
        cmocka_unit_test(test_label_check_order),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_line_size),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_structured_metadata),
        cmocka_unit_test(test_entry_check_order),
        cmocka_unit_test(test_partial_acceptance),
        cmocka_unit_test(test_many_errors_capped),
        cmocka_unit_test(test_rejected_stream_counts),
        cmocka_unit_test(test_empty_stream_and_null_err),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
