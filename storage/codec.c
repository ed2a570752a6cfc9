/* The inline encoding of an entry's structured metadata (storage/codec.h):
 * count, then length-prefixed name and value of each pair. */
#include "storage/codec.h"

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
