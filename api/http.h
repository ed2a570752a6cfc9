/* What a request handler sees: the parsed request (method, path, query and
 * form parameters, headers, body, tenant) and the response it fills in. All
 * request-scoped memory comes from req->arena, freed after the response. */
#ifndef LOKIC_API_HTTP_H
#define LOKIC_API_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "api/inflight.h"
#include "lib/config.h"
#include "lib/str.h"
#include "storage/ingester.h"

struct MHD_Connection;
typedef struct api_state api_state; /* server-wide state (api/state.h) */

typedef struct api_param {
    lk_str name, value;
} api_param;

typedef struct api_req {
    const char *method;
    lk_str path;
    lk_str path_arg;        /* the {name} segment of a route, when it has one */
    api_param *params;      /* URL query arguments, then form body fields */
    size_t n_params, cap_params;
    lk_str body;
    lk_str tenant;
    struct MHD_Connection *conn;
    api_state *st;
    lk_arena arena;
    api_hold hold;          /* the request's bytes in the in-flight budget, given
                               back when the response is sent */
} api_req;

/* A WebSocket upgrade a handler asks for: the server answers 101 with
 * Sec-WebSocket-Accept `accept`, then calls run(ctx, fd) in the
 * connection's thread, which owns the socket (blocking) until it returns;
 * free_ctx(ctx) is called once afterwards, or when the upgrade did not
 * happen. */
typedef struct api_upgrade {
    void (*run)(void *ctx, int fd);
    void (*free_ctx)(void *ctx);
    void *ctx;
    lk_buf accept;
} api_upgrade;

#define API_RESP_MAX_HEADERS 8

typedef struct api_resp {
    int status;
    const char *content_type; /* static string */
    lk_buf body;
    const char *extra_header_name, *extra_header_value; /* one optional static header */
    struct {
        const char *name, *value;
    } headers[API_RESP_MAX_HEADERS]; /* more static headers (api_resp_header) */
    size_t n_headers;
    api_upgrade *upgrade;     /* set (malloc'd) by a handler that upgrades */
} api_resp;

typedef void (*api_handler)(api_req *rq, api_resp *rs);

/* Request accessors. A missing header or parameter gives {NULL, 0}. */
lk_str api_header(const api_req *rq, const char *name);
bool api_param_get(const api_req *rq, const char *name, lk_str *out);
/* NUL-terminated copy of a parameter in the request arena, or NULL. */
const char *api_param_cstr(api_req *rq, const char *name);

/* Responses. Errors are plain text as Loki sends them. */
void api_reply_text(api_resp *rs, int status, const char *text);
void api_reply_error(api_resp *rs, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void api_reply_json(api_resp *rs, int status); /* body already written */
/* Adds a response header; name and value are static strings. At most
 * API_RESP_MAX_HEADERS (a BUG past that). */
void api_resp_header(api_resp *rs, const char *name, const char *value);

#endif
