/* A chunk's uncompressed size as Loki counts it (MemChunk.UncompressedSize,
 * which index/volume and index/stats report): every line's bytes, 8 bytes
 * per structured metadata pair (two 4-byte symbol references) and, once
 * per chunk, the bytes of each distinct metadata name or value (Loki's
 * symbol table). Kept in memory beside a chunk that is appended to. */
#ifndef LOKIC_STORAGE_USIZE_H
#define LOKIC_STORAGE_USIZE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/iter.h"

typedef struct chk_usize {
    int64_t bytes;
    uint64_t *syms;    /* open addressing: hashes of the distinct strings (0: empty) */
    size_t n_syms, cap;
} chk_usize;

/* Counts an appended entry (not one merged as a duplicate). */
void chk_usize_add(chk_usize *u, const lk_entry *e);
void chk_usize_free(chk_usize *u);

#endif
