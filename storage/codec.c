/* The inline encoding of an entry's structured metadata (storage/codec.h):
 * count, then length-prefixed name and value of each pair; and the decoding
 * of a run of entries in the layout blocks and WAL records share. */
#include "storage/codec.h"

#include "lib/mem.h"

size_t codec_meta_enc_len(const lk_label *m, size_t n)
{
    size_t len = codec_uvarint_len(n);
    for (size_t i = 0; i < n; i++) {
        len += codec_uvarint_len(m[i].name.len) + m[i].name.len;
        len += codec_uvarint_len(m[i].value.len) + m[i].value.len;
    }
    return len;
}

static size_t put_str(uint8_t *p, lk_str s)
{
    size_t k = codec_put_uvarint(p, s.len);
    if (s.len)
        memcpy(p + k, s.p, s.len);
    return k + s.len;
}

size_t codec_meta_encode(uint8_t *p, const lk_label *m, size_t n)
{
    size_t k = codec_put_uvarint(p, n);
    for (size_t i = 0; i < n; i++) {
        k += put_str(p + k, m[i].name);
        k += put_str(p + k, m[i].value);
    }
    return k;
}

static bool str_eq_at(const uint8_t **pp, const uint8_t *end, lk_str s)
{
    uint64_t len;
    if (codec_get_uvarint(pp, end, &len) < 0 || len != s.len || (size_t)(end - *pp) < len)
        return false;
    if (len && memcmp(*pp, s.p, len) != 0)
        return false;
    *pp += len;
    return true;
}

bool codec_meta_eq(const lk_label *m, size_t n, const uint8_t *enc, size_t enc_len)
{
    const uint8_t *p = enc, *end = enc + enc_len;
    uint64_t count;
    if (codec_get_uvarint(&p, end, &count) < 0 || count != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!str_eq_at(&p, end, m[i].name) || !str_eq_at(&p, end, m[i].value))
            return false;
    }
    return p == end;
}

size_t codec_meta_bytes(const lk_label *m, size_t n)
{
    size_t b = 0;
    for (size_t i = 0; i < n; i++)
        b += m[i].name.len + m[i].value.len;
    return b;
}

/* ---- entry runs */

/* A length-prefixed string at *pp; NULL when it does not fit. */
static const uint8_t *get_str(const uint8_t **pp, const uint8_t *end, uint64_t *len)
{
    if (codec_get_uvarint(pp, end, len) < 0 || *len > (uint64_t)(end - *pp))
        return NULL;
    const uint8_t *s = *pp;
    *pp += *len;
    return s;
}

/* count pairs at *pp appended to *meta; false when one does not fit. */
static bool get_meta(const uint8_t **pp, const uint8_t *end, uint64_t count, lk_label **meta,
                     size_t *meta_cap, codec_run *out)
{
    *meta = lk_grow(*meta, meta_cap, out->n_meta + count, sizeof(**meta));
    for (uint64_t k = 0; k < count; k++) {
        uint64_t nl, vl;
        const uint8_t *name = get_str(pp, end, &nl);
        const uint8_t *value = name ? get_str(pp, end, &vl) : NULL;
        if (!value)
            return false;
        (*meta)[out->n_meta++] = (lk_label){ lk_str_n((const char *)name, nl),
                                             lk_str_n((const char *)value, vl) };
        out->bytes += (int64_t)(nl + vl);
    }
    return true;
}

const char *codec_entries_decode(const uint8_t *p, const uint8_t *end, int64_t base, size_t n,
                                 lk_entry *e, lk_label **meta, size_t *meta_cap, codec_run *out)
{
    *out = (codec_run){ .ordered = true };
    /* an entry takes at least 3 bytes: delta, line length, pair count */
    if (n == 0 || n > (size_t)(end - p) / 3)
        return "entry count does not fit the bytes";
    int64_t prev = base;
    for (size_t i = 0; i < n; i++) {
        uint64_t zz, line_len, count;
        if (codec_get_uvarint(&p, end, &zz) < 0)
            return "truncated timestamp";
        int64_t ts = codec_ts_add(prev, codec_unzigzag(zz));
        if (i > 0 && ts < prev)
            out->ordered = false;
        prev = ts;
        const uint8_t *line = get_str(&p, end, &line_len);
        if (!line)
            return "line length past the end";
        if (codec_get_uvarint(&p, end, &count) < 0 || count > (uint64_t)(end - p) / 2)
            return "bad metadata count";
        if (count && !get_meta(&p, end, count, meta, meta_cap, out))
            return "metadata length past the end";
        /* meta holds a count until the array stops moving (below) */
        e[i] = (lk_entry){ .ts = ts, .line = lk_str_n((const char *)line, line_len),
                           .n_meta = count };
        out->bytes += (int64_t)line_len;
    }
    if (p != end)
        return "bytes after the last entry";
    out->first_ts = e[0].ts;
    out->last_ts = prev;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        e[i].meta = e[i].n_meta ? &(*meta)[k] : NULL;
        k += e[i].n_meta;
    }
    return NULL;
}
