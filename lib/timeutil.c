/* Time and duration parsing and formatting, mirroring the Go code Loki runs:
 *   time parameters   pkg/loghttp/params.go parseTimestamp
 *   RFC3339(Nano)     time.Parse(time.RFC3339Nano, s)
 *   Prometheus        model.ParseDuration / model.Duration.String
 *   Go durations      time.ParseDuration (with its error texts) /
 *                     time.Duration.String
 *   calendar          days from a civil date and back, as time.Date does
 *   step, interval    parseSecondsOrDuration (float seconds or Prometheus)
 * Times are int64 Unix nanoseconds (years 1677..2262); anything that does not
 * fit is LK_ERANGE. Where Loki computes a time parameter through a float64,
 * the decimal text is evaluated exactly here instead (same result except
 * where float64 rounding would move a value across a millisecond). */
#include "lib/goint.h"
#include "lib/timeutil.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "lib/err.h"

#define NS_PER_MIN (60 * LK_NS_PER_SEC)
#define NS_PER_HOUR (60 * NS_PER_MIN)

int64_t lk_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * LK_NS_PER_SEC + ts.tv_nsec;
}

void lk_sleep_ns(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / LK_NS_PER_SEC), (long)(ns % LK_NS_PER_SEC) };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- calendar --------------------------------------------------------------- */

int64_t lk_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void lk_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

bool lk_is_leap_year(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int lk_days_in_month(int64_t y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && lk_is_leap_year(y) ? 29 : dm[m - 1];
}

/* sec * 1e9 + ns without overflow. */
static int secs_to_ns(int64_t sec, int64_t ns, int64_t *out)
{
    int64_t v;
    if (sec < 0 && ns > 0) { /* keep the product in range near INT64_MIN */
        sec++;
        ns -= LK_NS_PER_SEC;
    }
    if (__builtin_mul_overflow(sec, LK_NS_PER_SEC, &v) || __builtin_add_overflow(v, ns, &v))
        return LK_ERANGE;
    *out = v;
    return 0;
}

/* ---- RFC3339 ------------------------------------------------------------------ */

/* n digits at *p (exactly n, or 1..2 when loose) into *v. */
static bool take_num(const char **p, const char *e, int n, bool loose, int *v)
{
    const char *s = *p;
    int k = 0, x = 0;
    while (k < n && s + k < e && is_digit(s[k])) {
        x = x * 10 + (s[k] - '0');
        k++;
    }
    if (k < n && !(loose && k >= 1))
        return false;
    *p = s + k;
    *v = x;
    return true;
}

int lk_parse_rfc3339(lk_str s, int64_t *out_ns)
{
    const char *p = s.p, *e = s.p + s.len;
    int year, mon, day, hour, min, sec;
    if (!s.p)
        return LK_EPARSE;
    /* Layout 2006-01-02T15:04:05.999999999Z07:00 read as Go's time.Parse:
     * the hour may have one digit, the fraction any number (first 9 used),
     * '.' or ',' before it. */
    if (!take_num(&p, e, 4, false, &year) || p >= e || *p++ != '-' ||
        !take_num(&p, e, 2, false, &mon) || p >= e || *p++ != '-' ||
        !take_num(&p, e, 2, false, &day) || p >= e || *p++ != 'T' ||
        !take_num(&p, e, 2, true, &hour) || p >= e || *p++ != ':' ||
        !take_num(&p, e, 2, false, &min) || p >= e || *p++ != ':' ||
        !take_num(&p, e, 2, false, &sec))
        return LK_EPARSE;
    int64_t frac = 0;
    if (e - p >= 2 && (*p == '.' || *p == ',') && is_digit(p[1])) {
        p++;
        int nd = 0;
        while (p < e && is_digit(*p)) {
            if (nd < 9) {
                frac = frac * 10 + (*p - '0');
                nd++;
            }
            p++;
        }
        for (; nd < 9; nd++)
            frac *= 10;
    }
    int64_t off = 0;
    if (p < e && *p == 'Z') {
        p++;
    } else {
        if (e - p < 6 || (*p != '+' && *p != '-') || p[3] != ':')
            return LK_EPARSE;
        int sign = *p == '-' ? -1 : 1;
        int oh, om;
        const char *q = p + 1;
        if (!take_num(&q, e, 2, false, &oh))
            return LK_EPARSE;
        q++;
        if (!take_num(&q, e, 2, false, &om))
            return LK_EPARSE;
        if (oh > 24 || om > 60) /* Go's bounds */
            return LK_EPARSE;
        off = sign * (oh * 3600 + om * 60);
        p += 6;
    }
    if (p != e)
        return LK_EPARSE;
    if (mon < 1 || mon > 12 || day < 1 || day > lk_days_in_month(year, mon) || hour > 23 ||
        min > 59 || sec > 59)
        return LK_EPARSE;
    int64_t secs = lk_days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - off;
    return secs_to_ns(secs, frac, out_ns);
}

/* ---- Go float syntax ----------------------------------------------------------- */

typedef enum float_kind { F_NONE, F_DECIMAL, F_HEX, F_SPECIAL } float_kind;

static bool eq_nocase(const char *p, size_t n, const char *w)
{
    return lk_str_eq_nocase((lk_str){ p, n }, w);
}

/* Classifies s as Go's strconv.ParseFloat would accept it (no underscores). */
static float_kind go_float_kind(lk_str s)
{
    const char *p = s.p, *e = s.p + s.len;
    if (p < e && (*p == '+' || *p == '-'))
        p++;
    size_t rest = (size_t)(e - p);
    if (eq_nocase(p, rest, "inf") || eq_nocase(p, rest, "infinity") || eq_nocase(p, rest, "nan"))
        return (p == s.p || !eq_nocase(p, rest, "nan")) ? F_SPECIAL : F_NONE;
    bool hex = rest > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if (hex)
        p += 2;
    int digits = 0;
    bool dot = false;
    for (; p < e; p++) {
        char c = *p;
        bool d = is_digit(c) || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
        if (d)
            digits++;
        else if (c == '.' && !dot)
            dot = true;
        else
            break;
    }
    if (digits == 0)
        return F_NONE;
    if (p < e && (hex ? (*p == 'p' || *p == 'P') : (*p == 'e' || *p == 'E'))) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !is_digit(*p))
            return F_NONE;
        while (p < e && is_digit(*p))
            p++;
    } else if (hex) {
        return F_NONE; /* a hex mantissa needs a 'p' exponent */
    }
    return p == e ? (hex ? F_HEX : F_DECIMAL) : F_NONE;
}

/* strtod of a string that go_float_kind accepted. */
static double go_float_value(lk_str s)
{
    char buf[128];
    if (s.len >= sizeof(buf)) {
        char *tmp = malloc(s.len + 1);
        if (!tmp)
            abort();
        memcpy(tmp, s.p, s.len);
        tmp[s.len] = '\0';
        double v = strtod(tmp, NULL);
        free(tmp);
        return v;
    }
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    return strtod(buf, NULL);
}

/* ---- time parameters -------------------------------------------------------------- */

/* A decimal as significant digits 0.d1d2d3... x 10^dp. */
typedef struct decimal {
    bool neg;
    char dig[32];
    int nd;
    int64_t dp;
} decimal;

static void decimal_read(lk_str s, decimal *d)
{
    const char *p = s.p, *e = s.p + s.len;
    memset(d, 0, sizeof(*d));
    if (p < e && (*p == '+' || *p == '-'))
        d->neg = *p++ == '-';
    bool dot = false;
    bool started = false;
    for (; p < e; p++) {
        if (*p == '.') {
            dot = true;
            continue;
        }
        if (!is_digit(*p))
            break;
        if (!started && *p == '0') {
            if (dot)
                d->dp--;
            continue;
        }
        started = true;
        if (d->nd < (int)sizeof(d->dig))
            d->dig[d->nd++] = *p;
        if (!dot)
            d->dp++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (*p == '+' || *p == '-')
            eneg = *p++ == '-';
        int64_t x = 0;
        for (; p < e && is_digit(*p); p++)
            if (x < 100000)
                x = x * 10 + (*p - '0');
        d->dp += eneg ? -x : x;
    }
    if (d->nd == 0)
        d->dp = 0;
}

static int decimal_digit(const decimal *d, int64_t i)
{
    return i >= 0 && i < d->nd ? d->dig[i] - '0' : 0;
}

/* Seconds with the fraction rounded half away from zero to milliseconds,
 * exactly as parseTimestamp means it. */
static int decimal_to_ns_ms(const decimal *d, int64_t *out)
{
    if (d->dp > 19)
        return LK_ERANGE;
    uint64_t sec = 0;
    for (int64_t i = 0; i < d->dp; i++)
        sec = sec * 10 + (uint64_t)decimal_digit(d, i);
    if (sec > (uint64_t)INT64_MAX)
        return LK_ERANGE;
    int64_t ms = 0;
    for (int64_t i = d->dp; i < d->dp + 3; i++)
        ms = ms * 10 + decimal_digit(d, i);
    if (decimal_digit(d, d->dp + 3) >= 5)
        ms++;
    int64_t ns;
    int rc = secs_to_ns((int64_t)sec, ms * LK_NS_PER_MS, &ns);
    if (rc)
        return rc;
    *out = d->neg ? -ns : ns;
    return 0;
}

/* parseTimestamp's float path for a hex float: Go's own float64 steps. */
static int hex_time(lk_str s, int64_t *out)
{
    double t = go_float_value(s);
    double ip;
    double fr = modf(t, &ip);
    fr = round(fr * 1000) / 1000;
    if (!(ip > -9.3e18 && ip < 9.3e18))
        return LK_ERANGE;
    return secs_to_ns((int64_t)ip, (int64_t)(fr * 1e9), out);
}

int lk_parse_time_param(lk_str s, int64_t *out_ns)
{
    if (!s.p || s.len == 0)
        return LK_EPARSE;
    if (memchr(s.p, '.', s.len)) {
        float_kind k = go_float_kind(s);
        if (k == F_DECIMAL) {
            decimal d;
            decimal_read(s, &d);
            return decimal_to_ns_ms(&d, out_ns);
        }
        if (k == F_HEX)
            return hex_time(s, out_ns);
    }
    int64_t v;
    int rc = lk_go_parse_int(s, &v);
    if (rc == 0) {
        if (s.len <= 10) /* Loki counts the sign too */
            return secs_to_ns(v, 0, out_ns);
        *out_ns = v;
        return 0;
    }
    int rc2 = lk_parse_rfc3339(s, out_ns);
    if (rc2 == 0 || rc2 == LK_ERANGE)
        return rc2;
    return rc == LK_ERANGE ? LK_ERANGE : LK_EPARSE;
}

/* ---- durations ------------------------------------------------------------------- */

int lk_parse_prom_duration(lk_str s, int64_t *out_ns)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {
        { "y", INT64_C(365) * 24 * 3600 * 1000 }, { "w", INT64_C(7) * 24 * 3600 * 1000 },
        { "d", INT64_C(24) * 3600 * 1000 }, { "h", INT64_C(3600) * 1000 },
        { "m", INT64_C(60) * 1000 }, { "s", 1000 }, { "ms", 1 },
    };
    if (!s.p || s.len == 0)
        return LK_EPARSE;
    if (lk_str_eq_c(s, "0")) {
        *out_ns = 0;
        return 0;
    }
    const char *p = s.p, *e = s.p + s.len;
    int last = -1;
    uint64_t total = 0; /* ns */
    while (p < e) {
        if (!is_digit(*p))
            return LK_EPARSE;
        uint64_t v = 0;
        bool big = false;
        while (p < e && is_digit(*p)) {
            unsigned d = (unsigned)(*p++ - '0');
            if (v > (UINT64_MAX - d) / 10)
                big = true;
            else
                v = v * 10 + d;
        }
        if (big)
            return LK_ERANGE;
        const char *u = p;
        while (p < e && !is_digit(*p))
            p++;
        lk_str unit = { u, (size_t)(p - u) };
        int idx = -1;
        for (int i = 0; i < (int)(sizeof(units) / sizeof(units[0])); i++)
            if (lk_str_eq_c(unit, units[i].name))
                idx = i;
        if (idx < 0 || idx <= last)
            return LK_EPARSE;
        last = idx;
        uint64_t mult = (uint64_t)units[idx].ms * (uint64_t)LK_NS_PER_MS;
        if (v > ((uint64_t)1 << 63) / mult)
            return LK_ERANGE;
        total += v * mult;
        if (total > (uint64_t)INT64_MAX)
            return LK_ERANGE;
    }
    *out_ns = (int64_t)total;
    return 0;
}

/* time's quote(): "..." with each byte of a control or non-ASCII rune as
 * \xNN (escaping byte by byte writes what Go's rune-wise loop writes). */
static void go_time_quote(lk_str s, lk_buf *out)
{
    static const char hexd[] = "0123456789abcdef";
    lk_buf_putc(out, '"');
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c >= 0x80 || c < ' ') {
            lk_buf_puts(out, "\\x");
            lk_buf_putc(out, hexd[c >> 4]);
            lk_buf_putc(out, hexd[c & 15]);
            continue;
        }
        if (c == '"' || c == '\\')
            lk_buf_putc(out, '\\');
        lk_buf_putc(out, (char)c);
    }
    lk_buf_putc(out, '"');
}

/* rc, with "time: <what><unit> in duration <orig>" (unit when given)
 * appended to err. */
static int go_duration_error(int rc, const char *what, lk_str unit, lk_str orig, lk_buf *err)
{
    if (err) {
        lk_buf_puts(err, "time: ");
        lk_buf_puts(err, what);
        if (unit.p) {
            go_time_quote(unit, err);
            lk_buf_puts(err, " in duration ");
        }
        go_time_quote(orig, err);
    }
    return rc;
}

/* time's leadingInt and leadingFraction at *p: the integer part v and the
 * fraction f / scale (digits past int64's range are dropped, as Go does).
 * LK_EPARSE when there are no digits, LK_ERANGE when v overflows. */
static int go_duration_number(const char **p, const char *e, uint64_t *v, uint64_t *f,
                              double *scale)
{
    const uint64_t lim = (uint64_t)1 << 63;
    const char *st = *p;
    *v = *f = 0;
    *scale = 1;
    for (; *p < e && is_digit(**p); (*p)++) {
        if (*v > lim / 10)
            return LK_ERANGE;
        *v = *v * 10 + (uint64_t)(**p - '0');
        if (*v > lim)
            return LK_ERANGE;
    }
    bool pre = *p != st, post = false;
    if (*p < e && **p == '.') {
        st = ++*p;
        bool over = false;
        for (; *p < e && is_digit(**p); (*p)++) {
            if (over)
                continue;
            if (*f > (lim - 1) / 10) {
                over = true;
                continue;
            }
            uint64_t y = *f * 10 + (uint64_t)(**p - '0');
            if (y > lim) {
                over = true;
                continue;
            }
            *f = y;
            *scale *= 10;
        }
        post = *p != st;
    }
    return pre || post ? 0 : LK_EPARSE;
}

static uint64_t go_duration_unit(lk_str unit)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
        { "ms", 1000000 }, { "s", 1000000000 }, { "m", UINT64_C(60000000000) },
        { "h", UINT64_C(3600000000000) },
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (lk_str_eq_c(unit, units[i].name))
            return units[i].ns;
    return 0;
}

int lk_parse_go_duration_err(lk_str s, int64_t *out_ns, lk_buf *err)
{
    const uint64_t lim = (uint64_t)1 << 63;
    const lk_str none = LK_STR_NULL;
    if (!s.p)
        return go_duration_error(LK_EPARSE, "invalid duration ", none, s, err);
    const char *p = s.p, *e = s.p + s.len;
    bool neg = false;
    if (p < e && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (e - p == 1 && *p == '0') {
        *out_ns = 0;
        return 0;
    }
    if (p == e)
        return go_duration_error(LK_EPARSE, "invalid duration ", none, s, err);
    uint64_t d = 0;
    while (p < e) {
        if (!(*p == '.' || is_digit(*p)))
            return go_duration_error(LK_EPARSE, "invalid duration ", none, s, err);
        uint64_t v, f;
        double scale;
        int rc = go_duration_number(&p, e, &v, &f, &scale);
        if (rc)
            return go_duration_error(rc, "invalid duration ", none, s, err);
        const char *u = p;
        while (p < e && *p != '.' && !is_digit(*p))
            p++;
        lk_str unit = { u, (size_t)(p - u) };
        if (unit.len == 0)
            return go_duration_error(LK_EPARSE, "missing unit in duration ", none, s, err);
        uint64_t mult = go_duration_unit(unit);
        if (!mult)
            return go_duration_error(LK_EPARSE, "unknown unit ", unit, s, err);
        if (v > lim / mult)
            return go_duration_error(LK_ERANGE, "invalid duration ", none, s, err);
        v *= mult;
        if (f > 0) {
            /* float64, as Go does, for nanosecond accuracy of fractional hours */
            v += (uint64_t)((double)f * ((double)mult / scale));
            if (v > lim)
                return go_duration_error(LK_ERANGE, "invalid duration ", none, s, err);
        }
        d += v;
        if (d > lim)
            return go_duration_error(LK_ERANGE, "invalid duration ", none, s, err);
    }
    if (!neg && d > lim - 1)
        return go_duration_error(LK_ERANGE, "invalid duration ", none, s, err);
    *out_ns = neg ? (int64_t)(0 - d) : (int64_t)d;
    return 0;
}

int lk_parse_go_duration(lk_str s, int64_t *out_ns)
{
    return lk_parse_go_duration_err(s, out_ns, NULL);
}

int lk_parse_duration(lk_str s, int64_t *out_ns)
{
    int rc = lk_parse_prom_duration(s, out_ns);
    if (rc == 0)
        return 0;
    return lk_parse_go_duration(s, out_ns);
}

int lk_parse_step(lk_str s, int64_t *out_ns)
{
    if (!s.p || s.len == 0)
        return LK_EPARSE;
    if (go_float_kind(s) != F_NONE) {
        double ts = go_float_value(s) * 1e9;
        if (isnan(ts) || ts >= 9223372036854775808.0 || ts < -9223372036854775808.0)
            return LK_ERANGE;
        *out_ns = (int64_t)ts;
        return 0;
    }
    return lk_parse_prom_duration(s, out_ns);
}

/* ---- formatting ---------------------------------------------------------------- */

typedef struct civil {
    int64_t year;
    int mon, day, hour, min, sec;
    int64_t nsec;
} civil;

static void to_civil(int64_t ns, civil *c)
{
    int64_t sec = ns / LK_NS_PER_SEC, rem = ns % LK_NS_PER_SEC;
    if (rem < 0) {
        rem += LK_NS_PER_SEC;
        sec--;
    }
    int64_t days = sec / 86400, sod = sec % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    lk_civil_from_days(days, &c->year, &c->mon, &c->day);
    c->hour = (int)(sod / 3600);
    c->min = (int)(sod / 60 % 60);
    c->sec = (int)(sod % 60);
    c->nsec = rem;
}

/* ".123" with trailing zeros removed; nothing for 0. */
static void put_frac9(lk_buf *out, int64_t nsec)
{
    if (nsec == 0)
        return;
    char f[11];
    int n = 9;
    f[0] = '.';
    for (int i = 9; i >= 1; i--) {
        f[i] = (char)('0' + nsec % 10);
        nsec /= 10;
    }
    while (f[n] == '0')
        n--;
    lk_buf_append(out, f, (size_t)n + 1);
}

void lk_format_rfc3339nano(int64_t ns, lk_buf *out)
{
    civil c;
    to_civil(ns, &c);
    lk_buf_printf(out, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)c.year, c.mon, c.day, c.hour,
                  c.min, c.sec);
    put_frac9(out, c.nsec);
    lk_buf_putc(out, 'Z');
}

void lk_format_go_time(int64_t ns, lk_buf *out)
{
    civil c;
    to_civil(ns, &c);
    lk_buf_printf(out, "%04lld-%02d-%02d %02d:%02d:%02d", (long long)c.year, c.mon, c.day, c.hour,
                  c.min, c.sec);
    put_frac9(out, c.nsec);
    lk_buf_puts(out, " +0000 UTC");
}

/* Go's fmtFrac: the fraction v / 10^prec into the tail of buf (trailing
 * zeros and a bare '.' omitted); returns the new start, v the integer part. */
static int fmt_frac(char *buf, int w, uint64_t *v, int prec)
{
    bool print = false;
    for (int i = 0; i < prec; i++) {
        int digit = (int)(*v % 10);
        print = print || digit != 0;
        if (print)
            buf[--w] = (char)('0' + digit);
        *v /= 10;
    }
    if (print)
        buf[--w] = '.';
    return w;
}

static int fmt_int(char *buf, int w, uint64_t v)
{
    if (v == 0) {
        buf[--w] = '0';
        return w;
    }
    while (v > 0) {
        buf[--w] = (char)('0' + v % 10);
        v /= 10;
    }
    return w;
}

void lk_format_go_duration(int64_t ns, lk_buf *out)
{
    char buf[40];
    int w = (int)sizeof(buf);
    uint64_t u = (uint64_t)ns;
    bool neg = ns < 0;
    if (neg)
        u = 0 - u;
    if (u < (uint64_t)LK_NS_PER_SEC) {
        int prec;
        buf[--w] = 's';
        if (u == 0) {
            lk_buf_puts(out, "0s");
            return;
        }
        if (u < 1000) {
            prec = 0;
            buf[--w] = 'n';
        } else if (u < 1000000) {
            prec = 3;
            buf[--w] = '\xb5'; /* U+00B5 micro sign */
            buf[--w] = '\xc2';
        } else {
            prec = 6;
            buf[--w] = 'm';
        }
        w = fmt_frac(buf, w, &u, prec);
        w = fmt_int(buf, w, u);
    } else {
        buf[--w] = 's';
        w = fmt_frac(buf, w, &u, 9);
        w = fmt_int(buf, w, u % 60);
        u /= 60;
        if (u > 0) {
            buf[--w] = 'm';
            w = fmt_int(buf, w, u % 60);
            u /= 60;
            if (u > 0) {
                buf[--w] = 'h';
                w = fmt_int(buf, w, u);
            }
        }
    }
    if (neg)
        buf[--w] = '-';
    lk_buf_append(out, buf + w, sizeof(buf) - (size_t)w);
}

/* Prometheus model.Duration.String(): whole milliseconds in the largest
 * units; years and weeks only when they divide exactly. Like Prometheus, a
 * negative duration prints nothing. */
void lk_format_prom_duration(int64_t ns, lk_buf *out)
{
    static const struct {
        const char *unit;
        int64_t mult;
        bool exact;
    } units[] = {
        { "y", INT64_C(1000) * 60 * 60 * 24 * 365, true },
        { "w", INT64_C(1000) * 60 * 60 * 24 * 7, true },
        { "d", INT64_C(1000) * 60 * 60 * 24, false },
        { "h", INT64_C(1000) * 60 * 60, false },
        { "m", INT64_C(1000) * 60, false },
        { "s", 1000, false },
        { "ms", 1, false },
    };
    int64_t ms = ns / LK_NS_PER_MS;
    if (ms == 0) {
        lk_buf_puts(out, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (units[i].exact && ms % units[i].mult != 0)
            continue;
        int64_t v = ms / units[i].mult;
        if (v > 0) {
            lk_buf_printf(out, "%lld%s", (long long)v, units[i].unit);
            ms -= v * units[i].mult;
        }
    }
}
