/* Push request decoding: snappy-compressed protobuf (promtail's wire format),
 * Loki's v1 JSON and the legacy v0 JSON (/api/prom/push), each optionally
 * gzip/deflate Content-Encoded. The decoded request borrows from buffers it
 * owns; free it with push_request_free. */
#ifndef LOKIC_API_PUSH_H
#define LOKIC_API_PUSH_H

#include <stdbool.h>
#include <stddef.h>

#include "api/inflight.h"
#include "lib/labels.h"
#include "lib/str.h"
#include "storage/iter.h"

typedef struct push_stream {
    /* Exactly one of these describes the labels:
     * labels_text: the label string as sent ({a="1"}), for protobuf and v0 JSON;
     * pairs/n_pairs: the stream object of v1 JSON (unsorted, as sent). */
    lk_str labels_text;
    lk_label *pairs;
    size_t n_pairs;
    bool has_pairs;
    lk_entry *entries;
    size_t n_entries;
} push_stream;

typedef struct push_request {
    push_stream *streams;
    size_t n_streams;
    size_t n_entries;      /* total over streams */
    size_t line_bytes;     /* total line bytes */
    bool snappy_proto;     /* the body was snappy-compressed protobuf without a
                              Content-Encoding: the WAL can keep it as it is */
    void *priv;            /* decoder-owned buffers */
} push_request;

typedef struct push_input {
    lk_str content_type;     /* may be empty */
    lk_str content_encoding; /* may be empty */
    const void *body;
    size_t len;
    bool legacy;             /* /api/prom/push: JSON is the v0 shape */
    /* Limit on the body after Content-Encoding and on the protobuf after
     * snappy (0: none): inflating stops as soon as it is passed, and a
     * snappy length header over it is refused before anything is
     * allocated. Over it: LK_ETOOLARGE. */
    size_t max_decompressed;
    /* The request's share of the in-flight budget (NULL: unbounded): the
     * decompressed body, the snappy output and the decoded arrays are
     * taken from it as they grow. Refused: LK_ELIMIT. */
    api_hold *hold;
} push_input;

/* On failure returns <0 with Loki's message appended to *err; the answer's
 * status is push_decode_status of the result. */
int push_decode(const push_input *in, push_request *out, lk_buf *err);
/* The HTTP status of a push_decode failure: 413 for LK_ETOOLARGE (a body
 * over max_decompressed), 415 for LK_EUNSUPPORTED (a Content-Type that is
 * neither JSON nor protobuf), 503 for LK_ELIMIT (the in-flight budget;
 * clients retry), 400 for anything else. */
int push_decode_status(int rc);
void push_request_free(push_request *r);

#endif
