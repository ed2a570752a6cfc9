/* The pipeline's per-entry scratch: a bump allocator whose first block is
 * kept (grown to what the last entry needed) across resets, so a steady
 * state allocates nothing; and strings built in it. See pipeline_int.h. */
#include "query/pipeline/pipeline_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

/* ---- scratch ------------------------------------------------------------------ */

struct lp_block {
    lp_block *next;
    size_t size;
    _Alignas(16) char data[];
};

#define LP_BLOCK_MIN 1024

static lp_block *block_new(size_t size, lp_block *next)
{
    lp_block *b = lk_malloc(sizeof(*b) + size);
    b->next = next;
    b->size = size;
    return b;
}

void *lp_alloc(lp_scratch *s, size_t n)
{
    size_t need = (n + 7) & ~(size_t)7;
    if (!s->head || s->used + need > s->head->size) {
        size_t size = s->head ? s->head->size * 2 : LP_BLOCK_MIN;
        while (size < need)
            size *= 2;
        s->head = block_new(size, s->head);
        s->used = 0;
    }
    void *p = s->head->data + s->used;
    s->used += need;
    s->total += need;
    return p;
}

char *lp_strdup(lp_scratch *s, const char *p, size_t n)
{
    char *d = lp_alloc(s, n + 1);
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

void lp_scratch_reset(lp_scratch *s)
{
    if (s->head && s->head->next) {
        /* the last entry needed several blocks: keep one that holds it all */
        size_t want = s->head->size;
        while (want < s->total)
            want *= 2;
        lp_scratch_free(s);
        s->head = block_new(want, NULL);
    }
    s->used = 0;
    s->total = 0;
}

void lp_scratch_free(lp_scratch *s)
{
    lp_block *b = s->head;
    while (b) {
        lp_block *n = b->next;
        free(b);
        b = n;
    }
    s->head = NULL;
    s->used = s->total = 0;
}

void lp_sb_init(lp_sb *b, lp_scratch *s, size_t hint)
{
    b->s = s;
    b->cap = hint < 16 ? 16 : hint;
    b->p = lp_alloc(s, b->cap);
    b->len = 0;
}

static void sb_grow(lp_sb *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    size_t cap = b->cap * 2;
    while (cap < b->len + extra)
        cap *= 2;
    char *p = lp_alloc(b->s, cap);
    memcpy(p, b->p, b->len);
    b->p = p;
    b->cap = cap;
}

void lp_sb_put(lp_sb *b, const void *p, size_t n)
{
    if (!n)
        return;
    sb_grow(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void lp_sb_putc(lp_sb *b, char c)
{
    sb_grow(b, 1);
    b->p[b->len++] = c;
}

lk_str lp_sb_str(const lp_sb *b)
{
    return (lk_str){ b->p, b->len };
}
