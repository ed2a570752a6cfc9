/* The log pipeline: compiling the AST's stages (the files of query/pipeline/ compile each
 * kind), running them over one entry with the label builder, and turning
 * the builder into the entry's sorted label set and hash. See pipeline.h.
 *
 * Line filters that come before any stage rewriting the line (line_format,
 * decolorize, unpack) only ever see the original line and only drop
 * entries, so they are hoisted into one lf_chain run first on the raw line
 * (cheapest test first); their literals are the block-skipping hints. */
#include "query/pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/pipeline/linefilter.h"
#include "query/pipeline/pipeline_int.h"
#include "query/pipeline/out.h"

struct lp_pipeline {
    lf_chain *front;      /* hoisted line filters; NULL when there are none */
    lp_stage *stages;     /* the rest, in order */
    size_t n;
    bool filter_only;
};

struct lp_runner {
    const lp_pipeline *p;
    lp_exec run;
    lp_out out;
    const lk_labels *stream;
    bool categorize;
};

/* ---- runs ------------------------------------------------------------------------ */

void lp_run_init(lp_exec *r)
{
    memset(r, 0, sizeof(*r));
    lp_lbs_init(&r->lbs);
}

void lp_run_free(lp_exec *r)
{
    lp_lbs_free(&r->lbs);
    lp_scratch_free(&r->scratch);
    lk_buf_free(&r->tmp);
    lk_buf_free(&r->tmp2);
}

void lp_run_begin(lp_exec *r, const lk_entry *e)
{
    lp_scratch_reset(&r->scratch);
    lp_lbs_reset(&r->lbs);
    r->line = e->line;
    r->ts = e->ts;
    if (e->n_meta)
        lp_lbs_add_meta(&r->lbs, e->meta, e->n_meta, &r->scratch);
}

bool lp_pipeline_front(const lp_pipeline *p, lk_str line)
{
    return !p->front || lf_chain_match(p->front, line);
}

/* Runs the stages of p after the front filters; false when dropped. */
bool lp_pipeline_process(const lp_pipeline *p, lp_exec *r)
{
    for (size_t i = 0; i < p->n; i++)
        if (!p->stages[i].run(&p->stages[i], r))
            return false;
    return true;
}

/* ---- line filter stages (those after a line rewrite) ---------------------------- */

static bool line_filter_run(const lp_stage *st, lp_exec *r)
{
    return lf_match(st->impl, r->line);
}

static void line_filter_free(void *impl)
{
    lf_free(impl);
}

int lp_compile_line_filter(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    lf_matcher *m;
    int rc = lf_compile(&s->u.line_filter, &m, err);
    if (rc)
        return rc;
    st->kind = LOGQL_STAGE_LINE_FILTER;
    st->run = line_filter_run;
    st->impl = m;
    st->free_impl = line_filter_free;
    return 0;
}

/* ---- compiling ------------------------------------------------------------------- */

static bool rewrites_line(logql_stage_kind k)
{
    return k == LOGQL_STAGE_LINE_FORMAT || k == LOGQL_STAGE_DECOLORIZE ||
           k == LOGQL_STAGE_UNPACK;
}

bool lp_stage_reads_labels(const logql_stage *s)
{
    switch (s->kind) {
    case LOGQL_STAGE_LABEL_FILTER:
    case LOGQL_STAGE_LINE_FORMAT:
    case LOGQL_STAGE_LABEL_FORMAT:
        return true;
    default:
        return false;
    }
}

static int compile_stage(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    memset(st, 0, sizeof(*st));
    switch (s->kind) {
    case LOGQL_STAGE_LINE_FILTER:
        return lp_compile_line_filter(s, st, err);
    case LOGQL_STAGE_JSON:
        return lp_compile_json(s, st, err);
    case LOGQL_STAGE_LOGFMT:
        return lp_compile_logfmt(s, st, err);
    case LOGQL_STAGE_REGEXP:
        return lp_compile_regexp(s, st, err);
    case LOGQL_STAGE_PATTERN:
        return lp_compile_pattern(s, st, err);
    case LOGQL_STAGE_UNPACK:
        return lp_compile_unpack(s, st, err);
    case LOGQL_STAGE_LABEL_FILTER:
        return lp_compile_label_filter(s->u.label_filter, st, err);
    case LOGQL_STAGE_LINE_FORMAT:
        return lp_compile_line_format(s, st, err);
    case LOGQL_STAGE_LABEL_FORMAT:
        return lp_compile_label_format(s, st, err);
    case LOGQL_STAGE_DROP:
        return lp_compile_drop(s, st, err);
    case LOGQL_STAGE_KEEP:
        return lp_compile_keep(s, st, err);
    case LOGQL_STAGE_DECOLORIZE:
        return lp_compile_decolorize(s, st, err);
    }
    LK_BUG("stage kind %d", (int)s->kind);
}

static void stage_free(lp_stage *st)
{
    if (st->free_impl && st->impl)
        st->free_impl(st->impl);
}

int lp_compile(const logql_stage *stages, size_t n, lp_pipeline **out, lk_buf *err)
{
    lp_pipeline *p = lk_calloc(1, sizeof(*p));
    p->stages = lk_calloc(n ? n : 1, sizeof(*p->stages));
    p->filter_only = logql_pipeline_is_filter_only(stages, n);
    /* the line filters before the first line rewrite go to the front chain */
    size_t first_rw = n;
    for (size_t i = 0; i < n && first_rw == n; i++)
        if (rewrites_line(stages[i].kind))
            first_rw = i;
    logql_stage *front = lk_calloc(n ? n : 1, sizeof(*front));
    size_t n_front = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (i < first_rw && stages[i].kind == LOGQL_STAGE_LINE_FILTER) {
            front[n_front++] = stages[i];
            continue;
        }
        rc = compile_stage(&stages[i], &p->stages[p->n], err);
        if (rc)
            goto out;
        p->n++;
    }
    if (n_front)
        rc = lf_chain_compile(front, n_front, &p->front, err);
out:
    free(front);
    if (rc) {
        lp_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void lp_free(lp_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        stage_free(&p->stages[i]);
    free(p->stages);
    lf_chain_free(p->front);
    free(p);
}

bool lp_is_filter_only(const lp_pipeline *p)
{
    return p->filter_only;
}

size_t lp_required_substrings(const lp_pipeline *p, const lk_str **out)
{
    if (!p->front) {
        *out = NULL;
        return 0;
    }
    return lf_chain_required(p->front, out);
}

void lp_pipeline_required(const lp_pipeline *p, lp_name_fn add, void *ctx)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->stages[i].required)
            p->stages[i].required(&p->stages[i], add, ctx);
}

/* ---- runners ----------------------------------------------------------------------- */

lp_runner *lp_runner_new(const lp_pipeline *p)
{
    lp_runner *r = lk_calloc(1, sizeof(*r));
    r->p = p;
    lp_run_init(&r->run);
    lp_out_init(&r->out);
    return r;
}

void lp_runner_categorize(lp_runner *r, bool on)
{
    r->categorize = on;
}

void lp_runner_reset(lp_runner *r, const lk_labels *stream_labels)
{
    r->stream = stream_labels;
    lp_lbs_set_base(&r->run.lbs, stream_labels);
    lp_out_set_stream(&r->out, stream_labels);
}

bool lp_run(lp_runner *r, const lk_entry *e, lp_result *out)
{
    lp_exec *run = &r->run;
    if (!lp_pipeline_front(r->p, e->line))
        return false;
    lp_run_begin(run, e);
    if (!lp_pipeline_process(r->p, run))
        return false;
    lp_out_build(&r->out, &run->lbs, r->categorize);
    out->line = run->line;
    out->labels = &r->out.all;
    out->hash = r->out.hash;
    out->structured_metadata = &r->out.meta;
    out->parsed = &r->out.parsed;
    out->stream = &r->out.stream_part;
    out->stream_hash = r->out.stream_hash;
    return true;
}

void lp_runner_free(lp_runner *r)
{
    if (!r)
        return;
    lp_run_free(&r->run);
    lp_out_free(&r->out);
    free(r);
}
