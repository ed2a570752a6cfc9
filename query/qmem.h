/* Query memory accounting: each running query has an accountant (qm_query)
 * that the places whose memory grows with the query's input charge — the
 * per-series accumulators and matrices of a metric query, the entries a log
 * query keeps and the blocks its stream iterators decode, the JSON answer —
 * in batches, not per entry. The charge is checked against the query's own
 * limit and against a process-wide budget (qm_budget) shared by every
 * running query; what a query charged is given back when it ends.
 *
 * Charges are atomic (a metric query's readers charge from their threads).
 * Once a charge fails, the query's accountant stays failed: every later
 * charge returns the same error, so a reader thread that did not see the
 * failure stops at its next charge.
 *
 * Errors:
 *   LK_ELIMIT  the query holds more than its limit (the caller answers 400,
 *              as Loki answers its per-query limits);
 *   LK_ERATE   the running queries together hold more than the budget, or
 *              a new query found it already spent (the caller answers 429,
 *              as Loki's query frontend answers a full queue). */
#ifndef LOKIC_QUERY_QMEM_H
#define LOKIC_QUERY_QMEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"

/* Charges below this are kept by the caller and charged together. */
#define QM_BATCH (256 * 1024)

/* The process-wide budget of every running query. */
typedef struct qm_budget qm_budget;

/* limit: bytes all running queries may hold (0: no limit); metrics:
 * registers lokic_query_memory_bytes and lokic_queries_refused_total. */
qm_budget *qm_budget_new(int64_t limit, bool metrics);
void qm_budget_free(qm_budget *b);
/* Bytes charged by the running queries. */
int64_t qm_budget_used(const qm_budget *b);

/* One query's accountant. Zero-initialized (or qm_begin with b NULL), it
 * counts without limits. */
typedef struct qm_query {
    qm_budget *b;
    int64_t limit;            /* bytes this query may hold; 0: no limit */
    _Atomic int64_t used;     /* charged and not released */
    _Atomic int64_t peak;
    atomic_int failed;        /* the sticky error, or 0 */
} qm_query;

/* Starts accounting a query against b (NULL: none) with its own limit
 * (0: none). LK_ERATE when the budget is already spent: the query should not
 * start (and need not call qm_end). */
int qm_begin(qm_budget *b, int64_t limit, qm_query *q);
/* Adds n bytes; LK_OK, or LK_ELIMIT / LK_ERATE (sticky). */
int qm_charge(qm_query *q, int64_t n);
/* Gives back n bytes charged before. */
void qm_release(qm_query *q, int64_t n);
/* Gives back everything the query still holds. */
void qm_end(qm_query *q);
/* The message for an error of qm_begin/qm_charge, naming the limit and its
 * configuration key. */
void qm_error(const qm_query *q, int rc, lk_buf *err);

#endif
