/* Connection deadlines: which phase each HTTP connection is in (reading a
 * request, answering it, sending the answer, idle between requests) and by
 * when it must leave it. A watchdog thread shuts down the socket of a
 * connection past its deadline, so a client that trickles its request (a
 * byte every few seconds restarts libmicrohttpd's inactivity timeout) holds
 * its connection no longer than the read timeout. At shutdown,
 * api_connwatch_drain closes the idle connections and waits for the
 * requests in flight to be answered.
 *
 * Deadlines, as Go's net/http applies Loki's server.http_server_* timeouts:
 *   accepted         the first request's headers within read_header_timeout
 *                    (0: read_timeout) of the accept, and the whole request
 *                    within read_timeout
 *   request line     of a later request on a kept-alive connection: the
 *                    same two deadlines, from the moment its request line
 *                    is in (Go starts them at its first byte)
 *   request read     none while the handler runs (a long query, a push
 *                    waiting for the WAL)
 *   response queued  sent within write_timeout (Go's also covers the
 *                    handler; lokic's bounds only a client that does not
 *                    read)
 *   upgraded         none: a WebSocket (tail) owns the socket
 *   response sent    the next request line within idle_timeout (0:
 *                    read_timeout)
 * A timeout of 0 is no deadline. The watchdog looks every tenth of the
 * shortest timeout (10 ms to 1 s), so a deadline is met that closely. */
#ifndef LOKIC_API_CONNWATCH_H
#define LOKIC_API_CONNWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct api_connwatch api_connwatch;
typedef struct api_conn api_conn;

typedef struct api_connwatch_opts {
    int64_t read_header_timeout_ns;
    int64_t read_timeout_ns;
    int64_t write_timeout_ns;
    int64_t idle_timeout_ns;
} api_connwatch_opts;

typedef enum api_conn_event {
    API_CONN_REQUEST_LINE, /* a request's first line is in */
    API_CONN_HEADERS,      /* its headers are in */
    API_CONN_REQUEST_READ, /* its body is in: the handler runs */
    API_CONN_RESPONSE,     /* a response is queued */
    API_CONN_UPGRADED,     /* the socket is handed to a WebSocket */
    API_CONN_DONE,         /* the request ended; the connection may be reused */
} api_conn_event;

/* Starts the watchdog thread. LK_EIO when it cannot be started. */
int api_connwatch_create(const api_connwatch_opts *o, api_connwatch **out);
/* Stops the watchdog; every connection must be closed. Accepts NULL. */
void api_connwatch_destroy(api_connwatch *w);

/* A connection was accepted on fd (libmicrohttpd's, closed only after
 * api_conn_close). */
api_conn *api_conn_open(api_connwatch *w, int fd);
/* The connection is gone; c is freed. Accepts NULL. */
void api_conn_close(api_connwatch *w, api_conn *c);
/* Moves c to the phase the event starts. false when the watchdog has shut
 * the connection down already (the request is not to be answered). Accepts
 * NULL (true). */
bool api_conn_event_on(api_connwatch *w, api_conn *c, api_conn_event ev);

/* Shutdown: closes the idle connections (and those accepted more than 5 s
 * ago that sent no request line yet, as Go's Shutdown does), then waits
 * until every other one is closed or idle, closing those that become
 * idle, for at most grace_ns. Returns how many were still busy. New
 * connections must no longer be accepted. */
size_t api_connwatch_drain(api_connwatch *w, int64_t grace_ns);

#endif
