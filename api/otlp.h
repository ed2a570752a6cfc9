/* OTLP/HTTP log ingestion (/otlp/v1/logs), as Loki 3.6 reads it
 * (pkg/loghttp/push/otlp.go, otlp_config.go): an ExportLogsServiceRequest
 * in protobuf (application/x-protobuf) or OTLP's JSON mapping
 * (application/json), optionally gzip-encoded, decoded into the model
 * below (otlp_proto.c, otlp_json.c) and mapped to the push_request that
 * the push path stores (otlp_map.c: resource attributes to index labels or
 * structured metadata as limits_config.otlp_config says, everything else
 * to structured metadata). */
#ifndef LOKIC_API_OTLP_H
#define LOKIC_API_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/push.h"
#include "lib/config.h"
#include "lib/otlp_config.h"
#include "lib/str.h"

/* ------------------------------------------------------------ the model */

typedef enum otlp_kind {
    OTLP_EMPTY,     /* no value set */
    OTLP_STRING,
    OTLP_BOOL,
    OTLP_INT,
    OTLP_DOUBLE,
    OTLP_ARRAY,
    OTLP_KVLIST,
    OTLP_BYTES,     /* s: the raw bytes */
    OTLP_BYTES_B64, /* s: the bytes as JSON carried them (standard base64) */
} otlp_kind;

typedef struct otlp_kv otlp_kv;

/* An AnyValue. Strings are views into the decoded body (or the JSON tree). */
typedef struct otlp_value {
    otlp_kind kind;
    lk_str s;
    bool b;
    int64_t i;
    double d;
    struct otlp_value *items; /* OTLP_ARRAY */
    otlp_kv *kvs;             /* OTLP_KVLIST */
    size_t n;                 /* items or kvs */
} otlp_value;

struct otlp_kv {
    lk_str key;
    otlp_value v;
};

typedef struct otlp_attrs {
    otlp_kv *v;
    size_t n;
} otlp_attrs;

typedef struct otlp_record {
    uint64_t time_ns, observed_ns;
    int32_t severity_number;
    lk_str severity_text;
    otlp_value body;
    otlp_attrs attrs;
    uint32_t dropped_attrs;
    uint32_t flags;
    lk_str trace_id, span_id; /* raw bytes (16 and 8 when set) */
} otlp_record;

typedef struct otlp_scope {
    lk_str name, version;
    otlp_attrs attrs;
    uint32_t dropped_attrs;
    otlp_record *records;
    size_t n_records;
} otlp_scope;

typedef struct otlp_resource {
    otlp_attrs attrs;
    otlp_scope *scopes;
    size_t n_scopes;
} otlp_resource;

typedef struct otlp_logs {
    otlp_resource *resources;
    size_t n_resources;
} otlp_logs;

/* Deepest nesting of arrays and key-value lists in one value. */
#define OTLP_MAX_DEPTH 64

/* ------------------------------------------------------------ decoding */

typedef struct otlp_input {
    lk_str content_type;     /* exactly application/x-protobuf or application/json */
    lk_str content_encoding; /* "gzip", or anything else: the body is read as it is */
    const void *body;
    size_t len;
    size_t max_decompressed; /* as push_input's (0: none) */
    api_hold *hold;          /* as push_input's (NULL: unbounded) */
    const lk_otlp_config *cfg;   /* NULL: Loki's default otlp_config */
    /* limits_config.discover_service_name (NULL or empty: off): when no
     * service.name names the service, the first index label on the list
     * gives service_name, else unknown_service */
    const lk_cfg_list *discover_service_name;
} otlp_input;

/* Decodes an OTLP/HTTP logs body into *out, a push_request as push_decode
 * makes (streams with label pairs, entries with structured metadata);
 * free it with push_request_free. On failure: <0 with Loki's message in
 * *err; the status is push_decode_status of the result. */
int otlp_decode(const otlp_input *in, push_request *out, lk_buf *err);

/* The body of Loki's OTLP error answer: a google.rpc.Status protobuf with
 * only its message set. */
void otlp_error_body(lk_buf *out, lk_str message);

/* ------------------------------------------------------------ internals
 * shared by api/otlp*.c and the unit tests. */

/* Where the model's memory comes from: the arena, each block taken from
 * the request's in-flight budget share (hold NULL: unbounded). */
typedef struct otlp_mem {
    lk_arena *a;
    api_hold *hold;
} otlp_mem;
/* n bytes of the arena, or NULL when the budget refused them. */
void *otlp_alloc(otlp_mem *m, size_t n);

/* The decoders fill *out with views into body (protobuf) or into the JSON
 * tree, which *json_tree receives (json_decref it after the model's last
 * use). LK_EPARSE with a message; LK_ELIMIT when the budget refused. */
int otlp_parse_proto(lk_str body, otlp_mem *m, otlp_logs *out, lk_buf *err);
int otlp_parse_json(lk_str body, otlp_mem *m, void **json_tree, otlp_logs *out, lk_buf *err);

/* The model mapped into the push request being built in *pv (otlp_map.c);
 * LK_ELIMIT when the budget refused. */
struct push_priv;
int otlp_map(const otlp_input *in, const otlp_logs *logs, otlp_mem *m, struct push_priv *pv,
             lk_buf *err);

/* pcommon.Value.AsString: strings as they are, numbers and booleans as Go
 * prints them, bytes in base64, maps and arrays as Go's json.Marshal. */
void otlp_value_string(const otlp_value *v, lk_buf *out);
/* otlptranslator.NormalizeLabel: every character outside [A-Za-z0-9_]
 * becomes '_', "key_" before a leading digit, "key" before one leading '_'. */
void otlp_normalize_label(lk_str name, lk_buf *out);

#endif
