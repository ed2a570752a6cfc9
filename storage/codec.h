/* Byte-level helpers shared by the chunk codec files (head.c, block.c,
 * filter.c, chunkfile.c) and the WAL's records (walrec.c): varints (Go's
 * encoding/binary uvarint and zigzag varint), little-endian fixed-width
 * integers, the inline encoding of an entry's structured metadata, and the
 * entry layout of block payloads and WAL record bodies. Private to
 * storage/. */
#ifndef LOKIC_STORAGE_CODEC_H
#define LOKIC_STORAGE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "storage/iter.h"

#define CODEC_MAX_VARINT 10

static inline size_t codec_put_uvarint(uint8_t *p, uint64_t v)
{
    size_t i = 0;
    while (v >= 0x80) {
        p[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[i++] = (uint8_t)v;
    return i;
}

static inline size_t codec_uvarint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Reads a uvarint at *pp (not past end). 0 and *pp advanced, or -1 when the
 * bytes run out or the value does not fit 64 bits. */
static inline int codec_get_uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    *out = 0; /* defined on failure too (and no maybe-uninitialized at -O2) */
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (p >= end)
            return -1;
        uint8_t b = *p++;
        if (shift == 63 && b > 1)
            return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *pp = p;
            *out = v;
            return 0;
        }
    }
    return -1;
}

static inline uint64_t codec_zigzag(int64_t v)
{
    uint64_t u = (uint64_t)v;
    return (u << 1) ^ (0 - (u >> 63));
}

static inline int64_t codec_unzigzag(uint64_t u)
{
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

/* Timestamp deltas are computed modulo 2^64 so that any pair of int64
 * timestamps round-trips. */
static inline int64_t codec_ts_delta(int64_t ts, int64_t prev)
{
    return (int64_t)((uint64_t)ts - (uint64_t)prev);
}

static inline int64_t codec_ts_add(int64_t prev, int64_t delta)
{
    return (int64_t)((uint64_t)prev + (uint64_t)delta);
}

static inline void codec_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void codec_put_le64(uint8_t *p, uint64_t v)
{
    codec_put_le32(p, (uint32_t)v);
    codec_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t codec_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t codec_get_le64(const uint8_t *p)
{
    return (uint64_t)codec_get_le32(p) | (uint64_t)codec_get_le32(p + 4) << 32;
}

/* Structured metadata inline encoding (the same bytes in the head arena and
 * in a block): uvarint pair count, then per pair uvarint name length, name,
 * uvarint value length, value. No metadata is the single byte 0. */
size_t codec_meta_enc_len(const lk_label *m, size_t n);
/* Writes codec_meta_enc_len() bytes at p; returns that length. */
size_t codec_meta_encode(uint8_t *p, const lk_label *m, size_t n);
/* Does the encoding enc (count byte included) hold exactly these pairs? */
bool codec_meta_eq(const lk_label *m, size_t n, const uint8_t *enc, size_t enc_len);
/* Sum of name and value lengths: what metadata adds to an entry's size. */
size_t codec_meta_bytes(const lk_label *m, size_t n);

/* The entry layout of block payloads (block.c) and WAL record bodies
 * (walrec.c), entries back to back, each:
 *   varint   zigzag(ts - previous ts), modulo 2^64
 *   uvarint  L, then L bytes: the line
 *   the metadata, as codec_meta_encode writes it
 * What codec_entries_decode found besides the entries. */
typedef struct codec_run {
    size_t n_meta;       /* metadata pairs decoded into *meta */
    int64_t bytes;       /* line and metadata name/value bytes */
    int64_t first_ts, last_ts;
    bool ordered;        /* no timestamp is below the one before it */
} codec_run;

/* Decodes exactly n entries (n >= 1) from [p, end), the first one's
 * previous ts being base, into e[0..n) (the caller's, room for n) and their
 * metadata pairs into *meta (grown with lk_grow, *meta_cap; reused from
 * index 0), each entry's meta pointing into it. Lines and pairs point into
 * [p, end). NULL when the bytes hold exactly n entries with every length
 * inside them and nothing after the last; else what is wrong. */
const char *codec_entries_decode(const uint8_t *p, const uint8_t *end, int64_t base, size_t n,
                                 lk_entry *e, lk_label **meta, size_t *meta_cap, codec_run *out);

#endif
