/* Go's fmt package for template values: Sprint, Sprintln, Sprintf (flags,
 * width, precision, argument indexes, every verb) and the %v text of a value
 * that {{pipeline}} prints, following fmt/print.go and fmt/format.go,
 * including the error forms %!d(string=x), %!s(MISSING), %!(EXTRA ...),
 * %!(NOVERB), %!(BADWIDTH), %!(BADPREC) and %!v(BADINDEX). Floats are
 * strconv.FormatFloat's (lib/gofloat.h). strconv.Quote lives here too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gofloat.h"
#include "query/template/template_int.h"

static const char ldigits[] = "0123456789abcdefx";
static const char udigits[] = "0123456789ABCDEFX";

/* ---- strconv.Quote --------------------------------------------------------- */

static void hexn(lk_buf *b, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--)
        lk_buf_putc(b, ldigits[(v >> (4 * i)) & 0xF]);
}

static void escaped_rune(lk_buf *b, uint32_t r, char quote, bool ascii)
{
    if (r == (uint32_t)quote || r == '\\') {
        lk_buf_putc(b, '\\');
        lk_buf_putc(b, (char)r);
        return;
    }
    if (ascii ? (r < 0x80 && tu_is_print(r)) : tu_is_print(r)) {
        lk_utf8_put(b, r);
        return;
    }
    switch (r) {
    case '\a': lk_buf_puts(b, "\\a"); return;
    case '\b': lk_buf_puts(b, "\\b"); return;
    case '\f': lk_buf_puts(b, "\\f"); return;
    case '\n': lk_buf_puts(b, "\\n"); return;
    case '\r': lk_buf_puts(b, "\\r"); return;
    case '\t': lk_buf_puts(b, "\\t"); return;
    case '\v': lk_buf_puts(b, "\\v"); return;
    default: break;
    }
    if (r < ' ' || r == 0x7F) {
        lk_buf_puts(b, "\\x");
        hexn(b, r, 2);
    } else {
        if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
            r = 0xFFFD;
        if (r < 0x10000) {
            lk_buf_puts(b, "\\u");
            hexn(b, r, 4);
        } else {
            lk_buf_puts(b, "\\U");
            hexn(b, r, 8);
        }
    }
}

void tf_quote(lk_buf *b, lk_str s, bool ascii)
{
    lk_buf_putc(b, '"');
    size_t i = 0;
    while (i < s.len) {
        unsigned char c = (unsigned char)s.p[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            lk_buf_putc(b, (char)c);
            i++;
            continue;
        }
        uint32_t r;
        size_t w = lk_utf8_decode((const unsigned char *)s.p + i, s.len - i, &r);
        if (w == 1 && r == 0xFFFD && c >= 0x80) {
            lk_buf_puts(b, "\\x");
            hexn(b, c, 2);
        } else {
            escaped_rune(b, r, '"', ascii);
        }
        i += w;
    }
    lk_buf_putc(b, '"');
}

static void quote_rune(lk_buf *b, uint32_t r, bool ascii)
{
    if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        r = 0xFFFD;
    lk_buf_putc(b, '\'');
    escaped_rune(b, r, '\'', ascii);
    lk_buf_putc(b, '\'');
}

/* strconv.CanBackquote */
static bool can_backquote(lk_str s)
{
    size_t i = 0;
    while (i < s.len) {
        uint32_t r;
        size_t w = lk_utf8_decode((const unsigned char *)s.p + i, s.len - i, &r);
        if (w == 1 && r == 0xFFFD && (unsigned char)s.p[i] >= 0x80)
            return false;
        if (w > 1) {
            if (r == 0xFEFF)
                return false;
            i += w;
            continue;
        }
        if (r == 0xFFFD)
            return false;
        if ((r < ' ' && r != '\t') || r == '`' || r == 0x7F)
            return false;
        i += w;
    }
    return true;
}

/* ---- the printer (fmt.pp) ------------------------------------------------------ */

typedef struct pp {
    tx *x;
    lk_buf *b;
    bool wid_present, prec_present, minus, plus, sharp, space, zero, plus_v, sharp_v;
    int wid, prec;
    bool erroring;
    bool too_large; /* output limit hit: stop writing, reported by the caller */
    bool reordered, good_arg_num;
    const tv *arg; /* current value */
} pp;

static void clear_flags(pp *p)
{
    p->wid_present = p->prec_present = p->minus = p->plus = p->sharp = p->space = p->zero = false;
    p->plus_v = p->sharp_v = false;
    p->wid = p->prec = 0;
}

/* The formatting helpers below hold heap temporaries, so they never unwind:
 * past the output limit they set too_large and stop writing, and the entry
 * points report it (fmt_done). */
static bool over_limit(pp *p, size_t n)
{
    if (p->too_large || n > TMPL_MAX_OUTPUT ||
        p->b->len + n > p->x->out_base + 4 * (size_t)TMPL_MAX_OUTPUT)
        p->too_large = true;
    return p->too_large;
}

static void fmt_done(pp *p)
{
    if (p->too_large || p->b->len > p->x->out_base + 4 * (size_t)TMPL_MAX_OUTPUT)
        tx_errorf(p->x, "template output too large (limit %u bytes)", TMPL_MAX_OUTPUT);
}

static void write_padding(pp *p, int n)
{
    if (n <= 0 || over_limit(p, (size_t)n))
        return;
    char c = p->zero && !p->minus ? '0' : ' ';
    lk_buf_reserve(p->b, (size_t)n);
    memset(p->b->p + p->b->len, c, (size_t)n);
    p->b->len += (size_t)n;
    p->b->p[p->b->len] = 0;
}

static void pad(pp *p, const char *s, size_t n)
{
    if (!p->wid_present || p->wid == 0) {
        lk_buf_append(p->b, s, n);
        return;
    }
    int width = p->wid - (int)lk_utf8_count(lk_str_n(s, n));
    if (!p->minus) {
        write_padding(p, width);
        lk_buf_append(p->b, s, n);
    } else {
        lk_buf_append(p->b, s, n);
        write_padding(p, width);
    }
}

static void pad_str(pp *p, const char *s)
{
    pad(p, s, strlen(s));
}

static void fmt_boolean(pp *p, bool v)
{
    pad_str(p, v ? "true" : "false");
}

static void fmt_integer(pp *p, uint64_t u, int base, bool is_signed, int verb, const char *digits)
{
    bool negative = is_signed && (int64_t)u < 0;
    if (negative)
        u = 0 - u;
    size_t cap = 68;
    if (p->wid_present || p->prec_present) {
        size_t w = 3 + (size_t)p->wid + (size_t)p->prec;
        if (w > cap)
            cap = w;
    }
    if (cap > TMPL_MAX_OUTPUT + 68 || over_limit(p, 0)) {
        p->too_large = true;
        return;
    }
    char stackbuf[96];
    char *buf = cap <= sizeof stackbuf ? stackbuf : tx_alloc(p->x, cap);
    int prec = 0;
    if (p->prec_present) {
        prec = p->prec;
        if (prec == 0 && u == 0) {
            bool oz = p->zero;
            p->zero = false;
            write_padding(p, p->wid);
            p->zero = oz;
            return;
        }
    } else if (p->zero && !p->minus && p->wid_present) {
        prec = p->wid;
        if (negative || p->plus || p->space)
            prec--;
    }
    size_t i = cap;
    switch (base) {
    case 10:
        while (u >= 10) {
            buf[--i] = (char)('0' + u % 10);
            u /= 10;
        }
        break;
    case 16:
        while (u >= 16) {
            buf[--i] = digits[u & 0xF];
            u >>= 4;
        }
        break;
    case 8:
        while (u >= 8) {
            buf[--i] = (char)('0' + (u & 7));
            u >>= 3;
        }
        break;
    default:
        while (u >= 2) {
            buf[--i] = (char)('0' + (u & 1));
            u >>= 1;
        }
        break;
    }
    buf[--i] = digits[u];
    while (i > 0 && prec > (int)(cap - i))
        buf[--i] = '0';
    if (p->sharp) {
        switch (base) {
        case 2:
            buf[--i] = 'b';
            buf[--i] = '0';
            break;
        case 8:
            if (buf[i] != '0')
                buf[--i] = '0';
            break;
        case 16:
            buf[--i] = digits[16];
            buf[--i] = '0';
            break;
        default:
            break;
        }
    }
    if (verb == 'O') {
        buf[--i] = 'o';
        buf[--i] = '0';
    }
    if (negative)
        buf[--i] = '-';
    else if (p->plus)
        buf[--i] = '+';
    else if (p->space)
        buf[--i] = ' ';
    bool oz = p->zero;
    p->zero = false;
    pad(p, buf + i, cap - i);
    p->zero = oz;
}

static void fmt_unicode(pp *p, uint64_t u)
{
    lk_buf t = { 0 };
    int prec = 4;
    if (p->prec_present && p->prec > 4)
        prec = p->prec;
    char hex[24];
    int n = snprintf(hex, sizeof hex, "%llX", (unsigned long long)u);
    lk_buf_puts(&t, "U+");
    for (int k = n; k < prec; k++)
        lk_buf_putc(&t, '0');
    lk_buf_puts(&t, hex);
    if (p->sharp && u <= 0x10FFFF && tu_is_print((uint32_t)u)) {
        lk_buf_puts(&t, " '");
        lk_utf8_put(&t, (uint32_t)u);
        lk_buf_putc(&t, '\'');
    }
    bool oz = p->zero;
    p->zero = false;
    pad(p, t.p, t.len);
    p->zero = oz;
    lk_buf_free(&t);
}

static void fmt_c(pp *p, uint64_t c)
{
    uint32_t r = c > 0x10FFFF ? 0xFFFD : (uint32_t)c;
    lk_buf t = { 0 };
    lk_utf8_put(&t, r);
    pad(p, t.p, t.len);
    lk_buf_free(&t);
}

static void fmt_qc(pp *p, uint64_t c)
{
    uint32_t r = c > 0x10FFFF ? 0xFFFD : (uint32_t)c;
    lk_buf t = { 0 };
    quote_rune(&t, r, p->plus);
    pad(p, t.p, t.len);
    lk_buf_free(&t);
}

static lk_str truncate_str(pp *p, lk_str s)
{
    if (p->prec_present) {
        int n = p->prec;
        size_t i = 0;
        while (i < s.len) {
            if (--n < 0)
                return lk_str_n(s.p, i);
            uint32_t r;
            i += lk_utf8_decode((const unsigned char *)s.p + i, s.len - i, &r);
        }
    }
    return s;
}

static void fmt_s(pp *p, lk_str s)
{
    s = truncate_str(p, s);
    pad(p, s.p, s.len);
}

static void fmt_sx(pp *p, lk_str s, const char *digits)
{
    int length = (int)(s.len > (size_t)TMPL_MAX_OUTPUT ? TMPL_MAX_OUTPUT : s.len);
    if (p->prec_present && p->prec < length)
        length = p->prec;
    int width = 2 * length;
    if (width > 0) {
        if (p->space) {
            if (p->sharp)
                width *= 2;
            width += length - 1;
        } else if (p->sharp) {
            width += 2;
        }
    } else {
        if (p->wid_present)
            write_padding(p, p->wid);
        return;
    }
    if (p->wid_present && p->wid > width && !p->minus)
        write_padding(p, p->wid - width);
    if (p->sharp) {
        lk_buf_putc(p->b, '0');
        lk_buf_putc(p->b, digits[16]);
    }
    for (int i = 0; i < length; i++) {
        if (p->space && i > 0) {
            lk_buf_putc(p->b, ' ');
            if (p->sharp) {
                lk_buf_putc(p->b, '0');
                lk_buf_putc(p->b, digits[16]);
            }
        }
        unsigned char c = (unsigned char)s.p[i];
        lk_buf_putc(p->b, digits[c >> 4]);
        lk_buf_putc(p->b, digits[c & 0xF]);
    }
    if (p->wid_present && p->wid > width && p->minus)
        write_padding(p, p->wid - width);
}

static void fmt_q(pp *p, lk_str s)
{
    s = truncate_str(p, s);
    lk_buf t = { 0 };
    if (p->sharp && can_backquote(s)) {
        lk_buf_putc(&t, '`');
        lk_buf_put_str(&t, s);
        lk_buf_putc(&t, '`');
    } else {
        tf_quote(&t, s, p->plus);
    }
    pad(p, t.p ? t.p : "", t.len);
    lk_buf_free(&t);
}

static void fmt_float(pp *p, double v, int verb, int prec)
{
    if (p->prec_present)
        prec = p->prec;
    lk_buf t = { 0 };
    lk_buf_putc(&t, '+');
    lk_gofloat_append(&t, v, (char)verb, prec);
    char *num = t.p;
    size_t len = t.len;
    if (num[1] == '-' || num[1] == '+') {
        num++;
        len--;
    } else {
        num[0] = '+';
    }
    if (p->space && num[0] == '+' && !p->plus)
        num[0] = ' ';
    if (num[1] == 'I' || num[1] == 'N') {
        bool oz = p->zero;
        p->zero = false;
        if (num[1] == 'N' && !p->space && !p->plus) {
            num++;
            len--;
        }
        pad(p, num, len);
        p->zero = oz;
        lk_buf_free(&t);
        return;
    }
    lk_buf s = { 0 };
    lk_buf_append(&s, num, len);
    lk_buf_free(&t);
    if (p->sharp && verb != 'b') {
        int digits = 0;
        if (verb == 'v' || verb == 'g' || verb == 'G' || verb == 'x') {
            digits = prec;
            if (digits == -1)
                digits = 6;
        }
        char tail[16];
        size_t tl = 0;
        bool has_dot = false, saw_nonzero = false;
        for (size_t i = 1; i < s.len; i++) {
            char c = s.p[i];
            if (c == '.') {
                has_dot = true;
            } else if (c == 'p' || c == 'P' ||
                       ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
                tl = s.len - i < sizeof tail ? s.len - i : sizeof tail;
                memcpy(tail, s.p + i, tl);
                s.len = i;
                break;
            } else {
                if (c != '0')
                    saw_nonzero = true;
                if (saw_nonzero)
                    digits--;
            }
        }
        if (!has_dot) {
            if (s.len == 2 && s.p[1] == '0')
                digits--;
            lk_buf_putc(&s, '.');
        }
        if (over_limit(p, digits > 0 ? (size_t)digits : 0))
            digits = 0;
        for (; digits > 0; digits--)
            lk_buf_putc(&s, '0');
        lk_buf_append(&s, tail, tl);
    }
    if (p->plus || s.p[0] != '+') {
        if (p->zero && !p->minus && p->wid_present && p->wid > (int)s.len) {
            lk_buf_putc(p->b, s.p[0]);
            write_padding(p, p->wid - (int)s.len);
            lk_buf_append(p->b, s.p + 1, s.len - 1);
        } else {
            pad(p, s.p, s.len);
        }
    } else {
        pad(p, s.p + 1, s.len - 1);
    }
    lk_buf_free(&s);
}

/* ---- printArg / printValue ------------------------------------------------------ */

static void print_arg(pp *p, const tv *a, int verb);
static void print_value(pp *p, const tv *v, int verb, int depth);

static bool is_nil(const tv *v)
{
    return v->kind == TV_INVALID || v->kind == TV_NILIFACE;
}

const char *tv_type_name(uint8_t kind)
{
    switch (kind) {
    case TV_NILIFACE: return "interface {}";
    case TV_BOOL: return "bool";
    case TV_INT: return "int";
    case TV_INT64: return "int64";
    case TV_UINT8: return "uint8";
    case TV_MONTH: return "time.Month";
    case TV_WEEKDAY: return "time.Weekday";
    case TV_FLOAT: return "float64";
    case TV_COMPLEX: return "complex128";
    case TV_STRING: return "string";
    case TV_TIME: return "time.Time";
    case TV_LABELS: return "map[string]string";
    case TV_JMAP: return "map[string]interface {}";
    case TV_JSLICE: return "[]interface {}";
    default: return "<nil>";
    }
}

static void bad_verb(pp *p, int verb)
{
    p->erroring = true;
    lk_buf_puts(p->b, "%!");
    lk_utf8_put(p->b, (uint32_t)verb);
    lk_buf_putc(p->b, '(');
    const tv *a = p->arg;
    if (a && !is_nil(a)) {
        lk_buf_puts(p->b, tv_type_name(a->kind));
        lk_buf_putc(p->b, '=');
        print_arg(p, a, 'v');
    } else {
        lk_buf_puts(p->b, "<nil>");
    }
    lk_buf_putc(p->b, ')');
    p->erroring = false;
}

static void fmt_bool(pp *p, bool v, int verb)
{
    if (verb == 't' || verb == 'v')
        fmt_boolean(p, v);
    else
        bad_verb(p, verb);
}

static void fmt_int(pp *p, uint64_t v, bool is_signed, int verb)
{
    switch (verb) {
    case 'v':
        if (p->sharp_v && !is_signed) {
            bool s = p->sharp;
            p->sharp = true;
            fmt_integer(p, v, 16, false, 'v', ldigits);
            p->sharp = s;
        } else {
            fmt_integer(p, v, 10, is_signed, verb, ldigits);
        }
        break;
    case 'd': fmt_integer(p, v, 10, is_signed, verb, ldigits); break;
    case 'b': fmt_integer(p, v, 2, is_signed, verb, ldigits); break;
    case 'o':
    case 'O': fmt_integer(p, v, 8, is_signed, verb, ldigits); break;
    case 'x': fmt_integer(p, v, 16, is_signed, verb, ldigits); break;
    case 'X': fmt_integer(p, v, 16, is_signed, verb, udigits); break;
    case 'c': fmt_c(p, v); break;
    case 'q': fmt_qc(p, v); break;
    case 'U': fmt_unicode(p, v); break;
    default: bad_verb(p, verb); break;
    }
}

static void fmt_float_verb(pp *p, double v, int verb)
{
    switch (verb) {
    case 'v': fmt_float(p, v, 'g', -1); break;
    case 'b':
    case 'g':
    case 'G':
    case 'x':
    case 'X': fmt_float(p, v, verb, -1); break;
    case 'f':
    case 'e':
    case 'E': fmt_float(p, v, verb, 6); break;
    case 'F': fmt_float(p, v, 'f', 6); break;
    default: bad_verb(p, verb); break;
    }
}

static void fmt_complex(pp *p, double re, double im, int verb)
{
    switch (verb) {
    case 'v': case 'b': case 'g': case 'G': case 'x': case 'X': case 'f': case 'F': case 'e': case 'E': {
        bool op = p->plus;
        lk_buf_putc(p->b, '(');
        fmt_float_verb(p, re, verb);
        p->plus = true;
        fmt_float_verb(p, im, verb);
        lk_buf_puts(p->b, "i)");
        p->plus = op;
        break;
    }
    default:
        bad_verb(p, verb);
    }
}

static void fmt_string(pp *p, lk_str s, int verb)
{
    switch (verb) {
    case 'v':
        if (p->sharp_v)
            fmt_q(p, s);
        else
            fmt_s(p, s);
        break;
    case 's': fmt_s(p, s); break;
    case 'x': fmt_sx(p, s, ldigits); break;
    case 'X': fmt_sx(p, s, udigits); break;
    case 'q': fmt_q(p, s); break;
    default: bad_verb(p, verb); break;
    }
}

static const char *const month_names[] = { "January", "February", "March", "April", "May", "June", "July",
                                           "August", "September", "October", "November", "December" };
static const char *const day_names[] = { "Sunday", "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday" };

/* The String() of a Stringer value. */
static void stringer(pp *p, const tv *v, lk_buf *out)
{
    if (v->kind == TV_TIME) {
        tt_string(out, v->u.t);
    } else if (v->kind == TV_MONTH) {
        if (v->u.i >= 1 && v->u.i <= 12)
            lk_buf_puts(out, month_names[v->u.i - 1]);
        else
            lk_buf_printf(out, "%%!Month(%lld)", (long long)v->u.i);
    } else {
        if (v->u.i >= 0 && v->u.i <= 6)
            lk_buf_puts(out, day_names[v->u.i]);
        else
            lk_buf_printf(out, "%%!Weekday(%lld)", (long long)v->u.i);
    }
    (void)p;
}

/* handleMethods: Stringer (time.Time, time.Month, time.Weekday) and
 * GoStringer (time.Time). */
static bool handle_methods(pp *p, const tv *v, int verb)
{
    if (p->erroring)
        return false;
    if (v->kind != TV_TIME && v->kind != TV_MONTH && v->kind != TV_WEEKDAY)
        return false;
    lk_buf s = { 0 };
    if (p->sharp_v) {
        if (v->kind != TV_TIME)
            return false;
        tt_gostring(&s, v->u.t);
        fmt_s(p, lk_buf_str(&s));
        lk_buf_free(&s);
        return true;
    }
    switch (verb) {
    case 'v': case 's': case 'x': case 'X': case 'q':
        stringer(p, v, &s);
        fmt_string(p, lk_buf_str(&s), verb);
        lk_buf_free(&s);
        return true;
    default:
        return false;
    }
}

static void print_map(pp *p, const tv *v, int verb, int depth)
{
    if (p->sharp_v) {
        lk_buf_puts(p->b, tv_type_name(v->kind));
        lk_buf_putc(p->b, '{');
    } else {
        lk_buf_puts(p->b, "map[");
    }
    uint32_t n = v->kind == TV_LABELS ? (uint32_t)p->x->d->n_labels : v->u.m->n;
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0) {
            if (p->sharp_v)
                lk_buf_puts(p->b, ", ");
            else
                lk_buf_putc(p->b, ' ');
        }
        tv key, val;
        if (v->kind == TV_LABELS) {
            key = tv_str(p->x->d->labels[i].name);
            val = tv_str(p->x->d->labels[i].value);
            print_value(p, &key, verb, depth + 1);
            lk_buf_putc(p->b, ':');
            print_value(p, &val, verb, depth + 1);
        } else {
            key = tv_str(v->u.m->keys[i]);
            print_value(p, &key, verb, depth + 1);
            lk_buf_putc(p->b, ':');
            print_value(p, &v->u.m->vals[i], verb, depth + 2);
        }
    }
    lk_buf_putc(p->b, p->sharp_v ? '}' : ']');
}

static void print_value(pp *p, const tv *v, int verb, int depth)
{
    if (depth > 0 && !is_nil(v)) {
        p->arg = v;
        if (handle_methods(p, v, verb))
            return;
    }
    p->arg = v;
    switch (v->kind) {
    case TV_INVALID:
        if (depth == 0) {
            lk_buf_puts(p->b, "<invalid reflect.Value>");
        } else if (verb == 'v') {
            lk_buf_puts(p->b, "<nil>");
        } else {
            p->arg = NULL;
            bad_verb(p, verb);
        }
        break;
    case TV_NILIFACE:
        lk_buf_puts(p->b, p->sharp_v ? "interface {}(nil)" : "<nil>");
        break;
    case TV_BOOL: fmt_bool(p, v->u.b, verb); break;
    case TV_INT:
    case TV_INT64:
    case TV_MONTH:
    case TV_WEEKDAY: fmt_int(p, (uint64_t)v->u.i, true, verb); break;
    case TV_UINT8: fmt_int(p, (uint64_t)v->u.i, false, verb); break;
    case TV_FLOAT: fmt_float_verb(p, v->u.f, verb); break;
    case TV_COMPLEX: fmt_complex(p, v->u.c.re, v->u.c.im, verb); break;
    case TV_STRING: fmt_string(p, v->u.s, verb); break;
    case TV_LABELS:
    case TV_JMAP: print_map(p, v, verb, depth); break;
    case TV_JSLICE:
        if (p->sharp_v) {
            lk_buf_puts(p->b, "[]interface {}{");
            for (uint32_t i = 0; i < v->u.a->n; i++) {
                if (i > 0)
                    lk_buf_puts(p->b, ", ");
                print_value(p, &v->u.a->v[i], verb, depth + 1);
            }
            lk_buf_putc(p->b, '}');
        } else {
            lk_buf_putc(p->b, '[');
            for (uint32_t i = 0; i < v->u.a->n; i++) {
                if (i > 0)
                    lk_buf_putc(p->b, ' ');
                print_value(p, &v->u.a->v[i], verb, depth + 1);
            }
            lk_buf_putc(p->b, ']');
        }
        break;
    case TV_TIME: {
        /* a struct without usable methods for this verb */
        lk_buf s = { 0 };
        tt_string(&s, v->u.t);
        if (verb == 'v') {
            lk_buf_put_str(p->b, lk_buf_str(&s));
            lk_buf_free(&s);
            break;
        }
        lk_buf_puts(p->b, "%!");
        lk_utf8_put(p->b, (uint32_t)verb);
        lk_buf_puts(p->b, "(time.Time=");
        lk_buf_put_str(p->b, lk_buf_str(&s));
        lk_buf_putc(p->b, ')');
        lk_buf_free(&s);
        break;
    }
    default:
        break;
    }
}

static void print_arg(pp *p, const tv *a, int verb)
{
    p->arg = a;
    if (is_nil(a)) {
        if (verb == 'T' || verb == 'v')
            pad_str(p, "<nil>");
        else
            bad_verb(p, verb);
        return;
    }
    if (verb == 'T') {
        fmt_s(p, lk_str_c(tv_type_name(a->kind)));
        return;
    }
    if (verb == 'p') {
        if (a->kind == TV_LABELS || a->kind == TV_JMAP || a->kind == TV_JSLICE) {
            /* an address Go would print; there is none to match */
            bool s = p->sharp;
            p->sharp = !p->sharp;
            fmt_integer(p, (uint64_t)(uintptr_t)a->u.m, 16, false, 'v', ldigits);
            p->sharp = s;
        } else {
            bad_verb(p, 'p');
        }
        return;
    }
    if (handle_methods(p, a, verb))
        return;
    print_value(p, a, verb, 0);
}

/* ---- Sprintf ------------------------------------------------------------------------- */

static bool too_large(int x)
{
    return x > 1000000 || x < -1000000;
}

static int parsenum(lk_str f, size_t start, size_t end, bool *isnum, size_t *newi)
{
    int num = 0;
    *isnum = false;
    size_t i = start;
    if (start >= end) {
        *newi = end;
        return 0;
    }
    for (; i < end && f.p[i] >= '0' && f.p[i] <= '9'; i++) {
        if (too_large(num)) {
            *isnum = false;
            *newi = end;
            return 0;
        }
        num = num * 10 + (f.p[i] - '0');
        *isnum = true;
    }
    *newi = i;
    return num;
}

static int int_from_arg(const tv *a, int n, int *argnum, bool *isint)
{
    int num = 0;
    *isint = false;
    if (*argnum < n) {
        const tv *v = &a[*argnum];
        if (v->kind == TV_INT || v->kind == TV_INT64 || v->kind == TV_UINT8 ||
            v->kind == TV_MONTH || v->kind == TV_WEEKDAY) {
            if (v->u.i >= -1000000 && v->u.i <= 1000000) {
                num = (int)v->u.i;
                *isint = true;
            }
        }
        (*argnum)++;
    }
    return num;
}

/* parseArgNumber / argNumber */
static int arg_number(pp *p, int argnum, lk_str f, size_t *i, int nargs, bool *found)
{
    *found = false;
    if (*i >= f.len || f.p[*i] != '[')
        return argnum;
    p->reordered = true;
    size_t start = *i;
    size_t wid = 1;
    bool ok = false;
    int index = 0;
    if (f.len - start >= 3) {
        for (size_t k = start + 1; k < f.len; k++) {
            if (f.p[k] == ']') {
                bool isnum;
                size_t ni;
                int w = parsenum(f, start + 1, k, &isnum, &ni);
                if (!isnum || ni != k) {
                    wid = k - start + 1;
                    ok = false;
                } else {
                    index = w - 1;
                    wid = k - start + 1;
                    ok = true;
                }
                break;
            }
        }
    }
    if (ok && index >= 0 && index < nargs) {
        *i = start + wid;
        *found = true;
        return index;
    }
    p->good_arg_num = false;
    *i = start + wid;
    *found = ok;
    return argnum;
}

void tf_sprintf(tx *x, lk_buf *b, lk_str f, const tv *a, int n)
{
    pp p = { .x = x, .b = b };
    size_t end = f.len;
    int argnum = 0;
    bool after_index = false;
    p.reordered = false;
    size_t i = 0;
    while (i < end) {
        p.good_arg_num = true;
        size_t lasti = i;
        while (i < end && f.p[i] != '%')
            i++;
        if (i > lasti)
            lk_buf_append(b, f.p + lasti, i - lasti);
        if (i >= end)
            break;
        i++;
        clear_flags(&p);
        for (; i < end; i++) {
            char c = f.p[i];
            if (c == '#')
                p.sharp = true;
            else if (c == '0')
                p.zero = true;
            else if (c == '+')
                p.plus = true;
            else if (c == '-')
                p.minus = true;
            else if (c == ' ')
                p.space = true;
            else
                break;
        }
        argnum = arg_number(&p, argnum, f, &i, n, &after_index);
        if (i < end && f.p[i] == '*') {
            i++;
            bool isint;
            p.wid = int_from_arg(a, n, &argnum, &isint);
            p.wid_present = isint;
            if (!p.wid_present)
                lk_buf_puts(b, "%!(BADWIDTH)");
            if (p.wid < 0) {
                p.wid = -p.wid;
                p.minus = true;
            }
            after_index = false;
        } else {
            bool isnum;
            p.wid = parsenum(f, i, end, &isnum, &i);
            p.wid_present = isnum;
            if (after_index && p.wid_present)
                p.good_arg_num = false;
        }
        if (i + 1 < end && f.p[i] == '.') {
            i++;
            if (after_index)
                p.good_arg_num = false;
            argnum = arg_number(&p, argnum, f, &i, n, &after_index);
            if (i < end && f.p[i] == '*') {
                i++;
                bool isint;
                p.prec = int_from_arg(a, n, &argnum, &isint);
                p.prec_present = isint;
                if (p.prec < 0) {
                    p.prec = 0;
                    p.prec_present = false;
                }
                if (!p.prec_present)
                    lk_buf_puts(b, "%!(BADPREC)");
                after_index = false;
            } else {
                bool isnum;
                p.prec = parsenum(f, i, end, &isnum, &i);
                p.prec_present = isnum;
                if (!p.prec_present) {
                    p.prec = 0;
                    p.prec_present = true;
                }
            }
        }
        if (!after_index)
            argnum = arg_number(&p, argnum, f, &i, n, &after_index);
        if (i >= end) {
            lk_buf_puts(b, "%!(NOVERB)");
            break;
        }
        uint32_t verb;
        size_t w = 1;
        if ((unsigned char)f.p[i] < 0x80)
            verb = (unsigned char)f.p[i];
        else
            w = lk_utf8_decode((const unsigned char *)f.p + i, end - i, &verb);
        i += w;
        if (verb == '%') {
            lk_buf_putc(b, '%');
        } else if (!p.good_arg_num) {
            lk_buf_puts(b, "%!");
            lk_utf8_put(b, verb);
            lk_buf_puts(b, "(BADINDEX)");
        } else if (argnum >= n) {
            lk_buf_puts(b, "%!");
            lk_utf8_put(b, verb);
            lk_buf_puts(b, "(MISSING)");
        } else {
            if (verb == 'v') {
                p.sharp_v = p.sharp;
                p.sharp = false;
                p.plus_v = p.plus;
                p.plus = false;
            }
            print_arg(&p, &a[argnum], (int)verb);
            argnum++;
        }
        fmt_done(&p);
    }
    if (!p.reordered && argnum < n) {
        clear_flags(&p);
        lk_buf_puts(b, "%!(EXTRA ");
        for (int k = argnum; k < n; k++) {
            if (k > argnum)
                lk_buf_puts(b, ", ");
            if (is_nil(&a[k])) {
                lk_buf_puts(b, "<nil>");
            } else {
                lk_buf_puts(b, tv_type_name(a[k].kind));
                lk_buf_putc(b, '=');
                print_arg(&p, &a[k], 'v');
            }
        }
        lk_buf_putc(b, ')');
    }
    fmt_done(&p);
}

void tf_sprint(tx *x, lk_buf *b, const tv *a, int n)
{
    pp p = { .x = x, .b = b };
    bool prev_string = false;
    for (int i = 0; i < n; i++) {
        bool is_string = a[i].kind == TV_STRING;
        if (i > 0 && !is_string && !prev_string)
            lk_buf_putc(b, ' ');
        clear_flags(&p);
        print_arg(&p, &a[i], 'v');
        prev_string = is_string;
    }
    fmt_done(&p);
}

void tf_sprintln(tx *x, lk_buf *b, const tv *a, int n)
{
    pp p = { .x = x, .b = b };
    for (int i = 0; i < n; i++) {
        if (i > 0)
            lk_buf_putc(b, ' ');
        clear_flags(&p);
        print_arg(&p, &a[i], 'v');
    }
    lk_buf_putc(b, '\n');
    fmt_done(&p);
}

void tf_print_value(tx *x, lk_buf *b, const tv *v)
{
    if (v->kind == TV_STRING) {
        lk_buf_put_str(b, v->u.s);
        return;
    }
    pp p = { .x = x, .b = b };
    print_arg(&p, v, 'v');
    fmt_done(&p);
}
