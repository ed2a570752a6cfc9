/* What the WAL files share with each other (wal.c, walrec.c,
 * walreplay.c) and nobody else. Private to storage/. */
#ifndef LOKIC_STORAGE_WAL_INT_H
#define LOKIC_STORAGE_WAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"
#include "storage/wal.h"

#define WAL_SEG_MAGIC "LKWL"
#define WAL_SEG_VERSION 1
#define WAL_SEG_HDR 16 /* segment header bytes */
#define WAL_REC_HDR 8  /* record framing: length, CRC */

#define WAL_FLAG_SNAPPY 0x01 /* payload flag: body compressed */

/* walrec.c: the payload up to the body (type, flags, tenant, canonical,
 * entry count) into out (appended). */
void wal_rec_put_prefix(lk_buf *out, uint8_t flags, lk_str tenant, lk_str canonical, uint32_t n);
/* walrec.c: the payload of a push request record up to its body. */
void wal_rec_put_push_prefix(lk_buf *out, lk_str tenant, uint8_t format);

/* walreplay.c: what a file name in the WAL directory is. */
typedef enum wal_name_kind {
    WAL_NAME_OTHER,     /* not a segment's name */
    WAL_NAME_SEGMENT,   /* "00000012.wal": *id set */
    WAL_NAME_BAD_ID,    /* a segment's name whose id is 0 or above
                           WAL_MAX_SEGMENT_ID: never written by lokic */
} wal_name_kind;
wal_name_kind wal_parse_segment_name(const char *name, uint64_t *id);

#endif
