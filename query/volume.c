/* index/volume aggregation: streams into series, per-bucket limits (see
 * volume.h). */
#include "query/volume.h"

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"

void vol_acc_init(vol_acc *a, const vol_spec *spec, size_t n_buckets)
{
    memset(a, 0, sizeof(*a));
    a->spec = *spec;
    a->n_buckets = n_buckets;
}

static bool is_target(const vol_spec *s, lk_str name)
{
    for (size_t i = 0; i < s->n_targets; i++)
        if (lk_str_eq(s->targets[i], name))
            return true;
    return false;
}

static bool in_selector(const vol_spec *s, lk_str name)
{
    for (size_t i = 0; i < s->nm; i++)
        if (lk_str_eq(lk_str_n(s->ms[i].name, s->ms[i].name_len), name))
            return true;
    return false;
}

/* Is the label name part of the series name? With targets, the targets;
 * without, every label by label name or for `{}`, else the selector's
 * names. */
static bool aggregated(const vol_spec *s, lk_str name)
{
    if (s->n_targets)
        return is_target(s, name);
    return s->by_labels || s->nm == 0 || in_selector(s, name);
}

bool vol_stream_wanted(const vol_spec *spec, const lk_labels *stream)
{
    for (size_t i = 0; i < spec->n_targets; i++) {
        const lk_str *v = labels_get(stream, spec->targets[i]);
        if (!v || !v->len)
            return false;
    }
    return true;
}

static size_t find(const vol_acc *a, const char *key, bool *found)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(a->v[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* The series named key (metric: its labels), created when new. */
static int series_for(vol_acc *a, lk_buf *key, const lk_label *metric, size_t n,
                      vol_series **out)
{
    bool found;
    size_t at = find(a, key->p, &found);
    if (!found) {
        if (a->spec.max_series && a->n >= a->spec.max_series)
            return LK_ELIMIT;
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 16;
            a->v = lk_realloc(a->v, a->cap * sizeof(*a->v));
        }
        memmove(a->v + at + 1, a->v + at, (a->n - at) * sizeof(*a->v));
        vol_series *s = &a->v[at];
        s->key = lk_buf_steal(key);
        labels_from_pairs(metric, n, &s->metric);
        s->bytes = lk_calloc(a->n_buckets ? a->n_buckets : 1, sizeof(*s->bytes));
        s->kept = lk_calloc(a->n_buckets ? a->n_buckets : 1, sizeof(*s->kept));
        a->n++;
    }
    *out = &a->v[at];
    return 0;
}

static void add_bytes(vol_series *s, const uint64_t *bytes, size_t n)
{
    for (size_t b = 0; b < n; b++)
        s->bytes[b] += bytes[b];
}

static int add_by_labels(vol_acc *a, const lk_labels *stream, const uint64_t *bytes)
{
    lk_buf key = { 0 };
    int rc = 0;
    for (size_t i = 0; i < stream->n && rc == 0; i++) {
        if (!aggregated(&a->spec, stream->v[i].name))
            continue;
        lk_label l = { stream->v[i].name, LK_STR("") };
        lk_buf_reset(&key);
        lk_buf_puts(&key, "{");
        lk_buf_put_str(&key, l.name);
        lk_buf_puts(&key, "=\"\"}");
        vol_series *s;
        rc = series_for(a, &key, &l, 1, &s);
        if (rc == 0)
            add_bytes(s, bytes, a->n_buckets);
    }
    lk_buf_free(&key);
    return rc;
}

static int add_by_series(vol_acc *a, const lk_labels *stream, const uint64_t *bytes)
{
    lk_label *sub = lk_malloc((stream->n ? stream->n : 1) * sizeof(*sub));
    size_t n = 0;
    for (size_t i = 0; i < stream->n; i++)
        if (aggregated(&a->spec, stream->v[i].name))
            sub[n++] = stream->v[i];
    lk_labels tmp = { .n = n, .v = sub };
    lk_buf key = { 0 };
    labels_canonical(&tmp, &key);
    vol_series *s;
    int rc = series_for(a, &key, sub, n, &s);
    if (rc == 0)
        add_bytes(s, bytes, a->n_buckets);
    lk_buf_free(&key);
    free(sub);
    return rc;
}

int vol_acc_add(vol_acc *a, const lk_labels *stream, const uint64_t *bytes)
{
    bool any = false;
    for (size_t b = 0; b < a->n_buckets; b++)
        any |= bytes[b] > 0;
    if (!any || !vol_stream_wanted(&a->spec, stream))
        return 0;
    return a->spec.by_labels ? add_by_labels(a, stream, bytes) : add_by_series(a, stream, bytes);
}

/* qsort context: the bucket being ranked (qsort has no user pointer). */
typedef struct ranked {
    const vol_series *s;
    uint64_t bytes;
} ranked;

static int rank_cmp(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return strcmp(a->s->key, b->s->key);
}

void vol_acc_finish(vol_acc *a)
{
    ranked *r = lk_malloc((a->n ? a->n : 1) * sizeof(*r));
    for (size_t b = 0; b < a->n_buckets; b++) {
        size_t n = 0;
        for (size_t i = 0; i < a->n; i++)
            if (a->v[i].bytes[b] > 0)
                r[n++] = (ranked){ &a->v[i], a->v[i].bytes[b] };
        qsort(r, n, sizeof(*r), rank_cmp);
        size_t keep = a->spec.limit && a->spec.limit < n ? a->spec.limit : n;
        for (size_t i = 0; i < keep; i++)
            ((vol_series *)r[i].s)->kept[b] = true;
    }
    free(r);
}

void vol_acc_free(vol_acc *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].key);
        labels_free(&a->v[i].metric);
        free(a->v[i].bytes);
        free(a->v[i].kept);
    }
    free(a->v);
    memset(a, 0, sizeof(*a));
}
