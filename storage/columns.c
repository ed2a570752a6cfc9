/* The column payload of a block (format 2): a block's entries split into
 * four columns, each compressed on its own, so that a count reads only the
 * timestamps, a byte sum the line lengths, and the lines are decompressed
 * only for queries that look at them.
 *
 * Payload (CRC32C, in the block index, is over all of it):
 *
 *   header, 4 descriptors of 9 bytes, in column order (ts, len, line, meta):
 *     0   1  codec of the column (storage/compress.h: 0 none, 1 snappy,
 *            2 gzip, 3 lz4, 4 zstd)
 *     1   4  stored length S (little-endian)
 *     5   4  raw (decompressed) length R
 *   36    the 4 stored columns back to back, in that order
 *
 * Raw columns:
 *   ts    per entry, varint zigzag(ts - previous ts) modulo 2^64, the
 *         first entry's previous ts being the block's mint (delta 0)
 *   len   per entry, uvarint line length
 *   line  the lines back to back (R = the sum of the lengths)
 *   meta  empty when no entry has structured metadata; else a dictionary
 *         of the distinct metadata sets of the block: uvarint K, then K
 *         sets, each as storage/codec.h encodes an entry's metadata (pair
 *         count, then length-prefixed names and values; an entry without
 *         metadata has the set of 0 pairs); then per entry a uvarint index
 *         below K. Loki 3 adds detected_level to every entry, so a block
 *         usually holds a handful of sets and the column a byte per entry
 *         before compression.
 *
 * Varints are Go's encoding/binary. A payload is valid when the header's
 * stored lengths exactly fill the payload, the raw lengths add up to the
 * block's raw_len and each stays below CHK_MAX_RAW, every column read
 * decompresses to exactly its raw length and holds exactly `entries`
 * values with nothing after them, timestamps never decrease from mint to
 * maxt, the lengths add up to the line column's raw length and to the
 * block's line_bytes, metadata indexes are below K, and the metadata bytes
 * add up to the block's meta_bytes. */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/mem.h"
#include "storage/chunk.h"
#include "storage/chunk_int.h"
#include "storage/codec.h"
#include "storage/compress.h"

enum { COL_TS, COL_LEN, COL_LINE, COL_META, N_COLS };
#define DESC_LEN 9
#define HDR_LEN (N_COLS * DESC_LEN)

/* ---- encoding */

/* The metadata dictionary being built: open addressing over set bytes. */
typedef struct dict {
    uint32_t *slot; /* set index + 1; 0: empty */
    size_t mask;
    lk_str *sets;
    size_t n, cap;
} dict;

static uint32_t dict_index(dict *d, lk_str enc)
{
    uint64_t h = labels_hash(enc);
    for (size_t i = h & d->mask;; i = (i + 1) & d->mask) {
        uint32_t s = d->slot[i];
        if (s == 0) {
            d->sets = lk_grow(d->sets, &d->cap, d->n + 1, sizeof(*d->sets));
            d->sets[d->n] = enc;
            d->slot[i] = (uint32_t)++d->n;
            return (uint32_t)(d->n - 1);
        }
        if (lk_str_eq(d->sets[s - 1], enc))
            return s - 1;
    }
}

static void put_uv(lk_buf *b, uint64_t v)
{
    lk_buf_reserve(b, CODEC_MAX_VARINT);
    b->len += codec_put_uvarint((uint8_t *)b->p + b->len, v);
}

/* The meta column of the head's entries (left empty when none has any);
 * their metadata name/value bytes in *meta_bytes. */
static void encode_meta(const chk_head *h, lk_buf *col, int64_t *meta_bytes)
{
    size_t n = chk_head_len(h);
    static const char none[1] = { 0 };
    dict d = { 0 };
    uint32_t *idx = lk_malloc(n * sizeof(*idx));
    size_t cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    d.slot = lk_calloc(cap, sizeof(*d.slot));
    d.mask = cap - 1;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        int64_t ts;
        lk_str line, enc;
        chk_head_entry(h, i, &ts, &line, &enc);
        if (enc.len == 0)
            enc = lk_str_n(none, 1);
        else
            any = true;
        idx[i] = dict_index(&d, enc);
    }
    *meta_bytes = 0;
    if (any) {
        int64_t *set_bytes = lk_calloc(d.n, sizeof(*set_bytes));
        put_uv(col, d.n);
        for (size_t k = 0; k < d.n; k++) {
            lk_buf_put_str(col, d.sets[k]);
            /* name/value bytes: the set's length less its length prefixes */
            const uint8_t *p = (const uint8_t *)d.sets[k].p, *end = p + d.sets[k].len;
            uint64_t count, len;
            codec_get_uvarint(&p, end, &count);
            for (uint64_t j = 0; j < 2 * count; j++) {
                codec_get_uvarint(&p, end, &len);
                p += len;
                set_bytes[k] += (int64_t)len;
            }
        }
        for (size_t i = 0; i < n; i++) {
            put_uv(col, idx[i]);
            *meta_bytes += set_bytes[idx[i]];
        }
        free(set_bytes);
    }
    free(idx);
    free(d.slot);
    free(d.sets);
}

void chk_cols_encode(const chk_head *h, int codec, lk_buf *out, chk_block_info *info)
{
    size_t n = chk_head_len(h);
    lk_buf col[N_COLS] = { { 0 } };
    int64_t prev = chk_head_mint(h), line_bytes = 0;
    lk_buf_reserve(&col[COL_TS], n * 2);
    for (size_t i = 0; i < n; i++) {
        int64_t ts;
        lk_str line, enc;
        chk_head_entry(h, i, &ts, &line, &enc);
        put_uv(&col[COL_TS], codec_zigzag(codec_ts_delta(ts, prev)));
        prev = ts;
        put_uv(&col[COL_LEN], line.len);
        lk_buf_put_str(&col[COL_LINE], line);
        line_bytes += (int64_t)line.len;
    }
    encode_meta(h, &col[COL_META], &info->meta_bytes);

    out->len = 0;
    lk_buf_reserve(out, HDR_LEN);
    out->len = HDR_LEN;
    size_t raw = 0;
    for (int c = 0; c < N_COLS; c++) {
        size_t start = out->len;
        chk_codec used = chk_compress((chk_codec)codec, (const uint8_t *)col[c].p, col[c].len, out);
        uint8_t *d = (uint8_t *)out->p + c * DESC_LEN;
        d[0] = (uint8_t)used;
        codec_put_le32(d + 1, (uint32_t)(out->len - start));
        codec_put_le32(d + 5, (uint32_t)col[c].len);
        raw += col[c].len;
        lk_buf_free(&col[c]);
    }
    if (raw > CHK_MAX_RAW || out->len > UINT32_MAX)
        LK_BUG("block of %zu raw bytes, too big", raw);
    info->raw_len = (uint32_t)raw;
    info->comp_len = (uint32_t)out->len;
    info->line_bytes = line_bytes;
    info->format = CHK_FORMAT_COLS;
}

/* ---- decoding */

typedef struct col_desc {
    chk_codec codec;
    const uint8_t *stored;
    uint32_t stored_len, raw_len;
    const uint8_t *raw; /* once decompressed */
} col_desc;

static const char *read_header(const chk_block_info *in, const uint8_t *p, col_desc *c)
{
    if (in->comp_len < HDR_LEN)
        return "column header truncated";
    size_t off = HDR_LEN, raw = 0;
    for (int i = 0; i < N_COLS; i++) {
        const uint8_t *q = p + i * DESC_LEN;
        c[i].codec = (chk_codec)q[0];
        c[i].stored_len = codec_get_le32(q + 1);
        c[i].raw_len = codec_get_le32(q + 5);
        if (c[i].stored_len > in->comp_len - off || c[i].raw_len > CHK_MAX_RAW)
            return "column lengths out of bounds";
        c[i].stored = p + off;
        off += c[i].stored_len;
        raw += c[i].raw_len;
    }
    if (off != in->comp_len || raw != in->raw_len)
        return "column lengths do not fill the block";
    return NULL;
}

/* Decompresses the columns `want` (bits by column) into d->raw. */
static const char *inflate_cols(chk_decoded *d, col_desc *c, unsigned want)
{
    size_t need = 1;
    for (int i = 0; i < N_COLS; i++)
        if (want & (1u << i))
            need += c[i].raw_len;
    if (d->raw_cap < need) {
        free(d->raw);
        d->raw_cap = need;
        d->raw = lk_malloc(need);
    }
    size_t off = 0;
    for (int i = 0; i < N_COLS; i++) {
        if (!(want & (1u << i)))
            continue;
        uint8_t *dst = (uint8_t *)d->raw + off;
        if (chk_decompress(&d->zstd, c[i].codec, c[i].stored, c[i].stored_len, dst,
                           c[i].raw_len) != LK_OK)
            return "column does not decompress";
        c[i].raw = dst;
        off += c[i].raw_len;
    }
    d->raw_len = off;
    d->raw[off] = '\0';
    return NULL;
}

static const char *decode_ts(chk_decoded *d, const chk_block_info *in, const col_desc *c)
{
    const uint8_t *p = c->raw, *end = p + c->raw_len;
    int64_t prev = in->mint;
    for (uint32_t i = 0; i < in->entries; i++) {
        uint64_t zz;
        if (codec_get_uvarint(&p, end, &zz) < 0)
            return "truncated timestamp";
        int64_t ts = codec_ts_add(prev, codec_unzigzag(zz));
        if (ts < prev)
            return "timestamp out of order or outside the block's range";
        d->e[i] = (lk_entry){ .ts = ts };
        prev = ts;
    }
    if (p != end)
        return "bytes after the last timestamp";
    if (prev != in->maxt)
        return "last timestamp is not the block's maxt";
    return NULL;
}

/* Line lengths, and with line the lines. */
static const char *decode_lines(chk_decoded *d, const chk_block_info *in, const col_desc *lens,
                                const col_desc *line, uint32_t line_raw)
{
    const uint8_t *p = lens->raw, *end = p + lens->raw_len;
    const char *at = line ? (const char *)line->raw : NULL;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < in->entries; i++) {
        uint64_t len;
        if (codec_get_uvarint(&p, end, &len) < 0 || len > CHK_MAX_RAW)
            return "truncated line length";
        d->e[i].line = lk_str_n(at ? at + sum : NULL, (size_t)len);
        sum += len;
    }
    if (p != end)
        return "bytes after the last line length";
    if (sum != line_raw || (int64_t)sum != in->line_bytes)
        return "line lengths do not add up to the lines";
    return NULL;
}

/* The dictionary's K sets into d->meta, set k's pairs from d->sets[k]
 * (d->sets[K] is the end). */
static const char *decode_sets(chk_decoded *d, const uint8_t **pp, const uint8_t *end,
                               uint64_t k)
{
    d->sets = lk_grow(d->sets, &d->sets_cap, (size_t)k + 1, sizeof(*d->sets));
    for (uint64_t s = 0; s < k; s++) {
        uint64_t count;
        d->sets[s] = d->n_meta;
        if (codec_get_uvarint(pp, end, &count) < 0 || count > (uint64_t)(end - *pp) / 2)
            return "bad metadata count";
        d->meta = lk_grow(d->meta, &d->meta_cap, d->n_meta + (size_t)count, sizeof(*d->meta));
        for (uint64_t j = 0; j < count; j++) {
            lk_str nv[2];
            for (int x = 0; x < 2; x++) {
                uint64_t len;
                if (codec_get_uvarint(pp, end, &len) < 0 || len > (uint64_t)(end - *pp))
                    return "metadata length past the end";
                nv[x] = lk_str_n((const char *)*pp, (size_t)len);
                *pp += len;
            }
            d->meta[d->n_meta++] = (lk_label){ nv[0], nv[1] };
        }
    }
    d->sets[k] = d->n_meta;
    return NULL;
}

static const char *decode_meta(chk_decoded *d, const chk_block_info *in, const col_desc *c)
{
    d->n_meta = 0;
    if (c->raw_len == 0)
        return in->meta_bytes > 0 ? "metadata column missing" : NULL;
    const uint8_t *p = c->raw, *end = p + c->raw_len;
    uint64_t k;
    if (codec_get_uvarint(&p, end, &k) < 0 || k == 0 || k > (uint64_t)(end - p))
        return "bad metadata dictionary size";
    const char *why = decode_sets(d, &p, end, k);
    if (why)
        return why;
    int64_t bytes = 0;
    for (uint32_t i = 0; i < in->entries; i++) {
        uint64_t s;
        if (codec_get_uvarint(&p, end, &s) < 0 || s >= k)
            return "bad metadata index";
        size_t lo = d->sets[s], n = d->sets[s + 1] - lo;
        d->e[i].n_meta = n;
        d->e[i].meta = n ? &d->meta[lo] : NULL;
        for (size_t j = lo; j < lo + n; j++)
            bytes += (int64_t)(d->meta[j].name.len + d->meta[j].value.len);
    }
    if (p != end)
        return "bytes after the last metadata index";
    if (bytes != in->meta_bytes)
        return "metadata bytes do not match the block's";
    return NULL;
}

int chk_cols_decode(const chk_block_info *in, const uint8_t *p, unsigned cols, chk_decoded *d,
                    lk_buf *err)
{
    col_desc c[N_COLS];
    d->n = 0;
    d->n_meta = 0;
    d->bytes = 0;
    d->raw_len = 0;
    if (cols & CHK_COL_LINE)
        cols |= CHK_COL_LEN;
    unsigned want = 1u << COL_TS | (cols & CHK_COL_LEN ? 1u << COL_LEN : 0) |
                    (cols & CHK_COL_LINE ? 1u << COL_LINE : 0) |
                    (cols & CHK_COL_META ? 1u << COL_META : 0);
    const char *why = read_header(in, p, c);
    /* an entry takes at least a byte of the ts column */
    if (!why && (in->entries == 0 || in->entries > c[COL_TS].raw_len || in->mint > in->maxt))
        why = "bad entry count or time range";
    if (!why)
        why = inflate_cols(d, c, want);
    if (why)
        return chk_block_corrupt(d, err, why);
    d->e = lk_grow(d->e, &d->e_cap, in->entries, sizeof(*d->e));
    why = decode_ts(d, in, &c[COL_TS]);
    if (!why && (cols & CHK_COL_LEN))
        why = decode_lines(d, in, &c[COL_LEN], cols & CHK_COL_LINE ? &c[COL_LINE] : NULL,
                           c[COL_LINE].raw_len);
    if (!why && (cols & CHK_COL_META))
        why = decode_meta(d, in, &c[COL_META]);
    if (why)
        return chk_block_corrupt(d, err, why);
    d->n = in->entries;
    d->bytes = in->line_bytes + in->meta_bytes;
    return 0;
}
