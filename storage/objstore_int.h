/* An object store's implementation (objstore.h) as objstore.c calls it:
 * keys arrive checked; get_range's len is never 0. Private to the
 * objstore files. */
#ifndef LOKIC_STORAGE_OBJSTORE_INT_H
#define LOKIC_STORAGE_OBJSTORE_INT_H

#include "storage/objstore.h"

typedef struct obj_ops {
    const char *kind;
    int (*put)(void *impl, const char *key, const void *p, size_t n, lk_buf *err);
    int (*get)(void *impl, const char *key, lk_buf *out, lk_buf *err);
    int (*get_range)(void *impl, const char *key, uint64_t off, uint64_t len, lk_buf *out,
                     lk_buf *err);
    int (*head)(void *impl, const char *key, int64_t *size, lk_buf *err);
    int (*del)(void *impl, const char *key, lk_buf *err);
    int (*list)(void *impl, const char *prefix, obj_list_fn fn, void *ctx, lk_buf *err);
    void (*close)(void *impl);
} obj_ops;

/* Wraps an implementation; never fails. */
obj_store *obj_store_new(const obj_ops *ops, void *impl);

#endif
