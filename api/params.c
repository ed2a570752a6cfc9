/* Loki's query parameter parsing (pkg/loghttp/params.go semantics). */
#include "api/params.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/err.h"
#include "lib/timeutil.h"

static int parse_ts(const api_req *rq, const char *name, int64_t def, int64_t *out, lk_buf *err)
{
    lk_str v;
    if (!api_param_get(rq, name, &v) || v.len == 0) {
        *out = def;
        return LK_OK;
    }
    if (lk_parse_time_param(v, out) != LK_OK) {
        lk_buf_printf(err, "could not parse '%s' parameter: cannot parse \"%.*s\" to a valid timestamp",
                      name, LK_STR_FMT(v));
        return LK_EINVAL;
    }
    return LK_OK;
}

int api_parse_bounds(const api_req *rq, int64_t now, api_range *out, lk_buf *err)
{
    int64_t since = API_DEFAULT_SINCE_NS;
    lk_str v;
    if (api_param_get(rq, "since", &v) && v.len) {
        if (lk_parse_prom_duration(v, &since) != LK_OK) {
            lk_buf_printf(err, "could not parse 'since' parameter: not a valid duration string: \"%.*s\"",
                          LK_STR_FMT(v));
            return LK_EINVAL;
        }
    }
    int64_t end, start;
    int rc = parse_ts(rq, "end", now, &end, err);
    if (rc)
        return rc;
    int64_t end_or_now = end > now ? now : end;
    rc = parse_ts(rq, "start", end_or_now - since, &start, err);
    if (rc)
        return rc;
    out->start = start;
    out->end = end;
    return LK_OK;
}

int api_parse_time(const api_req *rq, int64_t now, int64_t *out, lk_buf *err)
{
    return parse_ts(rq, "time", now, out, err);
}

int api_parse_limit(const api_req *rq, int *out, lk_buf *err)
{
    lk_str v;
    if (!api_param_get(rq, "limit", &v) || v.len == 0) {
        *out = API_DEFAULT_LIMIT;
        return LK_OK;
    }
    char tmp[32];
    if (v.len >= sizeof tmp)
        goto bad;
    memcpy(tmp, v.p, v.len);
    tmp[v.len] = '\0';
    char *end;
    errno = 0;
    long long n = strtoll(tmp, &end, 10);
    if (errno || *end || end == tmp || n > UINT32_MAX)
        goto bad;
    if (n <= 0) {
        lk_buf_puts(err, "limit must be a positive value");
        return LK_EINVAL;
    }
    *out = (int)(n > INT32_MAX ? INT32_MAX : n);
    return LK_OK;
bad:
    lk_buf_printf(err, "strconv.ParseUint: parsing \"%.*s\": invalid syntax", LK_STR_FMT(v));
    return LK_EINVAL;
}

int api_parse_direction(const api_req *rq, bool *backward, lk_buf *err)
{
    lk_str v;
    if (!api_param_get(rq, "direction", &v) || v.len == 0) {
        *backward = true;
        return LK_OK;
    }
    if (lk_str_eq_nocase(v, "forward")) {
        *backward = false;
        return LK_OK;
    }
    if (lk_str_eq_nocase(v, "backward")) {
        *backward = true;
        return LK_OK;
    }
    lk_buf_printf(err, "invalid direction '%.*s'", LK_STR_FMT(v));
    return LK_EINVAL;
}

int api_parse_step(const api_req *rq, const api_range *r, int64_t *step_ns, lk_buf *err)
{
    lk_str v;
    int64_t step;
    if (!api_param_get(rq, "step", &v) || v.len == 0) {
        int64_t secs = (r->end - r->start) / LK_NS_PER_SEC / 250;
        step = (secs > 1 ? secs : 1) * LK_NS_PER_SEC;
    } else if (lk_parse_step(v, &step) != LK_OK) {
        lk_buf_printf(err, "cannot parse \"%.*s\" to a valid duration", LK_STR_FMT(v));
        return LK_EINVAL;
    }
    if (step <= 0) {
        lk_buf_puts(err, "zero or negative query resolution step widths are not accepted. "
                         "Try a positive integer");
        return LK_EINVAL;
    }
    if ((r->end - r->start) / step > API_MAX_POINTS) {
        lk_buf_puts(err, "exceeded maximum resolution of 11,000 points per time series. "
                         "Try increasing the value of the step parameter");
        return LK_EINVAL;
    }
    *step_ns = step;
    return LK_OK;
}

int api_parse_interval(const api_req *rq, int64_t *interval_ns, lk_buf *err)
{
    lk_str v;
    if (!api_param_get(rq, "interval", &v) || v.len == 0) {
        *interval_ns = 0;
        return LK_OK;
    }
    if (lk_parse_step(v, interval_ns) != LK_OK) {
        lk_buf_printf(err, "cannot parse \"%.*s\" to a valid duration", LK_STR_FMT(v));
        return LK_EINVAL;
    }
    if (*interval_ns < 0) {
        lk_buf_puts(err, "interval must be >= 0");
        return LK_EINVAL;
    }
    return LK_OK;
}
