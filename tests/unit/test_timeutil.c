/* Time parameters, RFC3339, Prometheus and Go durations, the step
 * parameter, and the Go / Prometheus formatting of times and durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/err.h"
#include "lib/timeutil.h"

#define S LK_NS_PER_SEC
#define MS LK_NS_PER_MS
#define MIN (60 * S)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T_2026_11_01 INT64_C(1793491200) /* 2026-11-01T00:00:00Z */

typedef int (*parse_fn)(lk_str, int64_t *);

static void ok_(parse_fn f, const char *fname, const char *in, int64_t want)
{
    int64_t got = 0x5555;
    int rc = f(lk_str_c(in), &got);
    if (rc != 0)
        fail_msg("%s(\"%s\") failed: %d", fname, in, rc);
    if (got != want)
        fail_msg("%s(\"%s\") = %lld, want %lld", fname, in, (long long)got, (long long)want);
}

static void bad_(parse_fn f, const char *fname, const char *in, int want_rc)
{
    int64_t got = 0x5555;
    int rc = f(lk_str_c(in), &got);
    if (rc != want_rc)
        fail_msg("%s(\"%s\") = rc %d (value %lld), want rc %d", fname, in, rc, (long long)got,
                 want_rc);
    assert_int_equal(got, 0x5555); /* output untouched on failure */
}

#define OK(f, in, want) ok_(f, #f, in, want)
#define BAD(f, in, rc) bad_(f, #f, in, rc)

static void test_time_param_numbers(void **state)
{
    (void)state;
    /* A float with '.' is seconds, fraction rounded to milliseconds. */
    OK(lk_parse_time_param, "1793493000.5", INT64_C(1793493000500000000));
    OK(lk_parse_time_param, "1793493000.123", INT64_C(1793493000123000000));
    OK(lk_parse_time_param, "1793493000.123456", INT64_C(1793493000123000000));
    OK(lk_parse_time_param, "1.0005", 1 * S + 1 * MS);        /* half away from zero */
    OK(lk_parse_time_param, "1.00049999", 1 * S);
    OK(lk_parse_time_param, "1.9996", 2 * S);
    OK(lk_parse_time_param, "-1.5", -1 * S - 500 * MS);
    OK(lk_parse_time_param, "-1.0005", -1 * S - 1 * MS);
    OK(lk_parse_time_param, "0.0", 0);
    OK(lk_parse_time_param, ".5", 500 * MS);
    OK(lk_parse_time_param, "5.", 5 * S);
    OK(lk_parse_time_param, "+2.25", 2 * S + 250 * MS);
    OK(lk_parse_time_param, "1.7934930005e9", INT64_C(1793493000500000000));
    OK(lk_parse_time_param, "17934930.005E2", INT64_C(1793493000500000000));
    OK(lk_parse_time_param, "1.5e-3", 2 * MS);
    OK(lk_parse_time_param, "0001.5", 1 * S + 500 * MS);
    OK(lk_parse_time_param, "0x1.8p1", 3 * S);
    /* Integers: up to 10 characters are seconds, longer are nanoseconds. */
    OK(lk_parse_time_param, "0", 0);
    OK(lk_parse_time_param, "1793493000", INT64_C(1793493000) * S);
    OK(lk_parse_time_param, "4000000000", INT64_C(4000000000) * S); /* Grafana's health check */
    OK(lk_parse_time_param, "12345678901", INT64_C(12345678901));
    OK(lk_parse_time_param, "1793493000000000000", INT64_C(1793493000000000000));
    OK(lk_parse_time_param, "-123456789", INT64_C(-123456789) * S);
    OK(lk_parse_time_param, "-1234567890", INT64_C(-1234567890)); /* 11 chars with the sign */
    OK(lk_parse_time_param, "+5", 5 * S);
    OK(lk_parse_time_param, "00000000001", 1);
    OK(lk_parse_time_param, "9223372036854775807", INT64_MAX);
    OK(lk_parse_time_param, "-9223372036854775808", INT64_MIN);
    BAD(lk_parse_time_param, "9223372036854775808", LK_ERANGE);
    BAD(lk_parse_time_param, "99999999999999999999999", LK_ERANGE);
    BAD(lk_parse_time_param, "9999999999", LK_ERANGE); /* year 2286 does not fit in ns */
    BAD(lk_parse_time_param, "9999999999.5", LK_ERANGE);
    BAD(lk_parse_time_param, "1e400.", LK_EPARSE);
    BAD(lk_parse_time_param, "1.0e400", LK_ERANGE);
}

static void test_time_param_rfc3339(void **state)
{
    (void)state;
    OK(lk_parse_time_param, "2026-11-01T00:00:00Z", T_2026_11_01 * S);
    OK(lk_parse_time_param, "2026-11-01T00:00:00.123456789Z", T_2026_11_01 * S + 123456789);
    OK(lk_parse_time_param, "2026-11-01T00:00:00.1Z", T_2026_11_01 * S + 100 * MS);
    OK(lk_parse_time_param, "2026-11-01T00:00:00.1234567891Z", T_2026_11_01 * S + 123456789);
    OK(lk_parse_time_param, "2026-11-01T00:00:00,5Z", T_2026_11_01 * S + 500 * MS);
    OK(lk_parse_time_param, "2026-11-01T01:00:00+01:00", T_2026_11_01 * S);
    OK(lk_parse_time_param, "2026-10-31T19:30:00-04:30", T_2026_11_01 * S);
    OK(lk_parse_time_param, "2026-11-01T00:00:00-00:00", T_2026_11_01 * S);
    OK(lk_parse_time_param, "2026-11-01T0:00:00Z", T_2026_11_01 * S); /* Go: one-digit hour */
    OK(lk_parse_time_param, "2000-02-29T00:00:00Z", INT64_C(951782400) * S);
    OK(lk_parse_time_param, "1970-01-01T00:00:00Z", 0);
    OK(lk_parse_time_param, "1969-12-31T23:59:59.5Z", -500 * MS);
    OK(lk_parse_time_param, "1677-09-21T00:12:43.145224192Z", INT64_MIN);
    OK(lk_parse_time_param, "2262-04-11T23:47:16.854775807Z", INT64_MAX);
    OK(lk_parse_rfc3339, "2026-11-01T00:00:00Z", T_2026_11_01 * S);
    OK(lk_parse_rfc3339, "2026-11-02T00:00:00+24:00", T_2026_11_01 * S);
    BAD(lk_parse_rfc3339, "1793493000", LK_EPARSE);
    BAD(lk_parse_time_param, "2262-04-11T23:47:16.854775808Z", LK_ERANGE);
    BAD(lk_parse_time_param, "3000-01-01T00:00:00Z", LK_ERANGE);
    BAD(lk_parse_time_param, "1600-01-01T00:00:00Z", LK_ERANGE);
    const char *bad[] = {
        "", "abc", "now", "2026-11-01", "2026-11-01T00:00:00", "2026-11-01 00:00:00Z",
        "2026-11-01t00:00:00Z", "2026-11-01T00:00:00z", "2026-11-01T00:00:00+0100",
        "2026-11-01T00:00:00+01", "2026-02-29T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-11-00T00:00:00Z",
        "2026-11-01T24:00:00Z", "2026-11-01T00:60:00Z", "2026-11-01T00:00:60Z",
        "2026-11-01T00:00:00.Z", "2026-11-01T00:00:00+25:00", "2026-11-01T00:00:00+01:61",
        "2026-11-01T00:00:00Zjunk", "26-11-01T00:00:00Z", "2026-1-01T00:00:00Z",
        "2026-11-1T00:00:00Z", "2026-11-01T00:0:00Z", " 1", "1 ", "1.2.3", "1e5", "1,5",
        "0x10", "--1", "+", "-", ".", "1_000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        BAD(lk_parse_time_param, bad[i], LK_EPARSE);
    int64_t v = 7;
    assert_int_equal(lk_parse_time_param(LK_STR_NULL, &v), LK_EPARSE);
    assert_int_equal(v, 7);
}

static void test_prom_duration(void **state)
{
    (void)state;
    OK(lk_parse_prom_duration, "0", 0);
    OK(lk_parse_prom_duration, "0s", 0);
    OK(lk_parse_prom_duration, "5m", 5 * MIN);
    OK(lk_parse_prom_duration, "1h30m", 90 * MIN);
    OK(lk_parse_prom_duration, "1y", 365 * DAY);
    OK(lk_parse_prom_duration, "1w", 7 * DAY);
    OK(lk_parse_prom_duration, "1d", DAY);
    OK(lk_parse_prom_duration, "1ms", MS);
    OK(lk_parse_prom_duration, "1y2w3d4h5m6s7ms",
       365 * DAY + 14 * DAY + 3 * DAY + 4 * HOUR + 5 * MIN + 6 * S + 7 * MS);
    OK(lk_parse_prom_duration, "0100s", 100 * S);
    OK(lk_parse_prom_duration, "106751d", INT64_C(106751) * DAY);
    OK(lk_parse_prom_duration, "292y", INT64_C(292) * 365 * DAY);
    BAD(lk_parse_prom_duration, "106752d", LK_ERANGE);
    BAD(lk_parse_prom_duration, "293y", LK_ERANGE);
    BAD(lk_parse_prom_duration, "99999999999999999999s", LK_ERANGE);
    BAD(lk_parse_prom_duration, "292y52w", LK_ERANGE);
    const char *bad[] = { "", "1.5h", "1m1h", "1h1h", "-1h", "+1h", "5", "1x", "h", "1H",
                          "1h 30m", " 1h", "1hm", "1mss", "1µs", "1ns", "1us", "ms" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        BAD(lk_parse_prom_duration, bad[i], LK_EPARSE);
}

static void test_go_duration(void **state)
{
    (void)state;
    OK(lk_parse_go_duration, "0", 0);
    OK(lk_parse_go_duration, "-0", 0);
    OK(lk_parse_go_duration, "+0", 0);
    OK(lk_parse_go_duration, "0s", 0);
    OK(lk_parse_go_duration, "1.5h", 90 * MIN);
    OK(lk_parse_go_duration, "300ms", 300 * MS);
    OK(lk_parse_go_duration, "2h45m", 165 * MIN);
    OK(lk_parse_go_duration, "-1m30s", -90 * S);
    OK(lk_parse_go_duration, "+5s", 5 * S);
    OK(lk_parse_go_duration, "1ns", 1);
    OK(lk_parse_go_duration, "1us", 1000);
    OK(lk_parse_go_duration, "1\xc2\xb5s", 1000); /* U+00B5 */
    OK(lk_parse_go_duration, "1\xce\xbcs", 1000); /* U+03BC */
    OK(lk_parse_go_duration, ".5s", 500 * MS);
    OK(lk_parse_go_duration, "5.s", 5 * S);
    OK(lk_parse_go_duration, "1h1h", 2 * HOUR); /* Go allows any order and repeats */
    OK(lk_parse_go_duration, "1s1h", HOUR + S);
    OK(lk_parse_go_duration, "1.0000000001s", S);
    OK(lk_parse_go_duration, "0.333333333333333333333s", 333333333);
    OK(lk_parse_go_duration, "9223372036854775807ns", INT64_MAX);
    OK(lk_parse_go_duration, "-9223372036854775808ns", INT64_MIN);
    OK(lk_parse_go_duration, "2562047h47m16.854775807s", INT64_MAX);
    BAD(lk_parse_go_duration, "9223372036854775808ns", LK_ERANGE);
    BAD(lk_parse_go_duration, "2562048h", LK_ERANGE);
    BAD(lk_parse_go_duration, "99999999999999999999ns", LK_ERANGE);
    const char *bad[] = { "", "1", "1d", "1w", ".", "-", "+", ".s", "-.s", "1.5.5s", "1hh",
                          "s", " 1s", "1s ", "1S", "1e3s", "--1s" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        BAD(lk_parse_go_duration, bad[i], LK_EPARSE);
}

static void go_duration_error_is(const char *in, int want_rc, const char *want)
{
    int64_t got = 0x5555;
    lk_buf err = { 0 };
    int rc = lk_parse_go_duration_err(lk_str_c(in), &got, &err);
    if (rc != want_rc || !err.p || strcmp(err.p, want) != 0)
        fail_msg("ParseDuration(\"%s\") = rc %d \"%s\", want rc %d \"%s\"", in, rc,
                 err.p ? err.p : "", want_rc, want);
    assert_int_equal(got, 0x5555);
    lk_buf_free(&err);
}

/* time.ParseDuration's error texts, byte for byte (quote() writes each byte
 * of a control or non-ASCII rune as \xNN). */
static void test_go_duration_errors(void **state)
{
    (void)state;
    go_duration_error_is("", LK_EPARSE, "time: invalid duration \"\"");
    go_duration_error_is("-", LK_EPARSE, "time: invalid duration \"-\"");
    go_duration_error_is(".s", LK_EPARSE, "time: invalid duration \".s\"");
    go_duration_error_is("1", LK_EPARSE, "time: missing unit in duration \"1\"");
    go_duration_error_is("1h2", LK_EPARSE, "time: missing unit in duration \"1h2\"");
    go_duration_error_is("1d", LK_EPARSE, "time: unknown unit \"d\" in duration \"1d\"");
    go_duration_error_is("1\xc2\xb5x\t\"", LK_EPARSE,
                         "time: unknown unit \"\\xc2\\xb5x\\x09\\\"\" in duration "
                         "\"1\\xc2\\xb5x\\x09\\\"\"");
    go_duration_error_is("9223372036854775808ns", LK_ERANGE,
                         "time: invalid duration \"9223372036854775808ns\"");
    go_duration_error_is("99999999999999999999h", LK_ERANGE,
                         "time: invalid duration \"99999999999999999999h\"");
    int64_t got = 0;
    lk_buf err = { 0 };
    assert_int_equal(lk_parse_go_duration_err(LK_STR("-1.5h"), &got, &err), 0);
    assert_int_equal(got, -90 * MIN);
    assert_int_equal(err.len, 0);
}

/* Days from 1970-01-01 and back, leap years, month lengths. */
static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(lk_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(lk_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(lk_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(lk_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(lk_days_from_civil(1, 1, 1), -719162); /* Go's zero Time */
    assert_int_equal(lk_days_from_civil(0, 1, 1), -719528);  /* year 0 is a leap year */
    for (int64_t days = -1000000; days <= 1000000; days += 997) {
        int64_t y;
        int m, d;
        lk_civil_from_days(days, &y, &m, &d);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= lk_days_in_month(y, m));
        assert_int_equal(lk_days_from_civil(y, m, d), days);
    }
    int64_t y;
    int m, d;
    lk_civil_from_days(19782, &y, &m, &d);
    assert_true(y == 2024 && m == 2 && d == 29);
    assert_true(lk_is_leap_year(2000) && lk_is_leap_year(2024) && lk_is_leap_year(-4));
    assert_false(lk_is_leap_year(1900) || lk_is_leap_year(2023) || lk_is_leap_year(2100));
    assert_int_equal(lk_days_in_month(2024, 2), 29);
    assert_int_equal(lk_days_in_month(2023, 2), 28);
    assert_int_equal(lk_days_in_month(2023, 4), 30);
    assert_int_equal(lk_days_in_month(2023, 12), 31);
}

static void test_duration_either(void **state)
{
    (void)state;
    OK(lk_parse_duration, "1h30m", 90 * MIN);
    OK(lk_parse_duration, "1d", DAY);        /* Prometheus only */
    OK(lk_parse_duration, "1.5h", 90 * MIN); /* Go only */
    OK(lk_parse_duration, "-1h", -HOUR);
    OK(lk_parse_duration, "1h1.5m", HOUR + 90 * S);
    OK(lk_parse_duration, "0", 0);
    BAD(lk_parse_duration, "bad", LK_EPARSE);
    BAD(lk_parse_duration, "", LK_EPARSE);
}

static void test_step(void **state)
{
    (void)state;
    OK(lk_parse_step, "300", 300 * S);
    OK(lk_parse_step, "300.0", 300 * S);
    OK(lk_parse_step, "0.1", 100 * MS);
    OK(lk_parse_step, "0.5", 500 * MS);
    OK(lk_parse_step, "1e3", 1000 * S);
    OK(lk_parse_step, "-5", -5 * S);
    OK(lk_parse_step, "0", 0);
    OK(lk_parse_step, "5m", 5 * MIN);
    OK(lk_parse_step, "1h30m", 90 * MIN);
    OK(lk_parse_step, "0x1p4", 16 * S);
    BAD(lk_parse_step, "1.5s", LK_EPARSE); /* Go-only forms are rejected */
    BAD(lk_parse_step, "", LK_EPARSE);
    BAD(lk_parse_step, "0x10", LK_EPARSE);
    BAD(lk_parse_step, "1_000", LK_EPARSE);
    BAD(lk_parse_step, "abc", LK_EPARSE);
    BAD(lk_parse_step, "inf", LK_ERANGE);
    BAD(lk_parse_step, "-Infinity", LK_ERANGE);
    BAD(lk_parse_step, "NaN", LK_ERANGE);
    BAD(lk_parse_step, "9.3e9", LK_ERANGE);
    BAD(lk_parse_step, "+nan", LK_EPARSE);
}

static void fmt_is(void (*f)(int64_t, lk_buf *), const char *fname, int64_t v, const char *want)
{
    lk_buf b = { 0 };
    lk_buf_puts(&b, ">");
    f(v, &b);
    if (strcmp(b.p + 1, want) != 0)
        fail_msg("%s(%lld) = [%s], want [%s]", fname, (long long)v, b.p + 1, want);
    lk_buf_free(&b);
}

#define FMT(f, v, want) fmt_is(f, #f, v, want)

static void test_format_times(void **state)
{
    (void)state;
    FMT(lk_format_rfc3339nano, 0, "1970-01-01T00:00:00Z");
    FMT(lk_format_rfc3339nano, T_2026_11_01 * S + 123456789, "2026-11-01T00:00:00.123456789Z");
    FMT(lk_format_rfc3339nano, T_2026_11_01 * S + 120 * MS, "2026-11-01T00:00:00.12Z");
    FMT(lk_format_rfc3339nano, T_2026_11_01 * S + 1, "2026-11-01T00:00:00.000000001Z");
    FMT(lk_format_rfc3339nano, -1, "1969-12-31T23:59:59.999999999Z");
    FMT(lk_format_rfc3339nano, -500 * MS, "1969-12-31T23:59:59.5Z");
    FMT(lk_format_rfc3339nano, -DAY, "1969-12-31T00:00:00Z");
    FMT(lk_format_rfc3339nano, INT64_C(951782400) * S, "2000-02-29T00:00:00Z");
    FMT(lk_format_rfc3339nano, INT64_MIN, "1677-09-21T00:12:43.145224192Z");
    FMT(lk_format_rfc3339nano, INT64_MAX, "2262-04-11T23:47:16.854775807Z");
    FMT(lk_format_go_time, T_2026_11_01 * S + 123 * MS, "2026-11-01 00:00:00.123 +0000 UTC");
    FMT(lk_format_go_time, 0, "1970-01-01 00:00:00 +0000 UTC");
    FMT(lk_format_go_time, -1, "1969-12-31 23:59:59.999999999 +0000 UTC");

    /* Formatting then parsing gives the time back, across many values. */
    int64_t v = INT64_MIN;
    for (int i = 0;; i++) {
        lk_buf b = { 0 };
        lk_format_rfc3339nano(v, &b);
        int64_t back;
        assert_int_equal(lk_parse_rfc3339(lk_buf_str(&b), &back), 0);
        assert_int_equal(back, v);
        lk_buf_free(&b);
        if (__builtin_add_overflow(v, INT64_C(9223372036854775) + (int64_t)i * 7919, &v))
            break; /* steps of ~106 days up to the end of the range */
    }
}

static void test_format_go_duration(void **state)
{
    (void)state;
    FMT(lk_format_go_duration, 0, "0s");
    FMT(lk_format_go_duration, 1, "1ns");
    FMT(lk_format_go_duration, 999, "999ns");
    FMT(lk_format_go_duration, 1000, "1\xc2\xb5s");
    FMT(lk_format_go_duration, 1500, "1.5\xc2\xb5s");
    FMT(lk_format_go_duration, MS, "1ms");
    FMT(lk_format_go_duration, 300 * MS, "300ms");
    FMT(lk_format_go_duration, 1234567, "1.234567ms");
    FMT(lk_format_go_duration, S, "1s");
    FMT(lk_format_go_duration, 1500 * MS, "1.5s");
    FMT(lk_format_go_duration, 59999 * MS, "59.999s");
    FMT(lk_format_go_duration, 61 * S, "1m1s");
    FMT(lk_format_go_duration, -90 * S, "-1m30s");
    FMT(lk_format_go_duration, HOUR, "1h0m0s");
    FMT(lk_format_go_duration, 165 * MIN, "2h45m0s");
    FMT(lk_format_go_duration, 100 * HOUR + 1, "100h0m0.000000001s");
    FMT(lk_format_go_duration, -1, "-1ns");
    FMT(lk_format_go_duration, INT64_MAX, "2562047h47m16.854775807s");
    FMT(lk_format_go_duration, INT64_MIN, "-2562047h47m16.854775808s");
    /* The Go parser reads back what the Go formatter writes. */
    int64_t samples[] = { 1, 999, 1000, 1500, MS, 1234567, S, 1500 * MS, 61 * S, -90 * S,
                          HOUR, 100 * HOUR + 1, INT64_MAX, INT64_MIN + 1, -1 };
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        lk_buf b = { 0 };
        lk_format_go_duration(samples[i], &b);
        int64_t back;
        assert_int_equal(lk_parse_go_duration(lk_buf_str(&b), &back), 0);
        assert_int_equal(back, samples[i]);
        lk_buf_free(&b);
    }
}

static void test_format_prom_duration(void **state)
{
    (void)state;
    FMT(lk_format_prom_duration, 0, "0s");
    FMT(lk_format_prom_duration, 999999, "0s"); /* below a millisecond */
    FMT(lk_format_prom_duration, MS, "1ms");
    FMT(lk_format_prom_duration, 1500 * MS, "1s500ms");
    FMT(lk_format_prom_duration, 5 * MIN, "5m");
    FMT(lk_format_prom_duration, 90 * S, "1m30s");
    FMT(lk_format_prom_duration, 90 * MIN, "1h30m");
    FMT(lk_format_prom_duration, DAY, "1d");
    FMT(lk_format_prom_duration, 7 * DAY, "1w");
    FMT(lk_format_prom_duration, 8 * DAY, "8d");
    FMT(lk_format_prom_duration, 14 * DAY, "2w");
    FMT(lk_format_prom_duration, 365 * DAY, "1y");
    FMT(lk_format_prom_duration, 366 * DAY, "366d");
    FMT(lk_format_prom_duration, 730 * DAY, "2y");
    FMT(lk_format_prom_duration, DAY + HOUR + MIN + S + MS, "1d1h1m1s1ms");
    FMT(lk_format_prom_duration, -5 * MIN, ""); /* as Prometheus: nothing */
    int64_t samples[] = { MS, 1500 * MS, 5 * MIN, 90 * MIN, DAY, 7 * DAY, 8 * DAY, 365 * DAY,
                          366 * DAY, DAY + HOUR + MIN + S + MS, INT64_C(292) * 365 * DAY };
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        lk_buf b = { 0 };
        lk_format_prom_duration(samples[i], &b);
        int64_t back;
        assert_int_equal(lk_parse_prom_duration(lk_buf_str(&b), &back), 0);
        assert_int_equal(back, samples[i]);
        lk_buf_free(&b);
    }
}

static void test_now(void **state)
{
    (void)state;
    int64_t a = lk_now_ns();
    int64_t b = lk_now_ns();
    assert_true(a > INT64_C(1700000000) * S);         /* after 2023 */
    assert_true(a < INT64_C(4102444800) * S);         /* before 2100 */
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_param_numbers),
        cmocka_unit_test(test_time_param_rfc3339),
        cmocka_unit_test(test_prom_duration),
        cmocka_unit_test(test_go_duration),
        cmocka_unit_test(test_go_duration_errors),
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_duration_either),
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_format_times),
        cmocka_unit_test(test_format_go_duration),
        cmocka_unit_test(test_format_prom_duration),
        cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
