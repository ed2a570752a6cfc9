/* Loki 3's push-time enrichment, applied by push validation
 * (push_validate_stream) to every stream whatever its decoder (protobuf,
 * JSON, OTLP), before the stream is stored and logged:
 *   - service_name discovery (limits_config.discover_service_name), on the
 *     stream's labels before their limits are checked, as Loki's push
 *     parser does;
 *   - detected_level discovery (discover_log_levels, log_level_fields,
 *     log_level_from_json_max_depth), on each entry that passed
 *     validation, as Loki's distributor does (so detected_level never
 *     counts against the structured metadata limits).
 * See pkg/loghttp/push/push.go and pkg/distributor/field_detection.go. */
#ifndef LOKIC_API_PUSH_DISCOVER_H
#define LOKIC_API_PUSH_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"
#include "lib/labels.h"
#include "storage/iter.h"

#define PUSH_SERVICE_NAME "service_name"
#define PUSH_UNKNOWN_SERVICE "unknown_service"
#define PUSH_DETECTED_LEVEL "detected_level"

/* On a parsed, sorted label set: when discovery is on (a non-empty list),
 * the set has no service_name and is not one of Loki's internal streams
 * (__aggregated_metric__, __pattern__), adds service_name with the value
 * of the first listed label present, else "unknown_service". True when
 * the set changed (it is rebuilt, still sorted). */
bool push_discover_service_name(const lk_config *cfg, lk_labels *labels);

/* The detected_level of an entry of a stream with labels, or false when
 * Loki adds none: the entry already has detected_level; else the value
 * (as it is) of the first of cfg->log_level_fields that is a stream
 * label, else that is a metadata name (an empty value: no level at all);
 * else from the OTLP severity_number metadata; else from the line
 * (lp_line_level). The value borrows from labels, the entry or static
 * storage. Does not look at discover_log_levels. */
bool push_detect_level(const lk_config *cfg, const lk_labels *labels, const lk_entry *e,
                       lk_str *level);

/* Structured metadata names as Loki 3's distributor rewrites them
 * (Prometheus' otlptranslator LabelNamer): every run of characters other
 * than [A-Za-z0-9] becomes one '_' (inside __reserved__ names too), a name
 * starting with a digit gets "key_" in front. False when the name cannot
 * be rewritten (empty, or only underscores): it is then left as it is. The
 * result goes to *out when it differs (true is returned either way). */
bool push_metadata_name(lk_str name, lk_buf *out, bool *changed);

/* Where enriched entries' metadata lives: the arrays and the rewritten
 * strings. Owned by the caller, reused across calls (each call drops what
 * the previous one made); zero it before the first use. */
typedef struct push_meta_buf {
    lk_label *v;
    size_t cap;
    lk_arena strings;
} push_meta_buf;

void push_meta_buf_free(push_meta_buf *b);

/* Loki's distributor over a stream's accepted entries, in its order:
 * metadata names rewritten (push_metadata_name; a rewritten name replaces
 * a pair of that name) and invalid UTF-8 or U+FFFD in metadata values
 * replaced by spaces; then, when discover_log_levels and
 * allow_structured_metadata are on, detected_level added after the rest
 * (push_detect_level). An entry changed this way points at a copy of its
 * metadata in *b, valid until the next call with b. Returns how many
 * entries were changed. */
size_t push_enrich_entries(const lk_config *cfg, const lk_labels *labels, lk_entry *entries,
                           size_t n, push_meta_buf *b);

#endif
