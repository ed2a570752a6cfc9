/* GET/POST /loki/api/v1/format_query: the query in Loki's pretty form,
 * {"status":"success","data":"..."}; a query that does not parse answers
 * 400 {"status":"invalid-query","error":"..."} as Loki does. */
#include "api/handlers.h"
#include "lib/err.h"
#include "lib/jsonw.h"
#include "query/logql/ast.h"
#include "query/logql/parser.h"

void api_h_format_query(api_req *rq, api_resp *rs)
{
    lk_str q = LK_STR("");
    api_param_get(rq, "query", &q);
    logql_expr *e = NULL;
    lk_buf err = { 0 }, pretty = { 0 };
    int rc = logql_parse(q, &e, &err);
    jw w;
    jw_init(&w, &rs->body);
    jw_obj_open(&w);
    jw_key(&w, "status");
    if (rc == LK_OK) {
        logql_prettify(e, &pretty);
        jw_cstr(&w, "success");
        jw_key(&w, "data");
        jw_str(&w, lk_buf_str(&pretty));
    } else {
        jw_cstr(&w, "invalid-query");
        jw_key(&w, "error");
        jw_str(&w, lk_buf_str(&err));
    }
    jw_obj_close(&w);
    lk_buf_putc(&rs->body, '\n'); /* json.Encoder's newline */
    api_reply_json(rs, rc == LK_OK ? 200 : 400);
    logql_expr_free(e);
    lk_buf_free(&err);
    lk_buf_free(&pretty);
}
