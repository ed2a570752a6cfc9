/* What the push decoder's files share and nobody else: the decoded
 * request's buffers and builder (push.c), the header parsers
 * (push_headers.c), gzip/deflate (push_inflate.c), the snappy protobuf
 * reader (push_proto.c) and the JSON reader (push_json.c). Private to
 * api/push*.c and api/otlp*.c (which build push requests too); the
 * contract is api/push.h. */
#ifndef LOKIC_API_PUSH_INT_H
#define LOKIC_API_PUSH_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/push.h"
#include "lib/labels.h"
#include "lib/str.h"

/* Everything a decoded request owns (push_request.priv). Streams, entries,
 * metadata and label pairs go into four arrays that grow geometrically;
 * the builder below appends to them and push_decode points every stream
 * at its runs once at the end. */
typedef struct push_priv {
    push_stream *streams;
    size_t n_streams, cap_streams;
    lk_entry *entries;
    size_t n_entries, cap_entries;
    lk_label *meta;
    size_t n_meta, cap_meta;
    lk_label *pairs;
    size_t n_pairs, cap_pairs;
    unsigned char *inflated; /* body after gzip / deflate */
    char *pb;                /* protobuf after snappy */
    char *sanitized;         /* JSON body with invalid UTF-8 replaced */
    json_t *json;
    lk_arena arena;          /* strings made while decoding (number label values) */
    api_hold *hold;          /* the in-flight budget share (NULL: unbounded) */
} push_priv;

/* push.c: appends Loki's message (printf-formatted) to *err (may be NULL);
 * returns rc. */
int push_fail(lk_buf *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* push.c: LK_ETOOLARGE with Loki's "request body too large: [decompressed ]
 * message size too large than max (N vs MAX)". */
int push_fail_too_large(lk_buf *err, size_t size, size_t max, bool decompressed);
/* push.c: takes n bytes the request is about to hold from its in-flight
 * budget share; false when refused (then: push_fail_budget, LK_ELIMIT). */
bool push_take(push_priv *pv, size_t n);
int push_fail_budget(lk_buf *err);

/* push.c: the builder. Each appends a zeroed element and counts it in its
 * owner (an entry in s->n_entries, metadata in e->n_meta, a pair in
 * s->n_pairs); elements of one owner must be added contiguously. NULL when
 * the in-flight budget refused the array's growth (nothing added). */
push_stream *push_add_stream(push_priv *pv);
lk_entry *push_add_entry(push_priv *pv, push_stream *s);
lk_label *push_add_meta(push_priv *pv, lk_entry *e);
lk_label *push_add_pair(push_priv *pv, push_stream *s);

/* push.c: points every stream at its entries and pairs and every entry at
 * its metadata, and fills out from them (once, at the end of decoding). */
void push_finish(push_priv *pv, push_request *out);

/* push_headers.c */
enum { ENC_NONE, ENC_GZIP, ENC_DEFLATE };
/* Content-Encoding: "", "snappy" (no-op), "gzip", "deflate"; LK_EINVAL for
 * another. */
int push_parse_encoding(lk_str v, int *enc, lk_buf *err);
/* Content-Type, as Go's mime.ParseMediaType reads it: *json for
 * application/json, else protobuf. LK_EUNSUPPORTED for another type. */
int push_parse_content_type(lk_str v, bool *json, lk_buf *err);

/* The decoders' results are push_decode's (push.h): LK_ETOOLARGE over
 * max, LK_EUNSUPPORTED for a Content-Type, other errors a bad request. */

/* push_inflate.c: inflates in (gzip, or raw/zlib deflate) into
 * pv->inflated, at most max bytes. */
int push_inflate(lk_str in, bool gzip, size_t max, push_priv *pv, lk_str *out, lk_buf *err);

/* push_proto.c: the protobuf wire reader, with gogo-protobuf's messages
 * (also used by otlp_proto.c). A reader over one (sub)message: */
typedef struct pb_rd {
    const unsigned char *p, *end;
} pb_rd;
int pb_varint(pb_rd *r, uint64_t *v, lk_buf *err);
/* The next field's number and wire type; msg names the message in errors. */
int pb_tag(pb_rd *r, const char *msg, int *field, int *wire, lk_buf *err);
/* A length-delimited field's bytes into *sub. */
int pb_bytes(pb_rd *r, pb_rd *sub, lk_buf *err);
/* Skips n bytes (a fixed32 or fixed64). */
int pb_fixed(pb_rd *r, size_t n, lk_buf *err);
/* Skips an unknown field of this wire type. */
int pb_skip(pb_rd *r, int wire, lk_buf *err);
/* "proto: wrong wireType = W for field F". */
int pb_wrong(lk_buf *err, int wire, const char *field);
lk_str pb_str(const pb_rd *r);

/* push_proto.c: block-format snappy, then the PushRequest protobuf. */
int push_decode_proto(push_priv *pv, lk_str body, size_t max, lk_buf *err);

/* push_json.c: v1 JSON, or v0 (legacy) JSON. */
int push_decode_json(push_priv *pv, lk_str body, bool legacy, size_t max, lk_buf *err);

#endif
