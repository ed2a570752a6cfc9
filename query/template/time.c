/* Go's time.Time for templates: values (Unix seconds + nanoseconds + the
 * zone in effect), Time.Format with every layout element of time/format.go
 * (2006 06 01 1 Jan January 02 2 _2 __2 002 15 03 3 04 4 05 5 PM pm MST
 * -0700 -07:00 -07 -070000 -07:00:00 Z0700 Z07:00 Z07 Z070000 Z07:00:00
 * .000/,000 .999/,999 Mon Monday), String and GoString, and
 * time.ParseInLocation (the parser of format.go: lenient fractional
 * seconds, 06 pivots at 69, zone abbreviations, GMT+n, day-of-year). Local
 * is the server's zone, which lokic runs as UTC (Go prints it as "UTC").
 * IANA zones come from tz.c. Also the time.Time, time.Month and
 * time.Weekday methods templates can call (.Unix, .Format, .Year ...). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/timeutil.h"
#include "query/template/template_int.h"

#define ZERO_TIME_SEC INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */

static const char *const long_months[] = { "January", "February", "March", "April", "May", "June", "July",
                                           "August", "September", "October", "November", "December" };
static const char *const long_days[] = { "Sunday", "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday" };

/* ---- calendar --------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

typedef struct civil {
    int64_t year;
    int month, day, yday, wday, hour, min, sec;
} civil;

static civil to_civil(const tv_time *t)
{
    civil c;
    int64_t local = t->sec + t->off;
    int64_t days = floor_div(local, 86400);
    int64_t sod = local - days * 86400;
    lk_civil_from_days(days, &c.year, &c.month, &c.day);
    c.yday = (int)(days - lk_days_from_civil(c.year, 1, 1)) + 1;
    c.wday = (int)(((days + 4) % 7 + 7) % 7);
    c.hour = (int)(sod / 3600);
    c.min = (int)(sod % 3600 / 60);
    c.sec = (int)(sod % 60);
    return c;
}

/* ---- values ------------------------------------------------------------------- */

tv_time *tt_new(tx *x)
{
    tv_time *t = tx_alloc(x, sizeof *t);
    memset(t, 0, sizeof *t);
    return t;
}

tv tt_value(tv_time *t)
{
    tv v = { .kind = TV_TIME };
    v.u.t = t;
    return v;
}

static void set_local(tv_time *t)
{
    t->loc = TL_LOCAL;
    t->off = 0;
    t->zone = LK_STR("UTC");
}

tv tt_unix(tx *x, int64_t sec, int64_t nsec)
{
    tv_time *t = tt_new(x);
    if (nsec < 0 || nsec >= 1000000000) {
        int64_t n = floor_div(nsec, 1000000000);
        sec += n;
        nsec -= n * 1000000000;
    }
    t->sec = sec;
    t->nsec = (int32_t)nsec;
    set_local(t);
    return tt_value(t);
}

static int64_t process_start_mono = -1;

tv tt_now(tx *x)
{
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    int64_t m = (int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec;
    int64_t start = __atomic_load_n(&process_start_mono, __ATOMIC_RELAXED);
    if (start < 0) {
        int64_t expected = -1;
        __atomic_compare_exchange_n(&process_start_mono, &expected, m, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
        start = __atomic_load_n(&process_start_mono, __ATOMIC_RELAXED);
    }
    int64_t ns = lk_now_ns();
    tv v = tt_unix(x, floor_div(ns, 1000000000), ns - floor_div(ns, 1000000000) * 1000000000);
    tv_time *t = (tv_time *)v.u.t;
    t->mono = true;
    t->mono_ns = m - start + 1;
    return v;
}

tv_time tt_in_local(const tv_time *t)
{
    tv_time r = *t;
    set_local(&r);
    r.mono = false;
    r.locname = LK_STR_NULL;
    return r;
}

static tv_time zero_time(void)
{
    tv_time t = { 0 };
    t.sec = ZERO_TIME_SEC;
    t.loc = TL_UTC;
    t.zone = LK_STR("UTC");
    return t;
}

/* ---- formatting ------------------------------------------------------------------ */

enum {
    STD_NONE,
    STD_LONG_MONTH,
    STD_MONTH,
    STD_NUM_MONTH,
    STD_ZERO_MONTH,
    STD_LONG_WEEKDAY,
    STD_WEEKDAY,
    STD_DAY,
    STD_UNDER_DAY,
    STD_ZERO_DAY,
    STD_UNDER_YEARDAY,
    STD_ZERO_YEARDAY,
    STD_HOUR,
    STD_HOUR12,
    STD_ZERO_HOUR12,
    STD_MINUTE,
    STD_ZERO_MINUTE,
    STD_SECOND,
    STD_ZERO_SECOND,
    STD_LONG_YEAR,
    STD_YEAR,
    STD_PM,
    STD_pm,
    STD_TZ,
    STD_ISO8601_TZ,
    STD_ISO8601_SECONDS_TZ,
    STD_ISO8601_SHORT_TZ,
    STD_ISO8601_COLON_TZ,
    STD_ISO8601_COLON_SECONDS_TZ,
    STD_NUM_TZ,
    STD_NUM_SECONDS_TZ,
    STD_NUM_SHORT_TZ,
    STD_NUM_COLON_TZ,
    STD_NUM_COLON_SECONDS_TZ,
    STD_FRAC0,
    STD_FRAC9,
};

typedef struct chunk {
    size_t prefix; /* bytes of literal text before the element */
    int std;       /* STD_NONE at the end */
    size_t len;    /* bytes of the element */
    int digits;    /* fractional digits */
    char sep;      /* '.' or ',' */
} chunk;

static bool starts_lower(const char *p, size_t n)
{
    return n > 0 && p[0] >= 'a' && p[0] <= 'z';
}

static bool at(const char *l, size_t n, size_t i, const char *w)
{
    size_t k = strlen(w);
    return n - i >= k && memcmp(l + i, w, k) == 0;
}

/* nextStdChunk */
static chunk next_chunk(const char *l, size_t n)
{
    static const int std0x[] = { STD_ZERO_MONTH, STD_ZERO_DAY, STD_ZERO_HOUR12,
                                 STD_ZERO_MINUTE, STD_ZERO_SECOND, STD_YEAR };
    for (size_t i = 0; i < n; i++) {
        chunk c = { i, STD_NONE, 0, 0, '.' };
        switch (l[i]) {
        case 'J':
            if (at(l, n, i, "Jan")) {
                if (at(l, n, i, "January"))
                    return (chunk){ i, STD_LONG_MONTH, 7, 0, '.' };
                if (!starts_lower(l + i + 3, n - i - 3))
                    return (chunk){ i, STD_MONTH, 3, 0, '.' };
            }
            break;
        case 'M':
            if (n - i >= 3) {
                if (at(l, n, i, "Mon")) {
                    if (at(l, n, i, "Monday"))
                        return (chunk){ i, STD_LONG_WEEKDAY, 6, 0, '.' };
                    if (!starts_lower(l + i + 3, n - i - 3))
                        return (chunk){ i, STD_WEEKDAY, 3, 0, '.' };
                }
                if (at(l, n, i, "MST"))
                    return (chunk){ i, STD_TZ, 3, 0, '.' };
            }
            break;
        case '0':
            if (n - i >= 2 && l[i + 1] >= '1' && l[i + 1] <= '6')
                return (chunk){ i, std0x[l[i + 1] - '1'], 2, 0, '.' };
            if (at(l, n, i, "002"))
                return (chunk){ i, STD_ZERO_YEARDAY, 3, 0, '.' };
            break;
        case '1':
            if (n - i >= 2 && l[i + 1] == '5')
                return (chunk){ i, STD_HOUR, 2, 0, '.' };
            return (chunk){ i, STD_NUM_MONTH, 1, 0, '.' };
        case '2':
            if (at(l, n, i, "2006"))
                return (chunk){ i, STD_LONG_YEAR, 4, 0, '.' };
            return (chunk){ i, STD_DAY, 1, 0, '.' };
        case '_':
            if (n - i >= 2 && l[i + 1] == '2') {
                if (at(l, n, i + 1, "2006"))
                    return (chunk){ i + 1, STD_LONG_YEAR, 4, 0, '.' };
                return (chunk){ i, STD_UNDER_DAY, 2, 0, '.' };
            }
            if (at(l, n, i, "__2"))
                return (chunk){ i, STD_UNDER_YEARDAY, 3, 0, '.' };
            break;
        case '3':
            return (chunk){ i, STD_HOUR12, 1, 0, '.' };
        case '4':
            return (chunk){ i, STD_MINUTE, 1, 0, '.' };
        case '5':
            return (chunk){ i, STD_SECOND, 1, 0, '.' };
        case 'P':
            if (n - i >= 2 && l[i + 1] == 'M')
                return (chunk){ i, STD_PM, 2, 0, '.' };
            break;
        case 'p':
            if (n - i >= 2 && l[i + 1] == 'm')
                return (chunk){ i, STD_pm, 2, 0, '.' };
            break;
        case '-':
            if (at(l, n, i, "-070000"))
                return (chunk){ i, STD_NUM_SECONDS_TZ, 7, 0, '.' };
            if (at(l, n, i, "-07:00:00"))
                return (chunk){ i, STD_NUM_COLON_SECONDS_TZ, 9, 0, '.' };
            if (at(l, n, i, "-0700"))
                return (chunk){ i, STD_NUM_TZ, 5, 0, '.' };
            if (at(l, n, i, "-07:00"))
                return (chunk){ i, STD_NUM_COLON_TZ, 6, 0, '.' };
            if (at(l, n, i, "-07"))
                return (chunk){ i, STD_NUM_SHORT_TZ, 3, 0, '.' };
            break;
        case 'Z':
            if (at(l, n, i, "Z070000"))
                return (chunk){ i, STD_ISO8601_SECONDS_TZ, 7, 0, '.' };
            if (at(l, n, i, "Z07:00:00"))
                return (chunk){ i, STD_ISO8601_COLON_SECONDS_TZ, 9, 0, '.' };
            if (at(l, n, i, "Z0700"))
                return (chunk){ i, STD_ISO8601_TZ, 5, 0, '.' };
            if (at(l, n, i, "Z07:00"))
                return (chunk){ i, STD_ISO8601_COLON_TZ, 6, 0, '.' };
            if (at(l, n, i, "Z07"))
                return (chunk){ i, STD_ISO8601_SHORT_TZ, 3, 0, '.' };
            break;
        case '.':
        case ',':
            if (i + 1 < n && (l[i + 1] == '0' || l[i + 1] == '9')) {
                char ch = l[i + 1];
                size_t j = i + 1;
                while (j < n && l[j] == ch)
                    j++;
                if (!(j < n && l[j] >= '0' && l[j] <= '9')) {
                    c.std = ch == '9' ? STD_FRAC9 : STD_FRAC0;
                    c.len = j - i;
                    c.digits = (int)(j - (i + 1));
                    c.sep = l[i];
                    return c;
                }
            }
            break;
        default:
            break;
        }
    }
    return (chunk){ n, STD_NONE, 0, 0, '.' };
}

static void append_int(lk_buf *b, int64_t x, int width)
{
    uint64_t u = (uint64_t)x;
    if (x < 0) {
        lk_buf_putc(b, '-');
        u = 0 - u;
    }
    char tmp[24];
    int n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    for (int i = n; i < width; i++)
        lk_buf_putc(b, '0');
    lk_buf_append(b, tmp + sizeof tmp - n, (size_t)n);
}

static bool is_iso(int std)
{
    return std == STD_ISO8601_TZ || std == STD_ISO8601_COLON_TZ || std == STD_ISO8601_SECONDS_TZ ||
           std == STD_ISO8601_SHORT_TZ || std == STD_ISO8601_COLON_SECONDS_TZ;
}

void tt_format(lk_buf *b, const tv_time *t, lk_str layout)
{
    civil c = to_civil(t);
    const char *l = layout.p;
    size_t n = layout.len;
    while (n > 0) {
        chunk k = next_chunk(l, n);
        lk_buf_append(b, l, k.prefix);
        if (k.std == STD_NONE)
            break;
        l += k.prefix + k.len;
        n -= k.prefix + k.len;
        switch (k.std) {
        case STD_YEAR: {
            int64_t y = c.year < 0 ? -c.year : c.year;
            append_int(b, y % 100, 2);
            break;
        }
        case STD_LONG_YEAR: append_int(b, c.year, 4); break;
        case STD_MONTH: lk_buf_append(b, long_months[c.month - 1], 3); break;
        case STD_LONG_MONTH: lk_buf_puts(b, long_months[c.month - 1]); break;
        case STD_NUM_MONTH: append_int(b, c.month, 0); break;
        case STD_ZERO_MONTH: append_int(b, c.month, 2); break;
        case STD_WEEKDAY: lk_buf_append(b, long_days[c.wday], 3); break;
        case STD_LONG_WEEKDAY: lk_buf_puts(b, long_days[c.wday]); break;
        case STD_DAY: append_int(b, c.day, 0); break;
        case STD_UNDER_DAY:
            if (c.day < 10)
                lk_buf_putc(b, ' ');
            append_int(b, c.day, 0);
            break;
        case STD_ZERO_DAY: append_int(b, c.day, 2); break;
        case STD_UNDER_YEARDAY:
            if (c.yday < 100) {
                lk_buf_putc(b, ' ');
                if (c.yday < 10)
                    lk_buf_putc(b, ' ');
            }
            append_int(b, c.yday, 0);
            break;
        case STD_ZERO_YEARDAY: append_int(b, c.yday, 3); break;
        case STD_HOUR: append_int(b, c.hour, 2); break;
        case STD_HOUR12:
        case STD_ZERO_HOUR12: {
            int hr = c.hour % 12;
            if (hr == 0)
                hr = 12;
            append_int(b, hr, k.std == STD_HOUR12 ? 0 : 2);
            break;
        }
        case STD_MINUTE: append_int(b, c.min, 0); break;
        case STD_ZERO_MINUTE: append_int(b, c.min, 2); break;
        case STD_SECOND: append_int(b, c.sec, 0); break;
        case STD_ZERO_SECOND: append_int(b, c.sec, 2); break;
        case STD_PM: lk_buf_puts(b, c.hour >= 12 ? "PM" : "AM"); break;
        case STD_pm: lk_buf_puts(b, c.hour >= 12 ? "pm" : "am"); break;
        case STD_TZ:
            if (t->zone.len) {
                lk_buf_put_str(b, t->zone);
                break;
            }
            {
                int zone = t->off / 60;
                if (zone < 0) {
                    lk_buf_putc(b, '-');
                    zone = -zone;
                } else {
                    lk_buf_putc(b, '+');
                }
                append_int(b, zone / 60, 2);
                append_int(b, zone % 60, 2);
            }
            break;
        case STD_FRAC0:
        case STD_FRAC9: {
            bool trim = k.std == STD_FRAC9;
            if (trim && (k.digits == 0 || t->nsec == 0))
                break;
            char tmp[9];
            int32_t ns = t->nsec;
            for (int i = 8; i >= 0; i--) {
                tmp[i] = (char)('0' + ns % 10);
                ns /= 10;
            }
            int nd = k.digits < 9 ? k.digits : 9;
            size_t start = b->len;
            lk_buf_putc(b, k.sep);
            lk_buf_append(b, tmp, (size_t)nd);
            for (int i = 9; i < k.digits; i++)
                lk_buf_putc(b, '0');
            if (trim) {
                while (b->len > start && b->p[b->len - 1] == '0')
                    b->len--;
                if (b->len > start && b->p[b->len - 1] == k.sep)
                    b->len--;
                b->p[b->len] = 0;
            }
            break;
        }
        default: { /* numeric zones */
            if (t->off == 0 && is_iso(k.std)) {
                lk_buf_putc(b, 'Z');
                break;
            }
            int zone = t->off / 60, absoff = t->off;
            if (zone < 0) {
                lk_buf_putc(b, '-');
                zone = -zone;
                absoff = -absoff;
            } else {
                lk_buf_putc(b, '+');
            }
            append_int(b, zone / 60, 2);
            if (k.std == STD_ISO8601_COLON_TZ || k.std == STD_NUM_COLON_TZ ||
                k.std == STD_ISO8601_COLON_SECONDS_TZ || k.std == STD_NUM_COLON_SECONDS_TZ)
                lk_buf_putc(b, ':');
            if (k.std != STD_NUM_SHORT_TZ && k.std != STD_ISO8601_SHORT_TZ)
                append_int(b, zone % 60, 2);
            if (k.std == STD_ISO8601_SECONDS_TZ || k.std == STD_NUM_SECONDS_TZ ||
                k.std == STD_NUM_COLON_SECONDS_TZ || k.std == STD_ISO8601_COLON_SECONDS_TZ) {
                if (k.std == STD_NUM_COLON_SECONDS_TZ || k.std == STD_ISO8601_COLON_SECONDS_TZ)
                    lk_buf_putc(b, ':');
                append_int(b, absoff % 60, 2);
            }
            break;
        }
        }
    }
}

void tt_string(lk_buf *b, const tv_time *t)
{
    tt_format(b, t, LK_STR("2006-01-02 15:04:05.999999999 -0700 MST"));
    if (t->mono) {
        uint64_t m2 = (uint64_t)t->mono_ns;
        char sign = '+';
        if (t->mono_ns < 0) {
            sign = '-';
            m2 = 0 - m2;
        }
        uint64_t m1 = m2 / 1000000000, m0;
        m2 %= 1000000000;
        m0 = m1 / 1000000000;
        m1 %= 1000000000;
        lk_buf_puts(b, " m=");
        lk_buf_putc(b, sign);
        int wid = 0;
        if (m0 != 0) {
            append_int(b, (int64_t)m0, 0);
            wid = 9;
        }
        append_int(b, (int64_t)m1, wid);
        lk_buf_putc(b, '.');
        append_int(b, (int64_t)m2, 9);
    }
}

void tt_gostring(lk_buf *b, const tv_time *t)
{
    civil c = to_civil(t);
    lk_buf_puts(b, "time.Date(");
    append_int(b, c.year, 0);
    lk_buf_printf(b, ", time.%s, %d, %d, %d, %d, %d, ", long_months[c.month - 1], c.day, c.hour,
                  c.min, c.sec, (int)t->nsec);
    if (t->loc == TL_UTC) {
        lk_buf_puts(b, "time.UTC");
    } else if (t->loc == TL_LOCAL) {
        lk_buf_puts(b, "time.Local");
    } else {
        lk_buf_puts(b, "time.Location(");
        tf_quote(b, t->locname, false);
        lk_buf_putc(b, ')');
    }
    lk_buf_putc(b, ')');
}

/* ---- parsing ----------------------------------------------------------------------- */

/* A location for parsing: UTC, Local (served as UTC) or an IANA zone. */
typedef struct ploc {
    uint8_t kind; /* TL_UTC, TL_LOCAL, TL_FIXED (IANA) */
    const tz_zone *z;
} ploc;

static void loc_lookup(const ploc *l, int64_t utime, int32_t *off, lk_str *name, int64_t *start,
                       int64_t *end)
{
    if (l->kind == TL_FIXED) {
        tz_lookup(l->z, utime, off, name, start, end);
        return;
    }
    *off = 0;
    *name = LK_STR("UTC");
    *start = INT64_MIN;
    *end = INT64_MAX;
}

static bool loc_lookup_name(const ploc *l, lk_str name, int64_t utime, int32_t *off)
{
    if (l->kind == TL_FIXED)
        return tz_lookup_name(l->z, name, utime, off);
    if (lk_str_eq_c(name, "UTC")) {
        *off = 0;
        return true;
    }
    return false;
}

/* sets t's location to l (setLoc) */
static void set_loc(tv_time *t, const ploc *l)
{
    t->mono = false;
    if (l->kind == TL_UTC) {
        t->loc = TL_UTC;
        t->off = 0;
        t->zone = LK_STR("UTC");
        return;
    }
    if (l->kind == TL_LOCAL) {
        set_local(t);
        return;
    }
    int64_t s, e;
    int32_t off;
    lk_str name;
    tz_lookup(l->z, t->sec, &off, &name, &s, &e);
    t->loc = TL_FIXED;
    t->off = off;
    t->zone = name;
    t->locname = tz_name(l->z);
}

/* time.Date for a valid civil time in location l */
static tv_time make_date(int64_t year, int month, int day, int hour, int min, int sec, int nsec,
                         const ploc *l)
{
    int64_t utime = lk_days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
    int32_t off;
    lk_str name;
    int64_t start, end;
    loc_lookup(l, utime, &off, &name, &start, &end);
    if (off != 0) {
        int64_t utc = utime - off;
        if (utc < start || utc >= end)
            loc_lookup(l, utc, &off, &name, &start, &end);
        utime -= off;
    }
    tv_time t = { 0 };
    t.sec = utime;
    t.nsec = nsec;
    set_loc(&t, l);
    return t;
}

static bool is_digit(lk_str s, size_t i)
{
    return i < s.len && s.p[i] >= '0' && s.p[i] <= '9';
}

static lk_str adv(lk_str s, size_t n)
{
    return lk_str_n(s.p + n, s.len - n);
}

static bool getnum(lk_str *s, bool fixed, int *out)
{
    if (!is_digit(*s, 0))
        return false;
    if (!is_digit(*s, 1)) {
        if (fixed)
            return false;
        *out = s->p[0] - '0';
        *s = adv(*s, 1);
        return true;
    }
    *out = (s->p[0] - '0') * 10 + (s->p[1] - '0');
    *s = adv(*s, 2);
    return true;
}

static bool getnum3(lk_str *s, bool fixed, int *out)
{
    int n = 0;
    size_t i;
    for (i = 0; i < 3 && is_digit(*s, i); i++)
        n = n * 10 + (s->p[i] - '0');
    if (i == 0 || (fixed && i != 3))
        return false;
    *out = n;
    *s = adv(*s, i);
    return true;
}

/* leadingInt: false on overflow */
static bool leading_int(lk_str s, uint64_t *x, size_t *used)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
        if (v > ((uint64_t)1 << 63) / 10)
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
        if (v > (uint64_t)1 << 63)
            return false;
    }
    *x = v;
    *used = i;
    return true;
}

/* time's atoi: optional sign, digits, nothing else */
static bool tatoi(lk_str s, int64_t *out)
{
    bool neg = false;
    if (s.len && (s.p[0] == '-' || s.p[0] == '+')) {
        neg = s.p[0] == '-';
        s = adv(s, 1);
    }
    uint64_t q;
    size_t used;
    if (!leading_int(s, &q, &used) || used != s.len)
        return false;
    *out = neg ? (int64_t)(0 - q) : (int64_t)q;
    return true;
}

static bool lookup_name(const char *const *tab, int ntab, size_t len, lk_str *val, int *idx)
{
    for (int i = 0; i < ntab; i++) {
        size_t l = len ? len : strlen(tab[i]);
        if (val->len < l)
            continue;
        bool ok = true;
        for (size_t k = 0; k < l; k++) {
            char c1 = val->p[k], c2 = tab[i][k];
            if (c1 != c2) {
                c1 |= 0x20;
                c2 |= 0x20;
                if (c1 != c2 || c1 < 'a' || c1 > 'z') {
                    ok = false;
                    break;
                }
            }
        }
        if (ok) {
            *idx = i;
            *val = adv(*val, l);
            return true;
        }
    }
    return false;
}

static size_t parse_signed_offset(lk_str v)
{
    if (!v.len || (v.p[0] != '-' && v.p[0] != '+'))
        return 0;
    uint64_t x;
    size_t used;
    if (!leading_int(adv(v, 1), &x, &used) || used == 0)
        return 0;
    if (x > 23)
        return 0;
    return 1 + used;
}

static bool parse_time_zone(lk_str v, size_t *len)
{
    if (v.len < 3)
        return false;
    if (v.len >= 4 && (memcmp(v.p, "ChST", 4) == 0 || memcmp(v.p, "MeST", 4) == 0)) {
        *len = 4;
        return true;
    }
    if (memcmp(v.p, "GMT", 3) == 0) {
        *len = v.len == 3 ? 3 : 3 + parse_signed_offset(adv(v, 3));
        return true;
    }
    if (v.p[0] == '+' || v.p[0] == '-') {
        *len = parse_signed_offset(v);
        return *len > 0;
    }
    size_t nu;
    for (nu = 0; nu < 6 && nu < v.len; nu++)
        if (v.p[nu] < 'A' || v.p[nu] > 'Z')
            break;
    switch (nu) {
    case 5:
        if (v.p[4] == 'T') {
            *len = 5;
            return true;
        }
        return false;
    case 4:
        if (v.p[3] == 'T' || memcmp(v.p, "WITA", 4) == 0) {
            *len = 4;
            return true;
        }
        return false;
    case 3:
        *len = 3;
        return true;
    default:
        return false;
    }
}

static bool parse_nanos(lk_str v, size_t nbytes, int *ns)
{
    if (v.p[0] != '.' && v.p[0] != ',')
        return false;
    if (nbytes > 10)
        nbytes = 10;
    int64_t x;
    if (!tatoi(lk_str_n(v.p + 1, nbytes - 1), &x))
        return false;
    if (x < 0)
        return false;
    for (size_t i = 0; i < 10 - nbytes; i++)
        x *= 10;
    *ns = (int)x;
    return true;
}

static bool skip_prefix(lk_str *value, const char *p, size_t n)
{
    lk_str v = *value;
    size_t i = 0;
    while (i < n) {
        if (p[i] == ' ') {
            if (v.len && v.p[0] != ' ')
                return false;
            while (i < n && p[i] == ' ')
                i++;
            while (v.len && v.p[0] == ' ')
                v = adv(v, 1);
            continue;
        }
        if (!v.len || v.p[0] != p[i])
            return false;
        i++;
        v = adv(v, 1);
    }
    *value = v;
    return true;
}

static const char *const short_months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const short_days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

/* state of one time.parse: the elements seen so far */
typedef struct {
    bool am, pm, z_utc;
    int64_t year;
    int month, day, yday, hour, min, sec, nsec;
    int zone_offset; /* -1: none */
    lk_str zone_name;
} pstate;

/* numeric zone elements (-0700, -07:00, Z07, ...) */
static bool parse_num_zone(int std, lk_str *value, pstate *s)
{
    lk_str v = *value;
    if (is_iso(std) && v.len >= 1 && v.p[0] == 'Z') {
        *value = adv(v, 1);
        s->z_utc = true;
        return true;
    }
    lk_str hh, mm, ss = LK_STR("00");
    size_t used;
    if (std == STD_ISO8601_COLON_TZ || std == STD_NUM_COLON_TZ) {
        if (v.len < 6 || v.p[3] != ':')
            return false;
        hh = lk_str_n(v.p + 1, 2);
        mm = lk_str_n(v.p + 4, 2);
        used = 6;
    } else if (std == STD_NUM_SHORT_TZ || std == STD_ISO8601_SHORT_TZ) {
        if (v.len < 3)
            return false;
        hh = lk_str_n(v.p + 1, 2);
        mm = LK_STR("00");
        used = 3;
    } else if (std == STD_ISO8601_COLON_SECONDS_TZ || std == STD_NUM_COLON_SECONDS_TZ) {
        if (v.len < 9 || v.p[3] != ':' || v.p[6] != ':')
            return false;
        hh = lk_str_n(v.p + 1, 2);
        mm = lk_str_n(v.p + 4, 2);
        ss = lk_str_n(v.p + 7, 2);
        used = 9;
    } else if (std == STD_ISO8601_SECONDS_TZ || std == STD_NUM_SECONDS_TZ) {
        if (v.len < 7)
            return false;
        hh = lk_str_n(v.p + 1, 2);
        mm = lk_str_n(v.p + 3, 2);
        ss = lk_str_n(v.p + 5, 2);
        used = 7;
    } else {
        if (v.len < 5)
            return false;
        hh = lk_str_n(v.p + 1, 2);
        mm = lk_str_n(v.p + 3, 2);
        used = 5;
    }
    char sign = v.p[0];
    *value = adv(v, used);
    int hr, mi, se;
    if (!getnum(&hh, true, &hr) || !getnum(&mm, true, &mi) || !getnum(&ss, true, &se))
        return false;
    if (hr > 24 || mi > 60 || se > 60)
        return false;
    s->zone_offset = (hr * 60 + mi) * 60 + se;
    if (sign == '-')
        s->zone_offset = -s->zone_offset;
    else if (sign != '+')
        return false;
    return true;
}

/* 05 / 5, with a fractional second taken here when the layout has none next */
static bool parse_second(lk_str *value, pstate *s, bool zero, const char *nl, size_t nln)
{
    if (!getnum(value, zero, &s->sec))
        return false;
    if (s->sec < 0 || s->sec >= 60)
        return false;
    lk_str v = *value;
    if (v.len < 2 || (v.p[0] != '.' && v.p[0] != ',') || !is_digit(v, 1))
        return true;
    chunk nk = next_chunk(nl, nln);
    if (nk.std == STD_FRAC0 || nk.std == STD_FRAC9)
        return true;
    size_t nd = 2;
    while (nd < v.len && is_digit(v, nd))
        nd++;
    *value = adv(v, nd);
    return parse_nanos(v, nd, &s->nsec);
}

static bool parse_two_digit_year(lk_str *value, pstate *s)
{
    if (value->len < 2)
        return false;
    int64_t y;
    bool ok = tatoi(lk_str_n(value->p, 2), &y);
    *value = adv(*value, 2);
    if (ok)
        s->year = y >= 69 ? y + 1900 : y + 2000;
    return ok;
}

static bool parse_ampm(lk_str *value, pstate *s, bool upper)
{
    if (value->len < 2)
        return false;
    bool ok = true;
    if (memcmp(value->p, upper ? "PM" : "pm", 2) == 0)
        s->pm = true;
    else if (memcmp(value->p, upper ? "AM" : "am", 2) == 0)
        s->am = true;
    else
        ok = false;
    *value = adv(*value, 2);
    return ok;
}

static bool parse_zone_abbrev(lk_str *value, pstate *s)
{
    if (value->len >= 3 && memcmp(value->p, "UTC", 3) == 0) {
        s->z_utc = true;
        *value = adv(*value, 3);
        return true;
    }
    size_t zl;
    if (!parse_time_zone(*value, &zl))
        return false;
    s->zone_name = lk_str_n(value->p, zl);
    *value = adv(*value, zl);
    return true;
}

static bool parse_frac(lk_str *value, pstate *s, const chunk *k)
{
    lk_str v = *value;
    if (k->std == STD_FRAC0) {
        size_t nd = 1 + (size_t)k->digits;
        if (v.len < nd)
            return false;
        *value = adv(v, nd);
        return parse_nanos(v, nd, &s->nsec);
    }
    if (v.len < 2 || (v.p[0] != '.' && v.p[0] != ',') || !is_digit(v, 1))
        return true;
    size_t i = 0;
    while (i + 1 < v.len && is_digit(v, i + 1))
        i++;
    *value = adv(v, 1 + i);
    return parse_nanos(v, 1 + i, &s->nsec);
}

static bool getnum_range(lk_str *value, bool zero, int *dst, int lo, int hi)
{
    bool ok = getnum(value, zero, dst);
    return ok && *dst >= lo && *dst <= hi;
}

/* one layout element against the value; nl/nln is the layout after it */
static bool parse_elem(const chunk *k, lk_str *value, pstate *s, const char *nl, size_t nln)
{
    int idx = 0;
    switch (k->std) {
    case STD_YEAR:
        return parse_two_digit_year(value, s);
    case STD_LONG_YEAR: {
        if (value->len < 4 || !is_digit(*value, 0))
            return false;
        bool ok = tatoi(lk_str_n(value->p, 4), &s->year);
        *value = adv(*value, 4);
        return ok;
    }
    case STD_MONTH:
    case STD_LONG_MONTH: {
        bool ok = lookup_name(k->std == STD_MONTH ? short_months : long_months, 12, 0, value, &idx);
        s->month = idx + 1;
        return ok;
    }
    case STD_NUM_MONTH:
    case STD_ZERO_MONTH:
        return getnum_range(value, k->std == STD_ZERO_MONTH, &s->month, 1, 12);
    case STD_WEEKDAY:
    case STD_LONG_WEEKDAY:
        return lookup_name(k->std == STD_WEEKDAY ? short_days : long_days, 7, 0, value, &idx);
    case STD_DAY:
    case STD_UNDER_DAY:
    case STD_ZERO_DAY:
        if (k->std == STD_UNDER_DAY && value->len && value->p[0] == ' ')
            *value = adv(*value, 1);
        return getnum(value, k->std == STD_ZERO_DAY, &s->day);
    case STD_UNDER_YEARDAY:
    case STD_ZERO_YEARDAY:
        for (int i = 0; i < 2; i++)
            if (k->std == STD_UNDER_YEARDAY && value->len && value->p[0] == ' ')
                *value = adv(*value, 1);
        return getnum3(value, k->std == STD_ZERO_YEARDAY, &s->yday);
    case STD_HOUR:
        return getnum_range(value, false, &s->hour, 0, 23);
    case STD_HOUR12:
    case STD_ZERO_HOUR12:
        return getnum_range(value, k->std == STD_ZERO_HOUR12, &s->hour, 0, 12);
    case STD_MINUTE:
    case STD_ZERO_MINUTE:
        return getnum_range(value, k->std == STD_ZERO_MINUTE, &s->min, 0, 59);
    case STD_SECOND:
    case STD_ZERO_SECOND:
        return parse_second(value, s, k->std == STD_ZERO_SECOND, nl, nln);
    case STD_PM:
    case STD_pm:
        return parse_ampm(value, s, k->std == STD_PM);
    case STD_TZ:
        return parse_zone_abbrev(value, s);
    case STD_FRAC0:
    case STD_FRAC9:
        return parse_frac(value, s, k);
    default:
        return parse_num_zone(k->std, value, s);
    }
}

/* yday -> month/day (checking any explicit month/day), defaults, validity */
static bool resolve_date(pstate *s)
{
    if (s->pm && s->hour < 12)
        s->hour += 12;
    else if (s->am && s->hour == 12)
        s->hour = 0;
    if (s->yday < 0) {
        if (s->month < 0)
            s->month = 1;
        if (s->day < 0)
            s->day = 1;
        return s->day >= 1 && s->day <= lk_days_in_month(s->year, s->month);
    }
    int d = 0, m = 0, yday = s->yday;
    if (lk_is_leap_year(s->year)) {
        if (yday == 31 + 29) {
            m = 2;
            d = 29;
        } else if (yday > 31 + 29) {
            yday--;
        }
    }
    if (yday < 1 || yday > 365)
        return false;
    if (m == 0) {
        static const int before[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365 };
        m = (yday - 1) / 31 + 1;
        if (before[m] < yday)
            m++;
        d = yday - before[m - 1];
    }
    if ((s->month >= 0 && s->month != m) || (s->day >= 0 && s->day != d))
        return false;
    s->month = m;
    s->day = d;
    return s->day >= 1 && s->day <= lk_days_in_month(s->year, s->month);
}

static tv_time fixed_zone_time(tv_time t, int offset, lk_str name)
{
    t.loc = TL_FIXED;
    t.off = offset;
    t.zone = name;
    t.locname = name;
    return t;
}

/* the instant, placed in loc when the parsed zone agrees with it */
static tv_time build_time(const pstate *s, const ploc *loc)
{
    ploc utc = { TL_UTC, NULL };
    tv_time t = make_date(s->year, s->month, s->day, s->hour, s->min, s->sec, s->nsec, &utc);
    if (s->z_utc)
        return t;
    if (s->zone_offset != -1) {
        t.sec -= s->zone_offset;
        int32_t off;
        lk_str name;
        int64_t st, en;
        loc_lookup(loc, t.sec, &off, &name, &st, &en);
        if (off == s->zone_offset && (s->zone_name.len == 0 || lk_str_eq(name, s->zone_name))) {
            set_loc(&t, loc);
            return t;
        }
        return fixed_zone_time(t, s->zone_offset, s->zone_name);
    }
    if (s->zone_name.len) {
        int32_t off;
        if (loc_lookup_name(loc, s->zone_name, t.sec, &off)) {
            t.sec -= off;
            set_loc(&t, loc);
            return t;
        }
        int offset = 0;
        if (s->zone_name.len > 3 && memcmp(s->zone_name.p, "GMT", 3) == 0) {
            int64_t g = 0;
            tatoi(adv(s->zone_name, 3), &g);
            offset = (int)g * 3600;
        }
        return fixed_zone_time(t, offset, s->zone_name);
    }
    return make_date(s->year, s->month, s->day, s->hour, s->min, s->sec, s->nsec, loc);
}

/* time.parse; false on any error (callers ignore Go's message) */
static bool go_parse(lk_str layout, lk_str value, const ploc *loc, tv_time *out)
{
    pstate s = { .month = -1, .day = -1, .yday = -1, .zone_offset = -1 };
    const char *l = layout.p;
    size_t ln = layout.len;
    for (;;) {
        chunk k = next_chunk(l, ln);
        if (!skip_prefix(&value, l, k.prefix))
            return false;
        if (k.std == STD_NONE) {
            if (value.len != 0)
                return false;
            break;
        }
        size_t rest_off = k.prefix + k.len;
        if (!parse_elem(&k, &value, &s, l + rest_off, ln - rest_off))
            return false;
        l += rest_off;
        ln -= rest_off;
    }
    if (!resolve_date(&s))
        return false;
    *out = build_time(&s, loc);
    return true;
}

static bool valid_location_name(lk_str n)
{
    if (n.len == 0 || n.p[0] == '/' || n.p[0] == '\\')
        return false;
    for (size_t i = 0; i + 1 < n.len; i++)
        if (n.p[i] == '.' && n.p[i + 1] == '.')
            return false;
    return true;
}

tv tt_parse_in_zone(tx *x, lk_str layout, lk_str value, lk_str zone)
{
    ploc loc = { TL_UTC, NULL };
    if (lk_str_eq_c(zone, "Local")) {
        loc.kind = TL_LOCAL;
    } else if (zone.len && !lk_str_eq_c(zone, "UTC") && valid_location_name(zone)) {
        const tz_zone *z = tz_load(zone);
        if (z) {
            loc.kind = TL_FIXED;
            loc.z = z;
        }
    }
    tv_time *t = tt_new(x);
    if (!go_parse(layout, value, &loc, t))
        *t = zero_time();
    /* zone names may point into the value: keep them in execution memory */
    t->zone = tx_strdup(x, t->zone.p, t->zone.len);
    t->locname = tx_strdup(x, t->locname.p, t->locname.len);
    return tt_value(t);
}

/* ---- methods ------------------------------------------------------------------------ */

#define TIME_RECV(x) ((x)->recv.u.t)

static TFI(m_unix)
{
    (void)a; (void)n; (void)cmd;
    *res = tv_int(TV_INT64, TIME_RECV(x)->sec);
}

static TFI(m_unix_milli)
{
    (void)a; (void)n; (void)cmd;
    const tv_time *t = TIME_RECV(x);
    *res = tv_int(TV_INT64, (int64_t)((uint64_t)t->sec * 1000u + (uint64_t)(t->nsec / 1000000)));
}

static TFI(m_unix_micro)
{
    (void)a; (void)n; (void)cmd;
    const tv_time *t = TIME_RECV(x);
    *res = tv_int(TV_INT64, (int64_t)((uint64_t)t->sec * 1000000u + (uint64_t)(t->nsec / 1000)));
}

static TFI(m_unix_nano)
{
    (void)a; (void)n; (void)cmd;
    const tv_time *t = TIME_RECV(x);
    *res = tv_int(TV_INT64, (int64_t)((uint64_t)t->sec * 1000000000u + (uint64_t)t->nsec));
}

static TFI(m_year)
{
    (void)a; (void)n; (void)cmd;
    *res = tv_int(TV_INT, to_civil(TIME_RECV(x)).year);
}

static TFI(m_month)
{
    (void)a; (void)n; (void)cmd;
    *res = tv_int(TV_MONTH, to_civil(TIME_RECV(x)).month);
}

static TFI(m_day)
{
    (void)a; (void)n; (void)cmd;
    *res = tv_int(TV_INT, to_civil(TIME_RECV(x)).day);
}

static TFI(m_hour)
{
    (void)a; (void)n; (void)cmd;
    *res = tv_int(TV_INT, to_civil(TIME_RECV(x)).hour);
}

static TFI(m_minute)
{
    (void)a; (void)n; (void)cmd;
    *res = tv_int(TV_INT, to_civil(TIME_RECV(x)).min);
}

static TFI(m_second)
{
    (void)a; (void)n; (void)cmd;
    *res = tv_int(TV_INT, to_civil(TIME_RECV(x)).sec);
}

static TFI(m_nanosecond)
{
    (void)a; (void)n; (void)cmd;
    *res = tv_int(TV_INT, TIME_RECV(x)->nsec);
}

static TFI(m_yearday)
{
    (void)a; (void)n; (void)cmd;
    *res = tv_int(TV_INT, to_civil(TIME_RECV(x)).yday);
}

static TFI(m_weekday)
{
    (void)a; (void)n; (void)cmd;
    *res = tv_int(TV_WEEKDAY, to_civil(TIME_RECV(x)).wday);
}

static TFI(m_format)
{
    (void)n; (void)cmd;
    size_t m = tx_sb_begin(x);
    tt_format(x->out, TIME_RECV(x), a[0].u.s);
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(m_string)
{
    (void)a; (void)n; (void)cmd;
    size_t m = tx_sb_begin(x);
    tt_string(x->out, TIME_RECV(x));
    *res = tv_str(tx_sb_end(x, m));
}

static TFI(m_utc)
{
    (void)a; (void)n; (void)cmd;
    tv_time *t = tt_new(x);
    *t = *TIME_RECV(x);
    t->loc = TL_UTC;
    t->off = 0;
    t->zone = LK_STR("UTC");
    t->mono = false;
    *res = tt_value(t);
}

static TFI(m_local)
{
    (void)a; (void)n; (void)cmd;
    tv_time *t = tt_new(x);
    *t = tt_in_local(TIME_RECV(x));
    *res = tt_value(t);
}

static TFI(m_is_zero)
{
    (void)a; (void)n; (void)cmd;
    const tv_time *t = TIME_RECV(x);
    *res = tv_bool(t->sec == ZERO_TIME_SEC && t->nsec == 0);
}

static int time_cmp(const tv_time *a, const tv_time *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->nsec != b->nsec)
        return a->nsec < b->nsec ? -1 : 1;
    return 0;
}

static TFI(m_equal)
{
    (void)n; (void)cmd;
    *res = tv_bool(time_cmp(TIME_RECV(x), a[0].u.t) == 0);
}

static TFI(m_before)
{
    (void)n; (void)cmd;
    *res = tv_bool(time_cmp(TIME_RECV(x), a[0].u.t) < 0);
}

static TFI(m_after)
{
    (void)n; (void)cmd;
    *res = tv_bool(time_cmp(TIME_RECV(x), a[0].u.t) > 0);
}

static TFI(m_enum_string)
{
    (void)a; (void)n; (void)cmd;
    tv v = x->recv;
    size_t m = tx_sb_begin(x);
    tf_print_value(x, x->out, &v);
    *res = tv_str(tx_sb_end(x, m));
}

static const tfunc time_methods[] = {
    { "After", 1, false, { TPARAM_TIME }, TF_PLAIN, false, m_after },
    { "Before", 1, false, { TPARAM_TIME }, TF_PLAIN, false, m_before },
    { "Day", 0, false, { 0 }, TF_PLAIN, false, m_day },
    { "Equal", 1, false, { TPARAM_TIME }, TF_PLAIN, false, m_equal },
    { "Format", 1, false, { TPARAM_STRING }, TF_PLAIN, false, m_format },
    { "Hour", 0, false, { 0 }, TF_PLAIN, false, m_hour },
    { "IsZero", 0, false, { 0 }, TF_PLAIN, false, m_is_zero },
    { "Local", 0, false, { 0 }, TF_PLAIN, false, m_local },
    { "Minute", 0, false, { 0 }, TF_PLAIN, false, m_minute },
    { "Month", 0, false, { 0 }, TF_PLAIN, false, m_month },
    { "Nanosecond", 0, false, { 0 }, TF_PLAIN, false, m_nanosecond },
    { "Second", 0, false, { 0 }, TF_PLAIN, false, m_second },
    { "String", 0, false, { 0 }, TF_PLAIN, false, m_string },
    { "UTC", 0, false, { 0 }, TF_PLAIN, false, m_utc },
    { "Unix", 0, false, { 0 }, TF_PLAIN, false, m_unix },
    { "UnixMicro", 0, false, { 0 }, TF_PLAIN, false, m_unix_micro },
    { "UnixMilli", 0, false, { 0 }, TF_PLAIN, false, m_unix_milli },
    { "UnixNano", 0, false, { 0 }, TF_PLAIN, false, m_unix_nano },
    { "Weekday", 0, false, { 0 }, TF_PLAIN, false, m_weekday },
    { "Year", 0, false, { 0 }, TF_PLAIN, false, m_year },
    { "YearDay", 0, false, { 0 }, TF_PLAIN, false, m_yearday },
};

static const tfunc enum_string = { "String", 0, false, { 0 }, TF_PLAIN, false, m_enum_string };

const tfunc *tt_method(uint8_t kind, lk_str name)
{
    if (kind == TV_MONTH || kind == TV_WEEKDAY)
        return lk_str_eq_c(name, "String") ? &enum_string : NULL;
    if (kind != TV_TIME)
        return NULL;
    for (size_t i = 0; i < sizeof time_methods / sizeof time_methods[0]; i++)
        if (lk_str_eq_c(name, time_methods[i].name))
            return &time_methods[i];
    return NULL;
}
