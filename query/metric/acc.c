/* Per-series accumulators of a range aggregation: cells filled as samples
 * are read, merged across reader threads, and turned into one value per
 * step with Loki's range functions (pkg/logql/range_vector.go). See
 * query/metric/acc.h for the cell layout. */
#include "query/metric/acc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "query/metric/metric_int.h"

double lm_seconds(int64_t ns)
{
    int64_t sec = ns / 1000000000, nsec = ns % 1000000000;
    return (double)sec + (double)nsec / 1e9;
}

static lm_cell_kind kind_of(logql_range_op op, bool unwrap)
{
    switch (op) {
    case LOGQL_RANGE_COUNT:
    case LOGQL_RANGE_ABSENT:
        return LM_CK_COUNT;
    case LOGQL_RANGE_RATE:
        return unwrap ? LM_CK_SUM : LM_CK_COUNT;
    case LOGQL_RANGE_BYTES:
    case LOGQL_RANGE_BYTES_RATE:
    case LOGQL_RANGE_SUM:
        return LM_CK_SUM;
    case LOGQL_RANGE_AVG:
        return LM_CK_AVG;
    case LOGQL_RANGE_MIN:
        return LM_CK_MIN;
    case LOGQL_RANGE_MAX:
        return LM_CK_MAX;
    case LOGQL_RANGE_FIRST:
        return LM_CK_FIRST;
    case LOGQL_RANGE_LAST:
        return LM_CK_LAST;
    default: /* quantile, stddev, stdvar, rate_counter */
        return LM_CK_SAMPLES;
    }
}

/* Most buckets a window may span before step mode takes over (memory and
 * finalizing are O(steps + buckets) per series). */
static int64_t max_buckets(size_t n_steps)
{
    return n_steps * 4 > 4096 ? (int64_t)n_steps * 4 : 4096;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

void lm_plan_init(lm_plan *p, const logql_range_agg *ra, int64_t start, int64_t step,
                  size_t n_steps)
{
    *p = (lm_plan){ .op = ra->op, .unwrap = ra->unwrap != NULL, .param = ra->param };
    p->kind = kind_of(ra->op, p->unwrap);
    p->R = ra->range_ns > 0 ? ra->range_ns : 1;
    p->S = sat_add(start, -ra->offset_ns);
    p->n_steps = n_steps;
    if (n_steps <= 1) {
        p->n_steps = 1;
        p->step = p->R;
        p->buckets = true;
        p->k = 1;
        p->n_cells = 1;
    } else if (p->R % step == 0 && p->R / step <= max_buckets(n_steps)) {
        p->step = step;
        p->buckets = true;
        p->k = (size_t)(p->R / step);
        p->n_cells = n_steps + p->k - 1;
    } else {
        p->step = step;
        p->diff = p->kind == LM_CK_COUNT ||
                  (p->kind == LM_CK_SUM && !p->unwrap &&
                   (p->op == LOGQL_RANGE_BYTES || p->op == LOGQL_RANGE_BYTES_RATE));
        p->n_cells = p->diff ? n_steps + 1 : n_steps;
    }
    p->page = p->n_cells < 512 ? p->n_cells : 512;
    p->n_pages = (p->n_cells + p->page - 1) / p->page;
    int64_t last = n_steps <= 1 ? p->S : sat_add(p->S, (int64_t)(n_steps - 1) * step);
    p->from = sat_add(sat_add(p->S, -p->R), 1);
    p->through = sat_add(last, 1);
}

/* Arrays of each cell kind: b always, a for values, t for times. */
static size_t arrays_of(lm_cell_kind k)
{
    return 1 + (k != LM_CK_COUNT) + (k == LM_CK_FIRST || k == LM_CK_LAST);
}

lm_acc *lm_acc_new(const lm_plan *p, const lk_labels *labels, uint64_t hash, size_t *mem)
{
    lm_acc *a = lk_calloc(1, sizeof *a);
    labels_copy(labels, &a->labels);
    a->hash = hash;
    a->mem = mem;
    *mem += sizeof *a + (size_t)lm_labels_bytes(labels);
    if (p->kind == LM_CK_SAMPLES)
        return a;
    a->b = lk_calloc(p->n_pages, sizeof *a->b);
    if (p->kind != LM_CK_COUNT)
        a->a = lk_calloc(p->n_pages, sizeof *a->a);
    if (p->kind == LM_CK_FIRST || p->kind == LM_CK_LAST)
        a->t = lk_calloc(p->n_pages, sizeof *a->t);
    a->n_pages = p->n_pages;
    *mem += p->n_pages * sizeof(void *) * arrays_of(p->kind);
    return a;
}

static void free_pages(void **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void lm_acc_free(lm_acc *a)
{
    if (!a)
        return;
    labels_free(&a->labels);
    free_pages((void **)a->a, a->n_pages);
    free_pages((void **)a->b, a->n_pages);
    free_pages((void **)a->t, a->n_pages);
    free(a->pts);
    free(a);
}

static void touch(const lm_plan *p, lm_acc *a, size_t pg)
{
    a->b[pg] = lk_calloc(p->page, sizeof **a->b);
    if (a->a)
        a->a[pg] = lk_calloc(p->page, sizeof **a->a);
    if (a->t)
        a->t[pg] = lk_calloc(p->page, sizeof **a->t);
    *a->mem += p->page * sizeof(double) * arrays_of(p->kind);
}

/* ceil(a / b) for b > 0 */
static inline int64_t ceil_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return a > 0 && a % b ? q + 1 : q;
}

size_t lm_acc_bucket(const lm_plan *p, int64_t ts)
{
    int64_t b = ceil_div(ts - p->S, p->step) + (int64_t)p->k - 1;
    return b >= 0 && b < (int64_t)p->n_cells ? (size_t)b : SIZE_MAX;
}

void lm_acc_add_cell(const lm_plan *p, lm_acc *a, size_t i, int64_t ts, double v)
{
    size_t pg = i / p->page, o = i % p->page;
    if (!a->b[pg])
        touch(p, a, pg);
    double *b = &a->b[pg][o];
    switch (p->kind) {
    case LM_CK_COUNT:
        break;
    case LM_CK_SUM:
    case LM_CK_AVG:
        a->a[pg][o] += v;
        break;
    case LM_CK_MIN: {
        double *ca = &a->a[pg][o];
        if (*b == 0 || v < *ca || isnan(*ca))
            *ca = v;
        break;
    }
    case LM_CK_MAX: {
        double *ca = &a->a[pg][o];
        if (*b == 0 || v > *ca || isnan(*ca))
            *ca = v;
        break;
    }
    case LM_CK_FIRST:
        if (*b == 0 || ts < a->t[pg][o]) {
            a->a[pg][o] = v;
            a->t[pg][o] = ts;
        }
        break;
    case LM_CK_LAST:
        if (*b == 0 || ts >= a->t[pg][o]) {
            a->a[pg][o] = v;
            a->t[pg][o] = ts;
        }
        break;
    case LM_CK_SAMPLES:
        return;
    }
    *b += 1;
}

static void add_point(lm_acc *a, int64_t ts, double v)
{
    size_t cap = a->cap_pts;
    a->pts = lk_grow(a->pts, &a->cap_pts, a->n_pts + 1, sizeof *a->pts);
    *a->mem += (a->cap_pts - cap) * sizeof *a->pts;
    a->pts[a->n_pts++] = (lm_pt){ ts, v };
}

/* Difference array: db/da added at cell i. */
static void diff_add(const lm_plan *p, lm_acc *a, size_t i, double db, double da)
{
    size_t pg = i / p->page, o = i % p->page;
    if (!a->b[pg])
        touch(p, a, pg);
    a->b[pg][o] += db;
    if (a->a)
        a->a[pg][o] += da;
}

void lm_acc_add(const lm_plan *p, lm_acc *a, int64_t ts, double v)
{
    if (ts < p->from || ts >= p->through)
        return;
    if (p->kind == LM_CK_SAMPLES) {
        add_point(a, ts, v);
        return;
    }
    if (p->buckets) {
        size_t b = lm_acc_bucket(p, ts);
        if (b != SIZE_MAX)
            lm_acc_add_cell(p, a, b, ts, v);
        return;
    }
    /* step mode: every window (t_i - R, t_i] holding ts */
    int64_t lo = ceil_div(ts - p->S, p->step);
    int64_t hi = ceil_div(ts - p->S + p->R, p->step) - 1;
    if (lo < 0)
        lo = 0;
    if (hi > (int64_t)p->n_steps - 1)
        hi = (int64_t)p->n_steps - 1;
    if (lo > hi)
        return;
    if (p->diff) {
        diff_add(p, a, (size_t)lo, 1, v);
        diff_add(p, a, (size_t)hi + 1, -1, -v);
        return;
    }
    for (int64_t i = lo; i <= hi; i++)
        lm_acc_add_cell(p, a, (size_t)i, ts, v);
}

/* ---- combining cells */

typedef struct cell {
    double a, b;
    int64_t t;
} cell;

/* x then y; for FIRST/LAST the times decide (x earlier on ties). */
static cell combine(lm_cell_kind k, cell x, cell y)
{
    if (y.b == 0)
        return x;
    if (x.b == 0)
        return y;
    cell r = { .b = x.b + y.b, .a = x.a, .t = x.t };
    switch (k) {
    case LM_CK_SUM:
    case LM_CK_AVG:
        r.a = x.a + y.a;
        break;
    case LM_CK_MIN:
        if (y.a < x.a || isnan(x.a))
            r.a = y.a;
        break;
    case LM_CK_MAX:
        if (y.a > x.a || isnan(x.a))
            r.a = y.a;
        break;
    case LM_CK_FIRST:
        if (y.t < x.t) {
            r.a = y.a;
            r.t = y.t;
        }
        break;
    case LM_CK_LAST:
        if (y.t >= x.t) {
            r.a = y.a;
            r.t = y.t;
        }
        break;
    default:
        break;
    }
    return r;
}

static cell cell_at(const lm_plan *p, const lm_acc *a, size_t i)
{
    size_t pg = i / p->page, o = i % p->page;
    if (!a->b[pg])
        return (cell){ 0 };
    return (cell){ .a = a->a ? a->a[pg][o] : 0, .b = a->b[pg][o], .t = a->t ? a->t[pg][o] : 0 };
}

static void cell_store(const lm_plan *p, lm_acc *a, size_t i, cell c)
{
    size_t pg = i / p->page, o = i % p->page;
    if (!a->b[pg])
        touch(p, a, pg);
    if (a->a)
        a->a[pg][o] = c.a;
    a->b[pg][o] = c.b;
    if (a->t)
        a->t[pg][o] = c.t;
}

static void move_page(lm_acc *dst, lm_acc *src, size_t pg)
{
    dst->b[pg] = src->b[pg];
    src->b[pg] = NULL;
    if (dst->a) {
        dst->a[pg] = src->a[pg];
        src->a[pg] = NULL;
    }
    if (dst->t) {
        dst->t[pg] = src->t[pg];
        src->t[pg] = NULL;
    }
}

void lm_acc_merge(const lm_plan *p, lm_acc *dst, lm_acc *src)
{
    if (p->kind == LM_CK_SAMPLES) {
        for (size_t i = 0; i < src->n_pts; i++)
            add_point(dst, src->pts[i].t, src->pts[i].v);
        src->n_pts = 0;
        return;
    }
    for (size_t pg = 0; pg < p->n_pages; pg++) {
        if (!src->b[pg])
            continue;
        if (!dst->b[pg]) {
            move_page(dst, src, pg);
            continue;
        }
        size_t end = (pg + 1) * p->page < p->n_cells ? (pg + 1) * p->page : p->n_cells;
        for (size_t i = pg * p->page; i < end; i++) {
            cell c = cell_at(p, src, i);
            if (p->diff) {
                cell d = cell_at(p, dst, i);
                cell_store(p, dst, i, (cell){ .a = d.a + c.a, .b = d.b + c.b });
            } else if (c.b != 0) {
                cell_store(p, dst, i, combine(p->kind, cell_at(p, dst, i), c));
            }
        }
    }
}

/* ---- finalizing */

void lm_fin_free(lm_fin *f)
{
    free(f->pa);
    free(f->pb);
    free(f->sa);
    free(f->sb);
    free(f->pt);
    free(f->st);
    free(f->vals);
    free(f->tmp);
    *f = (lm_fin){ 0 };
}

static double window_value(const lm_plan *p, cell c)
{
    switch (p->kind) {
    case LM_CK_COUNT:
        return p->op == LOGQL_RANGE_RATE ? c.b / lm_seconds(p->R) : c.b;
    case LM_CK_SUM:
        return p->op == LOGQL_RANGE_RATE || p->op == LOGQL_RANGE_BYTES_RATE
                   ? c.a / lm_seconds(p->R)
                   : c.a;
    case LM_CK_AVG:
        return c.a / c.b;
    default:
        return c.a;
    }
}

static void fin_reserve(lm_fin *f, size_t n)
{
    if (f->cap_cells >= n)
        return;
    f->cap_cells = n;
    f->pa = lk_realloc(f->pa, n * sizeof *f->pa);
    f->pb = lk_realloc(f->pb, n * sizeof *f->pb);
    f->sa = lk_realloc(f->sa, n * sizeof *f->sa);
    f->sb = lk_realloc(f->sb, n * sizeof *f->sb);
    f->pt = lk_realloc(f->pt, n * sizeof *f->pt);
    f->st = lk_realloc(f->st, n * sizeof *f->st);
}

/* Bucket mode with k > 1: prefix aggregates within blocks of k cells
 * (pa/pb/pt) and suffix ones (sa/sb/st); window [i, i+k-1] is
 * suffix(i) + prefix(i+k-1), or prefix(i+k-1) alone when i starts a block. */
static void finalize_vhgw(const lm_plan *p, lm_acc *a, lm_fin *f, double *v, uint8_t *present)
{
    size_t n = p->n_cells, k = p->k;
    fin_reserve(f, n);
    for (size_t i = 0; i < n; i++) {
        cell c = cell_at(p, a, i);
        if (i % k) {
            cell prev = { f->pa[i - 1], f->pb[i - 1], f->pt[i - 1] };
            c = combine(p->kind, prev, c);
        }
        f->pa[i] = c.a;
        f->pb[i] = c.b;
        f->pt[i] = c.t;
    }
    for (size_t i = n; i-- > 0;) {
        cell c = cell_at(p, a, i);
        if ((i + 1) % k && i + 1 < n) {
            cell next = { f->sa[i + 1], f->sb[i + 1], f->st[i + 1] };
            c = combine(p->kind, c, next);
        }
        f->sa[i] = c.a;
        f->sb[i] = c.b;
        f->st[i] = c.t;
    }
    for (size_t i = 0; i < p->n_steps; i++) {
        size_t e = i + k - 1;
        cell w = { f->pa[e], f->pb[e], f->pt[e] };
        if (i % k) {
            cell s = { f->sa[i], f->sb[i], f->st[i] };
            w = combine(p->kind, s, w);
        }
        present[i] = w.b > 0;
        v[i] = present[i] ? window_value(p, w) : 0;
    }
}

/* ---- sample-based functions */

static int cmp_pt(const void *x, const void *y)
{
    const lm_pt *a = x, *b = y;
    return (a->t > b->t) - (a->t < b->t);
}

/* Stable sort by time (arrival order kept for equal times). */
static void sort_points(lm_acc *a, lm_fin *f)
{
    size_t n = a->n_pts;
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = a->pts[i - 1].t <= a->pts[i].t;
    if (sorted)
        return;
    /* a bottom-up merge sort: stable, and the input is runs appended in
     * time order (one per stream and reader) */
    if (f->cap_tmp < n) {
        f->cap_tmp = n;
        f->tmp = lk_realloc(f->tmp, n * sizeof *f->tmp);
    }
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                f->tmp[o++] = cmp_pt(&a->pts[j], &a->pts[i]) < 0 ? a->pts[j++] : a->pts[i++];
            while (i < mid)
                f->tmp[o++] = a->pts[i++];
            while (j < hi)
                f->tmp[o++] = a->pts[j++];
        }
        memcpy(a->pts, f->tmp, n * sizeof *a->pts);
    }
}

static int cmp_nan_first(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    if (isnan(a))
        return isnan(b) ? 0 : -1;
    if (isnan(b))
        return 1;
    return (a > b) - (a < b);
}

double lm_quantile(double q, double *values, size_t n)
{
    if (n == 0)
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    qsort(values, n, sizeof *values, cmp_nan_first);
    double rank = q * (double)(n - 1);
    double lower = fmax(0, floor(rank));
    double upper = fmin((double)(n - 1), lower + 1);
    double weight = rank - floor(rank);
    return values[(size_t)lower] * (1 - weight) + values[(size_t)upper] * weight;
}

static double stdvar(const lm_pt *s, size_t n)
{
    double aux = 0, count = 0, mean = 0;
    for (size_t i = 0; i < n; i++) {
        count++;
        double delta = s[i].v - mean;
        mean += delta / count;
        aux += delta * (s[i].v - mean);
    }
    return aux / count;
}

/* Loki's rateCounter: Prometheus' extrapolatedRate as Loki calls it, with
 * the samples' times in nanoseconds and the range start taken as the first
 * sample minus the range in milliseconds (pkg/logql/range_vector.go). */
static double rate_counter(const lm_pt *s, size_t n, int64_t range)
{
    if (n < 2)
        return 0;
    int64_t range_start = s[0].t - range / 1000000;
    int64_t range_end = s[n - 1].t;
    double result = s[n - 1].v - s[0].v;
    double last = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].v < last)
            result += last;
        last = s[i].v;
    }
    double to_start = (double)(s[0].t - range_start) / 1000;
    double to_end = (double)(range_end - s[n - 1].t) / 1000;
    double sampled = (double)(s[n - 1].t - s[0].t) / 1000;
    double avg = sampled / (double)(n - 1);
    if (result > 0 && s[0].v >= 0) {
        double to_zero = sampled * (s[0].v / result);
        if (to_zero < to_start)
            to_start = to_zero;
    }
    double threshold = avg * 1.1, interval = sampled;
    interval += to_start < threshold ? to_start : avg / 2;
    interval += to_end < threshold ? to_end : avg / 2;
    result = result * (interval / sampled);
    return result / lm_seconds(range);
}

static double samples_value(const lm_plan *p, const lm_pt *s, size_t n, lm_fin *f)
{
    switch (p->op) {
    case LOGQL_RANGE_QUANTILE:
        if (f->cap_vals < n) {
            f->cap_vals = n;
            f->vals = lk_realloc(f->vals, n * sizeof *f->vals);
        }
        for (size_t i = 0; i < n; i++)
            f->vals[i] = s[i].v;
        return lm_quantile(p->param, f->vals, n);
    case LOGQL_RANGE_STDVAR:
        return stdvar(s, n);
    case LOGQL_RANGE_STDDEV:
        return sqrt(stdvar(s, n));
    default: /* rate_counter */
        return rate_counter(s, n, p->R);
    }
}

static void finalize_samples(const lm_plan *p, lm_acc *a, lm_fin *f, double *v,
                             uint8_t *present)
{
    sort_points(a, f);
    size_t lo = 0, hi = 0;
    for (size_t i = 0; i < p->n_steps; i++) {
        int64_t end = p->n_steps == 1 ? p->S : p->S + (int64_t)i * p->step;
        int64_t begin = end - p->R;
        while (lo < a->n_pts && a->pts[lo].t <= begin)
            lo++;
        if (hi < lo)
            hi = lo;
        while (hi < a->n_pts && a->pts[hi].t <= end)
            hi++;
        present[i] = hi > lo;
        v[i] = present[i] ? samples_value(p, a->pts + lo, hi - lo, f) : 0;
    }
}

void lm_acc_finalize(const lm_plan *p, lm_acc *a, lm_fin *f, double *v, uint8_t *present)
{
    if (p->kind == LM_CK_SAMPLES) {
        finalize_samples(p, a, f, v, present);
        return;
    }
    if (p->buckets && p->k > 1) {
        finalize_vhgw(p, a, f, v, present);
        return;
    }
    if (p->diff) {
        cell run = { 0 };
        for (size_t i = 0; i < p->n_steps; i++) {
            cell d = cell_at(p, a, i);
            run.a += d.a;
            run.b += d.b;
            present[i] = run.b > 0;
            v[i] = present[i] ? window_value(p, run) : 0;
        }
        return;
    }
    for (size_t i = 0; i < p->n_steps; i++) {
        cell c = cell_at(p, a, i);
        present[i] = c.b > 0;
        v[i] = present[i] ? window_value(p, c) : 0;
    }
}
