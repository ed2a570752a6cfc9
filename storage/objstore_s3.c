/* The S3 object store (objstore.h): each call is the S3 client's
 * (s3.h); listing asks S3's default pages of 1000 keys. */
#include "storage/objstore.h"

#include "lib/err.h"
#include "storage/objstore_int.h"

static int put(void *impl, const char *key, const void *p, size_t n, lk_buf *err)
{
    return s3_put(impl, key, p, n, err);
}

static int get(void *impl, const char *key, lk_buf *out, lk_buf *err)
{
    return s3_get(impl, key, out, err);
}

static int get_range(void *impl, const char *key, uint64_t off, uint64_t len, lk_buf *out,
                     lk_buf *err)
{
    return s3_get_range(impl, key, off, len, out, err);
}

static int head(void *impl, const char *key, int64_t *size, lk_buf *err)
{
    return s3_head(impl, key, size, err);
}

static int del(void *impl, const char *key, lk_buf *err)
{
    return s3_delete(impl, key, err);
}

static int list(void *impl, const char *prefix, obj_list_fn fn, void *ctx, lk_buf *err)
{
    return s3_list(impl, prefix, 0, fn, ctx, err);
}

static void close_s3(void *impl)
{
    s3_destroy(impl);
}

static const obj_ops s3_ops = { "s3", put, get, get_range, head, del, list, close_s3 };

int obj_open_s3(const s3_config *cfg, obj_store **out, lk_buf *err)
{
    s3_client *c = NULL;
    int rc = s3_create(cfg, &c, err);
    if (rc == LK_OK)
        *out = obj_store_new(&s3_ops, c);
    return rc;
}
