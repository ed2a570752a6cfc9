/* The in-memory label index (storage/memidx.h).
 *
 * Names and values are each an open-addressing table (linear probing,
 * at most half full, deletion by moving back the entries after the hole)
 * of entries that carry their XXH3-64 hash and their bytes. A value entry
 * lists its streams in an array; removing a stream only counts it (dead),
 * and the array is compacted, dropping the removed streams' references,
 * once dead streams are half of it, so removing many streams costs
 * amortised O(1) each. A value whose streams are all removed is deleted,
 * and a name without values with it. */
#include "storage/memidx.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lib/mem.h"

typedef struct mix_key {
    uint64_t h;
    size_t len;
} mix_key;

typedef struct mix_tab {
    void **slots; /* entries starting with a mix_key; NULL: empty */
    size_t cap, n;
} mix_tab;

typedef struct mix_value {
    mix_key k;
    st_stream **s;
    uint32_t n, cap, dead;
    char bytes[];
} mix_value;

typedef struct mix_name {
    mix_key k;
    mix_tab values;
    char bytes[];
} mix_name;

struct mix {
    pthread_rwlock_t mu;
    mix_tab names;
};

/* ---- tables */

static const char *entry_bytes(const void *e, bool is_name)
{
    return is_name ? ((const mix_name *)e)->bytes : ((const mix_value *)e)->bytes;
}

static void *tab_find(const mix_tab *t, lk_str s, uint64_t h, bool is_name)
{
    if (!t->cap)
        return NULL;
    for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        const mix_key *k = t->slots[i];
        if (!k)
            return NULL;
        if (k->h == h && k->len == s.len && memcmp(entry_bytes(k, is_name), s.p, s.len) == 0)
            return t->slots[i];
    }
}

static void tab_put(void **slots, size_t cap, void *e)
{
    size_t i = ((mix_key *)e)->h & (cap - 1);
    while (slots[i])
        i = (i + 1) & (cap - 1);
    slots[i] = e;
}

static void tab_insert(mix_tab *t, void *e)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 8;
        void **ns = lk_calloc(ncap, sizeof(*ns));
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i])
                tab_put(ns, ncap, t->slots[i]);
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    tab_put(t->slots, t->cap, e);
    t->n++;
}

static void tab_delete(mix_tab *t, void *e)
{
    size_t mask = t->cap - 1, i = ((mix_key *)e)->h & mask;
    while (t->slots[i] != e)
        i = (i + 1) & mask;
    t->slots[i] = NULL;
    t->n--;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t k = ((mix_key *)t->slots[j])->h & mask;
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        t->slots[i] = t->slots[j];
        t->slots[j] = NULL;
        i = j;
    }
}

/* head: offsetof the entry's bytes (not its sizeof: padding). */
static void *entry_new(size_t head, lk_str s, uint64_t h)
{
    mix_key *k = lk_calloc(1, head + s.len + 1);
    k->h = h;
    k->len = s.len;
    if (s.len)
        memcpy((char *)k + head, s.p, s.len);
    return k;
}

static uint64_t hash_of(lk_str s)
{
    return XXH3_64bits(s.p ? s.p : "", s.len);
}

/* ---- values */

static void value_free(mix_value *v)
{
    for (uint32_t i = 0; i < v->n; i++)
        st_stream_unref(v->s[i]);
    free(v->s);
    free(v);
}

static void value_compact(mix_value *v)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < v->n; i++) {
        if (st_stream_removed(v->s[i]))
            st_stream_unref(v->s[i]);
        else
            v->s[k++] = v->s[i];
    }
    v->n = k;
    v->dead = 0;
}

static void name_free(mix_name *nm)
{
    for (size_t i = 0; i < nm->values.cap; i++)
        if (nm->values.slots[i])
            value_free(nm->values.slots[i]);
    free(nm->values.slots);
    free(nm);
}

mix *mix_new(void)
{
    mix *x = lk_calloc(1, sizeof(*x));
    pthread_rwlock_init(&x->mu, NULL);
    return x;
}

void mix_free(mix *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->names.cap; i++)
        if (x->names.slots[i])
            name_free(x->names.slots[i]);
    free(x->names.slots);
    pthread_rwlock_destroy(&x->mu);
    free(x);
}

static void add_label(mix *x, const lk_label *l, st_stream *s)
{
    uint64_t hn = hash_of(l->name), hv = hash_of(l->value);
    mix_name *nm = tab_find(&x->names, l->name, hn, true);
    if (!nm) {
        nm = entry_new(offsetof(mix_name, bytes), l->name, hn);
        tab_insert(&x->names, nm);
    }
    mix_value *v = tab_find(&nm->values, l->value, hv, false);
    if (!v) {
        v = entry_new(offsetof(mix_value, bytes), l->value, hv);
        tab_insert(&nm->values, v);
    }
    if (v->n == v->cap) {
        size_t cap = v->cap;
        v->s = lk_grow(v->s, &cap, (size_t)v->n + 1, sizeof(*v->s));
        v->cap = (uint32_t)cap;
    }
    v->s[v->n++] = st_stream_ref(s);
}

void mix_add(mix *x, st_stream *s)
{
    const lk_labels *l = st_stream_labels(s);
    pthread_rwlock_wrlock(&x->mu);
    for (size_t i = 0; i < l->n; i++)
        add_label(x, &l->v[i], s);
    pthread_rwlock_unlock(&x->mu);
}

static void remove_label(mix *x, const lk_label *l)
{
    mix_name *nm = tab_find(&x->names, l->name, hash_of(l->name), true);
    mix_value *v = nm ? tab_find(&nm->values, l->value, hash_of(l->value), false) : NULL;
    if (!v)
        return;
    if (++v->dead * 2 < v->n)
        return;
    value_compact(v);
    if (v->n)
        return;
    tab_delete(&nm->values, v);
    value_free(v);
    if (nm->values.n)
        return;
    tab_delete(&x->names, nm);
    name_free(nm);
}

void mix_remove(mix *x, st_stream *s)
{
    const lk_labels *l = st_stream_labels(s);
    pthread_rwlock_wrlock(&x->mu);
    for (size_t i = 0; i < l->n; i++)
        remove_label(x, &l->v[i]);
    pthread_rwlock_unlock(&x->mu);
}

/* ---- reading */

static bool value_in_range(const mix_value *v, int64_t from, int64_t through)
{
    for (uint32_t i = 0; i < v->n; i++)
        if (st_stream_overlaps(v->s[i], from, through))
            return true;
    return false;
}

static bool name_in_range(const mix_name *nm, int64_t from, int64_t through)
{
    for (size_t i = 0; i < nm->values.cap; i++) {
        const mix_value *v = nm->values.slots[i];
        if (v && value_in_range(v, from, through))
            return true;
    }
    return false;
}

void mix_names(mix *x, int64_t from, int64_t through, mix_str_fn fn, void *ctx)
{
    pthread_rwlock_rdlock(&x->mu);
    for (size_t i = 0; i < x->names.cap; i++) {
        const mix_name *nm = x->names.slots[i];
        if (nm && name_in_range(nm, from, through))
            fn(ctx, lk_str_n(nm->bytes, nm->k.len));
    }
    pthread_rwlock_unlock(&x->mu);
}

void mix_values(mix *x, lk_str name, int64_t from, int64_t through, mix_str_fn fn, void *ctx)
{
    pthread_rwlock_rdlock(&x->mu);
    const mix_name *nm = tab_find(&x->names, name, hash_of(name), true);
    for (size_t i = 0; nm && i < nm->values.cap; i++) {
        const mix_value *v = nm->values.slots[i];
        if (v && value_in_range(v, from, through))
            fn(ctx, lk_str_n(v->bytes, v->k.len));
    }
    pthread_rwlock_unlock(&x->mu);
}

bool mix_candidates(mix *x, const lk_matcher *ms, size_t nm, st_stream ***out, size_t *n)
{
    bool found = false;
    const mix_value *best = NULL;
    pthread_rwlock_rdlock(&x->mu);
    for (size_t i = 0; i < nm; i++) {
        if (ms[i].type != LK_MATCH_EQ || ms[i].value_len == 0)
            continue;
        lk_str name = lk_str_n(ms[i].name, ms[i].name_len);
        lk_str value = lk_str_n(ms[i].value, ms[i].value_len);
        const mix_name *e = tab_find(&x->names, name, hash_of(name), true);
        const mix_value *v = e ? tab_find(&e->values, value, hash_of(value), false) : NULL;
        if (!found || !v || (best && v->n < best->n))
            best = v;
        found = true;
        if (!best)
            break; /* a value no stream has: no candidate */
    }
    if (found) {
        size_t k = 0;
        *out = lk_malloc((best && best->n ? best->n : 1) * sizeof(**out));
        for (uint32_t i = 0; best && i < best->n; i++)
            if (!st_stream_removed(best->s[i]))
                (*out)[k++] = st_stream_ref(best->s[i]);
        *n = k;
    }
    pthread_rwlock_unlock(&x->mu);
    return found;
}
