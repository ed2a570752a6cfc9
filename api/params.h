/* Query parameters with Loki's defaults, rules and error messages
 * (pkg/loghttp/params.go): start/end/since bounds, time, limit, direction,
 * step and interval. Each parser returns 0, or LK_EINVAL with the message
 * Loki sends (as a 400) in *err. */
#ifndef LOKIC_API_PARAMS_H
#define LOKIC_API_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/http.h"

#define API_DEFAULT_LIMIT 100
#define API_DEFAULT_SINCE_NS (3600 * INT64_C(1000000000))
#define API_MAX_POINTS 11000

typedef struct api_range {
    int64_t start, end; /* ns */
} api_range;

/* start/end/since: end defaults to now, start to min(end, now) - since
 * (since defaults to 1h). */
int api_parse_bounds(const api_req *rq, int64_t now, api_range *out, lk_buf *err);
/* time (instant queries), default now. */
int api_parse_time(const api_req *rq, int64_t now, int64_t *out, lk_buf *err);
int api_parse_limit(const api_req *rq, int *out, lk_buf *err);
int api_parse_direction(const api_req *rq, bool *backward, lk_buf *err);
/* step: float seconds or a duration; default max(floor((end-start)/250), 1)
 * seconds; checks the 11,000-point limit. */
int api_parse_step(const api_req *rq, const api_range *r, int64_t *step_ns, lk_buf *err);
int api_parse_interval(const api_req *rq, int64_t *interval_ns, lk_buf *err);

#endif
