/* IANA time zones for toDateInZone, read the way Go's time.LoadLocation
 * does: TZif files (version 2+ 64-bit data when present) from $ZONEINFO or
 * the system zoneinfo directories, transitions looked up by binary search,
 * times after the last transition from the POSIX TZ footer (tzset with
 * Jn, n and Mm.w.d rules), and Go's choice of the first zone before the
 * first transition. Loaded zones are cached for the process behind a mutex
 * (only zones that exist, so the cache is bounded by the zoneinfo
 * directory); they are immutable once published, so lookups need no lock.
 *
 * TZif layout (RFC 8536), all integers big-endian:
 *   "TZif" version(1) reserved(15) isutcnt isstdcnt leapcnt timecnt typecnt charcnt (u32 each)
 *   v1 data: timecnt x s32 times, timecnt x u8 type index, typecnt x {s32 utoff, u8 isdst,
 *            u8 abbr index}, charcnt abbreviation bytes, leapcnt x 8, isstdcnt, isutcnt
 *   v2+: a second header and the same data with s64 times and 12-byte leap
 *        records, then "\n" TZ-string "\n". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/template/template_int.h"

#define TZ_ALPHA INT64_MIN
#define TZ_OMEGA INT64_MAX
#define TZ_MAX_FILE (1 << 20)

typedef struct tz_type {
    int32_t off;
    bool dst;
    lk_str abbr;
} tz_type;

typedef struct tz_trans {
    int64_t when;
    uint8_t idx;
} tz_trans;

struct tz_zone {
    char *name;
    tz_type *types;
    size_t ntypes;
    tz_trans *tx;
    size_t ntx;
    char *abbrs;
    char *extend; /* POSIX TZ footer, may be empty */
};

/* ---- TZif --------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static void zone_free(tz_zone *z)
{
    if (!z)
        return;
    free(z->name);
    free(z->types);
    free(z->tx);
    free(z->abbrs);
    free(z->extend);
    free(z);
}

static tz_zone *parse_tzif(const unsigned char *p, size_t n, lk_str name)
{
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return NULL;
    int version = p[4] ? p[4] - '0' : 1;
    uint32_t cnt[6];
    for (int i = 0; i < 6; i++)
        cnt[i] = be32(p + 20 + 4 * i);
    size_t tsize = 4;
    const unsigned char *d = p + 44;
    size_t left = n - 44;
    /* skip v1 data for v2+ files */
    size_t v1 = (size_t)cnt[3] * 5 + (size_t)cnt[4] * 6 + cnt[5] + (size_t)cnt[2] * 8 + cnt[1] +
                cnt[0];
    if (version >= 2) {
        if (left < v1 + 44 || memcmp(d + v1, "TZif", 4) != 0)
            return NULL;
        for (int i = 0; i < 6; i++)
            cnt[i] = be32(d + v1 + 20 + 4 * i);
        d += v1 + 44;
        left -= v1 + 44;
        tsize = 8;
    }
    uint32_t isutcnt = cnt[0], isstdcnt = cnt[1], leapcnt = cnt[2], timecnt = cnt[3],
             typecnt = cnt[4], charcnt = cnt[5];
    size_t need = (size_t)timecnt * (tsize + 1) + (size_t)typecnt * 6 + charcnt +
                  (size_t)leapcnt * (tsize + 4) + isstdcnt + isutcnt;
    if (typecnt == 0 || left < need || typecnt > 256)
        return NULL;
    tz_zone *z = lk_calloc(1, sizeof *z);
    z->name = lk_strndup(name.p, name.len);
    z->abbrs = lk_malloc((size_t)charcnt + 1);
    const unsigned char *times = d, *idxs = d + (size_t)timecnt * tsize;
    const unsigned char *types = idxs + timecnt, *chars = types + (size_t)typecnt * 6;
    memcpy(z->abbrs, chars, charcnt);
    z->abbrs[charcnt] = 0;
    z->ntypes = typecnt;
    z->types = lk_calloc(typecnt, sizeof *z->types);
    for (uint32_t i = 0; i < typecnt; i++) {
        const unsigned char *t = types + (size_t)i * 6;
        z->types[i].off = (int32_t)be32(t);
        z->types[i].dst = t[4] != 0;
        uint8_t ai = t[5];
        if (ai >= charcnt) {
            zone_free(z);
            return NULL;
        }
        z->types[i].abbr = lk_str_c(z->abbrs + ai);
    }
    z->ntx = timecnt ? timecnt : 1;
    z->tx = lk_calloc(z->ntx, sizeof *z->tx);
    if (timecnt == 0) {
        z->tx[0].when = TZ_ALPHA;
        z->tx[0].idx = 0;
    }
    for (uint32_t i = 0; i < timecnt; i++) {
        z->tx[i].when = tsize == 8 ? be64(times + (size_t)i * 8) : (int32_t)be32(times + (size_t)i * 4);
        if (idxs[i] >= typecnt) {
            zone_free(z);
            return NULL;
        }
        z->tx[i].idx = idxs[i];
    }
    const unsigned char *foot = d + need;
    size_t fl = left - need;
    if (version >= 2 && fl >= 2 && foot[0] == '\n') {
        const unsigned char *e = memchr(foot + 1, '\n', fl - 1);
        if (e)
            z->extend = lk_strndup((const char *)foot + 1, (size_t)(e - foot - 1));
    }
    if (!z->extend)
        z->extend = lk_strdup("");
    return z;
}

static tz_zone *load_file(const char *dir, lk_str name)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s/%.*s", dir, LK_STR_FMT(name)) >= (int)sizeof path)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = lk_malloc(TZ_MAX_FILE);
    size_t n = fread(buf, 1, TZ_MAX_FILE, f);
    fclose(f);
    tz_zone *z = parse_tzif(buf, n, name);
    free(buf);
    return z;
}

/* ---- cache ------------------------------------------------------------------------ */

/* Only found zones are kept (there are at most as many as zoneinfo files);
 * unknown names are looked up again each time. */
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static tz_zone **cache;
static size_t ncache, capcache;

const tz_zone *tz_load(lk_str name)
{
    if (name.len == 0 || name.len > 255 || memchr(name.p, 0, name.len))
        return NULL;
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < ncache; i++) {
        if (lk_str_eq_c(name, cache[i]->name)) {
            tz_zone *z = cache[i];
            pthread_mutex_unlock(&cache_mu);
            return z;
        }
    }
    tz_zone *z = NULL;
    const char *env = getenv("ZONEINFO");
    if (env && *env)
        z = load_file(env, name);
    static const char *const dirs[] = { "/usr/share/zoneinfo", "/usr/share/lib/zoneinfo",
                                        "/usr/lib/locale/TZ", "/etc/zoneinfo" };
    for (size_t i = 0; !z && i < sizeof dirs / sizeof dirs[0]; i++)
        z = load_file(dirs[i], name);
    if (z) {
        if (ncache == capcache)
            cache = lk_grow(cache, &capcache, ncache + 1, sizeof *cache);
        cache[ncache++] = z;
    }
    pthread_mutex_unlock(&cache_mu);
    return z;
}

lk_str tz_name(const tz_zone *z)
{
    return lk_str_c(z->name);
}

/* ---- POSIX TZ rules (tzset) ---------------------------------------------------------- */

typedef struct rule {
    int kind; /* 0 Julian, 1 day of year, 2 month/week/day */
    int day, week, mon, time;
} rule;

static bool tz_num(const char **s, int min, int max, int *out)
{
    const char *p = *s;
    if (!*p)
        return false;
    int num = 0;
    int i = 0;
    for (; p[i]; i++) {
        if (p[i] < '0' || p[i] > '9') {
            if (i == 0 || num < min)
                return false;
            *out = num;
            *s = p + i;
            return true;
        }
        num = num * 10 + (p[i] - '0');
        if (num > max)
            return false;
    }
    if (num < min)
        return false;
    *out = num;
    *s = p + i;
    return true;
}

static bool tz_name_part(const char **s, const char **name, size_t *nlen)
{
    const char *p = *s;
    if (!*p)
        return false;
    if (*p != '<') {
        size_t i = 0;
        for (; p[i]; i++) {
            if ((p[i] >= '0' && p[i] <= '9') || p[i] == ',' || p[i] == '-' || p[i] == '+') {
                if (i < 3)
                    return false;
                *name = p;
                *nlen = i;
                *s = p + i;
                return true;
            }
        }
        if (i < 3)
            return false;
        *name = p;
        *nlen = i;
        *s = p + i;
        return true;
    }
    const char *e = strchr(p, '>');
    if (!e)
        return false;
    *name = p + 1;
    *nlen = (size_t)(e - p - 1);
    *s = e + 1;
    return true;
}

static bool tz_offset(const char **s, int *out)
{
    const char *p = *s;
    if (!*p)
        return false;
    bool neg = false;
    if (*p == '+') {
        p++;
    } else if (*p == '-') {
        p++;
        neg = true;
    }
    int h, m, sec;
    if (!tz_num(&p, 0, 24 * 7, &h))
        return false;
    int off = h * 3600;
    if (*p == ':') {
        p++;
        if (!tz_num(&p, 0, 59, &m))
            return false;
        off += m * 60;
        if (*p == ':') {
            p++;
            if (!tz_num(&p, 0, 59, &sec))
                return false;
            off += sec;
        }
    }
    *out = neg ? -off : off;
    *s = p;
    return true;
}

static bool tz_rule(const char **s, rule *r)
{
    const char *p = *s;
    memset(r, 0, sizeof *r);
    if (!*p)
        return false;
    if (*p == 'J') {
        p++;
        if (!tz_num(&p, 1, 365, &r->day))
            return false;
        r->kind = 0;
    } else if (*p == 'M') {
        p++;
        if (!tz_num(&p, 1, 12, &r->mon) || *p != '.')
            return false;
        p++;
        if (!tz_num(&p, 1, 5, &r->week) || *p != '.')
            return false;
        p++;
        if (!tz_num(&p, 0, 6, &r->day))
            return false;
        r->kind = 2;
    } else {
        if (!tz_num(&p, 0, 365, &r->day))
            return false;
        r->kind = 1;
    }
    if (*p != '/') {
        r->time = 2 * 3600;
        *s = p;
        return true;
    }
    p++;
    if (!tz_offset(&p, &r->time))
        return false;
    *s = p;
    return true;
}

static int64_t rule_time(int64_t year, const rule *r, int off)
{
    static const int before[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365 };
    int64_t s = 0;
    if (r->kind == 0) {
        s = (int64_t)(r->day - 1) * 86400;
        if (lk_is_leap_year(year) && r->day >= 60)
            s += 86400;
    } else if (r->kind == 1) {
        s = (int64_t)r->day * 86400;
    } else {
        int64_t m1 = (r->mon + 9) % 12 + 1;
        int64_t yy0 = year;
        if (r->mon <= 2)
            yy0--;
        int64_t yy1 = yy0 / 100, yy2 = yy0 % 100;
        int64_t dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
        if (dow < 0)
            dow += 7;
        int64_t d = r->day - dow;
        if (d < 0)
            d += 7;
        int dim = before[r->mon] - before[r->mon - 1] + (r->mon == 2 && lk_is_leap_year(year));
        for (int i = 1; i < r->week; i++) {
            if (d + 7 >= dim)
                break;
            d += 7;
        }
        d += before[r->mon - 1];
        if (lk_is_leap_year(year) && r->mon > 2)
            d++;
        s = d * 86400;
    }
    return s + r->time - off;
}

static bool posix_tz(const char *s, int64_t last_tx, int64_t sec, lk_str *name, int32_t *off,
                  int64_t *start, int64_t *end)
{
    const char *std_name, *dst_name;
    size_t std_len, dst_len;
    int std_off, dst_off;
    if (!tz_name_part(&s, &std_name, &std_len) || !tz_offset(&s, &std_off))
        return false;
    std_off = -std_off;
    if (!*s || *s == ',') {
        *name = lk_str_n(std_name, std_len);
        *off = std_off;
        *start = last_tx;
        *end = TZ_OMEGA;
        return true;
    }
    if (!tz_name_part(&s, &dst_name, &dst_len))
        return false;
    if (!*s || *s == ',') {
        dst_off = std_off + 3600;
    } else {
        if (!tz_offset(&s, &dst_off))
            return false;
        dst_off = -dst_off;
    }
    const char *rules = *s ? s : ",M3.2.0,M11.1.0";
    if (*rules != ',' && *rules != ';')
        return false;
    rules++;
    rule sr, er;
    if (!tz_rule(&rules, &sr) || *rules != ',')
        return false;
    rules++;
    if (!tz_rule(&rules, &er) || *rules)
        return false;
    int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
    int64_t y;
    int m, d;
    lk_civil_from_days(days, &y, &m, &d);
    int64_t ystart = lk_days_from_civil(y, 1, 1);
    int64_t yday = days - ystart + 1;
    int64_t ysec = (yday - 1) * 86400 + sec % 86400;
    int64_t abs = ystart * 86400;
    int64_t ss = rule_time(y, &sr, std_off), es = rule_time(y, &er, dst_off);
    if (es < ss) {
        int64_t t = ss;
        ss = es;
        es = t;
        const char *tn = std_name;
        std_name = dst_name;
        dst_name = tn;
        size_t tl = std_len;
        std_len = dst_len;
        dst_len = tl;
        int to = std_off;
        std_off = dst_off;
        dst_off = to;
    }
    if (ysec < ss) {
        *name = lk_str_n(std_name, std_len);
        *off = std_off;
        *start = abs;
        *end = ss + abs;
    } else if (ysec >= es) {
        *name = lk_str_n(std_name, std_len);
        *off = std_off;
        *start = es + abs;
        *end = abs + 365 * 86400;
    } else {
        *name = lk_str_n(dst_name, dst_len);
        *off = dst_off;
        *start = ss + abs;
        *end = es + abs;
    }
    return true;
}

/* ---- lookup ------------------------------------------------------------------------------ */

static size_t first_zone(const tz_zone *z)
{
    bool used = false;
    for (size_t i = 0; i < z->ntx; i++)
        if (z->tx[i].idx == 0)
            used = true;
    if (!used)
        return 0;
    if (z->ntx > 0 && z->types[z->tx[0].idx].dst) {
        for (int zi = (int)z->tx[0].idx - 1; zi >= 0; zi--)
            if (!z->types[zi].dst)
                return (size_t)zi;
    }
    for (size_t zi = 0; zi < z->ntypes; zi++)
        if (!z->types[zi].dst)
            return zi;
    return 0;
}

void tz_lookup(const tz_zone *z, int64_t sec, int32_t *off, lk_str *abbr, int64_t *start,
               int64_t *end)
{
    if (z->ntx == 0 || sec < z->tx[0].when) {
        const tz_type *t = &z->types[first_zone(z)];
        *abbr = t->abbr;
        *off = t->off;
        *start = TZ_ALPHA;
        *end = z->ntx > 0 ? z->tx[0].when : TZ_OMEGA;
        return;
    }
    size_t lo = 0, hi = z->ntx;
    int64_t e = TZ_OMEGA;
    while (hi - lo > 1) {
        size_t m = (lo + hi) / 2;
        if (sec < z->tx[m].when) {
            e = z->tx[m].when;
            hi = m;
        } else {
            lo = m;
        }
    }
    const tz_type *t = &z->types[z->tx[lo].idx];
    *abbr = t->abbr;
    *off = t->off;
    *start = z->tx[lo].when;
    *end = e;
    if (lo == z->ntx - 1 && z->extend[0]) {
        lk_str n;
        int32_t o;
        int64_t s, en;
        if (posix_tz(z->extend, *start, sec, &n, &o, &s, &en)) {
            *abbr = n;
            *off = o;
            *start = s;
            *end = en;
        }
    }
}

bool tz_lookup_name(const tz_zone *z, lk_str abbr, int64_t utime, int32_t *off)
{
    for (size_t i = 0; i < z->ntypes; i++) {
        if (!lk_str_eq(z->types[i].abbr, abbr))
            continue;
        int32_t o;
        lk_str n;
        int64_t s, e;
        tz_lookup(z, utime - z->types[i].off, &o, &n, &s, &e);
        if (lk_str_eq(n, z->types[i].abbr)) {
            *off = o;
            return true;
        }
    }
    for (size_t i = 0; i < z->ntypes; i++) {
        if (lk_str_eq(z->types[i].abbr, abbr)) {
            *off = z->types[i].off;
            return true;
        }
    }
    return false;
}
