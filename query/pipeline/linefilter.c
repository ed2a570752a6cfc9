/* Line filter matching: substring, case-insensitive substring, regex,
 * Loki's pattern filters and ip() filters, compiled from the AST's line
 * filter stages; the regex simplifier that turns literal-only regexes into
 * substring tests; and the checks of the `| regexp` and `| pattern` stages,
 * which share this code. See linefilter.h. */
#define _GNU_SOURCE
#include "query/pipeline/linefilter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/hex.h"
#include "lib/labels.h"
#include "lib/mem.h"
#include "lib/regex.h"
#include "lib/utf8.h"

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

/* ---- the regex simplifier ----------------------------------------------------
 * Reads the regex subset made of literal characters (and escaped
 * punctuation), groups, alternation and `.*` / `.+`, with an optional
 * leading (?i). Anything else is left to the regex engine. A regex R in the
 * subset whose top-level alternatives are, after dropping leading and
 * trailing `.*`, products of literals, matches a line (unanchored) exactly
 * when the line contains one of the expanded strings. */

typedef enum rnode_kind { RN_LIT, RN_CAT, RN_ALT, RN_DOTSTAR, RN_DOTPLUS } rnode_kind;

typedef struct rnode {
    rnode_kind kind;
    lk_buf lit;            /* RN_LIT */
    struct rnode **kids;   /* RN_CAT, RN_ALT */
    size_t n, cap;
} rnode;

typedef struct rparse {
    const char *p;
    size_t n, i;
    int depth;
} rparse;

#define RS_MAX_DEPTH 32
#define RS_MAX_ALTS 32
#define RS_MAX_BYTES 4096

static rnode *rnode_new(rnode_kind k)
{
    rnode *r = lk_calloc(1, sizeof(*r));
    r->kind = k;
    return r;
}

static void rnode_free(rnode *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        rnode_free(r->kids[i]);
    free(r->kids);
    lk_buf_free(&r->lit);
    free(r);
}

static void rnode_add(rnode *parent, rnode *kid)
{
    if (parent->n == parent->cap)
        parent->kids = lk_grow(parent->kids, &parent->cap, parent->n + 1, sizeof(rnode *));
    parent->kids[parent->n++] = kid;
}

static bool is_alnum_c(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static rnode *rs_alt(rparse *r);

/* The literal byte(s) at r->i, or false when not a plain literal. */
static bool rs_literal(rparse *r, lk_buf *out)
{
    unsigned char c = (unsigned char)r->p[r->i];
    if (c == '\\') {
        if (r->i + 1 >= r->n)
            return false;
        char e = r->p[r->i + 1];
        const char *ctl = strchr("afnrtv", e);
        if (e != '\0' && ctl) {
            static const char vals[] = { '\a', '\f', '\n', '\r', '\t', '\v' };
            lk_buf_putc(out, vals[ctl - "afnrtv"]);
        } else if ((unsigned char)e < 0x80 && !is_alnum_c(e) && e != '\0') {
            lk_buf_putc(out, e);
        } else {
            return false;
        }
        r->i += 2;
        return true;
    }
    if (c < 0x80) {
        if (strchr("\\^$.[]|()?*+{}", (char)c) && c != '\0')
            return false;
        lk_buf_putc(out, (char)c);
        r->i++;
        return true;
    }
    /* a whole, valid UTF-8 sequence */
    size_t need = lk_utf8_valid_len(r->p + r->i, r->n - r->i);
    if (!need)
        return false;
    lk_buf_append(out, r->p + r->i, need);
    r->i += need;
    return true;
}

static bool rs_quantifier_next(const rparse *r)
{
    return r->i < r->n && strchr("*+?{", r->p[r->i]) && r->p[r->i] != '\0';
}

static rnode *rs_cat(rparse *r)
{
    rnode *cat = rnode_new(RN_CAT);
    while (r->i < r->n && r->p[r->i] != '|' && r->p[r->i] != ')') {
        char c = r->p[r->i];
        rnode *kid = NULL;
        if (c == '(') {
            if (++r->depth > RS_MAX_DEPTH)
                goto fail;
            r->i++;
            if (r->i + 1 < r->n && r->p[r->i] == '?') {
                if (r->p[r->i + 1] != ':')
                    goto fail;
                r->i += 2;
            }
            kid = rs_alt(r);
            if (!kid)
                goto fail;
            if (r->i >= r->n || r->p[r->i] != ')') {
                rnode_free(kid);
                goto fail;
            }
            r->i++;
            r->depth--;
        } else if (c == '.') {
            if (r->i + 1 >= r->n || (r->p[r->i + 1] != '*' && r->p[r->i + 1] != '+'))
                goto fail;
            kid = rnode_new(r->p[r->i + 1] == '*' ? RN_DOTSTAR : RN_DOTPLUS);
            r->i += 2;
        } else {
            kid = rnode_new(RN_LIT);
            if (!rs_literal(r, &kid->lit)) {
                rnode_free(kid);
                goto fail;
            }
        }
        rnode_add(cat, kid);
        if (rs_quantifier_next(r))
            goto fail;
    }
    return cat;
fail:
    rnode_free(cat);
    return NULL;
}

static rnode *rs_alt(rparse *r)
{
    rnode *alt = rnode_new(RN_ALT);
    for (;;) {
        rnode *cat = rs_cat(r);
        if (!cat) {
            rnode_free(alt);
            return NULL;
        }
        rnode_add(alt, cat);
        if (r->i < r->n && r->p[r->i] == '|') {
            r->i++;
            continue;
        }
        return alt;
    }
}

/* A set of strings (the expansion of a literal product). */
typedef struct sset {
    lk_buf *v;
    size_t n;
    size_t bytes;
} sset;

static void sset_free(sset *s)
{
    for (size_t i = 0; i < s->n; i++)
        lk_buf_free(&s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void sset_add(sset *s, const char *p, size_t len)
{
    s->v = lk_realloc(s->v, (s->n + 1) * sizeof(lk_buf));
    memset(&s->v[s->n], 0, sizeof(lk_buf));
    lk_buf_append(&s->v[s->n], p ? p : "", len);
    s->n++;
    s->bytes += len;
}

static bool expand(const rnode *r, sset *out);

/* out := out x expand(r) */
static bool expand_product(const rnode *r, sset *acc)
{
    sset part = { 0 };
    if (!expand(r, &part)) {
        sset_free(&part);
        return false;
    }
    sset next = { 0 };
    bool ok = true;
    for (size_t i = 0; i < acc->n && ok; i++) {
        for (size_t j = 0; j < part.n; j++) {
            if (next.n >= RS_MAX_ALTS || next.bytes > RS_MAX_BYTES) {
                ok = false;
                break;
            }
            sset_add(&next, acc->v[i].p, acc->v[i].len);
            lk_buf_append(&next.v[next.n - 1], part.v[j].p ? part.v[j].p : "", part.v[j].len);
            next.bytes += part.v[j].len;
        }
    }
    sset_free(&part);
    sset_free(acc);
    *acc = next;
    return ok;
}

/* The strings a `.*`-free node stands for. */
static bool expand(const rnode *r, sset *out)
{
    switch (r->kind) {
    case RN_LIT:
        sset_add(out, r->lit.p, r->lit.len);
        return true;
    case RN_CAT:
        sset_add(out, "", 0);
        for (size_t i = 0; i < r->n; i++)
            if (!expand_product(r->kids[i], out))
                return false;
        return true;
    case RN_ALT:
        for (size_t i = 0; i < r->n; i++) {
            sset part = { 0 };
            if (!expand(r->kids[i], &part)) {
                sset_free(&part);
                return false;
            }
            for (size_t j = 0; j < part.n; j++) {
                if (out->n >= RS_MAX_ALTS || out->bytes > RS_MAX_BYTES) {
                    sset_free(&part);
                    return false;
                }
                sset_add(out, part.v[j].p, part.v[j].len);
            }
            sset_free(&part);
        }
        return true;
    default:
        return false;
    }
}

typedef enum simp { SIMP_NONE, SIMP_TRUE, SIMP_EXISTS, SIMP_SET } simp;

/* One top-level alternative: a cat (possibly a lone group). */
static simp simplify_branch(const rnode *cat, sset *out, bool *exists)
{
    /* a cat that is one group holding alternatives is those alternatives */
    if (cat->kind == RN_CAT && cat->n == 1 && cat->kids[0]->kind == RN_ALT) {
        const rnode *alt = cat->kids[0];
        for (size_t i = 0; i < alt->n; i++) {
            simp s = simplify_branch(alt->kids[i], out, exists);
            if (s == SIMP_NONE || s == SIMP_TRUE)
                return s;
        }
        return SIMP_SET;
    }
    size_t b = 0, e = cat->n;
    while (b < e && cat->kids[b]->kind == RN_DOTSTAR)
        b++;
    while (e > b && cat->kids[e - 1]->kind == RN_DOTSTAR)
        e--;
    if (b == e)
        return SIMP_TRUE;
    if (e - b == 1 && cat->kids[b]->kind == RN_DOTPLUS) {
        *exists = true;
        return SIMP_SET;
    }
    rnode mid = { .kind = RN_CAT, .kids = cat->kids + b, .n = e - b };
    sset part = { 0 };
    if (!expand(&mid, &part)) {
        sset_free(&part);
        return SIMP_NONE;
    }
    for (size_t i = 0; i < part.n; i++) {
        if (part.v[i].len == 0) {
            sset_free(&part);
            return SIMP_TRUE;
        }
        if (out->n >= RS_MAX_ALTS) {
            sset_free(&part);
            return SIMP_NONE;
        }
        sset_add(out, part.v[i].p, part.v[i].len);
    }
    sset_free(&part);
    return SIMP_SET;
}

/* ASCII only, and no letter whose case folding reaches outside ASCII in Go
 * (k: U+212A KELVIN SIGN, s: U+017F LONG S). */
static bool ci_safe(lk_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c >= 0x80 || c == 'k' || c == 'K' || c == 's' || c == 'S')
            return false;
    }
    return true;
}

/* Adds leaves equivalent to the regex to m; false when it is not in the
 * simplifiable subset. */
static bool simplify_regex(lk_str re, lf_matcher *m)
{
    bool ci = false;
    if (re.len >= 4 && memcmp(re.p, "(?i)", 4) == 0) {
        ci = true;
        re.p += 4;
        re.len -= 4;
    }
    rparse r = { .p = re.p, .n = re.len };
    rnode *top = rs_alt(&r);
    if (!top)
        return false;
    if (r.i != r.n) {
        rnode_free(top);
        return false;
    }
    sset set = { 0 };
    bool exists = false;
    simp result = SIMP_SET;
    for (size_t i = 0; i < top->n && result == SIMP_SET; i++)
        result = simplify_branch(top->kids[i], &set, &exists);
    rnode_free(top);
    if (result == SIMP_SET && ci)
        for (size_t i = 0; i < set.n; i++)
            if (!ci_safe(lk_buf_str(&set.v[i])))
                result = SIMP_NONE;
    if (result == SIMP_NONE) {
        sset_free(&set);
        return false;
    }
    if (result == SIMP_TRUE) {
        add_leaf(m, LEAF_TRUE);
    } else {
        if (exists)
            add_leaf(m, LEAF_EXISTS);
        for (size_t i = 0; i < set.n; i++) {
            leaf *l = add_leaf(m, ci ? LEAF_CONTAINS_CI : LEAF_CONTAINS);
            l->len = set.v[i].len;
            l->lit = lk_memdup(set.v[i].p, l->len + 1);
            if (ci)
                for (size_t k = 0; k < l->len; k++)
                    l->lit[k] = (char)fold_tab[(unsigned char)l->lit[k]];
        }
    }
    sset_free(&set);
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

/* ---- ip() --------------------------------------------------------------------- */

typedef struct ipaddr {
    int bits;        /* 32 or 128 */
    uint8_t b[16];   /* IPv4 in b[0..3] */
    bool zone;       /* an IPv6 zone (%eth0) was given */
} ipaddr;

typedef enum ip_kind { IP_SINGLE, IP_PREFIX, IP_RANGE } ip_kind;

struct lf_ip {
    ip_kind kind;
    ipaddr a, b;     /* SINGLE: a; PREFIX: a; RANGE: a..b */
    int prefix;
};

/* Go's parseIPv4Fields over s (the whole string must be the address). */
static bool parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
    int val = 0, pos = 0, dig = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (dig == 1 && val == 0)
                return false; /* leading zero */
            val = val * 10 + (c - '0');
            dig++;
            if (val > 255)
                return false;
        } else if (c == '.') {
            if (i == 0 || i == n - 1 || s[i - 1] == '.')
                return false;
            if (pos == 3)
                return false;
            out[pos++] = (uint8_t)val;
            val = 0;
            dig = 0;
        } else {
            return false;
        }
    }
    if (pos < 3)
        return false;
    out[3] = (uint8_t)val;
    return true;
}

/* Go's parseIPv6. */
static bool parse_ipv6(const char *in, size_t n, ipaddr *out)
{
    const char *s = in;
    size_t len = n;
    const char *pct = memchr(in, '%', n);
    out->zone = false;
    if (pct) {
        if ((size_t)(pct - in) == n - 1)
            return false; /* empty zone */
        len = (size_t)(pct - in);
        out->zone = true;
    }
    uint8_t ip[16] = { 0 };
    int ellipsis = -1;
    size_t i = 0; /* offset into s */
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        ellipsis = 0;
        i = 2;
        if (i == len) {
            memset(out->b, 0, 16);
            out->bits = 128;
            return true;
        }
    }
    int k = 0; /* bytes filled */
    while (k < 16) {
        size_t off = 0;
        uint32_t acc = 0;
        while (i + off < len) {
            int v = lk_hex_val(s[i + off]);
            if (v < 0)
                break;
            acc = (acc << 4) + (uint32_t)v;
            if (off > 3)
                return false; /* more than 4 digits */
            off++;
        }
        if (off > 4)
            return false;
        if (off == 0)
            return false;
        if (i + off < len && s[i + off] == '.') {
            if (ellipsis < 0 && k != 12)
                return false;
            if (k + 4 > 16)
                return false;
            if (!parse_ipv4(s + i, len - i, ip + k))
                return false;
            i = len;
            k += 4;
            break;
        }
        ip[k] = (uint8_t)(acc >> 8);
        ip[k + 1] = (uint8_t)acc;
        k += 2;
        i += off;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        if (i + 1 == len)
            return false; /* colon must be followed by more */
        i++;
        if (s[i] == ':') {
            if (ellipsis >= 0)
                return false; /* multiple :: */
            ellipsis = k;
            i++;
            if (i == len)
                break;
        }
    }
    if (i != len)
        return false;
    if (k < 16) {
        if (ellipsis < 0)
            return false;
        int shift = 16 - k;
        for (int j = k - 1; j >= ellipsis; j--)
            ip[j + shift] = ip[j];
        memset(ip + ellipsis, 0, (size_t)shift);
    } else if (ellipsis >= 0) {
        return false; /* :: must stand for at least one group */
    }
    memcpy(out->b, ip, 16);
    out->bits = 128;
    return true;
}

/* Go's netip.ParseAddr */
static bool parse_addr(const char *s, size_t n, ipaddr *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            out->bits = 32;
            return parse_ipv4(s, n, out->b);
        }
        if (s[i] == ':')
            return parse_ipv6(s, n, out);
        if (s[i] == '%')
            return false;
    }
    return false;
}

static int addr_cmp(const ipaddr *x, const ipaddr *y)
{
    if (x->bits != y->bits)
        return x->bits < y->bits ? -1 : 1;
    return memcmp(x->b, y->b, (size_t)x->bits / 8);
}

static bool prefix_contains(const ipaddr *p, int bits, const ipaddr *ip)
{
    if (p->bits != ip->bits || ip->zone)
        return false;
    int full = bits / 8, rest = bits % 8;
    if (memcmp(p->b, ip->b, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (p->b[full] & mask) == (ip->b[full] & mask);
}

static bool ip_set_contains(const lf_ip *f, const ipaddr *ip)
{
    switch (f->kind) {
    case IP_SINGLE:
        return !f->a.zone && addr_cmp(&f->a, ip) == 0;
    case IP_PREFIX:
        return prefix_contains(&f->a, f->prefix, ip);
    case IP_RANGE:
        return addr_cmp(&f->a, ip) <= 0 && addr_cmp(&f->b, ip) >= 0;
    }
    return false;
}

/* Go's netip.ParsePrefix */
static bool parse_prefix(lk_str s, lf_ip *f)
{
    const char *slash = NULL;
    for (size_t i = s.len; i > 0; i--) {
        if (s.p[i - 1] == '/') {
            slash = s.p + i - 1;
            break;
        }
    }
    if (!slash)
        return false;
    if (!parse_addr(s.p, (size_t)(slash - s.p), &f->a) || f->a.zone)
        return false;
    const char *b = slash + 1;
    size_t bn = (size_t)(s.p + s.len - b);
    if (bn == 0 || (bn > 1 && (b[0] < '1' || b[0] > '9')) || bn > 4)
        return false;
    int bits = 0;
    for (size_t i = 0; i < bn; i++) {
        if (b[i] < '0' || b[i] > '9')
            return false;
        bits = bits * 10 + (b[i] - '0');
    }
    if (bits > f->a.bits)
        return false;
    f->prefix = bits;
    f->kind = IP_PREFIX;
    return true;
}

/* go4.org/netipx ParseIPRange: "from-to", same family, from <= to. */
static bool parse_range(lk_str s, lf_ip *f)
{
    const char *dash = memchr(s.p, '-', s.len);
    if (!dash)
        return false;
    if (!parse_addr(s.p, (size_t)(dash - s.p), &f->a) ||
        !parse_addr(dash + 1, (size_t)(s.p + s.len - dash - 1), &f->b))
        return false;
    f->a.zone = f->b.zone = false;
    if (f->a.bits != f->b.bits || addr_cmp(&f->b, &f->a) < 0)
        return false;
    f->kind = IP_RANGE;
    return true;
}

int lf_ip_compile(lk_str pattern, lf_ip **out, lk_buf *err)
{
    lf_ip *f = lk_calloc(1, sizeof(*f));
    const char *p = pattern.p ? pattern.p : "";
    if (parse_addr(p, pattern.len, &f->a)) {
        f->kind = IP_SINGLE;
    } else if (!parse_prefix((lk_str){ p, pattern.len }, f) &&
               !parse_range((lk_str){ p, pattern.len }, f)) {
        free(f);
        if (err) {
            lk_buf_puts(err, "ip: invalid pattern: ");
            lk_go_quote(pattern, err);
        }
        return LK_EPARSE;
    }
    *out = f;
    return 0;
}

static bool is_digit_b(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool ipv4_hint(const unsigned char *p)
{
    return is_digit_b(p[0]) && (p[1] == '.' || p[2] == '.' || p[3] == '.');
}

static bool ipv6_hint(const unsigned char *p)
{
    if (p[0] == ':')
        return p[1] == ':' && lk_is_hex(p[2]);
    /* 1 to 4 hex digits, then ':' */
    for (int i = 0; i < 4 && lk_is_hex(p[i]); i++)
        if (p[i + 1] == ':')
            return true;
    return false;
}

static size_t span(const unsigned char *p, size_t n, bool v6)
{
    size_t i = 0;
    for (; i < n; i++) {
        unsigned char c = p[i];
        bool ok = is_digit_b(c) || c == '.' || (v6 && (lk_is_hex(c) || c == ':'));
        if (!ok)
            break;
    }
    return i;
}

/* Loki's ipFilter.filter: walk the text, try every IP-looking run. */
bool lf_ip_contains(const lf_ip *f, lk_str text)
{
    const unsigned char *s = (const unsigned char *)text.p;
    size_t n = text.len;
    for (size_t i = 0; i < n; i++) {
        bool v4 = i + 3 < n && ipv4_hint(s + i);
        bool v6 = !v4 && i + 4 < n && ipv6_hint(s + i);
        if (!v4 && !v6)
            continue;
        size_t len = span(s + i, n - i, v6);
        ipaddr ip;
        if (parse_addr((const char *)s + i, len, &ip) && ip_set_contains(f, &ip))
            return true;
        i += len;
    }
    return false;
}

void lf_ip_free(lf_ip *ip)
{
    free(ip);
}

/* ---- patterns -------------------------------------------------------------------- */

static bool pat_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of a capture `<name>` at s (name: (alpha|_)(alnum|_)*), or 0. */
static size_t capture_len(const char *s, size_t n)
{
    if (n < 3 || s[0] != '<' || !(pat_alpha(s[1]) || s[1] == '_'))
        return 0;
    size_t i = 2;
    while (i < n && (pat_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        i++;
    return i < n && s[i] == '>' ? i + 1 : 0;
}

void lf_pattern_parse(lk_str src, lf_pattern *out)
{
    memset(out, 0, sizeof(*out));
    if (src.len == 0)
        return;
    out->mem = lk_memdup(src.p, src.len);
    out->nodes = lk_calloc(src.len, sizeof(lf_pattern_node));
    size_t i = 0, lit_start = 0;
    bool in_lit = false;
    while (i < src.len) {
        size_t c = capture_len(out->mem + i, src.len - i);
        if (c) {
            if (in_lit) {
                out->nodes[out->n++] = (lf_pattern_node){ false, { out->mem + lit_start,
                                                                   i - lit_start } };
                in_lit = false;
            }
            out->nodes[out->n++] = (lf_pattern_node){ true, { out->mem + i + 1, c - 2 } };
            i += c;
            continue;
        }
        if (!in_lit) {
            in_lit = true;
            lit_start = i;
        }
        i++;
    }
    if (in_lit)
        out->nodes[out->n++] = (lf_pattern_node){ false, { out->mem + lit_start, i - lit_start } };
}

void lf_pattern_free(lf_pattern *p)
{
    if (!p)
        return;
    free(p->nodes);
    free(p->mem);
    memset(p, 0, sizeof(*p));
}

static bool is_unnamed(const lf_pattern_node *n)
{
    return n->capture && lk_str_eq(n->text, LK_STR("_"));
}

static bool has_consecutive_captures(const lf_pattern *p)
{
    for (size_t i = 1; i < p->n; i++)
        if (p->nodes[i].capture && p->nodes[i - 1].capture)
            return true;
    return false;
}

int lf_pattern_check_filter(const lf_pattern *p, lk_buf *err)
{
    if (has_consecutive_captures(p)) {
        if (err)
            lk_buf_puts(err, "found consecutive capture: invalid expression");
        return LK_EPARSE;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->nodes[i].capture && !is_unnamed(&p->nodes[i])) {
            if (err)
                lk_buf_puts(err, "named captures are not allowed");
            return LK_EPARSE;
        }
    }
    return 0;
}

int lf_pattern_check_stage(lk_str src, lk_buf *err)
{
    if (src.len == 0) {
        if (err)
            lk_buf_puts(err, "parse error at line 1, col 1: syntax error: unexpected $end, "
                             "expecting IDENTIFIER or LITERAL");
        return LK_EPARSE;
    }
    lf_pattern p;
    lf_pattern_parse(src, &p);
    int rc = 0;
    size_t named = 0;
    for (size_t i = 0; i < p.n; i++)
        if (p.nodes[i].capture && !is_unnamed(&p.nodes[i]))
            named++;
    if (named == 0) {
        if (err)
            lk_buf_puts(err, "at least one capture is required");
        rc = LK_EPARSE;
        goto out;
    }
    if (has_consecutive_captures(&p)) {
        if (err)
            lk_buf_puts(err, "found consecutive capture: invalid expression");
        rc = LK_EPARSE;
        goto out;
    }
    for (size_t i = 0; i < p.n && !rc; i++) {
        if (!p.nodes[i].capture || is_unnamed(&p.nodes[i]))
            continue;
        for (size_t j = 0; j < i; j++) {
            if (p.nodes[j].capture && lk_str_eq(p.nodes[j].text, p.nodes[i].text)) {
                if (err)
                    lk_buf_printf(err, "duplicate capture name (%.*s): invalid expression",
                                  LK_STR_FMT(p.nodes[i].text));
                rc = LK_EPARSE;
                break;
            }
        }
    }
out:
    lf_pattern_free(&p);
    return rc;
}

static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
    if (m == 0)
        return hay;
    if (n < m)
        return NULL;
    return memmem(hay, n, needle, m);
}

bool lf_pattern_test(const lf_pattern *p, lk_str line)
{
    if (line.len == 0 || p->n == 0)
        return line.len == 0 && p->n == 0; /* an empty line only matches an empty pattern */
    size_t off = 0;
    for (size_t i = 0; i < p->n; i++) {
        const lf_pattern_node *nd = &p->nodes[i];
        if (nd->capture)
            continue;
        const char *hit = find_bytes(line.p + off, line.len - off, nd->text.p, nd->text.len);
        if (!hit)
            return false;
        size_t j = (size_t)(hit - (line.p + off));
        if (i != 0 && j == 0)
            return false; /* an empty capture or repeated literals */
        off += j + nd->text.len;
    }
    /* ending on a capture needs text left for it; ending on a literal, none */
    bool req_rem = p->nodes[p->n - 1].capture;
    bool has_rem = off != line.len;
    return req_rem == has_rem;
}

/* ---- the `| regexp` stage ----------------------------------------------------------- */

typedef struct group_names {
    lk_str *v;
    int n;
} group_names;

static int collect_name(void *ctx, int group, lk_str name)
{
    group_names *g = ctx;
    if (group >= 1 && group <= g->n)
        g->v[group - 1] = name;
    return 0;
}

int lf_regexp_stage_check(lk_str re, lk_buf *err)
{
    lk_regex *rx;
    int rc = lk_regex_compile(re, 0, &rx, err);
    if (rc)
        return rc;
    int n = lk_regex_group_count(rx);
    if (n == 0) {
        lk_regex_free(rx);
        if (err)
            lk_buf_puts(err, "at least one named capture must be supplied");
        return LK_EPARSE;
    }
    group_names g = { lk_calloc((size_t)n, sizeof(lk_str)), n };
    lk_regex_named_groups(rx, collect_name, &g);
    rc = 0;
    int named = 0;
    for (int i = 0; i < n && !rc; i++) {
        if (g.v[i].len == 0)
            continue; /* unnamed groups extract nothing */
        named++;
        if (!labels_valid_name(g.v[i])) {
            if (err)
                lk_buf_printf(err, "invalid extracted label name '%.*s'", LK_STR_FMT(g.v[i]));
            rc = LK_EPARSE;
            break;
        }
        for (int j = 0; j < i; j++) {
            if (lk_str_eq(g.v[j], g.v[i])) {
                if (err)
                    lk_buf_printf(err, "duplicate extracted label name '%.*s'",
                                  LK_STR_FMT(g.v[i]));
                rc = LK_EPARSE;
                break;
            }
        }
    }
    if (!rc && named == 0) {
        if (err)
            lk_buf_puts(err, "at least one named capture must be supplied");
        rc = LK_EPARSE;
    }
    free(g.v);
    lk_regex_free(rx);
    return rc;
}
