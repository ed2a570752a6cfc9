/* Index statistics (ing_index_stats_get): chunk counts, bytes and entries of
 * the streams a selector picks, from the same views queries read (memory
 * and the index), each chunk weighted by the share of its time span that
 * lies in the range. */
#include <string.h>

#include "storage/ingester.h"
#include "storage/stream.h"

/* The share of [mint, maxt] inside [from, through]: 1 for a chunk of one
 * instant, 0 for one outside. */
static double share(int64_t from, int64_t through, int64_t mint, int64_t maxt)
{
    if (from > maxt || through < mint)
        return 0;
    if (mint >= maxt)
        return 1;
    double span = (double)maxt - (double)mint;
    double lead = from > mint ? (double)from - (double)mint : 0;
    double trail = maxt > through ? (double)maxt - (double)through : 0;
    return (span - lead - trail) / span;
}

typedef struct acc {
    bool any;
    double bytes, entries;
    uint64_t chunks;
} acc;

static void add_chunk(acc *a, int64_t from, int64_t through, int64_t mint, int64_t maxt,
                      int64_t entries, int64_t bytes)
{
    double f = share(from, through, mint, maxt);
    if (f <= 0)
        return;
    a->any = true;
    a->chunks++;
    a->bytes += f * (double)bytes;
    a->entries += f * (double)entries;
}

/* The chunks of v that overlap [from, through], weighted by share. */
static acc view_acc(const st_view *v, int64_t from, int64_t through)
{
    acc a = { 0 };
    for (size_t k = 0; k < v->n_chunks; k++) {
        const st_view_chunk *c = &v->chunks[k];
        add_chunk(&a, from, through, c->mint, c->maxt, c->entries, c->raw_bytes);
    }
    for (size_t k = 0; k < v->n_disk; k++) {
        const chk_ref *r = &v->disk[k];
        add_chunk(&a, from, through, r->from, r->through, r->entries, (int64_t)r->size);
    }
    return a;
}

/* bytes * the share of [mint, maxt] in [from, through], in integer time as
 * Loki's GetFactorOfTime; 0 unless from < maxt and through > mint. */
static uint64_t chunk_share(int64_t from, int64_t through, int64_t mint, int64_t maxt,
                            int64_t bytes)
{
    if (from >= maxt || through <= mint || bytes <= 0)
        return 0;
    int64_t span = maxt - mint;
    int64_t lead = from > mint ? from - mint : 0;
    int64_t trail = maxt > through ? maxt - through : 0;
    return (uint64_t)((double)bytes * ((double)(span - lead - trail) / (double)span));
}

uint64_t ing_view_bytes(const st_view *v, int64_t from, int64_t through)
{
    uint64_t n = 0;
    for (size_t k = 0; k < v->n_chunks; k++) {
        const st_view_chunk *c = &v->chunks[k];
        n += c->mint == c->maxt ? (from <= c->mint && through >= c->mint ? (uint64_t)c->raw_bytes : 0)
                                : chunk_share(from, through, c->mint, c->maxt, c->raw_bytes);
    }
    for (size_t k = 0; k < v->n_disk; k++) {
        const chk_ref *r = &v->disk[k];
        n += r->from == r->through ? (from <= r->from && through >= r->from ? r->size : 0)
                                   : chunk_share(from, through, r->from, r->through,
                                                 (int64_t)r->size);
    }
    return n;
}

int ing_index_stats_get(ing *g, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
                        int64_t through, ing_index_stats *out)
{
    memset(out, 0, sizeof(*out));
    st_view **v;
    size_t n;
    int rc = ing_select(g, tenant, ms, nm, from, through, true, &v, &n);
    if (rc != 0)
        return rc;
    double bytes = 0, entries = 0;
    for (size_t i = 0; i < n; i++) {
        acc a = view_acc(v[i], from, through);
        out->streams += a.any;
        out->chunks += a.chunks;
        bytes += a.bytes;
        entries += a.entries;
    }
    out->bytes = (uint64_t)bytes;
    out->entries = (uint64_t)entries;
    st_views_free(v, n);
    return 0;
}
