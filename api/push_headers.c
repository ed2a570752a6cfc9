/* The push request's headers (contract in push_int.h), as Loki reads them
 * in pkg/loghttp/push/push.go:
 *  - Content-Type: parsed like Go's mime.ParseMediaType (case-insensitive,
 *    parameters allowed). `application/json` is JSON; the protobuf types
 *    clients send (application/x-protobuf, application/protobuf,
 *    application/vnd.google.protobuf, application/octet-stream) and a
 *    missing or empty Content-Type are protobuf. Loki reads any other type
 *    as protobuf too and then fails with a confusing snappy error; lokic
 *    answers 415 `unsupported Content-Type "text/plain"` instead, so a
 *    misconfigured client learns what is wrong. A malformed type is 400
 *    with Go's mime message.
 *  - Content-Encoding: "", "snappy" (no-op), "gzip", "deflate" (push_inflate.c).
 *    Anything else is 400 `Content-Encoding "br" not supported`. Matching
 *    is exact, as in Loki. */
#include <stdbool.h>
#include <string.h>

#include "api/push_int.h"
#include "lib/err.h"

int push_parse_encoding(lk_str v, int *enc, lk_buf *err)
{
    v = lk_str_trim(v);
    if (v.len == 0 || lk_str_eq_c(v, "snappy"))
        *enc = ENC_NONE;
    else if (lk_str_eq_c(v, "gzip"))
        *enc = ENC_GZIP;
    else if (lk_str_eq_c(v, "deflate"))
        *enc = ENC_DEFLATE;
    else
        return push_fail(err, LK_EINVAL, "Content-Encoding \"%.*s\" not supported",
                         LK_STR_FMT(v));
    return LK_OK;
}

/* RFC 2045 token characters, as Go's mime package checks them. */
static bool is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

static size_t token_len(lk_str s, size_t i)
{
    size_t j = i;
    while (j < s.len && is_token_char((unsigned char)s.p[j]))
        j++;
    return j - i;
}

/* `; key=value` parameters after the media type: tokens or quoted strings,
 * trailing semicolons ignored. */
static bool params_ok(lk_str s)
{
    size_t i = 0;
    while (i < s.len) {
        while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t'))
            i++;
        if (i == s.len)
            return true;
        if (s.p[i] != ';')
            return false;
        i++;
        while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t'))
            i++;
        if (i == s.len)
            return true; /* trailing ';' */
        size_t k = token_len(s, i);
        if (k == 0)
            return false;
        i += k;
        if (i == s.len || s.p[i] != '=')
            return false;
        i++;
        if (i < s.len && s.p[i] == '"') {
            for (i++; i < s.len && s.p[i] != '"'; i++)
                if (s.p[i] == '\\')
                    i++;
            if (i >= s.len)
                return false;
            i++;
        } else {
            k = token_len(s, i);
            if (k == 0)
                return false;
            i += k;
        }
    }
    return true;
}

static bool is_protobuf_type(lk_str type)
{
    return lk_str_eq_nocase(type, "application/x-protobuf") ||
           lk_str_eq_nocase(type, "application/protobuf") ||
           lk_str_eq_nocase(type, "application/vnd.google.protobuf") ||
           lk_str_eq_nocase(type, "application/octet-stream");
}

/* Go's mime.ParseMediaType, reduced to what the push path needs. */
int push_parse_content_type(lk_str v, bool *json, lk_buf *err)
{
    *json = false;
    if (lk_str_trim(v).len == 0)
        return LK_OK; /* see the file comment */
    size_t semi = 0;
    while (semi < v.len && v.p[semi] != ';')
        semi++;
    lk_str type = lk_str_trim(lk_str_n(v.p, semi));
    size_t t1 = token_len(type, 0);
    if (t1 == 0)
        return push_fail(err, LK_EPARSE, "mime: no media type");
    if (t1 < type.len) {
        if (type.p[t1] != '/')
            return push_fail(err, LK_EPARSE, "mime: expected slash after first token");
        size_t t2 = token_len(type, t1 + 1);
        if (t2 == 0)
            return push_fail(err, LK_EPARSE, "mime: expected token after slash");
        if (t1 + 1 + t2 != type.len)
            return push_fail(err, LK_EPARSE, "mime: unexpected content after media subtype");
    }
    if (!params_ok(lk_str_n(v.p + semi, v.len - semi)))
        return push_fail(err, LK_EPARSE, "mime: invalid media parameter");
    *json = lk_str_eq_nocase(type, "application/json");
    if (!*json && !is_protobuf_type(type)) {
        lk_buf_printf(err, "unsupported Content-Type \"%.*s\"", LK_STR_FMT(type));
        return LK_EUNSUPPORTED;
    }
    return LK_OK;
}
