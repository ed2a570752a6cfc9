/* The function table of Loki's templates (pkg/logql/log/fmt.go): Go's
 * builtins, Loki's own functions (ToUpper ... TrimSpace, regexReplaceAll,
 * regexReplaceAllLiteral, count, urlencode/urldecode, bytes, duration,
 * unixEpochMillis/Nanos, toDateInZone, unixToTime, alignLeft/Right,
 * __line__, __timestamp__) and the sprig v3 subset Loki exposes, each with
 * its Go signature (parameter types decide argument conversion errors) and
 * Go/sprig semantics: byte-based trunc/substr, sprig's int64 arithmetic with
 * cast conversions, decimal float arithmetic, strings.Title, Go regexp
 * replacement with $1/${name} expansion, url.QueryEscape, base64 with Go's
 * error offsets, humanize.ParseBytes and time.ParseDuration. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/bytesize.h"
#include "lib/err.h"
#include "lib/hex.h"
#include "lib/mem.h"
#include "lib/regex.h"
#include "lib/timeutil.h"
#include "query/template/template_int.h"

/* ---- string helpers ------------------------------------------------------- */

static lk_str str_index_after(lk_str s, size_t i)
{
    return lk_str_n(s.p + i, s.len - i);
}

static long str_find(lk_str s, lk_str sub, size_t from)
{
    if (sub.len == 0)
        return (long)from;
    if (from > s.len || s.len - from < sub.len)
        return -1;
    for (size_t i = from; i + sub.len <= s.len; i++)
        if (s.p[i] == sub.p[0] && memcmp(s.p + i, sub.p, sub.len) == 0)
            return (long)i;
    return -1;
}

static bool str_contains(lk_str s, lk_str sub)
{
    return str_find(s, sub, 0) >= 0;
}

static bool has_suffix(lk_str s, lk_str suf)
{
    return s.len >= suf.len && memcmp(s.p + s.len - suf.len, suf.p, suf.len) == 0;
}

static bool all_ascii(lk_str s)
{
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.p[i] >= 0x80)
            return false;
    return true;
}

typedef uint32_t (*rune_map)(uint32_t r, void *ctx);

/* strings.Map: invalid bytes become U+FFFD */
static lk_str str_map(tx *x, lk_str s, rune_map f, void *ctx)
{
    size_t m = tx_sb_begin(x);
    size_t i = 0;
    while (i < s.len) {
        uint32_t r;
        size_t w = lk_utf8_decode((const unsigned char *)s.p + i, s.len - i, &r);
        lk_utf8_put(x->out, f(r, ctx));
        i += w;
    }
    return tx_sb_end(x, m);
}

static uint32_t map_upper(uint32_t r, void *c)
{
    (void)c;
    return tu_to_upper(r);
}

static uint32_t map_lower(uint32_t r, void *c)
{
    (void)c;
    return tu_to_lower(r);
}

static lk_str to_upper(tx *x, lk_str s)
{
    if (all_ascii(s)) {
        bool has_lower = false;
        for (size_t i = 0; i < s.len; i++)
            has_lower |= s.p[i] >= 'a' && s.p[i] <= 'z';
        if (!has_lower)
            return s;
        char *d = tx_alloc(x, s.len);
        for (size_t i = 0; i < s.len; i++)
            d[i] = (char)(s.p[i] >= 'a' && s.p[i] <= 'z' ? s.p[i] - 32 : s.p[i]);
        return lk_str_n(d, s.len);
    }
    return str_map(x, s, map_upper, NULL);
}

static lk_str to_lower(tx *x, lk_str s)
{
    if (all_ascii(s)) {
        bool has_upper = false;
        for (size_t i = 0; i < s.len; i++)
            has_upper |= s.p[i] >= 'A' && s.p[i] <= 'Z';
        if (!has_upper)
            return s;
        char *d = tx_alloc(x, s.len);
        for (size_t i = 0; i < s.len; i++)
            d[i] = (char)(s.p[i] >= 'A' && s.p[i] <= 'Z' ? s.p[i] + 32 : s.p[i]);
        return lk_str_n(d, s.len);
    }
    return str_map(x, s, map_lower, NULL);
}

static bool is_separator(uint32_t r)
{
    if (r <= 0x7F) {
        if ((r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_')
            return false;
        return true;
    }
    if (tu_is_letter_or_digit(r))
        return false;
    return lk_unicode_is_space(r);
}

static uint32_t map_title(uint32_t r, void *ctx)
{
    uint32_t *prev = ctx;
    uint32_t out = is_separator(*prev) ? tu_to_title(r) : r;
    *prev = r;
    return out;
}

static lk_str title(tx *x, lk_str s)
{
    uint32_t prev = ' ';
    return str_map(x, s, map_title, &prev);
}

/* strings.Replace(s, old, new, n) */
static lk_str replace(tx *x, lk_str s, lk_str old, lk_str new_, long n)
{
    if (lk_str_eq(old, new_) || n == 0)
        return s;
    long m = 0;
    if (old.len == 0) {
        m = (long)lk_utf8_count(s) + 1;
    } else {
        for (long i = str_find(s, old, 0); i >= 0; i = str_find(s, old, (size_t)i + old.len))
            m++;
    }
    if (m == 0)
        return s;
    if (n < 0 || m < n)
        n = m;
    size_t mark = tx_sb_begin(x);
    size_t start = 0;
    for (long i = 0; i < n; i++) {
        size_t j = start;
        if (old.len == 0) {
            if (i > 0) {
                uint32_t r;
                j += lk_utf8_decode((const unsigned char *)s.p + start, s.len - start, &r);
            }
        } else {
            j = (size_t)str_find(s, old, start);
        }
        lk_buf_append(x->out, s.p + start, j - start);
        lk_buf_put_str(x->out, new_);
        tx_sb_check(x, mark, 0);
        start = j + old.len;
    }
    lk_buf_append(x->out, s.p + start, s.len - start);
    return tx_sb_end(x, mark);
}

/* strings.ContainsRune(cutset, r) (an invalid byte decodes as U+FFFD) */
static bool in_cutset(lk_str cut, uint32_t r)
{
    size_t i = 0;
    while (i < cut.len) {
        uint32_t c;
        i += lk_utf8_decode((const unsigned char *)cut.p + i, cut.len - i, &c);
        if (c == r)
            return true;
    }
    return false;
}

static lk_str trim_left(lk_str s, lk_str cut)
{
    if (s.len == 0 || cut.len == 0)
        return s;
    size_t i = 0;
    while (i < s.len) {
        uint32_t r;
        size_t w = lk_utf8_decode((const unsigned char *)s.p + i, s.len - i, &r);
        if (!in_cutset(cut, r))
            break;
        i += w;
    }
    return str_index_after(s, i);
}

static lk_str trim_right(lk_str s, lk_str cut)
{
    if (s.len == 0 || cut.len == 0)
        return s;
    size_t end = s.len;
    while (end > 0) {
        uint32_t r;
        size_t w = lk_utf8_decode_last(s.p, end, &r);
        if (!in_cutset(cut, r))
            break;
        end -= w;
    }
    return lk_str_n(s.p, end);
}

static lk_str trim_prefix(lk_str s, lk_str p)
{
    return lk_str_has_prefix(s, p) ? str_index_after(s, p.len) : s;
}

static lk_str trim_suffix(lk_str s, lk_str p)
{
    return has_suffix(s, p) ? lk_str_n(s.p, s.len - p.len) : s;
}

/* strings.Repeat with Go's panics */
static lk_str repeat(tx *x, lk_str s, int64_t count)
{
    if (count == 0)
        return LK_STR("");
    if (count == 1)
        return s;
    if (count < 0)
        tx_panic(x, "strings: negative Repeat count");
    if (s.len && (uint64_t)count > (uint64_t)INT64_MAX / s.len)
        tx_panic(x, "strings: Repeat output length overflow");
    if (s.len * (uint64_t)count > TMPL_MAX_OUTPUT)
        tx_errorf(x, "template output too large (limit %u bytes)", TMPL_MAX_OUTPUT);
    size_t mark = tx_sb_begin(x);
    for (int64_t i = 0; i < count; i++)
        lk_buf_put_str(x->out, s);
    return tx_sb_end(x, mark);
}

/* ---- Loki: strings ------------------------------------------------------- */

static TFI(f_to_lower)
{
    (void)n;
    (void)cmd;
    *res = tv_str(to_lower(x, a[0].u.s));
}

static TFI(f_to_upper)
{
    (void)n;
    (void)cmd;
    *res = tv_str(to_upper(x, a[0].u.s));
}

static TFI(f_replace4)
{
    (void)n;
    (void)cmd;
    *res = tv_str(replace(x, a[0].u.s, a[1].u.s, a[2].u.s, (long)a[3].u.i));
}

static TFI(f_trim_cut)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_str(trim_right(trim_left(a[0].u.s, a[1].u.s), a[1].u.s));
}

static TFI(f_trim_left)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_str(trim_left(a[0].u.s, a[1].u.s));
}

static TFI(f_trim_right)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_str(trim_right(a[0].u.s, a[1].u.s));
}

static TFI(f_trim_prefix)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_str(trim_prefix(a[0].u.s, a[1].u.s));
}

static TFI(f_trim_suffix)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_str(trim_suffix(a[0].u.s, a[1].u.s));
}

static TFI(f_trim_space)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_str(lk_unicode_trim_space(a[0].u.s));
}

/* ---- regular expressions ------------------------------------------------------ */

typedef struct names_ctx {
    lk_str *names;
    int ncap;
} names_ctx;

static int collect_name(void *ctx, int group, lk_str name)
{
    names_ctx *c = ctx;
    if (group >= 0 && group <= c->ncap) {
        char *d = lk_malloc(name.len ? name.len : 1);
        memcpy(d, name.p, name.len);
        c->names[group] = lk_str_n(d, name.len);
    }
    return 0;
}

tx_regex *tf_regex_compile(lk_str pattern, lk_buf *err)
{
    lk_regex *re = NULL;
    if (lk_regex_compile(pattern, 0, &re, err) != 0)
        return NULL;
    tx_regex *r = lk_calloc(1, sizeof *r);
    r->re = re;
    r->ncap = lk_regex_group_count(re);
    r->names = lk_calloc((size_t)r->ncap + 1, sizeof(lk_str));
    names_ctx c = { r->names, r->ncap };
    lk_regex_named_groups(re, collect_name, &c);
    return r;
}

void tf_regex_free(tx_regex *r)
{
    if (!r)
        return;
    for (int i = 0; i <= r->ncap; i++)
        if (r->names[i].p)
            free((void *)r->names[i].p);
    free(r->names);
    lk_regex_free(r->re);
    free(r);
}

typedef struct names_tx {
    tx *x;
    lk_str *names;
    int ncap;
} names_tx;

static int collect_name_tx(void *ctx, int group, lk_str name)
{
    names_tx *c = ctx;
    if (group >= 0 && group <= c->ncap)
        c->names[group] = tx_strdup(c->x, name.p, name.len);
    return 0;
}

/* The regex for this call: the parse-time one, or compiled now (kept in
 * x->tmp_re until the call ends, so an unwind frees it). */
static tx_regex call_regex(tx *x, const tnode *cmd, lk_str pattern)
{
    if (cmd && cmd->type == TN_COMMAND && cmd->u.cmd.re)
        return *cmd->u.cmd.re;
    lk_buf err = { 0 };
    lk_regex *re = NULL;
    if (lk_regex_compile(pattern, 0, &re, &err) != 0) {
        size_t m = tx_sb_begin(x);
        lk_buf_put_str(x->out, lk_buf_str(&err));
        lk_buf_free(&err);
        tx_callerr(x, "%.*s", (int)(x->out->len - m), x->out->p ? x->out->p + m : "");
    }
    lk_buf_free(&err);
    x->tmp_re = re;
    tx_regex r = { re, lk_regex_group_count(re), NULL };
    r.names = tx_alloc(x, ((size_t)r.ncap + 1) * sizeof(lk_str));
    memset(r.names, 0, ((size_t)r.ncap + 1) * sizeof(lk_str));
    names_tx c = { x, r.names, r.ncap };
    lk_regex_named_groups(re, collect_name_tx, &c);
    return r;
}

static void end_regex(tx *x)
{
    if (x->tmp_re) {
        lk_regex_free(x->tmp_re);
        x->tmp_re = NULL;
    }
}

static bool is_name_rune(uint32_t r)
{
    return r == '_' || tu_is_letter_or_digit(r);
}

/* Regexp.expand: $1, ${1}, $name, ${name}, $$ */
static void expand(lk_buf *b, const tx_regex *re, lk_str repl, lk_str src, const long *ov, int nov)
{
    size_t i = 0;
    while (i < repl.len) {
        const char *d = memchr(repl.p + i, '$', repl.len - i);
        if (!d)
            break;
        size_t k = (size_t)(d - repl.p);
        lk_buf_append(b, repl.p + i, k - i);
        i = k + 1;
        if (i < repl.len && repl.p[i] == '$') {
            lk_buf_putc(b, '$');
            i++;
            continue;
        }
        /* extract */
        size_t j = i;
        bool brace = false;
        if (j < repl.len && repl.p[j] == '{') {
            brace = true;
            j++;
        }
        size_t ns = j;
        while (j < repl.len) {
            uint32_t r;
            size_t w = lk_utf8_decode((const unsigned char *)repl.p + j, repl.len - j, &r);
            if (!is_name_rune(r) || (w == 1 && r == 0xFFFD && (unsigned char)repl.p[j] >= 0x80))
                break;
            j += w;
        }
        if (j == ns || (brace && (j >= repl.len || repl.p[j] != '}'))) {
            lk_buf_putc(b, '$');
            continue;
        }
        lk_str name = lk_str_n(repl.p + ns, j - ns);
        if (brace)
            j++;
        i = j;
        long num = 0;
        for (size_t q = 0; q < name.len; q++) {
            if (name.p[q] < '0' || name.p[q] > '9' || num >= 100000000) {
                num = -1;
                break;
            }
            num = num * 10 + (name.p[q] - '0');
        }
        if (name.p[0] == '0' && name.len > 1)
            num = -1;
        int g = -1;
        if (num >= 0) {
            g = (int)num;
        } else {
            for (int q = 0; q <= re->ncap; q++)
                if (re->names && lk_str_eq(re->names[q], name)) {
                    g = q;
                    break;
                }
        }
        if (g >= 0 && g < nov && ov[2 * g] >= 0)
            lk_buf_append(b, src.p + ov[2 * g], (size_t)(ov[2 * g + 1] - ov[2 * g]));
    }
    lk_buf_append(b, repl.p + i, repl.len - i);
}

/* Regexp.ReplaceAllString / ReplaceAllLiteralString */
static lk_str regex_replace(tx *x, const tx_regex *re, lk_str src, lk_str repl, bool literal)
{
    int npairs = literal ? 1 : re->ncap + 1;
    long *ov = tx_alloc(x, 2 * (size_t)npairs * sizeof(long));
    lk_regex_subject subj;
    size_t need = lk_regex_subject_init(&subj, re->re, src);
    if (need)
        lk_regex_subject_fill(&subj, tx_alloc(x, need));
    size_t mark = tx_sb_begin(x);
    size_t last_end = 0, pos = 0;
    while (pos <= src.len) {
        int got = lk_regex_exec_in(re->re, &subj, pos, ov, npairs);
        if (got <= 0)
            break;
        size_t a0 = (size_t)ov[0], a1 = (size_t)ov[1];
        lk_buf_append(x->out, src.p + last_end, a0 - last_end);
        if (a1 > last_end || a0 == 0) {
            if (literal)
                lk_buf_put_str(x->out, repl);
            else
                expand(x->out, re, repl, src, ov, got);
            tx_sb_check(x, mark, 0);
        }
        last_end = a1;
        size_t width = 0;
        if (pos < src.len) {
            uint32_t r;
            width = lk_utf8_decode((const unsigned char *)src.p + pos, src.len - pos, &r);
        }
        if (pos + width > a1)
            pos += width;
        else if (pos + 1 > a1)
            pos++;
        else
            pos = a1;
    }
    lk_buf_append(x->out, src.p + last_end, src.len - last_end);
    return tx_sb_end(x, mark);
}

lk_str tf_regex_replace_all(tx *x, const tnode *cmd, lk_str pattern, lk_str src, lk_str repl)
{
    tx_regex re = call_regex(x, cmd, pattern);
    lk_str r = regex_replace(x, &re, src, repl, false);
    end_regex(x);
    return r;
}

bool tf_regex_match(tx *x, const tnode *cmd, lk_str pattern, lk_str s)
{
    tx_regex re = call_regex(x, cmd, pattern);
    bool r = lk_regex_match(re.re, s);
    end_regex(x);
    return r;
}

static TFI(f_regex_replace_all)
{
    (void)n;
    tx_regex re = call_regex(x, cmd, a[0].u.s);
    *res = tv_str(regex_replace(x, &re, a[1].u.s, a[2].u.s, false));
    end_regex(x);
}

static TFI(f_regex_replace_literal)
{
    (void)n;
    tx_regex re = call_regex(x, cmd, a[0].u.s);
    *res = tv_str(regex_replace(x, &re, a[1].u.s, a[2].u.s, true));
    end_regex(x);
}

static TFI(f_count)
{
    (void)n;
    tx_regex re = call_regex(x, cmd, a[0].u.s);
    lk_str s = a[1].u.s;
    long ov[2];
    int64_t cnt = 0;
    long prev_end = -1;
    size_t pos = 0;
    lk_regex_subject subj;
    size_t need = lk_regex_subject_init(&subj, re.re, s);
    if (need)
        lk_regex_subject_fill(&subj, tx_alloc(x, need));
    while (pos <= s.len) {
        if (lk_regex_exec_in(re.re, &subj, pos, ov, 1) <= 0)
            break;
        bool accept = true;
        if ((size_t)ov[1] == pos) {
            if (ov[0] == prev_end)
                accept = false;
            if (pos < s.len) {
                uint32_t r;
                pos += lk_utf8_decode((const unsigned char *)s.p + pos, s.len - pos, &r);
            } else {
                pos = s.len + 1;
            }
        } else {
            pos = (size_t)ov[1];
        }
        prev_end = ov[1];
        if (accept)
            cnt++;
    }
    end_regex(x);
    *res = tv_int(TV_INT, cnt);
}

/* ---- URLs ------------------------------------------------------------------------- */

void tf_query_escape(lk_buf *b, lk_str s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            lk_buf_putc(b, (char)c);
        } else if (c == ' ') {
            lk_buf_putc(b, '+');
        } else {
            lk_buf_putc(b, '%');
            lk_buf_putc(b, hex[c >> 4]);
            lk_buf_putc(b, hex[c & 15]);
        }
    }
}

static TFI(f_urlencode)
{
    (void)n;
    (void)cmd;
    size_t m = tx_sb_begin(x);
    tf_query_escape(x->out, a[0].u.s);
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(f_urldecode)
{
    (void)n;
    (void)cmd;
    lk_str s = a[0].u.s;
    for (size_t i = 0; i < s.len;) {
        if (s.p[i] == '%') {
            if (i + 2 >= s.len || lk_hex_val(s.p[i + 1]) < 0 || lk_hex_val(s.p[i + 2]) < 0) {
                size_t l = s.len - i > 3 ? 3 : s.len - i;
                size_t m = tx_sb_begin(x);
                tf_quote(x->out, lk_str_n(s.p + i, l), false);
                lk_str q = tx_sb_end(x, m);
                tx_callerr(x, "invalid URL escape %.*s", LK_STR_FMT(q));
            }
            i += 3;
        } else {
            i++;
        }
    }
    size_t m = tx_sb_begin(x);
    for (size_t i = 0; i < s.len;) {
        if (s.p[i] == '%') {
            lk_buf_putc(x->out, (char)(lk_hex_val(s.p[i + 1]) * 16 + lk_hex_val(s.p[i + 2])));
            i += 3;
        } else {
            lk_buf_putc(x->out, s.p[i] == '+' ? ' ' : s.p[i]);
            i++;
        }
    }
    *res = tv_str(tx_sb_end(x, m));
}

/* ---- conversions -------------------------------------------------------------------- */

/* time.ParseDuration(...).Seconds(); Go's error text on failure */
static double parse_duration(tx *x, lk_str orig)
{
    int64_t dur;
    size_t m = tx_sb_begin(x);
    if (lk_parse_go_duration_err(orig, &dur, x->out) != 0)
        tx_callerr(x, "%.*s", (int)(x->out->len - m), x->out->p + m);
    int64_t sec = dur / 1000000000, nsec = dur % 1000000000;
    return (double)sec + (double)nsec / 1e9;
}

static TFI(f_duration)
{
    (void)n;
    (void)cmd;
    *res = tv_float(parse_duration(x, a[0].u.s));
}

/* humanize.ParseBytes */
static TFI(f_bytes)
{
    (void)n;
    (void)cmd;
    lk_str s = a[0].u.s;
    size_t last = lk_bytes_number_len(s);
    size_t m = tx_sb_begin(x);
    for (size_t i = 0; i < last; i++)
        if (s.p[i] != ',')
            lk_buf_putc(x->out, s.p[i]);
    lk_str num = tx_sb_end(x, m);
    double f;
    int rc = tnum_parse_float(num, &f);
    if (rc != 0) {
        m = tx_sb_begin(x);
        lk_buf_puts(x->out, "strconv.ParseFloat: parsing ");
        tf_quote(x->out, num, false);
        lk_buf_puts(x->out, rc == -1 ? ": invalid syntax" : ": value out of range");
        tx_callerr(x, "%.*s", (int)(x->out->len - m), x->out->p ? x->out->p + m : "");
    }
    /* strings.ToLower(strings.TrimSpace(...)): Unicode, unlike lk_parse_bytes */
    lk_str low = to_lower(x, lk_unicode_trim_space(str_index_after(s, last)));
    double mult;
    if (lk_bytes_unit(low, &mult)) {
        f *= mult;
        if (f >= 18446744073709551615.0)
            tx_callerr(x, "too large: %.*s", LK_STR_FMT(s));
        uint64_t u = f > 0 ? (uint64_t)f : 0;
        if (isnan(f))
            u = 0x8000000000000000ULL;
        *res = tv_float((double)u);
        return;
    }
    tx_callerr(x, "unhandled size name: %.*s", LK_STR_FMT(low));
}

/* ---- Loki: align / time ------------------------------------------------------------ */

/* string([]rune(s)[a:b]): invalid bytes become U+FFFD */
static lk_str runes_slice(tx *x, lk_str s, size_t from, size_t to)
{
    size_t m = tx_sb_begin(x);
    size_t i = 0, k = 0;
    while (i < s.len && k < to) {
        uint32_t r;
        size_t w = lk_utf8_decode((const unsigned char *)s.p + i, s.len - i, &r);
        if (k >= from)
            lk_utf8_put(x->out, r);
        i += w;
        k++;
    }
    return tx_sb_end(x, m);
}

/* Sprig's alignLeft / alignRight: pad with spaces to count runes on the
 * right (left-aligned) or the left, or cut to count runes keeping the start
 * (left-aligned) or the end. */
static void align(tx *x, const tv *a, tv *res, bool right)
{
    int64_t count = a[0].u.i;
    lk_str src = a[1].u.s;
    int64_t l = (int64_t)lk_utf8_count(src);
    if (count < 0 || count == l) {
        *res = tv_str(src);
        return;
    }
    if (count < l) {
        size_t from = right ? (size_t)(l - count) : 0;
        *res = tv_str(runes_slice(x, src, from, from + (size_t)count));
        return;
    }
    if (count - l > (int64_t)TMPL_MAX_OUTPUT)
        tx_errorf(x, "template output too large (limit %u bytes)", TMPL_MAX_OUTPUT);
    size_t m = tx_sb_begin(x);
    if (!right)
        lk_buf_put_str(x->out, src);
    for (int64_t i = 0; i < count - l; i++)
        lk_buf_putc(x->out, ' ');
    if (right)
        lk_buf_put_str(x->out, src);
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(f_align_left)
{
    (void)n;
    (void)cmd;
    align(x, a, res, false);
}

static TFI(f_align_right)
{
    (void)n;
    (void)cmd;
    align(x, a, res, true);
}

static TFI(f_line)
{
    (void)a;
    (void)n;
    (void)cmd;
    *res = tv_str(x->d->line);
}

static TFI(f_timestamp)
{
    (void)a;
    (void)n;
    (void)cmd;
    int64_t ts = x->d->ts;
    int64_t sec = ts / 1000000000, nsec = ts % 1000000000;
    if (nsec < 0) {
        sec--;
        nsec += 1000000000;
    }
    *res = tt_unix(x, sec, nsec);
}

static TFI(f_unix_epoch_millis)
{
    (void)n;
    (void)cmd;
    const tv_time *t = a[0].u.t;
    char buf[32];
    int l = snprintf(buf, sizeof buf, "%lld",
                     (long long)((uint64_t)t->sec * 1000u + (uint64_t)(t->nsec / 1000000)));
    *res = tv_str(tx_strdup(x, buf, (size_t)l));
}

static TFI(f_unix_epoch_nanos)
{
    (void)n;
    (void)cmd;
    const tv_time *t = a[0].u.t;
    char buf[32];
    int l = snprintf(buf, sizeof buf, "%lld",
                     (long long)((uint64_t)t->sec * 1000000000u + (uint64_t)t->nsec));
    *res = tv_str(tx_strdup(x, buf, (size_t)l));
}

static TFI(f_to_date_in_zone)
{
    (void)n;
    (void)cmd;
    *res = tt_parse_in_zone(x, a[0].u.s, a[2].u.s, a[1].u.s);
}

static TFI(f_unix_to_time)
{
    (void)n;
    (void)cmd;
    lk_str e = a[0].u.s;
    int64_t i;
    int rc = tnum_parse_int(e, 10, &i);
    if (rc != 0) {
        size_t m = tx_sb_begin(x);
        lk_buf_printf(x->out, "unable to parse time '%.*s': strconv.ParseInt: parsing ",
                      LK_STR_FMT(e));
        tf_quote(x->out, e, false);
        lk_buf_puts(x->out, rc == -1 ? ": invalid syntax" : ": value out of range");
        tx_callerr(x, "%.*s", (int)(x->out->len - m), x->out->p ? x->out->p + m : "");
    }
    uint64_t u = (uint64_t)i;
    switch (e.len) {
    case 5: *res = tt_unix(x, (int64_t)(u * 86400u), 0); return;
    case 10: *res = tt_unix(x, i, 0); return;
    case 13: {
        int64_t ns = (int64_t)(u * 1000000u);
        int64_t s = ns / 1000000000, r = ns % 1000000000;
        if (r < 0) {
            s--;
            r += 1000000000;
        }
        *res = tt_unix(x, s, r);
        return;
    }
    case 16: {
        int64_t ns = (int64_t)(u * 1000u);
        int64_t s = ns / 1000000000, r = ns % 1000000000;
        if (r < 0) {
            s--;
            r += 1000000000;
        }
        *res = tt_unix(x, s, r);
        return;
    }
    case 19: {
        int64_t s = i / 1000000000, r = i % 1000000000;
        if (r < 0) {
            s--;
            r += 1000000000;
        }
        *res = tt_unix(x, s, r);
        return;
    }
    default:
        tx_callerr(x, "unable to parse time '%.*s': %%!w(<nil>)", LK_STR_FMT(e));
    }
}

/* ---- sprig: strings ------------------------------------------------------------------ */

static TFI(f_b64enc)
{
    (void)n;
    (void)cmd;
    size_t m = tx_sb_begin(x);
    lk_base64_encode(a[0].u.s.p, a[0].u.s.len, x->out);
    *res = tv_str(tx_sb_end(x, m));
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* base64.StdEncoding.DecodeString; sprig returns err.Error() on failure */
static TFI(f_b64dec)
{
    (void)n;
    (void)cmd;
    lk_str s = a[0].u.s;
    const unsigned char *src = (const unsigned char *)s.p;
    size_t len = s.len, si = 0;
    size_t m = tx_sb_begin(x);
    long bad = -1;
    while (si < len && bad < 0) {
        int dbuf[4] = { 0, 0, 0, 0 };
        int dlen = 4;
        bool end = false;
        for (int j = 0; j < 4; j++) {
            if (si == len) {
                if (j == 0) {
                    end = true;
                    dlen = 0;
                    break;
                }
                bad = (long)(si - (size_t)j);
                break;
            }
            unsigned char in = src[si++];
            int v = b64val(in);
            if (v >= 0) {
                dbuf[j] = v;
                continue;
            }
            if (in == '\n' || in == '\r') {
                j--;
                continue;
            }
            if (in != '=') {
                bad = (long)(si - 1);
                break;
            }
            if (j == 0 || j == 1) {
                bad = (long)(si - 1);
                break;
            }
            if (j == 2) {
                while (si < len && (src[si] == '\n' || src[si] == '\r'))
                    si++;
                if (si == len) {
                    bad = (long)len;
                    break;
                }
                if (src[si] != '=') {
                    bad = (long)(si - 1);
                    break;
                }
                si++;
            }
            while (si < len && (src[si] == '\n' || src[si] == '\r'))
                si++;
            if (si < len)
                bad = (long)si;
            dlen = j;
            end = true;
            break;
        }
        if (bad >= 0 && !end)
            break;
        uint32_t val = (uint32_t)dbuf[0] << 18 | (uint32_t)dbuf[1] << 12 | (uint32_t)dbuf[2] << 6 |
                       (uint32_t)dbuf[3];
        char o[3] = { (char)(val >> 16), (char)(val >> 8), (char)val };
        if (dlen >= 2)
            lk_buf_append(x->out, o, (size_t)dlen - 1);
        if (end)
            break;
    }
    if (bad >= 0) {
        x->out->len = m;
        if (x->out->p)
            x->out->p[m] = 0;
        lk_buf_printf(x->out, "illegal base64 data at input byte %ld", bad);
    }
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(f_lower)
{
    (void)n;
    (void)cmd;
    *res = tv_str(to_lower(x, a[0].u.s));
}

static TFI(f_upper)
{
    (void)n;
    (void)cmd;
    *res = tv_str(to_upper(x, a[0].u.s));
}

static TFI(f_title)
{
    (void)n;
    (void)cmd;
    *res = tv_str(title(x, a[0].u.s));
}

static TFI(f_trunc)
{
    (void)x;
    (void)n;
    (void)cmd;
    int64_t c = a[0].u.i;
    lk_str s = a[1].u.s;
    int64_t l = (int64_t)s.len;
    if (c < 0 && l + c > 0)
        *res = tv_str(str_index_after(s, (size_t)(l + c)));
    else if (c >= 0 && l > c)
        *res = tv_str(lk_str_n(s.p, (size_t)c));
    else
        *res = tv_str(s);
}

static TFI(f_substr)
{
    (void)n;
    (void)cmd;
    int64_t start = a[0].u.i, end = a[1].u.i;
    lk_str s = a[2].u.s;
    int64_t l = (int64_t)s.len;
    if (start < 0) {
        if (end < 0)
            tx_panic(x, "runtime error: slice bounds out of range [:%lld]", (long long)end);
        if (end > l)
            tx_panic(x, "runtime error: slice bounds out of range [:%lld] with length %lld",
                     (long long)end, (long long)l);
        *res = tv_str(lk_str_n(s.p, (size_t)end));
        return;
    }
    if (end < 0 || end > l) {
        if (start > l)
            tx_panic(x, "runtime error: slice bounds out of range [%lld:%lld]", (long long)start,
                     (long long)l);
        *res = tv_str(str_index_after(s, (size_t)start));
        return;
    }
    if (start > end)
        tx_panic(x, "runtime error: slice bounds out of range [%lld:%lld]", (long long)start,
                 (long long)end);
    *res = tv_str(lk_str_n(s.p + start, (size_t)(end - start)));
}

static TFI(f_contains)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_bool(str_contains(a[1].u.s, a[0].u.s));
}

static TFI(f_has_prefix)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_bool(lk_str_has_prefix(a[1].u.s, a[0].u.s));
}

static TFI(f_has_suffix)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_bool(has_suffix(a[1].u.s, a[0].u.s));
}

static lk_str indent(tx *x, int64_t spaces, lk_str v)
{
    lk_str pad = repeat(x, LK_STR(" "), spaces);
    size_t m = tx_sb_begin(x);
    lk_buf_putc(x->out, '\n');
    lk_buf_put_str(x->out, pad);
    lk_str nlpad = tx_sb_end(x, m);
    lk_str body = replace(x, v, LK_STR("\n"), nlpad, -1);
    m = tx_sb_begin(x);
    lk_buf_put_str(x->out, pad);
    lk_buf_put_str(x->out, body);
    return tx_sb_end(x, m);
}

static TFI(f_indent)
{
    (void)n;
    (void)cmd;
    *res = tv_str(indent(x, a[0].u.i, a[1].u.s));
}

static TFI(f_nindent)
{
    (void)n;
    (void)cmd;
    lk_str r = indent(x, a[0].u.i, a[1].u.s);
    size_t m = tx_sb_begin(x);
    lk_buf_putc(x->out, '\n');
    lk_buf_put_str(x->out, r);
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(f_replace3)
{
    (void)n;
    (void)cmd;
    *res = tv_str(replace(x, a[2].u.s, a[0].u.s, a[1].u.s, -1));
}

static TFI(f_repeat)
{
    (void)n;
    (void)cmd;
    *res = tv_str(repeat(x, a[1].u.s, a[0].u.i));
}

static TFI(f_trim_all)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_str(trim_right(trim_left(a[1].u.s, a[0].u.s), a[0].u.s));
}

static TFI(f_trim_suffix2)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_str(trim_suffix(a[1].u.s, a[0].u.s));
}

static TFI(f_trim_prefix2)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_str(trim_prefix(a[1].u.s, a[0].u.s));
}

/* ---- sprig: numbers ------------------------------------------------------------------ */

static TFI(f_int)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_int(TV_INT, tnum_to_int64(&a[0]));
}

static TFI(f_float64)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_float(tnum_to_float64(&a[0]));
}

static int64_t wrap_add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static int64_t wrap_mul(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a * (uint64_t)b);
}

static TFI(f_add)
{
    (void)x;
    (void)cmd;
    int64_t s = 0;
    for (int i = 0; i < n; i++)
        s = wrap_add(s, tnum_to_int64(&a[i]));
    *res = tv_int(TV_INT64, s);
}

static TFI(f_sub)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_int(TV_INT64, wrap_add(tnum_to_int64(&a[0]), (int64_t)(0 - (uint64_t)tnum_to_int64(&a[1]))));
}

static TFI(f_mul)
{
    (void)x;
    (void)cmd;
    int64_t v = tnum_to_int64(&a[0]);
    for (int i = 1; i < n; i++)
        v = wrap_mul(v, tnum_to_int64(&a[i]));
    *res = tv_int(TV_INT64, v);
}

static TFI(f_div)
{
    (void)n;
    (void)cmd;
    int64_t p = tnum_to_int64(&a[0]), q = tnum_to_int64(&a[1]);
    if (q == 0)
        tx_panic(x, "runtime error: integer divide by zero");
    *res = tv_int(TV_INT64, (p == INT64_MIN && q == -1) ? INT64_MIN : p / q);
}

static TFI(f_mod)
{
    (void)n;
    (void)cmd;
    int64_t p = tnum_to_int64(&a[0]), q = tnum_to_int64(&a[1]);
    if (q == 0)
        tx_panic(x, "runtime error: integer divide by zero");
    *res = tv_int(TV_INT64, q == -1 ? 0 : p % q);
}

static TFI(f_addf)
{
    (void)cmd;
    *res = tv_float(tnum_decimal_op(x, NULL, a, n, TD_ADD));
}

static TFI(f_subf)
{
    (void)cmd;
    *res = tv_float(tnum_decimal_op(x, &a[0], a + 1, n - 1, TD_SUB));
}

static TFI(f_mulf)
{
    (void)cmd;
    *res = tv_float(tnum_decimal_op(x, &a[0], a + 1, n - 1, TD_MUL));
}

static TFI(f_divf)
{
    (void)cmd;
    *res = tv_float(tnum_decimal_op(x, &a[0], a + 1, n - 1, TD_DIV));
}

static TFI(f_max)
{
    (void)x;
    (void)cmd;
    int64_t v = tnum_to_int64(&a[0]);
    for (int i = 1; i < n; i++) {
        int64_t b = tnum_to_int64(&a[i]);
        if (b > v)
            v = b;
    }
    *res = tv_int(TV_INT64, v);
}

static TFI(f_min)
{
    (void)x;
    (void)cmd;
    int64_t v = tnum_to_int64(&a[0]);
    for (int i = 1; i < n; i++) {
        int64_t b = tnum_to_int64(&a[i]);
        if (b < v)
            v = b;
    }
    *res = tv_int(TV_INT64, v);
}

/* math.Max / math.Min */
static double go_max(double x, double y)
{
    if (isinf(x) && x > 0)
        return x;
    if (isinf(y) && y > 0)
        return y;
    if (isnan(x) || isnan(y))
        return NAN;
    if (x == 0 && x == y)
        return signbit(x) ? y : x;
    return x > y ? x : y;
}

static double go_min(double x, double y)
{
    if (isinf(x) && x < 0)
        return x;
    if (isinf(y) && y < 0)
        return y;
    if (isnan(x) || isnan(y))
        return NAN;
    if (x == 0 && x == y)
        return signbit(x) ? x : y;
    return x < y ? x : y;
}

static TFI(f_maxf)
{
    (void)x;
    (void)cmd;
    double v = tnum_to_float64(&a[0]);
    for (int i = 1; i < n; i++)
        v = go_max(v, tnum_to_float64(&a[i]));
    *res = tv_float(v);
}

static TFI(f_minf)
{
    (void)x;
    (void)cmd;
    double v = tnum_to_float64(&a[0]);
    for (int i = 1; i < n; i++)
        v = go_min(v, tnum_to_float64(&a[i]));
    *res = tv_float(v);
}

static TFI(f_ceil)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_float(ceil(tnum_to_float64(&a[0])));
}

static TFI(f_floor)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_float(floor(tnum_to_float64(&a[0])));
}

static TFI(f_round)
{
    (void)x;
    (void)cmd;
    double round_on = n > 2 ? a[2].u.f : .5;
    double val = tnum_to_float64(&a[0]);
    double places = (double)a[1].u.i;
    double p = pow(10, places);
    double digit = p * val;
    double ip;
    double frac = modf(digit, &ip);
    double r = frac >= round_on ? ceil(digit) : floor(digit);
    *res = tv_float(r / p);
}

/* ---- sprig: data and dates -------------------------------------------------------------- */

static TFI(f_from_json)
{
    (void)n;
    (void)cmd;
    *res = tj_from_json(x, a[0].u.s);
}

static bool empty(const tv *v)
{
    switch (v->kind) {
    case TV_INVALID:
    case TV_NILIFACE: return true;
    case TV_STRING: return v->u.s.len == 0;
    case TV_BOOL: return !v->u.b;
    case TV_INT:
    case TV_INT64:
    case TV_UINT8:
    case TV_MONTH:
    case TV_WEEKDAY: return v->u.i == 0;
    case TV_FLOAT: return v->u.f == 0;
    case TV_COMPLEX: return v->u.c.re == 0 && v->u.c.im == 0;
    case TV_LABELS: return v->u.i == 0;
    case TV_JMAP: return v->u.m->n == 0;
    case TV_JSLICE: return v->u.a->n == 0;
    default: return false;
    }
}

static TFI(f_default)
{
    (void)x;
    (void)cmd;
    if (n < 2 || empty(&a[1]))
        *res = a[0];
    else
        *res = a[1];
}

static TFI(f_date)
{
    (void)n;
    (void)cmd;
    tv t;
    if (a[1].kind == TV_TIME)
        t = a[1];
    else if (a[1].kind == TV_INT64 || a[1].kind == TV_INT)
        t = tt_unix(x, a[1].u.i, 0);
    else
        t = tt_now(x);
    tv_time local = tt_in_local(t.u.t);
    size_t m = tx_sb_begin(x);
    tt_format(x->out, &local, a[0].u.s);
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(f_to_date)
{
    (void)n;
    (void)cmd;
    *res = tt_parse_in_zone(x, a[0].u.s, a[1].u.s, LK_STR("Local"));
}

static TFI(f_now)
{
    (void)a;
    (void)n;
    (void)cmd;
    *res = tt_now(x);
}

static TFI(f_unix_epoch)
{
    (void)n;
    (void)cmd;
    char buf[32];
    int l = snprintf(buf, sizeof buf, "%lld", (long long)a[0].u.t->sec);
    *res = tv_str(tx_strdup(x, buf, (size_t)l));
}

/* ---- the table ------------------------------------------------------------------------- */

#define S TPARAM_STRING
#define I TPARAM_INT
#define F TPARAM_FLOAT
#define T TPARAM_TIME
#define A TPARAM_IFACE
#define R TPARAM_RVALUE

static const tfunc funcs[] = {
    /* text/template builtins */
    { "and", 2, true, { R, R }, TF_AND, true, tfi_and_or },
    { "call", 2, true, { R, R }, TF_CALL, true, tfi_call },
    { "html", 1, true, { A }, TF_PLAIN, true, tfi_html },
    { "index", 2, true, { R, R }, TF_PLAIN, true, tfi_index },
    { "slice", 2, true, { R, R }, TF_PLAIN, true, tfi_slice },
    { "js", 1, true, { A }, TF_PLAIN, true, tfi_js },
    { "len", 1, false, { R }, TF_PLAIN, true, tfi_len },
    { "not", 1, false, { R }, TF_PLAIN, true, tfi_not },
    { "or", 2, true, { R, R }, TF_OR, true, tfi_and_or },
    { "print", 1, true, { A }, TF_PLAIN, true, tfi_print },
    { "printf", 2, true, { S, A }, TF_PLAIN, true, tfi_printf },
    { "println", 1, true, { A }, TF_PLAIN, true, tfi_println },
    { "urlquery", 1, true, { A }, TF_PLAIN, true, tfi_urlquery },
    { "eq", 2, true, { R, R }, TF_PLAIN, true, tfi_eq },
    { "ge", 2, false, { R, R }, TF_PLAIN, true, tfi_ge },
    { "gt", 2, false, { R, R }, TF_PLAIN, true, tfi_gt },
    { "le", 2, false, { R, R }, TF_PLAIN, true, tfi_le },
    { "lt", 2, false, { R, R }, TF_PLAIN, true, tfi_lt },
    { "ne", 2, false, { R, R }, TF_PLAIN, true, tfi_ne },
    /* Loki */
    { "ToLower", 1, false, { S }, TF_PLAIN, false, f_to_lower },
    { "ToUpper", 1, false, { S }, TF_PLAIN, false, f_to_upper },
    { "Replace", 4, false, { S, S, S, I }, TF_PLAIN, false, f_replace4 },
    { "Trim", 2, false, { S, S }, TF_PLAIN, false, f_trim_cut },
    { "TrimLeft", 2, false, { S, S }, TF_PLAIN, false, f_trim_left },
    { "TrimRight", 2, false, { S, S }, TF_PLAIN, false, f_trim_right },
    { "TrimPrefix", 2, false, { S, S }, TF_PLAIN, false, f_trim_prefix },
    { "TrimSuffix", 2, false, { S, S }, TF_PLAIN, false, f_trim_suffix },
    { "TrimSpace", 1, false, { S }, TF_PLAIN, false, f_trim_space },
    { "regexReplaceAll", 3, false, { S, S, S }, TF_PLAIN, false, f_regex_replace_all },
    { "regexReplaceAllLiteral", 3, false, { S, S, S }, TF_PLAIN, false, f_regex_replace_literal },
    { "count", 2, false, { S, S }, TF_PLAIN, false, f_count },
    { "urldecode", 1, false, { S }, TF_PLAIN, false, f_urldecode },
    { "urlencode", 1, false, { S }, TF_PLAIN, false, f_urlencode },
    { "bytes", 1, false, { S }, TF_PLAIN, false, f_bytes },
    { "duration", 1, false, { S }, TF_PLAIN, false, f_duration },
    { "duration_seconds", 1, false, { S }, TF_PLAIN, false, f_duration },
    { "unixEpochMillis", 1, false, { T }, TF_PLAIN, false, f_unix_epoch_millis },
    { "unixEpochNanos", 1, false, { T }, TF_PLAIN, false, f_unix_epoch_nanos },
    { "toDateInZone", 3, false, { S, S, S }, TF_PLAIN, false, f_to_date_in_zone },
    { "unixToTime", 1, false, { S }, TF_PLAIN, false, f_unix_to_time },
    { "alignLeft", 2, false, { I, S }, TF_PLAIN, false, f_align_left },
    { "alignRight", 2, false, { I, S }, TF_PLAIN, false, f_align_right },
    { "__line__", 0, false, { 0 }, TF_PLAIN, false, f_line },
    { "__timestamp__", 0, false, { 0 }, TF_PLAIN, false, f_timestamp },
    /* sprig */
    { "b64enc", 1, false, { S }, TF_PLAIN, false, f_b64enc },
    { "b64dec", 1, false, { S }, TF_PLAIN, false, f_b64dec },
    { "lower", 1, false, { S }, TF_PLAIN, false, f_lower },
    { "upper", 1, false, { S }, TF_PLAIN, false, f_upper },
    { "title", 1, false, { S }, TF_PLAIN, false, f_title },
    { "trunc", 2, false, { I, S }, TF_PLAIN, false, f_trunc },
    { "substr", 3, false, { I, I, S }, TF_PLAIN, false, f_substr },
    { "contains", 2, false, { S, S }, TF_PLAIN, false, f_contains },
    { "hasPrefix", 2, false, { S, S }, TF_PLAIN, false, f_has_prefix },
    { "hasSuffix", 2, false, { S, S }, TF_PLAIN, false, f_has_suffix },
    { "indent", 2, false, { I, S }, TF_PLAIN, false, f_indent },
    { "nindent", 2, false, { I, S }, TF_PLAIN, false, f_nindent },
    { "replace", 3, false, { S, S, S }, TF_PLAIN, false, f_replace3 },
    { "repeat", 2, false, { I, S }, TF_PLAIN, false, f_repeat },
    { "trim", 1, false, { S }, TF_PLAIN, false, f_trim_space },
    { "trimAll", 2, false, { S, S }, TF_PLAIN, false, f_trim_all },
    { "trimSuffix", 2, false, { S, S }, TF_PLAIN, false, f_trim_suffix2 },
    { "trimPrefix", 2, false, { S, S }, TF_PLAIN, false, f_trim_prefix2 },
    { "int", 1, false, { A }, TF_PLAIN, false, f_int },
    { "float64", 1, false, { A }, TF_PLAIN, false, f_float64 },
    { "add", 1, true, { A }, TF_PLAIN, false, f_add },
    { "sub", 2, false, { A, A }, TF_PLAIN, false, f_sub },
    { "mul", 2, true, { A, A }, TF_PLAIN, false, f_mul },
    { "div", 2, false, { A, A }, TF_PLAIN, false, f_div },
    { "mod", 2, false, { A, A }, TF_PLAIN, false, f_mod },
    { "addf", 1, true, { A }, TF_PLAIN, false, f_addf },
    { "subf", 2, true, { A, A }, TF_PLAIN, false, f_subf },
    { "mulf", 2, true, { A, A }, TF_PLAIN, false, f_mulf },
    { "divf", 2, true, { A, A }, TF_PLAIN, false, f_divf },
    { "max", 2, true, { A, A }, TF_PLAIN, false, f_max },
    { "min", 2, true, { A, A }, TF_PLAIN, false, f_min },
    { "maxf", 2, true, { A, A }, TF_PLAIN, false, f_maxf },
    { "minf", 2, true, { A, A }, TF_PLAIN, false, f_minf },
    { "ceil", 1, false, { A }, TF_PLAIN, false, f_ceil },
    { "floor", 1, false, { A }, TF_PLAIN, false, f_floor },
    { "round", 3, true, { A, I, F }, TF_PLAIN, false, f_round },
    { "fromJson", 1, false, { S }, TF_PLAIN, false, f_from_json },
    { "date", 2, false, { S, A }, TF_PLAIN, false, f_date },
    { "toDate", 2, false, { S, S }, TF_PLAIN, false, f_to_date },
    { "now", 0, false, { 0 }, TF_PLAIN, false, f_now },
    { "unixEpoch", 1, false, { T }, TF_PLAIN, false, f_unix_epoch },
    { "default", 2, true, { A, A }, TF_PLAIN, false, f_default },
};

const tfunc *tf_lookup(lk_str name)
{
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (lk_str_eq_c(name, funcs[i].name))
            return &funcs[i];
    return NULL;
}

const tfunc *tf_method(uint8_t kind, lk_str name)
{
    return tt_method(kind, name);
}
