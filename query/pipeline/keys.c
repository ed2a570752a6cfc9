/* Label key rules the parsers share: Loki's sanitizeLabelKey (invalid
 * runes become '_', a leading digit gets a '_' prefix, Unicode spaces
 * trimmed), the `_extracted` suffix, and the UTF-8 checks Loki applies to
 * values (a replacement rune empties a value). See pipeline_int.h. */
#define _GNU_SOURCE /* memmem */
#include "query/pipeline/pipeline_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/utf8.h"

/* ---- key rules ------------------------------------------------------------------ */

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
        uint32_t r;
        i += lk_utf8_decode(p + i, key.len - i, &r);
    }
}

lk_str lp_sanitize_key(lk_str key, lp_scratch *s)
{
    key = lk_unicode_trim_space(key);
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
    key = lk_unicode_trim_space(key);
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
    if (!lk_utf8_valid(s))
        return false;
    /* U+FFFD starts with 0xEF: most values have none, and memchr costs far
     * less than a memmem call on a short value */
    const char *p = s.len ? memchr(s.p, 0xEF, s.len) : NULL;
    return !p || !memmem(p, s.len - (size_t)(p - s.p), "\xEF\xBF\xBD", 3);
}
