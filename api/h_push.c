/* POST /loki/api/v1/push and /api/prom/push: decode, validate every stream
 * (keeping the good entries of bad streams), check the tenant's ingestion
 * rate, hand what was kept to the ingester (ing_push_request: it stores,
 * logs to the write-ahead log and waits until that is on disk; the
 * request's bytes go along when validation kept all of a snappy protobuf
 * request, so that the WAL can keep it as it arrived) and, with
 * pattern_ingester.enabled, to the pattern miner; answer 204 or Loki's
 * error with every rejected stream named; 500 when the WAL write
 * failed (nothing was acknowledged; a retry is safe), 503 while the WAL is
 * being replayed at startup. */
#include <stdio.h>
#include <stdlib.h>

#include "api/handlers.h"
#include "api/push.h"
#include "api/ratelimit.h"
#include "api/state.h"
#include "api/push_validate.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"
#include "query/pattern/store.h"
#include "storage/wal.h"

typedef struct push_ctx {
    api_state *st;
    lk_str tenant;
    push_valid_stream *v;   /* one per stream */
    size_t n;
    lk_buf err;             /* combined messages */
    int status;             /* worst status so far (0: none) */
    int64_t lines, bytes;   /* accepted by validation */
} push_ctx;

static void set_status(push_ctx *c, int status)
{
    /* 429 and 5xx outrank 400 */
    if (status > c->status)
        c->status = status;
}

static void count_discarded(push_ctx *c, const push_valid_stream *v)
{
    for (int r = 0; r < PUSH_R_COUNT; r++) {
        if (!v->discarded[r])
            continue;
        const char *vals[2] = { push_reason_name((push_reason)r), NULL };
        char tenant[160];
        snprintf(tenant, sizeof tenant, "%.*s", LK_STR_FMT(c->tenant));
        vals[1] = tenant;
        lk_counter_add(c->st->m_discarded_samples, vals, (double)v->discarded[r]);
        lk_counter_add(c->st->m_discarded_bytes, vals, (double)v->discarded_bytes[r]);
    }
}

static void validate_all(push_ctx *c, const push_request *req)
{
    int64_t now = lk_now_ns();
    c->v = lk_calloc(req->n_streams ? req->n_streams : 1, sizeof *c->v);
    c->n = req->n_streams;
    for (size_t i = 0; i < req->n_streams; i++) {
        push_valid_stream *v = &c->v[i];
        if (push_validate_stream(api_limits(c->st, c->tenant), c->tenant, &req->streams[i], now, v,
                                 &c->err) != LK_OK)
            set_status(c, v->http_status ? v->http_status : 400);
        count_discarded(c, v);
        c->lines += (int64_t)v->n_entries;
        c->bytes += v->accepted_bytes;
    }
}

/* Whole: every stream of the request passed validation unchanged (nothing
 * rejected, truncated or enriched: a replay of the request's bytes stores
 * exactly what was acknowledged). */
static bool validated_whole(const push_ctx *c, const push_request *req)
{
    for (size_t i = 0; i < req->n_streams; i++) {
        const push_valid_stream *v = &c->v[i];
        if (v->n_rejected || v->n_truncated || v->enriched ||
            v->n_entries != req->streams[i].n_entries)
            return false;
    }
    return true;
}

static int status_of(int rc)
{
    return rc == LK_ELIMIT ? 429 : rc == LK_EINVAL ? 400 : 500;
}

/* Hands what validation kept to the ingester, which stores it, logs it and
 * waits until it is durable; the request's bytes go along when the WAL
 * may keep them as they are. */
static void store(push_ctx *c, const push_request *req, lk_str body)
{
    ing_stream_in *in = lk_calloc(c->n ? c->n : 1, sizeof *in);
    for (size_t i = 0; i < c->n; i++) {
        const push_valid_stream *v = &c->v[i];
        in[i] = (ing_stream_in){ &v->labels, lk_buf_str(&v->canonical), v->fingerprint,
                                 v->entries, v->n_entries };
    }
    int max_streams = lk_max_streams(api_limits(c->st, c->tenant));
    ing_request r = { .tenant = c->tenant, .streams = in, .n_streams = c->n,
                      .max_streams = &max_streams };
    if (req->snappy_proto && validated_whole(c, req)) {
        r.format = WAL_PUSH_SNAPPY_PROTO;
        r.raw = body;
    }
    ing_push_result *res = lk_calloc(c->n ? c->n : 1, sizeof *res);
    lk_buf msg = { 0 };
    int rc = ing_push_request(c->st->ingester, &r, res, &msg);
    if (rc != LK_OK) {
        set_status(c, status_of(rc));
        push_err_join(&c->err, lk_buf_str(&msg));
    }
    /* The pattern ingester mines every validated stream whatever the
     * ingester made of it, as Loki's distributor tees them to it. */
    if (c->st->patterns) {
        for (size_t i = 0; i < c->n; i++)
            pat_store_push(c->st->patterns, c->tenant, in[i].canonical, in[i].fp,
                           in[i].labels, in[i].entries, in[i].n);
    }
    char tenant[160];
    snprintf(tenant, sizeof tenant, "%.*s", LK_STR_FMT(c->tenant));
    const char *tv[1] = { tenant };
    for (size_t i = 0; i < c->n; i++) {
        if (res[i].created)
            lk_counter_add(c->st->m_streams_created, tv, 1);
    }
    lk_buf_free(&msg);
    free(res);
    free(in);
}

/* The flow after decoding, shared with /otlp/v1/logs (h_otlp.c): counts
 * what was received, validates, checks the rate, stores. Returns the
 * answer's status (204, or an error with Loki's message in *msg). */
int api_push_ingest(api_req *rq, const push_request *req, lk_str raw, lk_buf *msg)
{
    api_state *st = rq->st;
    push_ctx c = { .st = st, .tenant = rq->tenant };
    int status = 204;
    char tenant[160];
    snprintf(tenant, sizeof tenant, "%.*s", LK_STR_FMT(rq->tenant));
    const char *tv[1] = { tenant };
    lk_counter_add(st->m_lines_received, tv, (double)req->n_entries);
    lk_counter_add(st->m_bytes_received, tv, (double)req->line_bytes);

    if (!ing_ready(st->ingester)) {
        lk_buf_puts(msg, "Ingester not ready: replaying the write-ahead log");
        status = 503;
        goto out;
    }
    validate_all(&c, req);
    double rate, burst;
    push_rate_of_cfg(api_limits(st, rq->tenant), &rate, &burst);
    if (c.bytes && !push_rate_allow_with(st->rate, rq->tenant, c.bytes, rate, burst, lk_now_ns())) {
        push_rate_format_error(msg, rq->tenant, push_rate_limit_of(rate), c.lines, c.bytes);
        status = 429;
        const char *vals[2] = { "rate_limited", tenant };
        lk_counter_add(st->m_discarded_samples, vals, (double)c.lines);
        lk_counter_add(st->m_discarded_bytes, vals, (double)c.bytes);
        goto out;
    }
    store(&c, req, raw);
    if (c.status) {
        status = c.status;
        lk_buf_puts(msg, c.err.p ? c.err.p : "push rejected");
    }
out:
    for (size_t i = 0; i < c.n; i++)
        push_valid_stream_free(&c.v[i]);
    free(c.v);
    lk_buf_free(&c.err);
    return status;
}

static void push(api_req *rq, api_resp *rs, bool legacy)
{
    api_state *st = rq->st;
    push_input in = {
        .content_type = api_header(rq, "Content-Type"),
        .content_encoding = api_header(rq, "Content-Encoding"),
        .body = rq->body.p,
        .len = rq->body.len,
        .legacy = legacy,
        .max_decompressed = (size_t)st->cfg->max_recv_msg_size,
        .hold = &rq->hold,
    };
    push_request req = { 0 };
    lk_buf msg = { 0 };
    int rc = push_decode(&in, &req, &msg);
    if (rc != LK_OK) {
        api_reply_error(rs, push_decode_status(rc), "%s", msg.p ? msg.p : "bad push request");
    } else {
        int status = api_push_ingest(rq, &req, lk_str_n(rq->body.p, rq->body.len), &msg);
        if (status == 204)
            rs->status = 204;
        else
            api_reply_error(rs, status, "%s", msg.p ? msg.p : "push rejected");
    }
    lk_buf_free(&msg);
    push_request_free(&req);
}

void api_h_push(api_req *rq, api_resp *rs) { push(rq, rs, false); }
void api_h_push_legacy(api_req *rq, api_resp *rs) { push(rq, rs, true); }
