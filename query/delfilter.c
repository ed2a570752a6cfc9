/* The compiled form of delete requests' queries (storage/delete.h's
 * del_filter_ops): a log selector parsed as Loki's parseDeletionQuery does
 * (validated, a log selector only, its pipeline built so that a bad regex
 * or ip() is refused when the request is made), its matchers checked
 * against a stream's labels, and its pipeline run on each line: a line the
 * pipeline keeps is deleted. */
#include "query/delfilter.h"

#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/logql/parser.h"
#include "query/pipeline/pipeline.h"

typedef struct delq {
    logql_expr *e;
    lp_pipeline *p; /* NULL without stages */
} delq;

static void delq_free(void *c)
{
    delq *q = c;
    if (!q)
        return;
    lp_free(q->p);
    logql_expr_free(q->e);
    free(q);
}

static int delq_compile(lk_str query, void **out, lk_buf *err)
{
    delq *q = lk_calloc(1, sizeof(*q));
    lk_buf why = { 0 };
    int rc = logql_parse(query, &q->e, &why);
    if (rc == 0 && q->e->kind != LOGQL_EXPR_LOG) {
        lk_buf_puts(&why, "only log selector is supported");
        rc = LK_EPARSE;
    }
    if (rc == 0 && q->e->u.log.n_stages)
        rc = lp_compile(q->e->u.log.stages, q->e->u.log.n_stages, &q->p, &why);
    if (rc != 0) {
        lk_buf_printf(err, "invalid query expression: %s", why.p ? why.p : "");
        lk_buf_free(&why);
        delq_free(q);
        return LK_EPARSE;
    }
    lk_buf_free(&why);
    *out = q;
    return 0;
}

static bool delq_stream(const void *c, const lk_labels *labels, void **lines)
{
    const delq *q = c;
    *lines = NULL;
    if (!matchers_match_labels(q->e->u.log.matchers, q->e->u.log.n_matchers, labels))
        return false;
    if (q->p) {
        lp_runner *r = lp_runner_new(q->p);
        lp_runner_reset(r, labels);
        *lines = r;
    }
    return true;
}

static bool delq_line(void *lines, const lk_entry *e)
{
    lp_result res;
    return lp_run(lines, e, &res);
}

static void delq_line_free(void *lines)
{
    lp_runner_free(lines);
}

bool logql_delete_has_pipeline(const void *compiled)
{
    return ((const delq *)compiled)->p != NULL;
}

const del_filter_ops logql_delete_filter = {
    .compile = delq_compile,
    .stream = delq_stream,
    .line = delq_line,
    .line_free = delq_line_free,
    .free = delq_free,
};
