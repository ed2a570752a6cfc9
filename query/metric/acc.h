/* Private to the metric evaluator: per-series accumulators of a range
 * aggregation and the window arithmetic.
 *
 * Steps are t_i = S + i*step (S = start - offset, in data time), windows
 * (t_i - R, t_i]. Samples are folded into cells as they are read, so memory
 * is O(series x cells), not O(samples):
 *
 *   bucket mode (R a multiple of step, or a single step): cell b holds the
 *   samples of (S + (j-1)*step, S + j*step] with j = b - k + 1, k = R/step;
 *   window i is cells [i, i+k-1], combined in O(1) per step with the van
 *   Herk/Gil-Werman prefix/suffix scheme (no subtraction, so NaN, Inf and
 *   large values behave as in a sequential fold);
 *
 *   step mode (otherwise, or when a window would span too many buckets):
 *   cell i is window i, and a sample is added to every window that contains
 *   it — except for counts and byte sums, whose integer values allow a
 *   difference array: +v at the first window holding the sample, -v after
 *   the last, summed up when finalizing (O(1) per sample for any range).
 *
 * quantile, stddev, stdvar and rate_counter keep the samples of a series
 * (time, value) and compute each window from them, as Loki does. */
#ifndef LOKIC_QUERY_METRIC_ACC_H
#define LOKIC_QUERY_METRIC_ACC_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/labels.h"
#include "query/logql/ast.h"
#include "query/metric/metric.h"

typedef enum lm_cell_kind {
    LM_CK_COUNT = 0, /* b: samples */
    LM_CK_SUM,       /* a: sum, b: samples */
    LM_CK_AVG,       /* a: sum, b: samples */
    LM_CK_MIN,       /* a: min */
    LM_CK_MAX,
    LM_CK_FIRST,     /* a: value, t: its time */
    LM_CK_LAST,
    LM_CK_SAMPLES,   /* the samples themselves */
} lm_cell_kind;

typedef struct lm_plan {
    logql_range_op op;
    bool unwrap;
    double param;            /* quantile */
    lm_cell_kind kind;
    int64_t S;               /* first step, data time */
    int64_t step;            /* step (bucket width in bucket mode) */
    int64_t R;               /* range */
    size_t n_steps;
    bool buckets;
    bool diff;               /* step mode with a difference array */
    size_t k;                /* buckets per window */
    size_t n_cells;
    size_t page;             /* cells per page (a series' cells are allocated by page
                                as samples reach them, so a long range over sparse
                                data stays small) */
    size_t n_pages;
    int64_t from, through;   /* entries read: from <= ts < through */
} lm_plan;

typedef struct lm_pt {
    int64_t t;
    double v;
} lm_pt;

/* One series' accumulator: page tables of its cells (a page NULL until a
 * sample reaches it; `a` and `t` NULL when the kind does not use them). */
typedef struct lm_acc {
    lk_labels labels;
    uint64_t hash;
    double **a, **b;
    int64_t **t;
    size_t n_pages;
    lm_pt *pts;
    size_t n_pts, cap_pts;
    size_t *mem;        /* the reader's count of bytes allocated (query/qmem.h) */
} lm_acc;

void lm_plan_init(lm_plan *p, const logql_range_agg *ra, int64_t start, int64_t step,
                  size_t n_steps);

/* A new accumulator (labels copied). Every allocation it makes, now and as
 * samples reach new pages, is added to *mem (freeing is not subtracted: the
 * caller gives the total back when the accumulators are gone). */
lm_acc *lm_acc_new(const lm_plan *p, const lk_labels *labels, uint64_t hash, size_t *mem);
void lm_acc_free(lm_acc *a);
/* Adds one sample. */
void lm_acc_add(const lm_plan *p, lm_acc *a, int64_t ts, double v);
/* Bucket mode: the cell of ts (or SIZE_MAX outside); the caller may add to
 * it directly with lm_acc_add_cell. */
size_t lm_acc_bucket(const lm_plan *p, int64_t ts);
void lm_acc_add_cell(const lm_plan *p, lm_acc *a, size_t cell, int64_t ts, double v);
/* Folds src into dst (same series, another reader); src is left empty. */
void lm_acc_merge(const lm_plan *p, lm_acc *dst, lm_acc *src);

/* Scratch memory for finalizing many series. */
typedef struct lm_fin {
    double *pa, *pb, *sa, *sb;
    int64_t *pt, *st;
    double *vals;
    size_t cap_cells, cap_vals;
    lm_pt *tmp;
    size_t cap_tmp;
} lm_fin;

void lm_fin_free(lm_fin *f);
/* The value of every window into v/present (n_steps each). */
void lm_acc_finalize(const lm_plan *p, lm_acc *a, lm_fin *f, double *v, uint8_t *present);

/* Go's time.Duration.Seconds(). */
double lm_seconds(int64_t ns);
/* Prometheus/Loki quantile of values (sorted in place, NaN first). */
double lm_quantile(double q, double *values, size_t n);

#endif
