/* AWS Signature Version 4 (the Authorization header of S3 and DynamoDB
 * requests): the canonical request, the string to sign, the derived key and
 * the signature, with OpenSSL's libcrypto for SHA-256 and HMAC. The AWS
 * documentation's algorithm ("Create a signed AWS API request"); tested on
 * its published vectors (tests/unit/test_aws_sigv4.c). */
#ifndef LOKIC_STORAGE_AWS_SIGV4_H
#define LOKIC_STORAGE_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/str.h"

#define AWS_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct aws_hdr {
    const char *name;  /* any case; signed lower-cased */
    const char *value; /* trimmed, inner runs of spaces folded to one */
} aws_hdr;

typedef struct aws_sign_in {
    const char *method;       /* "GET" */
    const char *path;         /* as sent, already URI-encoded ("/bucket/a%24b") */
    const char *query;        /* as sent, each name and value URI-encoded; "" for none */
    const aws_hdr *headers;   /* every header to sign, host and x-amz-date among them */
    size_t nheaders;
    const char *payload_hash; /* lower-case hex SHA-256 of the body, or UNSIGNED-PAYLOAD */
    const char *access_key;
    const char *secret_key;
    const char *region;       /* "us-east-1" */
    const char *service;      /* "s3", "dynamodb" */
    const char *amz_date;     /* the x-amz-date value, "20150830T123600Z" */
} aws_sign_in;

/* Appends the Authorization header's value ("AWS4-HMAC-SHA256
 * Credential=..., SignedHeaders=..., Signature=...") to out. LK_EINVAL when
 * amz_date is not 16 characters. */
int aws_sigv4_authorization(const aws_sign_in *in, lk_buf *out);
/* The canonical request of in (step 1 of the algorithm), for tests. */
void aws_sigv4_canonical_request(const aws_sign_in *in, lk_buf *out);

/* Percent-encodes s as SigV4 wants: every byte but A-Z a-z 0-9 - _ . ~
 * (and '/' when keep_slash) as %XX with upper-case hex. */
void aws_uri_encode(lk_buf *out, lk_str s, bool keep_slash);
/* The lower-case hex SHA-256 of p[0..n). */
void aws_sha256_hex(const void *p, size_t n, char out[65]);
/* t as "YYYYMMDDTHHMMSSZ" (UTC). */
void aws_amz_date(time_t t, char out[17]);

#endif
