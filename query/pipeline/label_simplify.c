/* Loki's label-filter regex simplifier (label_simplify.h), in two steps.
 *
 * 1. The pattern is read into the tree Go's regexp/syntax.Parse (Perl
 *    flags) builds, for the subset the simplifier can accept: literals
 *    (merged as Go's parser merges adjacent ones), `.*` and `.+` (lazy or
 *    not), capturing and non-capturing groups, alternation, a leading (?i).
 *    Go's alternation factoring is reproduced, since it decides the result:
 *    adjacent single-character legs become a character class (as
 *    swapVerticalBar and factor's round 3 make them), and legs sharing a
 *    leading literal become prefix(suffix|...) (round 1). Anything else
 *    (classes, anchors, other quantifiers, other flags, non-ASCII letters
 *    under (?i)) is refused: Loki then runs the anchored regex, as lokic did.
 * 2. The tree is turned into a filter as RegexSimplifier.Simplify does with
 *    isLabel: a literal is an equality test, a concatenation a substring
 *    test (its anchoring lost), an alternation an `or` in which a
 *    match-everything leg disappears; `.*` and the empty regex match
 *    everything, `.+` every non-empty value.
 *
 * Matching reproduces Loki's equalFilter, containsFilter and containsLower
 * byte for byte. Not reproduced: Loki reusing one buffer for the prefixes
 * of several concatenated alternation legs (a Go slice aliasing effect). */
#define _GNU_SOURCE /* memmem */
#include "query/pipeline/label_simplify.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/utf8.h"

/* ---- step 1: Go's parse tree ---- */

typedef enum gk { G_LIT, G_DOTSTAR, G_DOTPLUS, G_CAT, G_ALT, G_CAP, G_EMPTY, G_CLASS } gk;

typedef struct gnode {
    gk k;
    lk_buf lit;           /* G_LIT: its runes (ASCII letters folded up under (?i)) */
    size_t runes;         /* G_LIT */
    struct gnode **kids;  /* G_CAT, G_ALT, G_CAP */
    size_t n, cap;
} gnode;

typedef struct gparse {
    const char *p;
    size_t n, i;
    int depth;
    bool fold;            /* (?i) */
} gparse;

#define GP_MAX_DEPTH 32

static gnode *gnode_new(gk k)
{
    gnode *g = lk_calloc(1, sizeof(*g));
    g->k = k;
    return g;
}

static void gnode_free(gnode *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        gnode_free(g->kids[i]);
    free(g->kids);
    lk_buf_free(&g->lit);
    free(g);
}

static void gnode_add(gnode *g, gnode *kid)
{
    if (g->n == g->cap)
        g->kids = lk_grow(g->kids, &g->cap, g->n + 1, sizeof(*g->kids));
    g->kids[g->n++] = kid;
}

static void gnode_remove_first(gnode *g)
{
    memmove(g->kids, g->kids + 1, (g->n - 1) * sizeof(*g->kids));
    g->n--;
}

/* Go's isCharClass: a one-rune literal, a class, a lone `.`. */
static bool is_char_class(const gnode *g)
{
    return g->k == G_CLASS || (g->k == G_LIT && g->runes == 1);
}

/* A list of nodes (the legs of an alternation, the items of a concat). */
typedef struct glist {
    gnode **v;
    size_t n, cap;
} glist;

static void glist_add(glist *l, gnode *g)
{
    if (l->n == l->cap)
        l->v = lk_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    l->v[l->n++] = g;
}

static void glist_free(glist *l)
{
    for (size_t i = 0; i < l->n; i++)
        gnode_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* One literal character at r->i into out (its rune folded under (?i));
 * false when it is not one Go reads as a plain literal. */
static bool gp_literal(gparse *r, lk_buf *out)
{
    unsigned char c = (unsigned char)r->p[r->i];
    if (c == '\\') {
        if (r->i + 1 >= r->n)
            return false;
        unsigned char e = (unsigned char)r->p[r->i + 1];
        const char *ctl = e ? strchr("afnrtv", e) : NULL;
        if (ctl) {
            static const char vals[] = { '\a', '\f', '\n', '\r', '\t', '\v' };
            c = (unsigned char)vals[ctl - "afnrtv"];
        } else if (e < 0x80 && e > ' ' && !((e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') ||
                                             (e >= 'A' && e <= 'Z'))) {
            c = e;
        } else {
            return false;
        }
        r->i += 2;
    } else if (c < 0x80) {
        if (c == 0 || strchr("^$.[|()?*+{", (char)c))
            return false;
        r->i++;
    } else {
        size_t w = lk_utf8_valid_len(r->p + r->i, r->n - r->i);
        if (!w || r->fold)
            return false; /* Go's fold orbits beyond ASCII are not modelled */
        lk_buf_append(out, r->p + r->i, w);
        r->i += w;
        return true;
    }
    if (r->fold && c >= 'a' && c <= 'z')
        c = (unsigned char)(c - 'a' + 'A'); /* minFoldRune: K for k, S for s too */
    lk_buf_putc(out, (char)c);
    return true;
}

/* Pushes an item as Go's parser stacks it: adjacent literals merge. */
static void cat_push(glist *items, gnode *g)
{
    gnode *last = items->n ? items->v[items->n - 1] : NULL;
    if (g->k == G_LIT && last && last->k == G_LIT) {
        lk_buf_append(&last->lit, g->lit.p, g->lit.len);
        last->runes += g->runes;
        gnode_free(g);
        return;
    }
    glist_add(items, g);
}

static bool quantifier_next(const gparse *r)
{
    return r->i < r->n && r->p[r->i] != '\0' && strchr("*+?{", r->p[r->i]);
}

static gnode *gp_alt(gparse *r);

static gnode *gp_group(gparse *r)
{
    bool capture = true;
    r->i++;
    if (r->i < r->n && r->p[r->i] == '?') {
        if (r->i + 1 >= r->n || r->p[r->i + 1] != ':')
            return NULL;
        capture = false;
        r->i += 2;
    }
    if (++r->depth > GP_MAX_DEPTH)
        return NULL;
    gnode *in = gp_alt(r);
    r->depth--;
    if (!in || r->i >= r->n || r->p[r->i] != ')') {
        gnode_free(in);
        return NULL;
    }
    r->i++;
    if (!capture)
        return in;
    gnode *g = gnode_new(G_CAP);
    gnode_add(g, in);
    return g;
}

/* Go's concat(): items, non-capturing concatenations spliced in. */
static gnode *cat_collapse(glist *items)
{
    if (items->n == 0)
        return gnode_new(G_EMPTY);
    if (items->n == 1) {
        gnode *g = items->v[0];
        free(items->v);
        return g;
    }
    gnode *cat = gnode_new(G_CAT);
    for (size_t i = 0; i < items->n; i++) {
        gnode *g = items->v[i];
        if (g->k != G_CAT) {
            gnode_add(cat, g);
            continue;
        }
        for (size_t j = 0; j < g->n; j++)
            gnode_add(cat, g->kids[j]);
        g->n = 0;
        gnode_free(g);
    }
    free(items->v);
    return cat;
}

static gnode *gp_cat(gparse *r)
{
    glist items = { 0 };
    while (r->i < r->n && r->p[r->i] != '|' && r->p[r->i] != ')') {
        gnode *g = NULL;
        char c = r->p[r->i];
        if (c == '(') {
            g = gp_group(r);
        } else if (c == '.') {
            r->i++;
            if (r->i < r->n && (r->p[r->i] == '*' || r->p[r->i] == '+')) {
                g = gnode_new(r->p[r->i] == '*' ? G_DOTSTAR : G_DOTPLUS);
                r->i++;
                if (r->i < r->n && r->p[r->i] == '?')
                    r->i++; /* lazy: the same node for the simplifier */
            } else {
                g = gnode_new(G_CLASS);
            }
        } else {
            g = gnode_new(G_LIT);
            g->runes = 1;
            if (!gp_literal(r, &g->lit)) {
                gnode_free(g);
                g = NULL;
            }
        }
        if (!g || quantifier_next(r)) {
            gnode_free(g);
            glist_free(&items);
            return NULL;
        }
        cat_push(&items, g);
    }
    return cat_collapse(&items);
}

static gnode *alt_collapse(glist *legs);

/* Go's leadingString: the literal a leg starts with. */
static const gnode *leading_literal(const gnode *g)
{
    if (g->k == G_CAT && g->n > 0)
        g = g->kids[0];
    return g->k == G_LIT ? g : NULL;
}

/* Go's removeLeadingString: drops the first `bytes` bytes of the leading
 * literal; returns the node that replaces g. */
static gnode *remove_leading(gnode *g, size_t bytes)
{
    if (g->k == G_CAT && g->n > 0) {
        g->kids[0] = remove_leading(g->kids[0], bytes);
        if (g->kids[0]->k != G_EMPTY)
            return g;
        gnode_free(g->kids[0]);
        if (g->n == 2) {
            gnode *rest = g->kids[1];
            g->n = 0;
            gnode_free(g);
            return rest;
        }
        gnode_remove_first(g);
        return g;
    }
    if (g->k == G_LIT) {
        lk_str rest = { g->lit.p + bytes, g->lit.len - bytes };
        g->runes = lk_utf8_count(rest);
        memmove(g->lit.p, rest.p, rest.len);
        g->lit.len = rest.len;
        if (!rest.len)
            g->k = G_EMPTY;
    }
    return g;
}

/* The byte length of the longest common rune prefix of a and b. */
static size_t common_prefix(lk_str a, lk_str b)
{
    size_t i = 0;
    while (i < a.len && i < b.len) {
        size_t w = lk_utf8_valid_len(a.p + i, a.len - i);
        if (!w || w > b.len - i || memcmp(a.p + i, b.p + i, w) != 0)
            break;
        i += w;
    }
    return i;
}

/* Round 1 of Go's factor: legs sharing a leading literal become
 * prefix(suffix1|suffix2|...). */
static void factor_prefixes(glist *legs)
{
    glist out = { 0 };
    size_t start = 0;
    lk_str str = { NULL, 0 };
    for (size_t i = 0; i <= legs->n; i++) {
        lk_str istr = { NULL, 0 };
        if (i < legs->n) {
            const gnode *lit = leading_literal(legs->v[i]);
            if (lit)
                istr = lk_buf_str(&lit->lit);
            size_t same = common_prefix(str, istr);
            if (same > 0) {
                str.len = same;
                continue;
            }
        }
        if (i == start + 1) {
            glist_add(&out, legs->v[start]);
        } else if (i > start + 1) {
            gnode *prefix = gnode_new(G_LIT);
            lk_buf_append(&prefix->lit, str.p, str.len);
            prefix->runes = lk_utf8_count(str);
            glist run = { 0 };
            for (size_t j = start; j < i; j++)
                glist_add(&run, remove_leading(legs->v[j], str.len));
            gnode *cat = gnode_new(G_CAT);
            gnode_add(cat, prefix);
            gnode_add(cat, alt_collapse(&run));
            glist_add(&out, cat);
        }
        start = i;
        /* str points into legs->v[i], which stays alive until its run ends */
        str = istr;
    }
    free(legs->v);
    *legs = out;
}

/* Rounds 3 and 4 of Go's factor: runs of single characters become a
 * class; runs of empty matches one empty match. */
static void factor_classes(glist *legs)
{
    glist out = { 0 };
    for (size_t i = 0; i < legs->n; i++) {
        gnode *g = legs->v[i];
        gnode *last = out.n ? out.v[out.n - 1] : NULL;
        if (last && is_char_class(last) && is_char_class(g)) {
            last->k = G_CLASS;
            gnode_free(g);
        } else if (last && g->k == G_EMPTY && last->k == G_EMPTY) {
            gnode_free(g);
        } else {
            glist_add(&out, g);
        }
    }
    free(legs->v);
    *legs = out;
}

/* Go's collapse(subs, OpAlternate): nested alternations spliced, factored,
 * a single leg returned as itself. Takes the legs. */
static gnode *alt_collapse(glist *legs)
{
    if (legs->n == 1) {
        gnode *g = legs->v[0];
        free(legs->v);
        return g;
    }
    glist flat = { 0 };
    for (size_t i = 0; i < legs->n; i++) {
        gnode *g = legs->v[i];
        if (g->k != G_ALT) {
            glist_add(&flat, g);
            continue;
        }
        for (size_t j = 0; j < g->n; j++)
            glist_add(&flat, g->kids[j]);
        g->n = 0;
        gnode_free(g);
    }
    free(legs->v);
    factor_prefixes(&flat);
    factor_classes(&flat);
    if (flat.n == 1) {
        gnode *g = flat.v[0];
        free(flat.v);
        return g;
    }
    gnode *alt = gnode_new(G_ALT);
    alt->kids = flat.v;
    alt->n = flat.n;
    alt->cap = flat.cap;
    return alt;
}

static gnode *gp_alt(gparse *r)
{
    glist legs = { 0 };
    for (;;) {
        gnode *leg = gp_cat(r);
        if (!leg) {
            glist_free(&legs);
            return NULL;
        }
        gnode *last = legs.n ? legs.v[legs.n - 1] : NULL;
        if (last && is_char_class(last) && is_char_class(leg)) {
            last->k = G_CLASS; /* swapVerticalBar: merged into one class */
            gnode_free(leg);
        } else {
            glist_add(&legs, leg);
        }
        if (r->i < r->n && r->p[r->i] == '|') {
            r->i++;
            continue;
        }
        return alt_collapse(&legs);
    }
}

/* ---- step 2: the filter ---- */

typedef enum lsk { LS_TRUE, LS_EXISTS, LS_EQUAL, LS_CONTAINS, LS_OR } lsk;

struct lf_lsimple {
    lsk k;
    bool ci;
    lk_buf lit;
    lf_lsimple *l, *r;
};

static lf_lsimple *ls_new(lsk k)
{
    lf_lsimple *f = lk_calloc(1, sizeof(*f));
    f->k = k;
    return f;
}

void lf_lsimple_free(lf_lsimple *f)
{
    if (!f)
        return;
    lf_lsimple_free(f->l);
    lf_lsimple_free(f->r);
    lk_buf_free(&f->lit);
    free(f);
}

static lf_lsimple *ls_equal(lk_str lit, bool ci)
{
    lf_lsimple *f = ls_new(LS_EQUAL);
    f->ci = ci;
    lk_buf_append(&f->lit, lit.p, lit.len);
    return f;
}

/* newContainsFilter: "" matches everything; folded literals lower-cased. */
static lf_lsimple *ls_contains(lk_str lit, bool ci)
{
    if (!lit.len)
        return ls_new(LS_TRUE);
    lf_lsimple *f = ls_new(LS_CONTAINS);
    f->ci = ci;
    lk_buf_append(&f->lit, lit.p, lit.len);
    if (ci)
        for (size_t i = 0; i < f->lit.len; i++)
            if (f->lit.p[i] >= 'A' && f->lit.p[i] <= 'Z')
                f->lit.p[i] = (char)(f->lit.p[i] - 'A' + 'a');
    return f;
}

/* newOrFilter: a leg matching everything is dropped. */
static lf_lsimple *ls_or(lf_lsimple *a, lf_lsimple *b)
{
    if (!a)
        return b;
    if (a->k == LS_TRUE) {
        lf_lsimple_free(a);
        return b;
    }
    if (b->k == LS_TRUE) {
        lf_lsimple_free(b);
        return a;
    }
    lf_lsimple *f = ls_new(LS_OR);
    f->l = a;
    f->r = b;
    return f;
}

/* Go's util.ClearCapture, one level. */
static const gnode *uncap(const gnode *g)
{
    return g->k == G_CAP ? g->kids[0] : g;
}

/* The FoldCase flag of a node: Go sets it on literals, empty matches and
 * repetitions under (?i), not on the concatenations the parser builds. */
static bool node_fold(const gnode *g, bool fold)
{
    return fold && g->k != G_CAT && g->k != G_ALT && g->k != G_CAP;
}

static lf_lsimple *ls_concat(const gnode *cat, const lk_buf *base_in, bool fold);

/* simplifyConcatAlternate. */
static lf_lsimple *ls_concat_alt(const gnode *alt, lk_str base, bool base_ci, bool fold)
{
    lf_lsimple *curr = NULL;
    for (size_t i = 0; i < alt->n; i++) {
        const gnode *leg = alt->kids[i];
        lf_lsimple *f = NULL;
        if (!base_ci && node_fold(leg, fold))
            goto fail;
        switch (leg->k) {
        case G_EMPTY:
        case G_DOTSTAR:
            f = ls_contains(base, base_ci);
            break;
        case G_LIT: {
            lk_buf both = { 0 };
            lk_buf_append(&both, base.p, base.len);
            lk_buf_append(&both, leg->lit.p, leg->lit.len);
            f = ls_contains(lk_buf_str(&both), base_ci);
            lk_buf_free(&both);
            break;
        }
        case G_CAT: {
            lk_buf b = { 0 };
            lk_buf_append(&b, base.p, base.len);
            f = ls_concat(leg, &b, fold);
            lk_buf_free(&b);
            break;
        }
        default:
            break;
        }
        if (!f)
            goto fail;
        curr = ls_or(curr, f);
    }
    return curr;
fail:
    lf_lsimple_free(curr);
    return NULL;
}

/* simplifyConcat: base_in is Go's baseLiteral (NULL for nil). */
static lf_lsimple *ls_concat(const gnode *cat, const lk_buf *base_in, bool fold)
{
    const gnode *subs[3];
    size_t n = 0;
    for (size_t i = 0; i < cat->n; i++) {
        const gnode *g = uncap(cat->kids[i]);
        if (g->k == G_EMPTY)
            continue;
        if (n == 3)
            return NULL;
        subs[n++] = g;
    }
    lk_buf base = { 0 };
    bool has_base = base_in != NULL, ci = false;
    int literals = 0;
    lf_lsimple *curr = NULL;
    if (base_in)
        lk_buf_append(&base, base_in->p, base_in->len);
    for (size_t i = 0; i < n; i++) {
        const gnode *g = subs[i];
        if (g->k == G_LIT) {
            if (literals++)
                goto fail;
            lk_buf_append(&base, g->lit.p, g->lit.len);
            has_base = true;
            ci = fold;
        } else if (g->k == G_ALT && has_base) {
            lf_lsimple *f = ls_concat_alt(g, lk_buf_str(&base), ci, fold);
            if (!f)
                goto fail;
            curr = curr ? ls_or(curr, f) : f;
        } else if (g->k != G_DOTSTAR) {
            goto fail;
        }
    }
    if (!curr && has_base)
        curr = ls_contains(lk_buf_str(&base), ci);
    lk_buf_free(&base);
    return curr;
fail:
    lf_lsimple_free(curr);
    lk_buf_free(&base);
    return NULL;
}

/* RegexSimplifier.Simplify with isLabel. */
static lf_lsimple *ls_simplify(const gnode *g, bool fold)
{
    switch (g->k) {
    case G_ALT: {
        lf_lsimple *f = NULL;
        for (size_t i = 0; i < g->n; i++) {
            lf_lsimple *leg = ls_simplify(uncap(g->kids[i]), fold);
            if (!leg) {
                lf_lsimple_free(f);
                return NULL;
            }
            f = ls_or(f, leg);
        }
        return f;
    }
    case G_CAT: return ls_concat(g, NULL, fold);
    case G_CAP: return ls_simplify(g->kids[0], fold);
    case G_LIT: return ls_equal(lk_buf_str(&g->lit), fold);
    case G_DOTSTAR:
    case G_EMPTY: return ls_new(LS_TRUE);
    case G_DOTPLUS: return ls_new(LS_EXISTS);
    case G_CLASS: return NULL;
    }
    return NULL;
}

bool lf_label_regex_simplify(lk_str re, lf_lsimple **out)
{
    *out = NULL;
    gparse r = { .p = re.p, .n = re.len };
    if (re.len >= 4 && memcmp(re.p, "(?i)", 4) == 0) {
        r.fold = true;
        r.i = 4;
    }
    gnode *g = gp_alt(&r);
    if (!g)
        return false;
    if (r.i == r.n)
        *out = ls_simplify(g, r.fold);
    gnode_free(g);
    return *out != NULL;
}

/* ---- matching, as Loki's filters do ---- */

/* unicode.To(LowerCase, r) where it lands in ASCII. */
static uint32_t lower_to_ascii(uint32_t r)
{
    if (r == 0x212A) /* KELVIN SIGN */
        return 'k';
    if (r == 0x130) /* LATIN CAPITAL LETTER I WITH DOT ABOVE */
        return 'i';
    return r;
}

/* Loki's containsLower, restart rule included (after a mismatch the search
 * goes on from the next byte, not from the match's start + 1). */
static bool contains_lower(lk_str line, lk_str sub)
{
    if (sub.len == 0)
        return true;
    if (sub.len > line.len)
        return false;
    const unsigned char *l = (const unsigned char *)line.p;
    const unsigned char *s = (const unsigned char *)sub.p;
    size_t n = line.len, j = 0;
    while (n > 0) {
        unsigned char c = l[0];
        if (c < 0x80 && s[j] < 0x80) {
            unsigned char m = s[j];
            bool eq = c == m || (unsigned char)(c + 32) == m || c == (unsigned char)(m + 32);
            l++;
            n--;
            if (!eq) {
                j = 0;
                continue;
            }
            if (++j == sub.len)
                return true;
            continue;
        }
        uint32_t lr, mr;
        size_t lw = lk_utf8_decode(l, n, &lr);
        size_t mw = lk_utf8_decode(s + j, sub.len - j, &mr);
        l += lw;
        n -= lw;
        if (lr == mr || mr == lower_to_ascii(lr)) {
            j += mw;
            if (j == sub.len)
                return true;
            continue;
        }
        j = 0;
    }
    return false;
}

static bool contains(lk_str line, lk_str sub, bool ci)
{
    if (ci)
        return contains_lower(line, sub);
    if (sub.len == 0)
        return true;
    if (sub.len > line.len)
        return false;
    return memmem(line.p, line.len, sub.p, sub.len) != NULL;
}

bool lf_lsimple_match(const lf_lsimple *f, lk_str v)
{
    switch (f->k) {
    case LS_TRUE: return true;
    case LS_EXISTS: return v.len > 0;
    case LS_EQUAL: return v.len == f->lit.len && contains(v, lk_buf_str(&f->lit), f->ci);
    case LS_CONTAINS: return contains(v, lk_buf_str(&f->lit), f->ci);
    case LS_OR: return lf_lsimple_match(f->l, v) || lf_lsimple_match(f->r, v);
    }
    return false;
}
