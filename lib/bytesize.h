/* Byte sizes as github.com/dustin/go-humanize's ParseBytes reads them
 * ("42 MB", "42mib", "1,000kB"), for LogQL's byte literals, label
 * filters, unwrap bytes() and the template function bytes. */
#ifndef LOKIC_LIB_BYTESIZE_H
#define LOKIC_LIB_BYTESIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"

/* The length of the number that starts s: the run of digits, '.' and ','
 * (humanize's lastDigit). */
size_t lk_bytes_number_len(lk_str s);
/* go-humanize's bytesSizeTable: the multiplier of a unit ("", "b", "k",
 * "kb", "ki", "kib" ... "eib"), compared without ASCII case; false when it
 * is not one. */
bool lk_bytes_unit(lk_str unit, double *mult);
/* humanize.ParseBytes, with ASCII case folding and ASCII spaces trimmed
 * around the unit. Go's error texts are appended to err (may be NULL):
 * `strconv.ParseFloat: parsing "1.2.3": invalid syntax` (LK_EINVAL),
 * `... value out of range` (LK_ERANGE), `too large: <s>` (LK_ERANGE),
 * `unhandled size name: <unit in lower case>` (LK_EINVAL). */
int lk_parse_bytes(lk_str s, uint64_t *out, lk_buf *err);

#endif
