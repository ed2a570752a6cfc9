/* Prometheus' template functions for alert labels and annotations
 * (prometheus/template/template.go), available to templates parsed with
 * tmpl_parse_prom on top of Loki's set: humanize, humanize1024,
 * humanizeDuration, humanizePercentage, toUpper, toLower, stripPort,
 * stripDomain, safeHtml. Numbers are converted as Prometheus'
 * convertToFloat does (strings parsed, integers widened); results follow
 * Go's fmt "%.4g". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/gofloat.h"
#include "query/template/template_int.h"

static lk_str put_g4(tx *x, double v, const char *suffix)
{
    size_t m = tx_sb_begin(x);
    lk_gofloat_append(x->out, v, 'g', 4);
    lk_buf_puts(x->out, suffix);
    return tx_sb_end(x, m);
}

static TFI(f_humanize)
{
    (void)n;
    (void)cmd;
    static const char *const big[] = { "k", "M", "G", "T", "P", "E", "Z", "Y" };
    static const char *const small[] = { "m", "u", "n", "p", "f", "a", "z", "y" };
    double v = tnum_to_float64(&a[0]);
    const char *prefix = "";
    if (v == 0 || isnan(v) || isinf(v)) {
        *res = tv_str(put_g4(x, v, ""));
        return;
    }
    if (fabs(v) >= 1) {
        for (size_t i = 0; i < 8 && fabs(v) >= 1000; i++) {
            prefix = big[i];
            v /= 1000;
        }
    } else {
        for (size_t i = 0; i < 8 && fabs(v) < 1; i++) {
            prefix = small[i];
            v *= 1000;
        }
    }
    *res = tv_str(put_g4(x, v, prefix));
}

static TFI(f_humanize1024)
{
    (void)n;
    (void)cmd;
    static const char *const big[] = { "ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi" };
    double v = tnum_to_float64(&a[0]);
    const char *prefix = "";
    if (!(fabs(v) <= 1 || isnan(v) || isinf(v)))
        for (size_t i = 0; i < 8 && fabs(v) >= 1024; i++) {
            prefix = big[i];
            v /= 1024;
        }
    *res = tv_str(put_g4(x, v, prefix));
}

static TFI(f_humanize_duration)
{
    (void)n;
    (void)cmd;
    static const char *const small[] = { "m", "u", "n", "p", "f", "a", "z", "y" };
    double v = tnum_to_float64(&a[0]);
    if (isnan(v) || isinf(v)) {
        *res = tv_str(put_g4(x, v, ""));
        return;
    }
    if (v == 0) {
        *res = tv_str(LK_STR("0s"));
        return;
    }
    if (fabs(v) >= 1) {
        const char *sign = v < 0 ? "-" : "";
        v = fabs(v);
        int64_t d = (int64_t)v;
        long long s = d % 60, mi = (d / 60) % 60, h = (d / 3600) % 24, days = d / 86400;
        char buf[128];
        if (days)
            snprintf(buf, sizeof buf, "%s%lldd %lldh %lldm %llds", sign, days, h, mi, s);
        else if (h)
            snprintf(buf, sizeof buf, "%s%lldh %lldm %llds", sign, h, mi, s);
        else if (mi)
            snprintf(buf, sizeof buf, "%s%lldm %llds", sign, mi, s);
        if (days || h || mi) {
            *res = tv_str(tx_strdup(x, buf, strlen(buf)));
            return;
        }
        size_t m = tx_sb_begin(x);
        lk_buf_puts(x->out, sign);
        lk_gofloat_append(x->out, v, 'g', 4);
        lk_buf_putc(x->out, 's');
        *res = tv_str(tx_sb_end(x, m));
        return;
    }
    const char *prefix = "";
    for (size_t i = 0; i < 8 && fabs(v) < 1; i++) {
        prefix = small[i];
        v *= 1000;
    }
    size_t m = tx_sb_begin(x);
    lk_gofloat_append(x->out, v, 'g', 4);
    lk_buf_puts(x->out, prefix);
    lk_buf_putc(x->out, 's');
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(f_humanize_percentage)
{
    (void)n;
    (void)cmd;
    *res = tv_str(put_g4(x, tnum_to_float64(&a[0]) * 100, "%"));
}

static lk_str ascii_case(tx *x, lk_str s, bool upper)
{
    char *d = tx_alloc(x, s.len ? s.len : 1);
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!upper && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        d[i] = c;
    }
    return lk_str_n(d, s.len);
}

/* strings.ToUpper / ToLower for ASCII; other text is left as it is. */
static TFI(f_to_upper_prom)
{
    (void)n;
    (void)cmd;
    *res = tv_str(ascii_case(x, a[0].u.s, true));
}

static TFI(f_to_lower_prom)
{
    (void)n;
    (void)cmd;
    *res = tv_str(ascii_case(x, a[0].u.s, false));
}

/* net.SplitHostPort's host, or the text when it has no port. */
static TFI(f_strip_port)
{
    (void)x;
    (void)n;
    (void)cmd;
    lk_str s = a[0].u.s;
    if (s.len && s.p[0] == '[') {
        const char *close = memchr(s.p, ']', s.len);
        if (close && close + 1 < s.p + s.len && close[1] == ':') {
            *res = tv_str(lk_str_n(s.p + 1, (size_t)(close - s.p - 1)));
            return;
        }
    }
    const char *colon = memchr(s.p, ':', s.len);
    if (colon && !memchr(colon + 1, ':', s.len - (size_t)(colon + 1 - s.p)))
        s.len = (size_t)(colon - s.p);
    *res = tv_str(s);
}

/* The first label of a host name, keeping a port. */
static TFI(f_strip_domain)
{
    (void)n;
    (void)cmd;
    lk_str s = a[0].u.s;
    const char *colon = memchr(s.p, ':', s.len);
    lk_str host = colon ? lk_str_n(s.p, (size_t)(colon - s.p)) : s;
    const char *dot = memchr(host.p, '.', host.len);
    if (!dot || (host.len && host.p[0] >= '0' && host.p[0] <= '9')) {
        *res = tv_str(s);
        return;
    }
    size_t m = tx_sb_begin(x);
    lk_buf_append(x->out, host.p, (size_t)(dot - host.p));
    if (colon)
        lk_buf_append(x->out, colon, s.len - (size_t)(colon - s.p));
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(f_safe_html)
{
    (void)x;
    (void)n;
    (void)cmd;
    *res = tv_str(a[0].u.s);
}

#define S TPARAM_STRING
#define A TPARAM_IFACE
static const tfunc prom_funcs[] = {
    { "humanize", 1, false, { A }, TF_PLAIN, false, f_humanize },
    { "humanize1024", 1, false, { A }, TF_PLAIN, false, f_humanize1024 },
    { "humanizeDuration", 1, false, { A }, TF_PLAIN, false, f_humanize_duration },
    { "humanizePercentage", 1, false, { A }, TF_PLAIN, false, f_humanize_percentage },
    { "toUpper", 1, false, { S }, TF_PLAIN, false, f_to_upper_prom },
    { "toLower", 1, false, { S }, TF_PLAIN, false, f_to_lower_prom },
    { "stripPort", 1, false, { S }, TF_PLAIN, false, f_strip_port },
    { "stripDomain", 1, false, { S }, TF_PLAIN, false, f_strip_domain },
    { "safeHtml", 1, false, { S }, TF_PLAIN, false, f_safe_html },
};

const tfunc *tf_lookup_prom(lk_str name)
{
    for (size_t i = 0; i < sizeof prom_funcs / sizeof prom_funcs[0]; i++)
        if (lk_str_eq_c(name, prom_funcs[i].name))
            return &prom_funcs[i];
    return tf_lookup(name);
}
