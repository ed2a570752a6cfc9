/* The ip("...") filter of line and label filters (linefilter.h): a single
 * address, a range or a CIDR prefix, IPv4 or IPv6, parsed as Go's netip
 * does, and Loki's ipFilter scan for candidate addresses in a text. */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/hex.h"
#include "lib/mem.h"
#include "query/pipeline/linefilter.h"

typedef struct ipaddr {
    int bits;        /* 32 or 128 */
    uint8_t b[16];   /* IPv4 in b[0..3] */
    bool zone;       /* an IPv6 zone (%eth0) was given */
} ipaddr;

typedef enum ip_kind { IP_SINGLE, IP_PREFIX, IP_RANGE } ip_kind;

struct lf_ip {
    ip_kind kind;
    ipaddr a, b;     /* SINGLE: a; PREFIX: a; RANGE: a..b */
    int prefix;
};

/* Go's parseIPv4Fields over s (the whole string must be the address). */
static bool parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
    int val = 0, pos = 0, dig = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (dig == 1 && val == 0)
                return false; /* leading zero */
            val = val * 10 + (c - '0');
            dig++;
            if (val > 255)
                return false;
        } else if (c == '.') {
            if (i == 0 || i == n - 1 || s[i - 1] == '.')
                return false;
            if (pos == 3)
                return false;
            out[pos++] = (uint8_t)val;
            val = 0;
            dig = 0;
        } else {
            return false;
        }
    }
    if (pos < 3)
        return false;
    out[3] = (uint8_t)val;
    return true;
}

/* Go's parseIPv6. */
static bool parse_ipv6(const char *in, size_t n, ipaddr *out)
{
    const char *s = in;
    size_t len = n;
    const char *pct = memchr(in, '%', n);
    out->zone = false;
    if (pct) {
        if ((size_t)(pct - in) == n - 1)
            return false; /* empty zone */
        len = (size_t)(pct - in);
        out->zone = true;
    }
    uint8_t ip[16] = { 0 };
    int ellipsis = -1;
    size_t i = 0; /* offset into s */
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        ellipsis = 0;
        i = 2;
        if (i == len) {
            memset(out->b, 0, 16);
            out->bits = 128;
            return true;
        }
    }
    int k = 0; /* bytes filled */
    while (k < 16) {
        size_t off = 0;
        uint32_t acc = 0;
        while (i + off < len) {
            int v = lk_hex_val(s[i + off]);
            if (v < 0)
                break;
            acc = (acc << 4) + (uint32_t)v;
            if (off > 3)
                return false; /* more than 4 digits */
            off++;
        }
        if (off > 4)
            return false;
        if (off == 0)
            return false;
        if (i + off < len && s[i + off] == '.') {
            if (ellipsis < 0 && k != 12)
                return false;
            if (k + 4 > 16)
                return false;
            if (!parse_ipv4(s + i, len - i, ip + k))
                return false;
            i = len;
            k += 4;
            break;
        }
        ip[k] = (uint8_t)(acc >> 8);
        ip[k + 1] = (uint8_t)acc;
        k += 2;
        i += off;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        if (i + 1 == len)
            return false; /* colon must be followed by more */
        i++;
        if (s[i] == ':') {
            if (ellipsis >= 0)
                return false; /* multiple :: */
            ellipsis = k;
            i++;
            if (i == len)
                break;
        }
    }
    if (i != len)
        return false;
    if (k < 16) {
        if (ellipsis < 0)
            return false;
        int shift = 16 - k;
        for (int j = k - 1; j >= ellipsis; j--)
            ip[j + shift] = ip[j];
        memset(ip + ellipsis, 0, (size_t)shift);
    } else if (ellipsis >= 0) {
        return false; /* :: must stand for at least one group */
    }
    memcpy(out->b, ip, 16);
    out->bits = 128;
    return true;
}

/* Go's netip.ParseAddr */
static bool parse_addr(const char *s, size_t n, ipaddr *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            out->bits = 32;
            return parse_ipv4(s, n, out->b);
        }
        if (s[i] == ':')
            return parse_ipv6(s, n, out);
        if (s[i] == '%')
            return false;
    }
    return false;
}

static int addr_cmp(const ipaddr *x, const ipaddr *y)
{
    if (x->bits != y->bits)
        return x->bits < y->bits ? -1 : 1;
    return memcmp(x->b, y->b, (size_t)x->bits / 8);
}

static bool prefix_contains(const ipaddr *p, int bits, const ipaddr *ip)
{
    if (p->bits != ip->bits || ip->zone)
        return false;
    int full = bits / 8, rest = bits % 8;
    if (memcmp(p->b, ip->b, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (p->b[full] & mask) == (ip->b[full] & mask);
}

static bool ip_set_contains(const lf_ip *f, const ipaddr *ip)
{
    switch (f->kind) {
    case IP_SINGLE:
        return !f->a.zone && addr_cmp(&f->a, ip) == 0;
    case IP_PREFIX:
        return prefix_contains(&f->a, f->prefix, ip);
    case IP_RANGE:
        return addr_cmp(&f->a, ip) <= 0 && addr_cmp(&f->b, ip) >= 0;
    }
    return false;
}

/* Go's netip.ParsePrefix */
static bool parse_prefix(lk_str s, lf_ip *f)
{
    const char *slash = NULL;
    for (size_t i = s.len; i > 0; i--) {
        if (s.p[i - 1] == '/') {
            slash = s.p + i - 1;
            break;
        }
    }
    if (!slash)
        return false;
    if (!parse_addr(s.p, (size_t)(slash - s.p), &f->a) || f->a.zone)
        return false;
    const char *b = slash + 1;
    size_t bn = (size_t)(s.p + s.len - b);
    if (bn == 0 || (bn > 1 && (b[0] < '1' || b[0] > '9')) || bn > 4)
        return false;
    int bits = 0;
    for (size_t i = 0; i < bn; i++) {
        if (b[i] < '0' || b[i] > '9')
            return false;
        bits = bits * 10 + (b[i] - '0');
    }
    if (bits > f->a.bits)
        return false;
    f->prefix = bits;
    f->kind = IP_PREFIX;
    return true;
}

/* go4.org/netipx ParseIPRange: "from-to", same family, from <= to. */
static bool parse_range(lk_str s, lf_ip *f)
{
    const char *dash = memchr(s.p, '-', s.len);
    if (!dash)
        return false;
    if (!parse_addr(s.p, (size_t)(dash - s.p), &f->a) ||
        !parse_addr(dash + 1, (size_t)(s.p + s.len - dash - 1), &f->b))
        return false;
    f->a.zone = f->b.zone = false;
    if (f->a.bits != f->b.bits || addr_cmp(&f->b, &f->a) < 0)
        return false;
    f->kind = IP_RANGE;
    return true;
}

int lf_ip_compile(lk_str pattern, lf_ip **out, lk_buf *err)
{
    lf_ip *f = lk_calloc(1, sizeof(*f));
    const char *p = pattern.p ? pattern.p : "";
    if (parse_addr(p, pattern.len, &f->a)) {
        f->kind = IP_SINGLE;
    } else if (!parse_prefix((lk_str){ p, pattern.len }, f) &&
               !parse_range((lk_str){ p, pattern.len }, f)) {
        free(f);
        if (err) {
            lk_buf_puts(err, "ip: invalid pattern: ");
            lk_go_quote(pattern, err);
        }
        return LK_EPARSE;
    }
    *out = f;
    return 0;
}

static bool is_digit_b(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool ipv4_hint(const unsigned char *p)
{
    return is_digit_b(p[0]) && (p[1] == '.' || p[2] == '.' || p[3] == '.');
}

static bool ipv6_hint(const unsigned char *p)
{
    if (p[0] == ':')
        return p[1] == ':' && lk_is_hex(p[2]);
    /* 1 to 4 hex digits, then ':' */
    for (int i = 0; i < 4 && lk_is_hex(p[i]); i++)
        if (p[i + 1] == ':')
            return true;
    return false;
}

static size_t span(const unsigned char *p, size_t n, bool v6)
{
    size_t i = 0;
    for (; i < n; i++) {
        unsigned char c = p[i];
        bool ok = is_digit_b(c) || c == '.' || (v6 && (lk_is_hex(c) || c == ':'));
        if (!ok)
            break;
    }
    return i;
}

/* Loki's ipFilter.filter: walk the text, try every IP-looking run. */
bool lf_ip_contains(const lf_ip *f, lk_str text)
{
    const unsigned char *s = (const unsigned char *)text.p;
    size_t n = text.len;
    for (size_t i = 0; i < n; i++) {
        bool v4 = i + 3 < n && ipv4_hint(s + i);
        bool v6 = !v4 && i + 4 < n && ipv6_hint(s + i);
        if (!v4 && !v6)
            continue;
        size_t len = span(s + i, n - i, v6);
        ipaddr ip;
        if (parse_addr((const char *)s + i, len, &ip) && ip_set_contains(f, &ip))
            return true;
        i += len;
    }
    return false;
}

void lf_ip_free(lf_ip *ip)
{
    free(ip);
}
