/* The iterator interface storage exports to the query layer: a stream of
 * entries of one stream, in time order (forward or backward), lazily decoded.
 * A returned entry's pointers stay valid until the next call on the same
 * iterator. Memory and on-disk chunks (later) implement the same interface. */
#ifndef LOKIC_STORAGE_ITER_H
#define LOKIC_STORAGE_ITER_H

#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "storage/readerr.h"

typedef struct lk_entry {
    int64_t ts;           /* Unix ns */
    lk_str line;
    size_t n_meta;        /* structured metadata pairs */
    const lk_label *meta;
} lk_entry;

/* Counters a query accumulates while reading (the `stats` object of a query
 * response). One per reader thread; summed at the end. */
typedef struct sto_stats {
    int64_t head_chunk_bytes, head_chunk_lines;       /* uncompressed head data read */
    int64_t decompressed_bytes, decompressed_lines;   /* from compressed blocks */
    int64_t compressed_bytes;                         /* of the blocks decoded */
    int64_t total_chunks_ref, total_chunks_matched;   /* chunks looked at / in range */
    int64_t blocks_skipped;                           /* blocks never decompressed */
    int64_t blocks_decoded;                           /* blocks decompressed */
    int64_t blocks_partial;                           /* of those, without their lines */
    int64_t chunks_downloaded;                        /* chunk files opened */
    int64_t decompressed_meta_bytes;                  /* metadata bytes of decoded blocks */
    int64_t duplicates;                               /* identical entries merged */
    int64_t corrupt_blocks;                           /* blocks skipped as corrupt */
    sto_read_errors read_errors;                      /* what could not be read, why */
} sto_stats;

typedef struct sto_iter sto_iter;
typedef struct sto_iter_ops {
    /* 1: *e is the next entry; 0: the end; <0: an LK_E* error. */
    int (*next)(sto_iter *it, lk_entry *e);
    void (*destroy)(sto_iter *it);
} sto_iter_ops;

struct sto_iter {
    const sto_iter_ops *ops;
};

static inline int sto_iter_next(sto_iter *it, lk_entry *e)
{
    return it->ops->next(it, e);
}

static inline void sto_iter_destroy(sto_iter *it)
{
    if (it)
        it->ops->destroy(it);
}

#endif
