/* Field detection over log query results (see dfields.h). */
#include "query/dfields.h"

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"

static bool is_error_label(lk_str n)
{
    return lk_str_eq_c(n, "__error__") || lk_str_eq_c(n, "__error_details__") ||
           lk_str_eq_c(n, "__preserve_error__");
}

static int compile_one(logql_stage_kind kind, lp_pipeline **out, lp_runner **r, lk_buf *err)
{
    logql_stage st;
    memset(&st, 0, sizeof(st));
    st.kind = kind;
    int rc = lp_compile(&st, 1, out, err);
    if (rc != 0)
        return rc;
    *r = lp_runner_new(*out);
    lp_runner_categorize(*r, true);
    return 0;
}

int dt_fields_init(dt_fields *f, size_t limit, lk_buf *err)
{
    memset(f, 0, sizeof(*f));
    f->limit = limit;
    int rc = compile_one(LOGQL_STAGE_JSON, &f->json, &f->rj, err);
    if (rc == 0)
        rc = compile_one(LOGQL_STAGE_LOGFMT, &f->logfmt, &f->rl, err);
    if (rc != 0)
        dt_fields_free(f);
    return rc;
}

static size_t find(const dt_fields *f, lk_str name, bool *found)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = lk_str_cmp(lk_str_c(f->v[mid].name), name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

const dt_field *dt_fields_get(const dt_fields *f, lk_str name)
{
    bool found;
    size_t at = find(f, name, &found);
    return found ? &f->v[at] : NULL;
}

/* The field named name; created when new and under the limit, else NULL. */
static dt_field *field_for(dt_fields *f, lk_str name)
{
    bool found;
    size_t at = find(f, name, &found);
    if (found)
        return &f->v[at];
    if (f->n >= f->limit)
        return NULL;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->v = lk_realloc(f->v, f->cap * sizeof(*f->v));
    }
    memmove(f->v + at + 1, f->v + at, (f->n - at) * sizeof(*f->v));
    f->v[at] = (dt_field){ .name = lk_strndup(name.p, name.len), .type = "string" };
    f->n++;
    return &f->v[at];
}

/* A field's values in one entry: the type follows the entry's first. */
static void add_value(dt_field *df, lk_str v, bool first)
{
    if (first)
        df->type = dt_field_type(v);
    dt_set_add(&df->values, v);
}

static void add_metadata(dt_fields *f, const lk_entry *e)
{
    for (size_t i = 0; i < e->n_meta; i++) {
        bool first = true;
        for (size_t k = 0; k < i; k++)
            if (lk_str_eq(e->meta[k].name, e->meta[i].name))
                first = false;
        dt_field *df = field_for(f, e->meta[i].name);
        if (df)
            add_value(df, e->meta[i].value, first);
    }
}

/* json path lookup for the leaf named by the field */
typedef struct path_find {
    lk_str want;
    dt_field *df;
} path_find;

static void path_leaf(void *ctx, lk_str name, const lk_str *path, size_t n)
{
    path_find *pf = ctx;
    if (pf->df->n_path || !lk_str_eq(name, pf->want))
        return;
    pf->df->path = lk_malloc(n * sizeof(*pf->df->path));
    for (size_t i = 0; i < n; i++)
        pf->df->path[i] = lk_str_n(lk_strndup(path[i].p, path[i].len), path[i].len);
    pf->df->n_path = n;
}

static void json_path(dt_field *df, lk_str line)
{
    lk_str name = lk_str_c(df->name);
    static const lk_str suffix = LK_STR("_extracted");
    path_find pf = { name, df };
    lp_json_leaves(line, path_leaf, &pf);
    if (!df->n_path && name.len > suffix.len &&
        memcmp(name.p + name.len - suffix.len, suffix.p, suffix.len) == 0) {
        pf.want = lk_str_n(name.p, name.len - suffix.len);
        lp_json_leaves(line, path_leaf, &pf);
    }
}

/* Runs the line through a parser: its parsed labels, or NULL on an error. */
static const lk_labels *parse_line(lp_runner *r, const lk_labels *stream, lk_str line)
{
    lk_entry bare = { .line = line };
    lp_result res;
    lp_runner_reset(r, stream);
    if (!lp_run(r, &bare, &res))
        return NULL;
    if (labels_get(res.labels, LK_STR("__error__")))
        return NULL;
    return res.parsed;
}

static void add_parsed(dt_fields *f, const lk_labels *l, unsigned parser, lk_str line,
                       const lk_labels *seen)
{
    for (size_t i = 0; l && i < l->n; i++) {
        lk_str name = l->v[i].name;
        if (is_error_label(name))
            continue;
        dt_field *df = field_for(f, name);
        if (!df)
            continue;
        df->parsers |= parser;
        bool first = !(seen && labels_get(seen, name)) && (i == 0 || !lk_str_eq(l->v[i - 1].name, name));
        add_value(df, l->v[i].value, first);
        if (parser == DT_PARSER_JSON && !df->n_path)
            json_path(df, line);
    }
}

void dt_fields_add(dt_fields *f, const lk_labels *stream, const lk_entry *e,
                   const lk_labels *parsed)
{
    add_metadata(f, e);
    unsigned parser = DT_PARSER_JSON;
    const lk_labels *got = parse_line(f->rj, stream, e->line);
    if (!got) {
        parser = DT_PARSER_LOGFMT;
        got = parse_line(f->rl, stream, e->line);
    }
    if (!got) {
        add_parsed(f, parsed, 0, e->line, NULL);
        return;
    }
    add_parsed(f, parsed, parser, e->line, NULL);
    add_parsed(f, got, parser, e->line, parsed);
}

void dt_fields_free(dt_fields *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
        dt_set_free(&f->v[i].values);
        for (size_t k = 0; k < f->v[i].n_path; k++)
            free((char *)f->v[i].path[k].p);
        free(f->v[i].path);
    }
    free(f->v);
    if (f->rj)
        lp_runner_free(f->rj);
    if (f->rl)
        lp_runner_free(f->rl);
    if (f->json)
        lp_free(f->json);
    if (f->logfmt)
        lp_free(f->logfmt);
    memset(f, 0, sizeof(*f));
}
