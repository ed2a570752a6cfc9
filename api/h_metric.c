/* Execution of metric queries for the query endpoints. Until query/metric
 * evaluates them, they answer 501: never a fake result. */
#include "api/query_exec.h"

void api_exec_metric_query(api_req *rq, api_resp *rs, const logql_expr *e,
                           const api_metric_query *q)
{
    (void)rq;
    (void)e;
    (void)q;
    api_reply_error(rs, 501, "not implemented: lokic does not evaluate metric queries yet");
}
