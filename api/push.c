/* Push request decoding (contract in push.h), following Loki's
 * pkg/loghttp/push/push.go, pkg/loghttp/query.go (v1 JSON), pkg/util/http.go
 * (ParseProtoReader) and the gogo-generated logproto unmarshalers. This file
 * holds the entry points, the decoded request's builder and the error
 * helpers; the headers, gzip/deflate, protobuf and JSON each have their own
 * file (push_headers.c, push_inflate.c, push_proto.c, push_json.c; what they
 * share: push_int.h).
 *
 * Size: the body after Content-Encoding, and the protobuf after snappy,
 * may not exceed max_decompressed (0 = no limit): 413 with Loki's message
 * `received message larger than max (N vs MAX)`.
 *
 * Memory: streams, entries, metadata and label pairs of the whole request
 * go into four arrays that grow geometrically; pointers into them are set once at
 * the end. Strings borrow from the snappy output or the jansson tree, which
 * the request keeps until push_request_free. */
#include "api/push.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/push_int.h"
#include "lib/err.h"
#include "lib/mem.h"

int push_fail(lk_buf *err, int rc, const char *fmt, ...)
{
    if (err) {
        char tmp[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        lk_buf_puts(err, tmp);
    }
    return rc;
}

int push_fail_too_large(lk_buf *err, size_t size, size_t max)
{
    return push_fail(err, LK_ETOOLARGE, "received message larger than max (%zu vs %zu)", size,
                     max);
}

/* ------------------------------------------------------------ builder */

push_stream *push_add_stream(push_priv *pv)
{
    if (pv->n_streams == pv->cap_streams)
        pv->streams = lk_grow(pv->streams, &pv->cap_streams, pv->n_streams + 1,
                              sizeof *pv->streams);
    push_stream *s = &pv->streams[pv->n_streams++];
    memset(s, 0, sizeof *s);
    return s;
}

lk_entry *push_add_entry(push_priv *pv, push_stream *s)
{
    if (pv->n_entries == pv->cap_entries)
        pv->entries = lk_grow(pv->entries, &pv->cap_entries, pv->n_entries + 1,
                              sizeof *pv->entries);
    lk_entry *e = &pv->entries[pv->n_entries++];
    memset(e, 0, sizeof *e);
    s->n_entries++;
    return e;
}

lk_label *push_add_meta(push_priv *pv, lk_entry *e)
{
    if (pv->n_meta == pv->cap_meta)
        pv->meta = lk_grow(pv->meta, &pv->cap_meta, pv->n_meta + 1, sizeof *pv->meta);
    lk_label *l = &pv->meta[pv->n_meta++];
    memset(l, 0, sizeof *l);
    e->n_meta++;
    return l;
}

lk_label *push_add_pair(push_priv *pv, push_stream *s)
{
    if (pv->n_pairs == pv->cap_pairs)
        pv->pairs = lk_grow(pv->pairs, &pv->cap_pairs, pv->n_pairs + 1, sizeof *pv->pairs);
    lk_label *l = &pv->pairs[pv->n_pairs++];
    memset(l, 0, sizeof *l);
    s->n_pairs++;
    return l;
}

/* Points every stream at its entries and pairs and every entry at its
 * metadata: each owns a contiguous run, in order. */
static void b_finish(push_priv *pv, push_request *out)
{
    size_t eo = 0, mo = 0, po = 0;
    out->line_bytes = 0;
    for (size_t i = 0; i < pv->n_streams; i++) {
        push_stream *s = &pv->streams[i];
        s->entries = s->n_entries ? pv->entries + eo : NULL;
        for (size_t j = 0; j < s->n_entries; j++) {
            lk_entry *e = &pv->entries[eo + j];
            e->meta = e->n_meta ? pv->meta + mo : NULL;
            mo += e->n_meta;
            out->line_bytes += e->line.len;
        }
        eo += s->n_entries;
        if (s->has_pairs) {
            s->pairs = s->n_pairs ? pv->pairs + po : NULL;
            po += s->n_pairs;
        }
    }
    out->streams = pv->streams;
    out->n_streams = pv->n_streams;
    out->n_entries = pv->n_entries;
}

/* ------------------------------------------------------------ entry points */

int push_decode_status(int rc)
{
    return rc == LK_ETOOLARGE ? 413 : rc == LK_EUNSUPPORTED ? 415 : 400;
}

int push_decode(const push_input *in, push_request *out, lk_buf *err)
{
    memset(out, 0, sizeof *out);
    push_priv *pv = lk_calloc(1, sizeof *pv);
    out->priv = pv;
    size_t max = in->max_decompressed ? in->max_decompressed : SIZE_MAX;
    int enc = ENC_NONE;
    bool json = false;
    lk_str body = lk_str_n(in->body, in->len);

    int rc = push_parse_encoding(in->content_encoding, &enc, err);
    if (rc == LK_OK)
        rc = push_parse_content_type(in->content_type, &json, err);
    if (rc == LK_OK && enc != ENC_NONE)
        rc = push_inflate(body, enc == ENC_GZIP, max, pv, &body, err);
    if (rc == LK_OK)
        rc = json ? push_decode_json(pv, body, in->legacy, max, err)
                  : push_decode_proto(pv, body, max, err);
    if (rc != LK_OK) {
        push_request_free(out);
        return rc;
    }
    b_finish(pv, out);
    out->snappy_proto = !json && enc == ENC_NONE;
    return LK_OK;
}

void push_request_free(push_request *r)
{
    if (!r)
        return;
    push_priv *pv = r->priv;
    if (pv) {
        free(pv->streams);
        free(pv->entries);
        free(pv->meta);
        free(pv->pairs);
        free(pv->inflated);
        free(pv->pb);
        free(pv->sanitized);
        if (pv->json)
            json_decref(pv->json);
        lk_arena_free(&pv->arena);
        free(pv);
    }
    memset(r, 0, sizeof *r);
}
