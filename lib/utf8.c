/* UTF-8 decoding and encoding with Go's rules (lib/utf8.h). A sequence is
 * valid when its lead byte is C2..F4, its continuation bytes are 80..BF,
 * it is not overlong (E0 needs A0.., F0 needs 90..), not a surrogate
 * (ED needs ..9F) and not above U+10FFFF (F4 needs ..8F). */
#include "lib/utf8.h"

#include <string.h>

size_t lk_utf8_decode(const void *p, size_t n, uint32_t *r)
{
    const unsigned char *s = p;
    *r = LK_RUNE_ERROR;
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        *r = c;
        return 1;
    }
    size_t need;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 1;
    }
    if (n < need)
        return 1;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 1;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 1;
    *r = v;
    return need;
}

size_t lk_utf8_decode_last(const void *p, size_t n, uint32_t *r)
{
    const unsigned char *s = p;
    if (n == 0) {
        *r = LK_RUNE_ERROR;
        return 0;
    }
    size_t start = n - 1;
    if (s[start] < 0x80) {
        *r = s[start];
        return 1;
    }
    /* back to the lead byte, at most LK_UTF8_MAX bytes from the end */
    size_t lim = n >= LK_UTF8_MAX ? n - LK_UTF8_MAX : 0;
    while (start > lim) {
        start--;
        if ((s[start] & 0xC0) != 0x80)
            break;
    }
    size_t w = lk_utf8_decode(s + start, n - start, r);
    if (start + w != n) {
        *r = LK_RUNE_ERROR;
        return 1;
    }
    return w;
}

size_t lk_utf8_valid_len(const void *p, size_t n)
{
    if (n == 0)
        return 0;
    uint32_t r;
    size_t w = lk_utf8_decode(p, n, &r);
    return w == 1 && *(const unsigned char *)p >= 0x80 ? 0 : w;
}

size_t lk_utf8_encode(char *o, uint32_t r)
{
    if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        r = LK_RUNE_ERROR;
    if (r < 0x80) {
        o[0] = (char)r;
        return 1;
    }
    if (r < 0x800) {
        o[0] = (char)(0xC0 | (r >> 6));
        o[1] = (char)(0x80 | (r & 0x3F));
        return 2;
    }
    if (r < 0x10000) {
        o[0] = (char)(0xE0 | (r >> 12));
        o[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        o[2] = (char)(0x80 | (r & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (r >> 18));
    o[1] = (char)(0x80 | ((r >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((r >> 6) & 0x3F));
    o[3] = (char)(0x80 | (r & 0x3F));
    return 4;
}

void lk_utf8_put(lk_buf *b, uint32_t r)
{
    char s[LK_UTF8_MAX];
    lk_buf_append(b, s, lk_utf8_encode(s, r));
}

size_t lk_utf8_valid_prefix(lk_str s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t i = 0;
    while (i < s.len) {
        if (i + 8 <= s.len) { /* ASCII, 8 bytes at a time */
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & UINT64_C(0x8080808080808080))) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = lk_utf8_valid_len(p + i, s.len - i);
        if (n == 0)
            break;
        i += n;
    }
    return i;
}

bool lk_utf8_valid(lk_str s)
{
    return lk_utf8_valid_prefix(s) == s.len;
}

size_t lk_utf8_count(lk_str s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t n = 0;
    for (size_t i = 0; i < s.len; n++) {
        uint32_t r;
        i += p[i] < 0x80 ? 1 : lk_utf8_decode(p + i, s.len - i, &r);
    }
    return n;
}

bool lk_unicode_is_space(uint32_t r)
{
    switch (r) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000:
        return true;
    default:
        return r >= 0x2000 && r <= 0x200A;
    }
}

lk_str lk_unicode_trim_space(lk_str s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t a = 0, e = s.len;
    while (a < e) {
        uint32_t r;
        size_t w = lk_utf8_decode(p + a, e - a, &r);
        if (!lk_unicode_is_space(r))
            break;
        a += w;
    }
    while (e > a) {
        uint32_t r;
        size_t w = lk_utf8_decode_last(p + a, e - a, &r);
        if (!lk_unicode_is_space(r))
            break;
        e -= w;
    }
    return (lk_str){ s.p + a, e - a };
}
