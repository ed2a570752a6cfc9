/* The server side of WebSocket (RFC 6455), as much as /loki/api/v1/tail
 * needs: the handshake's accept value, unmasked frames out, and reading
 * the client's control frames (ping answered, close noticed). */
#ifndef LOKIC_API_WS_H
#define LOKIC_API_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"

#define WS_TEXT 0x1
#define WS_CLOSE 0x8
#define WS_PING 0x9
#define WS_PONG 0xA

#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_INTERNAL 1011

/* Sec-WebSocket-Accept for the client's Sec-WebSocket-Key (into out,
 * replaced). */
void ws_accept_value(lk_str key, lk_buf *out);

/* Sends one unfragmented frame. 0, or -1 when the peer is gone. */
int ws_send(int fd, int opcode, const void *p, size_t n);
/* Sends a close frame with a status code and reason. */
void ws_send_close(int fd, uint16_t code, lk_str reason);

/* Waits up to timeout_ms for frames from the client and handles them:
 * pings are answered, data frames ignored. true when the client closed the
 * connection (a close frame, EOF, an error, or a malformed frame). */
bool ws_client_gone(int fd, int timeout_ms);

#endif
