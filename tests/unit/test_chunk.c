/* Unit tests: the chunk codec (storage/chunk.h): head ordering and
 * deduplication, block round trips and corruption, chunk cut rules, the
 * chunk file format (round trip, every flipped byte, every truncation,
 * forged payloads with valid checksums) and the token filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "storage/chunk.h"
#include "storage/chunk_int.h"
#include "storage/codec.h"
#include "storage/compress.h"
#include "tests/unit/testutil.h"

/* ---- helpers */

static tst_rng rng = { 0x9e3779b97f4a7c15ull }; /* one sequence for the whole run */

static lk_entry ent(int64_t ts, const char *line)
{
    return (lk_entry){ .ts = ts, .line = lk_str_c(line) };
}

static void expect_entry(const lk_entry *e, int64_t ts, const char *line)
{
    assert_int_equal(e->ts, ts);
    assert_int_equal(e->line.len, strlen(line));
    assert_memory_equal(e->line.p, line, e->line.len);
}

static chk_block *block_of(const chk_head *h)
{
    chk_block *b = NULL;
    assert_int_equal(chk_block_from_head(h, &b), 0);
    return b;
}

static bool entries_equal(const lk_entry *a, const lk_entry *b)
{
    if (a->ts != b->ts || !lk_str_eq(a->line, b->line) || a->n_meta != b->n_meta)
        return false;
    for (size_t i = 0; i < a->n_meta; i++) {
        if (!lk_str_eq(a->meta[i].name, b->meta[i].name) ||
            !lk_str_eq(a->meta[i].value, b->meta[i].value))
            return false;
    }
    return true;
}

/* A closed chunk of nb blocks of per entries each. */
static chk_chunk *closed_chunk(int nb, int per)
{
    chk_chunk *c = chk_chunk_new();
    char buf[64];
    for (int b = 0; b < nb; b++) {
        for (int i = 0; i < per; i++) {
            snprintf(buf, sizeof(buf), "block %d entry %d status=200 path=/api/v1/x", b, i);
            lk_entry e = ent((int64_t)(b * per + i) * 1000, buf);
            assert_int_equal(chk_chunk_append(c, &e), 1);
        }
        chk_chunk_cut_block(c);
    }
    chk_chunk_close(c);
    return c;
}

/* ---- varints */

static void test_varint_extremes(void **state)
{
    (void)state;
    int64_t vals[] = { 0, 1, -1, 63, -64, 64, INT64_MAX, INT64_MIN, 1234567890123 };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint8_t b[CODEC_MAX_VARINT];
        size_t n = codec_put_uvarint(b, codec_zigzag(vals[i]));
        assert_int_equal(n, codec_uvarint_len(codec_zigzag(vals[i])));
        const uint8_t *p = b;
        uint64_t u;
        assert_int_equal(codec_get_uvarint(&p, b + n, &u), 0);
        assert_ptr_equal(p, b + n);
        assert_true(codec_unzigzag(u) == vals[i]);
        p = b;
        assert_int_equal(codec_get_uvarint(&p, b + n - 1, &u), -1); /* truncated */
    }
    /* 11 continuation bytes: overflow */
    uint8_t bad[11];
    memset(bad, 0xff, sizeof(bad));
    const uint8_t *p = bad;
    uint64_t u;
    assert_int_equal(codec_get_uvarint(&p, bad + sizeof(bad), &u), -1);
    /* deltas wrap modulo 2^64 and come back */
    assert_true(codec_ts_add(INT64_MIN, codec_ts_delta(INT64_MAX, INT64_MIN)) == INT64_MAX);
}

/* ---- head */

static void test_head_out_of_order(void **state)
{
    (void)state;
    chk_head *h = chk_head_new();
    lk_entry in[] = { ent(50, "e"), ent(10, "a"), ent(30, "c1"), ent(30, "c2"),
                      ent(20, "b"), ent(30, "c3"), ent(60, "f"), ent(10, "a2") };
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(chk_head_append(h, &in[i]), 1);
    assert_int_equal(chk_head_len(h), 8);
    assert_int_equal(chk_head_mint(h), 10);
    assert_int_equal(chk_head_maxt(h), 60);

    chk_decoded d = { 0 };
    chk_head_snapshot(h, INT64_MIN, INT64_MAX, &d);
    assert_int_equal(d.n, 8);
    /* sorted; equal timestamps keep arrival order */
    const char *want[] = { "a", "a2", "b", "c1", "c2", "c3", "e", "f" };
    int64_t wts[] = { 10, 10, 20, 30, 30, 30, 50, 60 };
    for (int i = 0; i < 8; i++)
        expect_entry(&d.e[i], wts[i], want[i]);

    /* a range: inclusive at both ends */
    chk_head_snapshot(h, 20, 50, &d);
    assert_int_equal(d.n, 5);
    expect_entry(&d.e[0], 20, "b");
    expect_entry(&d.e[4], 50, "e");
    chk_head_snapshot(h, 61, 100, &d);
    assert_int_equal(d.n, 0);
    chk_head_snapshot(h, 40, 30, &d);
    assert_int_equal(d.n, 0);

    /* bytes: line lengths */
    assert_int_equal(chk_head_bytes(h), 1 + 1 + 2 + 2 + 1 + 2 + 1 + 2);
    chk_head_reset(h);
    assert_int_equal(chk_head_len(h), 0);
    assert_int_equal(chk_head_bytes(h), 0);
    chk_decoded_free(&d);
    chk_head_free(h);
}

static void test_head_dedup(void **state)
{
    (void)state;
    chk_head *h = chk_head_new();
    lk_label m1[] = { { LK_STR("trace_id"), LK_STR("abc") } };
    lk_label m2[] = { { LK_STR("trace_id"), LK_STR("abd") } };
    lk_entry a = ent(5, "same line");
    lk_entry am1 = { .ts = 5, .line = LK_STR("same line"), .n_meta = 1, .meta = m1 };
    lk_entry am2 = { .ts = 5, .line = LK_STR("same line"), .n_meta = 1, .meta = m2 };
    lk_entry other = ent(5, "other line");
    lk_entry later = ent(6, "same line");

    assert_int_equal(chk_head_append(h, &a), 1);
    assert_int_equal(chk_head_append(h, &a), 0);      /* identical */
    assert_int_equal(chk_head_append(h, &other), 1);  /* same ts, other line: kept */
    assert_int_equal(chk_head_append(h, &am1), 1);    /* metadata differs */
    assert_int_equal(chk_head_append(h, &am1), 0);
    assert_int_equal(chk_head_append(h, &am2), 1);
    assert_int_equal(chk_head_append(h, &later), 1);
    assert_int_equal(chk_head_append(h, &a), 0);      /* out of order duplicate */
    assert_int_equal(chk_head_len(h), 5);
    /* bytes count line + metadata names and values */
    assert_int_equal(chk_head_bytes(h), 9 + 10 + (9 + 11) + (9 + 11) + 9);

    /* the last entry (matched as a duplicate) is a */
    int64_t ts;
    lk_str line, meta;
    assert_true(chk_head_last(h, &ts, &line, &meta));
    assert_int_equal(ts, 5);
    assert_true(lk_str_eq(line, LK_STR("same line")));
    assert_int_equal(meta.len, 0);
    assert_int_equal(chk_head_append(h, &am2), 0);
    assert_true(chk_head_last(h, &ts, &line, &meta));
    assert_true(codec_meta_eq(m2, 1, (const uint8_t *)meta.p, meta.len));
    assert_false(codec_meta_eq(m1, 1, (const uint8_t *)meta.p, meta.len));

    chk_decoded d = { 0 };
    chk_head_snapshot(h, 0, 10, &d);
    assert_int_equal(d.n, 5);
    assert_int_equal(d.e[2].n_meta, 1);
    assert_true(lk_str_eq(d.e[2].meta[0].value, LK_STR("abc")));
    assert_true(lk_str_eq(d.e[3].meta[0].value, LK_STR("abd")));
    assert_int_equal(d.bytes, chk_head_bytes(h));
    chk_decoded_free(&d);

    chk_head_reset(h);
    assert_false(chk_head_last(h, &ts, &line, &meta));
    chk_head_free(h);
    chk_head_free(NULL);
}

/* ---- blocks */

/* n random entries with random metadata, some sharing timestamps. */
static chk_head *random_head(int n, int64_t base)
{
    chk_head *h = chk_head_new();
    char line[300], names[4][16], values[4][40];
    for (int i = 0; i < n; i++) {
        size_t len = tst_rand(&rng) % 200;
        for (size_t k = 0; k < len; k++)
            line[k] = (char)(tst_rand(&rng) & 0xff);
        lk_label meta[4];
        size_t nm = tst_rand(&rng) % 5;
        for (size_t k = 0; k < nm; k++) {
            snprintf(names[k], sizeof(names[k]), "n%d", (int)(tst_rand(&rng) % 10));
            snprintf(values[k], sizeof(values[k]), "v%llu", (unsigned long long)tst_rand(&rng));
            meta[k] = (lk_label){ lk_str_c(names[k]), lk_str_c(values[k]) };
        }
        lk_entry e = { .ts = base + (int64_t)(tst_rand(&rng) % 1000), .line = lk_str_n(line, len),
                       .n_meta = nm, .meta = nm ? meta : NULL };
        assert_true(chk_head_append(h, &e) >= 0);
    }
    return h;
}

static void test_block_round_trip(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        int n = 1 + (int)(tst_rand(&rng) % 500);
        chk_head *h = random_head(n, (int64_t)(tst_rand(&rng) % 100000) - 50000);
        chk_block *b = block_of(h);
        const chk_block_info *in = chk_block_get_info(b);
        assert_int_equal(in->entries, chk_head_len(h));
        assert_int_equal(in->mint, chk_head_mint(h));
        assert_int_equal(in->maxt, chk_head_maxt(h));
        assert_int_equal(in->comp_len, chk_block_payload(b).len);
        assert_int_equal(in->crc, lk_crc32c(0, chk_block_payload(b).p, in->comp_len));
        assert_true(chk_block_crc_ok(b));

        chk_decoded want = { 0 }, got = { 0 };
        chk_head_snapshot(h, INT64_MIN, INT64_MAX, &want);
        assert_int_equal(chk_block_decode(b, &got, NULL), 0);
        assert_int_equal(got.n, want.n);
        assert_int_equal(got.raw_len, in->raw_len);
        assert_int_equal(got.bytes, chk_head_bytes(h));
        for (size_t i = 0; i < got.n; i++)
            assert_true(entries_equal(&got.e[i], &want.e[i]));
        /* decoding again into the same buffers gives the same */
        assert_int_equal(chk_block_decode(b, &got, NULL), 0);
        assert_int_equal(got.n, want.n);
        assert_int_equal(chk_decoded_lower_bound(&got, INT64_MIN), 0);
        assert_int_equal(chk_decoded_lower_bound(&got, INT64_MAX), got.n);
        chk_decoded_free(&want);
        chk_decoded_free(&got);
        chk_block_unref(b);
        chk_head_free(h);
    }
}

static void test_block_extreme_timestamps(void **state)
{
    (void)state;
    chk_head *h = chk_head_new();
    lk_entry in[] = { ent(INT64_MAX, "max"), ent(INT64_MIN, "min"), ent(0, "zero"),
                      ent(-1, "minus one") };
    for (int i = 0; i < 4; i++)
        assert_int_equal(chk_head_append(h, &in[i]), 1);
    chk_block *b = block_of(h);
    chk_decoded d = { 0 };
    assert_int_equal(chk_block_decode(b, &d, NULL), 0);
    assert_int_equal(d.n, 4);
    expect_entry(&d.e[0], INT64_MIN, "min");
    expect_entry(&d.e[1], -1, "minus one");
    expect_entry(&d.e[2], 0, "zero");
    expect_entry(&d.e[3], INT64_MAX, "max");
    chk_decoded_free(&d);
    chk_block_unref(b);
    chk_head_free(h);
}

static void test_block_empty_head(void **state)
{
    (void)state;
    chk_head *h = chk_head_new();
    chk_block *b = NULL;
    assert_int_equal(chk_block_from_head(h, &b), LK_EINVAL);
    assert_null(b);
    lk_entry e = ent(1, "");
    assert_int_equal(chk_head_append(h, &e), 1); /* an empty line is an entry */
    b = block_of(h);
    chk_decoded d = { 0 };
    assert_int_equal(chk_block_decode(b, &d, NULL), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.e[0].line.len, 0);
    chk_decoded_free(&d);
    chk_block_unref(b);
    chk_block_unref(NULL);
    chk_head_free(h);
}

/* ---- chunks */

static void test_chunk_cut_rules(void **state)
{
    (void)state;
    chk_limits lim = { .block_size = 100, .target_size = 0, .max_age_ns = 1000 };
    chk_chunk *c = chk_chunk_new();
    assert_true(chk_chunk_empty(c));
    assert_false(chk_chunk_full(c, &lim, 0)); /* empty: never full */
    lk_entry e = ent(100, "0123456789012345678901234567890123456789012345678901234567890123");
    assert_int_equal(chk_chunk_append(c, &e), 1);
    assert_false(chk_chunk_head_full(c, &lim));
    e.ts = 101;
    assert_int_equal(chk_chunk_append(c, &e), 1);
    assert_true(chk_chunk_head_full(c, &lim)); /* 128 bytes >= 100 */
    assert_int_equal(chk_chunk_mint(c), 100);
    assert_int_equal(chk_chunk_maxt(c), 101);

    /* age: the span including the new entry reaches max_age */
    assert_false(chk_chunk_full(c, &lim, 1099));
    assert_true(chk_chunk_full(c, &lim, 1100));
    assert_false(chk_chunk_full(c, &lim, -898)); /* span 999 */
    assert_true(chk_chunk_full(c, &lim, -899));
    /* no overflow on extreme spans */
    assert_true(chk_chunk_full(c, &lim, INT64_MIN));

    /* blocks: 10 with target_size 0 */
    for (int i = 0; i < 10; i++) {
        assert_false(chk_chunk_full(c, &lim, 200));
        e.ts = 200 + i;
        assert_int_equal(chk_chunk_append(c, &e), 1);
        chk_chunk_cut_block(c);
        assert_int_equal(chk_chunk_nblocks(c), (size_t)i + 1);
    }
    assert_true(chk_chunk_full(c, &lim, 200));
    assert_int_equal(chk_chunk_entries(c), 12);
    assert_int_equal(chk_chunk_mint(c), 100);
    assert_int_equal(chk_chunk_maxt(c), 209);

    /* target size in compressed bytes */
    chk_limits lim2 = { .block_size = 100, .target_size = chk_chunk_comp_bytes(c),
                        .max_age_ns = 1000 };
    assert_true(chk_chunk_full(c, &lim2, 200));
    lim2.target_size++;
    assert_false(chk_chunk_full(c, &lim2, 200));

    /* cutting an empty head does nothing; close cuts the head */
    chk_chunk_cut_block(c);
    assert_int_equal(chk_chunk_nblocks(c), 10);
    e.ts = 300;
    assert_int_equal(chk_chunk_append(c, &e), 1);
    chk_chunk_close(c);
    assert_true(chk_chunk_closed(c));
    assert_null(chk_chunk_head(c));
    assert_int_equal(chk_chunk_nblocks(c), 11);
    assert_int_equal(chk_chunk_append(c, &e), LK_EINVAL);
    assert_false(chk_chunk_head_full(c, &lim));
    chk_chunk_free(c);
    chk_chunk_free(NULL);

    /* empty metadata pairs add no bytes but fill the head: cut at twice
     * block_size of encoded data */
    c = chk_chunk_new();
    lk_label empty[100];
    for (int i = 0; i < 100; i++)
        empty[i] = (lk_label){ LK_STR(""), LK_STR("") };
    lk_entry m = { .ts = 1, .line = LK_STR(""), .n_meta = 100, .meta = empty };
    assert_int_equal(chk_chunk_append(c, &m), 1);
    assert_int_equal(chk_head_bytes(chk_chunk_head(c)), 0);
    assert_true(chk_chunk_head_full(c, &lim)); /* 201 encoded bytes >= 200 */
    chk_chunk_cut_block(c);
    chk_decoded d = { 0 };
    assert_int_equal(chk_block_decode(chk_chunk_block(c, 0), &d, NULL), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.e[0].n_meta, 100);
    assert_int_equal(d.e[0].meta[99].name.len, 0);
    chk_decoded_free(&d);
    chk_chunk_free(c);
}

static void test_entry_too_large(void **state)
{
    (void)state;
    chk_head *h = chk_head_new();
    lk_entry e = { .ts = 1, .line = { "x", (size_t)CHK_MAX_ENTRY_BYTES + 1 } };
    assert_int_equal(chk_head_append(h, &e), LK_ETOOLARGE);
    assert_int_equal(chk_head_len(h), 0);
    chk_head_free(h);
}

/* ---- chunk files */

static int released;

static void count_release(void *ctx, const void *p, size_t n)
{
    (void)n;
    assert_ptr_equal(ctx, &released);
    released++;
    free((void *)p);
}

static void check_same_info(const chk_block_info *a, const chk_block_info *b)
{
    assert_int_equal(a->mint, b->mint);
    assert_int_equal(a->maxt, b->maxt);
    assert_int_equal(a->entries, b->entries);
    assert_int_equal(a->raw_len, b->raw_len);
    assert_int_equal(a->comp_len, b->comp_len);
    assert_int_equal(a->crc, b->crc);
    assert_int_equal(a->line_bytes, b->line_bytes);
    assert_int_equal(a->meta_bytes, b->meta_bytes);
    assert_int_equal(a->format, b->format);
}

static void check_same_chunk(const chk_chunk *a, const chk_chunk *b)
{
    assert_int_equal(chk_chunk_nblocks(a), chk_chunk_nblocks(b));
    assert_int_equal(chk_chunk_mint(a), chk_chunk_mint(b));
    assert_int_equal(chk_chunk_maxt(a), chk_chunk_maxt(b));
    assert_int_equal(chk_chunk_entries(a), chk_chunk_entries(b));
    assert_int_equal(chk_chunk_comp_bytes(a), chk_chunk_comp_bytes(b));
    chk_decoded x = { 0 }, y = { 0 };
    for (size_t i = 0; i < chk_chunk_nblocks(a); i++) {
        const chk_block *ba = chk_chunk_block(a, i), *bb = chk_chunk_block(b, i);
        check_same_info(chk_block_get_info(ba), chk_block_get_info(bb));
        assert_true(lk_str_eq(chk_block_filter(ba), chk_block_filter(bb)));
        assert_int_equal(chk_block_decode(ba, &x, NULL), 0);
        assert_int_equal(chk_block_decode(bb, &y, NULL), 0);
        assert_int_equal(x.n, y.n);
        for (size_t k = 0; k < x.n; k++)
            assert_true(entries_equal(&x.e[k], &y.e[k]));
    }
    chk_decoded_free(&x);
    chk_decoded_free(&y);
}

static void test_file_round_trip(void **state)
{
    (void)state;
    chk_chunk *c = closed_chunk(4, 50);
    lk_buf file = { 0 }, labels = { 0 }, err = { 0 };
    lk_str canon = LK_STR("{app=\"api\", env=\"prod\"}");
    assert_int_equal(chk_file_encode(c, canon, 0x1122334455667788ull, &file), 0);
    assert_memory_equal(file.p, "LKCH", 4);
    assert_memory_equal(file.p + file.len - 8, "LKCF", 4);

    /* copy mode */
    chk_chunk *d = NULL;
    uint64_t fp = 0;
    assert_int_equal(chk_file_decode(file.p, file.len, NULL, NULL, &d, &labels, &fp, &err), 0);
    assert_true(lk_str_eq(lk_buf_str(&labels), canon));
    assert_true(fp == 0x1122334455667788ull);
    assert_true(chk_chunk_closed(d));
    check_same_chunk(c, d);
    assert_int_equal(chk_chunk_check_blocks(d, NULL, &err), 0);

    /* re-encoding the decoded chunk gives the same bytes */
    lk_buf again = { 0 };
    assert_int_equal(chk_file_encode(d, canon, fp, &again), 0);
    assert_int_equal(again.len, file.len);
    assert_memory_equal(again.p, file.p, file.len);
    chk_chunk_free(d);

    /* borrowed mode: released once, after the last block reference */
    released = 0;
    void *copy = malloc(file.len);
    memcpy(copy, file.p, file.len);
    assert_int_equal(chk_file_decode(copy, file.len, count_release, &released, &d, NULL, NULL,
                                     &err), 0);
    chk_block *kept = chk_block_ref(chk_chunk_block(d, 2));
    chk_chunk_free(d);
    assert_int_equal(released, 0);
    chk_decoded x = { 0 };
    assert_int_equal(chk_block_decode(kept, &x, NULL), 0);
    assert_int_equal(x.n, 50);
    chk_decoded_free(&x);
    chk_block_unref(kept);
    assert_int_equal(released, 1);

    /* an open chunk cannot be written */
    chk_chunk *open = chk_chunk_new();
    assert_int_equal(chk_file_encode(open, canon, 1, &again), LK_EINVAL);
    chk_chunk_free(open);

    lk_buf_free(&again);
    lk_buf_free(&file);
    lk_buf_free(&labels);
    lk_buf_free(&err);
    chk_chunk_free(c);
}

/* Which block's payload holds byte `off` of the encoded file; -1 when the
 * byte is in the header, index or footer. */
static int block_at(const chk_chunk *c, size_t hdr_len, size_t off)
{
    size_t pos = hdr_len;
    for (size_t i = 0; i < chk_chunk_nblocks(c); i++) {
        size_t len = chk_block_get_info(chk_chunk_block(c, i))->comp_len;
        if (off >= pos && off < pos + len)
            return (int)i;
        pos += len;
    }
    return -1;
}

static void test_file_every_flipped_byte(void **state)
{
    (void)state;
    chk_chunk *c = closed_chunk(3, 20);
    lk_str canon = LK_STR("{job=\"x\"}");
    lk_buf file = { 0 }, err = { 0 };
    assert_int_equal(chk_file_encode(c, canon, 42, &file), 0);
    size_t hdr_len = 44 + canon.len;
    size_t n_payload_hits = 0;
    for (size_t off = 0; off < file.len; off++) {
        for (int bit = 0; bit < 8; bit += 3) {
            file.p[off] ^= (char)(1 << bit);
            chk_chunk *d = NULL;
            lk_buf_reset(&err);
            int rc = chk_file_decode(file.p, file.len, NULL, NULL, &d, NULL, NULL, &err);
            int bad = block_at(c, hdr_len, off);
            if (bad < 0) {
                /* header, index, footer: the footer CRC */
                assert_int_equal(rc, LK_ECORRUPT);
                assert_null(d);
                assert_non_null(strstr(err.p, "corrupt chunk file"));
            } else {
                /* a payload: the file opens, that block alone is bad */
                assert_int_equal(rc, 0);
                size_t n_bad = 0;
                lk_buf_reset(&err);
                assert_int_equal(chk_chunk_check_blocks(d, &n_bad, &err), LK_ECORRUPT);
                assert_int_equal(n_bad, 1);
                char want[64];
                snprintf(want, sizeof(want), "block %d of 3: checksum mismatch", bad);
                assert_string_equal(err.p, want);
                chk_decoded x = { 0 };
                for (size_t i = 0; i < 3; i++) {
                    lk_buf_reset(&err);
                    int drc = chk_block_decode(chk_chunk_block(d, i), &x, &err);
                    if ((int)i == bad) {
                        assert_int_equal(drc, LK_ECORRUPT);
                        assert_int_equal(x.n, 0);
                    } else {
                        assert_int_equal(drc, 0);
                        assert_int_equal(x.n, 20);
                    }
                }
                chk_decoded_free(&x);
                chk_chunk_free(d);
                n_payload_hits++;
            }
            file.p[off] ^= (char)(1 << bit);
        }
    }
    assert_true(n_payload_hits > 0);
    lk_buf_free(&file);
    lk_buf_free(&err);
    chk_chunk_free(c);
}

static void test_file_every_truncation(void **state)
{
    (void)state;
    chk_chunk *c = closed_chunk(2, 10);
    lk_buf file = { 0 };
    assert_int_equal(chk_file_encode(c, LK_STR("{a=\"b\"}"), 7, &file), 0);
    for (size_t n = 0; n < file.len; n++) {
        chk_chunk *d = NULL;
        assert_int_equal(chk_file_decode(file.p, n, NULL, NULL, &d, NULL, NULL, NULL),
                         LK_ECORRUPT);
        assert_null(d);
    }
    /* and trailing garbage */
    lk_buf_append(&file, "xx", 2);
    chk_chunk *d = NULL;
    assert_int_equal(chk_file_decode(file.p, file.len, NULL, NULL, &d, NULL, NULL, NULL),
                     LK_ECORRUPT);
    lk_buf_free(&file);
    chk_chunk_free(c);
}

/* Writes a chunk file by hand, following the layout documented in
 * chunkfile.c, around one raw block payload (compressed here) whose index
 * record claims `entries`, mint, maxt and raw_len; all checksums valid. */
static void forge(lk_buf *out, const void *raw, size_t raw_len, uint32_t claim_raw,
                  uint32_t entries, int64_t mint, int64_t maxt, uint8_t version)
{
    size_t clen = snappy_max_compressed_length(raw_len);
    char *comp = malloc(clen);
    assert_int_equal(snappy_compress(raw, raw_len, comp, &clen), SNAPPY_OK);
    const char *labels = "{a=\"1\"}";
    uint32_t nl = (uint32_t)strlen(labels);
    uint8_t h[44];
    memcpy(h, "LKCH", 4);
    h[4] = version;
    h[5] = 1;
    h[6] = h[7] = 0;
    codec_put_le64(h + 8, 99);
    codec_put_le64(h + 16, (uint64_t)mint);
    codec_put_le64(h + 24, (uint64_t)maxt);
    codec_put_le32(h + 32, entries);
    codec_put_le32(h + 36, 1);
    codec_put_le32(h + 40, nl);
    out->len = 0;
    lk_buf_append(out, h, 44);
    lk_buf_append(out, labels, nl);
    size_t hdr_len = out->len;
    lk_buf_append(out, comp, clen);
    size_t index_off = out->len;
    uint8_t r[44];
    codec_put_le64(r, hdr_len);
    codec_put_le32(r + 8, (uint32_t)clen);
    codec_put_le32(r + 12, claim_raw);
    codec_put_le64(r + 16, (uint64_t)mint);
    codec_put_le64(r + 24, (uint64_t)maxt);
    codec_put_le32(r + 32, entries);
    codec_put_le32(r + 36, lk_crc32c(0, comp, clen));
    codec_put_le32(r + 40, 0);
    lk_buf_append(out, r, 44);
    uint8_t f[16];
    codec_put_le64(f, index_off);
    memcpy(f + 8, "LKCF", 4);
    uint32_t crc = lk_crc32c(0, out->p, hdr_len);
    crc = lk_crc32c(crc, out->p + index_off, out->len - index_off);
    crc = lk_crc32c(crc, f, 12);
    codec_put_le32(f + 12, crc);
    lk_buf_append(out, f, 16);
    free(comp);
}

/* Decodes the forged file's block: the result code. */
static int forged_block_rc(const lk_buf *file, size_t *n_out)
{
    chk_chunk *d = NULL;
    lk_buf err = { 0 };
    int rc = chk_file_decode(file->p, file->len, NULL, NULL, &d, NULL, NULL, &err);
    if (rc != 0) {
        lk_buf_free(&err);
        return rc;
    }
    chk_decoded x = { 0 };
    rc = chk_block_decode(chk_chunk_block(d, 0), &x, &err);
    if (rc != 0)
        assert_non_null(strstr(err.p, "corrupt block"));
    *n_out = x.n;
    chk_decoded_free(&x);
    chk_chunk_free(d);
    lk_buf_free(&err);
    return rc;
}

static void test_file_forged_payloads(void **state)
{
    (void)state;
    lk_buf f = { 0 };
    size_t n = 0;
    /* a valid one: two entries, ts 10 and 15, "ab" and "" */
    const uint8_t ok[] = { 0x00, 2, 'a', 'b', 0, 10, 0, 0 };
    forge(&f, ok, sizeof(ok), sizeof(ok), 2, 10, 15, 1);
    assert_int_equal(forged_block_rc(&f, &n), 0);
    assert_int_equal(n, 2);
    /* with metadata: one pair k=v */
    const uint8_t meta[] = { 0x00, 1, 'x', 1, 1, 'k', 1, 'v' };
    forge(&f, meta, sizeof(meta), sizeof(meta), 1, 7, 7, 1);
    assert_int_equal(forged_block_rc(&f, &n), 0);

    /* claimed counts or bounds that disagree with the payload */
    forge(&f, ok, sizeof(ok), sizeof(ok), 1, 10, 15, 1); /* bytes after the last */
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    forge(&f, ok, sizeof(ok), sizeof(ok), 2, 10, 14, 1); /* ts above maxt */
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    forge(&f, ok, sizeof(ok), sizeof(ok), 2, 10, 16, 1); /* last ts is not maxt */
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    forge(&f, ok, sizeof(ok), sizeof(ok) + 1, 2, 10, 15, 1); /* raw length */
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    forge(&f, ok, sizeof(ok), sizeof(ok), 3, 10, 15, 1); /* truncated: missing entry */
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);

    /* broken payloads */
    const uint8_t back[] = { 0x00, 0, 0, 0x01, 0, 0 }; /* delta -1 */
    forge(&f, back, sizeof(back), sizeof(back), 2, 10, 10, 1);
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    const uint8_t longline[] = { 0x00, 50, 'a', 0 };
    forge(&f, longline, sizeof(longline), sizeof(longline), 1, 1, 1, 1);
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    const uint8_t manymeta[] = { 0x00, 0, 40, 0, 0 };
    forge(&f, manymeta, sizeof(manymeta), sizeof(manymeta), 1, 1, 1, 1);
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    const uint8_t shortmeta[] = { 0x00, 0, 1, 1, 'k', 5, 'v' };
    forge(&f, shortmeta, sizeof(shortmeta), sizeof(shortmeta), 1, 1, 1, 1);
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    const uint8_t badvarint[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0, 0 };
    forge(&f, badvarint, sizeof(badvarint), sizeof(badvarint), 1, 1, 1, 1);
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    const uint8_t first_not_mint[] = { 0x02, 0, 0 }; /* first ts = mint + 1 */
    forge(&f, first_not_mint, sizeof(first_not_mint), sizeof(first_not_mint), 1, 1, 2, 1);
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);

    /* index records that do not make sense are caught at open */
    forge(&f, ok, sizeof(ok), sizeof(ok), 0, 10, 15, 1); /* no entries */
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    forge(&f, ok, sizeof(ok), sizeof(ok), 2, 16, 15, 1); /* mint > maxt */
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    forge(&f, ok, sizeof(ok), CHK_MAX_RAW + 1, 2, 10, 15, 1);
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    /* an unknown version (with a valid checksum) is unsupported */
    forge(&f, ok, sizeof(ok), sizeof(ok), 2, 10, 15, 2);
    assert_int_equal(forged_block_rc(&f, &n), LK_EUNSUPPORTED);
    lk_buf_free(&f);
}

/* A payload that is not snappy at all, behind a valid CRC. */
static void test_file_bad_snappy(void **state)
{
    (void)state;
    lk_buf f = { 0 };
    const uint8_t ok[] = { 0x00, 2, 'a', 'b', 0 };
    forge(&f, ok, sizeof(ok), sizeof(ok), 1, 3, 3, 1);
    /* the payload starts right after the 44 + 7 byte header; garble it and
     * fix the block CRC and then the footer CRC */
    size_t hdr = 44 + 7, index_off = f.len - 16 - 44;
    size_t clen = index_off - hdr;
    memset(f.p + hdr + 1, 0xee, clen - 1);
    codec_put_le32((uint8_t *)f.p + index_off + 36, lk_crc32c(0, f.p + hdr, clen));
    uint32_t crc = lk_crc32c(0, f.p, hdr);
    crc = lk_crc32c(crc, f.p + index_off, f.len - 16 - index_off);
    crc = lk_crc32c(crc, f.p + f.len - 16, 12);
    codec_put_le32((uint8_t *)f.p + f.len - 4, crc);
    size_t n = 0;
    assert_int_equal(forged_block_rc(&f, &n), LK_ECORRUPT);
    lk_buf_free(&f);
}

/* ---- token filter */

static const char *words[] = { "error", "timeout", "GET", "POST", "user", "db", "conn",
                               "refused", "200", "404", "api", "v1", "Übermaß", "naïve",
                               "k8s", "pod-abc", "x", "latency_ms" };
static const char seps[] = " =:/,.\"-_[]";

static size_t random_line(char *buf, size_t cap)
{
    size_t n = 0;
    int w = 1 + (int)(tst_rand(&rng) % 12);
    for (int i = 0; i < w; i++) {
        const char *word = words[tst_rand(&rng) % (sizeof(words) / sizeof(words[0]))];
        char num[24];
        if (tst_rand(&rng) % 4 == 0) {
            snprintf(num, sizeof(num), "%llu", (unsigned long long)(tst_rand(&rng) % 100000));
            word = num;
        }
        size_t l = strlen(word);
        if (n + l + 2 >= cap)
            break;
        memcpy(buf + n, word, l);
        n += l;
        buf[n++] = seps[tst_rand(&rng) % (sizeof(seps) - 1)];
    }
    return n;
}

static void test_filter_no_false_negatives(void **state)
{
    (void)state;
    for (int round = 0; round < 30; round++) {
        chk_head *h = chk_head_new();
        char line[512];
        for (int i = 0; i < 200; i++) {
            size_t n = random_line(line, sizeof(line));
            lk_entry e = { .ts = i, .line = lk_str_n(line, n) };
            chk_head_append(h, &e);
        }
        chk_block *b = block_of(h);
        assert_true(chk_block_filter(b).len >= 9);
        chk_decoded d = { 0 };
        assert_int_equal(chk_block_decode(b, &d, NULL), 0);
        /* every substring of every line may be contained */
        for (int k = 0; k < 2000; k++) {
            const lk_entry *e = &d.e[tst_rand(&rng) % d.n];
            if (e->line.len == 0)
                continue;
            size_t s = tst_rand(&rng) % e->line.len, l = 1 + tst_rand(&rng) % (e->line.len - s);
            assert_true(chk_filter_may_contain(b, lk_str_n(e->line.p + s, l)));
        }
        /* whole lines too, and the empty needle */
        for (size_t i = 0; i < d.n; i++)
            assert_true(chk_filter_may_contain(b, d.e[i].line));
        assert_true(chk_filter_may_contain(b, LK_STR("")));
        chk_decoded_free(&d);
        chk_block_unref(b);
        chk_head_free(h);
    }
}

static void test_filter_skips_absent(void **state)
{
    (void)state;
    chk_head *h = chk_head_new();
    char line[512];
    for (int i = 0; i < 300; i++) {
        size_t n = random_line(line, sizeof(line));
        lk_entry e = { .ts = i, .line = lk_str_n(line, n) };
        chk_head_append(h, &e);
    }
    lk_entry special = ent(1000, "request id=deadbeefcafe done");
    chk_head_append(h, &special);
    chk_block *b = block_of(h);

    int skipped = 0;
    char needle[64];
    for (int i = 0; i < 200; i++) {
        snprintf(needle, sizeof(needle), " zq%dqz ", i);
        skipped += !chk_filter_may_contain(b, lk_str_c(needle));
    }
    assert_true(skipped >= 190); /* about 1% false positives */

    /* present inner token: may */
    assert_true(chk_filter_may_contain(b, LK_STR("id=deadbeefcafe done")));
    assert_true(chk_filter_may_contain(b, LK_STR("=deadbeefcafe ")));
    /* an edge token proves nothing: "zzzzqqq" might end a longer token */
    assert_true(chk_filter_may_contain(b, LK_STR("zzzzqqq")));
    assert_true(chk_filter_may_contain(b, LK_STR("zzzzqqq done")));
    /* case-sensitive */
    assert_false(chk_filter_may_contain(b, LK_STR("id=DEADBEEFCAFE done")));
    /* inner tokens shorter than 3 bytes are not indexed: no conclusion */
    assert_true(chk_filter_may_contain(b, LK_STR("a qz b")));

    /* raw filter bytes: empty or malformed filters answer "may" */
    assert_true(chk_filter_check(LK_STR(""), LK_STR(" zzzzqqq ")));
    assert_true(chk_filter_check(LK_STR("\x03\x00\x00"), LK_STR(" zzzzqqq ")));
    assert_true(chk_filter_check(lk_str_n("\x00\x00\x00\x00\x00\x00\x00\x00\x00", 9),
                                 LK_STR(" zzzzqqq ")));
    assert_false(chk_filter_check(lk_str_n("\x01\x00\x00\x00\x00\x00\x00\x00\x00", 9),
                                  LK_STR(" zzzzqqq ")));
    chk_block_unref(b);
    chk_head_free(h);
}

/* Lines without any token still get a filter, which rejects every needle
 * with an inner token. */
static void test_filter_tokenless_block(void **state)
{
    (void)state;
    chk_head *h = chk_head_new();
    lk_entry e = ent(1, "-- :: ab --");
    chk_head_append(h, &e);
    chk_block *b = block_of(h);
    assert_false(chk_filter_may_contain(b, LK_STR(" abc ")));
    assert_true(chk_filter_may_contain(b, LK_STR(" ab ")));
    assert_true(chk_filter_may_contain(b, LK_STR("::")));
    chk_block_unref(b);
    chk_head_free(h);
}

/* ---- column format (format 2), codecs, version 1 files */

/* The entries of tests/unit/data/chunk_v1.lkch (written by the version 1
 * encoder, before the column format): 300 entries, every third with a
 * trace_id and detected_level, in blocks of about 2 KiB. */
static lk_entry fixture_entry(int i, char *line, size_t cap, lk_label *m, char *val, size_t vcap)
{
    snprintf(line, cap, "level=%s i=%d msg=\"request %d done\"", i % 5 ? "info" : "error", i,
             i % 7);
    lk_entry e = { .ts = 1700000000000000000LL + (int64_t)i * 1000003, .line = lk_str_c(line) };
    if (i % 3 == 0) {
        snprintf(val, vcap, "t%d", i);
        m[0] = (lk_label){ LK_STR("trace_id"), lk_str_c(val) };
        m[1] = (lk_label){ LK_STR("detected_level"), i % 5 ? LK_STR("info") : LK_STR("error") };
        e.meta = m;
        e.n_meta = 2;
    }
    return e;
}

/* Every entry of chunk c equals fixture_entry's, in order. */
static void expect_fixture(const chk_chunk *c, int n)
{
    chk_decoded d = { 0 };
    int i = 0;
    for (size_t b = 0; b < chk_chunk_nblocks(c); b++) {
        assert_int_equal(chk_block_decode(chk_chunk_block(c, b), &d, NULL), 0);
        for (size_t k = 0; k < d.n; k++, i++) {
            char line[128], val[32];
            lk_label m[2];
            lk_entry want = fixture_entry(i, line, sizeof(line), m, val, sizeof(val));
            assert_true(entries_equal(&d.e[k], &want));
        }
    }
    assert_int_equal(i, n);
    chk_decoded_free(&d);
}

/* Old chunk files stay readable: a version 1 file written by the encoder
 * before the column format decodes to the entries it was written from. */
static void test_file_version1_fixture(void **state)
{
    (void)state;
    char *path = tst_source_path("tests/unit/data/chunk_v1.lkch");
    assert_non_null(path);
    lk_buf f = { 0 }, canon = { 0 }, err = { 0 };
    assert_true(tst_read_file(path, &f));
    assert_int_equal(f.p[4], 1);
    chk_chunk *c = NULL;
    uint64_t fp = 0;
    assert_int_equal(chk_file_decode(f.p, f.len, NULL, NULL, &c, &canon, &fp, &err), 0);
    assert_string_equal(canon.p, "{app=\"fixture\"}");
    assert_int_equal(fp, 0x1234567890abcdefULL);
    assert_int_equal(chk_chunk_entries(c), 300);
    assert_true(chk_chunk_nblocks(c) > 1);
    assert_int_equal(chk_block_get_info(chk_chunk_block(c, 0))->format, CHK_FORMAT_V1);
    expect_fixture(c, 300);
    /* a partial decode of a format 1 block decodes it whole */
    chk_decoded d = { 0 };
    assert_int_equal(chk_block_decode_cols(chk_chunk_block(c, 0), 0, &d, NULL), 0);
    assert_non_null(d.e[0].line.p);
    chk_decoded_free(&d);

    /* the same entries written now: a version 2 file that reads back alike */
    chk_chunk *w = chk_chunk_new();
    chk_limits l = { .block_size = 2048 };
    for (int i = 0; i < 300; i++) {
        char line[128], val[32];
        lk_label m[2];
        lk_entry e = fixture_entry(i, line, sizeof(line), m, val, sizeof(val));
        if (chk_chunk_head_full(w, &l))
            chk_chunk_cut_block(w);
        assert_int_equal(chk_chunk_append(w, &e), 1);
    }
    chk_chunk_close(w);
    lk_buf out = { 0 };
    assert_int_equal(chk_file_encode(w, lk_buf_str(&canon), fp, &out), 0);
    assert_int_equal(out.p[4], 2);
    chk_chunk *r = NULL;
    assert_int_equal(chk_file_decode(out.p, out.len, NULL, NULL, &r, NULL, NULL, &err), 0);
    expect_fixture(r, 300);
    assert_int_equal(chk_block_get_info(chk_chunk_block(r, 0))->format, CHK_FORMAT_COLS);
    /* a chunk mixing block formats cannot be written */
    chk_chunk *mix = chk_chunk_new_closed();
    chk_chunk_add_block(mix, chk_block_ref(chk_chunk_block(c, 0)));
    chk_chunk_add_block(mix, chk_block_ref(chk_chunk_block(r, 1)));
    assert_int_equal(chk_file_encode(mix, LK_STR("{}"), 1, &out), LK_EINVAL);
    chk_chunk_free(mix);
    chk_chunk_free(r);
    chk_chunk_free(w);
    chk_chunk_free(c);
    lk_buf_free(&out);
    lk_buf_free(&f);
    lk_buf_free(&canon);
    lk_buf_free(&err);
    free(path);
}

/* A head of n entries: repetitive logfmt lines, every other one with
 * metadata, one empty line. */
static chk_head *mixed_head(int n, char (*lines)[96])
{
    chk_head *h = chk_head_new();
    lk_label m[2] = { { LK_STR("detected_level"), LK_STR("info") },
                      { LK_STR("trace_id"), LK_STR("abc") } };
    for (int i = 0; i < n; i++) {
        snprintf(lines[i], 96, i == 3 ? "" : "ts=%d level=info msg=\"served /api/v1/x\" n=%d", i,
                 i % 13);
        lk_entry e = ent(1000 + i / 2, lines[i]);
        if (i % 2) {
            e.meta = m;
            e.n_meta = i % 4 == 1 ? 1 : 2;
        }
        assert_int_equal(chk_head_append(h, &e), 1);
    }
    return h;
}

/* Every codec round-trips a block, and a partial decode gives the columns
 * asked for: timestamps alone, with line lengths, with metadata. */
static void test_block_codecs_and_columns(void **state)
{
    (void)state;
    enum { N = 500 };
    static char lines[N][96];
    chk_head *h = mixed_head(N, lines);
    chk_decoded full = { 0 }, d = { 0 };
    int64_t bytes = chk_head_bytes(h);
    chk_head_snapshot(h, INT64_MIN, INT64_MAX, &full);
    for (int codec = 0; codec < 5; codec++) {
        chk_block *b = NULL;
        assert_int_equal(chk_block_from_head_codec(h, codec, &b), 0);
        const chk_block_info *in = chk_block_get_info(b);
        assert_int_equal(in->format, CHK_FORMAT_COLS);
        assert_int_equal(in->line_bytes + in->meta_bytes, bytes);
        if (codec != 0)
            assert_true(in->comp_len < in->raw_len / 2);
        assert_int_equal(chk_block_decode(b, &d, NULL), 0);
        assert_int_equal(d.n, N);
        assert_int_equal(d.bytes, bytes);
        for (size_t i = 0; i < N; i++)
            assert_true(entries_equal(&d.e[i], &full.e[i]));

        assert_int_equal(chk_block_decode_cols(b, 0, &d, NULL), 0);
        assert_int_equal(d.bytes, bytes);
        for (size_t i = 0; i < N; i++) {
            assert_int_equal(d.e[i].ts, full.e[i].ts);
            assert_null(d.e[i].line.p);
            assert_int_equal(d.e[i].line.len, 0);
            assert_int_equal(d.e[i].n_meta, 0);
        }
        assert_int_equal(chk_block_decode_cols(b, CHK_COL_LEN | CHK_COL_META, &d, NULL), 0);
        for (size_t i = 0; i < N; i++) {
            assert_null(d.e[i].line.p);
            assert_int_equal(d.e[i].line.len, full.e[i].line.len);
            assert_int_equal(d.e[i].n_meta, full.e[i].n_meta);
            for (size_t k = 0; k < d.e[i].n_meta; k++)
                assert_true(lk_str_eq(d.e[i].meta[k].value, full.e[i].meta[k].value));
        }
        chk_block_unref(b);
    }
    chk_decoded_free(&full);
    chk_decoded_free(&d);
    chk_head_free(h);
}

static void free_copy(void *ctx, const void *p, size_t n)
{
    (void)ctx;
    (void)n;
    free((void *)p);
}

/* Decodes b's payload changed by edit (the CRC recomputed, so only the
 * column checks can catch it): the result of a full decode. */
static int edited_rc(const chk_block *b, void (*edit)(uint8_t *p, chk_block_info *in))
{
    chk_block_info in = *chk_block_get_info(b);
    lk_str pl = chk_block_payload(b);
    uint8_t *p = lk_memdup(pl.p, pl.len);
    edit(p, &in);
    in.crc = lk_crc32c(0, p, in.comp_len);
    chk_backing *bk = chk_backing_new(p, pl.len, free_copy, NULL);
    chk_block *x = chk_block_wrap(&in, p, NULL, 0, bk);
    chk_backing_unref(bk);
    chk_decoded d = { 0 };
    lk_buf err = { 0 };
    int rc = chk_block_decode(x, &d, &err);
    if (rc)
        assert_non_null(strstr(err.p, "corrupt block"));
    assert_true(rc || d.n == in.entries);
    chk_decoded_free(&d);
    lk_buf_free(&err);
    chk_block_unref(x);
    return rc;
}

static void edit_none(uint8_t *p, chk_block_info *in) { (void)p; (void)in; }
static void edit_codec(uint8_t *p, chk_block_info *in) { (void)in; p[2 * 9] = 9; }
static void edit_raw_len(uint8_t *p, chk_block_info *in)
{
    codec_put_le32(p + 2 * 9 + 5, codec_get_le32(p + 2 * 9 + 5) + 1);
    in->raw_len++;
}
static void edit_entries(uint8_t *p, chk_block_info *in) { (void)p; in->entries--; }
static void edit_maxt(uint8_t *p, chk_block_info *in) { (void)p; in->maxt++; }
static void edit_line_bytes(uint8_t *p, chk_block_info *in) { (void)p; in->line_bytes++; }
static void edit_meta_bytes(uint8_t *p, chk_block_info *in) { (void)p; in->meta_bytes--; }
static void edit_short(uint8_t *p, chk_block_info *in) { (void)p; in->comp_len = 20; }
static void edit_last_byte(uint8_t *p, chk_block_info *in) { p[in->comp_len - 1] ^= 0x55; }

/* A column payload whose checksum matches but whose columns disagree with
 * each other or with the block index is corrupt, never read past. */
static void test_block_columns_forged(void **state)
{
    (void)state;
    enum { N = 200 };
    static char lines[N][96];
    chk_head *h = mixed_head(N, lines);
    for (int codec = 0; codec < 5; codec++) {
        chk_block *b = NULL;
        assert_int_equal(chk_block_from_head_codec(h, codec, &b), 0);
        assert_int_equal(edited_rc(b, edit_none), 0);
        assert_int_equal(edited_rc(b, edit_codec), LK_ECORRUPT);
        assert_int_equal(edited_rc(b, edit_raw_len), LK_ECORRUPT);
        assert_int_equal(edited_rc(b, edit_entries), LK_ECORRUPT);
        assert_int_equal(edited_rc(b, edit_maxt), LK_ECORRUPT);
        assert_int_equal(edited_rc(b, edit_line_bytes), LK_ECORRUPT);
        assert_int_equal(edited_rc(b, edit_meta_bytes), LK_ECORRUPT);
        assert_int_equal(edited_rc(b, edit_short), LK_ECORRUPT);
        /* the meta column's last byte: an index past the dictionary, or
         * bytes a codec refuses; either way never a wrong answer */
        int rc = edited_rc(b, edit_last_byte);
        assert_true(rc == LK_ECORRUPT || rc == 0);
        chk_block_unref(b);
    }
    chk_head_free(h);
}

/* Loki's chunk_encoding names. */
static void test_codec_names(void **state)
{
    (void)state;
    chk_codec c;
    const struct {
        const char *name;
        chk_codec want;
    } t[] = { { "none", CHK_CODEC_NONE }, { "snappy", CHK_CODEC_SNAPPY },
              { "gzip", CHK_CODEC_GZIP }, { "flate", CHK_CODEC_GZIP },
              { "lz4-64k", CHK_CODEC_LZ4 }, { "lz4-4M", CHK_CODEC_LZ4 },
              { "zstd", CHK_CODEC_ZSTD } };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(chk_codec_from_name(t[i].name, &c), 0);
        assert_int_equal(c, t[i].want);
    }
    assert_int_equal(chk_codec_from_name("brotli", &c), LK_EINVAL);
    assert_string_equal(chk_codec_name(CHK_CODEC_ZSTD), "zstd");
    /* a column that does not shrink is stored as it is */
    lk_buf out = { 0 };
    assert_int_equal(chk_compress(CHK_CODEC_ZSTD, (const uint8_t *)"ab", 2, &out), CHK_CODEC_NONE);
    assert_int_equal(out.len, 2);
    lk_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_extremes),
        cmocka_unit_test(test_head_out_of_order),
        cmocka_unit_test(test_head_dedup),
        cmocka_unit_test(test_block_round_trip),
        cmocka_unit_test(test_block_extreme_timestamps),
        cmocka_unit_test(test_block_empty_head),
        cmocka_unit_test(test_chunk_cut_rules),
        cmocka_unit_test(test_entry_too_large),
        cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_file_every_flipped_byte),
        cmocka_unit_test(test_file_every_truncation),
        cmocka_unit_test(test_file_forged_payloads),
        cmocka_unit_test(test_file_bad_snappy),
        cmocka_unit_test(test_file_version1_fixture),
        cmocka_unit_test(test_block_codecs_and_columns),
        cmocka_unit_test(test_block_columns_forged),
        cmocka_unit_test(test_codec_names),
        cmocka_unit_test(test_filter_no_false_negatives),
        cmocka_unit_test(test_filter_skips_absent),
        cmocka_unit_test(test_filter_tokenless_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
