/* Base64 (lib/base64.h): three bytes to four characters, the last group
 * padded with '='. */
#include "lib/base64.h"

#include <stdint.h>

#include "lib/err.h"

void lk_base64_encode(const void *p, size_t n, lk_buf *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0) |
                     (i + 2 < n ? b[i + 2] : 0);
        char o[4] = { tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
                      i + 2 < n ? tab[v & 63] : '=' };
        lk_buf_append(out, o, 4);
    }
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* One group of four characters (the last may end in "=" or "=="): the
 * bytes it stands for in o, their count, or -1. */
static int decode_group(const char *g, bool last, unsigned char o[3])
{
    int pad = last ? (g[3] == '=') + (g[3] == '=' && g[2] == '=') : 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = i >= 4 - pad ? 0 : b64_val(g[i]);
        if (d < 0)
            return -1;
        v = v << 6 | (uint32_t)d;
    }
    if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
        return -1; /* bits past the end must be zero, as Go's strict reading */
    o[0] = (unsigned char)(v >> 16);
    o[1] = (unsigned char)(v >> 8);
    o[2] = (unsigned char)v;
    return 3 - pad;
}

int lk_base64_decode(lk_str s, lk_buf *out)
{
    if (s.len % 4)
        return LK_EINVAL;
    size_t start = out->len;
    for (size_t i = 0; i < s.len; i += 4) {
        unsigned char o[3];
        int n = decode_group(s.p + i, i + 4 == s.len, o);
        if (n < 0) {
            out->len = start;
            if (out->p)
                out->p[start] = 0;
            return LK_EINVAL;
        }
        lk_buf_append(out, o, (size_t)n);
    }
    return LK_OK;
}
