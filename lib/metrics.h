/* A process-wide Prometheus metrics registry: counters, gauges, histograms
 * (optionally labelled) and function-backed gauges, rendered in the text
 * exposition format 0.0.4 for /metrics.
 *
 * Registration returns a handle that lives until lk_metrics_reset().
 * Registering the same name again with the same type and label names
 * returns the existing metric (so a module may register in its create
 * function); a different type or label set is a BUG.
 *
 * Updates are thread-safe. An unlabelled counter or gauge is one atomic
 * operation; a labelled series is found by a hash of its label values under
 * a read lock (created once under the write lock), then updated atomically.
 * label_values has nlabels entries, or is NULL when nlabels == 0. */
#ifndef LOKIC_LIB_METRICS_H
#define LOKIC_LIB_METRICS_H

#include "lib/str.h"

typedef struct lk_metric lk_metric;

lk_metric *lk_metric_counter(const char *name, const char *help, int nlabels,
                             const char *const *label_names);
lk_metric *lk_metric_gauge(const char *name, const char *help, int nlabels,
                           const char *const *label_names);
/* buckets: nbuckets finite upper bounds in increasing order; +Inf is added. */
lk_metric *lk_metric_histogram(const char *name, const char *help, int nlabels,
                               const char *const *label_names, const double *buckets,
                               int nbuckets);
/* A gauge whose value is fn(ctx), called while rendering (with the registry
 * locked: fn must not register metrics). */
lk_metric *lk_metric_gauge_func(const char *name, const char *help, double (*fn)(void *ctx),
                                void *ctx);
/* The same for a monotonic value, rendered with "# TYPE name counter". */
lk_metric *lk_metric_counter_func(const char *name, const char *help, double (*fn)(void *ctx),
                                  void *ctx);

void lk_counter_add(lk_metric *m, const char *const *label_values, double v);
void lk_gauge_set(lk_metric *m, const char *const *label_values, double v);
void lk_gauge_add(lk_metric *m, const char *const *label_values, double v);
void lk_histogram_observe(lk_metric *m, const char *const *label_values, double v);

/* Prometheus text exposition 0.0.4: "# HELP", "# TYPE", families sorted by
 * name, series sorted by label values, histograms as _bucket{le=...} (with
 * +Inf), _sum and _count. Families with no series yet are left out. */
void lk_metrics_render(lk_buf *out);
/* Frees every metric; handles from before become invalid (tests, shutdown). */
void lk_metrics_reset(void);

/* process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_start_time_seconds,
 * process_open_fds and process_max_fds, read from /proc/self. */
void lk_metrics_register_process(void);

/* Go's strconv.FormatFloat(v, 'g', -1, 64), as Prometheus prints samples
 * ("1e+06", "0.005", "+Inf", "NaN"). */
void lk_metrics_format_value(lk_buf *out, double v);

#endif
