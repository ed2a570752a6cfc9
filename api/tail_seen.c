/* The set of entries a tail sent (tail_seen.h): linear probing over a power
 * of two table kept under half full; pruning rebuilds it without the old
 * entries. */
#include "api/tail_seen.h"

#include <stdlib.h>
#include <xxhash.h>

#include "lib/mem.h"

struct api_seen_slot {
    uint64_t h;
    int64_t ts;
};

static uint64_t entry_hash(lk_str stream, int64_t ts, lk_str line)
{
    uint64_t h = XXH3_64bits_withSeed(stream.p, stream.len, (uint64_t)ts);
    h = XXH3_64bits_withSeed(line.p, line.len, h);
    return h ? h : 1;
}

/* true when h was in the table; inserts it otherwise */
static bool insert(struct api_seen_slot *slot, size_t cap, uint64_t h, int64_t ts)
{
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (slot[i].h == h)
            return true;
        if (slot[i].h == 0) {
            slot[i] = (struct api_seen_slot){ h, ts };
            return false;
        }
    }
}

/* Moves the entries at or after keep_from into a table of cap slots. */
static void rebuild(api_tail_seen *s, size_t cap, int64_t keep_from)
{
    struct api_seen_slot *old = s->slot;
    size_t old_cap = s->cap;
    s->slot = lk_calloc(cap, sizeof *s->slot);
    s->cap = cap;
    s->n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].h && old[i].ts >= keep_from) {
            insert(s->slot, cap, old[i].h, old[i].ts);
            s->n++;
        }
    free(old);
}

bool api_tail_seen_add(api_tail_seen *s, lk_str stream, int64_t ts, lk_str line)
{
    if (2 * (s->n + 1) > s->cap)
        rebuild(s, s->cap ? 2 * s->cap : 64, INT64_MIN);
    if (insert(s->slot, s->cap, entry_hash(stream, ts, line), ts))
        return false;
    s->n++;
    return true;
}

void api_tail_seen_prune(api_tail_seen *s, int64_t ts)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->cap; i++)
        kept += s->slot[i].h && s->slot[i].ts >= ts;
    size_t cap = s->cap;
    while (cap > 64 && 8 * kept < cap) /* shrink after a burst */
        cap /= 2;
    if (s->cap)
        rebuild(s, cap, ts);
}

void api_tail_seen_free(api_tail_seen *s)
{
    free(s->slot);
    *s = (api_tail_seen){ 0 };
}
