/* A chunk: a stream's compressed blocks in arrival order plus the head they
 * are cut from. The owner (the ingester's stream) decides when to cut a
 * block (chk_chunk_head_full) and when to close the chunk (chk_chunk_full);
 * a closed chunk has no head and never changes again. */
#include "storage/chunk.h"

#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "storage/chunk_int.h"
#include "storage/compress.h"
#include "storage/usize.h"

#define DEFAULT_MAX_BLOCKS 10 /* chunk_target_size 0 */

struct chk_chunk {
    chk_block **blocks;
    size_t n_blocks, cap;
    chk_head *head;    /* NULL once closed */
    int64_t mint, maxt; /* of the blocks */
    size_t block_entries;
    int64_t comp_bytes;
    chk_usize *usize;  /* Loki's uncompressed size; NULL when not appended to */
    int codec;         /* of the blocks cut (storage/compress.h) */
};

chk_chunk *chk_chunk_new(void)
{
    chk_chunk *c = lk_calloc(1, sizeof(*c));
    c->head = chk_head_new();
    c->usize = lk_calloc(1, sizeof(*c->usize));
    c->codec = CHK_CODEC_DEFAULT;
    return c;
}

void chk_chunk_set_codec(chk_chunk *c, int codec)
{
    c->codec = codec;
}

chk_chunk *chk_chunk_new_closed(void)
{
    return lk_calloc(1, sizeof(chk_chunk));
}

void chk_chunk_free(chk_chunk *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_blocks; i++)
        chk_block_unref(c->blocks[i]);
    free(c->blocks);
    chk_head_free(c->head);
    if (c->usize)
        chk_usize_free(c->usize);
    free(c->usize);
    free(c);
}

void chk_chunk_add_block(chk_chunk *c, chk_block *b)
{
    const chk_block_info *in = chk_block_get_info(b);
    if (c->n_blocks == 0 || in->mint < c->mint)
        c->mint = in->mint;
    if (c->n_blocks == 0 || in->maxt > c->maxt)
        c->maxt = in->maxt;
    c->blocks = lk_grow(c->blocks, &c->cap, c->n_blocks + 1, sizeof(*c->blocks));
    c->blocks[c->n_blocks++] = b;
    c->block_entries += in->entries;
    c->comp_bytes += in->comp_len;
}

int chk_chunk_append(chk_chunk *c, const lk_entry *e)
{
    if (!c->head)
        return LK_EINVAL;
    int rc = chk_head_append(c->head, e);
    if (rc == 1 && c->usize)
        chk_usize_add(c->usize, e);
    return rc;
}

bool chk_chunk_head_full(const chk_chunk *c, const chk_limits *l)
{
    if (!c->head)
        return false;
    return chk_head_bytes(c->head) >= l->block_size ||
           chk_head_len(c->head) >= CHK_HEAD_MAX_ENTRIES ||
           chk_head_arena_len(c->head) >= (size_t)l->block_size * 2;
}

void chk_chunk_cut_block(chk_chunk *c)
{
    if (!c->head || chk_head_len(c->head) == 0)
        return;
    chk_block *b;
    if (chk_block_from_head_codec(c->head, c->codec, &b) != 0)
        LK_BUG("cutting a non-empty head failed");
    chk_chunk_add_block(c, b);
    chk_head_reset(c->head);
}

void chk_chunk_shrink_head(chk_chunk *c)
{
    if (c->head)
        chk_head_shrink(c->head);
}

bool chk_chunk_full(const chk_chunk *c, const chk_limits *l, int64_t ts)
{
    if (chk_chunk_empty(c))
        return false;
    if (l->target_size > 0 ? c->comp_bytes >= l->target_size
                           : c->n_blocks >= DEFAULT_MAX_BLOCKS)
        return true;
    int64_t lo = chk_chunk_mint(c), hi = chk_chunk_maxt(c);
    if (ts < lo)
        lo = ts;
    if (ts > hi)
        hi = ts;
    /* the span as unsigned: no overflow for any pair of int64 */
    return l->max_age_ns > 0 && (uint64_t)hi - (uint64_t)lo >= (uint64_t)l->max_age_ns;
}

void chk_chunk_close(chk_chunk *c)
{
    if (!c->head)
        return;
    chk_chunk_cut_block(c);
    chk_head_free(c->head);
    c->head = NULL;
}

bool chk_chunk_closed(const chk_chunk *c)
{
    return c->head == NULL;
}

bool chk_chunk_empty(const chk_chunk *c)
{
    return c->n_blocks == 0 && (!c->head || chk_head_len(c->head) == 0);
}

size_t chk_chunk_nblocks(const chk_chunk *c)
{
    return c->n_blocks;
}

chk_block *chk_chunk_block(const chk_chunk *c, size_t i)
{
    return c->blocks[i];
}

const chk_head *chk_chunk_head(const chk_chunk *c)
{
    return c->head;
}

static bool head_has(const chk_chunk *c)
{
    return c->head && chk_head_len(c->head) > 0;
}

int64_t chk_chunk_mint(const chk_chunk *c)
{
    if (!head_has(c))
        return c->mint;
    int64_t h = chk_head_mint(c->head);
    return c->n_blocks && c->mint < h ? c->mint : h;
}

int64_t chk_chunk_maxt(const chk_chunk *c)
{
    if (!head_has(c))
        return c->maxt;
    int64_t h = chk_head_maxt(c->head);
    return c->n_blocks && c->maxt > h ? c->maxt : h;
}

size_t chk_chunk_entries(const chk_chunk *c)
{
    return c->block_entries + (c->head ? chk_head_len(c->head) : 0);
}

int64_t chk_chunk_comp_bytes(const chk_chunk *c)
{
    return c->comp_bytes;
}

int64_t chk_chunk_raw_bytes(const chk_chunk *c)
{
    int64_t n = 0;
    for (size_t i = 0; i < chk_chunk_nblocks(c); i++)
        n += chk_block_get_info(chk_chunk_block(c, i))->raw_len;
    const chk_head *h = chk_chunk_head(c);
    return h ? n + chk_head_bytes(h) : n;
}

int64_t chk_chunk_loki_bytes(const chk_chunk *c)
{
    return c->usize ? c->usize->bytes : chk_chunk_raw_bytes(c);
}
