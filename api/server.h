/* The HTTP server: one libmicrohttpd daemon (a thread per connection, so a
 * long query never delays a push) serving Loki's API on one port. Limits
 * (config server.*): a deadline to read each request, headers and body
 * (http_server_read_timeout, http_server_read_header_timeout), to send its
 * answer (http_server_write_timeout) and to wait for the next one on a kept
 * connection (http_server_idle_timeout); http_listen_conn_limit connections
 * at most, http_listen_conn_limit_per_ip from one client address. */
#ifndef LOKIC_API_SERVER_H
#define LOKIC_API_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/overrides.h"
#include "lib/str.h"
#include "storage/ingester.h"

typedef struct api_server api_server;

/* The server reads cfg and uses g; both must outlive it. */
int api_server_create(const lk_config *cfg, ing *g, api_server **out, lk_buf *err);
/* Binds and starts serving. LK_EIO with the reason when the port is taken. */
int api_server_start(api_server *s, lk_buf *err);
uint16_t api_server_port(const api_server *s);
/* The ruler the rules APIs serve (NULL: they answer 404); set before start.
 * The server only reads it; it must outlive the server. */
struct rul_ruler;
void api_server_set_ruler(api_server *s, struct rul_ruler *r);
/* The memory budget of all running queries, for queries run outside HTTP
 * requests (the ruler's). */
struct qm_budget;
struct qm_budget *api_server_query_budget(api_server *s);
/* The per-tenant limits the server reads (lib/overrides.h); valid until
 * api_server_destroy. */
const lk_overrides *api_server_overrides(api_server *s);
/* /ready answers 200 only once set (after WAL replay in later milestones). */
void api_server_set_ready(api_server *s, bool ready);
/* Stops accepting (new connections are refused), closes idle connections,
 * lets the requests in flight finish and be answered for up to
 * server.graceful_shutdown_timeout, then stops. Live tails end. */
void api_server_stop(api_server *s);
void api_server_destroy(api_server *s); /* accepts NULL */

#endif
