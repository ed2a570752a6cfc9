/* Signed requests over libcurl with retries and metrics (aws_http.h).
 * Every attempt is signed again (x-amz-date moves on); the headers sent
 * are the signed ones plus "Expect:" (no 100-continue round trip; curl
 * sends no such header, so it is not signed). */
#define _GNU_SOURCE /* memmem */
#include "storage/aws_http.h"

#include <stdio.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"

#define POOL_MAX 16
#define MAX_HEADERS 16

struct aws_http {
    aws_http_config cfg; /* strings owned */
    pthread_mutex_t mu;
    CURL *idle[POOL_MAX];
    int nidle;
    lk_metric *requests, *errors, *retries, *duration, *sent, *received;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        LK_BUG("curl_global_init failed");
}

static char *dup_or_null(const char *s)
{
    return s && *s ? lk_strdup(s) : NULL;
}

static void register_metrics(aws_http *h)
{
    static const char *const op[] = { "service", "operation" };
    static const char *const op_status[] = { "service", "operation", "status_code" };
    static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                                      30 };
    h->requests = lk_metric_counter("lokic_aws_requests_total",
                                    "Requests to S3 and DynamoDB, every attempt, by answer.", 3,
                                    op_status);
    h->errors = lk_metric_counter("lokic_aws_request_errors_total",
                                  "Attempts that failed: transport errors, 5xx, throttling.", 2,
                                  op);
    h->retries = lk_metric_counter("lokic_aws_request_retries_total",
                                   "Attempts made again after a failure.", 2, op);
    h->duration = lk_metric_histogram("lokic_aws_request_duration_seconds",
                                      "Time of one attempt.", 2, op, buckets,
                                      (int)(sizeof buckets / sizeof buckets[0]));
    h->sent = lk_metric_counter("lokic_aws_sent_bytes_total", "Request body bytes sent.", 2, op);
    h->received = lk_metric_counter("lokic_aws_received_bytes_total",
                                    "Response body bytes received.", 2, op);
}

int aws_http_create(const aws_http_config *cfg, aws_http **out)
{
    pthread_once(&curl_once, curl_init_once);
    aws_http *h = lk_calloc(1, sizeof *h);
    h->cfg = *cfg;
    h->cfg.service = lk_strdup(cfg->service ? cfg->service : "s3");
    h->cfg.region = lk_strdup(cfg->region && *cfg->region ? cfg->region : "us-east-1");
    h->cfg.access_key = lk_strdup(cfg->access_key ? cfg->access_key : "");
    h->cfg.secret_key = lk_strdup(cfg->secret_key ? cfg->secret_key : "");
    h->cfg.session_token = dup_or_null(cfg->session_token);
    h->cfg.ca_file = dup_or_null(cfg->ca_file);
    if (h->cfg.connect_timeout_ns <= 0)
        h->cfg.connect_timeout_ns = 10 * LK_NS_PER_SEC;
    if (h->cfg.min_backoff_ns <= 0)
        h->cfg.min_backoff_ns = 100 * LK_NS_PER_MS;
    if (h->cfg.max_backoff_ns < h->cfg.min_backoff_ns)
        h->cfg.max_backoff_ns = 3 * LK_NS_PER_SEC;
    if (h->cfg.max_retries < 0)
        h->cfg.max_retries = 0;
    pthread_mutex_init(&h->mu, NULL);
    register_metrics(h);
    *out = h;
    return LK_OK;
}

void aws_http_destroy(aws_http *h)
{
    if (!h)
        return;
    for (int i = 0; i < h->nidle; i++)
        curl_easy_cleanup(h->idle[i]);
    pthread_mutex_destroy(&h->mu);
    free((char *)h->cfg.service);
    free((char *)h->cfg.region);
    free((char *)h->cfg.access_key);
    if (h->cfg.secret_key)
        memset((char *)h->cfg.secret_key, 0, strlen(h->cfg.secret_key));
    free((char *)h->cfg.secret_key);
    free((char *)h->cfg.session_token);
    free((char *)h->cfg.ca_file);
    free(h);
}

void aws_http_resp_free(aws_http_resp *resp)
{
    lk_buf_free(&resp->body);
}

int64_t aws_http_backoff_ns(const aws_http_config *cfg, int attempt)
{
    int64_t d = cfg->min_backoff_ns;
    for (int i = 1; i < attempt && d < cfg->max_backoff_ns; i++)
        d *= 2;
    if (d > cfg->max_backoff_ns)
        d = cfg->max_backoff_ns;
    return d - (int64_t)((double)(d / 2) * ((double)rand() / RAND_MAX));
}

/* ---- curl handles */

static CURL *take_handle(aws_http *h)
{
    CURL *c = NULL;
    pthread_mutex_lock(&h->mu);
    if (h->nidle > 0)
        c = h->idle[--h->nidle];
    pthread_mutex_unlock(&h->mu);
    if (!c && !(c = curl_easy_init()))
        LK_BUG("curl_easy_init failed");
    return c;
}

static void give_handle(aws_http *h, CURL *c)
{
    pthread_mutex_lock(&h->mu);
    if (h->nidle < POOL_MAX) {
        h->idle[h->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&h->mu);
    if (c)
        curl_easy_cleanup(c);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    lk_buf_append(ctx, p, size * n);
    return size * n;
}

/* ---- one attempt */

typedef struct attempt {
    struct curl_slist *hdrs;
    lk_buf url, auth;
    char hash[65], date[17];
} attempt;

static struct curl_slist *add_header(struct curl_slist *l, const char *name, const char *value)
{
    lk_buf b = { 0 };
    lk_buf_printf(&b, "%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(l, b.p);
    lk_buf_free(&b);
    if (!n)
        LK_BUG("curl_slist_append failed");
    return n;
}

/* The signed headers of r and the Authorization over them. */
static void sign(const aws_http *h, const aws_http_req *r, attempt *a)
{
    aws_hdr hs[MAX_HEADERS + 4];
    size_t n = 0;
    hs[n++] = (aws_hdr){ "Host", r->host };
    hs[n++] = (aws_hdr){ "X-Amz-Date", a->date };
    hs[n++] = (aws_hdr){ "X-Amz-Content-Sha256", a->hash };
    if (h->cfg.session_token)
        hs[n++] = (aws_hdr){ "X-Amz-Security-Token", h->cfg.session_token };
    for (size_t i = 0; i < r->nheaders && i < MAX_HEADERS; i++)
        hs[n++] = r->headers[i];
    aws_sign_in in = { r->method, r->path, r->query ? r->query : "", hs, n, a->hash,
                       h->cfg.access_key, h->cfg.secret_key, h->cfg.region, h->cfg.service,
                       a->date };
    if (aws_sigv4_authorization(&in, &a->auth) != LK_OK)
        LK_BUG("x-amz-date \"%s\" is not 16 characters", a->date);
    for (size_t i = 0; i < n; i++)
        a->hdrs = add_header(a->hdrs, hs[i].name, hs[i].value);
    a->hdrs = add_header(a->hdrs, "Authorization", a->auth.p);
    a->hdrs = curl_slist_append(a->hdrs, "Expect:");
}

static void set_options(const aws_http *h, CURL *c, const aws_http_req *r, attempt *a,
                        aws_http_resp *resp)
{
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, a->url.p);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, a->hdrs);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->cfg.connect_timeout_ns / LK_NS_PER_MS));
    if (h->cfg.timeout_ns > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(h->cfg.timeout_ns / LK_NS_PER_MS));
    if (h->cfg.idle_conn_timeout_ns > 0)
        curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, (long)(h->cfg.idle_conn_timeout_ns / LK_NS_PER_SEC));
    if (h->cfg.tls_skip_verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (h->cfg.ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->cfg.ca_file);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp->body);
    if (r->no_body)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(r->method, "GET") == 0)
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (r->body || strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0 && !r->no_body)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
}

static bool throttled(const aws_http_resp *resp)
{
    if (resp->status != 400 || !resp->body.p)
        return false;
    lk_str b = lk_buf_str(&resp->body);
    return memmem(b.p, b.len, "ThrottlingException", 19) ||
           memmem(b.p, b.len, "ProvisionedThroughputExceededException", 38) ||
           memmem(b.p, b.len, "RequestLimitExceeded", 20);
}

static bool retryable(const aws_http_resp *resp)
{
    return resp->status >= 500 || resp->status == 429 || throttled(resp);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * LK_NS_PER_SEC + ts.tv_nsec;
}

/* One attempt: LK_OK with resp->status set, or LK_EIO with curl's reason. */
static int attempt_once(aws_http *h, const aws_http_req *r, aws_http_resp *resp, lk_buf *why)
{
    attempt a = { 0 };
    aws_sha256_hex(r->body ? r->body : "", r->body_len, a.hash);
    aws_amz_date(time(NULL), a.date);
    lk_buf_printf(&a.url, "%s%s%s%s", r->url_base, r->path, r->query && *r->query ? "?" : "",
                  r->query ? r->query : "");
    sign(h, r, &a);
    lk_buf_reset(&resp->body);
    resp->status = 0;
    resp->content_length = -1;
    CURL *c = take_handle(h);
    set_options(h, c, r, &a, resp);
    int64_t t0 = mono_ns();
    CURLcode cc = curl_easy_perform(c);
    const char *labels[] = { h->cfg.service, r->op, NULL };
    lk_histogram_observe(h->duration, labels, (double)(mono_ns() - t0) / 1e9);
    char code[16] = "error";
    int rc = LK_OK;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_off_t cl = -1;
        curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        resp->content_length = cl;
        snprintf(code, sizeof code, "%ld", resp->status);
        lk_counter_add(h->sent, labels, (double)r->body_len);
        lk_counter_add(h->received, labels, (double)resp->body.len);
    } else {
        lk_buf_printf(why, "%s %s%s: %s", r->method, r->url_base, r->path, curl_easy_strerror(cc));
        rc = LK_EIO;
    }
    labels[2] = code;
    lk_counter_add(h->requests, labels, 1);
    give_handle(h, c);
    curl_slist_free_all(a.hdrs);
    lk_buf_free(&a.url);
    lk_buf_free(&a.auth);
    return rc;
}

void aws_http_backoff(const aws_http *h, int n)
{
    lk_sleep_ns(aws_http_backoff_ns(&h->cfg, n));
}

int aws_http_do(aws_http *h, const aws_http_req *r, aws_http_resp *resp, lk_buf *err)
{
    const char *labels[] = { h->cfg.service, r->op };
    lk_buf why = { 0 };
    int rc = LK_EIO;
    for (int i = 0; i <= h->cfg.max_retries; i++) {
        if (i > 0) {
            lk_counter_add(h->retries, labels, 1);
            lk_sleep_ns(aws_http_backoff_ns(&h->cfg, i));
        }
        lk_buf_reset(&why);
        rc = attempt_once(h, r, resp, &why);
        if (rc == LK_OK && !retryable(resp))
            break;
        lk_counter_add(h->errors, labels, 1);
        if (rc == LK_OK) {
            lk_buf_printf(&why, "%s %s%s: HTTP %ld", r->method, r->url_base, r->path,
                          resp->status);
            rc = LK_EIO;
        }
        log_warn("object store request failed", "service=%s op=%s attempt=%d reason=\"%s\"",
                 h->cfg.service, r->op, i + 1, why.p);
    }
    if (rc != LK_OK && err)
        lk_buf_put_str(err, lk_buf_str(&why));
    lk_buf_free(&why);
    return rc;
}

int aws_http_endpoint(const char *what, const char *endpoint, const char *default_host,
                      bool insecure, lk_buf *scheme, lk_buf *host, lk_buf *err)
{
    const char *ep = endpoint && *endpoint ? endpoint : default_host;
    const char *rest = ep;
    if (strncmp(ep, "http://", 7) == 0) {
        lk_buf_puts(scheme, "http");
        rest = ep + 7;
    } else if (strncmp(ep, "https://", 8) == 0) {
        lk_buf_puts(scheme, "https");
        rest = ep + 8;
    } else if (strstr(ep, "://")) {
        lk_buf_printf(err, "%s endpoint \"%s\": only http and https URLs", what, ep);
        return LK_EINVAL;
    } else {
        lk_buf_puts(scheme, insecure ? "http" : "https");
    }
    size_t n = strcspn(rest, "/?#");
    if (n == 0 || memchr(rest, '@', n)) {
        lk_buf_printf(err, "%s endpoint \"%s\": expected scheme://host[:port]", what, ep);
        return LK_EINVAL;
    }
    lk_buf_append(host, rest, n);
    return LK_OK;
}
