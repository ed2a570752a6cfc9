/* The chunk directory: flushed chunks as immutable files, one directory
 * per tenant and 24-hour period, so retention deletes directories:
 *
 *   <root>/<tenant>/<period>/<fp>-<h2>-<from>-<through>-<crc>.lkc
 *
 * tenant: the tenant ID with every byte outside [A-Za-z0-9!-_.*'()]
 *   written %XX (and "." / ".." written %2E / %2E%2E)
 * period: the period of the chunk's last entry (through), in decimal
 *   (a chunk spanning midnight lives with its later day, so it is deleted
 *   only when all of it is past the retention)
 * fp, h2: the stream id, 16 lowercase hex digits each
 * from, through: the chunk's first and last timestamp as 16 hex digits of
 *   the two's-complement 64-bit value
 * crc: the file's footer CRC32C, 8 hex digits
 *
 * The file bytes are the chunk file format (storage/chunkfile.c). Files are
 * written under a temporary name in <root>/staging% (a name no tenant
 * directory can have: '%' is always followed by two hex digits there),
 * fsynced, renamed into place, and their directory fsynced; they never
 * change afterwards. The staging directory is emptied when the chunk
 * directory is opened (what a crash left there was never indexed).
 * Readers map them
 * (mmap) and decode only the header and block index until a block is
 * needed. */
#ifndef LOKIC_STORAGE_CHUNKDIR_H
#define LOKIC_STORAGE_CHUNKDIR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"
#include "storage/chunk.h"
#include "storage/chunkref.h"

typedef struct cdir cdir;

/* Opens the directory, creating it when missing. LK_EIO with the reason. */
int cdir_open(const char *root, cdir **out, lk_buf *err);
void cdir_close(cdir *d); /* accepts NULL */

/* The full path of a chunk's file (into out, replaced). */
void cdir_path(const cdir *d, lk_str tenant, const chk_ref *r, lk_buf *out);

typedef struct cdir_file {
    lk_str tenant;
    chk_ref ref;
    lk_str bytes;        /* the encoded chunk file */
    int rc;              /* out: 0 once durable, LK_EIO otherwise */
} cdir_file;

/* Writes n files durably: all into staging, one syncfs, renames, then
 * each directory fsynced once. Sets each file's rc; returns 0 when all
 * succeeded, else LK_EIO with the first failure's reason in *err. */
int cdir_write(cdir *d, cdir_file *v, size_t n, lk_buf *err);

/* Maps and decodes a chunk file, checking that it holds the stream
 * `canonical` and matches the reference (size, when not 0, and CRC).
 * LK_ENOTFOUND when the file is missing; LK_ECORRUPT (or LK_EUNSUPPORTED)
 * with the reason when it does not decode or does not match; LK_EIO for
 * other failures. The chunk keeps the mapping until its last block is
 * released. */
int cdir_read(const cdir *d, lk_str tenant, const chk_ref *r, lk_str canonical, chk_chunk **out,
              lk_buf *err);

/* A chunk file found by cdir_scan. */
typedef struct cdir_entry {
    lk_str tenant;   /* decoded from its directory name */
    int32_t period;  /* of its directory */
    chk_ref ref;     /* sid, from, through and crc from its name; size and
                        entries 0 */
    const char *path;
} cdir_entry;
/* Called for each chunk file; a non-zero return stops the scan with it. */
typedef int (*cdir_scan_fn)(void *ctx, const cdir_entry *e);

/* Calls fn for every chunk file (directory listings only: no file is
 * opened). Names that are not a tenant, a period or a chunk file name in
 * their place (temporary files, anything else) are left alone and counted
 * in *foreign (may be NULL); the staging directory is not visited. LK_EIO
 * when the root cannot be listed, else what fn returned. */
int cdir_scan(const cdir *d, cdir_scan_fn fn, void *ctx, size_t *foreign, lk_buf *err);

/* What indexing the chunk file e needs without decoding it: its header
 * (chk_file_info_get), and its size. A file that fails the header, index
 * or footer checks is still read as far as chk_file_info_peek can: *damaged
 * is then set and *err says why. info->canonical is copied into
 * *canonical (replaced). LK_ENOTFOUND or LK_EIO when it cannot be opened
 * or mapped; LK_ECORRUPT when not even its header can be read. */
int cdir_read_info(const cdir_entry *e, chk_file_info *info, lk_buf *canonical, uint64_t *size,
                   bool *damaged, lk_buf *err);

/* Retention: removes every tenant's period directories below `period`.
 * *removed (may be NULL) counts the directories removed. */
int cdir_drop_before(cdir *d, int32_t period, size_t *removed, lk_buf *err);
/* The same with each tenant's own cut (per-tenant retention_period). */
int cdir_drop_expired(cdir *d, chk_cutoff_fn cut, void *ctx, size_t *removed, lk_buf *err);

#endif
