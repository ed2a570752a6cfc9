/* Request header checks (see header_check.h).
 *
 * libmicrohttpd 0.9 parses the header block in place in its read buffer:
 * it replaces each line's CR and LF with NULs and the colon after a name
 * with a NUL, skips the spaces after the colon, and reports a name and a
 * value by their strlen(). A NUL byte sent inside a name or value therefore
 * ends it early, and what follows is never seen ("X-Scope-OrgID:
 * victimA<NUL>evil" is reported as "victimA"). Every header of that version
 * still points into the block, in order, so the block shows what was cut:
 *
 *   name NUL [SP|HT]* value NUL{1,2} name NUL ... value NUL{1,2} NUL{1,2}
 *   ^first name                                                      ^end
 *
 * (the last NULs are the empty line that ends the block, which spans
 * MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE bytes from the request line, the
 * method's first byte). Anything else between a value's end and the next
 * name, or between a name's end and its value, was inside the name or value
 * after a NUL. A folded header (obs-fold), whose value MHD copies out of the
 * block, is refused too (RFC 9112 lets a server refuse it). libmicrohttpd
 * 1.0 parses differently and refuses a NUL in a header itself with a 400,
 * so the block is checked only when the library running is older (the
 * version it reports, not the headers lokic was built with: Debian keeps
 * the soname from 0.9 to 1.0). */
#include "api/header_check.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

typedef struct scan {
    const char *lo, *hi;  /* the raw header block, when it is checked */
    const char *prev_end; /* where the previous value ended, in the block */
    const char *why;      /* the first problem found */
} scan;

/* RFC 9110 tchar. */
static bool token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool valid_name(const char *k, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!token_char((unsigned char)k[i]))
            return false;
    return true;
}

/* Go's httpguts.ValidHeaderFieldValue: no CTL but HT. */
static bool valid_value(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < ' ' && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

static bool inside(const scan *s, const char *p, size_t n)
{
    return p >= s->lo && p <= s->hi && n <= (size_t)(s->hi - p);
}

/* [from, to) holds only NULs, at most max of them. */
static bool only_nuls(const char *from, const char *to, size_t max)
{
    if (to < from || (size_t)(to - from) > max)
        return false;
    for (const char *p = from; p < to; p++)
        if (*p)
            return false;
    return true;
}

/* [from, to) is the NUL that replaced the colon, then spaces and tabs. */
static bool colon_gap(const char *from, const char *to)
{
    if (to <= from || *from)
        return false;
    for (const char *p = from + 1; p < to; p++)
        if (*p != ' ' && *p != '\t')
            return false;
    return true;
}

/* One header of the block, in order: is it what the block holds? */
static const char *check_raw(scan *s, const char *k, size_t kn, const char *v, size_t vn)
{
    if (!inside(s, k, kn) || !inside(s, v, vn))
        return "invalid header value"; /* folded: copied out of the block */
    if (s->prev_end && !only_nuls(s->prev_end, k, 2))
        return "invalid header value"; /* bytes after a NUL in the previous value */
    if (!colon_gap(k + kn, v))
        return "invalid header name"; /* bytes after a NUL in this name */
    s->prev_end = v + vn;
    return NULL;
}

static enum MHD_Result check_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    scan *s = cls;
    if (!value)
        value = "";
    if (!valid_name(key, key_size))
        s->why = "invalid header name";
    else if (!valid_value(value, value_size))
        s->why = "invalid header value";
    else if (s->lo)
        s->why = check_raw(s, key, key_size, value, value_size);
    return s->why ? MHD_NO : MHD_YES;
}

/* Does the libmicrohttpd running cut header strings at a NUL (before 1.0)? */
static bool mhd_cuts_at_nul(void)
{
    const char *v = MHD_get_version();
    return v && strtol(v, NULL, 10) < 1;
}

int api_header_check(struct MHD_Connection *conn, const char *method, lk_buf *err)
{
    scan s = { 0 };
    if (mhd_cuts_at_nul()) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
        if (ci && method) {
            s.lo = method;
            s.hi = method + ci->header_size;
        }
    }
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, check_one, &s);
    /* after the last value: its line end and the empty line */
    if (!s.why && s.lo && s.prev_end && !only_nuls(s.prev_end, s.hi, 4))
        s.why = "invalid header value";
    if (!s.why)
        return LK_OK;
    lk_buf_puts(err, s.why);
    return LK_EINVAL;
}
