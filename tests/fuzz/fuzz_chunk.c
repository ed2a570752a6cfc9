/* libFuzzer driver for the chunk codec: arbitrary bytes must never crash,
 * read out of bounds or leak. The first byte picks the target:
 *   0  chunk file: chk_file_decode; when it opens, every block is checked and
 *      decoded, and encoding the chunk again gives back the input exactly.
 *   1  block: the rest is a snappy payload behind a 24-byte claim (entries,
 *      raw length, mint, maxt) with a matching CRC, so decoding goes past
 *      the checksum into snappy and the payload parser.
 *   2  payload parser: the rest is an uncompressed payload behind the same
 *      claim (no snappy in the way).
 *   3  token filter: chk_filter_check(filter, needle), split at the first
 *      0xff byte.
 *   4  head and blocks: the rest drives appends (timestamp deltas and
 *      lines); the head, its block and a file of it must agree.
 *   5  column block (format 2): the rest is a column payload behind the
 *      24-byte claim and 16 more bytes (line and metadata byte sums), with a
 *      matching CRC, decoded with every set of columns; a decode that
 *      succeeds gives the claimed count, and the same timestamps whatever
 *      the columns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/chunk.h"
#include "storage/chunk_int.h"
#include "storage/codec.h"
#include "tests/fuzz/fuzz.h"

static void fuzz_file(const uint8_t *p, size_t n)
{
    chk_chunk *c = NULL;
    lk_buf canon = { 0 }, err = { 0 }, again = { 0 };
    uint64_t fp = 0;
    if (chk_file_decode(p, n, NULL, NULL, &c, &canon, &fp, &err) != LK_OK)
        goto out;
    chk_chunk_check_blocks(c, NULL, &err);
    chk_decoded d = { 0 };
    for (size_t i = 0; i < chk_chunk_nblocks(c); i++) {
        const chk_block *b = chk_chunk_block(c, i);
        if (chk_block_decode(b, &d, &err) == LK_OK &&
            d.n != chk_block_get_info(b)->entries)
            LK_BUG("decoded %zu entries, index says %u", d.n, chk_block_get_info(b)->entries);
        chk_filter_may_contain(b, LK_STR(" error "));
    }
    chk_decoded_free(&d);
    if (chk_file_encode(c, lk_buf_str(&canon), fp, &again) != LK_OK)
        LK_BUG("a decoded chunk does not encode");
    if (again.len != n || memcmp(again.p, p, n) != 0)
        LK_BUG("chunk file round trip differs");
out:
    chk_chunk_free(c);
    lk_buf_free(&canon);
    lk_buf_free(&err);
    lk_buf_free(&again);
}

typedef struct claim {
    chk_block_info info;
    const uint8_t *rest;
    size_t rest_len;
} claim;

static bool read_claim(const uint8_t *p, size_t n, claim *c)
{
    if (n < 24)
        return false;
    memset(c, 0, sizeof(*c));
    c->info.entries = codec_get_le32(p) % 4096;
    c->info.raw_len = codec_get_le32(p + 4) % (1u << 20);
    c->info.mint = (int64_t)codec_get_le64(p + 8);
    c->info.maxt = (int64_t)codec_get_le64(p + 16);
    c->rest = p + 24;
    c->rest_len = n - 24;
    return true;
}

static void fuzz_block(const uint8_t *p, size_t n)
{
    claim c;
    if (!read_claim(p, n, &c) || c.rest_len == 0 || c.rest_len > UINT32_MAX)
        return;
    uint8_t *copy = lk_memdup(c.rest, c.rest_len);
    c.info.comp_len = (uint32_t)c.rest_len;
    c.info.crc = lk_crc32c(0, copy, c.rest_len);
    chk_backing *bk = chk_backing_new(copy, c.rest_len, NULL, NULL);
    chk_block *b = chk_block_wrap(&c.info, copy, NULL, 0, bk);
    chk_backing_unref(bk);
    chk_decoded d = { 0 };
    lk_buf err = { 0 };
    if (chk_block_decode(b, &d, &err) == LK_OK && d.n != c.info.entries)
        LK_BUG("entry count");
    chk_decoded_free(&d);
    lk_buf_free(&err);
    chk_block_unref(b);
    free(copy);
}

static void fuzz_payload(const uint8_t *p, size_t n)
{
    claim c;
    if (!read_claim(p, n, &c))
        return;
    chk_decoded d = { 0 };
    d.raw = lk_memdup(c.rest, c.rest_len);
    d.raw_len = d.raw_cap = c.rest_len;
    if (chk_parse_payload(&d, c.info.entries, c.info.mint, c.info.maxt, NULL) == LK_OK) {
        for (size_t i = 1; i < d.n; i++) {
            if (d.e[i].ts < d.e[i - 1].ts)
                LK_BUG("parsed entries out of order");
        }
    }
    chk_decoded_free(&d);
}

static void fuzz_cols(const uint8_t *p, size_t n)
{
    claim c;
    if (!read_claim(p, n, &c) || c.rest_len < 16 || c.rest_len - 16 > UINT32_MAX)
        return;
    c.info.format = CHK_FORMAT_COLS;
    c.info.line_bytes = (int64_t)(codec_get_le64(c.rest) % (1u << 20));
    c.info.meta_bytes = (int64_t)(codec_get_le64(c.rest + 8) % (1u << 20));
    size_t len = c.rest_len - 16;
    uint8_t *copy = lk_malloc(len + 1);
    memcpy(copy, c.rest + 16, len);
    c.info.comp_len = (uint32_t)len;
    c.info.crc = lk_crc32c(0, copy, len);
    chk_backing *bk = chk_backing_new(copy, len, NULL, NULL);
    chk_block *b = chk_block_wrap(&c.info, copy, NULL, 0, bk);
    chk_backing_unref(bk);
    chk_decoded all = { 0 }, d = { 0 };
    bool whole = chk_block_decode(b, &all, NULL) == LK_OK;
    if (whole && all.n != c.info.entries)
        LK_BUG("entry count");
    for (unsigned cols = 0; cols < CHK_COL_ALL; cols++) {
        if (chk_block_decode_cols(b, cols, &d, NULL) != LK_OK)
            continue;
        if (d.n != c.info.entries)
            LK_BUG("entry count of a partial decode");
        for (size_t i = 0; whole && i < d.n; i++) {
            if (d.e[i].ts != all.e[i].ts)
                LK_BUG("a partial decode's timestamps differ");
        }
    }
    chk_decoded_free(&all);
    chk_decoded_free(&d);
    chk_block_unref(b);
    free(copy);
}

static void fuzz_filter(const uint8_t *p, size_t n)
{
    const uint8_t *sep = memchr(p, 0xff, n);
    size_t fl = sep ? (size_t)(sep - p) : n;
    lk_str f = lk_str_n((const char *)p, fl);
    lk_str needle = sep ? lk_str_n((const char *)sep + 1, n - fl - 1) : LK_STR_NULL;
    chk_filter_check(f, needle);
}

/* Appends: per entry 1 byte of ts delta (signed), 1 byte of line length,
 * then the line. Every line read back must be found by the filter. */
static void fuzz_head(const uint8_t *p, size_t n)
{
    chk_head *h = chk_head_new();
    int64_t ts = 0;
    size_t i = 0;
    while (i + 2 <= n) {
        ts += (int8_t)p[i];
        size_t len = p[i + 1];
        i += 2;
        if (len > n - i)
            len = n - i;
        lk_entry e = { .ts = ts, .line = lk_str_n((const char *)p + i, len) };
        if (chk_head_append(h, &e) < 0)
            LK_BUG("append refused");
        i += len;
    }
    if (chk_head_len(h) == 0)
        goto out;
    chk_block *b;
    if (chk_block_from_head(h, &b) != LK_OK)
        LK_BUG("block from head");
    chk_decoded want = { 0 }, got = { 0 };
    chk_head_snapshot(h, INT64_MIN, INT64_MAX, &want);
    if (chk_block_decode(b, &got, NULL) != LK_OK || got.n != want.n)
        LK_BUG("block does not decode to its head");
    for (size_t k = 0; k < got.n; k++) {
        if (got.e[k].ts != want.e[k].ts || !lk_str_eq(got.e[k].line, want.e[k].line))
            LK_BUG("entry %zu differs", k);
        if (!chk_filter_may_contain(b, got.e[k].line))
            LK_BUG("filter false negative");
    }
    chk_decoded_free(&want);
    chk_decoded_free(&got);
    chk_block_unref(b);
out:
    chk_head_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lk_log_min_level = LK_LOG_ERROR;
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 6) {
    case 0:
        fuzz_file(p, n);
        break;
    case 1:
        fuzz_block(p, n);
        break;
    case 2:
        fuzz_payload(p, n);
        break;
    case 3:
        fuzz_filter(p, n);
        break;
    case 4:
        fuzz_head(p, n);
        break;
    default:
        fuzz_cols(p, n);
        break;
    }
    return 0;
}
