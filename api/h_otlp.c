/* POST /otlp/v1/logs: OTLP/HTTP logs (api/otlp.h) decoded into a push
 * request, then the push flow (api_push_ingest: validation, rate limit,
 * store). Answers as Loki 3.6's OTLPPushHandler: 204 on success; an error
 * is its status (500 answered as 503, which OTLP clients retry) with a
 * google.rpc.Status protobuf carrying the message as the body. */
#include "api/handlers.h"
#include "api/otlp.h"
#include "api/state.h"
#include "lib/err.h"

static void otlp_reply_error(api_resp *rs, int status, lk_str message)
{
    rs->status = status == 500 ? 503 : status;
    rs->content_type = "application/octet-stream";
    lk_buf_reset(&rs->body);
    otlp_error_body(&rs->body, message);
}

void api_h_otlp_logs(api_req *rq, api_resp *rs)
{
    api_state *st = rq->st;
    otlp_input in = {
        .content_type = api_header(rq, "Content-Type"),
        .content_encoding = api_header(rq, "Content-Encoding"),
        .body = rq->body.p,
        .len = rq->body.len,
        .max_decompressed = (size_t)st->cfg->max_recv_msg_size,
        .hold = &rq->hold,
        .cfg = &api_limits(st, rq->tenant)->otlp,
        .discover_service_name = &api_limits(st, rq->tenant)->discover_service_name,
    };
    push_request req = { 0 };
    lk_buf msg = { 0 };
    int rc = otlp_decode(&in, &req, &msg);
    int status = rc != LK_OK ? push_decode_status(rc)
                             : api_push_ingest(rq, &req, LK_STR_NULL, &msg);
    if (status == 204)
        rs->status = 204;
    else
        otlp_reply_error(rs, status, lk_buf_str(&msg));
    lk_buf_free(&msg);
    push_request_free(&req);
}
