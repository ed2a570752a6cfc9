/* Line filter stages compiled from the AST and matched: each alternative
 * is a leaf (substring, case-insensitive substring, regex, Loki's pattern
 * filter or ip() filter), regexes that are substring tests becoming
 * substring leaves (regex_simplify.c); and chains of stages. ip() lives in
 * ipmatch.c, the pattern syntax in patternfilter.c. See linefilter.h. */
#define _GNU_SOURCE
#include "query/pipeline/linefilter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/regex.h"
#include "query/pipeline/regex_simplify.h"

/* ---- leaves ---------------------------------------------------------------- */

typedef enum leaf_kind {
    LEAF_TRUE,        /* every line */
    LEAF_EXISTS,      /* a character other than '\n' (`.+`) */
    LEAF_CONTAINS,    /* substring */
    LEAF_CONTAINS_CI, /* ASCII case-insensitive substring (needle lowered) */
    LEAF_REGEX,
    LEAF_PATTERN,
    LEAF_IP,
} leaf_kind;

typedef struct leaf {
    leaf_kind kind;
    char *lit;
    size_t len;
    lk_regex *re;
    lf_pattern pat;
    lf_ip *ip;
} leaf;

/* A stage: keeps a line when some leaf matches, or (negated) when none does. */
struct lf_matcher {
    bool negate;
    leaf *leaves;
    size_t n, cap;
};

static unsigned char fold_tab[256];

static void fold_init(void)
{
    for (int i = 0; i < 256; i++)
        fold_tab[i] = (unsigned char)((i >= 'A' && i <= 'Z') ? i + 32 : i);
}

static bool contains_ci(lk_str line, const char *needle, size_t m)
{
    if (m == 0)
        return true;
    if (line.len < m)
        return false;
    const unsigned char *s = (const unsigned char *)line.p;
    const unsigned char *nd = (const unsigned char *)needle;
    unsigned char c0 = nd[0];
    unsigned char u0 = (c0 >= 'a' && c0 <= 'z') ? (unsigned char)(c0 - 32) : c0;
    size_t last = line.len - m;
    for (size_t i = 0; i <= last; i++) {
        if (s[i] != c0 && s[i] != u0)
            continue;
        size_t k = 1;
        while (k < m && fold_tab[s[i + k]] == nd[k])
            k++;
        if (k == m)
            return true;
    }
    return false;
}

static bool has_non_newline(lk_str line)
{
    for (size_t i = 0; i < line.len; i++)
        if (line.p[i] != '\n')
            return true;
    return false;
}

static bool leaf_match(const leaf *l, lk_str line)
{
    switch (l->kind) {
    case LEAF_TRUE:
        return true;
    case LEAF_EXISTS:
        return has_non_newline(line);
    case LEAF_CONTAINS:
        if (l->len == 0)
            return true;
        if (line.len < l->len)
            return false;
        if (l->len == 1)
            return memchr(line.p, l->lit[0], line.len) != NULL;
        return memmem(line.p, line.len, l->lit, l->len) != NULL;
    case LEAF_CONTAINS_CI:
        return contains_ci(line, l->lit, l->len);
    case LEAF_REGEX:
        return lk_regex_match(l->re, line);
    case LEAF_PATTERN:
        return lf_pattern_test(&l->pat, line);
    case LEAF_IP:
        return lf_ip_contains(l->ip, line);
    }
    LK_BUG("leaf kind %d", (int)l->kind);
}

static void leaf_free(leaf *l)
{
    free(l->lit);
    lk_regex_free(l->re);
    lf_pattern_free(&l->pat);
    lf_ip_free(l->ip);
}

static leaf *add_leaf(lf_matcher *m, leaf_kind kind)
{
    if (m->n == m->cap)
        m->leaves = lk_grow(m->leaves, &m->cap, m->n + 1, sizeof(leaf));
    leaf *l = &m->leaves[m->n++];
    memset(l, 0, sizeof(*l));
    l->kind = kind;
    return l;
}

/* Adds leaves equivalent to the regex to m; false when it is not in the
 * simplifiable subset. */
static bool simplify_regex(lk_str re, lf_matcher *m)
{
    lf_simple s;
    if (!lf_regex_simplify(re, &s))
        return false;
    if (s.all) {
        add_leaf(m, LEAF_TRUE);
    } else {
        if (s.exists)
            add_leaf(m, LEAF_EXISTS);
        for (size_t i = 0; i < s.n; i++) {
            leaf *l = add_leaf(m, s.ci ? LEAF_CONTAINS_CI : LEAF_CONTAINS);
            l->len = s.subs[i].len;
            l->lit = lk_memdup(s.subs[i].p, l->len + 1);
            if (s.ci)
                for (size_t k = 0; k < l->len; k++)
                    l->lit[k] = (char)fold_tab[(unsigned char)l->lit[k]];
        }
    }
    lf_simple_free(&s);
    return true;
}

/* ---- compiling a stage ------------------------------------------------------- */

static void stage_text(const logql_line_filter *f, lk_buf *out)
{
    logql_stage st = { .kind = LOGQL_STAGE_LINE_FILTER, .u.line_filter = *f };
    logql_format_stage(&st, out);
}

static int stage_error(const logql_line_filter *f, const char *why, lk_buf *err)
{
    if (err) {
        lk_buf_puts(err, "parse error : stage '");
        stage_text(f, err);
        lk_buf_puts(err, "' : ");
        lk_buf_puts(err, why);
    }
    return LK_EPARSE;
}

static int compile_alt(const logql_line_filter *f, const logql_lf_alt *a, lf_matcher *m,
                       lk_buf *err)
{
    lk_buf why = { 0 };
    int rc = 0;
    if (a->ip) {
        if (f->type != LOGQL_LF_CONTAINS && f->type != LOGQL_LF_NOT_CONTAINS) {
            rc = stage_error(f, "ip: invalid operation", err);
            goto out;
        }
        leaf *l = add_leaf(m, LEAF_IP);
        if ((rc = lf_ip_compile(a->value, &l->ip, &why)))
            rc = stage_error(f, why.p, err);
        goto out;
    }
    switch (f->type) {
    case LOGQL_LF_CONTAINS:
    case LOGQL_LF_NOT_CONTAINS: {
        leaf *l = add_leaf(m, a->value.len ? LEAF_CONTAINS : LEAF_TRUE);
        l->len = a->value.len;
        l->lit = lk_memdup(a->value.p ? a->value.p : "", a->value.len + 1);
        break;
    }
    case LOGQL_LF_REGEX:
    case LOGQL_LF_NOT_REGEX: {
        if (simplify_regex(a->value, m))
            break;
        leaf *l = add_leaf(m, LEAF_REGEX);
        if ((rc = lk_regex_compile(a->value, 0, &l->re, &why)))
            rc = stage_error(f, why.len ? why.p : "invalid regexp", err);
        break;
    }
    case LOGQL_LF_PATTERN:
    case LOGQL_LF_NOT_PATTERN: {
        leaf *l = add_leaf(m, LEAF_PATTERN);
        lf_pattern_parse(a->value, &l->pat);
        if ((rc = lf_pattern_check_filter(&l->pat, &why)))
            rc = stage_error(f, why.p, err);
        break;
    }
    }
out:
    lk_buf_free(&why);
    return rc;
}

static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

int lf_compile(const logql_line_filter *f, lf_matcher **out, lk_buf *err)
{
    pthread_once(&fold_once, fold_init);
    lf_matcher *m = lk_calloc(1, sizeof(*m));
    m->negate = logql_lf_negative(f->type);
    for (size_t i = 0; i < f->n_alts; i++) {
        int rc = compile_alt(f, &f->alts[i], m, err);
        if (rc) {
            lf_free(m);
            return rc;
        }
    }
    *out = m;
    return 0;
}

bool lf_match(const lf_matcher *m, lk_str line)
{
    bool any = false;
    for (size_t i = 0; i < m->n && !any; i++)
        any = leaf_match(&m->leaves[i], line);
    return any != m->negate;
}

void lf_free(lf_matcher *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        leaf_free(&m->leaves[i]);
    free(m->leaves);
    free(m);
}

/* ---- chains ------------------------------------------------------------------- */

struct lf_chain {
    lf_matcher **v; /* cheapest first */
    size_t n;
    lk_str *required;
    size_t n_required;
};

/* Orders stages so plain substring tests run before regexes and patterns. */
static int stage_cost(const lf_matcher *m)
{
    int cost = 0;
    for (size_t i = 0; i < m->n; i++) {
        int c = m->leaves[i].kind == LEAF_REGEX      ? 3
              : m->leaves[i].kind == LEAF_PATTERN    ? 2
              : m->leaves[i].kind == LEAF_IP         ? 2
              : m->leaves[i].kind == LEAF_CONTAINS_CI ? 1
                                                      : 0;
        if (c > cost)
            cost = c;
    }
    return cost;
}

static void add_required(lf_chain *c, const char *p, size_t len)
{
    if (len == 0)
        return;
    c->required = lk_realloc(c->required, (c->n_required + 1) * sizeof(lk_str));
    c->required[c->n_required++] = (lk_str){ p, len };
}

static void collect_required(lf_chain *c, const lf_matcher *m)
{
    if (m->negate || m->n != 1)
        return;
    const leaf *l = &m->leaves[0];
    if (l->kind == LEAF_CONTAINS) {
        add_required(c, l->lit, l->len);
    } else if (l->kind == LEAF_PATTERN) {
        for (size_t i = 0; i < l->pat.n; i++)
            if (!l->pat.nodes[i].capture)
                add_required(c, l->pat.nodes[i].text.p, l->pat.nodes[i].text.len);
    }
}

int lf_chain_compile(const logql_stage *stages, size_t n, lf_chain **out, lk_buf *err)
{
    if (!logql_pipeline_is_filter_only(stages, n)) {
        if (err)
            lk_buf_puts(err, "pipeline has stages other than line filters");
        return LK_EINVAL;
    }
    lf_chain *c = lk_calloc(1, sizeof(*c));
    c->v = lk_calloc(n ? n : 1, sizeof(*c->v));
    for (size_t i = 0; i < n; i++) {
        int rc = lf_compile(&stages[i].u.line_filter, &c->v[i], err);
        if (rc) {
            lf_chain_free(c);
            return rc;
        }
        c->n++;
    }
    /* stable insertion sort by cost: the AND of the stages is unchanged */
    for (size_t i = 1; i < c->n; i++) {
        lf_matcher *m = c->v[i];
        size_t j = i;
        while (j > 0 && stage_cost(c->v[j - 1]) > stage_cost(m)) {
            c->v[j] = c->v[j - 1];
            j--;
        }
        c->v[j] = m;
    }
    for (size_t i = 0; i < c->n; i++)
        collect_required(c, c->v[i]);
    *out = c;
    return 0;
}

bool lf_chain_match(const lf_chain *c, lk_str line)
{
    for (size_t i = 0; i < c->n; i++)
        if (!lf_match(c->v[i], line))
            return false;
    return true;
}

size_t lf_chain_required(const lf_chain *c, const lk_str **out)
{
    *out = c->required;
    return c->n_required;
}

void lf_chain_free(lf_chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        lf_free(c->v[i]);
    free(c->v);
    free(c->required);
    free(c);
}
