/* libFuzzer driver for WAL replay: arbitrary bytes as a segment file must
 * never crash, read out of bounds or leak. The replay reads records up to
 * the first invalid one; every record it hands out must decode again to
 * the same entries, and re-encoding those entries as a record (the
 * writer's encoder) must replay to the same entries once more (a push
 * request record: to the same request bytes). When the
 * input does not start with a segment header, one is put in front, so the
 * record parser is reached. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/codec.h"
#include "storage/wal.h"
#include "storage/wal_int.h"
#include "tests/fuzz/fuzz.h"

typedef struct check {
    size_t records, entries;
} check;

static bool same_entries(const wal_rec *a, const wal_rec *b)
{
    if (a->n != b->n || !lk_str_eq(a->tenant, b->tenant) || !lk_str_eq(a->canonical, b->canonical))
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const lk_entry *x = &a->e[i], *y = &b->e[i];
        if (x->ts != y->ts || !lk_str_eq(x->line, y->line) || x->n_meta != y->n_meta)
            return false;
        for (size_t k = 0; k < x->n_meta; k++) {
            if (!lk_str_eq(x->meta[k].name, y->meta[k].name) ||
                !lk_str_eq(x->meta[k].value, y->meta[k].value))
                return false;
        }
    }
    return true;
}

/* Re-encodes r as a payload and decodes it again. */
static void roundtrip(const wal_rec *r)
{
    lk_buf body = { 0 }, payload = { 0 };
    int64_t prev = 0;
    for (size_t i = 0; i < r->n; i++)
        wal_body_put_entry(&body, &r->e[i], &prev);
    wal_rec_put_prefix(&payload, 0, r->tenant, r->canonical, (uint32_t)r->n);
    lk_buf_put_str(&payload, lk_buf_str(&body));
    wal_rec again = { 0 };
    if (wal_rec_decode((const uint8_t *)payload.p, payload.len, &again, NULL) != LK_OK)
        LK_BUG("a re-encoded WAL record does not decode");
    if (!same_entries(r, &again))
        LK_BUG("a re-encoded WAL record decodes to other entries");
    wal_rec_free(&again);
    lk_buf_free(&body);
    lk_buf_free(&payload);
}

/* Re-encodes a push request record and decodes it again. */
static void roundtrip_push(const wal_rec *r)
{
    if (r->n != 0 || r->push.len == 0 || r->format != WAL_PUSH_SNAPPY_PROTO)
        LK_BUG("a replayed push record is not a push request");
    lk_buf payload = { 0 };
    wal_rec_put_push_prefix(&payload, r->tenant, r->format);
    lk_buf_put_str(&payload, r->push);
    wal_rec again = { 0 };
    if (wal_rec_decode((const uint8_t *)payload.p, payload.len, &again, NULL) != LK_OK ||
        again.type != WAL_REC_PUSH || !lk_str_eq(again.tenant, r->tenant) ||
        !lk_str_eq(again.push, r->push))
        LK_BUG("a re-encoded WAL push record decodes to something else");
    wal_rec_free(&again);
    lk_buf_free(&payload);
}

static int on_record(void *ctx, uint64_t seg, const wal_rec *r)
{
    check *c = ctx;
    (void)seg;
    c->records++;
    c->entries += r->n;
    if (r->type == WAL_REC_PUSH) {
        roundtrip_push(r);
        return 0;
    }
    if (r->n == 0)
        LK_BUG("a replayed record has no entry");
    roundtrip(r);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        lk_log_min_level = LK_LOG_ERROR; /* dropped tails are expected here */
        quiet = true;
    }
    uint8_t *seg;
    size_t n;
    if (size >= WAL_SEG_HDR && memcmp(data, WAL_SEG_MAGIC, 4) == 0) {
        seg = lk_memdup(data, size ? size : 1);
        n = size;
        codec_put_le64(seg + 8, 1); /* the id the replay expects */
    } else {
        n = WAL_SEG_HDR + size;
        seg = lk_calloc(1, n);
        memcpy(seg, WAL_SEG_MAGIC, 4);
        seg[4] = WAL_SEG_VERSION;
        codec_put_le64(seg + 8, 1);
        if (size)
            memcpy(seg + WAL_SEG_HDR, data, size);
        /* make the first record's CRC right, so its payload is parsed */
        if (size >= WAL_REC_HDR) {
            uint32_t len = codec_get_le32(seg + WAL_SEG_HDR);
            if (len && len <= size - WAL_REC_HDR) {
                uint32_t crc = lk_crc32c(0, seg + WAL_SEG_HDR, 4);
                crc = lk_crc32c(crc, seg + WAL_SEG_HDR + WAL_REC_HDR, len);
                codec_put_le32(seg + WAL_SEG_HDR + 4, crc);
            }
        }
    }
    check c = { 0 };
    wal_replay_stats st = { 0 };
    wal_replay_bytes(seg, n, 1, on_record, &c, &st);
    if (st.records != c.records || st.entries != c.entries)
        LK_BUG("replay statistics disagree with the records seen");
    free(seg);
    return 0;
}
