/* text/template's builtin functions (funcs.go): and, or, call, html, js,
 * urlquery, index, slice, len, not, print, printf, println and the
 * comparisons eq ne lt le gt ge, with Go's error messages ("incompatible
 * types for comparison", "index out of range: 5", "len of type int", ...).
 * Arguments arrive as reflect.Value-typed values; a nil interface is
 * indirected to "no value" the way indirectInterface does. */
#include <string.h>

#include "query/template/template_int.h"

static tv indirect_iface(const tv *v)
{
    if (v->kind == TV_NILIFACE)
        return (tv){ .kind = TV_INVALID };
    return *v;
}

TFI(tfi_and_or)
{
    (void)x;
    (void)a;
    (void)n;
    (void)res;
    (void)cmd; /* evaluated lazily in the executor */
}

TFI(tfi_call)
{
    (void)n;
    (void)res;
    (void)cmd;
    tv fn = indirect_iface(&a[1]);
    if (fn.kind == TV_INVALID)
        tx_callerr(x, "call of nil");
    tx_callerr(x, "non-function %.*s of type %s", LK_STR_FMT(a[0].u.s), tv_type_name(fn.kind));
}

/* evalArgs: one string as is, else fmt.Sprint with nils as "<no value>" */
static lk_str eval_args(tx *x, tv *a, int n)
{
    if (n == 1 && a[0].kind == TV_STRING)
        return a[0].u.s;
    for (int i = 0; i < n; i++)
        if (a[i].kind == TV_INVALID || a[i].kind == TV_NILIFACE)
            a[i] = tv_str(LK_STR("<no value>"));
    size_t m = tx_sb_begin(x);
    tf_sprint(x, x->out, a, n);
    return tx_sb_end(x, m);
}

TFI(tfi_html)
{
    (void)cmd;
    lk_str s = eval_args(x, a, n);
    size_t m = tx_sb_begin(x);
    size_t last = 0;
    for (size_t i = 0; i < s.len; i++) {
        const char *rep;
        switch (s.p[i]) {
        case '\0': rep = "\xEF\xBF\xBD"; break;
        case '"': rep = "&#34;"; break;
        case '\'': rep = "&#39;"; break;
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        default: continue;
        }
        lk_buf_append(x->out, s.p + last, i - last);
        lk_buf_puts(x->out, rep);
        last = i + 1;
    }
    lk_buf_append(x->out, s.p + last, s.len - last);
    *res = tv_str(tx_sb_end(x, m));
}

static bool js_special(uint32_t r)
{
    switch (r) {
    case '\\': case '\'': case '"': case '<': case '>': case '&': case '=':
        return true;
    default:
        return r < ' ' || r >= 0x80;
    }
}

TFI(tfi_js)
{
    (void)cmd;
    lk_str s = eval_args(x, a, n);
    static const char hex[] = "0123456789ABCDEF";
    size_t m = tx_sb_begin(x);
    lk_buf *b = x->out;
    size_t last = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (!js_special(c))
            continue;
        lk_buf_append(b, s.p + last, i - last);
        if (c < 0x80) {
            switch (c) {
            case '\\': lk_buf_puts(b, "\\\\"); break;
            case '\'': lk_buf_puts(b, "\\'"); break;
            case '"': lk_buf_puts(b, "\\\""); break;
            case '<': lk_buf_puts(b, "\\u003C"); break;
            case '>': lk_buf_puts(b, "\\u003E"); break;
            case '&': lk_buf_puts(b, "\\u0026"); break;
            case '=': lk_buf_puts(b, "\\u003D"); break;
            default:
                lk_buf_puts(b, "\\u00");
                lk_buf_putc(b, hex[c >> 4]);
                lk_buf_putc(b, hex[c & 0xF]);
            }
        } else {
            uint32_t r;
            size_t w = lk_utf8_decode((const unsigned char *)s.p + i, s.len - i, &r);
            if (tu_is_print(r))
                lk_buf_append(b, s.p + i, w);
            else
                lk_buf_printf(b, "\\u%04X", r);
            i += w - 1;
        }
        last = i + 1;
    }
    lk_buf_append(b, s.p + last, s.len - last);
    *res = tv_str(tx_sb_end(x, m));
}

TFI(tfi_urlquery)
{
    (void)cmd;
    lk_str s = eval_args(x, a, n);
    size_t m = tx_sb_begin(x);
    tf_query_escape(x->out, s);
    *res = tv_str(tx_sb_end(x, m));
}

static bool is_intkind(uint8_t k)
{
    return tv_is_intkind(k) || k == TV_UINT8;
}

/* indexArg */
static int64_t index_arg(tx *x, const tv *idx, int64_t cap)
{
    tv i = indirect_iface(idx);
    if (i.kind == TV_INVALID)
        tx_callerr(x, "cannot index slice/array with nil");
    if (!is_intkind(i.kind))
        tx_callerr(x, "cannot index slice/array with type %s", tv_type_name(i.kind));
    if (i.u.i < 0 || i.u.i > cap)
        tx_callerr(x, "index out of range: %lld", (long long)i.u.i);
    return i.u.i;
}

TFI(tfi_index)
{
    (void)cmd;
    tv item = indirect_iface(&a[0]);
    if (item.kind == TV_INVALID)
        tx_callerr(x, "index of untyped nil");
    for (int k = 1; k < n; k++) {
        tv idx = indirect_iface(&a[k]);
        if (item.kind == TV_NILIFACE)
            tx_callerr(x, "index of nil pointer");
        switch (item.kind) {
        case TV_STRING: {
            int64_t i = index_arg(x, &idx, (int64_t)item.u.s.len);
            if ((size_t)i >= item.u.s.len)
                tx_panic(x, "reflect: string index out of range");
            item = tv_int(TV_UINT8, (unsigned char)item.u.s.p[i]);
            break;
        }
        case TV_JSLICE: {
            int64_t i = index_arg(x, &idx, item.u.a->n);
            if ((uint64_t)i >= item.u.a->n)
                tx_panic(x, "reflect: slice index out of range");
            item = item.u.a->v[i];
            break;
        }
        case TV_LABELS:
        case TV_JMAP: {
            if (idx.kind == TV_INVALID)
                tx_callerr(x, "value is nil; should be of type string");
            if (idx.kind != TV_STRING)
                tx_callerr(x, "value has type %s; should be string", tv_type_name(idx.kind));
            if (item.kind == TV_LABELS) {
                lk_str v = LK_STR("");
                for (size_t i = 0; i < x->d->n_labels; i++)
                    if (lk_str_eq(x->d->labels[i].name, idx.u.s))
                        v = x->d->labels[i].value;
                item = tv_str(v);
            } else {
                const tv_jmap *mp = item.u.m;
                tv v = mp->shape == TJ_STRINGS ? tv_str(LK_STR("")) : (tv){ .kind = TV_NILIFACE };
                size_t lo = 0, hi = mp->n;
                while (lo < hi) {
                    size_t mid = (lo + hi) / 2;
                    int c = lk_str_cmp(mp->keys[mid], idx.u.s);
                    if (c == 0) {
                        v = mp->vals[mid];
                        break;
                    }
                    if (c < 0)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                item = v;
            }
            break;
        }
        default:
            tx_callerr(x, "can't index item of type %s", tv_type_name(item.kind));
        }
    }
    *res = item;
}

TFI(tfi_slice)
{
    (void)cmd;
    tv item = indirect_iface(&a[0]);
    int ni = n - 1;
    if (item.kind == TV_INVALID)
        tx_callerr(x, "slice of untyped nil");
    if (ni > 3)
        tx_callerr(x, "too many slice indexes: %d", ni);
    int64_t cap;
    if (item.kind == TV_STRING) {
        if (ni == 3)
            tx_callerr(x, "cannot 3-index slice a string");
        cap = (int64_t)item.u.s.len;
    } else if (item.kind == TV_JSLICE) {
        cap = item.u.a->n;
    } else {
        tx_callerr(x, "can't slice item of type %s", tv_type_name(item.kind));
    }
    int64_t idx[3] = { 0, cap, 0 };
    for (int i = 0; i < ni; i++)
        idx[i] = index_arg(x, &a[i + 1], cap);
    if (idx[0] > idx[1])
        tx_callerr(x, "invalid slice index: %lld > %lld", (long long)idx[0], (long long)idx[1]);
    if (ni == 3 && idx[1] > idx[2])
        tx_callerr(x, "invalid slice index: %lld > %lld", (long long)idx[1], (long long)idx[2]);
    if (item.kind == TV_STRING) {
        *res = tv_str(lk_str_n(item.u.s.p + idx[0], (size_t)(idx[1] - idx[0])));
        return;
    }
    tv_jslice *s = tx_alloc(x, sizeof *s);
    s->n = (uint32_t)(idx[1] - idx[0]);
    s->v = item.u.a->v + idx[0];
    res->kind = TV_JSLICE;
    res->u.a = s;
}

TFI(tfi_len)
{
    (void)n;
    (void)cmd;
    tv item = a[0];
    int64_t l;
    switch (item.kind) {
    case TV_NILIFACE: tx_callerr(x, "len of nil pointer");
    case TV_INVALID: tx_panic(x, "reflect: call of reflect.Value.Type on zero Value");
    case TV_STRING: l = (int64_t)item.u.s.len; break;
    case TV_LABELS: l = (int64_t)x->d->n_labels; break;
    case TV_JMAP: l = item.u.m->n; break;
    case TV_JSLICE: l = item.u.a->n; break;
    default: tx_callerr(x, "len of type %s", tv_type_name(item.kind));
    }
    *res = tv_int(TV_INT, l);
}

TFI(tfi_not)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_bool(!tx_truth(&a[0]));
}

TFI(tfi_print)
{
    (void)cmd;
    size_t m = tx_sb_begin(x);
    tf_sprint(x, x->out, a, n);
    *res = tv_str(tx_sb_end(x, m));
}

TFI(tfi_println)
{
    (void)cmd;
    size_t m = tx_sb_begin(x);
    tf_sprintln(x, x->out, a, n);
    *res = tv_str(tx_sb_end(x, m));
}

TFI(tfi_printf)
{
    (void)cmd;
    size_t m = tx_sb_begin(x);
    tf_sprintf(x, x->out, a[0].u.s, a + 1, n - 1);
    *res = tv_str(tx_sb_end(x, m));
}

/* ---- comparisons ------------------------------------------------------------ */

enum { K_INVALID, K_BOOL, K_COMPLEX, K_INT, K_FLOAT, K_STRING, K_UINT };

static int basic_kind(const tv *v)
{
    switch (v->kind) {
    case TV_BOOL: return K_BOOL;
    case TV_INT:
    case TV_INT64:
    case TV_MONTH:
    case TV_WEEKDAY: return K_INT;
    case TV_UINT8: return K_UINT;
    case TV_FLOAT: return K_FLOAT;
    case TV_COMPLEX: return K_COMPLEX;
    case TV_STRING: return K_STRING;
    default: return K_INVALID;
    }
}

/* fmt's %s or %v of a value, for messages */
static lk_str printed(tx *x, const tv *v, const char *verb)
{
    size_t m = tx_sb_begin(x);
    tf_sprintf(x, x->out, lk_str_c(verb), v, 1);
    return tx_sb_end(x, m);
}

static bool times_equal(const tv_time *a, const tv_time *b)
{
    return a->sec == b->sec && a->nsec == b->nsec && a->off == b->off && a->loc == b->loc &&
           lk_str_eq(a->zone, b->zone) && a->mono == b->mono && a->mono_ns == b->mono_ns;
}

/* eq(arg1, arg2...): error as a return code through tx_callerr */
static bool eq_values(tx *x, const tv *arg1p, const tv *rest, int nrest)
{
    tv arg1 = indirect_iface(arg1p);
    if (nrest == 0)
        tx_callerr(x, "missing argument for comparison");
    int k1 = basic_kind(&arg1);
    for (int i = 0; i < nrest; i++) {
        tv arg = indirect_iface(&rest[i]);
        int k2 = basic_kind(&arg);
        bool truth = false;
        if (k1 != k2) {
            if (k1 == K_INT && k2 == K_UINT)
                truth = arg1.u.i >= 0 && arg1.u.i == arg.u.i;
            else if (k1 == K_UINT && k2 == K_INT)
                truth = arg.u.i >= 0 && arg1.u.i == arg.u.i;
            else if (arg1.kind != TV_INVALID && arg.kind != TV_INVALID)
                tx_callerr(x, "incompatible types for comparison: %s and %s",
                           tv_type_name(arg1.kind), tv_type_name(arg.kind));
        } else {
            switch (k1) {
            case K_BOOL: truth = arg1.u.b == arg.u.b; break;
            case K_COMPLEX: truth = arg1.u.c.re == arg.u.c.re && arg1.u.c.im == arg.u.c.im; break;
            case K_FLOAT: truth = arg1.u.f == arg.u.f; break;
            case K_INT:
            case K_UINT: truth = arg1.u.i == arg.u.i; break;
            case K_STRING: truth = lk_str_eq(arg1.u.s, arg.u.s); break;
            default: {
                bool n1 = arg1.kind == TV_INVALID, n2 = arg.kind == TV_INVALID;
                bool same_kind = arg1.kind == arg.kind ||
                                 (arg1.kind == TV_LABELS && arg.kind == TV_JMAP) ||
                                 (arg1.kind == TV_JMAP && arg.kind == TV_LABELS);
                if (!same_kind && !n1 && !n2) {
                    lk_str s1 = printed(x, &arg1, "%s"), s2 = printed(x, &arg, "%v");
                    tx_callerr(x, "non-comparable types %.*s: %s, %s: %.*s", LK_STR_FMT(s1),
                               tv_type_name(arg1.kind), tv_type_name(arg.kind), LK_STR_FMT(s2));
                }
                if (n1 || n2) {
                    truth = n1 == n2;
                } else if (arg.kind != TV_TIME) {
                    lk_str s2 = printed(x, &arg, "%s");
                    tx_callerr(x, "non-comparable type %.*s: %s", LK_STR_FMT(s2),
                               tv_type_name(arg.kind));
                } else {
                    truth = times_equal(arg1.u.t, arg.u.t);
                }
            }
            }
        }
        if (truth)
            return true;
    }
    return false;
}

static bool lt_values(tx *x, const tv *a1, const tv *a2)
{
    tv arg1 = indirect_iface(a1), arg2 = indirect_iface(a2);
    int k1 = basic_kind(&arg1);
    if (k1 == K_INVALID)
        tx_callerr(x, "invalid type for comparison");
    int k2 = basic_kind(&arg2);
    if (k2 == K_INVALID)
        tx_callerr(x, "invalid type for comparison");
    if (k1 != k2) {
        if (k1 == K_INT && k2 == K_UINT)
            return arg1.u.i < 0 || (uint64_t)arg1.u.i < (uint64_t)arg2.u.i;
        if (k1 == K_UINT && k2 == K_INT)
            return arg2.u.i >= 0 && (uint64_t)arg1.u.i < (uint64_t)arg2.u.i;
        tx_callerr(x, "incompatible types for comparison: %s and %s", tv_type_name(arg1.kind),
                   tv_type_name(arg2.kind));
    }
    switch (k1) {
    case K_BOOL:
    case K_COMPLEX: tx_callerr(x, "invalid type for comparison");
    case K_FLOAT: return arg1.u.f < arg2.u.f;
    case K_INT: return arg1.u.i < arg2.u.i;
    case K_UINT: return (uint64_t)arg1.u.i < (uint64_t)arg2.u.i;
    default: return lk_str_cmp(arg1.u.s, arg2.u.s) < 0;
    }
}

TFI(tfi_eq)
{
    (void)cmd;
    *res = tv_bool(eq_values(x, &a[0], a + 1, n - 1));
}

TFI(tfi_ne)
{
    (void)cmd;
    (void)n;
    *res = tv_bool(!eq_values(x, &a[0], a + 1, 1));
}

TFI(tfi_lt)
{
    (void)cmd;
    (void)n;
    *res = tv_bool(lt_values(x, &a[0], &a[1]));
}

TFI(tfi_le)
{
    (void)cmd;
    (void)n;
    bool r = lt_values(x, &a[0], &a[1]);
    if (!r)
        r = eq_values(x, &a[0], a + 1, 1);
    *res = tv_bool(r);
}

TFI(tfi_gt)
{
    (void)cmd;
    (void)n;
    bool r = lt_values(x, &a[0], &a[1]);
    if (!r)
        r = eq_values(x, &a[0], a + 1, 1);
    *res = tv_bool(!r);
}

TFI(tfi_ge)
{
    (void)cmd;
    (void)n;
    *res = tv_bool(!lt_values(x, &a[0], &a[1]));
}
