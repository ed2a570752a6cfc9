/* The chunk file: a closed chunk serialised, self-describing (it carries its
 * stream's labels and fingerprint), readable block by block.
 *
 * All integers are little-endian, fixed width. Offsets are from the start of
 * the file. A file is, in order: header, block payloads, block index, footer.
 *
 * Two versions: 1, whose payloads are format 1 (block.c: one snappy
 * stream of interleaved entries), written before the column format and
 * still read; and 2, written now, whose payloads are format 2 (columns.c:
 * each column compressed on its own, its codec named in the payload).
 *
 * Header (H = 44 + N bytes)
 *   0   4  magic "LKCH"
 *   4   1  version: 1 or 2
 *   5   1  encoding of the payloads: version 1, 1 = snappy; version 2, 0
 *          (each column names its codec)
 *   6   2  flags: 0 (no flag is defined; a reader rejects others)
 *   8   8  fingerprint of the stream (XXH3-64 of the canonical labels)
 *  16   8  mint: earliest entry timestamp (Unix ns, signed)
 *  24   8  maxt: latest entry timestamp
 *  32   4  entry count (sum over the blocks)
 *  36   4  block count B (at least 1)
 *  40   4  N, length of the canonical labels
 *  44   N  canonical labels, e.g. {app="api", env="prod"}
 *
 * Block payloads, from offset H: the B compressed payloads (format in
 * block.c) back to back, in block order, with nothing between them.
 *
 * Block index, from offset I = H + sum of the compressed lengths: B records
 * of R + F bytes (R = 44 in version 1, 60 in version 2), in block order
 *   0   8  offset of the payload
 *   8   4  compressed length (at least 1)
 *  12   4  raw (uncompressed) length
 *  16   8  mint of the block
 *  24   8  maxt of the block
 *  32   4  entry count (at least 1)
 *  36   4  CRC32C of the compressed payload
 *  version 1:
 *  40   4  F, token filter length (0: none)
 *  44   F  token filter (format in filter.c)
 *  version 2:
 *  40   8  sum of the entries' line lengths (signed, >= 0)
 *  48   8  sum of their metadata name and value lengths (signed, >= 0)
 *  56   4  F, token filter length (0: none)
 *  60   F  token filter
 *
 * With the counts and byte sums in the index, a query over a window that
 * covers a whole block knows its count and bytes without its payload.
 *
 * Footer (the last 16 bytes)
 *   0   8  I, offset of the block index
 *   8   4  magic "LKCF"
 *  12   4  CRC32C of the header, then the block index, then footer bytes
 *          0..11, chained in that order
 *
 * The footer CRC covers everything but the payloads, which have their own
 * CRC in the index (itself covered by the footer CRC): a reader opens a file
 * by reading header, index and footer only, and a damaged payload costs that
 * block alone. A file is valid when both magics match, the footer CRC
 * matches, version, encoding and flags are known, the index records exactly
 * fill [I, end - 16), the payloads exactly fill [H, I) in order, every
 * record has mint <= maxt, entries >= 1 and raw length <= 1 GiB, and the
 * header's mint, maxt and entry count are the blocks' minimum, maximum and
 * sum. A block is valid when its payload matches its CRC and decodes
 * (block.c). */
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "storage/chunk.h"
#include "storage/chunk_int.h"
#include "storage/chunkref.h"
#include "storage/codec.h"

#define FILE_MAGIC "LKCH"
#define FOOTER_MAGIC "LKCF"
#define ENC_SNAPPY 1   /* version 1 */
#define ENC_COLUMNS 0  /* version 2 */
#define HDR_FIXED 44
#define REC_FIXED_V1 44
#define REC_FIXED_V2 60
#define FOOTER_LEN 16

/* ---- encoding */

static void put_header(const chk_chunk *c, lk_str canonical, uint64_t fp, uint32_t entries,
                       uint8_t version, lk_buf *out)
{
    uint8_t h[HDR_FIXED];
    memcpy(h, FILE_MAGIC, 4);
    h[4] = version;
    h[5] = version == 1 ? ENC_SNAPPY : ENC_COLUMNS;
    h[6] = h[7] = 0;
    codec_put_le64(h + 8, fp);
    codec_put_le64(h + 16, (uint64_t)chk_chunk_mint(c));
    codec_put_le64(h + 24, (uint64_t)chk_chunk_maxt(c));
    codec_put_le32(h + 32, entries);
    codec_put_le32(h + 36, (uint32_t)chk_chunk_nblocks(c));
    codec_put_le32(h + 40, (uint32_t)canonical.len);
    lk_buf_append(out, h, sizeof(h));
    lk_buf_put_str(out, canonical);
}

static void put_record(const chk_block *b, uint64_t off, uint8_t version, lk_buf *out)
{
    const chk_block_info *in = chk_block_get_info(b);
    lk_str f = chk_block_filter(b);
    uint8_t r[REC_FIXED_V2];
    codec_put_le64(r, off);
    codec_put_le32(r + 8, in->comp_len);
    codec_put_le32(r + 12, in->raw_len);
    codec_put_le64(r + 16, (uint64_t)in->mint);
    codec_put_le64(r + 24, (uint64_t)in->maxt);
    codec_put_le32(r + 32, in->entries);
    codec_put_le32(r + 36, in->crc);
    size_t len = REC_FIXED_V1;
    if (version == 2) {
        codec_put_le64(r + 40, (uint64_t)in->line_bytes);
        codec_put_le64(r + 48, (uint64_t)in->meta_bytes);
        len = REC_FIXED_V2;
    }
    codec_put_le32(r + len - 4, (uint32_t)f.len);
    lk_buf_append(out, r, len);
    lk_buf_put_str(out, f);
}

/* The file version of c's blocks (their format); 0 when they mix formats. */
static uint8_t version_of(const chk_chunk *c)
{
    uint32_t f = chk_block_get_info(chk_chunk_block(c, 0))->format;
    for (size_t i = 1; i < chk_chunk_nblocks(c); i++)
        if (chk_block_get_info(chk_chunk_block(c, i))->format != f)
            return 0;
    return f == CHK_FORMAT_COLS ? 2 : 1;
}

int chk_file_encode(const chk_chunk *c, lk_str canonical, uint64_t fp, lk_buf *out)
{
    size_t nb = chk_chunk_nblocks(c);
    if (!chk_chunk_closed(c) || nb == 0 || nb > UINT32_MAX || canonical.len > UINT32_MAX ||
        chk_chunk_entries(c) > UINT32_MAX)
        return LK_EINVAL;
    uint8_t version = version_of(c);
    if (version == 0)
        return LK_EINVAL;
    size_t base = out->len;
    put_header(c, canonical, fp, (uint32_t)chk_chunk_entries(c), version, out);
    size_t hdr_end = out->len;
    uint32_t crc = lk_crc32c(0, out->p + base, hdr_end - base);

    for (size_t i = 0; i < nb; i++)
        lk_buf_put_str(out, chk_block_payload(chk_chunk_block(c, i)));
    size_t index_off = out->len;
    uint64_t off = hdr_end - base;
    for (size_t i = 0; i < nb; i++) {
        const chk_block *b = chk_chunk_block(c, i);
        put_record(b, off, version, out);
        off += chk_block_get_info(b)->comp_len;
    }
    crc = lk_crc32c(crc, out->p + index_off, out->len - index_off);

    uint8_t f[FOOTER_LEN];
    codec_put_le64(f, index_off - base);
    memcpy(f + 8, FOOTER_MAGIC, 4);
    crc = lk_crc32c(crc, f, 12);
    codec_put_le32(f + 12, crc);
    lk_buf_append(out, f, sizeof(f));
    return 0;
}

/* ---- decoding */

typedef struct file_view {
    const uint8_t *p;
    size_t n;
    size_t hdr_len, index_off;
    uint32_t n_blocks;
    uint8_t version;
    size_t rec_fixed; /* index record length without its filter */
} file_view;

static int bad(lk_buf *err, const char *why)
{
    if (err)
        lk_buf_printf(err, "corrupt chunk file: %s", why);
    return LK_ECORRUPT;
}

/* Magic, lengths that locate the parts, and the footer CRC. */
static int check_frame(file_view *v, lk_buf *err)
{
    const uint8_t *p = v->p;
    if (v->n < HDR_FIXED + FOOTER_LEN || memcmp(p, FILE_MAGIC, 4) != 0)
        return bad(err, "not a chunk file (bad magic or too short)");
    const uint8_t *foot = p + v->n - FOOTER_LEN;
    if (memcmp(foot + 8, FOOTER_MAGIC, 4) != 0)
        return bad(err, "bad footer magic");
    uint64_t labels_len = codec_get_le32(p + 40);
    uint64_t index_off = codec_get_le64(foot);
    v->hdr_len = HDR_FIXED + (size_t)labels_len;
    if (v->hdr_len > v->n - FOOTER_LEN || index_off < v->hdr_len ||
        index_off > v->n - FOOTER_LEN)
        return bad(err, "header or index offset out of bounds");
    v->index_off = (size_t)index_off;
    uint32_t crc = lk_crc32c(0, p, v->hdr_len);
    crc = lk_crc32c(crc, p + v->index_off, v->n - FOOTER_LEN - v->index_off);
    crc = lk_crc32c(crc, foot, 12);
    if (crc != codec_get_le32(foot + 12))
        return bad(err, "header/index checksum mismatch");
    return 0;
}

static int check_header(file_view *v, lk_buf *err)
{
    const uint8_t *p = v->p;
    v->version = p[4];
    v->rec_fixed = p[4] == 2 ? REC_FIXED_V2 : REC_FIXED_V1;
    bool known = (p[4] == 1 && p[5] == ENC_SNAPPY) || (p[4] == 2 && p[5] == ENC_COLUMNS);
    if (!known || p[6] || p[7]) {
        if (err)
            lk_buf_printf(err, "unsupported chunk file: version %u, encoding %u, flags %u",
                          p[4], p[5], (unsigned)(p[6] | p[7] << 8));
        return LK_EUNSUPPORTED;
    }
    v->n_blocks = codec_get_le32(p + 36);
    if (v->n_blocks == 0)
        return bad(err, "no blocks");
    return 0;
}

typedef struct rec {
    chk_block_info info;
    uint64_t off;
    const uint8_t *filter;
    uint32_t filter_len;
} rec;

/* Reads index record i at *pos; checks it against the running payload
 * offset *expect. */
static int read_record(const file_view *v, size_t *pos, uint64_t *expect, rec *r, lk_buf *err)
{
    size_t end = v->n - FOOTER_LEN;
    if (end - *pos < v->rec_fixed)
        return bad(err, "block index truncated");
    const uint8_t *q = v->p + *pos;
    r->off = codec_get_le64(q);
    r->info.comp_len = codec_get_le32(q + 8);
    r->info.raw_len = codec_get_le32(q + 12);
    r->info.mint = (int64_t)codec_get_le64(q + 16);
    r->info.maxt = (int64_t)codec_get_le64(q + 24);
    r->info.entries = codec_get_le32(q + 32);
    r->info.crc = codec_get_le32(q + 36);
    r->info.format = CHK_FORMAT_V1;
    r->info.line_bytes = r->info.meta_bytes = -1;
    if (v->version == 2) {
        r->info.format = CHK_FORMAT_COLS;
        r->info.line_bytes = (int64_t)codec_get_le64(q + 40);
        r->info.meta_bytes = (int64_t)codec_get_le64(q + 48);
    }
    r->filter_len = codec_get_le32(q + v->rec_fixed - 4);
    *pos += v->rec_fixed;
    if (r->filter_len > end - *pos)
        return bad(err, "block filter past the end of the index");
    r->filter = v->p + *pos;
    *pos += r->filter_len;
    if (r->off != *expect || r->info.comp_len == 0 ||
        r->info.comp_len > v->index_off - r->off)
        return bad(err, "block payload offsets do not tile the file");
    if (r->info.mint > r->info.maxt || r->info.entries == 0 || r->info.raw_len > CHK_MAX_RAW)
        return bad(err, "bad block bounds in the index");
    if (v->version == 2 && (r->info.line_bytes < 0 || r->info.meta_bytes < 0 ||
                            r->info.line_bytes > r->info.raw_len))
        return bad(err, "bad block byte sums in the index");
    *expect += r->info.comp_len;
    return 0;
}

/* Walks the index: every record valid, payloads tiling [H, I), records
 * filling [I, end - 16), header totals matching. recs may be NULL. */
static int check_index(const file_view *v, rec *recs, lk_buf *err)
{
    size_t pos = v->index_off;
    uint64_t expect = v->hdr_len, entries = 0;
    int64_t mint = INT64_MAX, maxt = INT64_MIN;
    for (uint32_t i = 0; i < v->n_blocks; i++) {
        rec r;
        int rc = read_record(v, &pos, &expect, &r, err);
        if (rc != 0)
            return rc;
        entries += r.info.entries;
        mint = r.info.mint < mint ? r.info.mint : mint;
        maxt = r.info.maxt > maxt ? r.info.maxt : maxt;
        if (recs)
            recs[i] = r;
    }
    if (pos != v->n - FOOTER_LEN || expect != v->index_off)
        return bad(err, "block index does not match the file layout");
    const uint8_t *p = v->p;
    if ((int64_t)codec_get_le64(p + 16) != mint || (int64_t)codec_get_le64(p + 24) != maxt ||
        codec_get_le32(p + 32) != entries)
        return bad(err, "header totals do not match the blocks");
    return 0;
}

static void free_copy(void *ctx, const void *p, size_t n)
{
    (void)ctx;
    (void)n;
    free((void *)p);
}

static int validate(file_view *v, lk_buf *err)
{
    int rc = check_frame(v, err);
    if (rc == 0)
        rc = check_header(v, err);
    /* bounds the allocation below by the file size */
    if (rc == 0 && (size_t)v->n_blocks > (v->n - FOOTER_LEN - v->index_off) / v->rec_fixed)
        rc = bad(err, "block count larger than the index");
    if (rc == 0)
        rc = check_index(v, NULL, err);
    return rc;
}

int chk_file_decode(const void *p, size_t n, chk_release_fn release, void *ctx,
                    chk_chunk **out, lk_buf *canonical, uint64_t *fp, lk_buf *err)
{
    file_view v = { .p = p, .n = n };
    int rc = validate(&v, err);
    if (rc != 0)
        return rc;

    chk_backing *bk;
    if (release) {
        bk = chk_backing_new(p, n, release, ctx);
    } else {
        v.p = lk_memdup(p, n);
        bk = chk_backing_new(v.p, n, free_copy, NULL);
    }
    rec *recs = lk_malloc(v.n_blocks * sizeof(*recs));
    if (check_index(&v, recs, err) != 0)
        LK_BUG("chunk file index changed between two reads");
    chk_chunk *c = chk_chunk_new_closed();
    for (uint32_t i = 0; i < v.n_blocks; i++)
        chk_chunk_add_block(c, chk_block_wrap(&recs[i].info, v.p + recs[i].off, recs[i].filter,
                                              recs[i].filter_len, bk));
    free(recs);
    chk_backing_unref(bk); /* the blocks hold it now */

    if (canonical)
        lk_buf_append(canonical, v.p + HDR_FIXED, v.hdr_len - HDR_FIXED);
    if (fp)
        *fp = codec_get_le64(v.p + 8);
    *out = c;
    return 0;
}

/* The fixed header fields and labels (in bounds, nothing else checked). */
static void get_info(const file_view *v, chk_file_info *out)
{
    const uint8_t *p = v->p;
    out->fp = codec_get_le64(p + 8);
    out->mint = (int64_t)codec_get_le64(p + 16);
    out->maxt = (int64_t)codec_get_le64(p + 24);
    out->entries = codec_get_le32(p + 32);
    out->canonical = lk_str_n((const char *)p + HDR_FIXED, v->hdr_len - HDR_FIXED);
    out->crc = chk_file_crc(lk_str_n((const char *)p, v->n));
}

int chk_file_info_get(const void *p, size_t n, chk_file_info *out, lk_buf *err)
{
    file_view v = { .p = p, .n = n };
    int rc = validate(&v, err);
    if (rc == 0)
        get_info(&v, out);
    return rc;
}

int chk_file_info_peek(const void *p, size_t n, chk_file_info *out)
{
    file_view v = { .p = p, .n = n };
    if (n < HDR_FIXED || memcmp(p, FILE_MAGIC, 4) != 0)
        return LK_ECORRUPT;
    v.hdr_len = HDR_FIXED + (size_t)codec_get_le32(v.p + 40);
    if (v.hdr_len > n)
        return LK_ECORRUPT;
    get_info(&v, out);
    return 0;
}

int chk_chunk_check_blocks(const chk_chunk *c, size_t *n_bad, lk_buf *err)
{
    size_t nb = chk_chunk_nblocks(c), bad_blocks = 0;
    for (size_t i = 0; i < nb; i++) {
        if (chk_block_crc_ok(chk_chunk_block(c, i)))
            continue;
        if (err)
            lk_buf_printf(err, "%sblock %zu of %zu: checksum mismatch", bad_blocks ? "; " : "", i,
                          nb);
        bad_blocks++;
    }
    if (n_bad)
        *n_bad = bad_blocks;
    return bad_blocks ? LK_ECORRUPT : 0;
}
