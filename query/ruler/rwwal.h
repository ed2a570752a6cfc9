/* The remote-write queue on disk (ruler.wal.dir): each queued batch is one
 * file, written durably before it is queued and removed once every client
 * took it (or refused it for good), so samples not yet sent survive a
 * restart; the queue's bound (RUL_RW_QUEUE_SAMPLES) bounds the directory
 * too. The byte format is at the top of rwwal.c. Not thread safe: the
 * remote-write queue calls it under its mutex or from one thread. */
#ifndef LOKIC_QUERY_RULER_RWWAL_H
#define LOKIC_QUERY_RULER_RWWAL_H

#include <stdint.h>

#include "lib/str.h"

typedef struct rul_rwwal rul_rwwal;

/* Opens (creates) dir. */
int rul_rwwal_open(const char *dir, rul_rwwal **out, lk_buf *err);
/* Writes one batch (tenant, sample count, snappy WriteRequest body)
 * durably; *seq names it for rul_rwwal_remove. */
int rul_rwwal_append(rul_rwwal *w, const char *tenant, uint32_t n, lk_str body, uint64_t *seq);
void rul_rwwal_remove(rul_rwwal *w, uint64_t seq);

typedef void (*rul_rwwal_fn)(void *ctx, uint64_t seq, const char *tenant, uint32_t n,
                             lk_str body);
/* Calls fn for each valid batch in the order written; a file that is not
 * a valid batch is logged and removed. Returns the batches replayed. */
size_t rul_rwwal_replay(rul_rwwal *w, rul_rwwal_fn fn, void *ctx);
void rul_rwwal_close(rul_rwwal *w); /* accepts NULL */

#endif
