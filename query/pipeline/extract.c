/* Sample extraction for metric queries (Loki's lineSampleExtractor and
 * labelSampleExtractor): the pipeline, then a value per entry — 1 for
 * count_over_time / rate / absent_over_time, the line's length after the
 * pipeline for bytes_over_time / bytes_rate, or the unwrapped label
 * converted (float, bytes, duration in seconds) — then the post-unwrap label
 * filters, then the sample's labels grouped by the range aggregation's
 * by/without (the unwrapped label removed). A sample whose entry carries an
 * error keeps all its labels, so the error is visible to the engine. */
#include <stdlib.h>
#include <string.h>

#include "lib/bytesize.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/pipeline/pipeline.h"
#include "query/pipeline/conv.h"
#include "query/pipeline/pipeline_int.h"
#include "query/pipeline/out.h"

static const lk_str SAMPLE_EXTRACTION_ERR = { "SampleExtractionErr", 19 };

typedef enum x_value { XV_COUNT, XV_BYTES, XV_UNWRAP } x_value;

struct lp_extractor {
    lp_pipeline *p;
    x_value kind;
    lk_str label;            /* unwrap */
    logql_conv conv;
    lp_stage *post;          /* post-unwrap label filters */
    size_t n_post;
    lk_str *groups;
    size_t n_groups;
    bool without, no_labels;
    bool skip_parsers;       /* Loki's parser hints with nothing to extract */
    lp_hints hints;          /* by (...) grouping: the labels anything reads */
    bool use_hints;
    char *mem;
    char *hint_mem;
};

struct lp_sampler {
    const lp_extractor *x;
    lp_exec run;
    lp_out out;
};

void lp_extractor_free(lp_extractor *x)
{
    if (!x)
        return;
    lp_free(x->p);
    for (size_t i = 0; i < x->n_post; i++)
        if (x->post[i].free_impl && x->post[i].impl)
            x->post[i].free_impl(x->post[i].impl);
    free(x->post);
    free(x->groups);
    free(x->mem);
    free(x->hints.names);
    free(x->hints.h);
    free(x->hint_mem);
    free(x);
}

/* ---- parser hints ---------------------------------------------------------------- */

typedef struct hint_set {
    lk_str *v;
    size_t n, cap;
} hint_set;

static void hint_add(void *ctx, lk_str name)
{
    hint_set *hs = ctx;
    for (size_t i = 0; i < hs->n; i++)
        if (lk_str_eq(hs->v[i], name))
            return;
    hs->v = lk_grow(hs->v, &hs->cap, hs->n + 1, sizeof(*hs->v));
    hs->v[hs->n++] = name;
}

/* Loki hints only a `by (...)` grouping: with `without`, or none, every
 * label may matter. */
static void build_hints(lp_extractor *x)
{
    if (x->no_labels || x->without || x->n_groups == 0)
        return;
    hint_set hs = { 0 };
    for (size_t i = 0; i < x->n_groups; i++)
        hint_add(&hs, x->groups[i]);
    if (x->kind == XV_UNWRAP)
        hint_add(&hs, x->label);
    lp_pipeline_required(x->p, hint_add, &hs);
    for (size_t i = 0; i < x->n_post; i++)
        if (x->post[i].required)
            x->post[i].required(&x->post[i], hint_add, &hs);
    size_t bytes = 1;
    for (size_t i = 0; i < hs.n; i++)
        bytes += hs.v[i].len;
    x->hint_mem = lk_malloc(bytes);
    x->hints.names = lk_calloc(hs.n ? hs.n : 1, sizeof(*x->hints.names));
    x->hints.h = lk_calloc(hs.n ? hs.n : 1, sizeof(*x->hints.h));
    size_t at = 0;
    for (size_t i = 0; i < hs.n; i++) {
        memcpy(x->hint_mem + at, hs.v[i].p, hs.v[i].len);
        x->hints.names[i] = (lk_str){ x->hint_mem + at, hs.v[i].len };
        x->hints.h[i] = lp_name_hash(x->hints.names[i]);
        at += hs.v[i].len;
    }
    x->hints.n = hs.n;
    x->use_hints = true;
    free(hs.v);
}

static bool any_stage_reads_labels(const logql_log_selector *sel)
{
    for (size_t i = 0; i < sel->n_stages; i++)
        if (lp_stage_reads_labels(&sel->stages[i]))
            return true;
    return false;
}

/* Copies names into x->mem; x->groups gets n (+1 for the unwrap label). */
static void set_groups(lp_extractor *x, const lk_str *names, size_t n, bool add_label)
{
    size_t bytes = x->label.len + 1;
    for (size_t i = 0; i < n; i++)
        bytes += names[i].len;
    x->mem = lk_malloc(bytes);
    size_t at = 0;
    memcpy(x->mem, x->label.p ? x->label.p : "", x->label.len);
    x->label = (lk_str){ x->mem, x->label.len };
    at += x->label.len;
    x->groups = lk_calloc(n + 1, sizeof(*x->groups));
    for (size_t i = 0; i < n; i++) {
        memcpy(x->mem + at, names[i].p, names[i].len);
        x->groups[x->n_groups++] = (lk_str){ x->mem + at, names[i].len };
        at += names[i].len;
    }
    if (add_label)
        x->groups[x->n_groups++] = x->label;
}

/* Sorted by name, duplicates removed (what lp_out_build_grouped needs). */
static void sort_groups(lp_extractor *x)
{
    for (size_t i = 1; i < x->n_groups; i++) {
        lk_str g = x->groups[i];
        size_t j = i;
        while (j > 0 && lk_str_cmp(x->groups[j - 1], g) > 0) {
            x->groups[j] = x->groups[j - 1];
            j--;
        }
        x->groups[j] = g;
    }
    size_t n = 0;
    for (size_t i = 0; i < x->n_groups; i++)
        if (n == 0 || !lk_str_eq(x->groups[n - 1], x->groups[i]))
            x->groups[n++] = x->groups[i];
    x->n_groups = n;
}

/* g: the grouping in force (NULL: none); outer: it is a vector aggregation's,
 * which always groups (`sum(...)` is `sum by ()`). */
static int compile(const logql_range_agg *ra, const logql_grouping *g, bool outer,
                   lp_extractor **out, lk_buf *err)
{
    lp_extractor *x = lk_calloc(1, sizeof(*x));
    int rc = lp_compile(ra->sel.stages, ra->sel.n_stages, &x->p, err);
    if (rc)
        goto fail;
    x->kind = (ra->op == LOGQL_RANGE_BYTES || ra->op == LOGQL_RANGE_BYTES_RATE) ? XV_BYTES
                                                                                : XV_COUNT;
    bool without = false;
    const lk_str *names = NULL;
    size_t n_names = 0;
    if (g && (g->present || outer)) {
        names = g->labels;
        n_names = g->n_labels;
        without = g->without;
        x->no_labels = g->n_labels == 0;
    }
    bool add_label = false;
    if (ra->unwrap) {
        x->kind = XV_UNWRAP;
        x->label = ra->unwrap->label;
        x->conv = ra->unwrap->conv;
        if (n_names == 0 || without) {
            without = true;
            add_label = true;
        }
        x->post = lk_calloc(ra->unwrap->n_post ? ra->unwrap->n_post : 1, sizeof(*x->post));
        for (size_t i = 0; i < ra->unwrap->n_post; i++) {
            rc = lp_compile_label_filter(ra->unwrap->post[i], &x->post[i], err);
            if (rc)
                goto fail;
            x->n_post = i + 1;
        }
    }
    x->without = without;
    set_groups(x, names, n_names, add_label);
    sort_groups(x);
    x->skip_parsers = x->no_labels && !ra->unwrap && !any_stage_reads_labels(&ra->sel);
    build_hints(x);
    *out = x;
    return 0;
fail:
    lp_extractor_free(x);
    return rc;
}

int lp_extractor_compile(const logql_range_agg *ra, lp_extractor **out, lk_buf *err)
{
    return compile(ra, &ra->grouping, false, out, err);
}

int lp_extractor_compile_grouped(const logql_range_agg *ra, const logql_grouping *outer,
                                 lp_extractor **out, lk_buf *err)
{
    return compile(ra, outer, true, out, err);
}

lp_sampler *lp_sampler_new(const lp_extractor *x)
{
    lp_sampler *s = lk_calloc(1, sizeof(*s));
    s->x = x;
    lp_run_init(&s->run);
    s->run.skip_parsers = x->skip_parsers;
    lp_out_init(&s->out);
    return s;
}

void lp_sampler_reset(lp_sampler *s, const lk_labels *stream_labels)
{
    lp_lbs_set_base(&s->run.lbs, stream_labels);
    s->run.lbs.hints = s->x->use_hints ? &s->x->hints : NULL;
    lp_out_set_stream(&s->out, stream_labels);
}

static bool convert(const lp_extractor *x, lp_exec *r, lk_str v, double *out)
{
    lk_buf_reset(&r->tmp);
    int rc;
    switch (x->conv) {
    case LOGQL_CONV_BYTES: {
        uint64_t b = 0;
        rc = lk_parse_bytes(v, &b, &r->tmp);
        *out = rc ? 0 : (double)b;
        break;
    }
    case LOGQL_CONV_DURATION:
    case LOGQL_CONV_DURATION_SECONDS: {
        int64_t d = 0;
        rc = lk_parse_go_duration_err(v, &d, &r->tmp);
        *out = rc ? 0 : (double)(d / 1000000000) + (double)(d % 1000000000) / 1e9;
        break;
    }
    default:
        rc = lp_parse_float(v, out, &r->tmp);
        if (rc == LK_EINVAL)
            *out = 0;
        break;
    }
    return rc == 0;
}

bool lp_sample_entry(lp_sampler *s, const lk_entry *e, lp_sample *out)
{
    const lp_extractor *x = s->x;
    lp_exec *r = &s->run;
    if (!lp_pipeline_front(x->p, e->line))
        return false;
    lp_run_begin(r, e);
    if (!lp_pipeline_process(x->p, r))
        return false;
    double v = 1;
    if (x->kind == XV_BYTES) {
        v = (double)r->line.len;
    } else if (x->kind == XV_UNWRAP) {
        lk_str sv;
        if (!lp_lbs_get(&r->lbs, x->label, &sv) || sv.len == 0)
            return false; /* entries without the label give no sample */
        if (!convert(x, r, sv, &v)) {
            lp_lbs_set_err(&r->lbs, SAMPLE_EXTRACTION_ERR);
            lp_lbs_set_details(&r->lbs,
                               (lk_str){ lp_strdup(&r->scratch, r->tmp.p ? r->tmp.p : "",
                                                   r->tmp.len),
                                         r->tmp.len });
        }
        for (size_t i = 0; i < x->n_post; i++)
            if (!x->post[i].run(&x->post[i], r))
                return false;
    }
    if (r->lbs.has_err || (!x->no_labels && x->n_groups == 0))
        lp_out_build(&s->out, &r->lbs, false);
    else if (x->no_labels)
        lp_out_build_empty(&s->out);
    else
        lp_out_build_grouped(&s->out, &r->lbs, x->groups, x->n_groups, x->without);
    out->value = v;
    out->labels = &s->out.all;
    out->hash = s->out.hash;
    return true;
}

void lp_sampler_free(lp_sampler *s)
{
    if (!s)
        return;
    lp_run_free(&s->run);
    lp_out_free(&s->out);
    free(s);
}
