/* The head: a stream's newest entries, uncompressed, kept sorted by
 * timestamp. Entry descriptors live in an array ordered by (ts, arrival);
 * line and metadata bytes go to an append-only byte arena, so an append costs
 * no allocation once the buffers have grown (they are kept across resets).
 * In-order appends are O(1); an out-of-order one finds its place by binary
 * search and moves the descriptors after it. An entry equal to one already
 * present (same timestamp, line and metadata) is not stored again. */
#include "storage/chunk.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "storage/chunk_int.h"
#include "storage/codec.h"

/* The arena starts small and grows by half: at high cardinality most heads
 * hold a few KB, and doubling from 4 KB left up to half of each unused. */
#define ARENA_MIN 1024

typedef struct head_ent {
    int64_t ts;
    uint32_t off;      /* line bytes in the arena, then meta_len bytes of metadata */
    uint32_t line_len;
    uint32_t meta_len; /* encoded metadata (storage/codec.h); 0: none */
} head_ent;

struct chk_head {
    head_ent *v;
    size_t n, cap;
    uint8_t *arena;
    size_t alen, acap;
    int64_t bytes;     /* line + metadata name/value bytes */
    size_t last;       /* entry last appended or matched; SIZE_MAX: none */
};

chk_head *chk_head_new(void)
{
    chk_head *h = lk_calloc(1, sizeof(*h));
    h->last = SIZE_MAX;
    return h;
}

void chk_head_free(chk_head *h)
{
    if (!h)
        return;
    free(h->v);
    free(h->arena);
    free(h);
}

void chk_head_reset(chk_head *h)
{
    h->n = 0;
    h->alen = 0;
    h->bytes = 0;
    h->last = SIZE_MAX;
}

void chk_head_shrink(chk_head *h)
{
    if (h->n)
        return;
    free(h->v);
    free(h->arena);
    h->v = NULL;
    h->arena = NULL;
    h->cap = h->acap = 0;
}

size_t chk_head_len(const chk_head *h)
{
    return h->n;
}

int64_t chk_head_bytes(const chk_head *h)
{
    return h->bytes;
}

int64_t chk_head_mint(const chk_head *h)
{
    return h->n ? h->v[0].ts : 0;
}

int64_t chk_head_maxt(const chk_head *h)
{
    return h->n ? h->v[h->n - 1].ts : 0;
}

/* First index whose ts is greater than ts. */
static size_t upper_bound(const chk_head *h, int64_t ts)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->v[mid].ts <= ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool ent_equal(const chk_head *h, const head_ent *x, const lk_entry *e)
{
    if (x->line_len != e->line.len)
        return false;
    const uint8_t *p = h->arena + x->off;
    if (e->line.len && memcmp(p, e->line.p, e->line.len) != 0)
        return false;
    if (e->n_meta == 0)
        return x->meta_len == 0;
    if (x->meta_len == 0)
        return false;
    return codec_meta_eq(e->meta, e->n_meta, p + x->line_len, x->meta_len);
}

/* Index of an entry equal to e among those with e's timestamp that sit
 * before pos, or SIZE_MAX. */
static size_t find_equal(const chk_head *h, size_t pos, const lk_entry *e)
{
    for (size_t i = pos; i > 0 && h->v[i - 1].ts == e->ts; i--) {
        if (ent_equal(h, &h->v[i - 1], e))
            return i - 1;
    }
    return SIZE_MAX;
}

int chk_head_append(chk_head *h, const lk_entry *e)
{
    size_t meta_len = e->n_meta ? codec_meta_enc_len(e->meta, e->n_meta) : 0;
    size_t meta_bytes = e->n_meta ? codec_meta_bytes(e->meta, e->n_meta) : 0;
    if (e->line.len > CHK_MAX_ENTRY_BYTES || meta_bytes > CHK_MAX_ENTRY_BYTES ||
        e->line.len + meta_len > CHK_MAX_ENTRY_BYTES)
        return LK_ETOOLARGE;
    if (h->alen + e->line.len + meta_len > UINT32_MAX)
        return LK_ETOOLARGE; /* the owner cuts long before; defensive */

    size_t pos = (h->n == 0 || h->v[h->n - 1].ts <= e->ts) ? h->n : upper_bound(h, e->ts);
    size_t dup = find_equal(h, pos, e);
    if (dup != SIZE_MAX) {
        h->last = dup;
        return 0;
    }

    size_t need = h->alen + e->line.len + meta_len;
    if (need > h->acap || !h->arena) {
        size_t c = h->acap ? h->acap : ARENA_MIN;
        while (c < need)
            c += c / 2;
        h->arena = lk_realloc(h->arena, c);
        h->acap = c;
    }
    head_ent x = { .ts = e->ts, .off = (uint32_t)h->alen, .line_len = (uint32_t)e->line.len,
                   .meta_len = (uint32_t)meta_len };
    if (e->line.len)
        memcpy(h->arena + h->alen, e->line.p, e->line.len);
    if (meta_len)
        codec_meta_encode(h->arena + h->alen + e->line.len, e->meta, e->n_meta);
    h->alen = need;

    h->v = lk_grow(h->v, &h->cap, h->n + 1, sizeof(*h->v));
    if (pos < h->n)
        memmove(&h->v[pos + 1], &h->v[pos], (h->n - pos) * sizeof(*h->v));
    h->v[pos] = x;
    h->n++;
    h->last = pos;
    h->bytes += (int64_t)(e->line.len + meta_bytes);
    return 1;
}

bool chk_head_last(const chk_head *h, int64_t *ts, lk_str *line, lk_str *meta_enc)
{
    if (h->last >= h->n)
        return false;
    const head_ent *x = &h->v[h->last];
    const char *p = (const char *)h->arena + x->off;
    *ts = x->ts;
    *line = lk_str_n(p, x->line_len);
    *meta_enc = lk_str_n(p + x->line_len, x->meta_len);
    return true;
}

void chk_head_encode_range(const chk_head *h, size_t lo, size_t hi, lk_buf *raw)
{
    raw->len = 0;
    if (lo >= hi)
        return;
    size_t max = 0;
    for (size_t i = lo; i < hi; i++)
        max += 2 * CODEC_MAX_VARINT + h->v[i].line_len + h->v[i].meta_len + 1;
    lk_buf_reserve(raw, max);
    uint8_t *p = (uint8_t *)raw->p;
    int64_t prev = h->v[lo].ts;
    for (size_t i = lo; i < hi; i++) {
        const head_ent *x = &h->v[i];
        p += codec_put_uvarint(p, codec_zigzag(codec_ts_delta(x->ts, prev)));
        prev = x->ts;
        p += codec_put_uvarint(p, x->line_len);
        size_t len = (size_t)x->line_len + x->meta_len;
        if (len)
            memcpy(p, h->arena + x->off, len);
        p += len;
        if (x->meta_len == 0)
            *p++ = 0;
    }
    raw->len = (size_t)(p - (uint8_t *)raw->p);
    raw->p[raw->len] = '\0';
}

size_t chk_head_arena_len(const chk_head *h)
{
    return h->alen;
}

void chk_head_entry(const chk_head *h, size_t i, int64_t *ts, lk_str *line, lk_str *meta_enc)
{
    const head_ent *x = &h->v[i];
    const char *p = (const char *)h->arena + x->off;
    *ts = x->ts;
    *line = lk_str_n(p, x->line_len);
    *meta_enc = lk_str_n(p + x->line_len, x->meta_len);
}

lk_str chk_head_line(const chk_head *h, size_t i)
{
    return lk_str_n((const char *)h->arena + h->v[i].off, h->v[i].line_len);
}

void chk_head_snapshot(const chk_head *h, int64_t from, int64_t through, chk_decoded *d)
{
    d->n = 0;
    d->n_meta = 0;
    d->raw_len = 0;
    d->bytes = 0;
    if (h->n == 0 || from > through)
        return;
    /* first index with ts >= from, first with ts > through */
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->v[mid].ts < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = upper_bound(h, through);
    if (lo >= end)
        return;
    lk_buf raw = { .p = d->raw, .len = 0, .cap = d->raw_cap };
    chk_head_encode_range(h, lo, end, &raw);
    d->raw = raw.p;
    d->raw_cap = raw.cap;
    d->raw_len = raw.len;
    if (chk_parse_payload(d, (uint32_t)(end - lo), h->v[lo].ts, h->v[end - 1].ts, NULL) != 0)
        LK_BUG("head snapshot does not parse");
}
