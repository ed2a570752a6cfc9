/* An S3 client (Amazon S3, Ceph's radosgw, MinIO and the like): PUT, GET
 * (whole or a byte range), HEAD, DELETE and ListObjectsV2 with pagination
 * on one bucket, virtual-host or path style, over aws_http.h (SigV4,
 * retries with backoff, metrics labelled service="s3"). */
#ifndef LOKIC_STORAGE_S3_H
#define LOKIC_STORAGE_S3_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"
#include "storage/aws_http.h"

typedef struct s3_config {
    /* "http://127.0.0.1:7480", "https://s3.eu-west-1.amazonaws.com" or a bare
     * "host[:port]" (https, or http when insecure); NULL or "": AWS's
     * s3.<region>.amazonaws.com */
    const char *endpoint;
    const char *region;       /* NULL or "": us-east-1 */
    const char *bucket;
    const char *access_key;
    const char *secret_key;
    const char *session_token;
    bool force_path_style;    /* host/bucket/key instead of bucket.host/key */
    bool insecure;            /* http for an endpoint without a scheme */
    aws_http_config http;     /* timeouts, retries, TLS; service, region and keys are set here */
} s3_config;

typedef struct s3_client s3_client;

/* LK_EINVAL with a reason when the bucket is missing or the endpoint is
 * not a URL this client can use. The config's strings are copied. */
int s3_create(const s3_config *cfg, s3_client **out, lk_buf *err);
void s3_destroy(s3_client *c);

/* Every call: LK_OK, LK_ENOTFOUND (no such key, for get, get_range and
 * head), LK_EIO (transport failures past the retries, or an error answer
 * whose code and message go to err). Keys are used as given (any bytes but
 * NUL; '/' separates nothing special). */
int s3_put(s3_client *c, const char *key, const void *p, size_t n, lk_buf *err);
/* Appends the object to out. */
int s3_get(s3_client *c, const char *key, lk_buf *out, lk_buf *err);
/* Appends bytes [off, off+len) of the object to out (fewer when it ends
 * sooner); len 0 appends nothing and asks nothing. */
int s3_get_range(s3_client *c, const char *key, uint64_t off, uint64_t len, lk_buf *out,
                 lk_buf *err);
int s3_head(s3_client *c, const char *key, int64_t *size, lk_buf *err);
/* Deleting a missing key is not an error (S3 answers 204 either way). */
int s3_delete(s3_client *c, const char *key, lk_buf *err);

/* Calls fn for every key under prefix, in S3's order (UTF-8 binary), asking
 * page_size keys per request (0: S3's 1000). fn returning non-zero stops the
 * listing and is returned. */
typedef int (*s3_list_fn)(void *ctx, const char *key, int64_t size);
int s3_list(s3_client *c, const char *prefix, int page_size, s3_list_fn fn, void *ctx,
            lk_buf *err);

/* Creates the bucket; one that exists and is ours is not an error. */
int s3_create_bucket(s3_client *c, lk_buf *err);

#endif
