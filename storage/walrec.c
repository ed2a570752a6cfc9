/* WAL record payloads: one stream's entries from one push (type 1), or a
 * whole push request as it arrived on the wire (type 2).
 *
 * Payload (the framing around it, length and CRC32C, is in wal.c), type 1:
 *
 *   1 byte   type: 1 = entries of one stream
 *   1 byte   flags: bit 0 = the body is snappy-compressed; other bits 0
 *   uvarint  T, then T bytes: tenant
 *   uvarint  C, then C bytes: the stream's canonical labels, {a="1", b="2"}
 *   uvarint  N, entry count (at least 1)
 *   body     the rest of the payload: N entries, or (flag bit 0) a snappy
 *            block that decompresses to exactly those N entries
 *
 * Entry, in push order (not sorted); the layout block payloads use too,
 * decoded by the same function (codec_entries_decode, storage/codec.h):
 *   varint   zigzag(ts - previous ts), modulo 2^64; the first entry's
 *            previous ts is 0
 *   uvarint  L, then L bytes: the line
 *   uvarint  M, metadata pair count, then M times: uvarint length and bytes
 *            of the name, uvarint length and bytes of the value
 *
 * Type 2, a push request every entry of which was stored (the ingester
 * logs a request this way when nothing in it was refused, dropped or
 * changed, so that replaying it stores exactly what was acknowledged; it
 * costs one copy of bytes that are already compressed):
 *
 *   1 byte   type: 2 = push request
 *   1 byte   flags: 0
 *   uvarint  T, then T bytes: tenant
 *   1 byte   format: 1 = snappy-compressed protobuf PushRequest (promtail's
 *            wire format, Content-Encoding none); no other format exists
 *   body     the rest of the payload, at least 1 byte: the request's bytes
 *
 * Varints are Go's encoding/binary ones (storage/codec.h). A payload is
 * valid when every length lies inside it, the type and flags are known,
 * and for type 1, N >= 1, the body holds exactly N entries with nothing
 * after the last and a compressed body decompresses (at most
 * WAL_MAX_RECORD bytes); for type 2, the format is known and the body is
 * not empty (its contents are checked by the decoder that replays it). */
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "storage/codec.h"
#include "storage/wal.h"
#include "storage/wal_int.h"

/* ---- encoding */

static void put_uvarint(lk_buf *b, uint64_t v)
{
    uint8_t tmp[CODEC_MAX_VARINT];
    lk_buf_append(b, tmp, codec_put_uvarint(tmp, v));
}

static void put_bytes(lk_buf *b, lk_str s)
{
    put_uvarint(b, s.len);
    if (s.len)
        lk_buf_append(b, s.p, s.len);
}

void wal_body_put_entry(lk_buf *body, const lk_entry *e, int64_t *prev_ts)
{
    size_t meta_len = e->n_meta ? codec_meta_enc_len(e->meta, e->n_meta) : 1;
    lk_buf_reserve(body, 2 * CODEC_MAX_VARINT + e->line.len + meta_len);
    uint8_t *p = (uint8_t *)body->p + body->len;
    p += codec_put_uvarint(p, codec_zigzag(codec_ts_delta(e->ts, *prev_ts)));
    p += codec_put_uvarint(p, e->line.len);
    if (e->line.len)
        memcpy(p, e->line.p, e->line.len);
    p += e->line.len;
    if (e->n_meta)
        p += codec_meta_encode(p, e->meta, e->n_meta);
    else
        *p++ = 0;
    body->len = (size_t)(p - (uint8_t *)body->p);
    body->p[body->len] = '\0';
    *prev_ts = e->ts;
}

void wal_rec_put_prefix(lk_buf *out, uint8_t flags, lk_str tenant, lk_str canonical, uint32_t n)
{
    uint8_t tf[2] = { WAL_REC_ENTRIES, flags };
    lk_buf_append(out, tf, 2);
    put_bytes(out, tenant);
    put_bytes(out, canonical);
    put_uvarint(out, n);
}

void wal_rec_put_push_prefix(lk_buf *out, lk_str tenant, uint8_t format)
{
    uint8_t tf[2] = { WAL_REC_PUSH, 0 };
    lk_buf_append(out, tf, 2);
    put_bytes(out, tenant);
    lk_buf_append(out, &format, 1);
}

/* ---- decoding */

static int bad(wal_rec *r, lk_buf *err, const char *why)
{
    r->n = 0;
    r->n_meta = 0;
    r->push = (lk_str){ 0 };
    if (err)
        lk_buf_printf(err, "corrupt WAL record: %s", why);
    return LK_ECORRUPT;
}

static const uint8_t *get_bytes(const uint8_t **pp, const uint8_t *end, uint64_t *len)
{
    if (codec_get_uvarint(pp, end, len) < 0 || *len > (uint64_t)(end - *pp))
        return NULL;
    const uint8_t *s = *pp;
    *pp += *len;
    return s;
}

static int parse_entries(wal_rec *r, const uint8_t *p, const uint8_t *end, uint64_t n,
                         lk_buf *err)
{
    /* an entry takes at least 3 bytes (before the array is sized by it) */
    if (n == 0 || n > (uint64_t)(end - p) / 3)
        return bad(r, err, "entry count does not fit the body");
    r->e = lk_grow(r->e, &r->e_cap, n, sizeof(*r->e));
    codec_run run;
    const char *why = codec_entries_decode(p, end, 0, n, r->e, &r->meta, &r->meta_cap, &run);
    if (why)
        return bad(r, err, why);
    r->n = n;
    r->n_meta = run.n_meta;
    return 0;
}

static int uncompress_body(wal_rec *r, const uint8_t **p, const uint8_t **end, lk_buf *err)
{
    size_t comp = (size_t)(*end - *p), ulen;
    if (snappy_uncompressed_length((const char *)*p, comp, &ulen) != SNAPPY_OK ||
        ulen > WAL_MAX_RECORD || ulen / 32 > comp + 2)
        return bad(r, err, "bad compressed body length");
    if (r->raw_cap < ulen + 1) {
        free(r->raw);
        r->raw_cap = ulen + 1;
        r->raw = lk_malloc(r->raw_cap);
    }
    size_t out = ulen;
    if (snappy_uncompress((const char *)*p, comp, r->raw, &out) != SNAPPY_OK || out != ulen)
        return bad(r, err, "compressed body does not decompress");
    *p = (const uint8_t *)r->raw;
    *end = *p + out;
    return 0;
}

static int decode_push(const uint8_t *p, const uint8_t *end, wal_rec *r, lk_buf *err)
{
    uint64_t tl;
    const uint8_t *tenant = get_bytes(&p, end, &tl);
    if (!tenant)
        return bad(r, err, "tenant past the end");
    if (p == end || *p != WAL_PUSH_SNAPPY_PROTO)
        return bad(r, err, "unknown push request format");
    p++;
    if (p == end)
        return bad(r, err, "empty push request");
    r->type = WAL_REC_PUSH;
    r->format = WAL_PUSH_SNAPPY_PROTO;
    r->tenant = lk_str_n((const char *)tenant, tl);
    r->canonical = (lk_str){ 0 };
    r->push = lk_str_n((const char *)p, (size_t)(end - p));
    return 0;
}

int wal_rec_decode(const uint8_t *p, size_t n, wal_rec *r, lk_buf *err)
{
    const uint8_t *end = p + n;
    r->n = 0;
    r->n_meta = 0;
    r->push = (lk_str){ 0 };
    if (n >= 2 && p[0] == WAL_REC_PUSH && p[1] == 0)
        return decode_push(p + 2, end, r, err);
    if (n < 2 || p[0] != WAL_REC_ENTRIES || (p[1] & ~WAL_FLAG_SNAPPY) != 0)
        return bad(r, err, "unknown record type or flags");
    r->type = WAL_REC_ENTRIES;
    bool snappy = p[1] & WAL_FLAG_SNAPPY;
    p += 2;
    uint64_t tl, cl, count;
    const uint8_t *tenant = get_bytes(&p, end, &tl);
    const uint8_t *canon = tenant ? get_bytes(&p, end, &cl) : NULL;
    if (!tenant || !canon)
        return bad(r, err, "tenant or labels past the end");
    if (codec_get_uvarint(&p, end, &count) < 0)
        return bad(r, err, "truncated entry count");
    r->tenant = lk_str_n((const char *)tenant, tl);
    r->canonical = lk_str_n((const char *)canon, cl);
    if (snappy) {
        int rc = uncompress_body(r, &p, &end, err);
        if (rc != 0)
            return rc;
    }
    return parse_entries(r, p, end, count, err);
}

void wal_rec_free(wal_rec *r)
{
    free(r->e);
    free(r->meta);
    free(r->raw);
    memset(r, 0, sizeof(*r));
}
