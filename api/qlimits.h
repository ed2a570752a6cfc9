/* Query limits of a request's tenants combined as Loki combines them for a
 * multi-tenant query ("a|b"; pkg/util/validation/limits.go): the smallest
 * positive non-zero value of max_query_length, query_timeout and
 * max_entries_limit_per_query (0 only when every tenant has none), the
 * smallest value of max_query_series. One tenant is that tenant's limit
 * (api_limits). */
#ifndef LOKIC_API_QLIMITS_H
#define LOKIC_API_QLIMITS_H

#include <stdint.h>

#include "api/http.h"

int64_t api_max_query_length(const api_req *rq);
int64_t api_query_timeout(const api_req *rq);
int api_max_entries(const api_req *rq);
int api_max_query_series(const api_req *rq);

/* Loki's max_query_length check of [start, end] (ns): LK_EINVAL with
 * "the query time range exceeds the limit (query length: <Go duration>,
 * limit: <Prometheus duration>)" in err (Loki answers it as a 400). */
int api_check_query_length(const api_req *rq, int64_t start, int64_t end, lk_buf *err);

#endif
