/* Replays a push request the WAL kept as it arrived: decode it as the push
 * handler did, normalise each stream's labels as validation did, and hand
 * every stream with entries to the ingester. */
#include "api/push_replay.h"

#include <string.h>

#include "api/push.h"
#include "api/push_validate.h"
#include "lib/err.h"
#include "lib/labels.h"
#include "storage/wal.h"

static int emit_stream(const push_stream *s, ing_emit_fn emit, void *ctx, lk_buf *err)
{
    lk_labels labels = { 0 };
    if (push_stream_labels(s, &labels, err) != LK_OK)
        return LK_EPARSE;
    lk_buf canonical = { 0 };
    labels_canonical(&labels, &canonical);
    lk_str c = lk_buf_str(&canonical);
    int rc = emit(ctx, &labels, c, labels_hash(c), s->entries, s->n_entries);
    lk_buf_free(&canonical);
    labels_free(&labels);
    return rc;
}

static int decode(uint8_t format, lk_str body, ing_emit_fn emit, void *ctx, lk_buf *err)
{
    if (format != WAL_PUSH_SNAPPY_PROTO) {
        lk_buf_printf(err, "unknown push request format %u", format);
        return LK_EINVAL;
    }
    push_input in = {
        .content_type = lk_str_c("application/x-protobuf"),
        .body = body.p,
        .len = body.len, /* no size limit: it was accepted under the limit of its day */
    };
    push_request req = { 0 };
    int rc = push_decode(&in, &req, err);
    /* every stream was accepted whole when it was logged; one whose labels
     * no longer parse (a decoder change) is reported, the others kept */
    for (size_t i = 0; i < req.n_streams; i++) { /* none when it did not decode */
        if (req.streams[i].n_entries == 0)
            continue;
        if (emit_stream(&req.streams[i], emit, ctx, err) != LK_OK)
            rc = LK_EPARSE;
    }
    push_request_free(&req);
    return rc;
}

const ing_push_decoder push_wal_decoder = { .decode = decode };
