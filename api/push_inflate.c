/* Content-Encoding gzip and deflate of a push body (contract in
 * push_int.h): "gzip" with concatenated members allowed, like Go's reader;
 * "deflate" as raw DEFLATE, as Go's flate reads it (a zlib-wrapped stream,
 * what HTTP's "deflate" formally is, is recognised by its header and
 * accepted too). Errors carry Go's messages (gzip: invalid header, flate:
 * corrupt input before offset N, unexpected EOF). Inflating stops as soon
 * as the output passes the limit (a body of a few MB can inflate to GBs),
 * and the output buffer's growth is taken from the request's in-flight
 * budget before it is allocated. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/push_int.h"
#include "lib/err.h"
#include "lib/mem.h"

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
        return push_fail(err, LK_EPARSE, "gzip: invalid header");
    if (gzip && check)
        return push_fail(err, LK_EPARSE, "gzip: invalid checksum");
    if (zlib_hdr && check)
        return push_fail(err, LK_EPARSE, "zlib: invalid checksum");
    return push_fail(err, LK_EPARSE, "flate: corrupt input before offset %lu",
                     (unsigned long)zs->total_in);
}

int push_inflate(lk_str in, bool gzip, size_t max, push_priv *pv, lk_str *out, lk_buf *err)
{
    const unsigned char *src = (const unsigned char *)in.p;
    if (in.len == 0)
        return push_fail(err, LK_EPARSE, gzip ? "EOF" : "unexpected EOF");
    bool zlib_hdr = !gzip && looks_like_zlib(src, in.len);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, gzip ? 16 + MAX_WBITS : zlib_hdr ? MAX_WBITS : -MAX_WBITS) != Z_OK)
        LK_BUG("inflateInit2 failed");

    size_t limit = max == SIZE_MAX ? SIZE_MAX : max + 1;
    size_t cap = in.len < (SIZE_MAX - 4096) / 4 ? in.len * 4 + 4096 : SIZE_MAX;
    if (cap > limit)
        cap = limit;
    if (!push_take(pv, cap)) {
        inflateEnd(&zs);
        return push_fail_budget(err);
    }
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
            if (cap >= limit) { /* past max: stop here */
                rc = push_fail_too_large(err, used, max, true);
                break;
            }
            size_t ncap = cap <= limit / 2 ? cap * 2 : limit;
            if (!push_take(pv, ncap - cap)) {
                rc = push_fail_budget(err);
                break;
            }
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
            rc = push_fail(err, LK_EPARSE, "unexpected EOF");
            break;
        }
        if (zr == Z_MEM_ERROR)
            LK_BUG("inflate: out of memory");
        rc = inflate_error(&zs, gzip, zlib_hdr, err);
        break;
    }
    inflateEnd(&zs);
    if (rc == LK_OK && used > max)
        rc = push_fail_too_large(err, used, max, true);
    if (rc != LK_OK) {
        free(buf);
        return rc;
    }
    pv->inflated = buf;
    *out = lk_str_n((const char *)buf, used);
    return LK_OK;
}
