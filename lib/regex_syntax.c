/* Go's regexp/syntax reading of a pattern, for RE2 (lib/regex_syntax.h).
 *
 * A pattern is read as Go's parser reads it: the same errors with the same
 * texts (Go's error messages are part of Loki's answers), and a rejection of
 * everything Go does not have, although RE2 would accept some of it (\C,
 * \pN-style names Go lacks, RE2-only escapes). What Go accepts is written
 * out in RE2's spelling, which differs little: named groups become plain
 * groups (their names are kept here; RE2 2022 has no (?<name>)), octal and
 * \x escapes become \x{...}, \Q...\E is expanded, and a literal '{', '}'
 * or ']' is escaped. Along the way the reader counts capturing groups and
 * notes whether any item may match U+FFFD, Go's reading of an invalid byte
 * (lib/regex.c rewrites invalid subjects only for such patterns). */
#define _GNU_SOURCE
#include "lib/regex_syntax.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/re2_wrap.h"
#include "lib/utf8.h"

#define RE_MAX_REPEAT 1000
#define RE_MAX_NEST 1000
#define RUNE_ERROR 0xFFFDu

typedef struct re_tr {
    const char *p; /* the Go pattern */
    size_t n, i;
    lk_buf *out;   /* the RE2 pattern */
    lk_buf *err;
    lk_regex_syntax *syn;
    bool fold;      /* (?i) is in force at t->i */
    bool saw_fold;  /* a literal or class was read with (?i) in force */
    bool saw_plain; /* ... and one without */
    bool split;     /* both: spell folded letters and classes as below */
} re_tr;

static int re_err(re_tr *t, const char *code, const char *expr, size_t len)
{
    if (t->err)
        lk_buf_printf(t->err, "error parsing regexp: %s: `%.*s`", code, (int)len, expr);
    return LK_EPARSE;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_octal(char c)
{
    return c >= '0' && c <= '7';
}

/* Go's parseInt for repeat counts: digits without a leading zero; -1 when
 * more than 8 digits (too big). Returns false when there is no number. */
static bool rep_int(const char *p, size_t n, size_t *i, long *v)
{
    size_t s = *i;
    while (*i < n && is_digit(p[*i]))
        (*i)++;
    size_t d = *i - s;
    if (d == 0)
        return false;
    if (d >= 2 && p[s] == '0')
        return false;
    if (d > 8) {
        *v = -1;
        return true;
    }
    long x = 0;
    for (size_t k = s; k < *i; k++)
        x = x * 10 + (p[k] - '0');
    *v = x;
    return true;
}

/* Parses {n}, {n,} or {n,m} at p[i] as Go does; returns its length (0 when
 * '{' is a literal) and the bounds (max -1 = unbounded). */
static size_t rep_brace(const char *p, size_t n, size_t i, long *min, long *max)
{
    size_t j = i + 1;
    if (!rep_int(p, n, &j, min))
        return 0;
    if (j >= n)
        return 0;
    if (p[j] == ',') {
        j++;
        if (j >= n)
            return 0;
        if (p[j] == '}')
            *max = -1;
        else if (!rep_int(p, n, &j, max))
            return 0;
    } else {
        *max = *min;
    }
    if (j >= n || p[j] != '}')
        return 0;
    return j + 1 - i;
}

/* Length of a repetition operator at i (including a lazy '?'), 0 if none. */
static size_t rep_len(const char *p, size_t n, size_t i)
{
    if (i >= n)
        return 0;
    size_t l = 0;
    if (p[i] == '*' || p[i] == '+' || p[i] == '?') {
        l = 1;
    } else if (p[i] == '{') {
        long mn, mx;
        l = rep_brace(p, n, i, &mn, &mx);
    }
    if (l && i + l < n && p[i + l] == '?')
        l++;
    return l;
}

/* An escape that stands for one character (Go's parseEscape). Appends the
 * RE2 spelling to out and sets *rune; advances t->i past it. */
static int tr_char_escape(re_tr *t, uint32_t *rune)
{
    const char *p = t->p;
    size_t n = t->n, s = t->i; /* at '\\' */
    if (s + 1 >= n)
        return re_err(t, "trailing backslash at end of expression", "", 0);
    char c = p[s + 1];
    size_t i = s + 2;
    if (c >= '1' && c <= '7' && !(i < n && is_octal(p[i])))
        goto bad;
    if (c >= '0' && c <= '7') {
        uint32_t r = (uint32_t)(c - '0');
        for (int k = 1; k < 3 && i < n && is_octal(p[i]); k++)
            r = r * 8 + (uint32_t)(p[i++] - '0');
        lk_buf_printf(t->out, "\\x{%x}", r);
        *rune = r;
        t->i = i;
        return 0;
    }
    if (c == 'x') {
        if (i >= n)
            goto bad;
        if (p[i] == '{') {
            size_t j = i + 1;
            uint32_t r = 0;
            int nd = 0;
            for (;;) {
                if (j >= n) {
                    i = n;
                    goto bad;
                }
                char h = p[j++];
                if (h == '}')
                    break;
                if (!is_hex(h)) {
                    i = j;
                    goto bad;
                }
                r = r * 16 + (uint32_t)(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
                nd++;
                if (r > 0x10FFFF) {
                    i = j;
                    goto bad;
                }
            }
            if (nd == 0) {
                i = j;
                goto bad;
            }
            lk_buf_printf(t->out, "\\x{%x}", r);
            *rune = r;
            t->i = j;
            return 0;
        }
        if (i + 1 >= n || !is_hex(p[i]) || !is_hex(p[i + 1])) {
            i = i + 1 < n ? i + 2 : n;
            goto bad;
        }
        uint32_t r = 0;
        for (int k = 0; k < 2; k++) {
            char h = p[i + (size_t)k];
            r = r * 16 + (uint32_t)(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        lk_buf_printf(t->out, "\\x{%x}", r);
        *rune = r;
        t->i = i + 2;
        return 0;
    }
    static const char esc_from[] = "afnrtv";
    static const uint32_t esc_to[] = { 7, 12, 10, 13, 9, 11 };
    const char *e = c ? strchr(esc_from, c) : NULL;
    if (e) {
        *rune = esc_to[e - esc_from];
        lk_buf_printf(t->out, "\\x{%x}", *rune);
        t->i = i;
        return 0;
    }
    if ((unsigned char)c < 0x80 && !is_alnum(c)) {
        lk_buf_putc(t->out, '\\');
        lk_buf_putc(t->out, c);
        *rune = (unsigned char)c;
        t->i = i;
        return 0;
    }
bad:
    if ((unsigned char)c >= 0x80) {
        size_t l = lk_utf8_valid_len(p + s + 1, n - s - 1);
        i = s + 1 + (l ? l : 1);
    }
    return re_err(t, "invalid escape sequence", p + s, i - s);
}

/* Could Go's unicode tables know this name? Go spells categories and scripts
 * exactly (Lu, Greek, Old_Italic, Any); the spelling is checked here and RE2
 * (whose tables have the same names) checks the name exists. */
static bool unicode_name_ok(lk_str name)
{
    if (name.len && name.p[0] == '^') {
        name.p++;
        name.len--;
    }
    if (name.len == 0 || name.p[0] < 'A' || name.p[0] > 'Z')
        return false;
    for (size_t i = 1; i < name.len; i++)
        if (!((name.p[i] >= 'a' && name.p[i] <= 'z') || (name.p[i] >= 'A' && name.p[i] <= 'Z') ||
              name.p[i] == '_'))
            return false;
    return true;
}

/* \pX, \p{Name}, \PX, \P{^Name}: checked, then copied through. RE2 checks
 * the name with the item compiled alone (only patterns with \p pay for it),
 * so that the first error in the pattern is the one reported, as in Go. Any
 * such class may hold U+FFFD (\pS, \PL, ...): the pattern is marked. */
static int tr_unicode_class(re_tr *t)
{
    const char *p = t->p;
    size_t n = t->n, s = t->i, i = s + 2;
    lk_str name;
    if (i >= n)
        return re_err(t, "invalid character class range", p + s, n - s);
    if (p[i] == '{') {
        const char *close = memchr(p + i, '}', n - i);
        if (!close)
            return re_err(t, "invalid character class range", p + s, n - s);
        name = (lk_str){ p + i + 1, (size_t)(close - p) - i - 1 };
        i = (size_t)(close - p) + 1;
    } else {
        size_t l = lk_utf8_valid_len(p + i, n - i);
        name = (lk_str){ p + i, l ? l : 1 };
        i += l ? l : 1;
    }
    if (!unicode_name_ok(name) || !lk_re2_knows_class((lk_str){ p + s, i - s }))
        return re_err(t, "invalid character class range", p + s, i - s);
    lk_buf_append(t->out, p + s, i - s);
    t->i = i;
    t->syn->fffd = true;
    return 0;
}

/* Go's Perl class escapes (\d \s \w are ASCII-only in Go and RE2 alike).
 * Returns 1 if handled. */
static int tr_perl_class(re_tr *t)
{
    char c = t->p[t->i + 1];
    if (c == '\0' || !strchr("dDsSwW", c))
        return 0;
    lk_buf_putc(t->out, '\\');
    lk_buf_putc(t->out, c);
    if (c == 'D' || c == 'S' || c == 'W')
        t->syn->fffd = true;
    t->i += 2;
    return 1;
}

static const char *const posix_names[] = {
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
    "lower", "print", "punct", "space", "upper", "word", "xdigit",
};

/* [:name:] inside a class. Returns 1 if consumed, 0 if '[' is a literal. */
static int tr_posix_class(re_tr *t, int *rc)
{
    const char *p = t->p;
    size_t n = t->n, s = t->i;
    *rc = 0;
    if (s + 2 >= n || p[s] != '[' || p[s + 1] != ':')
        return 0;
    size_t j = s + 2;
    while (j + 1 < n && !(p[j] == ':' && p[j + 1] == ']'))
        j++;
    if (j + 1 >= n)
        return 0;
    size_t end = j + 2;
    lk_str name = { p + s + 2, j - (s + 2) };
    if (name.len && name.p[0] == '^') {
        name.p++;
        name.len--;
    }
    bool ok = false;
    for (size_t k = 0; k < sizeof(posix_names) / sizeof(posix_names[0]); k++)
        ok = ok || lk_str_eq_c(name, posix_names[k]);
    if (!ok) {
        *rc = re_err(t, "invalid character class range", p + s, end - s);
        return 1;
    }
    if (p[s + 2] == '^')
        t->syn->fffd = true;
    lk_buf_append(t->out, p + s, end - s);
    t->i = end;
    return 1;
}

/* One class member character (escape or rune) at t->i. */
static int tr_class_char(re_tr *t, size_t cls_start, uint32_t *rune)
{
    const char *p = t->p;
    size_t n = t->n;
    if (t->i >= n)
        return re_err(t, "missing closing ]", p + cls_start, n - cls_start);
    if (p[t->i] == '\\')
        return tr_char_escape(t, rune);
    size_t l = lk_utf8_valid_len(p + t->i, n - t->i);
    lk_utf8_decode(p + t->i, l, rune);
    char c = p[t->i];
    if (c == '[' || c == ']' || c == '-' || c == '^' || c == '\\')
        lk_buf_putc(t->out, '\\');
    lk_buf_append(t->out, p + t->i, l);
    t->i += l;
    return 0;
}

/* Notes a literal or a class range that holds U+FFFD or a surrogate (which
 * Go never matches, RE2 does when the subject encodes one). */
static void note_range(re_tr *t, uint32_t lo, uint32_t hi)
{
    if ((lo <= RUNE_ERROR && RUNE_ERROR <= hi) || (lo <= 0xDFFF && hi >= 0xD800))
        t->syn->fffd = true;
}

/* The distinct runes of a class, while there are at most two. */
typedef struct re_pair {
    uint32_t r[2];
    int n; /* 3: more than two */
} re_pair;

static void pair_add(re_pair *pr, uint32_t lo, uint32_t hi)
{
    for (uint32_t c = lo; c <= hi && pr->n < 3; c++) {
        if ((pr->n > 0 && pr->r[0] == c) || (pr->n > 1 && pr->r[1] == c))
            continue;
        if (pr->n < 2)
            pr->r[pr->n] = c;
        pr->n++;
    }
}

/* Exactly an ASCII letter and its other case, as [Kk]. */
static bool pair_is_case(const re_pair *pr)
{
    uint32_t a = pr->r[0], b = pr->r[1];
    if (pr->n != 2)
        return false;
    if (a > b) {
        uint32_t x = a;
        a = b;
        b = x;
    }
    return a >= 'A' && a <= 'Z' && b == a + ('a' - 'A');
}

/* RE2 2022-06 turns a class of one ASCII letter's two cases into a
 * case-folded literal, and its alternation factoring folds such a literal
 * wrongly when it merges it with its neighbours: [Kk]|a matched the Kelvin
 * sign, a|[Aa] and a|(?i:a) missed "A". A surrogate (which no subject RE2
 * reads can hold: see fffd) keeps such a class a class. */
#define NO_FOLD_LITERAL "\\x{d800}"

static bool is_ascii_letter(uint32_t r)
{
    return (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z');
}

/* Notes a literal or class item under the flags in force. A letter with
 * (?i) in a pattern that mixes folded and plain items (t->split) is spelled
 * as a class that RE2 cannot make a folded literal of; the item's RE2
 * spelling starts at mark; returns whether it was respelled. K and S fold
 * to three runes in RE2 already. */
static bool fold_literal(re_tr *t, size_t mark, uint32_t r)
{
    if (t->fold)
        t->saw_fold = true;
    else
        t->saw_plain = true;
    if (!t->split || !t->fold || !is_ascii_letter(r) || (r | 0x20) == 'k' || (r | 0x20) == 's')
        return false;
    t->out->len = mark;
    lk_buf_printf(t->out, "[%c%c" NO_FOLD_LITERAL "]", (char)(r & ~0x20u), (char)(r | 0x20));
    t->syn->fffd = true;
    return true;
}

/* A bracketed class; t->i at '['. A negated class may hold U+FFFD. */
static int tr_class(re_tr *t)
{
    const char *p = t->p;
    size_t n = t->n, start = t->i;
    int rc;
    bool neg = false;
    re_pair pr = { .n = 0 };
    t->i++;
    lk_buf_putc(t->out, '[');
    if (t->i < n && p[t->i] == '^') {
        lk_buf_putc(t->out, '^');
        t->i++;
        t->syn->fffd = neg = true;
    }
    bool first = true;
    while (t->i >= n || p[t->i] != ']' || first) {
        first = false;
        if (tr_posix_class(t, &rc)) {
            if (rc)
                return rc;
            pr.n = 3;
            continue;
        }
        if (t->i + 1 < n && p[t->i] == '\\' && (p[t->i + 1] == 'p' || p[t->i + 1] == 'P')) {
            if ((rc = tr_unicode_class(t)))
                return rc;
            pr.n = 3;
            continue;
        }
        if (t->i + 1 < n && p[t->i] == '\\' && tr_perl_class(t)) {
            pr.n = 3;
            continue;
        }
        size_t rs = t->i;
        uint32_t lo, hi;
        if ((rc = tr_class_char(t, start, &lo)))
            return rc;
        hi = lo;
        if (t->i + 1 < n && p[t->i] == '-' && p[t->i + 1] != ']') {
            t->i++;
            lk_buf_putc(t->out, '-');
            if ((rc = tr_class_char(t, start, &hi)))
                return rc;
            if (hi < lo)
                return re_err(t, "invalid character class range", p + rs, t->i - rs);
        }
        note_range(t, lo, hi);
        pair_add(&pr, lo, hi);
    }
    t->i++;
    fold_literal(t, t->out->len, 0);
    if (!neg && ((t->split && t->fold) || (!t->fold && pair_is_case(&pr)))) {
        lk_buf_puts(t->out, NO_FOLD_LITERAL);
        t->syn->fffd = true;
    }
    lk_buf_putc(t->out, ']');
    return 0;
}

/* Keeps the name of capture group `group`. */
static void add_name(re_tr *t, int group, const char *name, size_t len)
{
    lk_regex_syntax *syn = t->syn;
    syn->groups = lk_realloc(syn->groups, (syn->ngroups + 1) * sizeof(*syn->groups));
    syn->groups[syn->ngroups++] = (lk_regex_group){ group, syn->names.len, len };
    lk_buf_append(&syn->names, name, len);
}

/* After "(?": named group or flags. *opens = a group was opened. A named
 * group is written as a plain one, its name kept in t->syn. *fold: what the
 * flags make of (?i): 1 on, 0 off, -1 unchanged. */
static int tr_group(re_tr *t, bool *opens, int *fold)
{
    const char *p = t->p;
    size_t n = t->n, s = t->i, i = s + 2;
    *opens = false;
    *fold = -1;
    if ((i + 1 < n && p[i] == 'P' && p[i + 1] == '<') || (i < n && p[i] == '<')) {
        size_t b = p[i] == 'P' ? i + 2 : i + 1;
        const char *gt = memchr(p + b, '>', n - b);
        if (!gt)
            return re_err(t, "invalid named capture", p + s, n - s);
        size_t e = (size_t)(gt - p);
        bool ok = e > b;
        for (size_t k = b; k < e; k++)
            ok = ok && (is_alnum(p[k]) || p[k] == '_');
        if (!ok)
            return re_err(t, "invalid named capture", p + s, e + 1 - s);
        lk_buf_putc(t->out, '(');
        add_name(t, ++t->syn->ncap, p + b, e - b);
        t->i = e + 1;
        *opens = true;
        return 0;
    }
    int sign = 1;
    bool saw = false;
    while (i < n) {
        char c = p[i];
        size_t l = lk_utf8_valid_len(p + i, n - i);
        i += l ? l : 1;
        if (c == 'i' || c == 'm' || c == 's' || c == 'U') {
            saw = true;
            if (c == 'i')
                *fold = sign > 0;
        } else if (c == '-') {
            if (sign < 0)
                break;
            sign = -1;
            saw = false;
        } else if (c == ':' || c == ')') {
            if (sign < 0 && !saw)
                break;
            lk_buf_append(t->out, p + s, i - s);
            t->i = i;
            *opens = c == ':';
            return 0;
        } else {
            break;
        }
    }
    return re_err(t, "invalid or unsupported Perl syntax", p + s, i - s);
}

/* A repetition operator at t->i (length l). *w is the weight of the item it
 * repeats: the largest product of nested {n,m} counts inside it (0 for none),
 * which Go caps at 1000 (regexp/syntax repeatIsValid); it becomes the new
 * weight. */
static int tr_repeat(re_tr *t, size_t l, bool repeatable, long last_rep, long *w)
{
    const char *p = t->p;
    size_t s = t->i;
    if (last_rep >= 0)
        return re_err(t, "invalid nested repetition operator", p + last_rep, s + l - (size_t)last_rep);
    if (!repeatable)
        return re_err(t, "missing argument to repetition operator", p + s, l);
    if (p[s] == '{') {
        long mn = 0, mx = 0;
        rep_brace(p, t->n, s, &mn, &mx);
        size_t bl = l - (p[s + l - 1] == '?' ? 1 : 0);
        if (mn < 0 || mn > RE_MAX_REPEAT || mx > RE_MAX_REPEAT || (mx >= 0 && mn > mx))
            return re_err(t, "invalid repeat count", p + s, bl);
        long m = mx >= 0 ? mx : mn;
        long nw = m == 0 ? 0 : m * (*w > 1 ? *w : 1);
        if ((mn >= 2 || mx >= 2) && nw > RE_MAX_REPEAT)
            return re_err(t, "invalid repeat count", p + s, bl);
        *w = nw;
    }
    lk_buf_append(t->out, p + s, l);
    t->i += l;
    return 0;
}

/* Copies len bytes of the pattern through unchanged. */
static void tr_copy(re_tr *t, size_t len)
{
    lk_buf_append(t->out, t->p + t->i, len);
    t->i += len;
}

/* \Q...\E: literal text up to \E or the end. */
static void tr_quote(re_tr *t, bool *repeatable)
{
    const char *p = t->p;
    size_t n = t->n, i = t->i + 2;
    const char *e = NULL;
    for (size_t k = i; k + 1 < n; k++) {
        if (p[k] == '\\' && p[k + 1] == 'E') {
            e = p + k;
            break;
        }
    }
    size_t end = e ? (size_t)(e - p) : n;
    for (size_t k = i; k < end; k++) {
        unsigned char c = (unsigned char)p[k];
        if (fold_literal(t, t->out->len, c))
            continue;
        if (c < 0x20 || c == 0x7F)
            lk_buf_printf(t->out, "\\x{%x}", c);
        else if (c < 0x80 && !is_alnum((char)c) && c != '_' && c != ' ')
            lk_buf_putc(t->out, '\\');
        if (c >= 0x20 && c != 0x7F)
            lk_buf_putc(t->out, (char)c);
    }
    if (end > i)
        *repeatable = true;
    if (end - i >= 3 && memmem(p + i, end - i, "\xEF\xBF\xBD", 3))
        t->syn->fffd = true;
    t->i = e ? end + 2 : n;
}

/* An escape outside a class. */
static int tr_escape(re_tr *t, bool *repeatable)
{
    const char *p = t->p;
    if (t->i + 1 >= t->n)
        return re_err(t, "trailing backslash at end of expression", "", 0);
    char c = p[t->i + 1];
    switch (c) {
    case 'B': /* RE2 finds it inside a multibyte character too */
        t->syn->fffd = t->syn->inner_empty = true;
        tr_copy(t, 2);
        break;
    case 'A': case 'z': case 'b': tr_copy(t, 2); break;
    case 'Q': tr_quote(t, repeatable); return 0;
    case 'p': case 'P': {
        int rc = tr_unicode_class(t);
        if (rc)
            return rc;
        fold_literal(t, t->out->len, 0);
        break;
    }
    default:
        if (!tr_perl_class(t)) {
            uint32_t r;
            size_t mark = t->out->len;
            int rc = tr_char_escape(t, &r);
            if (rc)
                return rc;
            note_range(t, r, r);
            fold_literal(t, mark, r);
        } else {
            fold_literal(t, t->out->len, 0);
        }
    }
    *repeatable = true;
    return 0;
}

/* Translates t->p into t->out, reporting Go's errors. */
static int re_translate(re_tr *t)
{
    const char *p = t->p;
    size_t n = t->n;
    for (size_t i = 0; i < n;) {
        size_t l = lk_utf8_valid_len(p + i, n - i);
        if (!l)
            return re_err(t, "invalid UTF-8", p + i, n - i);
        i += l;
    }
    bool repeatable = false; /* Go: the stack top is not '(' or '|' */
    long last_rep = -1;      /* start of the previous token if a repeat */
    long w = 0;              /* repeat weight of the last item (tr_repeat) */
    long gw[RE_MAX_NEST + 1]; /* largest weight in each open group */
    bool fold_out[RE_MAX_NEST + 1]; /* (?i) outside each open group */
    int depth = 0;
    int rc = 0;
    t->i = 0;
    gw[0] = 0;
    while (t->i < n) {
        size_t s = t->i;
        long rep_here = -1;
        char c = p[s];
        size_t rl = rep_len(p, n, s);
        if (rl) {
            if ((rc = tr_repeat(t, rl, repeatable, last_rep, &w)))
                return rc;
            rep_here = (long)s;
        } else if (c == '(') {
            bool opens = true, outside = t->fold;
            int fold = -1;
            if (s + 1 < n && p[s + 1] == '?') {
                if ((rc = tr_group(t, &opens, &fold)))
                    return rc;
            } else {
                lk_buf_putc(t->out, '(');
                t->i++;
                t->syn->ncap++;
            }
            if (fold >= 0)
                t->fold = fold;
            if (opens) {
                if (++depth > RE_MAX_NEST)
                    return re_err(t, "expression nests too deeply", p, n);
                gw[depth] = 0;
                fold_out[depth] = outside;
                repeatable = false;
            }
        } else if (c == ')') {
            if (depth == 0)
                return re_err(t, "unexpected )", p, n);
            t->fold = fold_out[depth];
            w = gw[depth--];
            lk_buf_putc(t->out, ')');
            t->i++;
            repeatable = true;
        } else if (c == '|') {
            lk_buf_putc(t->out, '|');
            t->i++;
            repeatable = false;
        } else if (c == '[') {
            if ((rc = tr_class(t)))
                return rc;
            repeatable = true;
            w = 0;
        } else if (c == '\\') {
            if ((rc = tr_escape(t, &repeatable)))
                return rc;
            w = 0;
        } else if (c == '^' || c == '$' || c == '.') {
            tr_copy(t, 1);
            if (c == '.')
                t->syn->fffd = true;
            repeatable = true;
            w = 0;
        } else {
            size_t cl = lk_utf8_valid_len(p + s, n - s);
            if (c == '{' || c == '}' || c == ']')
                lk_buf_putc(t->out, '\\');
            uint32_t r;
            lk_utf8_decode(p + s, cl, &r);
            note_range(t, r, r);
            size_t mark = t->out->len;
            lk_buf_append(t->out, p + s, cl);
            fold_literal(t, mark, r);
            t->i += cl;
            repeatable = true;
            w = 0;
        }
        if (w > gw[depth])
            gw[depth] = w;
        last_rep = rep_here;
    }
    if (depth > 0)
        return re_err(t, "missing closing )", p, n);
    return 0;
}

/* A pattern with literals or classes both with and without (?i) is read a
 * second time, with its folded letters and classes spelled for RE2's
 * factoring (fold_literal); patterns with one case mode keep RE2's folded
 * literals and the prefix search they allow. */
int lk_regex_syntax_read(lk_str pattern, lk_regex_syntax *out, lk_buf *err)
{
    *out = (lk_regex_syntax){ 0 };
    re_tr t = { .p = pattern.p ? pattern.p : "", .n = pattern.len, .out = &out->re2,
                .err = err, .syn = out };
    int rc = re_translate(&t);
    if (rc == 0 && t.saw_fold && t.saw_plain) {
        lk_regex_syntax_free(out);
        t = (re_tr){ .p = t.p, .n = t.n, .out = &out->re2, .err = err, .syn = out, .split = true };
        rc = re_translate(&t);
    }
    lk_buf_reserve(&out->re2, 0); /* "" for an empty pattern, never NULL */
    return rc;
}

void lk_regex_syntax_free(lk_regex_syntax *s)
{
    lk_buf_free(&s->re2);
    lk_buf_free(&s->names);
    free(s->groups);
    *s = (lk_regex_syntax){ 0 };
}
