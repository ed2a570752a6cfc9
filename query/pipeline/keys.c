/* Label key rules the parsers share: Loki's sanitizeLabelKey (invalid
 * runes become '_', a leading digit gets a '_' prefix, Unicode spaces
 * trimmed), the `_extracted` suffix, and the UTF-8 checks Loki applies to
 * values (a replacement rune empties a value). See lp_int.h. */
#include "query/pipeline/pipeline_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

/* ---- key rules ------------------------------------------------------------------ */

/* Unicode White_Space as UTF-8 at p (len bytes left): its length, or 0. */
static size_t space_len(const unsigned char *p, size_t len)
{
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (len >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
        return 2;
    if (len >= 3 && p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
        return 3; /* U+1680 */
    if (len >= 3 && p[0] == 0xe2 && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
        return 3; /* U+2000-200A, 2028, 2029, 202F */
    if (len >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
        return 3; /* U+205F */
    if (len >= 3 && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
        return 3; /* U+3000 */
    return 0;
}

static lk_str trim_space(lk_str s)
{
    if (s.len && (unsigned char)s.p[0] > ' ' && (unsigned char)s.p[0] < 0x80 &&
        (unsigned char)s.p[s.len - 1] > ' ' && (unsigned char)s.p[s.len - 1] < 0x80)
        return s;
    const unsigned char *p = (const unsigned char *)s.p;
    size_t a = 0, e = s.len;
    size_t k;
    while (a < e && (k = space_len(p + a, e - a)))
        a += k;
    /* trailing: step back over ASCII and the multi-byte spaces */
    for (;;) {
        if (e > a && (p[e - 1] == ' ' || (p[e - 1] >= '\t' && p[e - 1] <= '\r'))) {
            e--;
            continue;
        }
        bool cut = false;
        for (size_t w = 2; w <= 3 && !cut; w++)
            if (e >= a + w && space_len(p + e - w, w) == w) {
                e -= w;
                cut = true;
            }
        if (!cut)
            break;
    }
    return (lk_str){ s.p + a, e - a };
}

/* Length of the UTF-8 sequence at p, 1 for an invalid byte (one RuneError). */
static size_t rune_len(const unsigned char *p, size_t len)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        min = 0x10000;
    } else {
        return 1;
    }
    if (len < n)
        return 1;
    uint32_t r = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 1;
        r = (r << 6) | (p[i] & 0x3f);
    }
    if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
        return 1;
    return n;
}

static bool key_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
}

static void sanitize_into(char *out, size_t *n, lk_str key, bool digit_prefix)
{
    const unsigned char *p = (const unsigned char *)key.p;
    if (digit_prefix && p[0] >= '0' && p[0] <= '9')
        out[(*n)++] = '_';
    for (size_t i = 0; i < key.len;) {
        if (key_char(p[i])) {
            out[(*n)++] = (char)p[i++];
            continue;
        }
        out[(*n)++] = '_';
        i += rune_len(p + i, key.len - i);
    }
}

lk_str lp_sanitize_key(lk_str key, lp_scratch *s)
{
    key = trim_space(key);
    if (key.len == 0)
        return key;
    const unsigned char *p = (const unsigned char *)key.p;
    bool clean = !(p[0] >= '0' && p[0] <= '9');
    for (size_t i = 0; i < key.len && clean; i++)
        clean = key_char(p[i]);
    if (clean)
        return key;
    char *out = lp_alloc(s, key.len + 1);
    size_t n = 0;
    sanitize_into(out, &n, key, true);
    return (lk_str){ out, n };
}

void lp_sanitize_append(lp_sb *b, lk_str key, bool digit_prefix)
{
    key = trim_space(key);
    if (key.len == 0)
        return;
    char small[256];
    char *out = key.len + 1 <= sizeof(small) ? small : lp_alloc(b->s, key.len + 1);
    size_t n = 0;
    sanitize_into(out, &n, key, digit_prefix);
    lp_sb_put(b, out, n);
}

lk_str lp_dedup_key(const lp_lbs *b, lk_str name, lp_scratch *s)
{
    if (!lp_lbs_base_has(b, name))
        return name;
    char *p = lp_alloc(s, name.len + 10);
    memcpy(p, name.p, name.len);
    memcpy(p + name.len, "_extracted", 10);
    return (lk_str){ p, name.len + 10 };
}

bool lp_utf8_clean(lk_str s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t i = 0;
    while (i < s.len) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= s.len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= s.len)
            break;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = rune_len(p + i, s.len - i);
        if (n == 1)
            return false;
        if (n == 3 && p[i] == 0xef && p[i + 1] == 0xbf && p[i + 2] == 0xbd)
            return false; /* U+FFFD itself */
        i += n;
    }
    return true;
}
