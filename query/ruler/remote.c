/* Remote write (remote.h): the WriteRequest built with protobuf-c's
 * generated code (remote.proto) and snappy-compressed at push time; a FIFO
 * of encoded batches per tenant under one mutex, each batch also a file in
 * ruler.wal.dir (rwwal.h) until sent, the files replayed into the queue at
 * start; one sender thread that posts each batch to every client in turn,
 * retrying as remote.h says. Metrics as Loki's ruler WAL registers
 * Prometheus' remote storage ones: prefixed loki_ruler_wal_, labelled
 * tenant, remote_name and url. */
#include "query/ruler/remote.h"

#include <pthread.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"
#include "query/ruler/http.h"
#include "query/ruler/remote.pb-c.h"
#include "query/ruler/rwwal.h"

#define BACKOFF_MIN_NS (100 * INT64_C(1000000))
#define BACKOFF_MAX_NS (5 * INT64_C(1000000000))
#define SEND_TIMEOUT_NS (30 * INT64_C(1000000000))

void rul_rw_encode(const rul_sample *s, size_t n, lk_buf *out)
{
    Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
    Prometheus__TimeSeries *ts = lk_calloc(n ? n : 1, sizeof *ts);
    Prometheus__TimeSeries **tsp = lk_calloc(n ? n : 1, sizeof *tsp);
    Prometheus__Sample *smp = lk_calloc(n ? n : 1, sizeof *smp);
    Prometheus__Sample **smpp = lk_calloc(n ? n : 1, sizeof *smpp);
    size_t nl = 0;
    for (size_t i = 0; i < n; i++)
        nl += s[i].labels.n;
    Prometheus__Label *lb = lk_calloc(nl ? nl : 1, sizeof *lb);
    Prometheus__Label **lbp = lk_calloc(nl ? nl : 1, sizeof *lbp);
    lk_buf strs = { 0 }; /* NUL-terminated copies of names and values */
    size_t *offs = lk_calloc(nl ? nl * 2 : 1, sizeof *offs);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < s[i].labels.n; j++, k++) {
            offs[2 * k] = strs.len;
            lk_buf_put_str(&strs, s[i].labels.v[j].name);
            lk_buf_putc(&strs, '\0');
            offs[2 * k + 1] = strs.len;
            lk_buf_put_str(&strs, s[i].labels.v[j].value);
            lk_buf_putc(&strs, '\0');
        }
    k = 0;
    for (size_t i = 0; i < n; i++) {
        prometheus__time_series__init(&ts[i]);
        prometheus__sample__init(&smp[i]);
        smp[i].value = s[i].value;
        smp[i].timestamp = s[i].ts_ms;
        smpp[i] = &smp[i];
        ts[i].n_samples = 1;
        ts[i].samples = &smpp[i];
        ts[i].labels = &lbp[k];
        ts[i].n_labels = s[i].labels.n;
        for (size_t j = 0; j < s[i].labels.n; j++, k++) {
            prometheus__label__init(&lb[k]);
            lb[k].name = strs.p + offs[2 * k];
            lb[k].value = strs.p + offs[2 * k + 1];
            lbp[k] = &lb[k];
        }
        tsp[i] = &ts[i];
    }
    req.n_timeseries = n;
    req.timeseries = tsp;
    size_t plen = prometheus__write_request__get_packed_size(&req);
    uint8_t *packed = lk_malloc(plen ? plen : 1);
    prometheus__write_request__pack(&req, packed);
    size_t clen = snappy_max_compressed_length(plen);
    lk_buf_reset(out);
    lk_buf_reserve(out, clen);
    if (snappy_compress((const char *)packed, plen, out->p, &clen) != SNAPPY_OK)
        LK_BUG("snappy_compress failed");
    out->len = clen;
    free(packed);
    free(offs);
    lk_buf_free(&strs);
    free(lbp);
    free(lb);
    free(smpp);
    free(smp);
    free(tsp);
    free(ts);
}

/* ---- clients */

typedef struct rw_client {
    char *name, *url, *user, *password;
    char **headers; /* "Name: value", NULL-terminated */
    size_t n_headers;
} rw_client;

typedef struct rw_batch {
    struct rw_batch *next;
    char *tenant;
    lk_buf body;
    size_t n;
    uint64_t seq; /* its WAL file; 0: none */
} rw_batch;

struct rul_rw {
    rw_client *clients;
    size_t n_clients;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rw_batch *head, *tail;
    size_t queued;       /* samples in the queue */
    bool stopping, started, busy;
    int64_t stop_deadline;
    pthread_t thread;
    rul_rwwal *wal; /* NULL: the queue is in memory only */
    lk_metric *m_sent, *m_failed, *m_retried, *m_dropped, *m_pending;
};

static void client_header(rw_client *c, const char *name, const char *value)
{
    c->headers = lk_realloc(c->headers, (c->n_headers + 2) * sizeof *c->headers);
    lk_buf h = { 0 };
    lk_buf_printf(&h, "%s: %s", name, value);
    c->headers[c->n_headers++] = lk_buf_steal(&h);
    c->headers[c->n_headers] = NULL;
}

static rw_client *client_named(rul_rw *rw, lk_str name)
{
    for (size_t i = 0; i < rw->n_clients; i++)
        if (lk_str_eq_c(name, rw->clients[i].name))
            return &rw->clients[i];
    rw->clients = lk_realloc(rw->clients, (rw->n_clients + 1) * sizeof *rw->clients);
    rw_client *c = &rw->clients[rw->n_clients++];
    memset(c, 0, sizeof *c);
    c->name = lk_strndup(name.p, name.len);
    return c;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = lk_strdup(v);
}

/* remote_write.clients pairs: "<client>.<key...>", value. */
static void client_pair(rul_rw *rw, const char *path, const char *value)
{
    const char *dot = strchr(path, '.');
    if (!dot)
        return;
    rw_client *c = client_named(rw, lk_str_n(path, (size_t)(dot - path)));
    const char *key = dot + 1;
    if (strcmp(key, "url") == 0)
        set_str(&c->url, value);
    else if (strcmp(key, "basic_auth.username") == 0)
        set_str(&c->user, value);
    else if (strcmp(key, "basic_auth.password") == 0)
        set_str(&c->password, value);
    else if (strncmp(key, "headers.", 8) == 0)
        client_header(c, key + 8, value);
    else
        log_warn("remote-write client key ignored", "client=%s key=%s", c->name, key);
}

static void load_clients(rul_rw *rw, const lk_config *cfg)
{
    if (cfg->ruler_rw_url && *cfg->ruler_rw_url) {
        rw_client *c = client_named(rw, LK_STR("default"));
        set_str(&c->url, cfg->ruler_rw_url);
        if (cfg->ruler_rw_user && *cfg->ruler_rw_user) {
            set_str(&c->user, cfg->ruler_rw_user);
            set_str(&c->password, cfg->ruler_rw_password ? cfg->ruler_rw_password : "");
        }
        for (size_t i = 0; i + 1 < cfg->ruler_rw_headers.n; i += 2)
            client_header(c, cfg->ruler_rw_headers.v[i], cfg->ruler_rw_headers.v[i + 1]);
    }
    for (size_t i = 0; i + 1 < cfg->ruler_rw_clients.n; i += 2)
        client_pair(rw, cfg->ruler_rw_clients.v[i], cfg->ruler_rw_clients.v[i + 1]);
}

/* ---- sending */

static void batch_free(rw_batch *b)
{
    free(b->tenant);
    lk_buf_free(&b->body);
    free(b);
}

/* One batch to one client; true when done (sent, or refused for good). */
static bool send_once(rul_rw *rw, const rw_client *c, const rw_batch *b)
{
    size_t nh = c->n_headers;
    const char **hs = lk_calloc(nh + 5, sizeof *hs);
    lk_buf org = { 0 };
    lk_buf_printf(&org, "X-Scope-OrgID: %s", b->tenant);
    size_t k = 0;
    hs[k++] = "Content-Encoding: snappy";
    hs[k++] = "Content-Type: application/x-protobuf";
    hs[k++] = "X-Prometheus-Remote-Write-Version: 0.1.0";
    hs[k++] = org.p;
    for (size_t i = 0; i < nh; i++)
        hs[k++] = c->headers[i];
    rul_post p = { .url = c->url, .headers = hs, .user = c->user, .password = c->password,
                   .body = lk_buf_str(&b->body), .timeout_ns = SEND_TIMEOUT_NS };
    int status = 0;
    lk_buf err = { 0 };
    int rc = rul_http_post(&p, &status, &err);
    bool done = rc == LK_OK || (status >= 400 && status < 500 && status != 429);
    const char *lv[] = { b->tenant, c->name, c->url };
    if (rc == LK_OK) {
        lk_counter_add(rw->m_sent, lv, (double)b->n);
    } else {
        lk_counter_add(done ? rw->m_failed : rw->m_retried, lv, (double)b->n);
        log_warn("remote write failed", "client=%s tenant=%s samples=%zu retry=%s err=\"%s\"",
                 c->name, b->tenant, b->n, done ? "false" : "true", err.p ? err.p : "");
    }
    lk_buf_free(&err);
    lk_buf_free(&org);
    free(hs);
    return done;
}

static bool give_up(rul_rw *rw)
{
    pthread_mutex_lock(&rw->mu);
    bool stop = rw->stopping && lk_now_ns() >= rw->stop_deadline;
    pthread_mutex_unlock(&rw->mu);
    return stop;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = { ns / 1000000000, ns % 1000000000 };
    nanosleep(&ts, NULL);
}

/* samples_pending of every client (from) on: the batch's samples that
 * client has not taken yet. */
static void pending_add(rul_rw *rw, const rw_batch *b, size_t from, double v)
{
    for (size_t i = from; i < rw->n_clients; i++)
        if (rw->clients[i].url) {
            const char *lv[] = { b->tenant, rw->clients[i].name, rw->clients[i].url };
            lk_gauge_add(rw->m_pending, lv, v);
        }
}

/* True when every client took the batch or refused it for good. */
static bool send_batch(rul_rw *rw, const rw_batch *b)
{
    for (size_t i = 0; i < rw->n_clients; i++) {
        if (!rw->clients[i].url)
            continue;
        int64_t backoff = BACKOFF_MIN_NS;
        for (;;) {
            if (send_once(rw, &rw->clients[i], b))
                break;
            if (give_up(rw))
                return false;
            sleep_ns(backoff);
            backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
        }
        const char *lv[] = { b->tenant, rw->clients[i].name, rw->clients[i].url };
        lk_gauge_add(rw->m_pending, lv, -(double)b->n);
    }
    return true;
}

static void *sender(void *arg)
{
    rul_rw *rw = arg;
    pthread_mutex_lock(&rw->mu);
    for (;;) {
        while (!rw->head && !rw->stopping)
            pthread_cond_wait(&rw->cv, &rw->mu);
        rw_batch *b = rw->head;
        if (!b)
            break;
        rw->head = b->next;
        if (!rw->head)
            rw->tail = NULL;
        rw->queued -= b->n;
        rw->busy = true;
        pthread_mutex_unlock(&rw->mu);
        bool done = send_batch(rw, b);
        pthread_mutex_lock(&rw->mu);
        if (done && b->seq)
            rul_rwwal_remove(rw->wal, b->seq); /* else kept for the next start */
        batch_free(b);
        rw->busy = false;
        pthread_cond_broadcast(&rw->cv);
    }
    pthread_mutex_unlock(&rw->mu);
    return NULL;
}

static void create_metrics(rul_rw *rw)
{
    static const char *const lbl[] = { "tenant", "remote_name", "url" };
#define RWM "loki_ruler_wal_prometheus_remote_storage_"
    rw->m_sent = lk_metric_counter(RWM "samples_total",
                                   "Samples sent to remote storage.", 3, lbl);
    rw->m_failed = lk_metric_counter(RWM "samples_failed_total",
                                     "Samples that failed on a non-recoverable error (4xx).", 3,
                                     lbl);
    rw->m_retried = lk_metric_counter(RWM "samples_retried_total",
                                      "Samples that failed on a recoverable error, retried.", 3,
                                      lbl);
    rw->m_dropped = lk_metric_counter(RWM "samples_dropped_total",
                                      "Samples dropped unsent because the queue was full.", 3,
                                      lbl);
    rw->m_pending = lk_metric_gauge(RWM "samples_pending",
                                    "Samples queued to be sent to remote storage.", 3, lbl);
#undef RWM
}

/* A batch from the WAL into the queue (before the sender starts). */
static void enqueue(rul_rw *rw, rw_batch *b)
{
    if (rw->tail)
        rw->tail->next = b;
    else
        rw->head = b;
    rw->tail = b;
    rw->queued += b->n;
    pending_add(rw, b, 0, (double)b->n);
}

static void replay_batch(void *ctx, uint64_t seq, const char *tenant, uint32_t n, lk_str body)
{
    rul_rw *rw = ctx;
    rw_batch *b = lk_calloc(1, sizeof *b);
    b->tenant = lk_strdup(tenant);
    b->n = n;
    b->seq = seq;
    lk_buf_put_str(&b->body, body);
    enqueue(rw, b);
}

int rul_rw_create(const lk_config *cfg, rul_rw **out, lk_buf *err)
{
    *out = NULL;
    if (!cfg->ruler_remote_write_enabled)
        return LK_OK;
    rul_rw *rw = lk_calloc(1, sizeof *rw);
    load_clients(rw, cfg);
    size_t urls = 0;
    for (size_t i = 0; i < rw->n_clients; i++)
        urls += rw->clients[i].url != NULL;
    if (!urls) {
        if (err)
            lk_buf_puts(err, "ruler.remote_write.enabled is set but no client has a url");
        rul_rw_destroy(rw, 0);
        return LK_EINVAL;
    }
    create_metrics(rw);
    if (cfg->ruler_wal_dir && *cfg->ruler_wal_dir) {
        int rc = rul_rwwal_open(cfg->ruler_wal_dir, &rw->wal, err);
        if (rc != LK_OK) {
            rul_rw_destroy(rw, 0);
            return rc;
        }
        size_t n = rul_rwwal_replay(rw->wal, replay_batch, rw);
        if (n)
            log_info("remote-write batches from the WAL queued again", "batches=%zu samples=%zu",
                     n, rw->queued);
    }
    pthread_mutex_init(&rw->mu, NULL);
    pthread_cond_init(&rw->cv, NULL);
    if (pthread_create(&rw->thread, NULL, sender, rw) != 0)
        LK_BUG("pthread_create failed");
    rw->started = true;
    *out = rw;
    return LK_OK;
}

void rul_rw_push(rul_rw *rw, lk_str tenant, const rul_sample *s, size_t n)
{
    if (!rw || !n)
        return;
    rw_batch *b = lk_calloc(1, sizeof *b);
    b->tenant = lk_strndup(tenant.p, tenant.len);
    b->n = n;
    rul_rw_encode(s, n, &b->body);
    pthread_mutex_lock(&rw->mu);
    while (rw->head && rw->queued + n > RUL_RW_QUEUE_SAMPLES) {
        rw_batch *old = rw->head;
        rw->head = old->next;
        if (!rw->head)
            rw->tail = NULL;
        rw->queued -= old->n;
        pending_add(rw, old, 0, -(double)old->n);
        for (size_t i = 0; i < rw->n_clients; i++)
            if (rw->clients[i].url) {
                const char *lv[] = { old->tenant, rw->clients[i].name, rw->clients[i].url };
                lk_counter_add(rw->m_dropped, lv, (double)old->n);
            }
        if (old->seq)
            rul_rwwal_remove(rw->wal, old->seq);
        batch_free(old);
    }
    if (rw->wal && rul_rwwal_append(rw->wal, b->tenant, (uint32_t)n, lk_buf_str(&b->body),
                                    &b->seq) != LK_OK)
        b->seq = 0;
    enqueue(rw, b);
    pthread_cond_broadcast(&rw->cv);
    pthread_mutex_unlock(&rw->mu);
}

void rul_rw_destroy(rul_rw *rw, int64_t timeout_ns)
{
    if (!rw)
        return;
    if (rw->started) {
        pthread_mutex_lock(&rw->mu);
        rw->stopping = true;
        rw->stop_deadline = lk_now_ns() + timeout_ns;
        pthread_cond_broadcast(&rw->cv);
        pthread_mutex_unlock(&rw->mu);
        pthread_join(rw->thread, NULL);
        pthread_mutex_destroy(&rw->mu);
        pthread_cond_destroy(&rw->cv);
    }
    while (rw->head) {
        rw_batch *b = rw->head;
        rw->head = b->next;
        batch_free(b);
    }
    for (size_t i = 0; i < rw->n_clients; i++) {
        rw_client *c = &rw->clients[i];
        for (size_t j = 0; j < c->n_headers; j++)
            free(c->headers[j]);
        free(c->headers);
        free(c->name);
        free(c->url);
        free(c->user);
        free(c->password);
    }
    free(rw->clients);
    rul_rwwal_close(rw->wal);
    free(rw);
}
