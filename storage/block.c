/* Compressed blocks: an immutable, reference-counted run of a stream's
 * entries, cut from the head, and their decoding.
 *
 * New blocks have the column payload of format 2 (storage/columns.c). This
 * file keeps the decoding of format 1, the payload of chunk files of
 * version 1, below.
 *
 * Format 1 payload (what snappy compresses; CRC32C is over the compressed
 * bytes). Entries in timestamp order (stable), each:
 *
 *   varint   ts delta: zigzag(ts - previous ts), modulo 2^64; the first
 *            entry's previous ts is the block's mint (so its delta is 0)
 *   uvarint  line length L
 *   L bytes  line
 *   uvarint  metadata pair count M (0: none)
 *   M times: uvarint name length, name bytes, uvarint value length, value
 *
 * Varints are Go's encoding/binary (7 bits per byte, low first, at most 10
 * bytes). WAL record bodies use the same entry layout, and one function
 * decodes both (codec_entries_decode, storage/codec.h). The starting brief
 * had metadata interned per chunk (docs/design.md, deviations); it is
 * instead kept inline per entry and left to snappy, which removes the
 * repetition of a block's recurring names and values just as well, and
 * keeps a block decodable on its own.
 *
 * Outside the payload, a block carries (chk_block_info): mint, maxt, entry
 * count, raw (uncompressed) length, compressed length, CRC32C of the
 * compressed bytes, its format, and (format 2) its line and metadata byte
 * sums; and a token filter (filter.c). In a chunk file these go to the
 * block index (chunkfile.c).
 *
 * A format 1 payload is valid when: the CRC matches; snappy's length header equals
 * raw_len and raw_len <= 32 * compressed length + 64 (snappy cannot expand
 * more); it decompresses to exactly raw_len bytes; it holds exactly
 * `entries` entries with every length inside the payload and nothing after
 * the last; timestamps never decrease, the first is mint and the last maxt.
 * Anything else is LK_ECORRUPT. */
#include "storage/chunk.h"

#include <snappy-c.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "storage/chunk_int.h"
#include "storage/codec.h"
#include "storage/compress.h"

struct chk_backing {
    atomic_long refs;
    const void *p;
    size_t n;
    chk_release_fn release;
    void *ctx;
};

struct chk_block {
    atomic_int refs;
    atomic_bool warned;
    chk_block_info info;
    const uint8_t *comp;
    const uint8_t *filter;
    uint32_t filter_len;
    chk_backing *backing; /* NULL: comp and filter live in data[] */
    uint8_t data[];
};

/* ---- backing */

chk_backing *chk_backing_new(const void *p, size_t n, chk_release_fn release, void *ctx)
{
    chk_backing *bk = lk_malloc(sizeof(*bk));
    atomic_init(&bk->refs, 1);
    bk->p = p;
    bk->n = n;
    bk->release = release;
    bk->ctx = ctx;
    return bk;
}

void chk_backing_ref(chk_backing *bk)
{
    atomic_fetch_add_explicit(&bk->refs, 1, memory_order_relaxed);
}

void chk_backing_unref(chk_backing *bk)
{
    if (!bk || atomic_fetch_sub_explicit(&bk->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (bk->release)
        bk->release(bk->ctx, bk->p, bk->n);
    free(bk);
}

/* ---- block objects */

static chk_block *block_alloc(size_t data_len)
{
    chk_block *b = lk_malloc(sizeof(*b) + data_len);
    atomic_init(&b->refs, 1);
    atomic_init(&b->warned, false);
    b->backing = NULL;
    return b;
}

chk_block *chk_block_wrap(const chk_block_info *info, const uint8_t *comp, const uint8_t *filter,
                          uint32_t filter_len, chk_backing *bk)
{
    chk_block *b = block_alloc(0);
    b->info = *info;
    b->comp = comp;
    b->filter = filter;
    b->filter_len = filter_len;
    b->backing = bk;
    chk_backing_ref(bk);
    return b;
}

chk_block *chk_block_ref(chk_block *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void chk_block_unref(chk_block *b)
{
    if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    chk_backing_unref(b->backing);
    free(b);
}

const chk_block_info *chk_block_get_info(const chk_block *b)
{
    return &b->info;
}

lk_str chk_block_payload(const chk_block *b)
{
    return lk_str_n((const char *)b->comp, b->info.comp_len);
}

lk_str chk_block_filter(const chk_block *b)
{
    return lk_str_n((const char *)b->filter, b->filter_len);
}

bool chk_block_crc_ok(const chk_block *b)
{
    return lk_crc32c(0, b->comp, b->info.comp_len) == b->info.crc;
}

bool chk_block_first_warning(chk_block *b)
{
    return !atomic_exchange_explicit(&b->warned, true, memory_order_relaxed);
}

bool chk_filter_may_contain(const chk_block *b, lk_str needle)
{
    return chk_filter_check(chk_block_filter(b), needle);
}

/* ---- building */

int chk_block_from_head(const chk_head *h, chk_block **out)
{
    return chk_block_from_head_codec(h, CHK_CODEC_DEFAULT, out);
}

/* A block's token filter: about a tenth of its line bytes at most (the
 * size a quarter of a snappy payload gave), at least 64 bytes. */
static void build_filter(const chk_head *h, int64_t line_bytes, lk_buf *filter)
{
    size_t n = chk_head_len(h), max = (size_t)line_bytes / 10;
    chk_fbuild fb = { 0 };
    chk_fbuild_begin(&fb, (size_t)line_bytes);
    for (size_t i = 0; i < n; i++)
        chk_fbuild_add_line(&fb, chk_head_line(h, i));
    chk_fbuild_finish(&fb, max > 64 ? max : 64, filter);
    chk_fbuild_free(&fb);
}

int chk_block_from_head_codec(const chk_head *h, int codec, chk_block **out)
{
    size_t n = chk_head_len(h);
    if (n == 0)
        return LK_EINVAL;
    if (n > UINT32_MAX)
        LK_BUG("head of %zu entries, too big for a block", n);
    if (codec < 0 || codec >= CHK_CODEC_COUNT)
        LK_BUG("unknown codec %d", codec);
    lk_buf comp = { 0 }, filter = { 0 };
    chk_block_info info = { .mint = chk_head_mint(h), .maxt = chk_head_maxt(h),
                            .entries = (uint32_t)n };
    chk_cols_encode(h, codec, &comp, &info);
    info.crc = lk_crc32c(0, comp.p, comp.len);
    build_filter(h, info.line_bytes, &filter);

    chk_block *b = block_alloc(comp.len + filter.len);
    memcpy(b->data, comp.p, comp.len);
    if (filter.len)
        memcpy(b->data + comp.len, filter.p, filter.len);
    b->comp = b->data;
    b->filter = b->data + comp.len;
    b->filter_len = (uint32_t)filter.len;
    b->info = info;
    lk_buf_free(&comp);
    lk_buf_free(&filter);
    *out = b;
    return 0;
}

/* ---- decoded entries */

void chk_decoded_free(chk_decoded *d)
{
    free(d->e);
    free(d->meta);
    free(d->raw);
    free(d->sets);
    chk_zstd_free(d->zstd);
    memset(d, 0, sizeof(*d));
}

size_t chk_decoded_lower_bound(const chk_decoded *d, int64_t t)
{
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->e[mid].ts < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int chk_block_corrupt(chk_decoded *d, lk_buf *err, const char *why)
{
    d->n = 0;
    d->n_meta = 0;
    d->bytes = 0;
    if (err)
        lk_buf_printf(err, "corrupt block: %s", why);
    return LK_ECORRUPT;
}

int chk_parse_payload(chk_decoded *d, uint32_t entries, int64_t mint, int64_t maxt, lk_buf *err)
{
    const uint8_t *p = (const uint8_t *)d->raw;
    d->n = 0;
    d->n_meta = 0;
    d->bytes = 0;
    /* an entry takes at least 3 bytes (before the array is sized by it) */
    if (entries == 0 || entries > d->raw_len / 3 || mint > maxt)
        return chk_block_corrupt(d, err, "bad entry count or time range");
    d->e = lk_grow(d->e, &d->e_cap, entries, sizeof(*d->e));
    codec_run run;
    const char *why = codec_entries_decode(p, p + d->raw_len, mint, entries, d->e, &d->meta,
                                           &d->meta_cap, &run);
    if (why)
        return chk_block_corrupt(d, err, why);
    if (!run.ordered || run.first_ts != mint)
        return chk_block_corrupt(d, err, "timestamp out of order or outside the block's range");
    if (run.last_ts != maxt)
        return chk_block_corrupt(d, err, "last timestamp is not the block's maxt");
    d->n = entries;
    d->n_meta = run.n_meta;
    d->bytes = run.bytes;
    return 0;
}

/* A format 1 payload, its CRC checked. */
static int decode_v1(const chk_block *b, chk_decoded *d, lk_buf *err)
{
    const chk_block_info *in = &b->info;
    size_t ulen;
    if (in->raw_len > CHK_MAX_RAW || in->raw_len / 32 > in->comp_len + 2 ||
        snappy_uncompressed_length((const char *)b->comp, in->comp_len, &ulen) != SNAPPY_OK ||
        ulen != in->raw_len)
        return chk_block_corrupt(d, err, "bad uncompressed length");
    if (d->raw_cap < (size_t)in->raw_len + 1) {
        free(d->raw);
        d->raw_cap = (size_t)in->raw_len + 1;
        d->raw = lk_malloc(d->raw_cap);
    }
    size_t out = in->raw_len;
    if (snappy_uncompress((const char *)b->comp, in->comp_len, d->raw, &out) != SNAPPY_OK ||
        out != in->raw_len)
        return chk_block_corrupt(d, err, "snappy data does not decompress");
    d->raw_len = out;
    return chk_parse_payload(d, in->entries, in->mint, in->maxt, err);
}

int chk_block_decode_cols(const chk_block *b, unsigned cols, chk_decoded *d, lk_buf *err)
{
    d->raw_len = 0;
    if (!chk_block_crc_ok(b))
        return chk_block_corrupt(d, err, "checksum mismatch");
    if (b->info.format == CHK_FORMAT_COLS)
        return chk_cols_decode(&b->info, b->comp, cols, d, err);
    return decode_v1(b, d, err);
}

int chk_block_decode(const chk_block *b, chk_decoded *d, lk_buf *err)
{
    return chk_block_decode_cols(b, CHK_COL_ALL, d, err);
}
