/* The compression codecs of chunk blocks (Loki's chunk_encoding values):
 * none, snappy, gzip (zlib's deflate stream), lz4 (block format) and zstd.
 * Each block column names its codec in one byte (storage/columns.c), so the
 * numbers below are on disk and never change. Private to storage/. */
#ifndef LOKIC_STORAGE_COMPRESS_H
#define LOKIC_STORAGE_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"

typedef enum chk_codec {
    CHK_CODEC_NONE = 0,
    CHK_CODEC_SNAPPY = 1,
    CHK_CODEC_GZIP = 2,
    CHK_CODEC_LZ4 = 3,
    CHK_CODEC_ZSTD = 4,
    CHK_CODEC_COUNT
} chk_codec;

/* The codec new blocks use when the configuration names none. */
#define CHK_CODEC_DEFAULT CHK_CODEC_ZSTD

/* The codec of a Loki chunk_encoding name ("snappy", "gzip", "flate",
 * "lz4-64k" .. "lz4-4M", "lz4", "zstd", "none"); LK_EINVAL when unknown. */
int chk_codec_from_name(const char *name, chk_codec *out);
const char *chk_codec_name(chk_codec c);

/* Appends src compressed with c to out and returns c; when c does not make
 * it smaller, appends src as it is and returns CHK_CODEC_NONE. */
chk_codec chk_compress(chk_codec c, const uint8_t *src, size_t n, lk_buf *out);

/* Decompresses src (n bytes, codec c) into dst: 0 when it yields exactly
 * raw_len bytes, LK_ECORRUPT otherwise (an unknown codec included). Never
 * writes past dst + raw_len. *zstd is a decompression context made on
 * first use and kept by the caller between blocks (NULL to start), freed
 * with chk_zstd_free. */
int chk_decompress(void **zstd, chk_codec c, const uint8_t *src, size_t n, uint8_t *dst,
                   size_t raw_len);
/* Lets go of a context (kept for the next reader, up to a few). Accepts
 * NULL. */
void chk_zstd_free(void *zstd);

#endif
