/* Per-interval line counts of a pattern (see samples.h; Loki's
 * pkg/pattern/drain/chunk.go). */
#include "query/pattern/samples.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

static int64_t trunc_to(int64_t ts, int64_t step)
{
    return ts - ts % step;
}

static void chunk_push(pat_chunk *k, int64_t ts, int64_t v)
{
    if (k->n == k->cap)
        k->v = lk_grow(k->v, &k->cap, k->n + 1, sizeof *k->v);
    k->v[k->n++] = (pat_sample){ ts, v };
}

static void new_chunk(pat_chunks *c, int64_t t)
{
    if (c->n == c->cap)
        c->c = lk_grow(c->c, &c->cap, c->n + 1, sizeof *c->c);
    c->c[c->n] = (pat_chunk){ 0 };
    chunk_push(&c->c[c->n++], t, 1);
}

void pat_chunks_add(pat_chunks *c, int64_t ts_ms)
{
    int64_t t = trunc_to(ts_ms, PAT_SAMPLE_INTERVAL_MS);
    if (c->n == 0) {
        new_chunk(c, t);
        return;
    }
    pat_chunk *last = &c->c[c->n - 1];
    pat_sample *ls = &last->v[last->n - 1];
    if (ls->ts == t) {
        ls->v++;
        return;
    }
    if (t - last->v[0].ts >= PAT_MAX_CHUNK_AGE_MS) {
        new_chunk(c, t);
        return;
    }
    if (ts_ms < ls->ts)
        return;
    chunk_push(last, t, 1);
}

static void out_push(pat_sample **out, size_t *n, size_t *cap, int64_t ts, int64_t v)
{
    if (*n == *cap)
        *out = lk_grow(*out, cap, *n + 1, sizeof **out);
    (*out)[(*n)++] = (pat_sample){ ts, v };
}

/* First index in k with ts >= at. */
static size_t lower_bound(const pat_chunk *k, int64_t at)
{
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->v[mid].ts >= at)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void chunk_range(const pat_chunk *k, int64_t start, int64_t end, int64_t step,
                        pat_sample **out, size_t *n, size_t *cap)
{
    if (k->n == 0)
        return;
    int64_t first = k->v[0].ts, last = k->v[k->n - 1].ts;
    if (start >= end || first >= end || last < start)
        return;
    size_t lo = start > first ? lower_bound(k, start) : 0;
    size_t hi = end < last ? lower_bound(k, end) : k->n;
    if (hi == 0 || lo >= hi)
        return;
    if (step == PAT_SAMPLE_INTERVAL_MS) {
        for (size_t i = lo; i < hi; i++)
            out_push(out, n, cap, k->v[i].ts, k->v[i].v);
        return;
    }
    int64_t cur = trunc_to(k->v[lo].ts, step);
    out_push(out, n, cap, cur, 0);
    for (size_t i = lo; i < hi; i++) {
        const pat_sample *s = &k->v[i];
        if (s->ts >= cur + step) {
            int64_t at = trunc_to(s->ts, step);
            for (int64_t t = cur + step; t <= at; t += step)
                out_push(out, n, cap, t, 0);
            cur = at;
        }
        (*out)[*n - 1].v += s->v;
    }
}

void pat_chunks_range(const pat_chunks *c, int64_t from, int64_t through, int64_t step,
                      pat_sample **out, size_t *n, size_t *cap)
{
    for (size_t i = 0; i < c->n; i++)
        chunk_range(&c->c[i], from, through, step, out, n, cap);
}

int64_t pat_chunks_prune(pat_chunks *c, int64_t cutoff_ms)
{
    size_t w = 0;
    int64_t lines = 0;
    for (size_t i = 0; i < c->n; i++) {
        pat_chunk *k = &c->c[i];
        if (k->v[k->n - 1].ts < cutoff_ms) {
            free(k->v);
            continue;
        }
        for (size_t j = 0; j < k->n; j++)
            lines += k->v[j].v;
        c->c[w++] = *k;
    }
    c->n = w;
    return lines;
}

void pat_chunks_free(pat_chunks *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->c[i].v);
    free(c->c);
    memset(c, 0, sizeof *c);
}
