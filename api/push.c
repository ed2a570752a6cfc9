/* Push request decoding (contract in push.h), following Loki's
 * pkg/loghttp/push/push.go, pkg/loghttp/query.go (v1 JSON), pkg/util/http.go
 * (ParseProtoReader) and the gogo-generated logproto unmarshalers. This file
 * holds the entry points, the decoded request's builder and the error
 * helpers; the headers, gzip/deflate, protobuf and JSON each have their own
 * file (push_headers.c, push_inflate.c, push_proto.c, push_json.c; what they
 * share: push_int.h).
 *
 * Size: the body after Content-Encoding, and the protobuf after snappy,
 * may not exceed max_decompressed (0 = no limit): gzip and deflate stop
 * inflating as soon as they pass it, and snappy's length header is checked
 * before anything is allocated; 413 with Loki 3's message `request body
 * too large: decompressed message size too large than max (N vs MAX)` (N:
 * what was inflated when it stopped, MAX+1, or snappy's declared length),
 * as for a body that is too large itself (without "decompressed ").
 * Loki 2.9 had no limit after decompression.
 *
 * Memory: streams, entries, metadata and label pairs of the whole request
 * go into four arrays that grow geometrically; pointers into them are set once at
 * the end. Strings borrow from the snappy output or the jansson tree, which
 * the request keeps until push_request_free. What the decoder allocates in
 * proportion to the body (the inflated body, the snappy output, those four
 * arrays, and for JSON the body's size once more for jansson's tree, which
 * takes at least that) is taken from the request's share of the in-flight
 * budget (api/inflight.h) as it grows; when the budget refuses, decoding
 * stops with LK_ELIMIT (503). */
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

int push_fail_too_large(lk_buf *err, size_t size, size_t max, bool decompressed)
{
    return push_fail(err, LK_ETOOLARGE, "request body too large: %smessage size too large than "
                     "max (%zu vs %zu)", decompressed ? "decompressed " : "", size, max);
}

bool push_take(push_priv *pv, size_t n)
{
    return api_hold_take(pv->hold, n);
}

int push_fail_budget(lk_buf *err)
{
    return push_fail(err, LK_ELIMIT, "%s", API_INFLIGHT_REFUSED);
}

/* ------------------------------------------------------------ builder */

/* An array of the request grew from `before` to `after` elements: the
 * bytes it gained come from the budget (false: refused). */
static bool grown(push_priv *pv, size_t before, size_t after, size_t elem)
{
    return after == before || push_take(pv, (after - before) * elem);
}

push_stream *push_add_stream(push_priv *pv)
{
    size_t cap = pv->cap_streams;
    if (pv->n_streams == cap)
        pv->streams = lk_grow(pv->streams, &pv->cap_streams, pv->n_streams + 1,
                              sizeof *pv->streams);
    if (!grown(pv, cap, pv->cap_streams, sizeof *pv->streams))
        return NULL;
    push_stream *s = &pv->streams[pv->n_streams++];
    memset(s, 0, sizeof *s);
    return s;
}

lk_entry *push_add_entry(push_priv *pv, push_stream *s)
{
    size_t cap = pv->cap_entries;
    if (pv->n_entries == cap)
        pv->entries = lk_grow(pv->entries, &pv->cap_entries, pv->n_entries + 1,
                              sizeof *pv->entries);
    if (!grown(pv, cap, pv->cap_entries, sizeof *pv->entries))
        return NULL;
    lk_entry *e = &pv->entries[pv->n_entries++];
    memset(e, 0, sizeof *e);
    s->n_entries++;
    return e;
}

lk_label *push_add_meta(push_priv *pv, lk_entry *e)
{
    size_t cap = pv->cap_meta;
    if (pv->n_meta == cap)
        pv->meta = lk_grow(pv->meta, &pv->cap_meta, pv->n_meta + 1, sizeof *pv->meta);
    if (!grown(pv, cap, pv->cap_meta, sizeof *pv->meta))
        return NULL;
    lk_label *l = &pv->meta[pv->n_meta++];
    memset(l, 0, sizeof *l);
    e->n_meta++;
    return l;
}

lk_label *push_add_pair(push_priv *pv, push_stream *s)
{
    size_t cap = pv->cap_pairs;
    if (pv->n_pairs == cap)
        pv->pairs = lk_grow(pv->pairs, &pv->cap_pairs, pv->n_pairs + 1, sizeof *pv->pairs);
    if (!grown(pv, cap, pv->cap_pairs, sizeof *pv->pairs))
        return NULL;
    lk_label *l = &pv->pairs[pv->n_pairs++];
    memset(l, 0, sizeof *l);
    s->n_pairs++;
    return l;
}

/* Points every stream at its entries and pairs and every entry at its
 * metadata: each owns a contiguous run, in order. */
void push_finish(push_priv *pv, push_request *out)
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
    return rc == LK_ETOOLARGE ? 413 : rc == LK_EUNSUPPORTED ? 415 : rc == LK_ELIMIT ? 503 : 400;
}

int push_decode(const push_input *in, push_request *out, lk_buf *err)
{
    memset(out, 0, sizeof *out);
    push_priv *pv = lk_calloc(1, sizeof *pv);
    pv->hold = in->hold;
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
    push_finish(pv, out);
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
