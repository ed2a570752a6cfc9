/* Regular expressions with Go's syntax and semantics, run by RE2: time
 * linear in the subject, and no limit that an answer could depend on.
 *
 * lib/regex_syntax.c reads a pattern as Go's regexp/syntax does (Go's
 * errors) and spells it for RE2, which compiles it with Go's defaults
 * (lib/re2_wrap.cc: leftmost-first, `.` without `\n`, `$` only at the end);
 * LK_RE_ANCHORED matches with RE2's ANCHOR_BOTH. Where RE2 and Go differ:
 *
 * - Invalid UTF-8 in a subject. Go reads each invalid byte as U+FFFD (width
 *   1), which `.`, `[^a]` or `\pS` match; RE2 lets nothing match an invalid
 *   byte, and reads an encoded surrogate (ED A0 80) as a character where Go
 *   sees three invalid bytes. For a pattern with an item that may match
 *   U+FFFD or a surrogate (lk_regex_syntax.fffd), a subject with invalid
 *   UTF-8 is matched as a copy in which each invalid byte is U+FFFD's three
 *   bytes, and offsets are mapped back. Other patterns cannot tell the two
 *   readings apart (a valid sequence never starts inside another), so they
 *   run on the subject as it is.
 * - RE2 steps bytes, so `\B` can hold between the bytes of a multibyte
 *   character; an empty match found there is skipped and the search goes on
 *   from the next character, where Go would have looked.
 *
 * Memory: RE2's max_mem bounds a program and its DFA caches. Patterns get
 * RE_MEM (RE2's default); one whose program does not fit is compiled again
 * with RE_MEM_BIG (\pL{1000} needs about 40 MB), and beyond that fails with
 * Go's "expression too large". A DFA whose cache fills is flushed, and RE2
 * falls back to its NFA when that happens too often: slower, same answers.
 *
 * Fast paths (chosen after the pattern compiled, so errors are the same): a
 * pattern made only of literal bytes is memcmp / memmem; an alternation of
 * literals is a sorted-set lookup (anchored) or a memmem per member;
 * anchored `.*`, `.+`, `.*lit`, `lit.*`, `.*lit.*` (lit without '\n') are a
 * newline scan plus a prefix / suffix / substring test. These agree with Go
 * on every subject, invalid UTF-8 included.
 *
 * Prefilter: for other patterns, lib/regex_prefilter.c finds literals one
 * of which every match contains (`(GET|POST) /api` -> "GET /api", "POST
 * /api"); a subject with none of them is no match without RE2. Calls that
 * need positions use it only from offset 0 (a FindAll loop would search the
 * rest of the subject again at each step).
 *
 * A compiled expression is immutable: threads share it freely. */
#define _GNU_SOURCE
#include "lib/regex.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/re2_wrap.h"
#include "lib/regex_prefilter.h"
#include "lib/regex_syntax.h"
#include "lib/utf8.h"

#define RE_MEM (8LL << 20)
#define RE_MEM_BIG (64LL << 20)
#define RE_FEW_PAIRS 16

typedef enum re_kind {
    RE_ENGINE,    /* no fast path: RE2 */
    RE_LITERAL,   /* lit: equality (anchored) or substring */
    RE_LITSET,    /* set: membership (anchored) or any substring */
    RE_DOTSTAR,   /* anchored .*  : no '\n' */
    RE_DOTPLUS,   /* anchored .+  : non-empty, no '\n' */
    RE_CONTAINS,  /* anchored .*lit.* */
    RE_PREFIX,    /* anchored lit.* */
    RE_SUFFIX,    /* anchored .*lit */
} re_kind;

struct lk_regex {
    lk_re2 *re2;
    int flags;
    re_kind kind;
    int ncap;          /* capturing groups, not counting group 0 */
    bool fffd;         /* lk_regex_syntax.fffd: rewrite invalid subjects */
    bool inner_empty;  /* lk_regex_syntax.inner_empty: skip matches inside characters */
    lk_regex_group *groups; /* named groups in group order; names in names */
    size_t ngroups;
    char *names;
    char *lit;
    size_t lit_len;
    lk_str *set; /* sorted; bytes in setmem */
    size_t nset;
    char *setmem;
    lk_regex_prefilter pf; /* RE_ENGINE only; pf.n 0 when none */
};

/* ---- fast paths ---------------------------------------------------------- */

static bool is_meta(char c)
{
    return strchr("\\^$.[]|()?*+{}", c) != NULL && c != '\0';
}

static bool all_literal(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_meta(p[i]))
            return false;
    return true;
}

static int set_cmp(const void *a, const void *b)
{
    return lk_str_cmp(*(const lk_str *)a, *(const lk_str *)b);
}

static bool try_litset(lk_regex *re, const char *p, size_t n)
{
    size_t parts = 1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '|')
            parts++;
        else if (is_meta(p[i]))
            return false;
    }
    if (parts < 2)
        return false;
    re->setmem = lk_memdup(p, n);
    re->set = lk_calloc(parts, sizeof(lk_str));
    size_t b = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '|') {
            re->set[re->nset++] = (lk_str){ re->setmem + b, i - b };
            b = i + 1;
        }
    }
    qsort(re->set, re->nset, sizeof(lk_str), set_cmp);
    re->kind = RE_LITSET;
    return true;
}

/* A literal U+FFFD matches an invalid byte in Go: no byte comparison then. */
static void choose_fast_path(lk_regex *re, const char *p, size_t n)
{
    re->kind = RE_ENGINE;
    if (n >= 3 && memmem(p, n, "\xEF\xBF\xBD", 3))
        return;
    if (all_literal(p, n)) {
        re->kind = RE_LITERAL;
        re->lit = lk_memdup(p, n);
        re->lit_len = n;
        return;
    }
    if (try_litset(re, p, n))
        return;
    if (!(re->flags & LK_RE_ANCHORED))
        return;
    if (n == 2 && p[0] == '.' && (p[1] == '*' || p[1] == '+')) {
        re->kind = p[1] == '*' ? RE_DOTSTAR : RE_DOTPLUS;
        return;
    }
    bool pre = n >= 2 && p[0] == '.' && p[1] == '*';
    size_t b = pre ? 2 : 0, e = n;
    bool suf = e >= b + 2 && p[e - 2] == '.' && p[e - 1] == '*';
    if (suf)
        e -= 2;
    if ((!pre && !suf) || e <= b || !all_literal(p + b, e - b) || memchr(p + b, '\n', e - b))
        return;
    re->lit = lk_memdup(p + b, e - b);
    re->lit_len = e - b;
    re->kind = pre && suf ? RE_CONTAINS : pre ? RE_SUFFIX : RE_PREFIX;
}

static bool has_nl(const char *p, size_t n)
{
    return n && memchr(p, '\n', n) != NULL;
}

static bool contains(lk_str s, const char *lit, size_t n)
{
    if (n == 0)
        return true;
    return s.len >= n && memmem(s.p, s.len, lit, n) != NULL;
}

/* Returns 1/0 for a decided match, -1 when RE2 must run. */
static int fast_match(const lk_regex *re, lk_str s)
{
    bool anch = re->flags & LK_RE_ANCHORED;
    switch (re->kind) {
    case RE_ENGINE:
        return -1;
    case RE_LITERAL:
        if (anch)
            return s.len == re->lit_len && (s.len == 0 || memcmp(s.p, re->lit, s.len) == 0);
        return contains(s, re->lit, re->lit_len);
    case RE_LITSET:
        if (anch)
            return bsearch(&s, re->set, re->nset, sizeof(lk_str), set_cmp) != NULL;
        for (size_t i = 0; i < re->nset; i++)
            if (contains(s, re->set[i].p, re->set[i].len))
                return 1;
        return 0;
    case RE_DOTSTAR:
        return !has_nl(s.p, s.len);
    case RE_DOTPLUS:
        return s.len > 0 && !has_nl(s.p, s.len);
    case RE_CONTAINS:
        return !has_nl(s.p, s.len) && contains(s, re->lit, re->lit_len);
    case RE_PREFIX:
        return s.len >= re->lit_len && memcmp(s.p, re->lit, re->lit_len) == 0 &&
               !has_nl(s.p, s.len);
    case RE_SUFFIX:
        return s.len >= re->lit_len &&
               memcmp(s.p + s.len - re->lit_len, re->lit, re->lit_len) == 0 &&
               !has_nl(s.p, s.len);
    }
    return -1;
}

/* ---- public API ---------------------------------------------------------- */

/* ---- invalid UTF-8 in subjects ------------------------------------------ */

/* Does s have a byte >= 0x80? Eight bytes at a time. */
static bool has_high_byte(lk_str s)
{
    size_t i = 0;
    for (; i + 8 <= s.len; i += 8) {
        uint64_t w;
        memcpy(&w, s.p + i, 8);
        if (w & 0x8080808080808080ull)
            return true;
    }
    for (; i < s.len; i++)
        if ((unsigned char)s.p[i] >= 0x80)
            return true;
    return false;
}

/* Number of invalid bytes in s as Go reads it (0 for valid UTF-8). */
static size_t count_invalid(lk_str s)
{
    if (!has_high_byte(s))
        return 0;
    size_t bad = 0;
    for (size_t i = 0; i < s.len;) {
        size_t l = lk_utf8_valid_len(s.p + i, s.len - i);
        bad += l == 0;
        i += l ? l : 1;
    }
    return bad;
}

size_t lk_regex_subject_init(lk_regex_subject *rs, const lk_regex *re, lk_str s)
{
    if (!s.p)
        s = LK_STR("");
    *rs = (lk_regex_subject){ .s = s, .run = s };
    rs->nbad = re->fffd ? count_invalid(s) : 0;
    return rs->nbad ? rs->nbad * sizeof(*rs->bad) + s.len + 2 * rs->nbad : 0;
}

void lk_regex_subject_fill(lk_regex_subject *rs, void *mem)
{
    lk_str s = rs->s;
    size_t k = 0;
    rs->bad = mem;
    char *o = (char *)(rs->bad + rs->nbad);
    rs->run = (lk_str){ o, s.len + 2 * rs->nbad };
    for (size_t i = 0; i < s.len;) {
        size_t l = lk_utf8_valid_len(s.p + i, s.len - i);
        if (l) {
            memcpy(o, s.p + i, l);
            o += l;
            i += l;
            continue;
        }
        rs->bad[k++] = i++;
        memcpy(o, "\xEF\xBF\xBD", 3);
        o += 3;
    }
}

/* A subject for one call: prepared in memory of its own, or NULL. */
static void *subject_own(lk_regex_subject *rs, const lk_regex *re, lk_str s)
{
    size_t need = lk_regex_subject_init(rs, re, s);
    void *mem = need ? lk_malloc(need) : NULL;
    if (mem)
        lk_regex_subject_fill(rs, mem);
    return mem;
}

/* Offset in rs->s -> offset in rs->run: each invalid byte before it grew by 2. */
static size_t to_run(const lk_regex_subject *rs, size_t off)
{
    size_t lo = 0, hi = rs->nbad; /* count of bad[k] < off */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rs->bad[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return off + 2 * lo;
}

/* Offset in rs->run (a character boundary) -> offset in rs->s. The k-th
 * invalid byte (from 0) starts at bad[k] + 2k in rs->run. */
static long to_subject(const lk_regex_subject *rs, long off)
{
    if (off < 0 || rs->nbad == 0)
        return off;
    size_t lo = 0, hi = rs->nbad; /* count of k with bad[k] + 2k < off */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((long)(rs->bad[mid] + 2 * mid) < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return off - 2 * (long)lo;
}

/* ---- matching -------------------------------------------------------------- */

static bool inside_char(lk_str s, long off)
{
    return off > 0 && (size_t)off < s.len && ((unsigned char)s.p[off] & 0xC0) == 0x80;
}

/* RE2's leftmost-first match at or after `from` in rs->run, as Go finds
 * it: an empty match inside a multibyte character (only \B makes one) is
 * passed over. n_pairs >= 1. */
static bool run(const lk_regex *re, const lk_regex_subject *rs, size_t from, long *ov,
                int n_pairs)
{
    bool anchored = re->flags & LK_RE_ANCHORED;
    for (;;) {
        if (!lk_re2_match(re->re2, rs->run, from, anchored, ov, n_pairs))
            return false;
        if (!re->inner_empty || ov[0] != ov[1] || !inside_char(rs->run, ov[0]))
            return true;
        from = (size_t)ov[0];
        while (inside_char(rs->run, (long)from))
            from++;
    }
}


/* ---- public API ---------------------------------------------------------- */

static int re_compile(const lk_regex_syntax *syn, lk_str pattern, lk_re2 **out, lk_buf *err)
{
    lk_str p = lk_buf_str(&syn->re2);
    int rc = lk_re2_compile(p, RE_MEM, out, err);
    if (rc == LK_ETOOLARGE)
        rc = lk_re2_compile(p, RE_MEM_BIG, out, err);
    if (rc == LK_ETOOLARGE) {
        if (err)
            lk_buf_printf(err, "error parsing regexp: expression too large: `%.*s`",
                          LK_STR_FMT(pattern));
        rc = LK_EPARSE;
    }
    return rc;
}

int lk_regex_compile(lk_str pattern, int flags, lk_regex **out, lk_buf *err)
{
    lk_regex_syntax syn;
    lk_re2 *re2 = NULL;
    if (!pattern.p)
        pattern = LK_STR("");
    int rc = lk_regex_syntax_read(pattern, &syn, err);
    if (rc == 0)
        rc = re_compile(&syn, pattern, &re2, err);
    if (rc == 0 && lk_re2_group_count(re2) != syn.ncap)
        LK_BUG("regex: RE2 counts %d groups, Go's reading %d", lk_re2_group_count(re2), syn.ncap);
    if (rc) {
        lk_regex_syntax_free(&syn);
        return rc;
    }
    lk_regex *re = lk_calloc(1, sizeof(*re));
    re->re2 = re2;
    re->flags = flags;
    re->ncap = syn.ncap;
    re->fffd = syn.fffd;
    re->inner_empty = syn.inner_empty;
    re->groups = syn.groups;
    re->ngroups = syn.ngroups;
    re->names = lk_buf_steal(&syn.names);
    syn.groups = NULL;
    choose_fast_path(re, pattern.p, pattern.len);
    if (re->kind == RE_ENGINE && !(flags & LK_RE_NO_PREFILTER))
        lk_regex_prefilter_build(lk_buf_str(&syn.re2), &re->pf);
    lk_regex_syntax_free(&syn);
    *out = re;
    return 0;
}

void lk_regex_free(lk_regex *re)
{
    if (!re)
        return;
    lk_re2_free(re->re2);
    free(re->groups);
    free(re->names);
    free(re->lit);
    free(re->set);
    free(re->setmem);
    lk_regex_prefilter_free(&re->pf);
    free(re);
}

bool lk_regex_match(const lk_regex *re, lk_str subject)
{
    int f = fast_match(re, subject);
    if (f >= 0)
        return f;
    if (!lk_regex_prefilter_pass(&re->pf, subject))
        return false;
    lk_regex_subject rs;
    void *mem = subject_own(&rs, re, subject);
    bool m;
    if (re->inner_empty) {
        long ov[2];
        m = run(re, &rs, 0, ov, 1);
    } else {
        m = lk_re2_match(re->re2, rs.run, 0, re->flags & LK_RE_ANCHORED, NULL, 0);
    }
    free(mem);
    return m;
}

/* exec through a fast path (same answers as lk_regex_match); -1 when RE2
 * must run. Fast-path patterns have no groups: only group 0 is set. */
static int fast_exec(const lk_regex *re, lk_str subject, size_t from, long *ovector)
{
    lk_str rest = { subject.p ? subject.p + from : NULL, subject.len - from };
    if (re->kind == RE_ENGINE)
        return -1;
    if (re->flags & LK_RE_ANCHORED) {
        if (!fast_match(re, rest))
            return 0;
        ovector[0] = (long)from;
        ovector[1] = (long)subject.len;
        return 1;
    }
    if (re->kind != RE_LITERAL)
        return -1;
    const char *hit = re->lit_len == 0 ? rest.p
                      : rest.len >= re->lit_len ? memmem(rest.p, rest.len, re->lit, re->lit_len)
                                                : NULL;
    if (!hit && re->lit_len)
        return 0;
    ovector[0] = (long)from + (hit ? (long)(hit - rest.p) : 0);
    ovector[1] = ovector[0] + (long)re->lit_len;
    return 1;
}

int lk_regex_exec_in(const lk_regex *re, const lk_regex_subject *rs, size_t from, long *ovector,
                     int n_pairs)
{
    if (from > rs->s.len || n_pairs <= 0)
        return 0;
    int f = fast_exec(re, rs->s, from, ovector);
    if (f >= 0)
        return f;
    if (from == 0 && !lk_regex_prefilter_pass(&re->pf, rs->s))
        return 0;
    int set = n_pairs < re->ncap + 1 ? n_pairs : re->ncap + 1;
    if (!run(re, rs, to_run(rs, from), ovector, set))
        return 0;
    for (int i = 0; i < 2 * set; i++)
        ovector[i] = to_subject(rs, ovector[i]);
    return set;
}

int lk_regex_exec(const lk_regex *re, lk_str subject, size_t from, long *ovector, int n_pairs)
{
    if (from > subject.len || n_pairs <= 0)
        return 0;
    int f = fast_exec(re, subject, from, ovector);
    if (f >= 0)
        return f;
    if (from == 0 && !lk_regex_prefilter_pass(&re->pf, subject))
        return 0;
    lk_regex_subject rs;
    void *mem = subject_own(&rs, re, subject);
    int set = lk_regex_exec_in(re, &rs, from, ovector, n_pairs);
    free(mem);
    return set;
}

int lk_regex_group_count(const lk_regex *re)
{
    return re->ncap;
}

/* Calls cb for each named group in group order. A non-zero return from cb
 * stops the walk and is returned; otherwise the number of names. */
int lk_regex_named_groups(const lk_regex *re, int (*cb)(void *ctx, int group, lk_str name),
                          void *ctx)
{
    for (size_t i = 0; i < re->ngroups && cb; i++) {
        const lk_regex_group *g = &re->groups[i];
        int r = cb(ctx, g->group, (lk_str){ re->names + g->off, g->len });
        if (r)
            return r;
    }
    return (int)re->ngroups;
}
