/* index/volume aggregation, as Loki's ingesters and index aggregate it
 * (pkg/storage/stores/index/seriesvolume): each stream's bytes per time
 * bucket are summed into series named by a subset of its labels
 * (aggregateBy=series) or into one series per label name with an empty
 * value (aggregateBy=labels); each bucket keeps its `limit` largest series
 * (by volume, then by name). */
#ifndef LOKIC_QUERY_VOLUME_H
#define LOKIC_QUERY_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/matcher.h"
#include "lib/str.h"

typedef struct vol_spec {
    const lk_str *targets;   /* targetLabels (none: the selector's label names) */
    size_t n_targets;
    const lk_matcher *ms;    /* the selector (its names when no targets; none: `{}`,
                              * every label) */
    size_t nm;
    bool by_labels;          /* aggregateBy=labels */
    size_t limit;            /* series kept per bucket */
    size_t max_series;       /* volume_max_series: more is LK_ELIMIT (0: no limit) */
} vol_spec;

typedef struct vol_series {
    char *key;               /* the canonical series name, owned */
    lk_labels metric;        /* owned; values empty with by_labels */
    uint64_t *bytes;         /* per bucket */
    bool *kept;              /* per bucket: among the bucket's `limit` largest */
} vol_series;

typedef struct vol_acc {
    vol_spec spec;           /* borrowed arrays: must outlive the accumulator */
    size_t n_buckets;
    vol_series *v;           /* sorted by key */
    size_t n, cap;
} vol_acc;

void vol_acc_init(vol_acc *a, const vol_spec *spec, size_t n_buckets);
/* Does the stream with these labels take part (it has every target label)? */
bool vol_stream_wanted(const vol_spec *spec, const lk_labels *stream);
/* Adds a stream's bytes per bucket (n_buckets values). LK_ELIMIT when the
 * series would number more than spec->max_series. */
int vol_acc_add(vol_acc *a, const lk_labels *stream, const uint64_t *bytes);
/* Marks in each bucket the `limit` largest series with bytes (kept[]). */
void vol_acc_finish(vol_acc *a);
void vol_acc_free(vol_acc *a);

#endif
