/* The object-store interface (objstore.h): key checks, the dispatch to an
 * implementation, and puts from a file (mapped, then put as a buffer). */
#include "storage/objstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/utf8.h"
#include "storage/objstore_int.h"

#define KEY_MAX 1024

struct obj_store {
    const obj_ops *ops;
    void *impl;
};

obj_store *obj_store_new(const obj_ops *ops, void *impl)
{
    obj_store *s = lk_calloc(1, sizeof *s);
    s->ops = ops;
    s->impl = impl;
    return s;
}

void obj_close(obj_store *s)
{
    if (!s)
        return;
    s->ops->close(s->impl);
    free(s);
}

const char *obj_kind(const obj_store *s)
{
    return s->ops->kind;
}

/* A component is bad when empty, "." or "..", or hidden. */
static bool bad_component(const char *p, size_t n)
{
    return n == 0 || p[0] == '.';
}

static int check_key(const char *key, lk_buf *err)
{
    size_t n = strlen(key);
    bool ok = n > 0 && n <= KEY_MAX && lk_utf8_valid(lk_str_n(key, n));
    for (const char *p = key; ok;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        ok = !bad_component(p, len);
        if (!slash)
            break;
        p = slash + 1;
    }
    if (!ok)
        lk_buf_printf(err, "object key \"%s\": expected 1 to %d bytes of UTF-8 in '/'-separated "
                           "components, none empty or starting with '.'", key, KEY_MAX);
    return ok ? LK_OK : LK_EINVAL;
}

int obj_put(obj_store *s, const char *key, const void *p, size_t n, lk_buf *err)
{
    int rc = check_key(key, err);
    return rc == LK_OK ? s->ops->put(s->impl, key, p ? p : "", n, err) : rc;
}

int obj_put_file(obj_store *s, const char *key, const char *path, lk_buf *err)
{
    int rc = check_key(key, err);
    if (rc != LK_OK)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        lk_buf_printf(err, "%s(\"%s\") failed: %s", fd < 0 ? "open" : "fstat", path,
                      strerror(errno));
        if (fd >= 0)
            close(fd);
        return LK_EIO;
    }
    size_t n = (size_t)st.st_size;
    void *p = n ? mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (p == MAP_FAILED) {
        lk_buf_printf(err, "mmap(\"%s\") failed: %s", path, strerror(errno));
        return LK_EIO;
    }
    rc = s->ops->put(s->impl, key, p ? p : "", n, err);
    if (p)
        munmap(p, n);
    return rc;
}

int obj_get(obj_store *s, const char *key, lk_buf *out, lk_buf *err)
{
    int rc = check_key(key, err);
    return rc == LK_OK ? s->ops->get(s->impl, key, out, err) : rc;
}

int obj_get_range(obj_store *s, const char *key, uint64_t off, uint64_t len, lk_buf *out,
                  lk_buf *err)
{
    int rc = check_key(key, err);
    if (rc != LK_OK || len == 0)
        return rc;
    if (off > UINT64_MAX - len)
        len = UINT64_MAX - off;
    return s->ops->get_range(s->impl, key, off, len, out, err);
}

int obj_head(obj_store *s, const char *key, int64_t *size, lk_buf *err)
{
    int rc = check_key(key, err);
    return rc == LK_OK ? s->ops->head(s->impl, key, size, err) : rc;
}

int obj_delete(obj_store *s, const char *key, lk_buf *err)
{
    int rc = check_key(key, err);
    return rc == LK_OK ? s->ops->del(s->impl, key, err) : rc;
}

int obj_list(obj_store *s, const char *prefix, obj_list_fn fn, void *ctx, lk_buf *err)
{
    return s->ops->list(s->impl, prefix ? prefix : "", fn, ctx, err);
}
