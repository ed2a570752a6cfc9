/* Snappy-compressed protobuf push requests (contract in push_int.h):
 * Loki's PushRequest (api/proto/push.proto) decoded by the small wire
 * reader below instead of protobuf-c's unpacker: lines and labels are
 * views into the snappy output (exact lengths, NUL bytes kept, no
 * allocation per entry), and malformed input gets gogo-protobuf's
 * messages. Tests cross-check it against protobuf-c's packer. The snappy
 * length header is checked against the limit before anything is
 * allocated. */
#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>

#include "api/push_int.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"

int pb_varint(pb_rd *r, uint64_t *v, lk_buf *err)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return push_fail(err, LK_EPARSE, "unexpected EOF");
        unsigned char b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *v = x;
            return LK_OK;
        }
    }
    return push_fail(err, LK_EPARSE, "proto: integer overflow");
}

int pb_tag(pb_rd *r, const char *msg, int *field, int *wire, lk_buf *err)
{
    uint64_t t = 0;
    int rc = pb_varint(r, &t, err);
    if (rc)
        return rc;
    int32_t f = (int32_t)(t >> 3);
    *wire = (int)(t & 7);
    if (*wire == 4)
        return push_fail(err, LK_EPARSE, "proto: %s: wiretype end group for non-group", msg);
    if (f <= 0)
        return push_fail(err, LK_EPARSE, "proto: %s: illegal tag %d (wire type %d)", msg, (int)f,
                         (int)t);
    *field = f;
    return LK_OK;
}

/* A length-delimited field's bytes. */
int pb_bytes(pb_rd *r, pb_rd *sub, lk_buf *err)
{
    uint64_t n = 0;
    int rc = pb_varint(r, &n, err);
    if (rc)
        return rc;
    if (n > (uint64_t)INT64_MAX)
        return push_fail(err, LK_EPARSE, "proto: negative length found during unpacking");
    if (n > (uint64_t)(r->end - r->p))
        return push_fail(err, LK_EPARSE, "unexpected EOF");
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return LK_OK;
}

int pb_fixed(pb_rd *r, size_t n, lk_buf *err)
{
    if ((size_t)(r->end - r->p) < n)
        return push_fail(err, LK_EPARSE, "unexpected EOF");
    r->p += n;
    return LK_OK;
}

/* Skips an unknown field (groups included, as gogo's skip does). */
int pb_skip(pb_rd *r, int wire, lk_buf *err)
{
    int depth = 0;
    for (;;) {
        int rc;
        uint64_t v = 0;
        pb_rd sub = { 0 };
        switch (wire) {
        case 0:
            rc = pb_varint(r, &v, err);
            break;
        case 1:
            rc = pb_fixed(r, 8, err);
            break;
        case 2:
            rc = pb_bytes(r, &sub, err);
            break;
        case 3:
            depth++;
            rc = LK_OK;
            break;
        case 4:
            if (depth == 0)
                return push_fail(err, LK_EPARSE, "proto: unexpected end of group");
            depth--;
            rc = LK_OK;
            break;
        case 5:
            rc = pb_fixed(r, 4, err);
            break;
        default:
            return push_fail(err, LK_EPARSE, "proto: illegal wireType %d", wire);
        }
        if (rc)
            return rc;
        if (depth == 0)
            return LK_OK;
        if ((rc = pb_varint(r, &v, err)))
            return rc;
        wire = (int)(v & 7);
    }
}

int pb_wrong(lk_buf *err, int wire, const char *field)
{
    return push_fail(err, LK_EPARSE, "proto: wrong wireType = %d for field %s", wire, field);
}

lk_str pb_str(const pb_rd *r)
{
    return lk_str_n((const char *)r->p, (size_t)(r->end - r->p));
}

/* google.protobuf.Timestamp -> Unix ns, with gogo's StdTimeUnmarshal checks;
 * instants beyond int64 ns (years before 1678 or after 2262) saturate. */
static int pb_timestamp(pb_rd r, int64_t *ns, lk_buf *err)
{
    int64_t sec = 0;
    int32_t nanos = 0;
    while (r.p < r.end) {
        int field = 0, wire = 0, rc;
        uint64_t v = 0;
        if ((rc = pb_tag(&r, "Timestamp", &field, &wire, err)))
            return rc;
        if (field == 1 || field == 2) {
            if (wire != 0)
                return pb_wrong(err, wire, field == 1 ? "Seconds" : "Nanos");
            if ((rc = pb_varint(&r, &v, err)))
                return rc;
            if (field == 1)
                sec = (int64_t)v;
            else
                nanos = (int32_t)(uint32_t)v;
        } else if ((rc = pb_skip(&r, wire, err))) {
            return rc;
        }
    }
    if (sec < INT64_C(-62135596800))
        return push_fail(err, LK_EPARSE,
                         "timestamp: &types.Timestamp{Seconds:%lld, Nanos:%d} before 0001-01-01",
                         (long long)sec, (int)nanos);
    if (sec >= INT64_C(253402300800))
        return push_fail(err, LK_EPARSE,
                         "timestamp: &types.Timestamp{Seconds:%lld, Nanos:%d} after 10000-01-01",
                         (long long)sec, (int)nanos);
    if (nanos < 0 || nanos >= 1000000000)
        return push_fail(err, LK_EPARSE,
                         "timestamp: &types.Timestamp{Seconds:%lld, Nanos:%d}: nanos not in range "
                         "[0, 1e9)",
                    (long long)sec, (int)nanos);
    int64_t t;
    if (__builtin_mul_overflow(sec, LK_NS_PER_SEC, &t) || __builtin_add_overflow(t, nanos, &t))
        t = sec < 0 ? INT64_MIN : INT64_MAX;
    *ns = t;
    return LK_OK;
}

static int pb_label_pair(pb_rd r, lk_label *l, lk_buf *err)
{
    while (r.p < r.end) {
        int field = 0, wire = 0, rc;
        if ((rc = pb_tag(&r, "LabelPairAdapter", &field, &wire, err)))
            return rc;
        if (field == 1 || field == 2) {
            pb_rd s = { 0 };
            if (wire != 2)
                return pb_wrong(err, wire, field == 1 ? "Name" : "Value");
            if ((rc = pb_bytes(&r, &s, err)))
                return rc;
            if (field == 1)
                l->name = pb_str(&s);
            else
                l->value = pb_str(&s);
        } else if ((rc = pb_skip(&r, wire, err))) {
            return rc;
        }
    }
    return LK_OK;
}

static int pb_entry(push_priv *pv, push_stream *st, pb_rd r, lk_buf *err)
{
    lk_entry *e = push_add_entry(pv, st);
    if (!e)
        return push_fail_budget(err);
    while (r.p < r.end) {
        int field = 0, wire = 0, rc;
        pb_rd s = { 0 };
        lk_label *meta;
        if ((rc = pb_tag(&r, "EntryAdapter", &field, &wire, err)))
            return rc;
        if (field < 1 || field > 3) {
            if ((rc = pb_skip(&r, wire, err)))
                return rc;
            continue;
        }
        if (wire != 2)
            return pb_wrong(err, wire,
                            field == 1 ? "Timestamp" : field == 2 ? "Line" : "StructuredMetadata");
        if ((rc = pb_bytes(&r, &s, err)))
            return rc;
        if (field == 1)
            rc = pb_timestamp(s, &e->ts, err);
        else if (field == 2)
            e->line = pb_str(&s);
        else if ((meta = push_add_meta(pv, e)) == NULL)
            rc = push_fail_budget(err);
        else
            rc = pb_label_pair(s, meta, err);
        if (rc)
            return rc;
    }
    return LK_OK;
}

static int pb_stream(push_priv *pv, pb_rd r, lk_buf *err)
{
    push_stream *st = push_add_stream(pv);
    if (!st)
        return push_fail_budget(err);
    while (r.p < r.end) {
        int field = 0, wire = 0, rc;
        pb_rd s = { 0 };
        uint64_t v = 0;
        if ((rc = pb_tag(&r, "StreamAdapter", &field, &wire, err)))
            return rc;
        switch (field) {
        case 1:
        case 2:
            if (wire != 2)
                return pb_wrong(err, wire, field == 1 ? "Labels" : "Entries");
            if ((rc = pb_bytes(&r, &s, err)))
                return rc;
            if (field == 1)
                st->labels_text = pb_str(&s);
            else if ((rc = pb_entry(pv, st, s, err)))
                return rc;
            break;
        case 3:
            if (wire != 0)
                return pb_wrong(err, wire, "Hash");
            if ((rc = pb_varint(&r, &v, err)))
                return rc;
            break;
        default:
            if ((rc = pb_skip(&r, wire, err)))
                return rc;
        }
    }
    return LK_OK;
}

static int pb_push_request(push_priv *pv, lk_str body, lk_buf *err)
{
    pb_rd r = { (const unsigned char *)body.p, (const unsigned char *)body.p + body.len };
    while (r.p < r.end) {
        int field = 0, wire = 0, rc;
        pb_rd s = { 0 };
        if ((rc = pb_tag(&r, "PushRequest", &field, &wire, err)))
            return rc;
        if (field == 1) {
            if (wire != 2)
                return pb_wrong(err, wire, "Streams");
            if ((rc = pb_bytes(&r, &s, err)) || (rc = pb_stream(pv, s, err)))
                return rc;
        } else if ((rc = pb_skip(&r, wire, err))) {
            return rc;
        }
    }
    return LK_OK;
}

/* Block-format snappy, then the protobuf. */
int push_decode_proto(push_priv *pv, lk_str body, size_t max, lk_buf *err)
{
    size_t n;
    if (snappy_uncompressed_length(body.p, body.len, &n) != SNAPPY_OK)
        return push_fail(err, LK_EPARSE, "snappy: corrupt input");
    if (n > max)
        return push_fail_too_large(err, n, max, true);
    if (!push_take(pv, n))
        return push_fail_budget(err);
    pv->pb = lk_malloc(n ? n : 1);
    size_t got = n;
    if (snappy_uncompress(body.p, body.len, pv->pb, &got) != SNAPPY_OK || got != n)
        return push_fail(err, LK_EPARSE, "snappy: corrupt input");
    return pb_push_request(pv, lk_str_n(pv->pb, n), err);
}
