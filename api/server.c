/* libmicrohttpd glue: request bodies are accumulated up to the configured
 * limit, parameters come from the URL and from form bodies, the tenant from
 * X-Scope-OrgID, then the routed handler runs and its response is sent.
 * Every header is checked before it is read (api/header_check.c); every
 * connection's phase is reported to the deadline watchdog
 * (api/connwatch.c), which also drains the requests in flight at shutdown. */
#include "api/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/connwatch.h"
#include "api/handlers.h"
#include "api/header_check.h"
#include "api/http.h"
#include "api/routes.h"
#include "api/state.h"
#include "api/tenant.h"
#include "lib/err.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"
#include "query/pattern/store.h"

/* lokic's connection limit when server.http_listen_conn_limit is 0: every
 * connection is a thread. */
#define DEFAULT_CONN_LIMIT 4096u

struct api_server {
    api_state st;
    struct MHD_Daemon *d;
    api_connwatch *watch;
    MHD_socket quiesced_fd; /* the listening socket once stopping, closed last */
    uint16_t port;
};

/* Per-connection request state, kept across MHD's access-handler calls. */
typedef struct conn_state {
    api_req rq;
    lk_buf body;
    const api_route *route;
    int64_t start_ns;
    bool too_large;
    api_conn *watched;      /* the connection's entry in the watchdog */
    bool over_budget;       /* the in-flight budget refused the body */
    _Atomic(api_upgrade *) upgrade; /* queued, not yet run */
} conn_state;

/* The watchdog's entry of a connection (its MHD socket context). */
static api_conn *watched_conn(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Without the whitespace around it, as Go's textproto reads a header
 * (libmicrohttpd leaves the trailing one). */
lk_str api_header(const api_req *rq, const char *name)
{
    size_t len = 0;
    const char *v = NULL;
    if (MHD_lookup_connection_value_n(rq->conn, MHD_HEADER_KIND, name, strlen(name), &v, &len) !=
        MHD_YES)
        return LK_STR_NULL;
    return lk_str_trim(lk_str_n(v, len));
}

bool api_param_get(const api_req *rq, const char *name, lk_str *out)
{
    for (size_t i = 0; i < rq->n_params; i++) {
        if (lk_str_eq_c(rq->params[i].name, name)) {
            *out = rq->params[i].value;
            return true;
        }
    }
    return false;
}

const char *api_param_cstr(api_req *rq, const char *name)
{
    lk_str v;
    if (!api_param_get(rq, name, &v))
        return NULL;
    return lk_arena_strndup(&rq->arena, v.p, v.len);
}

void api_reply_text(api_resp *rs, int status, const char *text)
{
    rs->status = status;
    rs->content_type = "text/plain; charset=utf-8";
    lk_buf_reset(&rs->body);
    lk_buf_puts(&rs->body, text);
}

void api_resp_header(api_resp *rs, const char *name, const char *value)
{
    if (rs->n_headers == API_RESP_MAX_HEADERS)
        LK_BUG("api_resp_header: more than %d headers", API_RESP_MAX_HEADERS);
    rs->headers[rs->n_headers].name = name;
    rs->headers[rs->n_headers++].value = value;
}

void api_reply_error(api_resp *rs, int status, const char *fmt, ...)
{
    rs->status = status;
    rs->content_type = "text/plain; charset=utf-8";
    lk_buf_reset(&rs->body);
    va_list ap;
    va_start(ap, fmt);
    lk_buf_vprintf(&rs->body, fmt, ap);
    va_end(ap);
    lk_buf_putc(&rs->body, '\n');
}

void api_reply_json(api_resp *rs, int status)
{
    rs->status = status;
    rs->content_type = "application/json; charset=UTF-8";
}

static void add_param(api_req *rq, lk_str name, lk_str value)
{
    rq->params = lk_grow(rq->params, &rq->cap_params, rq->n_params + 1, sizeof *rq->params);
    rq->params[rq->n_params++] = (api_param){ name, value };
}

/* With their decoded lengths: "%00" in a value is a NUL inside it. */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    api_req *rq = cls;
    add_param(rq, lk_arena_str(&rq->arena, lk_str_n(key, key_size)),
              lk_arena_str(&rq->arena, value ? lk_str_n(value, value_size) : LK_STR("")));
    return MHD_YES;
}

/* URL-decodes s ('+' is a space) into the arena. */
static lk_str form_unescape(lk_arena *a, lk_str s)
{
    char *d = lk_arena_alloc(a, s.len + 1);
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < s.len + 0 && lk_hex_val(s.p[i + 1]) >= 0 &&
                   lk_hex_val(s.p[i + 2]) >= 0) {
            c = (char)(lk_hex_val(s.p[i + 1]) * 16 + lk_hex_val(s.p[i + 2]));
            i += 2;
        }
        d[n++] = c;
    }
    d[n] = '\0';
    return lk_str_n(d, n);
}

/* application/x-www-form-urlencoded bodies of query endpoints. */
static void collect_form(api_req *rq)
{
    lk_str ct = api_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!lk_str_has_prefix(ct, LK_STR("application/x-www-form-urlencoded")))
        return;
    const char *p = rq->body.p, *end = p + rq->body.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *fe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(fe - p));
        lk_str k = lk_str_n(p, (size_t)((eq ? eq : fe) - p));
        lk_str v = eq ? lk_str_n(eq + 1, (size_t)(fe - eq - 1)) : LK_STR("");
        if (k.len)
            add_param(rq, form_unescape(&rq->arena, k), form_unescape(&rq->arena, v));
        p = fe + 1;
    }
}

/* The request's tenant; on a read endpoint with multi-tenant queries on,
 * the tenants it names joined with '|' (storage/ingester.h reads them). */
static bool resolve_tenant(api_req *rq, const api_route *r, api_resp *rs)
{
    if (!rq->st->cfg->auth_enabled) {
        rq->tenant = LK_STR("fake");
        return true;
    }
    lk_buf err = { 0 };
    int status = 0;
    lk_str org_id = api_header(rq, "X-Scope-OrgID");
    size_t n = 0;
    bool ok = r->multi_tenant && rq->st->cfg->multi_tenant_queries_enabled
                  ? api_tenants_parse(org_id, &rq->arena, &rq->tenant, &n, &status, &err) == LK_OK
                  : api_tenant_parse(org_id, &rq->tenant, &status, &err) == LK_OK;
    if (!ok) { /* the message may quote any byte of the id */
        api_reply_text(rs, status, "");
        lk_buf_put_str(&rs->body, lk_buf_str(&err));
        lk_buf_putc(&rs->body, '\n');
    }
    lk_buf_free(&err);
    return ok;
}

static void observe(api_state *st, const char *method, const api_route *r, int status,
                    int64_t start_ns)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *vals[4] = { method, r ? r->name : "other", code, "false" };
    double secs = (double)(lk_now_ns() - start_ns) / 1e9;
    lk_histogram_observe(st->m_request_duration, vals, secs);
}

static void upgrade_free(api_upgrade *up)
{
    if (!up)
        return;
    if (up->free_ctx)
        up->free_ctx(up->ctx);
    lk_buf_free(&up->accept);
    free(up);
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    (void)conn;
    (void)extra_in; /* a client sends nothing before it has our 101 */
    (void)extra_in_size;
    api_server *s = cls;
    conn_state *cs = con_cls;
    api_conn_event_on(s->watch, cs->watched, API_CONN_UPGRADED); /* no deadline while it runs */
    api_upgrade *up = atomic_exchange(&cs->upgrade, NULL);
    if (up) {
        int fl = fcntl(sock, F_GETFL);
        if (fl >= 0)
            fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
        up->run(up->ctx, sock);
        upgrade_free(up);
    }
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

static enum MHD_Result send_upgrade(api_server *s, struct MHD_Connection *conn, conn_state *cs,
                                    api_resp *rs)
{
    api_upgrade *up = rs->upgrade;
    rs->upgrade = NULL;
    struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgrade, s);
    if (!r) {
        upgrade_free(up);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(r, "Sec-WebSocket-Accept", up->accept.p);
    atomic_store(&cs->upgrade, up);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
    MHD_destroy_response(r);
    if (ret != MHD_YES)
        upgrade_free(atomic_exchange(&cs->upgrade, NULL));
    return ret;
}

static enum MHD_Result send_resp(api_server *s, struct MHD_Connection *conn, api_resp *rs)
{
    size_t len = rs->body.len;
    char *body = lk_buf_steal(&rs->body);
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (rs->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
    if (rs->extra_header_name)
        MHD_add_response_header(r, rs->extra_header_name, rs->extra_header_value);
    for (size_t i = 0; i < rs->n_headers; i++)
        MHD_add_response_header(r, rs->headers[i].name, rs->headers[i].value);
    if (atomic_load(&s->st.stopping)) /* no next request on this connection */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void run_handler(conn_state *cs, api_resp *rs)
{
    api_req *rq = &cs->rq;
    const api_route *r = cs->route;
    if (!r) {
        api_reply_text(rs, 404, "404 page not found\n");
        return;
    }
    if (!(r->methods & api_method_bit(rq->method))) {
        api_reply_text(rs, 405, "405 method not allowed\n");
        return;
    }
    if (cs->too_large) {
        api_reply_error(rs, 413, "request body too large: exceeds the limit of %lld bytes",
                        (long long)rq->st->cfg->max_recv_msg_size);
        return;
    }
    if (cs->over_budget) {
        api_reply_error(rs, 503, API_INFLIGHT_REFUSED);
        return;
    }
    rq->body = lk_buf_str(&cs->body);
    if (r->methods & API_GET) /* query endpoints also take form bodies */
        collect_form(rq);
    if (r->needs_tenant && !resolve_tenant(rq, r, rs))
        return;
    r->handler(rq, rs);
}

/* Queues the response (or the upgrade) and starts its write deadline. */
static enum MHD_Result respond(api_server *s, struct MHD_Connection *conn, conn_state *cs,
                               api_resp *rs)
{
    observe(&s->st, cs->rq.method, cs->route, rs->upgrade ? 101 : rs->status, cs->start_ns);
    enum MHD_Result ret =
        rs->upgrade ? send_upgrade(s, conn, cs, rs) : send_resp(s, conn, rs);
    lk_buf_free(&rs->body);
    if (ret == MHD_YES)
        api_conn_event_on(s->watch, cs->watched, API_CONN_RESPONSE);
    return ret;
}

/* The first call, headers in: a malformed header is answered at once as Go
 * answers it (the body is not read and the connection closes). */
static enum MHD_Result begin_request(api_server *s, struct MHD_Connection *conn,
                                     conn_state *cs)
{
    cs->watched = watched_conn(conn);
    api_conn_event_on(s->watch, cs->watched, API_CONN_HEADERS);
    lk_buf why = { 0 };
    if (api_header_check(conn, cs->rq.method, &why) == LK_OK)
        return MHD_YES;
    api_resp rs = { 0 };
    api_reply_text(&rs, 400, "400 Bad Request: ");
    lk_buf_put_str(&rs.body, lk_buf_str(&why));
    lk_buf_free(&why);
    return respond(s, conn, cs, &rs);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    api_server *s = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        cs = lk_calloc(1, sizeof *cs);
        cs->start_ns = lk_now_ns();
        cs->rq.conn = conn;
        cs->rq.st = &s->st;
        cs->rq.hold.b = &s->st.inflight;
        cs->rq.method = method;
        cs->rq.path = lk_arena_str(&cs->rq.arena, lk_str_c(url));
        cs->route = api_route_find(cs->rq.path, &cs->rq.path_arg);
        MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &cs->rq);
        *con_cls = cs;
        return begin_request(s, conn, cs);
    }
    if (*upload_data_size) {
        if (!cs->too_large) {
            if ((int64_t)(cs->body.len + *upload_data_size) > s->st.cfg->max_recv_msg_size) {
                cs->too_large = true;
                lk_buf_free(&cs->body);
            } else if (!cs->over_budget && !api_hold_take(&cs->rq.hold, *upload_data_size)) {
                cs->over_budget = true; /* read on, keep nothing */
                lk_buf_free(&cs->body);
                api_hold_release(&cs->rq.hold);
            } else if (!cs->over_budget) {
                lk_buf_append(&cs->body, upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!api_conn_event_on(s->watch, cs->watched, API_CONN_REQUEST_READ))
        return MHD_NO; /* past its read deadline: closed unanswered */
    api_resp rs = { .status = 200 };
    run_handler(cs, &rs);
    /* the body (and what decoding it took) is done with: its bytes go back
     * to the in-flight budget before the answer, which a client may follow
     * with its next push at once */
    lk_buf_free(&cs->body);
    cs->rq.body = (lk_str){ 0 };
    api_hold_release(&cs->rq.hold);
    return respond(s, conn, cs, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    api_server *s = cls;
    api_conn_event_on(s->watch, watched_conn(conn), API_CONN_DONE);
    conn_state *cs = *con_cls;
    if (!cs)
        return;
    upgrade_free(atomic_exchange(&cs->upgrade, NULL)); /* queued but never run */
    lk_buf_free(&cs->body);
    api_hold_release(&cs->rq.hold);
    free(cs->rq.params);
    lk_arena_free(&cs->rq.arena);
    free(cs);
    *con_cls = NULL;
}

/* Request line in (before the headers): a new request's read deadline. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)uri;
    api_server *s = cls;
    api_conn_event_on(s->watch, watched_conn(conn), API_CONN_REQUEST_LINE);
    return NULL; /* on_request makes the request's state */
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    api_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        api_conn_close(s->watch, *socket_context);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    *socket_context = ci ? api_conn_open(s->watch, ci->connect_fd) : NULL;
}

static void register_metrics(api_state *st)
{
    static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100 };
    static const char *const req_labels[] = { "method", "route", "status_code", "ws" };
    static const char *const tenant[] = { "tenant" };
    static const char *const reason_tenant[] = { "reason", "tenant" };
    st->m_request_duration = lk_metric_histogram(
        "loki_request_duration_seconds", "Time (in seconds) spent serving HTTP requests.", 4,
        req_labels, buckets, (int)(sizeof buckets / sizeof buckets[0]));
    st->m_lines_received = lk_metric_counter("loki_distributor_lines_received_total",
                                             "The total number of lines received.", 1, tenant);
    st->m_bytes_received = lk_metric_counter(
        "loki_distributor_bytes_received_total",
        "The total number of uncompressed bytes received.", 1, tenant);
    st->m_discarded_samples = lk_metric_counter(
        "loki_discarded_samples_total", "The total number of samples that were discarded.", 2,
        reason_tenant);
    st->m_discarded_bytes = lk_metric_counter(
        "loki_discarded_bytes_total", "The total number of bytes that were discarded.", 2,
        reason_tenant);
    st->m_streams_created = lk_metric_counter("loki_ingester_streams_created_total",
                                              "The total number of streams created per tenant.",
                                              1, tenant);
}

int api_server_create(const lk_config *cfg, ing *g, api_server **out, lk_buf *err)
{
    api_server *s = lk_calloc(1, sizeof *s);
    s->st.cfg = cfg;
    s->st.ingester = g;
    s->st.start_ns = lk_now_ns();
    s->quiesced_fd = MHD_INVALID_SOCKET;
    atomic_init(&s->st.ready, false);
    atomic_init(&s->st.stopping, false);
    pthread_mutex_init(&s->st.tails_mu, NULL);
    s->st.inflight.limit = cfg->max_inflight_bytes;
    int rc = lk_overrides_create(cfg, &s->st.overrides, err);
    if (rc == LK_OK)
        rc = lk_overrides_start(s->st.overrides, err);
    if (rc != LK_OK) {
        lk_overrides_destroy(s->st.overrides);
        pthread_mutex_destroy(&s->st.tails_mu);
        free(s);
        return rc;
    }
    s->st.rate = push_ratelimiter_create_cfg(cfg);
    s->st.qmem = qm_budget_new(cfg->max_memory_all_queries, true);
    if (cfg->pattern_ingester_enabled)
        s->st.patterns = pat_store_create(cfg->pattern_retain_for_ns);
    register_metrics(&s->st);
    *out = s;
    return LK_OK;
}

static int listen_addr(const char *host, uint16_t port, struct sockaddr_storage *ss,
                       lk_buf *err)
{
    struct addrinfo hints = { .ai_flags = AI_NUMERICSERV | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    char ports[8];
    snprintf(ports, sizeof ports, "%u", port);
    int gai = getaddrinfo(host, ports, &hints, &res);
    if (gai) {
        lk_buf_printf(err, "resolving listen address %s: %s", host, gai_strerror(gai));
        return LK_EINVAL;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return LK_OK;
}

/* libmicrohttpd's own inactivity timeout, in whole seconds: a backstop the
 * watchdog's deadlines always come before (the longest of them). */
static unsigned inactivity_timeout_s(const lk_config *cfg)
{
    int64_t t[] = { cfg->http_server_read_timeout_ns, cfg->http_server_read_header_timeout_ns,
                    cfg->http_server_write_timeout_ns, cfg->http_server_idle_timeout_ns };
    int64_t max = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i] > max)
            max = t[i];
    int64_t secs = (max + LK_NS_PER_SEC - 1) / LK_NS_PER_SEC;
    return secs > UINT32_MAX ? UINT32_MAX : (unsigned)secs;
}

static struct MHD_Daemon *start_daemon(api_server *s, unsigned flags, const struct sockaddr *sa)
{
    const lk_config *cfg = s->st.cfg;
    unsigned limit = cfg->http_listen_conn_limit > 0 ? (unsigned)cfg->http_listen_conn_limit
                                                     : DEFAULT_CONN_LIMIT;
    return MHD_start_daemon(
        flags, (uint16_t)cfg->http_listen_port, NULL, NULL, on_request, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s,
        MHD_OPTION_CONNECTION_TIMEOUT, inactivity_timeout_s(cfg),
        MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->http_listen_conn_limit_per_ip,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(4u << 20),
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        sa ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, sa,
        MHD_OPTION_END);
}

int api_server_start(api_server *s, lk_buf *err)
{
    const lk_config *cfg = s->st.cfg;
    /* ITC: MHD_quiesce_daemon at shutdown */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE | MHD_USE_ITC;
    struct sockaddr_storage ss;
    bool any = !cfg->http_listen_address || !*cfg->http_listen_address;
    if (!any) {
        int rc = listen_addr(cfg->http_listen_address, (uint16_t)cfg->http_listen_port, &ss, err);
        if (rc)
            return rc;
        if (ss.ss_family == AF_INET6)
            flags |= MHD_USE_IPv6;
    } else {
        flags |= MHD_USE_DUAL_STACK;
    }
    api_connwatch_opts wo = {
        .read_header_timeout_ns = cfg->http_server_read_header_timeout_ns,
        .read_timeout_ns = cfg->http_server_read_timeout_ns,
        .write_timeout_ns = cfg->http_server_write_timeout_ns,
        .idle_timeout_ns = cfg->http_server_idle_timeout_ns,
    };
    if (api_connwatch_create(&wo, &s->watch) != LK_OK) {
        lk_buf_puts(err, "starting the connection watchdog thread failed");
        return LK_EIO;
    }
    s->d = start_daemon(s, flags, any ? NULL : (struct sockaddr *)&ss);
    if (!s->d && any) /* no IPv6 on this host: IPv4 only */
        s->d = start_daemon(s, flags & ~(unsigned)MHD_USE_DUAL_STACK, NULL);
    if (!s->d) {
        lk_buf_printf(err, "listening on %s:%d failed (address in use or not permitted)",
                      any ? "" : cfg->http_listen_address, cfg->http_listen_port);
        return LK_EIO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : (uint16_t)cfg->http_listen_port;
    return LK_OK;
}

uint16_t api_server_port(const api_server *s)
{
    return s->port;
}

void api_server_set_ruler(api_server *s, struct rul_ruler *r)
{
    s->st.ruler = r;
}

struct qm_budget *api_server_query_budget(api_server *s)
{
    return s->st.qmem;
}

const lk_overrides *api_server_overrides(api_server *s)
{
    return s->st.overrides;
}

void api_server_set_ready(api_server *s, bool ready)
{
    atomic_store(&s->st.ready, ready);
}

/* Graceful: no new connections (the listening socket is shut down, so
 * connections still in its backlog are refused rather than left waiting),
 * idle ones closed, the requests in flight answered (each answer closes
 * its connection) for up to server.graceful_shutdown_timeout; then the
 * daemon stops, closing what is left. Tails end on `stopping`. */
void api_server_stop(api_server *s)
{
    atomic_store(&s->st.stopping, true);
    atomic_store(&s->st.ready, false);
    if (!s->d)
        return;
    s->quiesced_fd = MHD_quiesce_daemon(s->d);
    if (s->quiesced_fd != MHD_INVALID_SOCKET)
        shutdown(s->quiesced_fd, SHUT_RDWR);
    size_t busy = api_connwatch_drain(s->watch, s->st.cfg->graceful_shutdown_timeout_ns);
    if (busy)
        log_warn("closing HTTP connections with requests in flight", "connections=%zu "
                 "reason=\"server.graceful_shutdown_timeout reached\"", busy);
    MHD_stop_daemon(s->d);
    s->d = NULL;
    if (s->quiesced_fd != MHD_INVALID_SOCKET) {
        close(s->quiesced_fd);
        s->quiesced_fd = MHD_INVALID_SOCKET;
    }
}

void api_server_destroy(api_server *s)
{
    if (!s)
        return;
    api_server_stop(s);
    api_connwatch_destroy(s->watch);
    push_ratelimiter_destroy(s->st.rate);
    qm_budget_free(s->st.qmem);
    pat_store_destroy(s->st.patterns);
    lk_overrides_destroy(s->st.overrides);
    api_tails_free(&s->st);
    pthread_mutex_destroy(&s->st.tails_mu);
    free(s);
}
