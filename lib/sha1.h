/* SHA-1 (FIPS 180-4), for the WebSocket handshake's Sec-WebSocket-Accept
 * (RFC 6455): not for anything that needs a secure hash. */
#ifndef LOKIC_LIB_SHA1_H
#define LOKIC_LIB_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define LK_SHA1_LEN 20

/* The digest of the concatenation of a (na bytes) and b (nb bytes). */
void lk_sha1(const void *a, size_t na, const void *b, size_t nb, uint8_t out[LK_SHA1_LEN]);

#endif
