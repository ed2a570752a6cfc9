/* Range aggregations: the streams matching the selector are read on worker
 * threads (each owning a sample extractor, its stats and a table of series
 * accumulators), each sample is folded into its series' cells as it is
 * read, the tables are merged, and every series gets one value per step
 * (query/metric/acc.h). Then Loki's checks: a series still carrying
 * __error__ fails the query, absent_over_time answers 1 where nothing was
 * found.
 *
 * The common case takes a fast path: count/rate/bytes/absent without
 * unwrap over a pipeline of line filters only needs no extractor — the
 * series is the stream (or its labels reduced by an enclosing sum), the
 * value 1 or the line's length. Entries with structured metadata still go
 * through the extractor, which adds the metadata to the labels.
 *
 * Blocks that cannot hold a line with the substrings every kept line
 * contains (|= filters) are skipped by storage without being decompressed;
 * with no stage at all, storage decodes no line (only timestamps,
 * metadata and, for bytes, line lengths: sto_iter_opts.partial). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/pipeline/linefilter.h"
#include "query/metric/acc.h"
#include "query/metric/metric_int.h"
#include "query/pipeline/pipeline.h"
#include "storage/delete.h"
#include "storage/ingester.h"

/* How many series a range aggregation may hold when it is not the result
 * itself: Loki materializes at most max_query_series per (sub)query; the
 * inner vector of an aggregation is allowed this many times more before
 * the query is stopped to bound memory. */
#define LM_INNER_SERIES_FACTOR 10
/* Entries between deadline checks. */
#define LM_CHECK_EVERY 4096

typedef struct table {
    lm_acc **v;
    size_t n, cap;
    lm_map map;
    lk_buf scratch;
} table;

typedef struct shared {
    lm_ctx *c;
    const lm_plan *p;
    st_view **views;
    size_t n_views;
    const lp_extractor *x;
    bool fast;
    const lf_chain *chain;            /* fast path; NULL matches every line */
    const logql_grouping *push;       /* fast path: the injected grouping */
    sto_iter_opts iter;                /* substrings every kept line contains */
    size_t guard;                     /* most series per table (0: none) */
    size_t *mem;                      /* per worker: bytes its accumulators allocated */
    _Atomic int64_t charged;          /* of those, charged to the query (query/qmem.h) */
    atomic_size_t next;
    atomic_int stop;
} shared;

typedef struct worker {
    shared *sh;
    size_t idx;         /* into sh->mem */
    size_t charged;     /* of sh->mem[idx] */
    pthread_t th;
    lp_sampler *sm;
    table tab;
    sto_stats stats;
    int64_t lines;
    int rc;
    lk_buf err;
    /* fast path: the series of the last metadata set seen in this stream */
    lk_label *mset;
    size_t n_mset, mset_cap;
    lk_buf mset_bytes;
    lm_acc *mset_acc;
} worker;

/* ---- tables */

static void table_init(table *t)
{
    *t = (table){ 0 };
    lm_map_init(&t->map, 64);
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n; i++)
        lm_acc_free(t->v[i]);
    free(t->v);
    lm_map_free(&t->map);
    lk_buf_free(&t->scratch);
}

typedef struct find_ctx {
    const table *t;
    const lk_labels *l;
} find_ctx;

static bool eq_acc(void *ctx, uint32_t idx)
{
    find_ctx *f = ctx;
    return labels_equal(&f->t->v[idx]->labels, f->l);
}

static lm_acc *table_find(const table *t, const lk_labels *l, uint64_t hash)
{
    find_ctx f = { t, l };
    uint32_t i = lm_map_find(&t->map, hash, eq_acc, &f);
    return i == UINT32_MAX ? NULL : t->v[i];
}

static void table_put(table *t, lm_acc *a)
{
    t->v = lk_grow(t->v, &t->cap, t->n + 1, sizeof *t->v);
    t->v[t->n] = a;
    lm_map_put(&t->map, a->hash, (uint32_t)t->n);
    t->n++;
}

/* The series of labels/hash, created when new; NULL over the guard. */
static lm_acc *series_of(worker *w, const lk_labels *l, uint64_t hash)
{
    lm_acc *a = table_find(&w->tab, l, hash);
    if (a)
        return a;
    if (w->sh->guard && w->tab.n >= w->sh->guard)
        return NULL;
    a = lm_acc_new(w->sh->p, l, hash, &w->sh->mem[w->idx]);
    table_put(&w->tab, a);
    return a;
}

/* ---- reading one stream */

static int over_guard(worker *w)
{
    lk_buf_printf(&w->err, LM_MSG_SERIES_LIMIT, w->sh->c->q->max_series);
    return LK_ELIMIT;
}

/* Charges what the worker's accumulators allocated since the last charge,
 * once it reaches a batch (or whatever it is, with all). */
static int charge_reader(worker *w, bool all)
{
    shared *sh = w->sh;
    size_t now = sh->mem[w->idx];
    if (!sh->c->q->mem || now == w->charged || (!all && now - w->charged < QM_BATCH))
        return LK_OK;
    int64_t n = (int64_t)(now - w->charged);
    w->charged = now;
    atomic_fetch_add(&sh->charged, n);
    int rc = qm_charge(sh->c->q->mem, n);
    if (rc && !w->err.len)
        qm_error(sh->c->q->mem, rc, &w->err);
    return rc;
}

/* LK_OK to go on; 1 to stop quietly (another worker failed and reports
 * it); LK_ERANGE past the deadline. */
static int check_progress(worker *w)
{
    if (atomic_load_explicit(&w->sh->stop, memory_order_relaxed))
        return 1;
    int64_t dl = w->sh->c->q->deadline_ns;
    if (dl && lk_now_ns() > dl) {
        lk_buf_puts(&w->err, LM_MSG_TIMEOUT);
        return LK_ERANGE;
    }
    return LK_OK;
}

/* The fast path's series for a stream (keyed by the hash the extractor
 * gives the same labels, so entries with metadata can meet it). */
static lm_acc *stream_series(worker *w, const st_view *v)
{
    const logql_grouping *g = w->sh->push;
    if (!g) {
        const lk_labels *l = st_view_labels(v);
        return series_of(w, l, lm_labels_hash(l, &w->tab.scratch));
    }
    lk_labels grouped;
    lm_labels_group(st_view_labels(v), g->labels, g->n_labels, g->without, &grouped);
    lm_acc *a = series_of(w, &grouped, lm_labels_hash(&grouped, &w->tab.scratch));
    labels_free(&grouped);
    return a;
}

/* One entry through the extractor. */
static int sample_entry(worker *w, const st_view *v, bool *reset, const lk_entry *e,
                        lm_acc **last)
{
    if (!w->sm)
        w->sm = lp_sampler_new(w->sh->x);
    if (!*reset) {
        lp_sampler_reset(w->sm, st_view_labels(v));
        *reset = true;
    }
    lp_sample s;
    if (!lp_sample_entry(w->sm, e, &s))
        return LK_OK;
    lm_acc *a = *last;
    if (!a || a->hash != s.hash || !labels_equal(&a->labels, s.labels)) {
        a = series_of(w, s.labels, s.hash);
        if (!a)
            return over_guard(w);
        *last = a;
    }
    lm_acc_add(w->sh->p, a, e->ts, s.value);
    return LK_OK;
}

/* Does e carry the metadata set the worker cached? */
static bool same_mset(const worker *w, const lk_entry *e)
{
    if (!w->mset_acc || e->n_meta != w->n_mset)
        return false;
    for (size_t i = 0; i < e->n_meta; i++) {
        if (!lk_str_eq(e->meta[i].name, w->mset[i].name) ||
            !lk_str_eq(e->meta[i].value, w->mset[i].value))
            return false;
    }
    return true;
}

static void cache_mset(worker *w, const lk_entry *e, lm_acc *a)
{
    lk_buf_reset(&w->mset_bytes);
    for (size_t i = 0; i < e->n_meta; i++) {
        lk_buf_put_str(&w->mset_bytes, e->meta[i].name);
        lk_buf_put_str(&w->mset_bytes, e->meta[i].value);
    }
    w->mset = lk_grow(w->mset, &w->mset_cap, e->n_meta, sizeof(*w->mset));
    const char *p = w->mset_bytes.p;
    for (size_t i = 0; i < e->n_meta; i++) {
        lk_str n = lk_str_n(p, e->meta[i].name.len);
        lk_str v = lk_str_n(p + n.len, e->meta[i].value.len);
        p += n.len + v.len;
        w->mset[i] = (lk_label){ n, v };
    }
    w->n_mset = e->n_meta;
    w->mset_acc = a;
}

/* The fast path's series of an entry with metadata: the series of the
 * stream's labels with the metadata added (the extractor's), looked up
 * once per run of entries with the same metadata (Loki 3 adds
 * detected_level to every entry, so a stream has few sets). NULL with *rc
 * set over the guard; NULL with LK_OK when the extractor drops it. */
static lm_acc *meta_series(worker *w, const st_view *v, bool *reset, const lk_entry *e, int *rc)
{
    *rc = LK_OK;
    if (same_mset(w, e))
        return w->mset_acc;
    if (!w->sm)
        w->sm = lp_sampler_new(w->sh->x);
    if (!*reset) {
        lp_sampler_reset(w->sm, st_view_labels(v));
        *reset = true;
    }
    lp_sample s;
    if (!lp_sample_entry(w->sm, e, &s))
        return NULL;
    lm_acc *a = series_of(w, s.labels, s.hash);
    if (!a) {
        *rc = over_guard(w);
        return NULL;
    }
    cache_mset(w, e, a);
    return a;
}

static int read_view(worker *w, const st_view *v)
{
    const shared *sh = w->sh;
    const lm_plan *p = sh->p;
    sto_iter *it = st_view_iter_opts(v, p->from, p->through, false, &sh->iter, &w->stats);
    if (!it)
        return LK_OK;
    lm_acc *fast = NULL, *last = NULL; /* fast: the stream's series, once it has a sample */
    bool bytes = p->op == LOGQL_RANGE_BYTES || p->op == LOGQL_RANGE_BYTES_RATE;
    bool reset = false;
    w->mset_acc = NULL; /* a new stream: cached series are not its own */
    /* bucket mode: the cell of the last entry and its time bounds (lo, hi] */
    size_t cell = SIZE_MAX;
    int64_t cell_lo = 0, cell_hi = -1;
    lk_entry e;
    int rc;
    int64_t n = 0;
    while ((rc = sto_iter_next(it, &e)) > 0) {
        if ((++n % LM_CHECK_EVERY) == 0 &&
            ((rc = check_progress(w)) != LK_OK || (rc = charge_reader(w, false)) != LK_OK))
            break;
        if (!sh->fast) {
            if ((rc = sample_entry(w, v, &reset, &e, &last)) != LK_OK)
                break;
            continue;
        }
        if (sh->chain && !lf_chain_match(sh->chain, e.line))
            continue;
        lm_acc *a;
        if (e.n_meta) {
            if (!(a = meta_series(w, v, &reset, &e, &rc))) {
                if (rc != LK_OK)
                    break;
                continue;
            }
        } else {
            if (!fast && !(fast = stream_series(w, v))) {
                rc = over_guard(w);
                break;
            }
            a = fast;
        }
        double val = bytes ? (double)e.line.len : 1;
        if (!p->buckets) {
            lm_acc_add(p, a, e.ts, val);
            continue;
        }
        if (e.ts <= cell_lo || e.ts > cell_hi) {
            cell = lm_acc_bucket(p, e.ts);
            if (cell == SIZE_MAX) {
                cell_hi = -1;
                cell_lo = 0;
                continue;
            }
            cell_hi = p->S + ((int64_t)cell - (int64_t)p->k + 1) * p->step;
            cell_lo = cell_hi - p->step;
        }
        lm_acc_add_cell(p, a, cell, e.ts, val);
    }
    w->lines += n;
    sto_iter_destroy(it);
    if (rc >= 0) {
        int crc = charge_reader(w, false);
        rc = crc ? crc : rc;
    }
    return rc < 0 ? rc : LK_OK;
}

static void *work(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    while (!atomic_load(&sh->stop)) {
        size_t i = atomic_fetch_add(&sh->next, 1);
        if (i >= sh->n_views)
            break;
        w->rc = read_view(w, sh->views[i]);
        if (w->rc)
            break;
    }
    if (!w->rc)
        w->rc = charge_reader(w, true);
    if (w->rc)
        atomic_store(&sh->stop, 1);
    return NULL;
}

/* ---- after reading */

static void stats_add(sto_stats *d, const sto_stats *s)
{
    d->head_chunk_bytes += s->head_chunk_bytes;
    d->head_chunk_lines += s->head_chunk_lines;
    d->decompressed_bytes += s->decompressed_bytes;
    d->decompressed_lines += s->decompressed_lines;
    d->compressed_bytes += s->compressed_bytes;
    d->total_chunks_ref += s->total_chunks_ref;
    d->total_chunks_matched += s->total_chunks_matched;
    d->blocks_skipped += s->blocks_skipped;
    d->blocks_decoded += s->blocks_decoded;
    d->blocks_partial += s->blocks_partial;
    d->chunks_downloaded += s->chunks_downloaded;
    d->decompressed_meta_bytes += s->decompressed_meta_bytes;
    d->duplicates += s->duplicates;
    d->corrupt_blocks += s->corrupt_blocks;
    sto_read_errors_add(&d->read_errors, &s->read_errors);
}

/* Folds every worker's table into the first one. */
static void merge_tables(const lm_plan *p, worker *w, int n)
{
    table *dst = &w[0].tab;
    for (int i = 1; i < n; i++) {
        table *src = &w[i].tab;
        for (size_t j = 0; j < src->n; j++) {
            lm_acc *a = src->v[j];
            lm_acc *d = table_find(dst, &a->labels, a->hash);
            if (d) {
                lm_acc_merge(p, d, a);
                lm_acc_free(a);
            } else {
                table_put(dst, a);
            }
        }
        src->n = 0;
    }
}

static void pipeline_error(lm_ctx *c, const lk_labels *l)
{
    const lk_str *e = lm_labels_error(l);
    lk_buf canon = { 0 };
    labels_canonical(l, &canon);
    lk_buf_printf(c->err,
                  "pipeline error: '%.*s' for series: '%s'.\n"
                  "Use a label filter to intentionally skip this error. (e.g | __error__!=\"%.*s\").\n"
                  "To skip all potential errors you can match empty errors.(e.g __error__=\"\")\n"
                  "The label filter can also be specified after unwrap. (e.g | unwrap latency | "
                  "__error__=\"\" )\n",
                  LK_STR_FMT(*e), canon.p ? canon.p : "{}", LK_STR_FMT(*e));
    lk_buf_free(&canon);
}

/* Loki fails a metric query at the first step where a series carries
 * __error__; the series reported here is the first in label order among
 * those with a value at the earliest such step. */
static int check_errors(lm_ctx *c, const lm_matrix *m)
{
    const lm_series *bad = NULL;
    size_t bad_step = SIZE_MAX;
    for (size_t i = 0; i < m->n; i++) {
        const lm_series *s = &m->s[i];
        if (!lm_labels_error(&s->labels))
            continue;
        for (size_t j = 0; j < c->n_steps && j <= bad_step; j++) {
            if (!s->present[j])
                continue;
            if (j < bad_step || lm_labels_cmp(&s->labels, &bad->labels) < 0) {
                bad = s;
                bad_step = j;
            }
            break;
        }
    }
    if (!bad)
        return LK_OK;
    pipeline_error(c, &bad->labels);
    return LK_EINVAL;
}

/* Loki's absentLabels: the equality matchers of the selector, except names
 * that are matched more than once or by another operator. */
static void absent_labels(const logql_log_selector *sel, lk_labels *out)
{
    lk_label *v = lk_calloc(sel->n_matchers + 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < sel->n_matchers; i++) {
        const lk_matcher *m = &sel->matchers[i];
        lk_str name = lk_str_n(m->name, m->name_len);
        if (m->type != LK_MATCH_EQ || lk_str_eq_c(name, "__name__"))
            continue;
        bool keep = true;
        for (size_t j = 0; j < sel->n_matchers && keep; j++) {
            const lk_matcher *o = &sel->matchers[j];
            keep = j == i || !lk_str_eq(name, lk_str_n(o->name, o->name_len));
        }
        if (keep)
            v[n++] = (lk_label){ name, lk_str_n(m->value, m->value_len) };
    }
    labels_from_pairs(v, n, out);
    free(v);
}

static void make_absent(lm_ctx *c, const logql_range_agg *ra, lm_matrix *m)
{
    uint8_t *any = lk_calloc(c->n_steps, 1);
    for (size_t i = 0; i < m->n; i++) {
        for (size_t j = 0; j < c->n_steps; j++)
            any[j] |= m->s[i].present[j];
    }
    lm_matrix_free(m);
    lk_labels l;
    absent_labels(&ra->sel, &l);
    lm_series *s = lm_matrix_add(m, &l, c->n_steps);
    for (size_t j = 0; j < c->n_steps; j++) {
        s->present[j] = !any[j];
        s->v[j] = 1;
    }
    free(any);
    lm_matrix_prune(m, c->n_steps);
}

/* The series' values are charged before they are made; the accumulators'
 * memory is given back once they are freed. */
static int finalize(lm_ctx *c, const lm_plan *p, shared *sh, table *t, lm_matrix *out)
{
    int64_t need = (int64_t)(t->n * sizeof *out->s);
    for (size_t i = 0; i < t->n; i++)
        need += lm_series_bytes(c->n_steps, lm_labels_bytes(&t->v[i]->labels));
    int rc = lm_charge(c, need);
    if (rc)
        return rc;
    lm_fin f = { 0 };
    for (size_t i = 0; i < t->n; i++) {
        lm_acc *a = t->v[i];
        lm_series *s = lm_matrix_add(out, &a->labels, c->n_steps);
        lm_acc_finalize(p, a, &f, s->v, s->present);
        lm_acc_free(a);
        t->v[i] = NULL;
    }
    t->n = 0;
    lm_fin_free(&f);
    lm_matrix_prune(out, c->n_steps);
    lm_matrix_sort(out); /* the readers' order varies: label order makes it deterministic */
    if (c->q->mem)
        qm_release(c->q->mem, atomic_exchange(&sh->charged, 0));
    return LK_OK;
}

/* ---- the node */

static bool fast_path(const logql_range_agg *ra)
{
    if (ra->unwrap || !logql_pipeline_is_filter_only(ra->sel.stages, ra->sel.n_stages))
        return false;
    switch (ra->op) {
    case LOGQL_RANGE_COUNT:
    case LOGQL_RANGE_RATE:
    case LOGQL_RANGE_BYTES:
    case LOGQL_RANGE_BYTES_RATE:
    case LOGQL_RANGE_ABSENT:
        return true;
    default:
        return false;
    }
}

static int run_workers(lm_ctx *c, shared *sh, table *out)
{
    int n = c->threads;
    if ((size_t)n > sh->n_views)
        n = sh->n_views ? (int)sh->n_views : 1;
    worker *w = lk_calloc((size_t)n, sizeof *w);
    int started = 0;
    for (int i = 0; i < n; i++) {
        w[i].sh = sh;
        w[i].idx = (size_t)i;
        table_init(&w[i].tab);
    }
    for (int i = 1; i < n; i++) {
        if (pthread_create(&w[i].th, NULL, work, &w[i]) != 0)
            break;
        started = i;
    }
    work(&w[0]);
    for (int i = 1; i <= started; i++)
        pthread_join(w[i].th, NULL);
    /* workers never started leave their share to the others: run them */
    for (int i = started + 1; i < n; i++)
        work(&w[i]);
    int rc = LK_OK;
    for (int i = 0; i < n; i++) {
        stats_add(&c->stats, &w[i].stats);
        c->lines += w[i].lines;
        if (w[i].rc && rc == LK_OK) {
            rc = w[i].rc;
            if (w[i].err.len)
                lk_buf_put_str(c->err, lk_buf_str(&w[i].err));
        }
    }
    if (rc == LK_OK) {
        merge_tables(sh->p, w, n);
        if (sh->guard && w[0].tab.n > sh->guard) {
            lk_buf_printf(c->err, LM_MSG_SERIES_LIMIT, c->q->max_series);
            rc = LK_ELIMIT;
        }
    }
    *out = w[0].tab;
    w[0].tab = (table){ 0 };
    for (int i = 0; i < n; i++) {
        if (w[i].sm)
            lp_sampler_free(w[i].sm);
        table_free(&w[i].tab);
        lk_buf_free(&w[i].err);
        free(w[i].mset);
        lk_buf_free(&w[i].mset_bytes);
    }
    free(w);
    return rc;
}

/* The compiled extractor (and, on the fast path, line filter chain), and the
 * substrings every line that yields a sample contains, so that storage can
 * skip blocks without them; pl holds those for the extractor's pipeline. */
static int compile(const logql_range_agg *ra, const logql_grouping *push, shared *sh,
                   lp_extractor **x, lf_chain **chain, lp_pipeline **pl, lk_buf *err)
{
    int rc;
    if (push) {
        logql_grouping g = *push;
        g.present = true; /* sum(...) is sum by () */
        rc = lp_extractor_compile_grouped(ra, &g, x, err);
    } else {
        rc = lp_extractor_compile(ra, x, err);
    }
    if (rc == LK_OK && sh->fast && ra->sel.n_stages) {
        rc = lf_chain_compile(ra->sel.stages, ra->sel.n_stages, chain, err);
        if (rc == LK_OK)
            sh->iter.n_required = lf_chain_required(*chain, &sh->iter.required);
    } else if (rc == LK_OK && ra->sel.n_stages) {
        rc = lp_compile(ra->sel.stages, ra->sel.n_stages, pl, err);
        if (rc == LK_OK)
            sh->iter.n_required = lp_required_substrings(*pl, &sh->iter.required);
    }
    /* no stage reads the line: storage decodes timestamps, metadata and
     * (for bytes) line lengths only */
    if (sh->fast && ra->sel.n_stages == 0) {
        bool bytes = ra->op == LOGQL_RANGE_BYTES || ra->op == LOGQL_RANGE_BYTES_RATE;
        sh->iter.partial = true;
        sh->iter.columns = STO_COL_META | (bytes ? STO_COL_LEN : 0);
    }
    sh->x = *x;
    sh->chain = *chain;
    return rc;
}

int lm_eval_range(lm_ctx *c, const logql_range_agg *ra, const logql_grouping *push,
                  lm_matrix *out)
{
    lm_plan p;
    lm_plan_init(&p, ra, c->start, c->step, c->n_steps);
    int max = c->q->max_series;
    shared sh = { .c = c, .p = &p, .fast = fast_path(ra), .push = push,
                  .guard = max > 0 ? (size_t)max * LM_INNER_SERIES_FACTOR : 0,
                  .mem = lk_calloc((size_t)(c->threads > 0 ? c->threads : 1), sizeof(size_t)) };
    lp_extractor *x = NULL;
    lf_chain *chain = NULL;
    lp_pipeline *pl = NULL;
    table t = { 0 };
    int rc = compile(ra, push, &sh, &x, &chain, &pl, c->err);
    if (rc == LK_OK)
        rc = ing_select_stats(c->q->g, c->q->tenant, ra->sel.matchers, ra->sel.n_matchers,
                              p.from, p.through - 1, true, &c->stats, &sh.views, &sh.n_views);
    if (rc == LK_OK) {
        sh.iter.deletes = ing_deletes(c->q->g, c->q->tenant); /* deleted lines are not counted */
        rc = run_workers(c, &sh, &t);
        del_set_release(sh.iter.deletes);
        st_views_free(sh.views, sh.n_views);
    }
    if (rc == LK_OK)
        rc = finalize(c, &p, &sh, &t, out);
    if (rc == LK_OK)
        rc = check_errors(c, out);
    if (rc == LK_OK && ra->op == LOGQL_RANGE_ABSENT)
        make_absent(c, ra, out);
    table_free(&t);
    free(sh.mem);
    lf_chain_free(chain);
    if (pl)
        lp_free(pl);
    if (x)
        lp_extractor_free(x);
    if (rc)
        lm_matrix_free(out);
    return rc;
}
