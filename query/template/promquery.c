/* Prometheus' alert template data and its query functions
 * (prometheus/template/template.go) for templates parsed with
 * tmpl_parse_prom: dot as AlertTemplateData's struct (.Labels,
 * .ExternalLabels, .ExternalURL, .Value), `query` running an instant query
 * through the caller's tmpl_query_fn (the ruler runs LogQL as the tenant),
 * and the functions on its result: first, label, value, strvalue,
 * sortByLabel. A sample is a struct { Labels map[string]string; Value
 * float64 }, a query result a slice of them. */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "query/template/template_int.h"

static int cmp_label(const void *a, const void *b)
{
    return lk_str_cmp(((const lk_label *)a)->name, ((const lk_label *)b)->name);
}

/* map[string]string of the labels (sorted here: external labels come in
 * the configuration's order). */
static tv string_map(tx *x, const lk_label *l, size_t n)
{
    lk_label *s = tx_alloc(x, (n ? n : 1) * sizeof *s);
    if (n)
        memcpy(s, l, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_label);
    tv_jmap *m = tx_alloc(x, sizeof *m);
    m->shape = TJ_STRINGS;
    m->keys = tx_alloc(x, (n ? n : 1) * sizeof(lk_str));
    m->vals = tx_alloc(x, (n ? n : 1) * sizeof(tv));
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && lk_str_eq(m->keys[k - 1], s[i].name))
            k--; /* a later duplicate wins */
        m->keys[k] = nz(s[i].name);
        m->vals[k++] = tv_str(s[i].value);
    }
    m->n = k;
    tv r = { .kind = TV_JMAP };
    r.u.m = m;
    return r;
}

/* A struct of n fields; names sorted, vals in the same order. */
static tv make_struct(tx *x, const char *const *names, const tv *vals, uint32_t n)
{
    tv_jmap *m = tx_alloc(x, sizeof *m);
    m->shape = TJ_STRUCT;
    m->n = n;
    m->keys = tx_alloc(x, n * sizeof(lk_str));
    m->vals = tx_alloc(x, n * sizeof(tv));
    for (uint32_t i = 0; i < n; i++) {
        m->keys[i] = lk_str_c(names[i]);
        m->vals[i] = vals[i];
    }
    tv r = { .kind = TV_JMAP };
    r.u.m = m;
    return r;
}

tv tf_prom_data(tx *x)
{
    static const char *const names[] = { "ExternalLabels", "ExternalURL", "Labels", "Value" };
    const tmpl_prom *p = x->prom;
    tv v[4] = {
        string_map(x, p->external, p->n_external),
        tv_str(p->external_url),
        string_map(x, x->d->labels, x->d->n_labels),
        tv_float(p->value),
    };
    v[3].iface = 1; /* Value interface{} */
    return make_struct(x, names, v, 4);
}

static tv sample(tx *x, const tmpl_sample *s)
{
    static const char *const names[] = { "Labels", "Value" };
    tv v[2] = { string_map(x, s->labels, s->n_labels), tv_float(s->value) };
    return make_struct(x, names, v, 2);
}

static bool is_sample(const tv *v)
{
    return v->kind == TV_JMAP && v->u.m->shape == TJ_STRUCT && v->u.m->n == 2 &&
           lk_str_eq_c(v->u.m->keys[0], "Labels");
}

static const tv *need_sample(tx *x, const tv *v)
{
    if (!is_sample(v))
        tx_callerr(x, "wrong type for value; expected *template.sample; got %s",
                   tv_type_name(v->kind));
    return v;
}

static const tv_jslice *need_result(tx *x, const tv *v)
{
    if (v->kind != TV_JSLICE)
        tx_callerr(x, "wrong type for value; expected template.queryResult; got %s",
                   tv_type_name(v->kind));
    return v->u.a;
}

static lk_str sample_label(const tv *s, lk_str name)
{
    const tv_jmap *l = s->u.m->vals[0].u.m;
    for (uint32_t i = 0; i < l->n; i++)
        if (lk_str_eq(l->keys[i], name))
            return l->vals[i].u.s;
    return LK_STR("");
}

static TFI(f_query)
{
    (void)n;
    (void)cmd;
    const tmpl_prom *p = x->prom;
    if (!p || !p->query)
        tx_callerr(x, "query: no query engine here");
    tmpl_sample *s = NULL;
    size_t ns = 0;
    lk_buf err = { 0 };
    int rc = p->query(p->query_ctx, a[0].u.s, &x->heap, &s, &ns, &err);
    if (rc != LK_OK) {
        lk_str m = tx_strdup(x, err.p ? err.p : lk_strerror(rc), err.p ? err.len
                                                                     : strlen(lk_strerror(rc)));
        lk_buf_free(&err);
        tx_callerr(x, "%.*s", LK_STR_FMT(m));
    }
    lk_buf_free(&err);
    tv_jslice *sl = tx_alloc(x, sizeof *sl);
    sl->n = (uint32_t)ns;
    sl->v = tx_alloc(x, (ns ? ns : 1) * sizeof(tv));
    for (size_t i = 0; i < ns; i++)
        sl->v[i] = sample(x, &s[i]);
    tv r = { .kind = TV_JSLICE };
    r.u.a = sl;
    *res = r;
}

static TFI(f_first)
{
    (void)n;
    (void)cmd;
    const tv_jslice *v = need_result(x, &a[0]);
    if (v->n == 0)
        tx_callerr(x, "first() called on vector with no elements");
    *res = v->v[0];
}

static TFI(f_label)
{
    (void)n;
    (void)cmd;
    *res = tv_str(sample_label(need_sample(x, &a[1]), a[0].u.s));
}

static TFI(f_value)
{
    (void)n;
    (void)cmd;
    *res = tv_float(need_sample(x, &a[0])->u.m->vals[1].u.f);
}

static TFI(f_strvalue)
{
    (void)n;
    (void)cmd;
    *res = tv_str(sample_label(need_sample(x, &a[0]), LK_STR("__value__")));
}

typedef struct keyed {
    lk_str key;
    uint32_t idx;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = lk_str_cmp(x->key, y->key);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx); /* stable */
}

/* sort.Stable by one label's value. */
static TFI(f_sort_by_label)
{
    (void)n;
    (void)cmd;
    const tv_jslice *v = need_result(x, &a[1]);
    keyed *k = tx_alloc(x, (v->n ? v->n : 1) * sizeof *k);
    for (uint32_t i = 0; i < v->n; i++)
        k[i] = (keyed){ sample_label(need_sample(x, &v->v[i]), a[0].u.s), i };
    qsort(k, v->n, sizeof *k, cmp_keyed);
    tv_jslice *sl = tx_alloc(x, sizeof *sl);
    sl->n = v->n;
    sl->v = tx_alloc(x, (v->n ? v->n : 1) * sizeof(tv));
    for (uint32_t i = 0; i < v->n; i++)
        sl->v[i] = v->v[k[i].idx];
    tv r = { .kind = TV_JSLICE };
    r.u.a = sl;
    *res = r;
}

#define S TPARAM_STRING
#define A TPARAM_IFACE
static const tfunc query_funcs[] = {
    { "query", 1, false, { S }, TF_PLAIN, false, f_query },
    { "first", 1, false, { A }, TF_PLAIN, false, f_first },
    { "label", 2, false, { S, A }, TF_PLAIN, false, f_label },
    { "value", 1, false, { A }, TF_PLAIN, false, f_value },
    { "strvalue", 1, false, { A }, TF_PLAIN, false, f_strvalue },
    { "sortByLabel", 2, false, { S, A }, TF_PLAIN, false, f_sort_by_label },
};

const tfunc *tf_lookup_prom_query(lk_str name)
{
    for (size_t i = 0; i < sizeof query_funcs / sizeof query_funcs[0]; i++)
        if (lk_str_eq_c(name, query_funcs[i].name))
            return &query_funcs[i];
    return NULL;
}
