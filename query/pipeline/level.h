/* The log level Loki 3 reads from a line at push time (its distributor's
 * field detection, pkg/distributor/field_detection.go): from a JSON line's
 * level field, a logfmt line's level field, else keywords in the text,
 * normalised to one of Loki's level names. Uses the pipeline's own JSON and
 * logfmt readers, so a line reads the same here as in `| json`/`| logfmt`. */
#ifndef LOKIC_QUERY_PIPELINE_LEVEL_H
#define LOKIC_QUERY_PIPELINE_LEVEL_H

#include <stddef.h>

#include "lib/str.h"

/* The level of line: "trace", "debug", "info", "warn", "error",
 * "critical", "fatal" or "unknown" (a static string).
 *  - a line that starts with '{' and ends with '}' (ignoring white space)
 *    is read as JSON: the first member in document order, in the top
 *    object or in objects nested less than json_max_depth levels deep
 *    (<= 0: any depth), whose name is exactly one of fields and whose value
 *    is a string;
 *  - else a line with a '=' is read as logfmt: the value of the key equal
 *    to fields[x] ignoring ASCII case with the smallest x;
 *  - the value found is matched ignoring case against trace/trc,
 *    debug/dbg, info/inf/information, warn/wrn/warning, error/err,
 *    critical, fatal; no value or another one falls back to keywords:
 *    "info"/"INFO" anywhere, else "[err]"/"err:"/"[error]" (either case),
 *    else "warning"/"warn:"/"[warn]", else "critical:"/"[critical]", else
 *    "debug"/"DEBUG", else "unknown" (lp_keyword_level). */
const char *lp_line_level(lk_str line, const lk_str *fields, size_t n_fields,
                          int json_max_depth);

/* The keyword fallback alone. */
const char *lp_keyword_level(lk_str line);

#endif
