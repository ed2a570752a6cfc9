/* OTLP logs in JSON (contract in otlp.h): OTLP/HTTP's JSON mapping of
 * ExportLogsServiceRequest, as the collector's pdata reads it: field names
 * in lowerCamelCase (snake_case accepted too), 64-bit integers as strings
 * or numbers, trace and span ids in hex, bytes in base64 (kept as sent),
 * severityNumber as a number or its enum name; unknown fields ignored.
 * Strings are views into the jansson tree, which the caller keeps. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/otlp.h"
#include "api/push_int.h"
#include "lib/err.h"
#include "lib/hex.h"

typedef struct jctx {
    otlp_mem *m;
    lk_buf *err;
} jctx;

static int bad(jctx *c, const char *what, const char *field)
{
    return push_fail(c->err, LK_EPARSE, "%s: invalid value for %s", what, field);
}

/* o[camel], or o[snake]; NULL when absent or null. */
static json_t *get(json_t *o, const char *camel, const char *snake)
{
    json_t *v = json_object_get(o, camel);
    if (!v && snake)
        v = json_object_get(o, snake);
    return json_is_null(v) ? NULL : v;
}

static lk_str jstr(const json_t *v)
{
    return lk_str_n(json_string_value(v), json_string_length(v));
}

static int get_str(jctx *c, json_t *o, const char *camel, const char *snake, lk_str *out)
{
    json_t *v = get(o, camel, snake);
    if (!v)
        return LK_OK;
    if (!json_is_string(v))
        return bad(c, "ReadString", camel);
    *out = jstr(v);
    return LK_OK;
}

/* A decimal integer in a string, all of it, within [min, max] as uint64
 * magnitudes with a sign. */
static bool parse_int(lk_str s, bool sign_ok, uint64_t *mag, bool *neg)
{
    size_t i = 0;
    *neg = false;
    if (sign_ok && s.len && s.p[0] == '-') {
        *neg = true;
        i = 1;
    }
    if (i == s.len)
        return false;
    uint64_t v = 0;
    for (; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    *mag = v;
    return true;
}

static int get_u64(jctx *c, json_t *o, const char *camel, const char *snake, uint64_t *out)
{
    json_t *v = get(o, camel, snake);
    uint64_t mag = 0;
    bool neg = false;
    if (!v)
        return LK_OK;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return LK_OK;
    }
    if (json_is_string(v) && parse_int(jstr(v), false, &mag, &neg)) {
        *out = mag;
        return LK_OK;
    }
    return bad(c, "ReadUint64", camel);
}

static int get_i64(jctx *c, json_t *v, const char *name, int64_t *out)
{
    uint64_t mag = 0;
    bool neg = false;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return LK_OK;
    }
    if (json_is_string(v) && parse_int(jstr(v), true, &mag, &neg) &&
        mag <= (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) {
        *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        return LK_OK;
    }
    return bad(c, "ReadInt64", name);
}

static int get_u32(jctx *c, json_t *o, const char *camel, const char *snake, uint32_t *out)
{
    uint64_t v = 0;
    int rc = get_u64(c, o, camel, snake, &v);
    if (rc == LK_OK && v > UINT32_MAX)
        return bad(c, "ReadUint32", camel);
    if (rc == LK_OK)
        *out = (uint32_t)v;
    return rc;
}

static int get_double(jctx *c, json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return LK_OK;
    }
    if (json_is_string(v)) {
        lk_str s = jstr(v);
        if (lk_str_eq_c(s, "NaN")) {
            *out = NAN;
            return LK_OK;
        }
        if (lk_str_eq_c(s, "Infinity") || lk_str_eq_c(s, "-Infinity")) {
            *out = s.p[0] == '-' ? -INFINITY : INFINITY;
            return LK_OK;
        }
        char *end = NULL;
        if (s.len && s.len < 64 && strlen(s.p) == s.len) {
            *out = strtod(s.p, &end);
            if (end == s.p + s.len)
                return LK_OK;
        }
    }
    return bad(c, "ReadFloat64", "doubleValue");
}

static int value(jctx *c, json_t *o, int depth, otlp_value *v);

static int kv(jctx *c, json_t *o, int depth, otlp_kv *out)
{
    if (!json_is_object(o))
        return bad(c, "KeyValue", "attributes");
    int rc = get_str(c, o, "key", NULL, &out->key);
    json_t *v = get(o, "value", NULL);
    if (rc == LK_OK && v)
        rc = value(c, v, depth, &out->v);
    return rc;
}

static int kv_list(jctx *c, json_t *arr, int depth, otlp_kv **out, size_t *n)
{
    if (!arr)
        return LK_OK;
    if (!json_is_array(arr))
        return bad(c, "ReadArray", "attributes");
    *n = json_array_size(arr);
    if (*n == 0)
        return LK_OK;
    *out = otlp_alloc(c->m, *n * sizeof **out);
    if (!*out)
        return push_fail_budget(c->err);
    memset(*out, 0, *n * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        int rc = kv(c, json_array_get(arr, i), depth, &(*out)[i]);
        if (rc)
            return rc;
    }
    return LK_OK;
}

static int value_list(jctx *c, json_t *o, int depth, otlp_value *v)
{
    json_t *arr = o ? get(o, "values", NULL) : NULL;
    v->kind = OTLP_ARRAY;
    if (o && !json_is_object(o))
        return bad(c, "ArrayValue", "arrayValue");
    if (!arr)
        return LK_OK;
    if (!json_is_array(arr))
        return bad(c, "ReadArray", "values");
    v->n = json_array_size(arr);
    if (v->n == 0)
        return LK_OK;
    v->items = otlp_alloc(c->m, v->n * sizeof *v->items);
    if (!v->items)
        return push_fail_budget(c->err);
    memset(v->items, 0, v->n * sizeof *v->items);
    for (size_t i = 0; i < v->n; i++) {
        int rc = value(c, json_array_get(arr, i), depth + 1, &v->items[i]);
        if (rc)
            return rc;
    }
    return LK_OK;
}

static int value(jctx *c, json_t *o, int depth, otlp_value *v)
{
    json_t *x;
    if (depth >= OTLP_MAX_DEPTH)
        return push_fail(c->err, LK_EPARSE, "AnyValue: nested too deeply");
    if (!json_is_object(o))
        return bad(c, "AnyValue", "value");
    if ((x = get(o, "stringValue", "string_value"))) {
        v->kind = OTLP_STRING;
        return json_is_string(x) ? (v->s = jstr(x), LK_OK) : bad(c, "ReadString", "stringValue");
    }
    if ((x = get(o, "boolValue", "bool_value"))) {
        v->kind = OTLP_BOOL;
        v->b = json_is_true(x);
        return json_is_boolean(x) ? LK_OK : bad(c, "ReadBool", "boolValue");
    }
    if ((x = get(o, "intValue", "int_value"))) {
        v->kind = OTLP_INT;
        return get_i64(c, x, "intValue", &v->i);
    }
    if ((x = get(o, "doubleValue", "double_value"))) {
        v->kind = OTLP_DOUBLE;
        return get_double(c, x, &v->d);
    }
    if ((x = get(o, "bytesValue", "bytes_value"))) {
        v->kind = OTLP_BYTES_B64;
        return json_is_string(x) ? (v->s = jstr(x), LK_OK) : bad(c, "ReadString", "bytesValue");
    }
    if ((x = json_object_get(o, "arrayValue")) || (x = json_object_get(o, "array_value")))
        return value_list(c, json_is_null(x) ? NULL : x, depth, v);
    if ((x = json_object_get(o, "kvlistValue")) || (x = json_object_get(o, "kvlist_value"))) {
        v->kind = OTLP_KVLIST;
        if (json_is_null(x))
            return LK_OK;
        if (!json_is_object(x))
            return bad(c, "KeyValueList", "kvlistValue");
        return kv_list(c, get(x, "values", NULL), depth + 1, &v->kvs, &v->n);
    }
    return LK_OK;
}

/* A trace or span id in hex: size bytes, or none for "". */
static int hex_id(jctx *c, json_t *o, const char *camel, const char *snake, size_t size,
                  lk_str *out)
{
    json_t *v = get(o, camel, snake);
    if (!v)
        return LK_OK;
    if (!json_is_string(v))
        return bad(c, "ReadString", camel);
    lk_str s = jstr(v);
    if (s.len == 0)
        return LK_OK;
    if (s.len != 2 * size)
        return push_fail(c->err, LK_EPARSE, "invalid length for %s: %zu", camel, s.len);
    unsigned char *b = otlp_alloc(c->m, size);
    if (!b)
        return push_fail_budget(c->err);
    for (size_t i = 0; i < size; i++) {
        int hi = lk_hex_val((unsigned char)s.p[2 * i]), lo = lk_hex_val((unsigned char)s.p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return push_fail(c->err, LK_EPARSE, "invalid hex in %s", camel);
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    *out = lk_str_n((const char *)b, size);
    return LK_OK;
}

static const char *const severity_names[] = {
    "UNSPECIFIED", "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4",
    "INFO", "INFO2", "INFO3", "INFO4", "WARN", "WARN2", "WARN3", "WARN4", "ERROR", "ERROR2",
    "ERROR3", "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4",
};

static int severity(jctx *c, json_t *o, int32_t *out)
{
    json_t *v = get(o, "severityNumber", "severity_number");
    if (!v)
        return LK_OK;
    if (json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
        json_integer_value(v) <= INT32_MAX) {
        *out = (int32_t)json_integer_value(v);
        return LK_OK;
    }
    lk_str s = json_is_string(v) ? jstr(v) : LK_STR_NULL;
    if (s.len > 16 && memcmp(s.p, "SEVERITY_NUMBER_", 16) == 0) {
        lk_str name = lk_str_n(s.p + 16, s.len - 16);
        for (size_t i = 0; i < sizeof severity_names / sizeof *severity_names; i++) {
            if (lk_str_eq_c(name, severity_names[i])) {
                *out = (int32_t)i;
                return LK_OK;
            }
        }
    }
    return bad(c, "SeverityNumber", "severityNumber");
}

/* Decodes the array o[camel|snake] into n elements of elem bytes by fn. */
typedef int (*elem_fn)(jctx *c, json_t *o, void *elem);

static int objects(jctx *c, json_t *o, const char *camel, const char *snake, size_t elem,
                   elem_fn fn, void **out, size_t *n)
{
    json_t *arr = get(o, camel, snake);
    if (!arr)
        return LK_OK;
    if (!json_is_array(arr))
        return bad(c, "ReadArray", camel);
    *n = json_array_size(arr);
    if (*n == 0)
        return LK_OK;
    char *v = otlp_alloc(c->m, *n * elem);
    if (!v)
        return push_fail_budget(c->err);
    memset(v, 0, *n * elem);
    *out = v;
    for (size_t i = 0; i < *n; i++) {
        json_t *x = json_array_get(arr, i);
        if (!json_is_object(x))
            return bad(c, "ReadObject", camel);
        int rc = fn(c, x, v + i * elem);
        if (rc)
            return rc;
    }
    return LK_OK;
}

static int attrs(jctx *c, json_t *o, otlp_attrs *a)
{
    return kv_list(c, get(o, "attributes", NULL), 0, &a->v, &a->n);
}

static int record(jctx *c, json_t *o, void *elem)
{
    otlp_record *lr = elem;
    json_t *body = get(o, "body", NULL);
    int rc;
    if ((rc = get_u64(c, o, "timeUnixNano", "time_unix_nano", &lr->time_ns)) ||
        (rc = get_u64(c, o, "observedTimeUnixNano", "observed_time_unix_nano",
                      &lr->observed_ns)) ||
        (rc = severity(c, o, &lr->severity_number)) ||
        (rc = get_str(c, o, "severityText", "severity_text", &lr->severity_text)) ||
        (rc = attrs(c, o, &lr->attrs)) ||
        (rc = get_u32(c, o, "droppedAttributesCount", "dropped_attributes_count",
                      &lr->dropped_attrs)) ||
        (rc = get_u32(c, o, "flags", NULL, &lr->flags)) ||
        (rc = hex_id(c, o, "traceId", "trace_id", 16, &lr->trace_id)) ||
        (rc = hex_id(c, o, "spanId", "span_id", 8, &lr->span_id)))
        return rc;
    return body ? value(c, body, 0, &lr->body) : LK_OK;
}

static int scope_logs(jctx *c, json_t *o, void *elem)
{
    otlp_scope *sc = elem;
    json_t *s = get(o, "scope", NULL);
    int rc;
    if (s) {
        if (!json_is_object(s))
            return bad(c, "ReadObject", "scope");
        if ((rc = get_str(c, s, "name", NULL, &sc->name)) ||
            (rc = get_str(c, s, "version", NULL, &sc->version)) ||
            (rc = attrs(c, s, &sc->attrs)) ||
            (rc = get_u32(c, s, "droppedAttributesCount", "dropped_attributes_count",
                          &sc->dropped_attrs)))
            return rc;
    }
    return objects(c, o, "logRecords", "log_records", sizeof *sc->records, record,
                   (void **)&sc->records, &sc->n_records);
}

static int resource_logs(jctx *c, json_t *o, void *elem)
{
    otlp_resource *res = elem;
    json_t *r = get(o, "resource", NULL);
    int rc;
    if (r) {
        if (!json_is_object(r))
            return bad(c, "ReadObject", "resource");
        if ((rc = attrs(c, r, &res->attrs)))
            return rc;
    }
    return objects(c, o, "scopeLogs", "scope_logs", sizeof *res->scopes, scope_logs,
                   (void **)&res->scopes, &res->n_scopes);
}

int otlp_parse_json(lk_str body, otlp_mem *m, void **json_tree, otlp_logs *out, lk_buf *err)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(body.p, body.len, JSON_ALLOW_NUL, &jerr);
    *json_tree = root;
    if (!root)
        return push_fail(err, LK_EPARSE, "ReadObjectCB: %s", jerr.text);
    jctx c = { m, err };
    if (!json_is_object(root))
        return bad(&c, "ReadObject", "ExportLogsServiceRequest");
    return objects(&c, root, "resourceLogs", "resource_logs", sizeof *out->resources,
                   resource_logs, (void **)&out->resources, &out->n_resources);
}
