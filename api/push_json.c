/* JSON push requests (contract in push_int.h): Loki's v1 shape
 * (pkg/loghttp/query.go, buger/jsonparser's messages) and the legacy v0
 * shape of /api/prom/push (logproto.PushRequest as Go's JSON decoder reads
 * it). JSON strings carrying invalid UTF-8 are kept (each bad byte becomes
 * U+FFFD, as Go's JSON encoder would show it) instead of failing the push;
 * jansson alone would reject them. Escapes in label and metadata values
 * are decoded (Loki 2.9 keeps their backslashes in metadata). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/push_int.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "lib/utf8.h"

/* buger/jsonparser's messages, which Loki 2.9's v1 decoder returns */
#define JP_MALFORMED_STRING "Value is string, but can't find closing '\"' symbol"
#define JP_MALFORMED_OBJECT "Value looks like object, but can't find closing '}' symbol"
#define JP_MALFORMED_ARRAY "Value is array, but can't find closing ']' symbol"
#define JP_MALFORMED_VALUE \
    "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol"
#define JP_OVERFLOW_INT "Value is number, but overflowed while parsing"

/* The body with each byte that is not part of valid UTF-8 replaced by
 * U+FFFD (Go's rule), or NULL when the body is valid. */
static char *utf8_sanitize(lk_str body, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)body.p;
    size_t i = lk_utf8_valid_prefix(body);
    if (i == body.len)
        return NULL;
    lk_buf b = { 0 };
    lk_buf_reserve(&b, body.len + body.len / 8 + 16);
    lk_buf_append(&b, p, i);
    while (i < body.len) {
        size_t k = lk_utf8_valid_len(p + i, body.len - i);
        if (k == 0) {
            lk_buf_append(&b, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            lk_buf_append(&b, p + i, k);
            i += k;
        }
    }
    *out_len = b.len;
    return lk_buf_steal(&b);
}

static lk_str jstr(const json_t *v)
{
    return lk_str_n(json_string_value(v), json_string_length(v));
}

/* obj[key]; with nocase, a key differing only in case also matches (Go's
 * json field matching, which Loki's jsoniter decoder applies to its structs). */
static json_t *jget(json_t *obj, const char *key, bool nocase)
{
    json_t *v = json_object_get(obj, key);
    if (v || !nocase)
        return v;
    const char *k;
    size_t klen, want = strlen(key);
    json_t *val;
    json_object_keylen_foreach(obj, k, klen, val)
    {
        if (klen == want && strncasecmp(k, key, want) == 0)
            return val;
    }
    return NULL;
}

/* buger/jsonparser's ParseInt on a timestamp string. */
static int parse_go_int(lk_str s, int64_t *out, lk_buf *err)
{
    if (s.len == 0)
        return push_fail(err, LK_EPARSE, JP_MALFORMED_VALUE);
    size_t i = 0;
    bool neg = s.p[0] == '-';
    if (neg)
        i++;
    uint64_t n = 0;
    for (; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < '0' || c > '9')
            return push_fail(err, LK_EPARSE, JP_MALFORMED_VALUE);
        if (n > UINT64_MAX / 10 || n * 10 > UINT64_MAX - (c - '0'))
            return push_fail(err, LK_EPARSE, JP_OVERFLOW_INT);
        n = n * 10 + (c - '0');
    }
    if (n > (uint64_t)INT64_MAX) {
        if (neg && n == (uint64_t)INT64_MAX + 1) {
            *out = INT64_MIN;
            return LK_OK;
        }
        return push_fail(err, LK_EPARSE, JP_OVERFLOW_INT);
    }
    *out = neg ? -(int64_t)n : (int64_t)n;
    return LK_OK;
}

/* A stream label value: strings as they are; numbers and booleans as their
 * text (Loki takes the raw JSON text); null drops the label. 1 when set. */
static int json_label_value(push_priv *pv, const char *name, json_t *v, lk_str *out, lk_buf *err)
{
    char tmp[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        *out = jstr(v);
        return 1;
    case JSON_INTEGER:
        snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: {
        double d = json_real_value(v);
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
        break;
    }
    case JSON_TRUE:
        snprintf(tmp, sizeof tmp, "true");
        break;
    case JSON_FALSE:
        snprintf(tmp, sizeof tmp, "false");
        break;
    case JSON_NULL:
        return 0;
    default:
        return push_fail(err, LK_EPARSE,
                         "invalid push request: value of stream label \"%s\" must be a string",
                         name);
    }
    *out = lk_arena_str(&pv->arena, lk_str_c(tmp));
    return 1;
}

static int json_v1_labels(push_priv *pv, push_stream *st, json_t *obj, lk_buf *err)
{
    if (!obj || json_is_null(obj))
        return LK_OK;
    if (!json_is_object(obj))
        return push_fail(err, LK_EPARSE, JP_MALFORMED_OBJECT);
    const char *k;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(obj, k, klen, v)
    {
        lk_str val;
        int rc = json_label_value(pv, k, v, &val, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        lk_label *l = push_add_pair(pv, st);
        if (!l)
            return push_fail_budget(err);
        l->name = lk_str_n(k, klen);
        l->value = val;
    }
    return LK_OK;
}

/* One element of "values": ["<ns>", "<line>", {metadata}?] */
static int json_v1_entry(push_priv *pv, push_stream *st, json_t *arr, lk_buf *err)
{
    if (!json_is_array(arr))
        return push_fail(err, LK_EPARSE, JP_MALFORMED_ARRAY);
    lk_entry *e = push_add_entry(pv, st);
    if (!e)
        return push_fail_budget(err);
    size_t n = json_array_size(arr);
    if (n > 0) {
        json_t *ts = json_array_get(arr, 0);
        if (!json_is_string(ts))
            return push_fail(err, LK_EPARSE, JP_MALFORMED_STRING);
        int rc = parse_go_int(jstr(ts), &e->ts, err);
        if (rc)
            return rc;
    }
    if (n > 1) {
        json_t *line = json_array_get(arr, 1);
        if (!json_is_string(line))
            return push_fail(err, LK_EPARSE, JP_MALFORMED_STRING);
        e->line = jstr(line);
    }
    json_t *md = n > 2 ? json_array_get(arr, 2) : NULL;
    if (!md || json_is_null(md))
        return LK_OK;
    if (!json_is_object(md))
        return push_fail(err, LK_EPARSE, JP_MALFORMED_OBJECT);
    const char *k;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(md, k, klen, v)
    {
        if (!json_is_string(v))
            return push_fail(err, LK_EPARSE, JP_MALFORMED_STRING);
        lk_label *l = push_add_meta(pv, e);
        if (!l)
            return push_fail_budget(err);
        l->name = lk_str_n(k, klen);
        l->value = jstr(v);
    }
    return LK_OK;
}

static int json_v1_stream(push_priv *pv, json_t *obj, lk_buf *err)
{
    if (!json_is_object(obj))
        return push_fail(err, LK_EPARSE, JP_MALFORMED_OBJECT);
    push_stream *st = push_add_stream(pv);
    if (!st)
        return push_fail_budget(err);
    st->has_pairs = true;
    int rc = json_v1_labels(pv, st, json_object_get(obj, "stream"), err);
    if (rc)
        return rc;
    json_t *values = json_object_get(obj, "values");
    if (!values || json_is_null(values))
        return LK_OK;
    if (!json_is_array(values))
        return push_fail(err, LK_EPARSE, JP_MALFORMED_ARRAY);
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (json_is_null(v))
            continue;
        if ((rc = json_v1_entry(pv, st, v, err)))
            return rc;
    }
    return LK_OK;
}

/* v0 (/api/prom/push): logproto.PushRequest as Go's JSON decoder reads it. */
static int json_v0_string(json_t *v, const char *field, lk_str *out, lk_buf *err)
{
    if (!v || json_is_null(v))
        return LK_OK;
    if (!json_is_string(v))
        return push_fail(err, LK_EPARSE, "invalid push request: \"%s\" must be a string", field);
    *out = jstr(v);
    return LK_OK;
}

static int json_v0_entry(push_priv *pv, push_stream *st, json_t *obj, lk_buf *err)
{
    if (!json_is_object(obj))
        return push_fail(err, LK_EPARSE, "invalid push request: an entry must be an object");
    lk_entry *e = push_add_entry(pv, st);
    if (!e)
        return push_fail_budget(err);
    json_t *ts = jget(obj, "ts", true);
    if (ts && !json_is_null(ts)) {
        if (!json_is_string(ts))
            return push_fail(err, LK_EPARSE, "Time.UnmarshalJSON: input is not a JSON string");
        lk_str s = jstr(ts);
        int prc = lk_parse_rfc3339(s, &e->ts);
        if (prc == LK_ERANGE && s.len >= 4) {
            /* a valid time that int64 ns cannot hold: saturate, validation
             * rejects it with the usual message */
            e->ts = memcmp(s.p, "1970", 4) < 0 ? INT64_MIN : INT64_MAX;
            prc = LK_OK;
        }
        if (prc != LK_OK)
            return push_fail(err, LK_EPARSE,
                             "parsing time \"%.*s\" as \"2006-01-02T15:04:05Z07:00\": cannot parse "
                             "\"%.*s\" as RFC3339",
                             LK_STR_FMT(s), LK_STR_FMT(s));
    }
    int rc = json_v0_string(jget(obj, "line", true), "line", &e->line, err);
    if (rc)
        return rc;
    json_t *md = jget(obj, "structuredMetadata", true);
    if (!md || json_is_null(md))
        return LK_OK;
    if (!json_is_array(md))
        return push_fail(err, LK_EPARSE,
                         "invalid push request: \"structuredMetadata\" must be an array");
    size_t i;
    json_t *p;
    json_array_foreach(md, i, p)
    {
        if (!json_is_object(p))
            return push_fail(err, LK_EPARSE,
                             "invalid push request: structured metadata must be "
                             "{\"name\", \"value\"} objects");
        lk_label *l = push_add_meta(pv, e);
        if (!l)
            return push_fail_budget(err);
        if ((rc = json_v0_string(jget(p, "name", true), "name", &l->name, err)) ||
            (rc = json_v0_string(jget(p, "value", true), "value", &l->value, err)))
            return rc;
    }
    return LK_OK;
}

static int json_v0_stream(push_priv *pv, json_t *obj, lk_buf *err)
{
    if (!json_is_object(obj))
        return push_fail(err, LK_EPARSE, "invalid push request: a stream must be an object");
    push_stream *st = push_add_stream(pv);
    if (!st)
        return push_fail_budget(err);
    int rc = json_v0_string(jget(obj, "labels", true), "labels", &st->labels_text, err);
    if (rc)
        return rc;
    json_t *entries = jget(obj, "entries", true);
    if (!entries || json_is_null(entries))
        return LK_OK;
    if (!json_is_array(entries))
        return push_fail(err, LK_EPARSE, "invalid push request: \"entries\" must be an array");
    size_t i;
    json_t *v;
    json_array_foreach(entries, i, v)
    {
        if (json_is_null(v))
            continue;
        if ((rc = json_v0_entry(pv, st, v, err)))
            return rc;
    }
    return LK_OK;
}

static bool all_space(lk_str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (!strchr(" \t\r\n", s.p[i]))
            return false;
    return true;
}

int push_decode_json(push_priv *pv, lk_str body, bool legacy, size_t max, lk_buf *err)
{
    if (body.len > max)
        return push_fail_too_large(err, body.len, max, false);
    if (all_space(body))
        return push_fail(err, LK_EPARSE, "EOF");
    size_t clean_len;
    if (!push_take(pv, body.len)) /* jansson's tree: at least as large (the copy below too) */
        return push_fail_budget(err);
    pv->sanitized = utf8_sanitize(body, &clean_len);
    if (pv->sanitized)
        body = lk_str_n(pv->sanitized, clean_len);

    json_error_t jerr;
    /* Like Go's json.Decoder: one value, whatever follows it is not read. */
    pv->json = json_loadb(body.p, body.len,
                          JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DISABLE_EOF_CHECK, &jerr);
    if (!pv->json)
        return push_fail(err, LK_EPARSE, "invalid JSON push request: %s (line %d, column %d)",
                         jerr.text, jerr.line, jerr.column);
    if (json_is_null(pv->json))
        return LK_OK;
    if (!json_is_object(pv->json))
        return push_fail(err, LK_EPARSE, "invalid push request: expected a JSON object");
    json_t *streams = jget(pv->json, "streams", true);
    if (!streams || json_is_null(streams))
        return LK_OK;
    if (!json_is_array(streams))
        return push_fail(err, LK_EPARSE, "invalid push request: \"streams\" must be an array");
    size_t i;
    json_t *s;
    json_array_foreach(streams, i, s)
    {
        if (json_is_null(s))
            continue;
        int rc = legacy ? json_v0_stream(pv, s, err) : json_v1_stream(pv, s, err);
        if (rc)
            return rc;
    }
    return LK_OK;
}
