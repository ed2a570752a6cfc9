/* Block column compression (storage/compress.h) over snappy, zlib, lz4 and
 * zstd. Compression runs at block cut; zstd compression contexts are kept
 * in a small pool shared by the pushing threads (creating one per block
 * would cost more than compressing a small column). */
#include "storage/compress.h"

#include <lz4.h>
#include <pthread.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/err.h"
#include "lib/mem.h"

/* zstd level of new blocks. On the query benchmark's data (chunks and
 * index per line, tests/bench/README.md): level 1 27.8 bytes, 3 28.7, 5
 * 26.6, 6 25.6, 9 24.7 (snappy 40.8); compression at 9 costs several times
 * level 1's CPU on the push path, and decoding speed does not depend on
 * the level. */
#define ZSTD_LEVEL 1
#define CCTX_POOL 8
/* Largest column compressed (lz4 takes int lengths); bigger ones are
 * stored as they are. */
#define COMPRESS_MAX (1u << 30)

static const struct {
    const char *name;
    chk_codec codec;
} names[] = {
    { "none", CHK_CODEC_NONE },      { "snappy", CHK_CODEC_SNAPPY },
    { "gzip", CHK_CODEC_GZIP },      { "flate", CHK_CODEC_GZIP },
    { "lz4", CHK_CODEC_LZ4 },        { "lz4-64k", CHK_CODEC_LZ4 },
    { "lz4-256k", CHK_CODEC_LZ4 },   { "lz4-1M", CHK_CODEC_LZ4 },
    { "lz4-4M", CHK_CODEC_LZ4 },     { "zstd", CHK_CODEC_ZSTD },
};

int chk_codec_from_name(const char *name, chk_codec *out)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(names[i].name, name) == 0) {
            *out = names[i].codec;
            return LK_OK;
        }
    }
    return LK_EINVAL;
}

const char *chk_codec_name(chk_codec c)
{
    static const char *const n[CHK_CODEC_COUNT] = { "none", "snappy", "gzip", "lz4", "zstd" };
    return (unsigned)c < CHK_CODEC_COUNT ? n[c] : "unknown";
}

/* ---- zstd compression contexts */

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static ZSTD_CCtx *pool[CCTX_POOL];
static size_t pool_n;
/* decompression contexts let go of by finished readers (a query reads
 * each stream with a fresh decoder) */
static ZSTD_DCtx *dpool[CCTX_POOL];
static size_t dpool_n;

static ZSTD_CCtx *cctx_get(void)
{
    ZSTD_CCtx *z = NULL;
    pthread_mutex_lock(&pool_mu);
    if (pool_n)
        z = pool[--pool_n];
    pthread_mutex_unlock(&pool_mu);
    if (!z && !(z = ZSTD_createCCtx()))
        LK_BUG("ZSTD_createCCtx failed (out of memory)");
    return z;
}

static void cctx_put(ZSTD_CCtx *z)
{
    pthread_mutex_lock(&pool_mu);
    if (pool_n < CCTX_POOL) {
        pool[pool_n++] = z;
        z = NULL;
    }
    pthread_mutex_unlock(&pool_mu);
    ZSTD_freeCCtx(z);
}

/* ---- compression: each writes at most `room` bytes at dst and returns
 * the compressed length, 0 when it does not fit */

static size_t bound_of(chk_codec c, size_t n)
{
    switch (c) {
    case CHK_CODEC_SNAPPY:
        return snappy_max_compressed_length(n);
    case CHK_CODEC_GZIP:
        return compressBound((uLong)n);
    case CHK_CODEC_LZ4:
        return (size_t)LZ4_compressBound((int)n);
    case CHK_CODEC_ZSTD:
        return ZSTD_compressBound(n);
    default:
        return n;
    }
}

static size_t compress_into(chk_codec c, const uint8_t *src, size_t n, uint8_t *dst, size_t room)
{
    switch (c) {
    case CHK_CODEC_SNAPPY: {
        size_t len = room;
        return snappy_compress((const char *)src, n, (char *)dst, &len) == SNAPPY_OK ? len : 0;
    }
    case CHK_CODEC_GZIP: {
        uLongf len = (uLongf)room;
        return compress2(dst, &len, src, (uLong)n, Z_DEFAULT_COMPRESSION) == Z_OK ? len : 0;
    }
    case CHK_CODEC_LZ4: {
        int len = LZ4_compress_default((const char *)src, (char *)dst, (int)n, (int)room);
        return len > 0 ? (size_t)len : 0;
    }
    case CHK_CODEC_ZSTD: {
        ZSTD_CCtx *z = cctx_get();
        size_t len = ZSTD_compressCCtx(z, dst, room, src, n, ZSTD_LEVEL);
        cctx_put(z);
        return ZSTD_isError(len) ? 0 : len;
    }
    default:
        return 0;
    }
}

chk_codec chk_compress(chk_codec c, const uint8_t *src, size_t n, lk_buf *out)
{
    if (c != CHK_CODEC_NONE && n > 0 && n <= COMPRESS_MAX) {
        size_t room = bound_of(c, n);
        lk_buf_reserve(out, room);
        size_t len = compress_into(c, src, n, (uint8_t *)out->p + out->len, room);
        if (len > 0 && len < n) {
            out->len += len;
            return c;
        }
    }
    lk_buf_append(out, src, n);
    return CHK_CODEC_NONE;
}

/* ---- decompression */

void chk_zstd_free(void *zstd)
{
    if (!zstd)
        return;
    pthread_mutex_lock(&pool_mu);
    if (dpool_n < CCTX_POOL) {
        dpool[dpool_n++] = zstd;
        zstd = NULL;
    }
    pthread_mutex_unlock(&pool_mu);
    ZSTD_freeDCtx(zstd);
}

static ZSTD_DCtx *dctx_get(void)
{
    ZSTD_DCtx *z = NULL;
    pthread_mutex_lock(&pool_mu);
    if (dpool_n)
        z = dpool[--dpool_n];
    pthread_mutex_unlock(&pool_mu);
    return z ? z : ZSTD_createDCtx();
}

static int unzstd(void **zstd, const uint8_t *src, size_t n, uint8_t *dst, size_t raw_len)
{
    if (!*zstd && !(*zstd = dctx_get()))
        LK_BUG("ZSTD_createDCtx failed (out of memory)");
    unsigned long long want = ZSTD_getFrameContentSize(src, n);
    if (want != raw_len)
        return LK_ECORRUPT;
    size_t got = ZSTD_decompressDCtx(*zstd, dst, raw_len, src, n);
    return !ZSTD_isError(got) && got == raw_len ? LK_OK : LK_ECORRUPT;
}

int chk_decompress(void **zstd, chk_codec c, const uint8_t *src, size_t n, uint8_t *dst,
                   size_t raw_len)
{
    switch (c) {
    case CHK_CODEC_NONE:
        if (n != raw_len)
            return LK_ECORRUPT;
        if (n)
            memcpy(dst, src, n);
        return LK_OK;
    case CHK_CODEC_SNAPPY: {
        size_t ulen;
        if (snappy_uncompressed_length((const char *)src, n, &ulen) != SNAPPY_OK ||
            ulen != raw_len)
            return LK_ECORRUPT;
        return snappy_uncompress((const char *)src, n, (char *)dst, &ulen) == SNAPPY_OK &&
                       ulen == raw_len
                   ? LK_OK
                   : LK_ECORRUPT;
    }
    case CHK_CODEC_GZIP: {
        uLongf len = (uLongf)raw_len;
        uLong in = (uLong)n;
        return uncompress2(dst, &len, src, &in) == Z_OK && len == raw_len && in == n
                   ? LK_OK
                   : LK_ECORRUPT;
    }
    case CHK_CODEC_LZ4: {
        if (n > INT32_MAX || raw_len > INT32_MAX)
            return LK_ECORRUPT;
        int len = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)raw_len);
        return len >= 0 && (size_t)len == raw_len ? LK_OK : LK_ECORRUPT;
    }
    case CHK_CODEC_ZSTD:
        return unzstd(zstd, src, n, dst, raw_len);
    default:
        return LK_ECORRUPT;
    }
}
