/* label_replace(v, "dst", "replacement", "src", "regex") as Loki (and
 * Prometheus) evaluate it: when the anchored regex matches the value of src
 * (missing = ""), dst is set to the replacement expanded with Go's
 * Regexp.Expand rules ($1, ${1}, $name, ${name}, $$), or removed when the
 * expansion is empty; otherwise the series is unchanged. Series that end up
 * with the same labels are merged; two of them with a value at the same
 * step are an error. */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/regex.h"
#include "query/metric/metric_int.h"

#define LM_MAX_GROUPS 64

typedef struct named_group {
    lk_str name;
    int group;
} named_group;

typedef struct groups {
    named_group v[LM_MAX_GROUPS];
    int n;
} groups;

static int collect_name(void *ctx, int group, lk_str name)
{
    groups *g = ctx;
    if (g->n < LM_MAX_GROUPS)
        g->v[g->n++] = (named_group){ name, group };
    return 0;
}

static bool name_char(unsigned char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* Go's regexp extract(): the name after '$' and the rest; false when the
 * template is malformed there (the '$' is then copied). */
static bool extract(lk_str t, size_t at, lk_str *name, size_t *next)
{
    size_t i = at + 1;
    bool brace = i < t.len && t.p[i] == '{';
    if (brace)
        i++;
    size_t s = i;
    while (i < t.len && name_char((unsigned char)t.p[i]))
        i++;
    if (i == s)
        return false;
    *name = lk_str_n(t.p + s, i - s);
    if (brace) {
        if (i >= t.len || t.p[i] != '}')
            return false;
        i++;
    }
    *next = i;
    return true;
}

/* The group a name refers to, or -1. */
static int group_of(lk_str name, const groups *g)
{
    int num = 0;
    for (size_t i = 0; i < name.len; i++) {
        if (name.p[i] < '0' || name.p[i] > '9' || num >= 100000000) {
            num = -1;
            break;
        }
        num = num * 10 + (name.p[i] - '0');
    }
    if (name.len > 1 && name.p[0] == '0')
        num = -1;
    if (num >= 0)
        return num;
    for (int i = 0; i < g->n; i++) {
        if (lk_str_eq(g->v[i].name, name))
            return g->v[i].group;
    }
    return -1;
}

static void expand(lk_str tmpl, lk_str src, const long *ov, int n_pairs, const groups *g,
                   lk_buf *out)
{
    for (size_t i = 0; i < tmpl.len;) {
        char ch = tmpl.p[i];
        if (ch != '$') {
            lk_buf_putc(out, ch);
            i++;
            continue;
        }
        if (i + 1 < tmpl.len && tmpl.p[i + 1] == '$') {
            lk_buf_putc(out, '$');
            i += 2;
            continue;
        }
        lk_str name;
        size_t next;
        if (!extract(tmpl, i, &name, &next)) {
            lk_buf_putc(out, '$');
            i++;
            continue;
        }
        int grp = group_of(name, g);
        if (grp >= 0 && grp < n_pairs && ov[2 * grp] >= 0)
            lk_buf_append(out, src.p + ov[2 * grp], (size_t)(ov[2 * grp + 1] - ov[2 * grp]));
        i = next;
    }
}

/* The new labels of l, or false when they are unchanged. */
static bool replace(const logql_label_replace *lr, const groups *g, const lk_labels *l,
                    lk_buf *tmp, lk_labels *out)
{
    const lk_str *v = labels_get(l, lr->src);
    lk_str src = v ? *v : LK_STR("");
    long ov[2 * LM_MAX_GROUPS];
    int n = lk_regex_exec(lr->re, src, 0, ov, LM_MAX_GROUPS);
    if (n <= 0 || ov[0] != 0 || (size_t)ov[1] != src.len)
        return false;
    lk_buf_reset(tmp);
    expand(lr->replacement, src, ov, n, g, tmp);
    lk_label *pairs = lk_malloc((l->n + 1) * sizeof *pairs);
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (!lk_str_eq(l->v[i].name, lr->dst))
            pairs[k++] = l->v[i];
    }
    if (tmp->len)
        pairs[k++] = (lk_label){ lr->dst, lk_buf_str(tmp) };
    labels_from_pairs(pairs, k, out);
    free(pairs);
    return true;
}

int lm_eval_label_replace(lm_ctx *c, const logql_label_replace *lr, lm_matrix *in,
                          lm_matrix *out)
{
    groups g = { .n = 0 };
    lk_regex_named_groups(lr->re, collect_name, &g);
    lm_matrix_prune(in, c->n_steps);
    lm_outset o;
    lm_outset_init(&o, out, c->n_steps);
    lk_buf tmp = { 0 };
    int rc = LK_OK;
    for (size_t i = 0; i < in->n && rc == LK_OK; i++) {
        lm_series *s = &in->s[i];
        lk_labels l;
        if (!replace(lr, &g, &s->labels, &tmp, &l))
            labels_copy(&s->labels, &l);
        size_t di = lm_outset_take(&o, &l);
        lm_series *d = &out->s[di];
        for (size_t t = 0; t < c->n_steps; t++) {
            if (!s->present[t])
                continue;
            if (d->present[t]) {
                lk_buf_puts(c->err, LM_MSG_DUP_LABELSET);
                rc = LK_EINVAL;
                break;
            }
            d->present[t] = 1;
            d->v[t] = s->v[t];
        }
    }
    lk_buf_free(&tmp);
    lm_outset_free(&o);
    return rc;
}
