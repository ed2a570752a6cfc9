/* GET /loki/api/v1/tail (and the legacy /api/prom/tail, which Loki 3 still
 * serves with the same handler and its legacy message shape:
 * {"streams":[{"labels":"{...}","entries":[{"ts","line"}]}],"dropped_entries":null},
 * never categorized): live tailing over a WebSocket, as Grafana's
 * "Live" mode uses it. Parameters are checked before the upgrade (a bad
 * one is a plain 400): `query` (a log query), `start` (default now-1h),
 * `limit` (100), `delay_for` (seconds, at most 5). After the 101, as Loki
 * does: first the history, the newest `limit` entries from start to now,
 * in one message; then every second the entries that arrived up to
 * now - delay_for, in time order, one message per batch, and a ping. A
 * message is {"streams":[{"stream":{...},"values":[["<ns>","<line>"]]}]}
 * (values categorized with X-Loki-Response-Encoding-Flags:
 * categorize-labels). The tail ends when the client closes, after
 * tail_max_duration (1h), or at shutdown; a query failure closes it with
 * code 1011 and the message. A tenant may have
 * limits_config.max_concurrent_tail_requests (10) tails open; one more is
 * refused with Loki's 400.
 *
 * New entries are found by time: each poll reads [last poll's end -
 * TAIL_LATE_NS, now - delay_for) and leaves out the entries it sent already
 * (api/tail_seen.h), so an entry that arrives up to TAIL_LATE_NS after its
 * timestamp (promtail and Alloy batch for a second; then the push) is sent
 * once; one later still (Loki accepts out-of-order entries within an hour)
 * is not. A poll that reads a full batch goes on from its newest entry. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "api/handlers.h"
#include "api/params.h"
#include "api/query_exec.h"
#include "api/resp.h"
#include "api/state.h"
#include "api/tail_seen.h"
#include "api/ws.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/logql/ast.h"
#include "query/logql/parser.h"
#include "query/pipeline/pipeline.h"
#include "query/select.h"

#define TAIL_DEFAULT_LIMIT 100
#define TAIL_MAX_DELAY_S 5
#define TAIL_MAX_DURATION_NS (3600 * LK_NS_PER_SEC)
#define TAIL_POLL_MS 1000
#define TAIL_BATCH 10000 /* entries per message at most */
#define TAIL_SEND_TIMEOUT_S 10
#define TAIL_LATE_NS (3 * LK_NS_PER_SEC) /* how far each poll reads back */

/* Open tails of one tenant (api_state.tails, under tails_mu). */
struct api_tail_count {
    char *tenant;
    int n;
};

/* Counts a new tail of tenant; false (and the message in *err) when the
 * tenant has max_concurrent_tail_requests open already. */
static bool tail_acquire(api_state *st, lk_str tenant, lk_buf *err)
{
    int limit = api_limits(st, tenant)->max_concurrent_tail_requests;
    pthread_mutex_lock(&st->tails_mu);
    struct api_tail_count *c = NULL;
    for (size_t i = 0; i < st->n_tails && !c; i++)
        if (lk_str_eq_c(tenant, st->tails[i].tenant))
            c = &st->tails[i];
    if (!c) {
        st->tails = lk_grow(st->tails, &st->cap_tails, st->n_tails + 1, sizeof *st->tails);
        c = &st->tails[st->n_tails++];
        *c = (struct api_tail_count){ lk_strndup(tenant.p, tenant.len), 0 };
    }
    bool ok = c->n < limit;
    if (ok)
        c->n++;
    else
        lk_buf_printf(err, "max concurrent tail requests limit exceeded, count > limit (%d > %d)",
                      c->n + 1, limit);
    pthread_mutex_unlock(&st->tails_mu);
    return ok;
}

static void tail_release(api_state *st, const char *tenant)
{
    pthread_mutex_lock(&st->tails_mu);
    for (size_t i = 0; i < st->n_tails; i++)
        if (strcmp(st->tails[i].tenant, tenant) == 0 && st->tails[i].n > 0)
            st->tails[i].n--;
    pthread_mutex_unlock(&st->tails_mu);
}

void api_tails_free(api_state *st)
{
    for (size_t i = 0; i < st->n_tails; i++)
        free(st->tails[i].tenant);
    free(st->tails);
    st->tails = NULL;
    st->n_tails = st->cap_tails = 0;
}

typedef struct tail_ctx {
    api_state *st;
    bool counted;        /* holds one of its tenant's tail slots */
    char *tenant, *query;
    int64_t start, delay_ns;
    int limit;
    bool categorize;
    bool legacy;         /* /api/prom/tail messages */
} tail_ctx;

static void tail_free(void *arg)
{
    tail_ctx *t = arg;
    if (t->counted)
        tail_release(t->st, t->tenant);
    free(t->tenant);
    free(t->query);
    free(t);
}

/* What one selection read: its entries' oldest and newest timestamps and
 * how many there were (sent or not). */
typedef struct tail_read {
    int64_t oldest, newest;
    size_t n;
} tail_read;

/* Leaves out of res the entries in seen (and adds the others): streams left
 * without entries move past res->n, which *n_all keeps for freeing. */
static void drop_sent(logql_streams *res, api_tail_seen *seen, size_t *n_all)
{
    size_t kept_streams = 0;
    *n_all = res->n;
    res->total_entries = 0;
    for (size_t i = 0; i < res->n; i++) {
        logql_stream_res *sr = &res->v[i];
        size_t k = 0;
        for (size_t j = 0; j < sr->n; j++) {
            if (!api_tail_seen_add(seen, sr->canonical, sr->entries[j].ts, sr->entries[j].line))
                continue;
            sr->entries[k] = sr->entries[j];
            if (sr->parsed)
                sr->parsed[k] = sr->parsed[j];
            k++;
        }
        sr->n = k;
        res->total_entries += k;
        if (k) { /* swapped, not overwritten: every stream's arrays are freed */
            logql_stream_res tmp = res->v[kept_streams];
            res->v[kept_streams++] = *sr;
            *sr = tmp;
        }
    }
    res->n = kept_streams;
}

static void note_read(const logql_streams *res, tail_read *rd)
{
    *rd = (tail_read){ INT64_MAX, INT64_MIN, 0 };
    for (size_t i = 0; i < res->n; i++)
        for (size_t j = 0; j < res->v[i].n; j++) {
            int64_t ts = res->v[i].entries[j].ts;
            rd->oldest = ts < rd->oldest ? ts : rd->oldest;
            rd->newest = ts > rd->newest ? ts : rd->newest;
            rd->n++;
        }
}

/* One selection over [from, to), less the entries in seen, sent as a
 * message (when any are left). LK_OK, LK_EIO (peer gone), or the
 * selection's error with its message in *err. */
static int send_range(tail_ctx *t, int fd, const logql_expr *e, const lp_pipeline *p, int64_t from,
                      int64_t to, bool backward, size_t limit, api_tail_seen *seen, tail_read *rd,
                      lk_buf *err)
{
    const logql_log_selector *sel = &e->u.log;
    logql_select s = {
        .tenant = lk_str_c(t->tenant),
        .matchers = sel->matchers,
        .n_matchers = sel->n_matchers,
        .start = from,
        .end = to,
        .limit = limit,
        .backward = backward,
        .pipeline = p,
        .categorize = t->categorize,
    };
    logql_streams res;
    int rc = logql_select_logs(t->st->ingester, &s, &res, err);
    if (rc != LK_OK)
        return rc;
    size_t n_all;
    note_read(&res, rd);
    drop_sent(&res, seen, &n_all);
    if (res.total_entries) {
        lk_buf msg = { 0 };
        if (t->legacy)
            api_write_legacy_tail_frame(&msg, &res);
        else
            api_write_tail_frame(&msg, &res);
        rc = ws_send(fd, WS_TEXT, msg.p, msg.len) == 0 ? LK_OK : LK_EIO;
        lk_buf_free(&msg);
    }
    res.n = n_all;
    logql_streams_free(&res);
    return rc;
}

static void tail_loop(tail_ctx *t, int fd, const logql_expr *e, const lp_pipeline *p)
{
    lk_buf err = { 0 };
    api_tail_seen seen = { 0 };
    tail_read rd = { INT64_MAX, INT64_MIN, 0 };
    int64_t began = lk_now_ns();
    int64_t cursor = began - t->delay_ns;
    int rc = send_range(t, fd, e, p, t->start, cursor, true, (size_t)t->limit, &seen, &rd, &err);
    /* a full history left older entries out on purpose: never read below it */
    int64_t floor = t->limit > 0 && rd.n >= (size_t)t->limit ? rd.oldest : t->start;
    int64_t from = cursor - TAIL_LATE_NS;
    while (rc == LK_OK && !atomic_load(&t->st->stopping) &&
           lk_now_ns() - began < TAIL_MAX_DURATION_NS) {
        if (ws_client_gone(fd, TAIL_POLL_MS)) {
            ws_send_close(fd, WS_CLOSE_NORMAL, LK_STR("")); /* the closing handshake */
            goto out;
        }
        if (ws_send(fd, WS_PING, NULL, 0) != 0)
            goto out;
        int64_t upto = lk_now_ns() - t->delay_ns;
        if (upto <= cursor)
            continue;
        from = from > floor ? from : floor;
        api_tail_seen_prune(&seen, from);
        rc = send_range(t, fd, e, p, from, upto, false, TAIL_BATCH, &seen, &rd, &err);
        /* a full batch goes on from its newest entry, else read back again */
        cursor = upto;
        from = rd.n >= TAIL_BATCH ? rd.newest : upto - TAIL_LATE_NS;
    }
    if (rc == LK_EIO)
        goto out;
    if (rc != LK_OK)
        ws_send_close(fd, WS_CLOSE_INTERNAL, err.p ? lk_buf_str(&err) : LK_STR("query failed"));
    else
        ws_send_close(fd, WS_CLOSE_NORMAL, LK_STR(""));
out:
    api_tail_seen_free(&seen);
    lk_buf_free(&err);
}

static void tail_run(void *arg, int fd)
{
    tail_ctx *t = arg;
    struct timeval tv = { .tv_sec = TAIL_SEND_TIMEOUT_S };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    logql_expr *e = NULL;
    lp_pipeline *p = NULL;
    lk_buf err = { 0 };
    if (logql_parse(lk_str_c(t->query), &e, &err) != LK_OK ||
        lp_compile(e->u.log.stages, e->u.log.n_stages, &p, &err) != LK_OK) {
        ws_send_close(fd, WS_CLOSE_INTERNAL, lk_buf_str(&err));
    } else {
        tail_loop(t, fd, e, p);
    }
    lp_free(p);
    logql_expr_free(e);
    lk_buf_free(&err);
}

/* Is this a WebSocket handshake? Its key in *key. */
static bool is_websocket(const api_req *rq, lk_str *key)
{
    lk_str up = api_header(rq, "Upgrade");
    *key = lk_str_trim(api_header(rq, "Sec-WebSocket-Key"));
    return up.len && lk_str_eq_nocase(lk_str_trim(up), "websocket") && key->len;
}

/* A decimal number of seconds, 0 to 10^9. */
static bool parse_seconds(lk_str v, int64_t *out)
{
    if (v.len == 0 || v.len > 9)
        return false;
    int64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return false;
        n = n * 10 + (v.p[i] - '0');
    }
    *out = n;
    return true;
}

static bool tail_params(api_req *rq, api_resp *rs, tail_ctx *t)
{
    lk_buf err = { 0 };
    int64_t now = lk_now_ns();
    lk_str v;
    bool ok = true;
    t->start = now - 3600 * LK_NS_PER_SEC;
    if (api_param_get(rq, "start", &v) && v.len && lk_parse_time_param(v, &t->start) != LK_OK) {
        lk_buf_printf(&err, "invalid start parameter: %.*s", LK_STR_FMT(v));
        ok = false;
    }
    t->limit = TAIL_DEFAULT_LIMIT;
    if (ok && api_param_get(rq, "limit", &v) && v.len)
        ok = api_parse_limit(rq, &t->limit, &err) == LK_OK;
    if (ok && api_param_get(rq, "delay_for", &v) && v.len) {
        int64_t d = 0;
        if (!parse_seconds(v, &d)) {
            lk_buf_printf(&err, "invalid delay_for parameter: %.*s", LK_STR_FMT(v));
            ok = false;
        } else if (d > TAIL_MAX_DELAY_S) {
            lk_buf_puts(&err, "delay_for can't be greater than 5");
            ok = false;
        }
        t->delay_ns = d * LK_NS_PER_SEC;
    }
    if (!ok)
        api_reply_error(rs, 400, "%s", err.p ? err.p : "bad request");
    lk_buf_free(&err);
    return ok;
}

static void tail(api_req *rq, api_resp *rs, bool legacy)
{
    tail_ctx *t = lk_calloc(1, sizeof *t);
    lk_str q = LK_STR("");
    api_param_get(rq, "query", &q);
    logql_expr *e = NULL;
    lk_buf err = { 0 };
    if (!tail_params(rq, rs, t))
        goto fail;
    if (logql_parse(q, &e, &err) != LK_OK) {
        api_reply_error(rs, 400, "%s", err.p ? err.p : "failed to parse the query");
        goto fail;
    }
    if (e->kind != LOGQL_EXPR_LOG) {
        api_reply_error(rs, 400, "only log selector is supported");
        goto fail;
    }
    lk_str key;
    if (!is_websocket(rq, &key)) {
        api_reply_error(rs, 400, "websocket: the client is not using the websocket protocol: "
                                 "'websocket' token not found in 'Upgrade' header");
        goto fail;
    }
    if (!tail_acquire(rq->st, rq->tenant, &err)) {
        api_reply_error(rs, 400, "%s", err.p);
        goto fail;
    }
    t->st = rq->st;
    t->counted = true;
    t->tenant = lk_strndup(rq->tenant.p, rq->tenant.len);
    t->query = lk_strndup(q.p, q.len);
    t->legacy = legacy;
    t->categorize = !legacy && api_wants_categorized(rq);
    api_upgrade *up = lk_calloc(1, sizeof *up);
    up->run = tail_run;
    up->free_ctx = tail_free;
    up->ctx = t;
    ws_accept_value(key, &up->accept);
    rs->upgrade = up;
    logql_expr_free(e);
    lk_buf_free(&err);
    return;
fail:
    logql_expr_free(e);
    lk_buf_free(&err);
    tail_free(t);
}

void api_h_tail(api_req *rq, api_resp *rs) { tail(rq, rs, false); }
void api_h_tail_legacy(api_req *rq, api_resp *rs) { tail(rq, rs, true); }
