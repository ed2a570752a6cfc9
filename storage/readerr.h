/* What a query could not read: every place storage skips something a query
 * should have read (an index entry skipped as corrupt, an index read that
 * failed, a chunk file that is missing, unreadable or fails its checks, a
 * block that fails its CRC or does not decode) records it here, in the
 * query's stats (storage/iter.h), with a count and the first occurrence's
 * detail per reason. The answer then carries a warning per reason (Loki 3's
 * "warnings"), and the process-wide counter
 * lokic_query_read_errors_total{reason} counts every occurrence.
 *
 * Bounded: one fixed-size record per reason, so a query that skips a
 * million blocks still carries a handful of messages. */
#ifndef LOKIC_STORAGE_READERR_H
#define LOKIC_STORAGE_READERR_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"

typedef enum sto_read_reason {
    STO_READ_INDEX_CORRUPT,    /* index entries skipped as malformed */
    STO_READ_INDEX_FAILED,     /* an index read failed: answered from memory */
    STO_READ_CHUNK_MISSING,    /* an indexed chunk file is not there */
    STO_READ_CHUNK_UNREADABLE, /* open, fstat or mmap of a chunk file failed */
    STO_READ_CHUNK_CORRUPT,    /* a chunk file fails its header, index or checksum
                                  checks, or does not hold the stream indexed */
    STO_READ_BLOCK_CORRUPT,    /* a block fails its CRC or does not decode */
    STO_READ_N
} sto_read_reason;

/* Longest detail kept (longer ones are cut). */
#define STO_READ_DETAIL 256

typedef struct sto_read_errors {
    int64_t n[STO_READ_N];                  /* occurrences per reason */
    char first[STO_READ_N][STO_READ_DETAIL]; /* the first one's detail ("" when none) */
} sto_read_errors;

/* Records n occurrences of reason r, the first with its detail (printf
 * format), into *e (may be NULL: only the metric counts them), and counts
 * them in lokic_query_read_errors_total{reason}. Thread-safe for distinct
 * e. */
void sto_read_error(sto_read_errors *e, sto_read_reason r, int64_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds src's counts to dst; keeps dst's first details, taking src's where
 * dst has none. */
void sto_read_errors_add(sto_read_errors *dst, const sto_read_errors *src);

/* Any occurrence at all? */
bool sto_read_errors_any(const sto_read_errors *e);

/* The warning for reason r, appended to out, e.g.
 *   1 chunk file could not be read: <detail>; results may be incomplete
 * false (nothing appended) when r did not occur. */
bool sto_read_warning(const sto_read_errors *e, sto_read_reason r, lk_buf *out);

/* The metric's label value of r: index_corrupt, index_failed,
 * chunk_missing, chunk_unreadable, chunk_corrupt, block_corrupt. */
const char *sto_read_reason_name(sto_read_reason r);

/* Registers lokic_query_read_errors_total with a zero series per reason,
 * so that it is scraped before the first error. */
void sto_read_errors_register_metric(void);

#endif
