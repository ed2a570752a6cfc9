/* What names a flushed chunk everywhere outside its file: the stream's
 * identity (fingerprint plus a second hash of the canonical labels, which
 * tells apart two label sets whose fingerprints collide), its time range and
 * the CRC of its file. The index (storage/index.h) stores chunk references,
 * the chunk directory (storage/chunkdir.h) derives the file's path from one,
 * and query views carry them until an iterator opens the file.
 *
 * Time is split into 24-hour periods (day numbers since the Unix epoch,
 * rounded down, negative before 1970): index keys and chunk directories are
 * grouped by period, so retention deletes whole periods. */
#ifndef LOKIC_STORAGE_CHUNKREF_H
#define LOKIC_STORAGE_CHUNKREF_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"

#define CHK_PERIOD_NS (INT64_C(86400) * INT64_C(1000000000))

/* A stream's identity in the index and on disk. */
typedef struct chk_sid {
    uint64_t fp; /* labels_hash(canonical): XXH3-64 */
    uint64_t h2; /* chk_sid_h2(canonical): XXH3-64 with another seed */
} chk_sid;

typedef struct chk_ref {
    chk_sid sid;
    int64_t from, through; /* first and last entry timestamp (ns) */
    uint32_t crc;          /* the file's footer CRC32C (chunkfile.c) */
    uint32_t entries;
    uint64_t size;         /* file bytes */
} chk_ref;

/* The second hash of a stream's canonical labels. */
uint64_t chk_sid_h2(lk_str canonical);
chk_sid chk_sid_of(lk_str canonical);

static inline bool chk_sid_eq(chk_sid a, chk_sid b)
{
    return a.fp == b.fp && a.h2 == b.h2;
}

/* Same chunk (the fields that name its file)? */
static inline bool chk_ref_same(const chk_ref *a, const chk_ref *b)
{
    return chk_sid_eq(a->sid, b->sid) && a->from == b->from && a->through == b->through &&
           a->crc == b->crc;
}

/* The period holding ts: floor(ts / 24h). */
static inline int32_t chk_period(int64_t ts)
{
    int64_t p = ts / CHK_PERIOD_NS;
    if (ts % CHK_PERIOD_NS < 0)
        p--;
    return (int32_t)p;
}

/* Retention's cut per tenant: its periods below the returned one are
 * deleted (INT32_MIN: none of them). */
typedef int32_t (*chk_cutoff_fn)(void *ctx, lk_str tenant);

/* The footer CRC of an encoded chunk file (its last 4 bytes, LE). */
uint32_t chk_file_crc(lk_str file);

#endif
