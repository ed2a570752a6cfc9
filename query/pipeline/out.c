/* Result label sets of the pipeline: the builder's labels sorted by name,
 * their canonical form hashed, optionally split into Loki's categories or
 * grouped for a sample extractor. See out.h. */
#include "query/pipeline/out.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

void lp_out_init(lp_out *o)
{
    memset(o, 0, sizeof(*o));
}

void lp_out_free(lp_out *o)
{
    free(o->tmp);
    free(o->buf);
    free(o->group0_buf);
    lk_buf_free(&o->canon);
    memset(o, 0, sizeof(*o));
}

static bool plain_value(lk_str v)
{
    const unsigned char *p = (const unsigned char *)v.p;
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    size_t i = 0;
    for (; i + 8 <= v.len; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\'), del = x ^ (ones * 0x7f);
        uint64_t bad = (x - ones * 0x20) | (q - ones) | (bs - ones) | (del - ones) | x;
        if (bad & highs) {
            /* some byte may need escaping: decide byte by byte */
            for (size_t k = i; k < i + 8; k++)
                if (p[k] < 0x20 || p[k] >= 0x7f || p[k] == '"' || p[k] == '\\')
                    return false;
        }
    }
    for (; i < v.len; i++)
        if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '"' || p[i] == '\\')
            return false;
    return true;
}

/* labels_hash of labels_canonical(l), the canonical form written directly
 * (values needing no escapes are copied as they are). */
static uint64_t hash_of(lp_out *o, const lk_labels *l)
{
    lk_buf *b = &o->canon;
    lk_buf_reset(b);
    size_t need = 2;
    for (size_t i = 0; i < l->n; i++)
        need += l->v[i].name.len + l->v[i].value.len + 5;
    lk_buf_reserve(b, need);
    size_t w = 0;
    b->p[w++] = '{';
    for (size_t i = 0; i < l->n; i++) {
        lk_str nm = l->v[i].name, v = l->v[i].value;
        if (i) {
            b->p[w++] = ',';
            b->p[w++] = ' ';
        }
        if (nm.len)
            memcpy(b->p + w, nm.p, nm.len);
        w += nm.len;
        b->p[w++] = '=';
        if (plain_value(v)) {
            b->p[w++] = '"';
            if (v.len)
                memcpy(b->p + w, v.p, v.len);
            w += v.len;
            b->p[w++] = '"';
        } else {
            b->len = w;
            lk_go_quote(v, b);
            w = b->len;
            size_t rest = 1;
            for (size_t j = i + 1; j < l->n; j++)
                rest += l->v[j].name.len + l->v[j].value.len + 5;
            lk_buf_reserve(b, rest);
        }
    }
    b->p[w++] = '}';
    b->len = w;
    b->p[w] = '\0';
    return labels_hash(lk_buf_str(b));
}

void lp_out_set_stream(lp_out *o, const lk_labels *stream)
{
    static const lk_labels none = { 0 };
    o->stream = stream ? stream : &none;
    o->stream_hash0 = hash_of(o, o->stream);
    o->group_cached = false;
}

/* lk_str_cmp, deciding on the first byte when it can. */
static inline int name_cmp(lk_str a, lk_str b)
{
    if (a.len && b.len && a.p[0] != b.p[0])
        return (unsigned char)a.p[0] < (unsigned char)b.p[0] ? -1 : 1;
    return lk_str_cmp(a, b);
}

static void sort_lbls(lp_lbl *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        lp_lbl x = v[i];
        size_t j = i;
        while (j > 0 && name_cmp(v[j - 1].name, x.name) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* Collects the builder's labels into o->tmp, sorted; returns the count.
 * When the stream labels are all there, only the adds are sorted and then
 * merged with them. */
static size_t collect_sorted(lp_out *o, const lp_lbs *b)
{
    size_t max = 2 * lp_lbs_count_max(b);
    if (max > o->cap_tmp)
        o->tmp = lk_grow(o->tmp, &o->cap_tmp, max, sizeof(*o->tmp));
    if (!lp_lbs_base_intact(b) || !b->base) {
        size_t n = lp_lbs_collect(b, o->tmp);
        sort_lbls(o->tmp, n);
        return n;
    }
    size_t half = max / 2;
    lp_lbl *adds = o->tmp + half;
    size_t na = lp_lbs_collect_adds(b, adds);
    sort_lbls(adds, na);
    const lk_labels *base = b->base;
    size_t i = 0, j = 0, n = 0;
    while (i < base->n || j < na) {
        if (j == na || (i < base->n && name_cmp(base->v[i].name, adds[j].name) < 0)) {
            o->tmp[n++] = (lp_lbl){ base->v[i].name, base->v[i].value, 0, 0, false };
            i++;
        } else {
            o->tmp[n++] = adds[j++];
        }
    }
    return n;
}

static void ensure_buf(lp_out *o, size_t n)
{
    if (2 * n + 1 > o->cap_buf)
        o->buf = lk_grow(o->buf, &o->cap_buf, 2 * n + 1, sizeof(*o->buf));
}

static void set_view(lk_labels *l, lk_label *v, size_t n)
{
    l->v = v;
    l->n = n;
    l->mem = NULL;
}

void lp_out_build(lp_out *o, const lp_lbs *b, bool categorize)
{
    if (!lp_lbs_changed(b)) {
        o->all = *o->stream;
        o->all.mem = NULL;
        o->hash = o->stream_hash0;
        o->stream_part = o->all;
        o->stream_hash = o->hash;
        set_view(&o->meta, NULL, 0);
        set_view(&o->parsed, NULL, 0);
        return;
    }
    size_t n = collect_sorted(o, b);
    ensure_buf(o, n);
    lk_label *all = o->buf, *cat = o->buf + n;
    for (size_t i = 0; i < n; i++)
        all[i] = (lk_label){ o->tmp[i].name, o->tmp[i].value };
    set_view(&o->all, all, n);
    o->hash = hash_of(o, &o->all);
    if (!categorize) {
        o->stream_part = o->all;
        o->stream_hash = o->hash;
        set_view(&o->meta, NULL, 0);
        set_view(&o->parsed, NULL, 0);
        return;
    }
    /* stream labels, then metadata, then parsed, each still sorted */
    size_t k = 0, ns = 0, nm = 0;
    for (int c = 0; c <= LP_CAT_PARSED; c++) {
        size_t first = k;
        for (size_t i = 0; i < n; i++)
            if (o->tmp[i].cat == c)
                cat[k++] = all[i];
        if (c == 0)
            ns = k - first;
        else if (c == LP_CAT_META)
            nm = k - first;
    }
    set_view(&o->stream_part, cat, ns);
    set_view(&o->meta, cat + ns, nm);
    set_view(&o->parsed, cat + ns + nm, k - ns - nm);
    o->stream_hash = hash_of(o, &o->stream_part);
}

static bool in_groups(lk_str name, const lk_str *groups, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lk_str_eq(groups[i], name))
            return true;
    return false;
}

void lp_out_build_grouped(lp_out *o, const lp_lbs *b, const lk_str *groups, size_t n_groups,
                          bool without)
{
    if (!lp_lbs_changed(b) && o->group_cached) {
        o->all = o->group0;
        o->hash = o->group0_hash;
        return;
    }
    size_t k = 0;
    if (!without) {
        /* by (...): the groups are sorted and unique; look each one up */
        ensure_buf(o, n_groups);
        for (size_t i = 0; i < n_groups; i++) {
            lk_str v;
            if (lp_lbs_get(b, groups[i], &v))
                o->buf[k++] = (lk_label){ groups[i], v };
        }
    } else {
        size_t n = collect_sorted(o, b);
        ensure_buf(o, n);
        for (size_t i = 0; i < n; i++)
            if (!in_groups(o->tmp[i].name, groups, n_groups))
                o->buf[k++] = (lk_label){ o->tmp[i].name, o->tmp[i].value };
    }
    set_view(&o->all, o->buf, k);
    o->hash = hash_of(o, &o->all);
    if (!lp_lbs_changed(b)) {
        /* the stream's own grouping: kept for the stream's next entries */
        if (k > o->cap_group0)
            o->group0_buf = lk_grow(o->group0_buf, &o->cap_group0, k, sizeof(*o->group0_buf));
        if (k)
            memcpy(o->group0_buf, o->buf, k * sizeof(*o->buf));
        set_view(&o->group0, o->group0_buf, k);
        o->group0_hash = o->hash;
        o->group_cached = true;
        o->all = o->group0;
    }
}

void lp_out_build_empty(lp_out *o)
{
    set_view(&o->all, NULL, 0);
    o->hash = hash_of(o, &o->all);
}
