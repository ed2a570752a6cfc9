/* The index rebuilt from the chunk files. The index is derived data: every
 * chunk file carries its stream's labels and fingerprint (storage/chunkfile.c),
 * and its path its tenant, time range and CRC (storage/chunkdir.h), so one
 * pass over the files' headers indexes them all again.
 *
 * At start the index is opened with a check, and rebuilt before lokic is
 * ready when it is
 *   missing   no data.mdb, but the chunk directory holds chunk files;
 *   damaged   LMDB does not open it, or the first or last key of one of
 *             its databases does not read (idx_check); the damaged file is
 *             kept as data.mdb.damaged;
 *   behind    it holds fewer chunk keys than there are chunk files (a
 *             chunk has a key per period it overlaps, so never fewer when
 *             consistent): a data.mdb from an older copy, or emptied;
 *   forced    by the caller (-index.rebuild).
 * The new index is built in <dir>/rebuild, one write transaction per batch
 * of chunks, then renamed over data.mdb (the old one stays in use until
 * the rename, and a crash leaves one or the other whole).
 *
 * A chunk file is indexed under the reference its name gives once its
 * labels hash to the name's stream id. A file that fails its checks but
 * whose header still names its stream is indexed too, so that queries
 * reading it say it could not be read (storage/readerr.h) rather than
 * miss it silently; one without a readable header, or in a directory its
 * name does not belong in, is left out with a warning. */
#ifndef LOKIC_STORAGE_REINDEX_H
#define LOKIC_STORAGE_REINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"
#include "storage/chunkdir.h"
#include "storage/index.h"

typedef struct idx_rebuild_stats {
    size_t files;    /* chunk files found */
    size_t indexed;  /* of them indexed */
    size_t damaged;  /* of those, failing their checks (queries will warn) */
    size_t skipped;  /* left out: no readable header, or not where they belong */
    int64_t ns;      /* time taken */
} idx_rebuild_stats;

/* Rebuilds the index in dir from scratch from the chunk files of d, and
 * puts it in place of dir/data.mdb (renamed to data.mdb.damaged first when
 * keep_old). No index may be open on dir. *st (may be NULL) says what was
 * done. LK_EIO with the reason when the index cannot be written or the
 * chunk directory listed. */
int idx_rebuild(const char *dir, const cdir *d, bool keep_old, idx_rebuild_stats *st,
                lk_buf *err);

/* Opens the index in dir as idx_open does, after the check above; rebuilds
 * it first when it is missing, damaged or behind, or always with force.
 * Logs what it found and, when it rebuilt, how many chunks and how long. */
int idx_open_checked(const char *dir, const cdir *d, bool force, idx **out, lk_buf *err);

#endif
