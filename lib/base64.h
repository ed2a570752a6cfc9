/* Standard base64 (RFC 4648, with padding), as Go's base64.StdEncoding
 * writes and reads it. */
#ifndef LOKIC_LIB_BASE64_H
#define LOKIC_LIB_BASE64_H

#include <stddef.h>

#include "lib/str.h"

/* Appends the encoding of the n bytes at p to out. */
void lk_base64_encode(const void *p, size_t n, lk_buf *out);

/* Appends the bytes that s encodes to out: LK_OK, or LK_EINVAL (out as
 * it was) when s is not padded standard base64 (no whitespace allowed). */
int lk_base64_decode(lk_str s, lk_buf *out);

#endif
