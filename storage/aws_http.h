/* The HTTP layer under the S3 and DynamoDB clients (s3.h, dynamo.h): one
 * signed request (SigV4, aws_sigv4.h) over libcurl, retried with
 * exponential backoff and jitter on transport failures (refused, reset,
 * timed out), 5xx (S3's SlowDown is a 503), 429 and DynamoDB's throttling
 * 400s, with per-operation metrics:
 *   lokic_aws_requests_total{service,operation,status_code}  every attempt
 *       ("error" for a transport failure)
 *   lokic_aws_request_errors_total{service,operation}      failed attempts
 *   lokic_aws_request_retries_total{service,operation}
 *   lokic_aws_request_duration_seconds{service,operation}  per attempt
 *   lokic_aws_sent_bytes_total / lokic_aws_received_bytes_total{service,operation}
 * Thread-safe: concurrent requests take their own curl handle from a small
 * pool of idle ones, which keeps connections alive between requests. */
#ifndef LOKIC_STORAGE_AWS_HTTP_H
#define LOKIC_STORAGE_AWS_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"
#include "storage/aws_sigv4.h"

typedef struct aws_http_config {
    const char *service;        /* "s3", "dynamodb": the signing scope and the metrics label */
    const char *region;
    const char *access_key;
    const char *secret_key;
    const char *session_token;  /* NULL or "": none */
    bool tls_skip_verify;       /* http_config.insecure_skip_verify */
    const char *ca_file;        /* http_config.ca_file; NULL or "": the system's */
    int64_t connect_timeout_ns; /* 0: 10 s */
    int64_t timeout_ns;         /* one attempt, whole (0: none) */
    int64_t idle_conn_timeout_ns; /* a kept-alive connection older than this is not reused */
    int max_retries;            /* attempts after the first (Loki's backoff_config: 5) */
    int64_t min_backoff_ns;     /* 100 ms */
    int64_t max_backoff_ns;     /* 3 s */
} aws_http_config;

typedef struct aws_http aws_http;

typedef struct aws_http_req {
    const char *op;         /* the metrics' operation label: "PutObject", "Query", ... */
    const char *method;
    const char *url_base;   /* "http://127.0.0.1:7480": scheme, host and port */
    const char *host;       /* the Host header: the host and port of url_base */
    const char *path;       /* URI-encoded, "/" at least */
    const char *query;      /* URI-encoded name=value pairs joined by '&'; NULL or "" */
    const aws_hdr *headers; /* more headers to send and sign */
    size_t nheaders;
    const void *body;
    size_t body_len;
    bool no_body;           /* HEAD: no response body */
} aws_http_req;

typedef struct aws_http_resp {
    long status;
    lk_buf body;
    int64_t content_length; /* from the headers; -1 when not given */
} aws_http_resp;

/* The config's strings are copied. */
int aws_http_create(const aws_http_config *cfg, aws_http **out);
void aws_http_destroy(aws_http *h);
/* Sends r until it gets an answer that is not retried, or the retries run
 * out. LK_OK with *resp holding the last answer (any status; the caller
 * judges it); LK_EIO when the last attempt failed in transport or was
 * retryable, with what happened in err. resp is reset first; free it with
 * aws_http_resp_free either way. */
int aws_http_do(aws_http *h, const aws_http_req *r, aws_http_resp *resp, lk_buf *err);
void aws_http_resp_free(aws_http_resp *resp);
/* Splits endpoint into its scheme and host[:port]: "http://host[:port]",
 * "https://host[:port]", a bare "host[:port]" (https, or http when
 * insecure), or NULL or "" for default_host (AWS's own, as a bare host).
 * LK_EINVAL with a reason naming what ("S3", "DynamoDB") for another
 * scheme, no host, or user info in it. */
int aws_http_endpoint(const char *what, const char *endpoint, const char *default_host,
                      bool insecure, lk_buf *scheme, lk_buf *host, lk_buf *err);
/* The delay before retry number attempt (1, 2, ...): min * 2^(attempt-1),
 * at most max, with up to half of it taken off at random. */
int64_t aws_http_backoff_ns(const aws_http_config *cfg, int attempt);
/* Sleeps aws_http_backoff_ns of h's config: for callers that retry an
 * answer themselves (DynamoDB's unprocessed items). */
void aws_http_backoff(const aws_http *h, int n);

#endif
