/* Execution of parsed queries for the query endpoints (api/h_query.c parses
 * parameters and dispatches): log queries in api/h_logs.c, metric queries in
 * api/h_metric.c. */
#ifndef LOKIC_API_QUERY_EXEC_H
#define LOKIC_API_QUERY_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "api/http.h"
#include "query/logql/ast.h"

/* Loki's answer (a 504) to a query past limits_config.query_timeout, log
 * or metric. */
#define API_TIMEOUT_MESSAGE                                                                 \
    "request timed out, decrease the duration of the request or add more label matchers " \
    "(prefer exact match over regex match) to reduce the amount of data processed"

typedef struct api_log_query {
    int64_t start, end;     /* [start, end) */
    int limit;
    bool backward;
    bool legacy;            /* /api/prom/query response shape */
    int64_t interval_ns;    /* at most one entry per interval (0: off) */
} api_log_query;

typedef struct api_metric_query {
    int64_t start, end;     /* equal for an instant query */
    int64_t step_ns;
    bool instant;           /* /query: vector/scalar result; else matrix */
} api_metric_query;

void api_exec_log_query(api_req *rq, api_resp *rs, const logql_expr *e, const api_log_query *q);
/* Does X-Loki-Response-Encoding-Flags (a comma list) name categorize-labels? */
bool api_wants_categorized(const api_req *rq);
void api_exec_metric_query(api_req *rq, api_resp *rs, const logql_expr *e,
                           const api_metric_query *q);

#endif
