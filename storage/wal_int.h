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

/* walreplay.c: the id of a segment file name ("00000012.wal"); false for
 * any other name. */
bool wal_parse_segment_name(const char *name, uint32_t *id);

#endif
