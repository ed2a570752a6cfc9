/* Time and duration parsing and formatting with Loki's rules:
 * query time parameters (pkg/loghttp/params.go), Prometheus durations
 * (model.ParseDuration), Go durations (time.ParseDuration), the step
 * parameter, RFC3339Nano formatting, and the Gregorian calendar arithmetic
 * under them. All times are int64 Unix ns. */
#ifndef LOKIC_LIB_TIMEUTIL_H
#define LOKIC_LIB_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"

#define LK_NS_PER_SEC INT64_C(1000000000)
#define LK_NS_PER_MS INT64_C(1000000)

int64_t lk_now_ns(void);
/* Sleeps ns nanoseconds (again after a signal interrupts it). */
void lk_sleep_ns(int64_t ns);

/* A Loki time parameter: a float with '.' = Unix seconds (fraction rounded to
 * ms); an integer of <= 10 digits = seconds, more = nanoseconds; otherwise
 * RFC3339Nano / RFC3339 (any offset). LK_EPARSE when none fits. */
int lk_parse_time_param(lk_str s, int64_t *out_ns);
/* RFC3339 / RFC3339Nano only. */
int lk_parse_rfc3339(lk_str s, int64_t *out_ns);
/* Prometheus duration: [0-9]+(ms|s|m|h|d|w|y) units in decreasing order,
 * e.g. 1h30m; "0" is allowed. */
int lk_parse_prom_duration(lk_str s, int64_t *out_ns);
/* Go time.ParseDuration: signed, decimal fractions, units ns us µs ms s m h.
 * LK_EPARSE when malformed, LK_ERANGE when out of int64's range. */
int lk_parse_go_duration(lk_str s, int64_t *out_ns);
/* The same, with Go's error text appended to err (may be NULL):
 * `time: invalid duration "x"` (also for out of range),
 * `time: missing unit in duration "1"`,
 * `time: unknown unit "x" in duration "1x"`. */
int lk_parse_go_duration_err(lk_str s, int64_t *out_ns, lk_buf *err);
/* Either of the two above (Prometheus first), as Loki's config and label
 * filters accept. */
int lk_parse_duration(lk_str s, int64_t *out_ns);
/* step / interval parameter: float seconds ("300", "0.5") or a Prometheus
 * duration ("5m"). */
int lk_parse_step(lk_str s, int64_t *out_ns);

/* 2026-11-01T00:00:00.123456789Z (trailing zeros of the fraction trimmed, as
 * Go's RFC3339Nano). */
void lk_format_rfc3339nano(int64_t ns, lk_buf *out);
/* Go's time.Duration.String(): "1h0m0s", "1.5s", "300ms", "0s". */
void lk_format_go_duration(int64_t ns, lk_buf *out);
/* Prometheus model.Duration.String(): "1h30m", "5m", "0s". */
void lk_format_prom_duration(int64_t ns, lk_buf *out);
/* Go time.Time.String() in UTC, used by Loki's validation messages:
 * "2026-11-01 00:00:00.123 +0000 UTC". */
void lk_format_go_time(int64_t ns, lk_buf *out);

/* ---- the proleptic Gregorian calendar, as Go's time package counts it
 * (H. Hinnant's days_from_civil / civil_from_days); months are 1..12 */

/* Days since 1970-01-01 of the date y-m-d (negative before). */
int64_t lk_days_from_civil(int64_t y, int m, int d);
/* The date of the day that is days after 1970-01-01. */
void lk_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
bool lk_is_leap_year(int64_t y);
int lk_days_in_month(int64_t y, int m);

#endif
