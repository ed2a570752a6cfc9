/* The regex simplifier of line filters (regex_simplify.h): reads the regex
 * subset made of literal characters (and escaped punctuation), groups,
 * alternation and `.*` / `.+`, with an optional leading (?i). Anything else
 * is left to the regex engine. A regex R in the subset whose top-level
 * alternatives are, after dropping leading and trailing `.*`, products of
 * literals, matches a line (unanchored) exactly when the line contains one
 * of the expanded strings. */
#include "query/pipeline/regex_simplify.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/utf8.h"

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

bool lf_regex_simplify(lk_str re, lf_simple *out)
{
    memset(out, 0, sizeof(*out));
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
    out->all = result == SIMP_TRUE;
    out->exists = exists;
    out->ci = ci;
    if (out->all) {
        sset_free(&set);
    } else {
        out->subs = set.v;
        out->n = set.n;
    }
    return true;
}

void lf_simple_free(lf_simple *s)
{
    sset t = { s->subs, s->n, 0 };
    sset_free(&t);
    s->subs = NULL;
    s->n = 0;
}
