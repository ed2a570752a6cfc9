/* /otlp/v1/logs decoding (contract in otlp.h), after Loki 3.6's
 * ParseOTLPRequest: the body is gunzipped when Content-Encoding is exactly
 * "gzip" (any other encoding is read as it is, as Loki does), within
 * max_decompressed (413 past it, as a push); Content-Type must be exactly
 * application/x-protobuf or application/json (400 `content type: X is not
 * supported`). Memory comes from the request's in-flight budget share as
 * for a push: the inflated body, the model (an arena), the JSON tree
 * (counted as the body's size once more) and the push request's arrays. */
#include <jansson.h>
#include <string.h>

#include "api/otlp.h"
#include "api/push_int.h"
#include "lib/err.h"
#include "lib/mem.h"

void *otlp_alloc(otlp_mem *m, size_t n)
{
    if (!api_hold_take(m->hold, n))
        return NULL;
    return lk_arena_alloc(m->a, n);
}

static int parse(const otlp_input *in, push_priv *pv, lk_str body, otlp_logs *logs, lk_buf *err)
{
    otlp_mem m = { &pv->arena, pv->hold };
    if (lk_str_eq_c(in->content_type, "application/x-protobuf"))
        return otlp_parse_proto(body, &m, logs, err);
    if (lk_str_eq_c(in->content_type, "application/json")) {
        void *tree = NULL;
        if (!push_take(pv, body.len))
            return push_fail_budget(err);
        int rc = otlp_parse_json(body, &m, &tree, logs, err);
        pv->json = tree;
        return rc;
    }
    return push_fail(err, LK_EINVAL, "content type: %.*s is not supported",
                     LK_STR_FMT(in->content_type));
}

int otlp_decode(const otlp_input *in, push_request *out, lk_buf *err)
{
    memset(out, 0, sizeof *out);
    push_priv *pv = lk_calloc(1, sizeof *pv);
    pv->hold = in->hold;
    out->priv = pv;
    size_t max = in->max_decompressed ? in->max_decompressed : SIZE_MAX;
    lk_str body = lk_str_n(in->body, in->len);
    otlp_logs logs = { 0 };
    otlp_mem m = { &pv->arena, pv->hold };
    int rc = LK_OK;
    if (lk_str_eq_c(in->content_encoding, "gzip"))
        rc = push_inflate(body, true, max, pv, &body, err);
    else if (body.len > max)
        rc = push_fail_too_large(err, body.len, max, false);
    if (rc == LK_OK)
        rc = parse(in, pv, body, &logs, err);
    if (rc == LK_OK)
        rc = otlp_map(in, &logs, &m, pv, err);
    if (rc != LK_OK) {
        push_request_free(out);
        return rc;
    }
    push_finish(pv, out);
    return LK_OK;
}

void otlp_error_body(lk_buf *out, lk_str message)
{
    /* google.rpc.Status { string message = 2; } with code 0 left out */
    if (message.len == 0)
        return;
    lk_buf_putc(out, 0x12);
    for (uint64_t n = message.len; ; n >>= 7) {
        if (n < 0x80) {
            lk_buf_putc(out, (char)n);
            break;
        }
        lk_buf_putc(out, (char)(0x80 | (n & 0x7f)));
    }
    lk_buf_put_str(out, message);
}
