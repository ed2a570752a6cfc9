/* The required-literal prefilter (lib/regex_prefilter.h).
 *
 * The pattern is read in RE2's spelling as lib/regex_syntax.c writes it (its
 * escapes are \x{h}, '\' + punctuation or a class letter; \Q..\E is
 * expanded; named groups are plain groups) and each sub-expression gets
 *
 * - exact: the set of strings it matches, while that set is small and each
 *   string short (a literal, a small class, an alternation of those, `x?`);
 * - req: a set of strings one of which each of its matches contains, or
 *   none when nothing can be said (`.`, `\d+`, `x*`, a big class).
 *
 * A concatenation multiplies out the exact sets of consecutive items while
 * the product stays small; each run that cannot grow is a candidate, and the
 * best candidate (the longest shortest string, then the fewest strings) is
 * the concatenation's req. An alternation's req is the union of its
 * branches', none when one branch has none. `x+` and `x{n,}` with n >= 1
 * require what x requires; `x*`, `x{0,m}` require nothing.
 *
 * Only ASCII is kept: an ASCII byte in a subject is always that character,
 * whatever invalid UTF-8 is around it, so a byte search on the raw subject
 * answers for Go's reading too. Other characters (and U+FFFD, which stands
 * for invalid bytes) end a literal, and so does a letter under (?i): RE2's
 * own search for a case-folded literal was measured faster than a byte loop
 * ignoring case (and Go folds k and s to the Kelvin sign and the long s).
 *
 * A set whose shortest string is one byte is not worth a search per
 * subject. Before use, the strings are cut to the longest common length
 * (not below 4) that leaves the fewest distinct ones (GET /api/v1/, GET /api/v2/, POST
 * /api/v1/, POST /api/v2/ -> GET /api/v, POST /api/): one search each. */
#define _GNU_SOURCE
#include "lib/regex_prefilter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

#define PF_SET 16      /* strings in a set */
#define PF_LEN 32      /* bytes in a string */
#define PF_CLASS 8     /* characters in a class taken as a set */
#define PF_DEPTH 32    /* nested groups read; deeper patterns get no prefilter */

typedef struct pf_lit {
    char s[PF_LEN];
    uint8_t len;
} pf_lit;

typedef struct pf_set {
    pf_lit v[PF_SET];
    int n;
} pf_set;

typedef struct pf_info {
    bool exact_ok; /* exact holds every string matched */
    pf_set exact;
    bool req_ok; /* one of req is in every match (else nothing known) */
    pf_set req;
} pf_info;

typedef struct pf_reader {
    const char *p;
    size_t n, i;
    bool fold;
    int depth;
    bool fail; /* too deep or not understood: no prefilter */
} pf_reader;

static void info_none(pf_info *x)
{
    x->exact_ok = x->req_ok = false;
    x->exact.n = x->req.n = 0;
}

static void info_empty(pf_info *x)
{
    info_none(x);
    x->exact_ok = true;
    x->exact.n = 1;
    x->exact.v[0] = (pf_lit){ .len = 0 };
}

static bool is_letter(unsigned c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool lit_eq(const pf_lit *a, const pf_lit *b)
{
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

static bool set_add(pf_set *s, const pf_lit *l)
{
    for (int i = 0; i < s->n; i++)
        if (lit_eq(&s->v[i], l))
            return true;
    if (s->n == PF_SET)
        return false;
    s->v[s->n++] = *l;
    return true;
}

/* The one-character literal c (ASCII); false when it cannot be one (a
 * letter under (?i)). */
static bool char_lit(const pf_reader *r, unsigned c, pf_lit *out)
{
    if (r->fold && is_letter(c))
        return false;
    *out = (pf_lit){ .len = 1 };
    out->s[0] = (char)c;
    return true;
}

static void info_char(const pf_reader *r, unsigned c, pf_info *x)
{
    pf_lit l;
    info_none(x);
    if (c >= 0x80 || !char_lit(r, c, &l))
        return;
    x->exact_ok = true;
    x->exact.n = 1;
    x->exact.v[0] = l;
}

/* What one of s's strings must contain: none when s holds "". */
static bool req_of(const pf_info *x, const pf_set **out)
{
    const pf_set *s = x->exact_ok ? &x->exact : x->req_ok ? &x->req : NULL;
    if (!s || s->n == 0)
        return false;
    for (int i = 0; i < s->n; i++)
        if (s->v[i].len == 0)
            return false;
    *out = s;
    return true;
}

/* The worth of a set as a filter: the shortest string's length; 0 for
 * nothing. */
static int set_score(const pf_set *s)
{
    int best = PF_LEN + 1;
    for (int i = 0; i < s->n; i++) {
        int v = s->v[i].len;
        best = v < best ? v : best;
    }
    return s->n ? best : 0;
}

/* req := the better of req and s. */
static void keep_better(bool *ok, pf_set *req, const pf_set *s)
{
    int a = *ok ? set_score(req) : 0, b = set_score(s);
    for (int i = 0; i < s->n; i++)
        if (s->v[i].len == 0)
            return;
    if (b > a || (b == a && b > 0 && s->n < req->n)) {
        *req = *s;
        *ok = true;
    }
}

/* c := a x b, when it stays small. */
static bool cross(const pf_set *a, const pf_set *b, pf_set *c)
{
    if (a->n * b->n > PF_SET)
        return false;
    c->n = 0;
    for (int i = 0; i < a->n; i++) {
        for (int j = 0; j < b->n; j++) {
            const pf_lit *x = &a->v[i], *y = &b->v[j];
            if (x->len + y->len > PF_LEN)
                return false;
            pf_lit l = { .len = (uint8_t)(x->len + y->len) };
            memcpy(l.s, x->s, x->len);
            memcpy(l.s + x->len, y->s, y->len);
            set_add(c, &l);
        }
    }
    return true;
}

static void read_alt(pf_reader *r, pf_info *out);

/* \x{h} or '\' + one byte at r->i; returns the character, or -1 for an
 * item that is not one character (\d, \pL, ...), -2 for an empty-width
 * assertion (\b, \A, ...). */
static long read_escape(pf_reader *r)
{
    size_t i = r->i + 1;
    if (i >= r->n) {
        r->fail = true;
        return -1;
    }
    char c = r->p[i];
    if (c == 'x' && i + 1 < r->n && r->p[i + 1] == '{') {
        const char *close = memchr(r->p + i, '}', r->n - i);
        if (!close) {
            r->fail = true;
            return -1;
        }
        r->i = (size_t)(close - r->p) + 1;
        return strtol(r->p + i + 2, NULL, 16);
    }
    if (c == 'p' || c == 'P') {
        i++;
        if (i < r->n && r->p[i] == '{') {
            const char *close = memchr(r->p + i, '}', r->n - i);
            i = close ? (size_t)(close - r->p) : r->n;
        }
        r->i = i + 1;
        return -1;
    }
    r->i = i + 1;
    if (c && strchr("AzbB", c))
        return -2;
    if (c && strchr("dDsSwW", c))
        return -1;
    return (unsigned char)c;
}

/* Adds class members lo..hi to s; false when the class is too big or holds
 * what a literal cannot. The surrogate lib/regex_syntax.c adds to keep a
 * class a class matches nothing Go reads: it is left out. */
static bool class_range(const pf_reader *r, long lo, long hi, pf_set *s)
{
    if (lo == 0xD800 && hi == 0xD800)
        return true;
    if (hi >= 0x80 || hi - lo >= PF_CLASS)
        return false;
    for (long c = lo; c <= hi; c++) {
        pf_lit l;
        if (!char_lit(r, (unsigned)c, &l) || !set_add(s, &l) || s->n > PF_CLASS)
            return false;
    }
    return true;
}

/* One class member at r->i: a character, or -1 for a named class. */
static long class_char(pf_reader *r)
{
    const char *p = r->p;
    if (p[r->i] == '\\')
        return read_escape(r);
    if (p[r->i] == '[' && r->i + 1 < r->n && p[r->i + 1] == ':') {
        const char *end = memmem(p + r->i, r->n - r->i, ":]", 2);
        r->i = end ? (size_t)(end - p) + 2 : r->n;
        return -1;
    }
    unsigned char c = (unsigned char)p[r->i++];
    if (c >= 0x80) {
        while (r->i < r->n && ((unsigned char)p[r->i] & 0xC0) == 0x80)
            r->i++;
        return 0x80; /* any non-ASCII character: not a literal */
    }
    return c;
}

/* A bracketed class at r->i ('['). */
static void read_class(pf_reader *r, pf_info *x)
{
    bool ok = true;
    info_none(x);
    r->i++;
    if (r->i < r->n && r->p[r->i] == '^') {
        ok = false;
        r->i++;
    }
    while (r->i < r->n && r->p[r->i] != ']') {
        long lo = class_char(r), hi = lo;
        if (r->i + 1 < r->n && r->p[r->i] == '-' && r->p[r->i + 1] != ']') {
            r->i++;
            hi = class_char(r);
        }
        if (lo < 0 || hi < 0 || !class_range(r, lo, hi, &x->exact))
            ok = false;
    }
    if (r->i >= r->n)
        r->fail = true;
    r->i++;
    x->exact_ok = ok && x->exact.n > 0;
    if (!x->exact_ok)
        x->exact.n = 0;
}

/* "(?flags)" or "(?flags:" at r->i; sets *fold. Returns true when a group
 * opens. */
static bool read_flags(pf_reader *r, bool *fold)
{
    bool on = true;
    for (r->i += 2; r->i < r->n; r->i++) {
        char c = r->p[r->i];
        if (c == '-')
            on = false;
        else if (c == 'i')
            *fold = on;
        else if (c == ':' || c == ')')
            return r->p[r->i++] == ':';
    }
    r->fail = true;
    return false;
}

/* A group at r->i ('('). */
static void read_group(pf_reader *r, pf_info *x)
{
    bool outside = r->fold, fold = r->fold;
    if (r->i + 1 < r->n && r->p[r->i + 1] == '?') {
        if (!read_flags(r, &fold)) {
            r->fold = fold; /* (?i): to the end of the enclosing group */
            info_empty(x);
            return;
        }
    } else {
        r->i++;
    }
    if (++r->depth > PF_DEPTH) {
        r->fail = true;
        info_none(x);
        return;
    }
    r->fold = fold;
    read_alt(r, x);
    r->fold = outside;
    r->depth--;
    if (r->i >= r->n || r->p[r->i] != ')')
        r->fail = true;
    r->i++;
}

/* One item (without its repetition) at r->i. */
static void read_item(pf_reader *r, pf_info *x)
{
    unsigned char c = (unsigned char)r->p[r->i];
    if (c && strchr("*+?{", c)) {
        r->fail = true; /* lib/regex_syntax.c lets no operator stand alone */
        r->i++;
        info_none(x);
    } else if (c == '(') {
        read_group(r, x);
    } else if (c == '[') {
        read_class(r, x);
    } else if (c == '\\') {
        long ch = read_escape(r);
        if (ch == -2)
            info_empty(x);
        else if (ch < 0)
            info_none(x);
        else
            info_char(r, (unsigned)ch, x);
    } else if (c == '^' || c == '$') {
        r->i++;
        info_empty(x);
    } else if (c == '.' || c >= 0x80) {
        r->i++;
        while (c >= 0x80 && r->i < r->n && ((unsigned char)r->p[r->i] & 0xC0) == 0x80)
            r->i++;
        info_none(x);
    } else {
        r->i++;
        info_char(r, c, x);
    }
}

/* A repetition operator at r->i applied to x; false when there is none. */
static bool read_repeat(pf_reader *r, pf_info *x)
{
    const char *p = r->p;
    char c = p[r->i];
    long min, max;
    if (c == '*' || c == '+' || c == '?') {
        min = c == '+' ? 1 : 0;
        max = c == '?' ? 1 : -1;
        r->i++;
    } else if (c == '{') {
        char *e;
        min = strtol(p + r->i + 1, &e, 10);
        max = *e == ',' ? (e[1] == '}' ? -1 : strtol(e + 1, &e, 10)) : min;
        const char *close = memchr(p + r->i, '}', r->n - r->i);
        if (!close) {
            r->fail = true;
            return false;
        }
        r->i = (size_t)(close - p) + 1;
    } else {
        return false;
    }
    if (r->i < r->n && p[r->i] == '?')
        r->i++;
    const pf_set *req;
    if (max == 0) {
        info_empty(x);
    } else if (min == 0) {
        pf_lit empty = { .len = 0 };
        if (!(max == 1 && x->exact_ok && set_add(&x->exact, &empty)))
            info_none(x);
    } else if (!(min == 1 && max == 1)) {
        bool ok = req_of(x, &req);
        pf_set keep = ok ? *req : (pf_set){ .n = 0 };
        info_none(x);
        x->req_ok = ok;
        x->req = keep;
    }
    return true;
}

/* A concatenation up to '|', ')' or the end. */
static void read_concat(pf_reader *r, pf_info *out)
{
    pf_set run = { .n = 1 }, tmp;
    bool all_exact = true, best_ok = false;
    pf_set best = { .n = 0 };
    pf_info x;
    run.v[0] = (pf_lit){ .len = 0 };
    while (r->i < r->n && r->p[r->i] != '|' && r->p[r->i] != ')' && !r->fail) {
        read_item(r, &x);
        while (r->i < r->n && read_repeat(r, &x))
            ;
        if (x.exact_ok && cross(&run, &x.exact, &tmp)) {
            run = tmp;
            continue;
        }
        all_exact = false;
        keep_better(&best_ok, &best, &run);
        const pf_set *req;
        run.n = 1;
        run.v[0] = (pf_lit){ .len = 0 };
        if (x.exact_ok)
            run = x.exact;
        else if (req_of(&x, &req))
            keep_better(&best_ok, &best, req);
    }
    info_none(out);
    if (all_exact) {
        out->exact_ok = true;
        out->exact = run;
        return;
    }
    keep_better(&best_ok, &best, &run);
    out->req_ok = best_ok;
    out->req = best;
}

/* a := a | b. */
static void alt_join(pf_info *a, const pf_info *b)
{
    pf_set u;
    const pf_set *sa, *sb;
    bool ok = true;
    if (a->exact_ok && b->exact_ok) {
        u = a->exact;
        for (int i = 0; i < b->exact.n && ok; i++)
            ok = set_add(&u, &b->exact.v[i]);
        if (ok) {
            a->exact = u;
            return;
        }
    }
    ok = req_of(a, &sa) && req_of(b, &sb);
    if (ok) {
        u = *sa;
        for (int i = 0; i < sb->n && ok; i++)
            ok = set_add(&u, &sb->v[i]);
    }
    info_none(a);
    a->req_ok = ok;
    if (ok)
        a->req = u;
}

/* An alternation up to ')' or the end. */
static void read_alt(pf_reader *r, pf_info *out)
{
    pf_info x;
    read_concat(r, out);
    while (r->i < r->n && r->p[r->i] == '|' && !r->fail) {
        r->i++;
        read_concat(r, &x);
        alt_join(out, &x);
    }
}

/* Distinct strings of s cut to at most t bytes each, into out (may be NULL). */
static int count_cut(const pf_set *s, int t, pf_set *out)
{
    pf_set c = { .n = 0 };
    for (int i = 0; i < s->n; i++) {
        pf_lit l = s->v[i];
        l.len = l.len < t ? l.len : (uint8_t)t;
        set_add(&c, &l);
    }
    if (out)
        *out = c;
    return c.n;
}

/* s cut to the longest length that leaves fewest strings, never below 4
 * bytes (or the shortest string's length when less). */
static void cut(pf_set *s)
{
    int fewest = s->n, at = PF_LEN, floor = set_score(s) < 4 ? set_score(s) : 4;
    for (int t = PF_LEN; t >= floor; t--) {
        int n = count_cut(s, t, NULL);
        if (n < fewest) {
            fewest = n;
            at = t;
        }
    }
    count_cut(s, at, s);
}

void lk_regex_prefilter_build(lk_str re2_pattern, lk_regex_prefilter *out)
{
    pf_reader r = { .p = re2_pattern.p ? re2_pattern.p : "", .n = re2_pattern.len };
    pf_info x;
    const pf_set *req;
    *out = (lk_regex_prefilter){ 0 };
    read_alt(&r, &x);
    if (r.fail || r.i < r.n || !req_of(&x, &req) || set_score(req) < 2)
        return;
    pf_set s = *req;
    cut(&s);
    size_t bytes = 0;
    for (int i = 0; i < s.n; i++)
        bytes += s.v[i].len;
    out->n = (size_t)s.n;
    out->lit = lk_calloc(out->n, sizeof(*out->lit));
    out->mem = lk_malloc(bytes);
    char *m = out->mem;
    for (int i = 0; i < s.n; i++) {
        memcpy(m, s.v[i].s, s.v[i].len);
        out->lit[i] = (lk_str){ m, s.v[i].len };
        m += s.v[i].len;
    }
}

bool lk_regex_prefilter_pass(const lk_regex_prefilter *pf, lk_str s)
{
    if (pf->n == 0)
        return true;
    for (size_t i = 0; i < pf->n; i++) {
        lk_str l = pf->lit[i];
        if (s.len >= l.len && memmem(s.p, s.len, l.p, l.len))
            return true;
    }
    return false;
}

void lk_regex_prefilter_free(lk_regex_prefilter *pf)
{
    free(pf->lit);
    free(pf->mem);
    *pf = (lk_regex_prefilter){ 0 };
}
