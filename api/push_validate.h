/* Validation of pushed streams with Loki's limits and Loki 2.9's messages
 * (pkg/distributor/validator.go, pkg/validation/validate.go), in Loki's
 * order: line truncation (max_line_size_truncate), then the stream's labels
 * (parse, empty values dropped, count, name and value length, duplicate
 * names), then each entry (too old, too new, line too long, structured
 * metadata disallowed / too large / too many).
 *
 * A stream with bad labels is rejected whole; otherwise bad entries are
 * rejected one by one and the good ones kept. Loki answers with the last
 * error only; lokic lists them: one line per rejected entry (at most
 * PUSH_MAX_STREAM_ERRORS per stream), and when more than one entry of the
 * stream was rejected, a final line as the ingester writes it:
 *   user '<tenant>', total ignored: N out of M for stream: {a="1"} */
#ifndef LOKIC_API_VALIDATE_H
#define LOKIC_API_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/push.h"
#include "api/push_discover.h"
#include "lib/config.h"
#include "lib/labels.h"
#include "lib/str.h"
#include "storage/iter.h"

#define PUSH_MAX_STREAM_ERRORS 10

/* Why data was discarded; the names are Loki's `reason` label values of
 * loki_discarded_samples_total / loki_discarded_bytes_total. */
typedef enum push_reason {
    PUSH_R_INVALID_LABELS,         /* invalid_labels */
    PUSH_R_MISSING_LABELS,         /* missing_labels */
    PUSH_R_MAX_LABEL_NAMES,        /* max_label_names_per_series */
    PUSH_R_LABEL_NAME_TOO_LONG,    /* label_name_too_long */
    PUSH_R_LABEL_VALUE_TOO_LONG,   /* label_value_too_long */
    PUSH_R_DUPLICATE_LABEL_NAMES,  /* duplicate_label_names */
    PUSH_R_TOO_OLD,                /* greater_than_max_sample_age */
    PUSH_R_TOO_NEW,                /* too_far_in_future */
    PUSH_R_LINE_TOO_LONG,          /* line_too_long */
    PUSH_R_SM_DISALLOWED,          /* disallowed_structured_metadata */
    PUSH_R_SM_TOO_LARGE,           /* structured_metadata_too_large */
    PUSH_R_SM_TOO_MANY,            /* structured_metadata_too_many */
    PUSH_R_COUNT
} push_reason;

const char *push_reason_name(push_reason r);

typedef struct push_valid_stream {
    lk_labels labels;        /* parsed, sorted, empty values dropped (owned) */
    lk_buf canonical;        /* labels_canonical(labels) */
    uint64_t fingerprint;    /* labels_hash(canonical) */
    /* Entries that passed, in request order. The array is owned; lines and
     * metadata borrow from the push_request (a truncated line is a shorter
     * view of the same bytes), so the request must outlive these. */
    lk_entry *entries;
    size_t n_entries;
    size_t cap_entries;
    size_t n_rejected;
    size_t n_truncated;              /* lines shortened (max_line_size_truncate) */
    int64_t accepted_bytes;          /* line bytes of the accepted entries */
    int64_t accepted_meta_bytes;     /* their structured metadata (names + values) */
    int64_t rejected_bytes;          /* line bytes of the rejected entries */
    size_t discarded[PUSH_R_COUNT];        /* rejected entries by reason */
    int64_t discarded_bytes[PUSH_R_COUNT]; /* their line bytes by reason */
    int http_status;                 /* 400 when anything was rejected, else 0 */
    /* Loki 3's enrichment (push_discover.h): service_name added to labels,
     * metadata rewritten and detected_level added to entries, whose
     * metadata then lives in meta (owned, kept across calls). enriched: the
     * stream differs from what was sent, so the WAL may not keep the
     * request as it arrived. */
    push_meta_buf meta;
    bool enriched;
} push_valid_stream;

/* Validates stream s of tenant at time now_ns with cfg's limits, applying
 * Loki 3's push-time enrichment (service_name before the label checks,
 * metadata rewriting and detected_level on the accepted entries).
 * `out` must be zeroed before its first use and may be reused for the next
 * stream (its buffers are kept); it is always filled, also on error, with
 * the accepted part. Returns LK_OK when nothing was rejected (a stream with
 * no entries is LK_OK with nothing in out, its labels not even parsed), or
 * LK_EINVAL when entries or the whole stream were rejected: out->http_status
 * is 400 and the messages are appended to *err, after a '\n' when *err is
 * not empty, so one buffer can collect the messages of a whole request. */
int push_validate_stream(const lk_config *cfg, lk_str tenant, const push_stream *s,
                         int64_t now_ns, push_valid_stream *out, lk_buf *err);
void push_valid_stream_free(push_valid_stream *v);

/* The labels of s as push_validate_stream stores them (parsed, sorted,
 * empty values dropped), without the limit checks and without enrichment:
 * for replaying a push request kept whole in the WAL (only requests that
 * enrichment left unchanged are kept whole). LK_EPARSE with the message in *msg. */
int push_stream_labels(const push_stream *s, lk_labels *out, lk_buf *msg);

/* Appends msg to a combined error message, one message per line. */
void push_err_join(lk_buf *all, lk_str msg);

#endif
