/* Prometheus' template functions for alert labels and annotations
 * (prometheus/template/template.go), available to templates parsed with
 * tmpl_parse_prom on top of Loki's set: humanize, humanize1024,
 * humanizeDuration, humanizePercentage, humanizeTimestamp, toTime,
 * parseDuration, now, externalURL, pathPrefix, graphLink, tableLink,
 * reReplaceAll, match, args, toUpper, toLower, stripPort, stripDomain,
 * safeHtml (the query functions: promquery.c; title is sprig's). Numbers are converted as Prometheus'
 * convertToFloat does (strings parsed, integers widened); results follow
 * Go's fmt "%.4g". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gofloat.h"
#include "lib/timeutil.h"
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

/* floatToTime: v seconds as model.Time (whole milliseconds, truncated),
 * in UTC. */
static tv seconds_to_time(tx *x, double v)
{
    double ns = v * 1e9;
    if (ns >= 9223372036854775807.0 || ns < -9223372036854775808.0) {
        size_t m = tx_sb_begin(x);
        lk_gofloat_append(x->out, v, 'g', -1);
        lk_str s = tx_sb_end(x, m);
        tx_callerr(x, "%.*s cannot be represented as a nanoseconds timestamp since it "
                      "overflows int64", LK_STR_FMT(s));
    }
    int64_t ms = (int64_t)ns / 1000000;
    tv t = tt_unix(x, ms / 1000, (ms % 1000) * 1000000);
    tv_time *tm = (tv_time *)t.u.t;
    tm->loc = TL_UTC;
    tm->zone = LK_STR("UTC");
    return t;
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

/* fmt.Sprint of the UTC time v seconds after the epoch, at model.Time's
 * millisecond precision. */
static TFI(f_humanize_timestamp)
{
    (void)n;
    (void)cmd;
    double v = tnum_to_float64(&a[0]);
    if (isnan(v) || isinf(v)) {
        *res = tv_str(put_g4(x, v, ""));
        return;
    }
    tv t = seconds_to_time(x, v);
    size_t m = tx_sb_begin(x);
    tt_string(x->out, t.u.t);
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(f_to_time)
{
    (void)n;
    (void)cmd;
    double v = tnum_to_float64(&a[0]);
    if (isnan(v) || isinf(v))
        tx_callerr(x, "value must not be NaN or Inf");
    *res = seconds_to_time(x, v);
}

/* model.ParseDuration, in seconds. */
static TFI(f_parse_duration)
{
    (void)n;
    (void)cmd;
    int64_t ns = 0;
    if (lk_parse_prom_duration(a[0].u.s, &ns) != 0)
        tx_callerr(x, "not a valid duration string: \"%.*s\"", LK_STR_FMT(a[0].u.s));
    *res = tv_float((double)ns / 1e9);
}

/* The evaluation time in seconds (model.Time: whole milliseconds). */
static TFI(f_now_prom)
{
    (void)a;
    (void)n;
    (void)cmd;
    int64_t ms = x->d->ts / 1000000;
    *res = tv_float((double)ms / 1000.0);
}

static lk_str external_url(tx *x)
{
    return x->prom ? nz(x->prom->external_url) : LK_STR("");
}

static TFI(f_external_url)
{
    (void)a;
    (void)n;
    (void)cmd;
    *res = tv_str(external_url(x));
}

/* url.URL.Path of the external URL. */
static TFI(f_path_prefix)
{
    (void)a;
    (void)n;
    (void)cmd;
    lk_str u = external_url(x);
    const char *p = u.p, *end = u.p + u.len;
    const char *scheme = strstr(u.len ? u.p : "", "://");
    if (scheme && scheme < end) {
        p = scheme + 3;
        while (p < end && *p != '/' && *p != '?' && *p != '#')
            p++;
    }
    const char *q = p;
    while (q < end && *q != '?' && *q != '#')
        q++;
    *res = tv_str(lk_str_n(p, (size_t)(q - p)));
}

static void expr_link(tx *x, lk_str expr, const char *tab, tv *res)
{
    size_t m = tx_sb_begin(x);
    lk_buf_puts(x->out, "/graph?g0.expr=");
    tf_query_escape(x->out, expr);
    lk_buf_puts(x->out, tab);
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(f_graph_link)
{
    (void)n;
    (void)cmd;
    expr_link(x, a[0].u.s, "&g0.tab=0", res);
}

static TFI(f_table_link)
{
    (void)n;
    (void)cmd;
    expr_link(x, a[0].u.s, "&g0.tab=1", res);
}

static TFI(f_re_replace_all)
{
    (void)n;
    *res = tv_str(tf_regex_replace_all(x, cmd, a[0].u.s, a[2].u.s, a[1].u.s));
}

static TFI(f_match)
{
    (void)n;
    *res = tv_bool(tf_regex_match(x, cmd, a[0].u.s, a[1].u.s));
}

typedef struct arg_entry {
    lk_str key;
    tv v;
} arg_entry;

static int cmp_arg(const void *a, const void *b)
{
    return lk_str_cmp(((const arg_entry *)a)->key, ((const arg_entry *)b)->key);
}

/* map[string]interface{}{"arg0": a0, "arg1": a1, ...}. */
static TFI(f_args)
{
    (void)cmd;
    uint32_t k = n > 0 ? (uint32_t)n : 0;
    arg_entry *e = tx_alloc(x, (k ? k : 1) * sizeof *e);
    for (uint32_t i = 0; i < k; i++) {
        char name[24];
        int len = snprintf(name, sizeof name, "arg%u", (unsigned)i);
        e[i] = (arg_entry){ tx_strdup(x, name, (size_t)len), a[i] };
    }
    qsort(e, k, sizeof *e, cmp_arg);
    tv_jmap *m = tx_alloc(x, sizeof *m);
    m->shape = TJ_IFACE;
    m->n = k;
    m->keys = tx_alloc(x, (k ? k : 1) * sizeof(lk_str));
    m->vals = tx_alloc(x, (k ? k : 1) * sizeof(tv));
    for (uint32_t i = 0; i < k; i++) {
        m->keys[i] = e[i].key;
        m->vals[i] = e[i].v;
    }
    tv r = { .kind = TV_JMAP };
    r.u.m = m;
    *res = r;
}

#define S TPARAM_STRING
#define A TPARAM_IFACE
static const tfunc prom_funcs[] = {
    { "humanizeTimestamp", 1, false, { A }, TF_PLAIN, false, f_humanize_timestamp },
    { "toTime", 1, false, { A }, TF_PLAIN, false, f_to_time },
    { "parseDuration", 1, false, { S }, TF_PLAIN, false, f_parse_duration },
    { "now", 0, false, { 0 }, TF_PLAIN, false, f_now_prom },
    { "externalURL", 0, false, { 0 }, TF_PLAIN, false, f_external_url },
    { "pathPrefix", 0, false, { 0 }, TF_PLAIN, false, f_path_prefix },
    { "graphLink", 1, false, { S }, TF_PLAIN, false, f_graph_link },
    { "tableLink", 1, false, { S }, TF_PLAIN, false, f_table_link },
    { "reReplaceAll", 3, false, { S, S, S }, TF_PLAIN, false, f_re_replace_all },
    { "match", 2, false, { S, S }, TF_PLAIN, false, f_match },
    { "args", 1, true, { A }, TF_PLAIN, false, f_args },
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
    const tfunc *f = tf_lookup_prom_query(name);
    return f ? f : tf_lookup(name);
}
