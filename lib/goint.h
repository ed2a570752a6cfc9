/* Go's strconv.ParseInt(s, 10, 64) (and strconv.Atoi, the same on 64-bit):
 * an optional sign, then decimal digits only, within int64. */
#ifndef LOKIC_LIB_GOINT_H
#define LOKIC_LIB_GOINT_H

#include <stdint.h>

#include "lib/str.h"

/* 0 with *out set; LK_EPARSE when s is not such a number (empty, a sign
 * alone, any other byte), LK_ERANGE when it is one outside int64. */
int lk_go_parse_int(lk_str s, int64_t *out);

#endif
