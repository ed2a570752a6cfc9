/* Regular expressions with Go/RE2 syntax and semantics, executed by PCRE2.
 *
 * A pattern is first read as Go's regexp/syntax would read it (re_translate):
 * that pass reports Go's error messages and rewrites the few places where
 * PCRE2 reads the same text differently (\s and \v, octal escapes, a literal
 * '{', '-' inside classes, quantified assertions). Constructs Go does not
 * have (lookaround, backreferences, possessive quantifiers, \K, verbs) are
 * rejected the way Go rejects them. The result is compiled with
 *   UTF | MATCH_INVALID_UTF | DOLLAR_ENDONLY | ALT_CIRCUMFLEX, newline = LF
 * (no UCP, so \w \d \b are ASCII as in RE2), plus ANCHORED | ENDANCHORED for
 * LK_RE_ANCHORED, and JIT-compiled when the library supports it.
 *
 * Fast paths (chosen after the PCRE2 compile succeeded, so errors are the
 * same): a pattern made only of literal bytes is memcmp / memmem; an
 * alternation of literals is a sorted-set lookup (anchored) or a memmem per
 * member; anchored `.*`, `.+`, `.*lit`, `lit.*`, `.*lit.*` (lit without '\n')
 * are a newline scan plus a prefix / suffix / substring test. These agree
 * with Go on every subject; on invalid UTF-8 they even agree better than
 * PCRE2, which lets no invalid byte match `.` while Go reads it as U+FFFD.
 *
 * Match data lives in a per-thread block (64 pairs, a JIT stack and a match
 * context), so compiled expressions are shared freely between threads. */
#define _GNU_SOURCE
#define PCRE2_CODE_UNIT_WIDTH 8
#include "lib/regex.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"

#define RE_TLS_PAIRS 64
#define RE_MAX_REPEAT 1000
#define RE_MAX_NEST 1000

typedef enum re_kind {
    RE_PCRE,      /* no fast path */
    RE_LITERAL,   /* lit: equality (anchored) or substring */
    RE_LITSET,    /* set: membership (anchored) or any substring */
    RE_DOTSTAR,   /* anchored .*  : no '\n' */
    RE_DOTPLUS,   /* anchored .+  : non-empty, no '\n' */
    RE_CONTAINS,  /* anchored .*lit.* */
    RE_PREFIX,    /* anchored lit.* */
    RE_SUFFIX,    /* anchored .*lit */
} re_kind;

struct lk_regex {
    pcre2_code *code;
    int flags;
    re_kind kind;
    uint32_t ncap; /* capturing groups, not counting group 0 */
    char *lit;
    size_t lit_len;
    lk_str *set; /* sorted; bytes in setmem */
    size_t nset;
    char *setmem;
};

/* ---- Go-compatible syntax pass ---------------------------------------- */

typedef struct re_tr {
    const char *p; /* the Go pattern */
    size_t n, i;
    lk_buf *out;   /* the PCRE2 pattern */
    lk_buf *err;
} re_tr;

static int re_err(re_tr *t, const char *code, const char *expr, size_t len)
{
    if (t->err)
        lk_buf_printf(t->err, "error parsing regexp: %s: `%.*s`", code, (int)len, expr);
    return LK_EPARSE;
}

/* Length of a valid UTF-8 sequence at p (as Go's utf8 decodes it), 0 when
 * invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0;
        if (c == 0xED && p[1] >= 0xA0)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0;
        if (c == 0xF4 && p[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

static uint32_t utf8_decode(const unsigned char *p, size_t len)
{
    switch (len) {
    case 1: return p[0];
    case 2: return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    case 3: return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    default:
        return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
               ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    }
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
 * PCRE2 spelling to out and sets *rune; advances t->i past it. */
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
        size_t l = utf8_len((const unsigned char *)p + s + 1, n - s - 1);
        i = s + 1 + (l ? l : 1);
    }
    return re_err(t, "invalid escape sequence", p + s, i - s);
}

/* Could Go's unicode tables know this name? Go spells categories and scripts
 * exactly (Lu, Greek, Old_Italic, Any); PCRE2 is looser (case, Xan, L&), so
 * the spelling is checked here and PCRE2 checks the name exists. */
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
    static const char *const pcre_only[] = { "Xan", "Xps", "Xsp", "Xwd", "Xuc" };
    for (size_t i = 0; i < sizeof(pcre_only) / sizeof(pcre_only[0]); i++)
        if (lk_str_eq_c(name, pcre_only[i]))
            return false;
    return true;
}

/* Does PCRE2 know the property of this \p item? (Compiled alone; only
 * patterns with \p pay for it, and so errors name the item as Go does.) */
static bool unicode_name_known(const char *item, size_t len)
{
    int ecode;
    PCRE2_SIZE eoff;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)item, len, PCRE2_UTF, &ecode, &eoff, NULL);
    bool ok = c != NULL || ecode != PCRE2_ERROR_UNKNOWN_UNICODE_PROPERTY;
    pcre2_code_free(c);
    return ok;
}

/* \pX, \p{Name}, \PX, \P{^Name}: checked, then copied through. */
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
        size_t l = utf8_len((const unsigned char *)p + i, n - i);
        name = (lk_str){ p + i, l ? l : 1 };
        i += l ? l : 1;
    }
    if (!unicode_name_ok(name) || !unicode_name_known(p + s, i - s))
        return re_err(t, "invalid character class range", p + s, i - s);
    lk_buf_append(t->out, p + s, i - s);
    t->i = i;
    return 0;
}

/* Go's Perl class escapes; `inside` = within [...]. Returns 1 if handled. */
static int tr_perl_class(re_tr *t, bool inside)
{
    char c = t->p[t->i + 1];
    switch (c) {
    case 'd': case 'D': case 'w': case 'W':
        lk_buf_putc(t->out, '\\');
        lk_buf_putc(t->out, c);
        break;
    case 's': /* Go: [\t\n\f\r ], PCRE2 adds \v */
        lk_buf_puts(t->out, inside ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]");
        break;
    case 'S':
        lk_buf_puts(t->out, inside ? "\\S\\x{b}" : "[\\S\\x{b}]");
        break;
    default:
        return 0;
    }
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
    size_t l = utf8_len((const unsigned char *)p + t->i, n - t->i);
    *rune = utf8_decode((const unsigned char *)p + t->i, l);
    char c = p[t->i];
    if (c == '[' || c == ']' || c == '-' || c == '^' || c == '\\')
        lk_buf_putc(t->out, '\\');
    lk_buf_append(t->out, p + t->i, l);
    t->i += l;
    return 0;
}

/* A bracketed class; t->i at '['. */
static int tr_class(re_tr *t)
{
    const char *p = t->p;
    size_t n = t->n, start = t->i;
    int rc;
    t->i++;
    lk_buf_putc(t->out, '[');
    if (t->i < n && p[t->i] == '^') {
        lk_buf_putc(t->out, '^');
        t->i++;
    }
    bool first = true;
    while (t->i >= n || p[t->i] != ']' || first) {
        first = false;
        if (tr_posix_class(t, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        if (t->i + 1 < n && p[t->i] == '\\' && (p[t->i + 1] == 'p' || p[t->i + 1] == 'P')) {
            if ((rc = tr_unicode_class(t)))
                return rc;
            continue;
        }
        if (t->i + 1 < n && p[t->i] == '\\' && tr_perl_class(t, true))
            continue;
        size_t rs = t->i;
        uint32_t lo, hi;
        if ((rc = tr_class_char(t, start, &lo)))
            return rc;
        if (t->i + 1 < n && p[t->i] == '-' && p[t->i + 1] != ']') {
            t->i++;
            lk_buf_putc(t->out, '-');
            if ((rc = tr_class_char(t, start, &hi)))
                return rc;
            if (hi < lo)
                return re_err(t, "invalid character class range", p + rs, t->i - rs);
        }
    }
    t->i++;
    lk_buf_putc(t->out, ']');
    return 0;
}

/* After "(?": named group or flags. *opens = a group was opened. */
static int tr_group(re_tr *t, bool *opens)
{
    const char *p = t->p;
    size_t n = t->n, s = t->i, i = s + 2;
    *opens = false;
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
        lk_buf_puts(t->out, "(?<");
        lk_buf_append(t->out, p + b, e + 1 - b);
        t->i = e + 1;
        *opens = true;
        return 0;
    }
    int sign = 1;
    bool saw = false;
    while (i < n) {
        char c = p[i];
        size_t l = utf8_len((const unsigned char *)p + i, n - i);
        i += l ? l : 1;
        if (c == 'i' || c == 'm' || c == 's' || c == 'U') {
            saw = true;
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

/* An empty-width assertion; PCRE2 refuses a quantifier on it, Go allows. */
static void tr_assert(re_tr *t, const char *text, size_t in_len)
{
    bool wrap = rep_len(t->p, t->n, t->i + in_len) > 0;
    if (wrap)
        lk_buf_puts(t->out, "(?:");
    lk_buf_puts(t->out, text);
    if (wrap)
        lk_buf_putc(t->out, ')');
    t->i += in_len;
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
        if (c < 0x20 || c == 0x7F)
            lk_buf_printf(t->out, "\\x{%x}", c);
        else if (c < 0x80 && !is_alnum((char)c) && c != '_' && c != ' ')
            lk_buf_putc(t->out, '\\');
        if (c >= 0x20 && c != 0x7F)
            lk_buf_putc(t->out, (char)c);
    }
    if (end > i)
        *repeatable = true;
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
    case 'A': tr_assert(t, "\\A", 2); break;
    case 'z': tr_assert(t, "\\z", 2); break;
    case 'b': tr_assert(t, "\\b", 2); break;
    case 'B': tr_assert(t, "\\B", 2); break;
    case 'Q': tr_quote(t, repeatable); return 0;
    case 'p': case 'P': {
        int rc = tr_unicode_class(t);
        if (rc)
            return rc;
        break;
    }
    default:
        if (!tr_perl_class(t, false)) {
            uint32_t r;
            int rc = tr_char_escape(t, &r);
            if (rc)
                return rc;
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
        size_t l = utf8_len((const unsigned char *)p + i, n - i);
        if (!l)
            return re_err(t, "invalid UTF-8", p + i, n - i);
        i += l;
    }
    bool repeatable = false; /* Go: the stack top is not '(' or '|' */
    long last_rep = -1;      /* start of the previous token if a repeat */
    long w = 0;              /* repeat weight of the last item (tr_repeat) */
    long gw[RE_MAX_NEST + 1]; /* largest weight in each open group */
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
            bool opens = true;
            if (s + 1 < n && p[s + 1] == '?') {
                if ((rc = tr_group(t, &opens)))
                    return rc;
            } else {
                lk_buf_putc(t->out, '(');
                t->i++;
            }
            if (opens) {
                if (++depth > RE_MAX_NEST)
                    return re_err(t, "expression nests too deeply", p, n);
                gw[depth] = 0;
                repeatable = false;
            }
        } else if (c == ')') {
            if (depth == 0)
                return re_err(t, "unexpected )", p, n);
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
        } else if (c == '^' || c == '$') {
            tr_assert(t, c == '^' ? "^" : "$", 1);
            repeatable = true;
            w = 0;
        } else if (c == '.') {
            lk_buf_putc(t->out, '.');
            t->i++;
            repeatable = true;
            w = 0;
        } else {
            size_t cl = utf8_len((const unsigned char *)p + s, n - s);
            if (c == '{' || c == '}' || c == ']')
                lk_buf_putc(t->out, '\\');
            lk_buf_append(t->out, p + s, cl);
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

/* ---- per-thread match state ------------------------------------------- */

typedef struct re_tls {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *js;
} re_tls;

static _Thread_local re_tls *tls_state;
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_destroy(void *v)
{
    re_tls *s = v;
    if (!s)
        return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    pcre2_jit_stack_free(s->js);
    free(s);
}

static void tls_key_init(void)
{
    if (pthread_key_create(&tls_key, tls_destroy) != 0)
        LK_BUG("pthread_key_create failed");
}

static re_tls *tls_get(void)
{
    if (tls_state)
        return tls_state;
    pthread_once(&tls_once, tls_key_init);
    re_tls *s = lk_calloc(1, sizeof(*s));
    s->md = pcre2_match_data_create(RE_TLS_PAIRS, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    s->js = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, NULL);
    if (!s->md || !s->mctx)
        LK_BUG("pcre2 match data allocation failed");
    if (s->js)
        pcre2_jit_stack_assign(s->mctx, NULL, s->js);
    pthread_setspecific(tls_key, s);
    tls_state = s;
    return s;
}

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

static void choose_fast_path(lk_regex *re, const char *p, size_t n)
{
    re->kind = RE_PCRE;
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

/* Returns 1/0 for a decided match, -1 when PCRE2 must run. */
static int fast_match(const lk_regex *re, lk_str s)
{
    bool anch = re->flags & LK_RE_ANCHORED;
    switch (re->kind) {
    case RE_PCRE:
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

static int re_pcre_error(int code, lk_str pattern, lk_buf *err)
{
    if (err) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", code);
        lk_buf_printf(err, "error parsing regexp: %s: `%.*s`", (const char *)msg,
                      LK_STR_FMT(pattern));
    }
    return LK_EPARSE;
}

int lk_regex_compile(lk_str pattern, int flags, lk_regex **out, lk_buf *err)
{
    lk_buf tr = { 0 };
    lk_regex *re = NULL;
    pcre2_compile_context *cctx = NULL;
    int rc;
    if (!pattern.p)
        pattern = LK_STR("");
    re_tr t = { .p = pattern.p, .n = pattern.len, .out = &tr, .err = err };
    if ((rc = re_translate(&t)))
        goto out;
    lk_buf_reserve(&tr, 0);
    cctx = pcre2_compile_context_create(NULL);
    if (!cctx)
        LK_BUG("pcre2_compile_context_create failed");
    pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
    pcre2_set_parens_nest_limit(cctx, RE_MAX_NEST + 10);
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
                    PCRE2_ALT_CIRCUMFLEX | PCRE2_DUPNAMES | PCRE2_NEVER_BACKSLASH_C;
    if (flags & LK_RE_ANCHORED)
        opts |= PCRE2_ANCHORED | PCRE2_ENDANCHORED;
    int ecode;
    PCRE2_SIZE eoff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)tr.p, tr.len, opts, &ecode, &eoff, cctx);
    if (!code) {
        rc = re_pcre_error(ecode, pattern, err);
        goto out;
    }
    re = lk_calloc(1, sizeof(*re));
    re->code = code;
    re->flags = flags;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &re->ncap);
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* interpreter if it fails */
    choose_fast_path(re, pattern.p, pattern.len);
    *out = re;
    rc = 0;
out:
    pcre2_compile_context_free(cctx);
    lk_buf_free(&tr);
    return rc;
}

void lk_regex_free(lk_regex *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    free(re->lit);
    free(re->set);
    free(re->setmem);
    free(re);
}

/* Runs PCRE2; returns pcre2_match's result and the match data used (the
 * thread's, or *own when the pattern has too many groups). */
static int re_run(const lk_regex *re, lk_str s, size_t from, pcre2_match_data **md,
                  pcre2_match_data **own)
{
    re_tls *st = tls_get();
    *own = NULL;
    *md = st->md;
    if (re->ncap + 1 > RE_TLS_PAIRS) {
        *own = pcre2_match_data_create(re->ncap + 1, NULL);
        if (!*own)
            LK_BUG("pcre2_match_data_create failed");
        *md = *own;
    }
    const char *subj = s.p ? s.p : "";
    return pcre2_match(re->code, (PCRE2_SPTR)subj, s.len, from, 0, *md, st->mctx);
}

bool lk_regex_match(const lk_regex *re, lk_str subject)
{
    int f = fast_match(re, subject);
    if (f >= 0)
        return f;
    /* Only group 0 is needed and a match data of any size will do (a
     * too-small one makes pcre2_match return 0, still a match). */
    re_tls *st = tls_get();
    const char *subj = subject.p ? subject.p : "";
    return pcre2_match(re->code, (PCRE2_SPTR)subj, subject.len, 0, 0, st->md, st->mctx) >= 0;
}

/* exec through a fast path (same answers as lk_regex_match); -1 when PCRE2
 * must run. Fast-path patterns have no groups: only group 0 is set. */
static int fast_exec(const lk_regex *re, lk_str subject, size_t from, long *ovector)
{
    lk_str rest = { subject.p ? subject.p + from : NULL, subject.len - from };
    if (re->kind == RE_PCRE)
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

int lk_regex_exec(const lk_regex *re, lk_str subject, size_t from, long *ovector, int n_pairs)
{
    if (from > subject.len || n_pairs <= 0)
        return 0;
    int f = fast_exec(re, subject, from, ovector);
    if (f >= 0)
        return f;
    pcre2_match_data *md, *own;
    int rc = re_run(re, subject, from, &md, &own);
    int set = 0;
    if (rc >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t avail = pcre2_get_ovector_count(md);
        int groups = (int)re->ncap + 1;
        set = n_pairs < groups ? n_pairs : groups;
        for (int g = 0; g < set; g++) {
            bool used = (rc == 0 || g < rc) && (uint32_t)g < avail && ov[2 * g] != PCRE2_UNSET;
            ovector[2 * g] = used ? (long)ov[2 * g] : -1;
            ovector[2 * g + 1] = used ? (long)ov[2 * g + 1] : -1;
        }
    }
    pcre2_match_data_free(own);
    return set;
}

int lk_regex_group_count(const lk_regex *re)
{
    return (int)re->ncap;
}

typedef struct re_name {
    int group;
    lk_str name;
} re_name;

static int name_cmp(const void *a, const void *b)
{
    const re_name *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    return lk_str_cmp(x->name, y->name);
}

/* Calls cb for each named group in group order. A non-zero return from cb
 * stops the walk and is returned; otherwise the number of names. */
int lk_regex_named_groups(const lk_regex *re, int (*cb)(void *ctx, int group, lk_str name),
                          void *ctx)
{
    uint32_t count = 0, esize = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &count);
    if (count == 0)
        return 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &esize);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table);
    re_name *v = lk_malloc(count * sizeof(*v));
    for (uint32_t i = 0; i < count; i++) {
        PCRE2_SPTR e = table + (size_t)i * esize;
        v[i].group = (e[0] << 8) | e[1];
        v[i].name = lk_str_c((const char *)e + 2);
    }
    qsort(v, count, sizeof(*v), name_cmp);
    int rc = (int)count;
    for (uint32_t i = 0; i < count && cb; i++) {
        int r = cb(ctx, v[i].group, v[i].name);
        if (r) {
            rc = r;
            break;
        }
    }
    free(v);
    return rc;
}
