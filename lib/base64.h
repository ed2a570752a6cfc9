/* Standard base64 encoding (RFC 4648, with padding), as Go's
 * base64.StdEncoding writes it. */
#ifndef LOKIC_LIB_BASE64_H
#define LOKIC_LIB_BASE64_H

#include <stddef.h>

#include "lib/str.h"

/* Appends the encoding of the n bytes at p to out. */
void lk_base64_encode(const void *p, size_t n, lk_buf *out);

#endif
