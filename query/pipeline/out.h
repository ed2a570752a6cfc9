/* Private to the pipeline: turning a label builder into a result label set
 * (sorted, with labels_hash of the canonical form), whole, split into
 * Loki's categories, or grouped by/without for a sample extractor. The
 * arrays are reused from entry to entry. */
#ifndef LOKIC_QUERY_PL_OUT_H
#define LOKIC_QUERY_PL_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "query/pipeline/pipeline_int.h"

typedef struct lp_out {
    const lk_labels *stream;   /* the current stream's labels */
    uint64_t stream_hash0;     /* their hash */
    bool group_cached;         /* group0 holds the stream labels grouped */
    lk_labels group0;
    uint64_t group0_hash;
    lk_label *group0_buf;
    size_t cap_group0;

    lp_lbl *tmp;
    size_t cap_tmp;
    lk_label *buf;             /* all, then the three categories */
    size_t cap_buf;
    lk_labels all, stream_part, meta, parsed;
    uint64_t hash, stream_hash;
    lk_buf canon;
} lp_out;

void lp_out_init(lp_out *o);
void lp_out_free(lp_out *o);
void lp_out_set_stream(lp_out *o, const lk_labels *stream);
/* The builder's whole set; categories (and stream_hash) when categorize. */
void lp_out_build(lp_out *o, const lp_lbs *b, bool categorize);
/* Only the labels named in groups (by: groups sorted by name and unique),
 * or all but them (without). */
void lp_out_build_grouped(lp_out *o, const lp_lbs *b, const lk_str *groups, size_t n_groups,
                          bool without);
/* The empty set. */
void lp_out_build_empty(lp_out *o);

#endif
