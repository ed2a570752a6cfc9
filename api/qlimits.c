/* Query limits combined over a request's tenants (see qlimits.h). */
#include "api/qlimits.h"

#include <string.h>

#include "api/state.h"
#include "lib/err.h"
#include "lib/timeutil.h"

/* The next tenant of "a|b|c" from *p (end: one past the last byte); false
 * when none is left. */
static bool next_tenant(const char **p, const char *end, lk_str *t)
{
    while (*p <= end) {
        const char *bar = memchr(*p, '|', (size_t)(end - *p));
        const char *stop = bar ? bar : end;
        *t = lk_str_n(*p, (size_t)(stop - *p));
        *p = stop + 1;
        if (t->len)
            return true;
    }
    return false;
}

/* Loki's SmallestPositiveNonZero...PerTenant (nonzero) or
 * SmallestPositiveIntPerTenant over the value get reads from each tenant's
 * limits. */
static int64_t combine(const api_req *rq, int64_t (*get)(const lk_config *), bool nonzero)
{
    const char *p = rq->tenant.p, *end = rq->tenant.p + rq->tenant.len;
    lk_str t;
    bool have = false;
    int64_t best = 0;
    while (next_tenant(&p, end, &t)) {
        int64_t v = get(api_limits(rq->st, t));
        if ((!nonzero || v > 0) && (!have || v < best)) {
            best = v;
            have = true;
        }
    }
    return best;
}

static int64_t get_length(const lk_config *c) { return c->max_query_length_ns; }
static int64_t get_timeout(const lk_config *c) { return c->query_timeout_ns; }
static int64_t get_entries(const lk_config *c) { return c->max_entries_limit_per_query; }
static int64_t get_series(const lk_config *c) { return c->max_query_series; }

int64_t api_max_query_length(const api_req *rq) { return combine(rq, get_length, true); }
int64_t api_query_timeout(const api_req *rq) { return combine(rq, get_timeout, true); }
int api_max_entries(const api_req *rq) { return (int)combine(rq, get_entries, true); }
int api_max_query_series(const api_req *rq) { return (int)combine(rq, get_series, false); }

int api_check_query_length(const api_req *rq, int64_t start, int64_t end, lk_buf *err)
{
    int64_t max = api_max_query_length(rq);
    if (max <= 0 || end - start <= max)
        return LK_OK;
    lk_buf_puts(err, "the query time range exceeds the limit (query length: ");
    lk_format_go_duration(end - start, err);
    lk_buf_puts(err, ", limit: ");
    lk_format_prom_duration(max, err);
    lk_buf_putc(err, ')');
    return LK_EINVAL;
}
