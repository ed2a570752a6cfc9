/* Private to the metric evaluator (query/metric/): the step-major value
 * every node yields (a matrix of series, or a scalar), the evaluation
 * context, the series map shared by the nodes, and the node evaluators.
 *
 * A matrix's series have one optional value per step (lm_series from
 * query/metric/metric.h); series order is meaningful only for instant queries
 * under sort/sort_desc. */
#ifndef LOKIC_QUERY_METRIC_INT_H
#define LOKIC_QUERY_METRIC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "query/logql/ast.h"
#include "query/metric/metric.h"

/* Loki's messages. */
#define LM_MSG_SERIES_LIMIT "maximum of series (%d) reached for a single query"
#define LM_MSG_TIMEOUT "query timed out"
#define LM_MSG_DUP_LABELSET "vector cannot contain metrics with the same labelset"

typedef struct lm_matrix {
    lm_series *s;
    size_t n, cap;
} lm_matrix;

/* What a node evaluates to. */
typedef struct lm_val {
    bool scalar;
    double sv;      /* the scalar (LogQL scalars are constant over steps) */
    lm_matrix m;    /* the vector otherwise */
} lm_val;

typedef struct lm_ctx {
    const lm_query *q;
    int64_t start;     /* first step (ns) */
    int64_t step;      /* ns; 0 when there is one step */
    size_t n_steps;
    int threads;       /* resolved worker count */
    bool sorted;       /* a sort/sort_desc was evaluated */
    sto_stats stats;
    int64_t lines;
    lk_buf *err;
} lm_ctx;

/* ---- matrices (eval.c) ---- */

/* Appends a series owning `labels` (moved in) with no values yet. */
lm_series *lm_matrix_add(lm_matrix *m, lk_labels *labels, size_t n_steps);
void lm_matrix_free(lm_matrix *m);
/* Drops the series without any value. */
void lm_matrix_prune(lm_matrix *m, size_t n_steps);
/* Series in label order (Prometheus labels.Compare). */
void lm_matrix_sort(lm_matrix *m);
void lm_val_free(lm_val *v);
bool lm_series_empty(const lm_series *s, size_t n_steps);
/* LK_ERANGE (and the message) once the deadline has passed. */
int lm_check_deadline(lm_ctx *c);
int lm_series_limit(lm_ctx *c, size_t n);
/* Charges n bytes to the query's memory (query/qmem.h); on failure the
 * message is in c->err. */
int lm_charge(lm_ctx *c, int64_t n);
/* Bytes n series of n_steps values hold with labels of about label_bytes. */
int64_t lm_series_bytes(size_t n_steps, int64_t label_bytes);
/* Charges a matrix built by a node (its series, values and labels). */
int lm_charge_matrix(lm_ctx *c, const lm_matrix *m);

/* ---- label sets (seriesmap.c) ---- */

/* Prometheus labels.Compare. */
int lm_labels_cmp(const lk_labels *a, const lk_labels *b);
/* labels_hash of the canonical form; scratch is reused. */
uint64_t lm_labels_hash(const lk_labels *l, lk_buf *scratch);
/* by (names): the labels of l named in names; without (names): the others
 * (and never __name__). An owned, sorted set. */
void lm_labels_group(const lk_labels *l, const lk_str *names, size_t n, bool without,
                     lk_labels *out);
/* Bytes a copy of l holds (an estimate for query/qmem.h). */
int64_t lm_labels_bytes(const lk_labels *l);
/* The value of __error__, or NULL. */
const lk_str *lm_labels_error(const lk_labels *l);

/* An open-addressing map from a 64-bit hash to indexes into the caller's
 * array of label sets; equality is decided by the caller's callback. */
typedef struct lm_map {
    uint64_t *h;
    uint32_t *idx;     /* UINT32_MAX: empty slot */
    size_t cap, n;
} lm_map;

typedef bool (*lm_map_eq)(void *ctx, uint32_t idx);
void lm_map_init(lm_map *m, size_t hint);
void lm_map_free(lm_map *m);
/* The index stored for hash whose eq() holds, or UINT32_MAX. */
uint32_t lm_map_find(const lm_map *m, uint64_t hash, lm_map_eq eq, void *ctx);
void lm_map_put(lm_map *m, uint64_t hash, uint32_t idx);

/* A set of output series keyed by labels: finds or creates the series. */
typedef struct lm_outset {
    lm_matrix *m;
    lm_map map;
    lk_buf scratch;
    size_t n_steps;
} lm_outset;

void lm_outset_init(lm_outset *o, lm_matrix *m, size_t n_steps);
void lm_outset_free(lm_outset *o);
/* The index of the series with these labels; when absent, a new series
 * (labels copied). */
size_t lm_outset_get(lm_outset *o, const lk_labels *labels);
/* Same, taking ownership of labels (freed when the series exists). */
size_t lm_outset_take(lm_outset *o, lk_labels *labels);

/* ---- node evaluators ---- */

int lm_eval_node(lm_ctx *c, const logql_expr *e, lm_val *out);
/* A range aggregation; `push` is the grouping of an enclosing sum that
 * Loki injects into the sample extractor (NULL: none). */
int lm_eval_range(lm_ctx *c, const logql_range_agg *ra, const logql_grouping *push,
                  lm_matrix *out);
int lm_eval_vagg(lm_ctx *c, const logql_vector_agg *va, lm_matrix *in, lm_matrix *out);
int lm_eval_binop(lm_ctx *c, const logql_binop_expr *b, lm_val *l, lm_val *r, lm_val *out);
int lm_eval_label_replace(lm_ctx *c, const logql_label_replace *lr, lm_matrix *in,
                          lm_matrix *out);

/* Binary operator on two numbers (binop.c): arithmetic results, or
 * 1/0 for comparisons. */
double lm_binop_value(logql_binop op, double l, double r);

#endif
