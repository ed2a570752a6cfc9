/* Push request decoding (contract in push.h), following Loki's
 * pkg/loghttp/push/push.go, pkg/loghttp/query.go (v1 JSON), pkg/util/http.go
 * (ParseProtoReader) and the gogo-generated logproto unmarshalers.
 *
 * Choices, where Loki's code and a sane server differ:
 *  - Content-Type: parsed like Go's mime.ParseMediaType (case-insensitive,
 *    parameters allowed). `application/json` is JSON; the protobuf types
 *    clients send (application/x-protobuf, application/protobuf,
 *    application/vnd.google.protobuf, application/octet-stream) and a
 *    missing or empty Content-Type are protobuf. Loki reads any other type
 *    as protobuf too and then fails with a confusing snappy error; lokic
 *    answers 415 `unsupported Content-Type "text/plain"` instead, so a
 *    misconfigured client learns what is wrong. A malformed type is 400
 *    with Go's mime message.
 *  - Content-Encoding: "", "snappy" (no-op), "gzip" (concatenated members
 *    allowed, like Go's reader), "deflate" (raw DEFLATE as Go's flate reads
 *    it; a zlib-wrapped stream, what HTTP's "deflate" formally is, is
 *    recognised by its header and accepted too). Anything else is 400
 *    `Content-Encoding "br" not supported`. Matching is exact, as in Loki.
 *  - Size: the body after Content-Encoding, and the protobuf after snappy,
 *    may not exceed max_decompressed (0 = no limit): 413 with Loki's message
 *    `received message larger than max (N vs MAX)`.
 *  - Protobuf is decoded by the small wire reader below instead of
 *    protobuf-c's unpacker: lines and labels are views into the snappy
 *    output (exact lengths, NUL bytes kept, no allocation per entry), and
 *    malformed input gets gogo-protobuf's messages. The schema is
 *    api/proto/push.proto; tests cross-check against protobuf-c's packer.
 *  - JSON strings carrying invalid UTF-8 are kept (each bad byte becomes
 *    U+FFFD, as Go's JSON encoder would show it) instead of failing the
 *    push; jansson alone would reject them. Escapes in label and metadata
 *    values are decoded (Loki 2.9 keeps their backslashes in metadata).
 *
 * Memory: streams, entries, metadata and label pairs of the whole request
 * go into four arrays that grow geometrically; pointers into them are set once at
 * the end. Strings borrow from the snappy output or the jansson tree, which
 * the request keeps until push_request_free. */
#include "api/push.h"

#include <jansson.h>
#include <limits.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "lib/utf8.h"

/* buger/jsonparser's messages, which Loki 2.9's v1 decoder returns */
#define JP_MALFORMED_STRING "Value is string, but can't find closing '\"' symbol"
#define JP_MALFORMED_OBJECT "Value looks like object, but can't find closing '}' symbol"
#define JP_MALFORMED_ARRAY "Value is array, but can't find closing ']' symbol"
#define JP_MALFORMED_VALUE \
    "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol"
#define JP_OVERFLOW_INT "Value is number, but overflowed while parsing"

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
} push_priv;

static int fail(lk_buf *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(lk_buf *err, int rc, const char *fmt, ...)
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

static int fail_too_large(lk_buf *err, size_t size, size_t max)
{
    return fail(err, LK_ETOOLARGE, "received message larger than max (%zu vs %zu)", size, max);
}

/* ------------------------------------------------------------ builder */

static push_stream *b_stream(push_priv *pv)
{
    if (pv->n_streams == pv->cap_streams)
        pv->streams = lk_grow(pv->streams, &pv->cap_streams, pv->n_streams + 1,
                              sizeof *pv->streams);
    push_stream *s = &pv->streams[pv->n_streams++];
    memset(s, 0, sizeof *s);
    return s;
}

static lk_entry *b_entry(push_priv *pv, push_stream *s)
{
    if (pv->n_entries == pv->cap_entries)
        pv->entries = lk_grow(pv->entries, &pv->cap_entries, pv->n_entries + 1,
                              sizeof *pv->entries);
    lk_entry *e = &pv->entries[pv->n_entries++];
    memset(e, 0, sizeof *e);
    s->n_entries++;
    return e;
}

static lk_label *b_meta(push_priv *pv, lk_entry *e)
{
    if (pv->n_meta == pv->cap_meta)
        pv->meta = lk_grow(pv->meta, &pv->cap_meta, pv->n_meta + 1, sizeof *pv->meta);
    lk_label *l = &pv->meta[pv->n_meta++];
    memset(l, 0, sizeof *l);
    e->n_meta++;
    return l;
}

static lk_label *b_pair(push_priv *pv, push_stream *s)
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

/* ------------------------------------------------------------ headers */

enum { ENC_NONE, ENC_GZIP, ENC_DEFLATE };

static int parse_encoding(lk_str v, int *enc, lk_buf *err)
{
    v = lk_str_trim(v);
    if (v.len == 0 || lk_str_eq_c(v, "snappy"))
        *enc = ENC_NONE;
    else if (lk_str_eq_c(v, "gzip"))
        *enc = ENC_GZIP;
    else if (lk_str_eq_c(v, "deflate"))
        *enc = ENC_DEFLATE;
    else
        return fail(err, LK_EUNSUPPORTED, "Content-Encoding \"%.*s\" not supported",
                    LK_STR_FMT(v));
    return LK_OK;
}

/* RFC 2045 token characters, as Go's mime package checks them. */
static bool is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

static size_t token_len(lk_str s, size_t i)
{
    size_t j = i;
    while (j < s.len && is_token_char((unsigned char)s.p[j]))
        j++;
    return j - i;
}

/* `; key=value` parameters after the media type: tokens or quoted strings,
 * trailing semicolons ignored. */
static bool params_ok(lk_str s)
{
    size_t i = 0;
    while (i < s.len) {
        while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t'))
            i++;
        if (i == s.len)
            return true;
        if (s.p[i] != ';')
            return false;
        i++;
        while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t'))
            i++;
        if (i == s.len)
            return true; /* trailing ';' */
        size_t k = token_len(s, i);
        if (k == 0)
            return false;
        i += k;
        if (i == s.len || s.p[i] != '=')
            return false;
        i++;
        if (i < s.len && s.p[i] == '"') {
            for (i++; i < s.len && s.p[i] != '"'; i++)
                if (s.p[i] == '\\')
                    i++;
            if (i >= s.len)
                return false;
            i++;
        } else {
            k = token_len(s, i);
            if (k == 0)
                return false;
            i += k;
        }
    }
    return true;
}

static bool is_protobuf_type(lk_str type)
{
    return lk_str_eq_nocase(type, "application/x-protobuf") ||
           lk_str_eq_nocase(type, "application/protobuf") ||
           lk_str_eq_nocase(type, "application/vnd.google.protobuf") ||
           lk_str_eq_nocase(type, "application/octet-stream");
}

/* Go's mime.ParseMediaType, reduced to what the push path needs. */
static int parse_content_type(lk_str v, bool *json, lk_buf *err)
{
    *json = false;
    if (lk_str_trim(v).len == 0)
        return LK_OK; /* see the file comment */
    size_t semi = 0;
    while (semi < v.len && v.p[semi] != ';')
        semi++;
    lk_str type = lk_str_trim(lk_str_n(v.p, semi));
    size_t t1 = token_len(type, 0);
    if (t1 == 0)
        return fail(err, LK_EPARSE, "mime: no media type");
    if (t1 < type.len) {
        if (type.p[t1] != '/')
            return fail(err, LK_EPARSE, "mime: expected slash after first token");
        size_t t2 = token_len(type, t1 + 1);
        if (t2 == 0)
            return fail(err, LK_EPARSE, "mime: expected token after slash");
        if (t1 + 1 + t2 != type.len)
            return fail(err, LK_EPARSE, "mime: unexpected content after media subtype");
    }
    if (!params_ok(lk_str_n(v.p + semi, v.len - semi)))
        return fail(err, LK_EPARSE, "mime: invalid media parameter");
    *json = lk_str_eq_nocase(type, "application/json");
    if (!*json && !is_protobuf_type(type)) {
        lk_buf_printf(err, "unsupported Content-Type \"%.*s\"", LK_STR_FMT(type));
        return LK_EUNSUPPORTED;
    }
    return LK_OK;
}

/* ------------------------------------------------------------ gzip / deflate */

/* A zlib (RFC 1950) header: deflate method, window <= 32K, check bits. */
static bool looks_like_zlib(const unsigned char *p, size_t n)
{
    return n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && ((p[0] << 8) | p[1]) % 31 == 0;
}

static int inflate_error(const z_stream *zs, bool gzip, bool zlib_hdr, lk_buf *err)
{
    const char *m = zs->msg ? zs->msg : "";
    bool header = strstr(m, "header") || strstr(m, "compression method");
    bool check = strstr(m, "data check") || strstr(m, "length check");
    if (gzip && header)
        return fail(err, LK_EPARSE, "gzip: invalid header");
    if (gzip && check)
        return fail(err, LK_EPARSE, "gzip: invalid checksum");
    if (zlib_hdr && check)
        return fail(err, LK_EPARSE, "zlib: invalid checksum");
    return fail(err, LK_EPARSE, "flate: corrupt input before offset %lu",
                (unsigned long)zs->total_in);
}

/* Inflates in into pv->inflated, at most max bytes (else 413). */
static int inflate_body(lk_str in, bool gzip, size_t max, push_priv *pv, lk_str *out, int *status,
                        lk_buf *err)
{
    const unsigned char *src = (const unsigned char *)in.p;
    if (in.len == 0)
        return fail(err, LK_EPARSE, gzip ? "EOF" : "unexpected EOF");
    bool zlib_hdr = !gzip && looks_like_zlib(src, in.len);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, gzip ? 16 + MAX_WBITS : zlib_hdr ? MAX_WBITS : -MAX_WBITS) != Z_OK)
        LK_BUG("inflateInit2 failed");

    size_t limit = max == SIZE_MAX ? SIZE_MAX : max + 1;
    size_t cap = in.len < (SIZE_MAX - 4096) / 4 ? in.len * 4 + 4096 : SIZE_MAX;
    if (cap > limit)
        cap = limit;
    unsigned char *buf = lk_malloc(cap ? cap : 1);
    size_t used = 0, fed = 0;
    int rc = LK_OK;
    for (;;) {
        if (zs.avail_in == 0 && fed < in.len) {
            size_t n = in.len - fed < UINT_MAX ? in.len - fed : UINT_MAX;
            zs.next_in = (unsigned char *)src + fed;
            zs.avail_in = (unsigned)n;
            fed += n;
        }
        if (used == cap) {
            if (cap >= limit) {
                rc = fail_too_large(err, used, max);
                *status = 413;
                break;
            }
            size_t ncap = cap <= limit / 2 ? cap * 2 : limit;
            buf = lk_realloc(buf, ncap);
            cap = ncap;
        }
        size_t room = cap - used < UINT_MAX ? cap - used : UINT_MAX;
        zs.next_out = buf + used;
        zs.avail_out = (unsigned)room;
        int zr = inflate(&zs, Z_NO_FLUSH);
        used += room - zs.avail_out;
        if (zr == Z_STREAM_END) {
            if (!gzip || (zs.avail_in == 0 && fed == in.len))
                break;
            inflateReset(&zs); /* another gzip member follows */
            continue;
        }
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR) {
            if (zs.avail_out == 0)
                continue; /* needs room */
            rc = fail(err, LK_EPARSE, "unexpected EOF");
            break;
        }
        if (zr == Z_MEM_ERROR)
            LK_BUG("inflate: out of memory");
        rc = inflate_error(&zs, gzip, zlib_hdr, err);
        break;
    }
    inflateEnd(&zs);
    if (rc == LK_OK && used > max) {
        rc = fail_too_large(err, used, max);
        *status = 413;
    }
    if (rc != LK_OK) {
        free(buf);
        return rc;
    }
    pv->inflated = buf;
    *out = lk_str_n((const char *)buf, used);
    return LK_OK;
}

/* ------------------------------------------------------------ protobuf */

/* A reader over one (sub)message of the wire format. */
typedef struct pb_rd {
    const unsigned char *p, *end;
} pb_rd;

static int pb_varint(pb_rd *r, uint64_t *v, lk_buf *err)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return fail(err, LK_EPARSE, "unexpected EOF");
        unsigned char b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *v = x;
            return LK_OK;
        }
    }
    return fail(err, LK_EPARSE, "proto: integer overflow");
}

static int pb_tag(pb_rd *r, const char *msg, int *field, int *wire, lk_buf *err)
{
    uint64_t t = 0;
    int rc = pb_varint(r, &t, err);
    if (rc)
        return rc;
    int32_t f = (int32_t)(t >> 3);
    *wire = (int)(t & 7);
    if (*wire == 4)
        return fail(err, LK_EPARSE, "proto: %s: wiretype end group for non-group", msg);
    if (f <= 0)
        return fail(err, LK_EPARSE, "proto: %s: illegal tag %d (wire type %d)", msg, (int)f,
                    (int)t);
    *field = f;
    return LK_OK;
}

/* A length-delimited field's bytes. */
static int pb_bytes(pb_rd *r, pb_rd *sub, lk_buf *err)
{
    uint64_t n = 0;
    int rc = pb_varint(r, &n, err);
    if (rc)
        return rc;
    if (n > (uint64_t)INT64_MAX)
        return fail(err, LK_EPARSE, "proto: negative length found during unpacking");
    if (n > (uint64_t)(r->end - r->p))
        return fail(err, LK_EPARSE, "unexpected EOF");
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return LK_OK;
}

static int pb_fixed(pb_rd *r, size_t n, lk_buf *err)
{
    if ((size_t)(r->end - r->p) < n)
        return fail(err, LK_EPARSE, "unexpected EOF");
    r->p += n;
    return LK_OK;
}

/* Skips an unknown field (groups included, as gogo's skip does). */
static int pb_skip(pb_rd *r, int wire, lk_buf *err)
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
                return fail(err, LK_EPARSE, "proto: unexpected end of group");
            depth--;
            rc = LK_OK;
            break;
        case 5:
            rc = pb_fixed(r, 4, err);
            break;
        default:
            return fail(err, LK_EPARSE, "proto: illegal wireType %d", wire);
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

static int pb_wrong(lk_buf *err, int wire, const char *field)
{
    return fail(err, LK_EPARSE, "proto: wrong wireType = %d for field %s", wire, field);
}

static lk_str pb_str(const pb_rd *r)
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
        return fail(err, LK_EPARSE,
                    "timestamp: &types.Timestamp{Seconds:%lld, Nanos:%d} before 0001-01-01",
                    (long long)sec, (int)nanos);
    if (sec >= INT64_C(253402300800))
        return fail(err, LK_EPARSE,
                    "timestamp: &types.Timestamp{Seconds:%lld, Nanos:%d} after 10000-01-01",
                    (long long)sec, (int)nanos);
    if (nanos < 0 || nanos >= 1000000000)
        return fail(err, LK_EPARSE,
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
    lk_entry *e = b_entry(pv, st);
    while (r.p < r.end) {
        int field = 0, wire = 0, rc;
        pb_rd s = { 0 };
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
        else
            rc = pb_label_pair(s, b_meta(pv, e), err);
        if (rc)
            return rc;
    }
    return LK_OK;
}

static int pb_stream(push_priv *pv, pb_rd r, lk_buf *err)
{
    push_stream *st = b_stream(pv);
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
static int decode_proto(push_priv *pv, lk_str body, size_t max, int *status, lk_buf *err)
{
    size_t n;
    if (snappy_uncompressed_length(body.p, body.len, &n) != SNAPPY_OK)
        return fail(err, LK_EPARSE, "snappy: corrupt input");
    if (n > max) {
        *status = 413;
        return fail_too_large(err, n, max);
    }
    pv->pb = lk_malloc(n ? n : 1);
    size_t got = n;
    if (snappy_uncompress(body.p, body.len, pv->pb, &got) != SNAPPY_OK || got != n)
        return fail(err, LK_EPARSE, "snappy: corrupt input");
    return pb_push_request(pv, lk_str_n(pv->pb, n), err);
}

/* ------------------------------------------------------------ JSON */

/* The body with each byte that is not part of valid UTF-8 replaced by
 * U+FFFD (Go's rule), or NULL when the body is valid. */
static char *utf8_sanitize(lk_str body, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)body.p;
    size_t i = lk_utf8_valid_prefix(body);
    if (i == body.len)
        return NULL;
    lk_buf b = { 0 };
    lk_buf_reserve(&b, body.len + body.len / 8 + 16);
    lk_buf_append(&b, p, i);
    while (i < body.len) {
        size_t k = lk_utf8_valid_len(p + i, body.len - i);
        if (k == 0) {
            lk_buf_append(&b, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            lk_buf_append(&b, p + i, k);
            i += k;
        }
    }
    *out_len = b.len;
    return lk_buf_steal(&b);
}

static lk_str jstr(const json_t *v)
{
    return lk_str_n(json_string_value(v), json_string_length(v));
}

/* obj[key]; with nocase, a key differing only in case also matches (Go's
 * json field matching, which Loki's jsoniter decoder applies to its structs). */
static json_t *jget(json_t *obj, const char *key, bool nocase)
{
    json_t *v = json_object_get(obj, key);
    if (v || !nocase)
        return v;
    const char *k;
    size_t klen, want = strlen(key);
    json_t *val;
    json_object_keylen_foreach(obj, k, klen, val)
    {
        if (klen == want && strncasecmp(k, key, want) == 0)
            return val;
    }
    return NULL;
}

/* buger/jsonparser's ParseInt on a timestamp string. */
static int parse_go_int(lk_str s, int64_t *out, lk_buf *err)
{
    if (s.len == 0)
        return fail(err, LK_EPARSE, JP_MALFORMED_VALUE);
    size_t i = 0;
    bool neg = s.p[0] == '-';
    if (neg)
        i++;
    uint64_t n = 0;
    for (; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < '0' || c > '9')
            return fail(err, LK_EPARSE, JP_MALFORMED_VALUE);
        if (n > UINT64_MAX / 10 || n * 10 > UINT64_MAX - (c - '0'))
            return fail(err, LK_EPARSE, JP_OVERFLOW_INT);
        n = n * 10 + (c - '0');
    }
    if (n > (uint64_t)INT64_MAX) {
        if (neg && n == (uint64_t)INT64_MAX + 1) {
            *out = INT64_MIN;
            return LK_OK;
        }
        return fail(err, LK_EPARSE, JP_OVERFLOW_INT);
    }
    *out = neg ? -(int64_t)n : (int64_t)n;
    return LK_OK;
}

/* A stream label value: strings as they are; numbers and booleans as their
 * text (Loki takes the raw JSON text); null drops the label. 1 when set. */
static int json_label_value(push_priv *pv, const char *name, json_t *v, lk_str *out, lk_buf *err)
{
    char tmp[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        *out = jstr(v);
        return 1;
    case JSON_INTEGER:
        snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: {
        double d = json_real_value(v);
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
        break;
    }
    case JSON_TRUE:
        snprintf(tmp, sizeof tmp, "true");
        break;
    case JSON_FALSE:
        snprintf(tmp, sizeof tmp, "false");
        break;
    case JSON_NULL:
        return 0;
    default:
        return fail(err, LK_EPARSE, "invalid push request: value of stream label \"%s\" must be a string",
                    name);
    }
    *out = lk_arena_str(&pv->arena, lk_str_c(tmp));
    return 1;
}

static int json_v1_labels(push_priv *pv, push_stream *st, json_t *obj, lk_buf *err)
{
    if (!obj || json_is_null(obj))
        return LK_OK;
    if (!json_is_object(obj))
        return fail(err, LK_EPARSE, JP_MALFORMED_OBJECT);
    const char *k;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(obj, k, klen, v)
    {
        lk_str val;
        int rc = json_label_value(pv, k, v, &val, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        lk_label *l = b_pair(pv, st);
        l->name = lk_str_n(k, klen);
        l->value = val;
    }
    return LK_OK;
}

/* One element of "values": ["<ns>", "<line>", {metadata}?] */
static int json_v1_entry(push_priv *pv, push_stream *st, json_t *arr, lk_buf *err)
{
    if (!json_is_array(arr))
        return fail(err, LK_EPARSE, JP_MALFORMED_ARRAY);
    lk_entry *e = b_entry(pv, st);
    size_t n = json_array_size(arr);
    if (n > 0) {
        json_t *ts = json_array_get(arr, 0);
        if (!json_is_string(ts))
            return fail(err, LK_EPARSE, JP_MALFORMED_STRING);
        int rc = parse_go_int(jstr(ts), &e->ts, err);
        if (rc)
            return rc;
    }
    if (n > 1) {
        json_t *line = json_array_get(arr, 1);
        if (!json_is_string(line))
            return fail(err, LK_EPARSE, JP_MALFORMED_STRING);
        e->line = jstr(line);
    }
    json_t *md = n > 2 ? json_array_get(arr, 2) : NULL;
    if (!md || json_is_null(md))
        return LK_OK;
    if (!json_is_object(md))
        return fail(err, LK_EPARSE, JP_MALFORMED_OBJECT);
    const char *k;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(md, k, klen, v)
    {
        if (!json_is_string(v))
            return fail(err, LK_EPARSE, JP_MALFORMED_STRING);
        lk_label *l = b_meta(pv, e);
        l->name = lk_str_n(k, klen);
        l->value = jstr(v);
    }
    return LK_OK;
}

static int json_v1_stream(push_priv *pv, json_t *obj, lk_buf *err)
{
    if (!json_is_object(obj))
        return fail(err, LK_EPARSE, JP_MALFORMED_OBJECT);
    push_stream *st = b_stream(pv);
    st->has_pairs = true;
    int rc = json_v1_labels(pv, st, json_object_get(obj, "stream"), err);
    if (rc)
        return rc;
    json_t *values = json_object_get(obj, "values");
    if (!values || json_is_null(values))
        return LK_OK;
    if (!json_is_array(values))
        return fail(err, LK_EPARSE, JP_MALFORMED_ARRAY);
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (json_is_null(v))
            continue;
        if ((rc = json_v1_entry(pv, st, v, err)))
            return rc;
    }
    return LK_OK;
}

/* v0 (/api/prom/push): logproto.PushRequest as Go's JSON decoder reads it. */
static int json_v0_string(json_t *v, const char *field, lk_str *out, lk_buf *err)
{
    if (!v || json_is_null(v))
        return LK_OK;
    if (!json_is_string(v))
        return fail(err, LK_EPARSE, "invalid push request: \"%s\" must be a string", field);
    *out = jstr(v);
    return LK_OK;
}

static int json_v0_entry(push_priv *pv, push_stream *st, json_t *obj, lk_buf *err)
{
    if (!json_is_object(obj))
        return fail(err, LK_EPARSE, "invalid push request: an entry must be an object");
    lk_entry *e = b_entry(pv, st);
    json_t *ts = jget(obj, "ts", true);
    if (ts && !json_is_null(ts)) {
        if (!json_is_string(ts))
            return fail(err, LK_EPARSE, "Time.UnmarshalJSON: input is not a JSON string");
        lk_str s = jstr(ts);
        int prc = lk_parse_rfc3339(s, &e->ts);
        if (prc == LK_ERANGE && s.len >= 4) {
            /* a valid time that int64 ns cannot hold: saturate, validation
             * rejects it with the usual message */
            e->ts = memcmp(s.p, "1970", 4) < 0 ? INT64_MIN : INT64_MAX;
            prc = LK_OK;
        }
        if (prc != LK_OK)
            return fail(err, LK_EPARSE,
                        "parsing time \"%.*s\" as \"2006-01-02T15:04:05Z07:00\": cannot parse "
                        "\"%.*s\" as RFC3339",
                        LK_STR_FMT(s), LK_STR_FMT(s));
    }
    int rc = json_v0_string(jget(obj, "line", true), "line", &e->line, err);
    if (rc)
        return rc;
    json_t *md = jget(obj, "structuredMetadata", true);
    if (!md || json_is_null(md))
        return LK_OK;
    if (!json_is_array(md))
        return fail(err, LK_EPARSE, "invalid push request: \"structuredMetadata\" must be an array");
    size_t i;
    json_t *p;
    json_array_foreach(md, i, p)
    {
        if (!json_is_object(p))
            return fail(err, LK_EPARSE,
                        "invalid push request: structured metadata must be {\"name\", \"value\"} "
                        "objects");
        lk_label *l = b_meta(pv, e);
        if ((rc = json_v0_string(jget(p, "name", true), "name", &l->name, err)) ||
            (rc = json_v0_string(jget(p, "value", true), "value", &l->value, err)))
            return rc;
    }
    return LK_OK;
}

static int json_v0_stream(push_priv *pv, json_t *obj, lk_buf *err)
{
    if (!json_is_object(obj))
        return fail(err, LK_EPARSE, "invalid push request: a stream must be an object");
    push_stream *st = b_stream(pv);
    int rc = json_v0_string(jget(obj, "labels", true), "labels", &st->labels_text, err);
    if (rc)
        return rc;
    json_t *entries = jget(obj, "entries", true);
    if (!entries || json_is_null(entries))
        return LK_OK;
    if (!json_is_array(entries))
        return fail(err, LK_EPARSE, "invalid push request: \"entries\" must be an array");
    size_t i;
    json_t *v;
    json_array_foreach(entries, i, v)
    {
        if (json_is_null(v))
            continue;
        if ((rc = json_v0_entry(pv, st, v, err)))
            return rc;
    }
    return LK_OK;
}

static bool all_space(lk_str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (!strchr(" \t\r\n", s.p[i]))
            return false;
    return true;
}

static int decode_json(push_priv *pv, lk_str body, bool legacy, size_t max, int *status,
                       lk_buf *err)
{
    if (body.len > max) {
        *status = 413;
        return fail_too_large(err, body.len, max);
    }
    if (all_space(body))
        return fail(err, LK_EPARSE, "EOF");
    size_t clean_len;
    pv->sanitized = utf8_sanitize(body, &clean_len);
    if (pv->sanitized)
        body = lk_str_n(pv->sanitized, clean_len);

    json_error_t jerr;
    /* Like Go's json.Decoder: one value, whatever follows it is not read. */
    pv->json = json_loadb(body.p, body.len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DISABLE_EOF_CHECK,
                          &jerr);
    if (!pv->json)
        return fail(err, LK_EPARSE, "invalid JSON push request: %s (line %d, column %d)", jerr.text,
                    jerr.line, jerr.column);
    if (json_is_null(pv->json))
        return LK_OK;
    if (!json_is_object(pv->json))
        return fail(err, LK_EPARSE, "invalid push request: expected a JSON object");
    json_t *streams = jget(pv->json, "streams", true);
    if (!streams || json_is_null(streams))
        return LK_OK;
    if (!json_is_array(streams))
        return fail(err, LK_EPARSE, "invalid push request: \"streams\" must be an array");
    size_t i;
    json_t *s;
    json_array_foreach(streams, i, s)
    {
        if (json_is_null(s))
            continue;
        int rc = legacy ? json_v0_stream(pv, s, err) : json_v1_stream(pv, s, err);
        if (rc)
            return rc;
    }
    return LK_OK;
}

/* ------------------------------------------------------------ entry points */

int push_decode(const push_input *in, push_request *out, int *http_status, lk_buf *err)
{
    memset(out, 0, sizeof *out);
    push_priv *pv = lk_calloc(1, sizeof *pv);
    out->priv = pv;
    size_t max = in->max_decompressed ? in->max_decompressed : SIZE_MAX;
    int status = 400;
    int enc = ENC_NONE;
    bool json = false;
    lk_str body = lk_str_n(in->body, in->len);

    int rc = parse_encoding(in->content_encoding, &enc, err);
    if (rc == LK_OK) {
        rc = parse_content_type(in->content_type, &json, err);
        if (rc == LK_EUNSUPPORTED)
            status = 415;
    }
    if (rc == LK_OK && enc != ENC_NONE)
        rc = inflate_body(body, enc == ENC_GZIP, max, pv, &body, &status, err);
    if (rc == LK_OK)
        rc = json ? decode_json(pv, body, in->legacy, max, &status, err)
                  : decode_proto(pv, body, max, &status, err);
    if (rc != LK_OK) {
        *http_status = status;
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
