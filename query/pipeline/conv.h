/* Private to the pipeline: the value conversions of label filters and
 * unwrap, with Go's rules and error texts (which become __error_details__):
 * strconv.ParseFloat, time.ParseDuration and go-humanize's ParseBytes. */
#ifndef LOKIC_QUERY_PL_CONV_H
#define LOKIC_QUERY_PL_CONV_H

#include <stdint.h>

#include "lib/str.h"

/* LK_EINVAL with e.g. `strconv.ParseFloat: parsing "x": invalid syntax`
 * appended to err (may be NULL). Out of range: ±Inf and LK_ERANGE. */
int lp_parse_float(lk_str s, double *out, lk_buf *err);
/* `unhandled size name: x`, `too large: x`, or ParseFloat's error. */
int lp_parse_bytes(lk_str s, uint64_t *out, lk_buf *err);

#endif
