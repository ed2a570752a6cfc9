/* OTLP logs in protobuf (contract in otlp.h): ExportLogsServiceRequest
 * decoded by push's wire reader (push_int.h) into the model, strings and
 * bytes as views into the body. Field numbers are opentelemetry-proto's
 * (collector/logs/v1, logs/v1, common/v1, resource/v1):
 *   ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
 *   ResourceLogs  { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
 *   Resource      { repeated KeyValue attributes = 1; }
 *   ScopeLogs     { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
 *   InstrumentationScope { string name = 1; string version = 2;
 *                  repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
 *   LogRecord     { fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11;
 *                  SeverityNumber severity_number = 2; string severity_text = 3;
 *                  AnyValue body = 5; repeated KeyValue attributes = 6;
 *                  uint32 dropped_attributes_count = 7; fixed32 flags = 8;
 *                  bytes trace_id = 9; bytes span_id = 10; }
 *   AnyValue      { oneof { string string_value = 1; bool bool_value = 2;
 *                  int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5;
 *                  KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
 *   ArrayValue    { repeated AnyValue values = 1; }
 *   KeyValueList  { repeated KeyValue values = 1; }
 *   KeyValue      { string key = 1; AnyValue value = 2; }
 * Other fields are skipped. Repeated fields are counted first so that each
 * array is allocated once; nesting of values stops at OTLP_MAX_DEPTH. */
#include <string.h>

#include "api/otlp.h"
#include "api/push_int.h"
#include "lib/err.h"

static int no_memory(lk_buf *err)
{
    return push_fail_budget(err);
}

/* How many length-delimited fields numbered `want` the message holds. */
static int count_field(pb_rd r, const char *msg, int want, size_t *n, lk_buf *err)
{
    *n = 0;
    while (r.p < r.end) {
        int field = 0, wire = 0, rc;
        if ((rc = pb_tag(&r, msg, &field, &wire, err)) || (rc = pb_skip(&r, wire, err)))
            return rc;
        if (field == want && wire == 2)
            (*n)++;
    }
    return LK_OK;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int rd_fixed64(pb_rd *r, int wire, const char *name, uint64_t *v, lk_buf *err)
{
    if (wire != 1)
        return pb_wrong(err, wire, name);
    int rc = pb_fixed(r, 8, err);
    if (rc == LK_OK)
        *v = le64(r->p - 8);
    return rc;
}

static int rd_varint(pb_rd *r, int wire, const char *name, uint64_t *v, lk_buf *err)
{
    return wire != 0 ? pb_wrong(err, wire, name) : pb_varint(r, v, err);
}

static int rd_bytes(pb_rd *r, int wire, const char *name, pb_rd *sub, lk_buf *err)
{
    return wire != 2 ? pb_wrong(err, wire, name) : pb_bytes(r, sub, err);
}

static int rd_value(otlp_mem *m, pb_rd r, int depth, otlp_value *v, lk_buf *err);

/* A repeated message field `want` of r, each decoded by fn into an array
 * of elem-byte elements. */
typedef int (*elem_fn)(otlp_mem *m, pb_rd r, int depth, void *elem, lk_buf *err);

static int rd_repeated(otlp_mem *m, pb_rd r, const char *msg, int want, int depth, size_t elem,
                       elem_fn fn, void **out, size_t *n, lk_buf *err)
{
    int rc = count_field(r, msg, want, n, err);
    if (rc || *n == 0)
        return rc;
    char *arr = otlp_alloc(m, *n * elem);
    if (!arr)
        return no_memory(err);
    memset(arr, 0, *n * elem);
    *out = arr;
    size_t i = 0;
    while (r.p < r.end) {
        int field = 0, wire = 0;
        pb_rd s = { 0 };
        if ((rc = pb_tag(&r, msg, &field, &wire, err)))
            return rc;
        if (field != want || wire != 2) {
            if ((rc = pb_skip(&r, wire, err)))
                return rc;
            continue;
        }
        if ((rc = pb_bytes(&r, &s, err)) || (rc = fn(m, s, depth, arr + i++ * elem, err)))
            return rc;
    }
    return LK_OK;
}

static int rd_kv(otlp_mem *m, pb_rd r, int depth, void *elem, lk_buf *err)
{
    otlp_kv *kv = elem;
    while (r.p < r.end) {
        int field = 0, wire = 0, rc;
        pb_rd s = { 0 };
        if ((rc = pb_tag(&r, "KeyValue", &field, &wire, err)))
            return rc;
        if (field == 1 || field == 2) {
            if ((rc = rd_bytes(&r, wire, field == 1 ? "Key" : "Value", &s, err)))
                return rc;
            if (field == 1)
                kv->key = pb_str(&s);
            else if ((rc = rd_value(m, s, depth, &kv->v, err)))
                return rc;
        } else if ((rc = pb_skip(&r, wire, err))) {
            return rc;
        }
    }
    return LK_OK;
}

static int rd_value_elem(otlp_mem *m, pb_rd r, int depth, void *elem, lk_buf *err)
{
    return rd_value(m, r, depth, elem, err);
}

static int rd_value(otlp_mem *m, pb_rd r, int depth, otlp_value *v, lk_buf *err)
{
    if (depth >= OTLP_MAX_DEPTH)
        return push_fail(err, LK_EPARSE, "proto: AnyValue: nested too deeply");
    while (r.p < r.end) {
        int field = 0, wire = 0, rc = LK_OK;
        pb_rd s = { 0 };
        uint64_t x = 0;
        if ((rc = pb_tag(&r, "AnyValue", &field, &wire, err)))
            return rc;
        switch (field) {
        case 1:
        case 7:
            rc = rd_bytes(&r, wire, field == 1 ? "StringValue" : "BytesValue", &s, err);
            *v = (otlp_value){ .kind = field == 1 ? OTLP_STRING : OTLP_BYTES, .s = pb_str(&s) };
            break;
        case 2:
        case 3:
            rc = rd_varint(&r, wire, field == 2 ? "BoolValue" : "IntValue", &x, err);
            *v = (otlp_value){ .kind = field == 2 ? OTLP_BOOL : OTLP_INT, .b = x != 0,
                               .i = (int64_t)x };
            break;
        case 4:
            rc = rd_fixed64(&r, wire, "DoubleValue", &x, err);
            *v = (otlp_value){ .kind = OTLP_DOUBLE };
            memcpy(&v->d, &x, sizeof v->d);
            break;
        case 5:
            *v = (otlp_value){ .kind = OTLP_ARRAY };
            if (!(rc = rd_bytes(&r, wire, "ArrayValue", &s, err)))
                rc = rd_repeated(m, s, "ArrayValue", 1, depth + 1, sizeof *v->items,
                                 rd_value_elem, (void **)&v->items, &v->n, err);
            break;
        case 6:
            *v = (otlp_value){ .kind = OTLP_KVLIST };
            if (!(rc = rd_bytes(&r, wire, "KvlistValue", &s, err)))
                rc = rd_repeated(m, s, "KeyValueList", 1, depth + 1, sizeof *v->kvs, rd_kv,
                                 (void **)&v->kvs, &v->n, err);
            break;
        default:
            rc = pb_skip(&r, wire, err);
        }
        if (rc)
            return rc;
    }
    return LK_OK;
}

static int rd_attrs(otlp_mem *m, pb_rd r, const char *msg, int field, otlp_attrs *a,
                    lk_buf *err)
{
    return rd_repeated(m, r, msg, field, 0, sizeof *a->v, rd_kv, (void **)&a->v, &a->n, err);
}

static int rd_id(pb_rd *r, int wire, const char *name, size_t size, lk_str *out, lk_buf *err)
{
    pb_rd s = { 0 };
    int rc = rd_bytes(r, wire, name, &s, err);
    if (rc)
        return rc;
    size_t n = (size_t)(s.end - s.p);
    if (n != 0 && n != size)
        return push_fail(err, LK_EPARSE, "invalid length for %s: %zu", name, n);
    *out = pb_str(&s);
    return LK_OK;
}

static int rd_record(otlp_mem *m, pb_rd r, int depth, void *elem, lk_buf *err)
{
    otlp_record *lr = elem;
    (void)depth;
    int rc = rd_attrs(m, r, "LogRecord", 6, &lr->attrs, err);
    while (rc == LK_OK && r.p < r.end) {
        int field = 0, wire = 0;
        pb_rd s = { 0 };
        uint64_t x = 0;
        if ((rc = pb_tag(&r, "LogRecord", &field, &wire, err)))
            return rc;
        switch (field) {
        case 1:
            rc = rd_fixed64(&r, wire, "TimeUnixNano", &lr->time_ns, err);
            break;
        case 11:
            rc = rd_fixed64(&r, wire, "ObservedTimeUnixNano", &lr->observed_ns, err);
            break;
        case 2:
            rc = rd_varint(&r, wire, "SeverityNumber", &x, err);
            lr->severity_number = (int32_t)x;
            break;
        case 3:
            rc = rd_bytes(&r, wire, "SeverityText", &s, err);
            lr->severity_text = pb_str(&s);
            break;
        case 5:
            if (!(rc = rd_bytes(&r, wire, "Body", &s, err)))
                rc = rd_value(m, s, 0, &lr->body, err);
            break;
        case 7:
            rc = rd_varint(&r, wire, "DroppedAttributesCount", &x, err);
            lr->dropped_attrs = (uint32_t)x;
            break;
        case 8:
            if (wire != 5)
                return pb_wrong(err, wire, "Flags");
            if (!(rc = pb_fixed(&r, 4, err)))
                lr->flags = (uint32_t)r.p[-4] | (uint32_t)r.p[-3] << 8 |
                            (uint32_t)r.p[-2] << 16 | (uint32_t)r.p[-1] << 24;
            break;
        case 9:
            rc = rd_id(&r, wire, "TraceID", 16, &lr->trace_id, err);
            break;
        case 10:
            rc = rd_id(&r, wire, "SpanID", 8, &lr->span_id, err);
            break;
        default: /* attributes (6) were read above */
            rc = pb_skip(&r, wire, err);
        }
    }
    return rc;
}

static int rd_scope_info(otlp_mem *m, pb_rd r, otlp_scope *sc, lk_buf *err)
{
    int rc = rd_attrs(m, r, "InstrumentationScope", 3, &sc->attrs, err);
    while (rc == LK_OK && r.p < r.end) {
        int field = 0, wire = 0;
        pb_rd s = { 0 };
        uint64_t x = 0;
        if ((rc = pb_tag(&r, "InstrumentationScope", &field, &wire, err)))
            return rc;
        if (field == 1 || field == 2) {
            rc = rd_bytes(&r, wire, field == 1 ? "Name" : "Version", &s, err);
            *(field == 1 ? &sc->name : &sc->version) = pb_str(&s);
        } else if (field == 4) {
            rc = rd_varint(&r, wire, "DroppedAttributesCount", &x, err);
            sc->dropped_attrs = (uint32_t)x;
        } else {
            rc = pb_skip(&r, wire, err);
        }
    }
    return rc;
}

static int rd_scope_logs(otlp_mem *m, pb_rd r, int depth, void *elem, lk_buf *err)
{
    otlp_scope *sc = elem;
    int rc = rd_repeated(m, r, "ScopeLogs", 2, depth, sizeof *sc->records, rd_record,
                         (void **)&sc->records, &sc->n_records, err);
    while (rc == LK_OK && r.p < r.end) {
        int field = 0, wire = 0;
        pb_rd s = { 0 };
        if ((rc = pb_tag(&r, "ScopeLogs", &field, &wire, err)))
            return rc;
        if (field == 1) {
            if (!(rc = rd_bytes(&r, wire, "Scope", &s, err)))
                rc = rd_scope_info(m, s, sc, err);
        } else if (field == 2 && wire != 2) {
            rc = pb_wrong(err, wire, "LogRecords");
        } else {
            rc = pb_skip(&r, wire, err);
        }
    }
    return rc;
}

static int rd_resource_logs(otlp_mem *m, pb_rd r, int depth, void *elem, lk_buf *err)
{
    otlp_resource *res = elem;
    int rc = rd_repeated(m, r, "ResourceLogs", 2, depth, sizeof *res->scopes, rd_scope_logs,
                         (void **)&res->scopes, &res->n_scopes, err);
    while (rc == LK_OK && r.p < r.end) {
        int field = 0, wire = 0;
        pb_rd s = { 0 };
        if ((rc = pb_tag(&r, "ResourceLogs", &field, &wire, err)))
            return rc;
        if (field == 1) {
            if (!(rc = rd_bytes(&r, wire, "Resource", &s, err)))
                rc = rd_attrs(m, s, "Resource", 1, &res->attrs, err);
        } else if (field == 2 && wire != 2) {
            rc = pb_wrong(err, wire, "ScopeLogs");
        } else {
            rc = pb_skip(&r, wire, err);
        }
    }
    return rc;
}

int otlp_parse_proto(lk_str body, otlp_mem *m, otlp_logs *out, lk_buf *err)
{
    memset(out, 0, sizeof *out);
    pb_rd r = { (const unsigned char *)body.p, (const unsigned char *)body.p + body.len };
    int rc = rd_repeated(m, r, "ExportLogsServiceRequest", 1, 0, sizeof *out->resources,
                         rd_resource_logs, (void **)&out->resources, &out->n_resources, err);
    while (rc == LK_OK && r.p < r.end) {
        int field = 0, wire = 0;
        if ((rc = pb_tag(&r, "ExportLogsServiceRequest", &field, &wire, err)))
            break;
        if (field == 1 && wire != 2)
            rc = pb_wrong(err, wire, "ResourceLogs");
        else
            rc = pb_skip(&r, wire, err);
    }
    return rc;
}
