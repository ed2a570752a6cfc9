/* What a query could not read (storage/readerr.h): per reason a count and
 * the first detail, the warnings made of them, and the counter metric. The
 * metric is looked up in the registry at each occurrence (errors are rare,
 * and a handle kept across lk_metrics_reset would dangle). */
#include "storage/readerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/metrics.h"

#define METRIC_NAME "lokic_query_read_errors_total"
#define METRIC_HELP                                                                     \
    "Things a query should have read but skipped (its answer carries a warning), by " \
    "reason."

static const char *const reason_names[STO_READ_N] = {
    [STO_READ_INDEX_CORRUPT] = "index_corrupt",
    [STO_READ_INDEX_FAILED] = "index_failed",
    [STO_READ_CHUNK_MISSING] = "chunk_missing",
    [STO_READ_CHUNK_UNREADABLE] = "chunk_unreadable",
    [STO_READ_CHUNK_CORRUPT] = "chunk_corrupt",
    [STO_READ_BLOCK_CORRUPT] = "block_corrupt",
};

/* What was skipped and what became of it, singular and plural. */
static const struct {
    const char *one, *one_verb, *many, *many_verb;
} nouns[STO_READ_N] = {
    [STO_READ_INDEX_CORRUPT] = { "index entry", "was skipped as corrupt", "index entries",
                                 "were skipped as corrupt" },
    [STO_READ_INDEX_FAILED] = { "index lookup", "failed", "index lookups", "failed" },
    [STO_READ_CHUNK_MISSING] = { "chunk file", "is missing", "chunk files", "are missing" },
    [STO_READ_CHUNK_UNREADABLE] = { "chunk file", "could not be read", "chunk files",
                                    "could not be read" },
    [STO_READ_CHUNK_CORRUPT] = { "chunk file", "could not be read", "chunk files",
                                 "could not be read" },
    [STO_READ_BLOCK_CORRUPT] = { "block", "could not be read", "blocks", "could not be read" },
};

static lk_metric *metric(void)
{
    static const char *const labels[] = { "reason" };
    return lk_metric_counter(METRIC_NAME, METRIC_HELP, 1, labels);
}

const char *sto_read_reason_name(sto_read_reason r)
{
    return r >= 0 && r < STO_READ_N ? reason_names[r] : "unknown";
}

void sto_read_errors_register_metric(void)
{
    lk_metric *m = metric();
    for (int r = 0; r < STO_READ_N; r++)
        lk_counter_add(m, &reason_names[r], 0);
}

void sto_read_error(sto_read_errors *e, sto_read_reason r, int64_t n, const char *fmt, ...)
{
    if (r < 0 || r >= STO_READ_N || n <= 0)
        return;
    lk_counter_add(metric(), &reason_names[r], (double)n);
    if (!e)
        return;
    if (e->n[r] == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->first[r], sizeof e->first[r], fmt, ap);
        va_end(ap);
    }
    e->n[r] += n;
}

void sto_read_errors_add(sto_read_errors *dst, const sto_read_errors *src)
{
    for (int r = 0; r < STO_READ_N; r++) {
        if (!src->n[r])
            continue;
        if (!dst->n[r])
            memcpy(dst->first[r], src->first[r], sizeof dst->first[r]);
        dst->n[r] += src->n[r];
    }
}

bool sto_read_errors_any(const sto_read_errors *e)
{
    for (int r = 0; r < STO_READ_N; r++) {
        if (e->n[r])
            return true;
    }
    return false;
}

bool sto_read_warning(const sto_read_errors *e, sto_read_reason r, lk_buf *out)
{
    if (r < 0 || r >= STO_READ_N || !e->n[r])
        return false;
    int64_t n = e->n[r];
    if (n == 1)
        lk_buf_printf(out, "1 %s %s: %s", nouns[r].one, nouns[r].one_verb, e->first[r]);
    else
        lk_buf_printf(out, "%lld %s %s, the first: %s", (long long)n, nouns[r].many,
                      nouns[r].many_verb, e->first[r]);
    lk_buf_puts(out, "; results may be incomplete");
    return true;
}
