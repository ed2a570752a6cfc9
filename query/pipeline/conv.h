/* Private to the pipeline: the number conversion of label filters and
 * unwrap, with Go's rules and error texts (which become __error_details__):
 * strconv.ParseFloat. Durations and byte sizes are lib's
 * (lk_parse_go_duration_err, lk_parse_bytes), with the same texts. */
#ifndef LOKIC_QUERY_PL_CONV_H
#define LOKIC_QUERY_PL_CONV_H

#include <stdint.h>

#include "lib/str.h"

/* LK_EINVAL with e.g. `strconv.ParseFloat: parsing "x": invalid syntax`
 * appended to err (may be NULL). Out of range: ±Inf and LK_ERANGE. */
int lp_parse_float(lk_str s, double *out, lk_buf *err);

#endif
