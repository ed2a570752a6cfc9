/* Loki's uncompressed chunk size (see usize.h). */
#include "storage/usize.h"

#include <stdlib.h>
#include <string.h>

#include "lib/labels.h"
#include "lib/mem.h"

#define PAIR_BYTES 8 /* two uint32 symbol references */

static void grow(chk_usize *u)
{
    size_t cap = u->cap ? u->cap * 2 : 16;
    uint64_t *v = lk_calloc(cap, sizeof(*v));
    for (size_t i = 0; i < u->cap; i++) {
        if (!u->syms[i])
            continue;
        size_t j = u->syms[i] & (cap - 1);
        while (v[j])
            j = (j + 1) & (cap - 1);
        v[j] = u->syms[i];
    }
    free(u->syms);
    u->syms = v;
    u->cap = cap;
}

/* Adds s to the symbol set: true when it was not there. */
static bool intern(chk_usize *u, lk_str s)
{
    uint64_t h = labels_hash(s);
    if (!h)
        h = 1;
    if ((u->n_syms + 1) * 2 > u->cap)
        grow(u);
    size_t j = h & (u->cap - 1);
    while (u->syms[j]) {
        if (u->syms[j] == h)
            return false;
        j = (j + 1) & (u->cap - 1);
    }
    u->syms[j] = h;
    u->n_syms++;
    return true;
}

void chk_usize_add(chk_usize *u, const lk_entry *e)
{
    u->bytes += (int64_t)e->line.len + PAIR_BYTES * (int64_t)e->n_meta;
    for (size_t i = 0; i < e->n_meta; i++) {
        if (intern(u, e->meta[i].name))
            u->bytes += (int64_t)e->meta[i].name.len;
        if (intern(u, e->meta[i].value))
            u->bytes += (int64_t)e->meta[i].value.len;
    }
}

void chk_usize_free(chk_usize *u)
{
    free(u->syms);
    memset(u, 0, sizeof(*u));
}
