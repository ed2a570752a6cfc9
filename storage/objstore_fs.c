/* The file-system object store (objstore.h): the object of key K is the
 * file DIR/K. A put writes DIR/.tmp/<unique>/<name>.tmp (a directory of
 * its own per put, so puts of one name in different directories never
 * meet), fsyncs it, renames it to DIR/K and fsyncs K's directory
 * (fs_write_durable); DIR/.tmp is emptied at open. Listing walks the
 * directory under the prefix's last '/' and sorts the keys. */
#define _GNU_SOURCE /* mkdtemp */
#include "storage/objstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "storage/fsutil.h"
#include "storage/objstore_int.h"

typedef struct fs_store {
    char *root;
    char *tmp; /* root/.tmp */
} fs_store;

static int sys_fail(lk_buf *err, const char *call, const char *path)
{
    lk_buf_printf(err, "%s(\"%s\") failed: %s", call, path, strerror(errno));
    return LK_EIO;
}

static bool missing(int e)
{
    return e == ENOENT || e == ENOTDIR;
}

/* ---- put */

static int put_in(fs_store *s, const char *dir, const char *name, lk_str bytes, lk_buf *err)
{
    lk_buf tmpl = { 0 };
    lk_buf_printf(&tmpl, "%s/XXXXXX", s->tmp);
    int rc = LK_OK;
    if (!mkdtemp(tmpl.p)) {
        rc = sys_fail(err, "mkdtemp", tmpl.p);
    } else {
        rc = fs_write_durable(tmpl.p, dir, name, bytes, 1, err);
        rmdir(tmpl.p);
    }
    lk_buf_free(&tmpl);
    return rc;
}

static int fs_put(void *impl, const char *key, const void *p, size_t n, lk_buf *err)
{
    fs_store *s = impl;
    lk_buf dir = { 0 };
    lk_buf_printf(&dir, "%s/%s", s->root, key);
    char *slash = strrchr(dir.p, '/');
    *slash = '\0';
    int rc = fs_mkdirs(dir.p, err);
    if (rc == LK_OK)
        rc = put_in(s, dir.p, slash + 1, lk_str_n(p, n), err);
    lk_buf_free(&dir);
    return rc;
}

/* ---- reads */

/* Opens the regular file of key: LK_ENOTFOUND when there is none. */
static int open_key(fs_store *s, const char *key, int *fd, int64_t *size, lk_buf *err)
{
    lk_buf path = { 0 };
    lk_buf_printf(&path, "%s/%s", s->root, key);
    struct stat st;
    int rc = LK_OK;
    *fd = open(path.p, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        rc = missing(errno) ? LK_ENOTFOUND : sys_fail(err, "open", path.p);
    else if (fstat(*fd, &st) != 0)
        rc = sys_fail(err, "fstat", path.p);
    else if (!S_ISREG(st.st_mode))
        rc = LK_ENOTFOUND; /* the directory of other keys */
    if (rc != LK_OK && *fd >= 0)
        close(*fd);
    if (rc == LK_OK)
        *size = st.st_size;
    lk_buf_free(&path);
    return rc;
}

/* Appends up to len bytes from off (fewer at the end of the file). */
static int read_at(int fd, const char *key, uint64_t off, uint64_t len, lk_buf *out, lk_buf *err)
{
    char tmp[65536];
    while (len > 0) {
        size_t want = len < sizeof tmp ? (size_t)len : sizeof tmp;
        ssize_t r = pread(fd, tmp, want, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return sys_fail(err, "pread", key);
        if (r == 0)
            break;
        lk_buf_append(out, tmp, (size_t)r);
        off += (uint64_t)r;
        len -= (uint64_t)r;
    }
    return LK_OK;
}

static int fs_get_range(void *impl, const char *key, uint64_t off, uint64_t len, lk_buf *out,
                        lk_buf *err)
{
    int fd;
    int64_t size;
    int rc = open_key(impl, key, &fd, &size, err);
    if (rc != LK_OK)
        return rc;
    if (off < (uint64_t)size)
        rc = read_at(fd, key, off, len, out, err);
    close(fd);
    return rc;
}

static int fs_get(void *impl, const char *key, lk_buf *out, lk_buf *err)
{
    return fs_get_range(impl, key, 0, UINT64_MAX, out, err);
}

static int fs_head(void *impl, const char *key, int64_t *size, lk_buf *err)
{
    int fd;
    int rc = open_key(impl, key, &fd, size, err);
    if (rc == LK_OK)
        close(fd);
    return rc;
}

static int fs_del(void *impl, const char *key, lk_buf *err)
{
    fs_store *s = impl;
    lk_buf path = { 0 };
    lk_buf_printf(&path, "%s/%s", s->root, key);
    int rc = LK_OK;
    if (unlink(path.p) != 0 && !missing(errno) && errno != EISDIR)
        rc = sys_fail(err, "unlink", path.p);
    lk_buf_free(&path);
    return rc;
}

/* ---- listing */

typedef struct key_list {
    struct listed {
        char *key;
        int64_t size;
    } *v;
    size_t n, cap;
} key_list;

/* Adds the files under root/rel (rel "" or ending in '/') whose keys begin
 * with prefix; names starting with '.' are the store's own. */
static int walk(const char *root, const char *rel, const char *prefix, key_list *out,
                lk_buf *err)
{
    lk_buf dir = { 0 }, key = { 0 }, path = { 0 };
    lk_buf_printf(&dir, "%s/%s", root, rel);
    fs_names names;
    int rc = fs_list(dir.p, &names, err);
    for (size_t i = 0; rc == LK_OK && i < names.n; i++) {
        if (names.v[i][0] == '.')
            continue;
        lk_buf_reset(&key);
        lk_buf_printf(&key, "%s%s", rel, names.v[i]);
        size_t common = key.len < strlen(prefix) ? key.len : strlen(prefix);
        if (strncmp(key.p, prefix, common) != 0)
            continue; /* neither under the prefix nor above it */
        lk_buf_reset(&path);
        lk_buf_printf(&path, "%s/%s", root, key.p);
        struct stat st;
        if (lstat(path.p, &st) != 0) {
            if (!missing(errno)) /* else deleted while we walk */
                rc = sys_fail(err, "lstat", path.p);
        } else if (S_ISDIR(st.st_mode)) {
            lk_buf_putc(&key, '/');
            rc = walk(root, key.p, prefix, out, err);
        } else if (S_ISREG(st.st_mode) && key.len >= strlen(prefix)) {
            out->v = lk_grow(out->v, &out->cap, out->n + 1, sizeof *out->v);
            out->v[out->n++] = (struct listed){ lk_buf_steal(&key), st.st_size };
        }
    }
    fs_names_free(&names);
    lk_buf_free(&dir);
    lk_buf_free(&key);
    lk_buf_free(&path);
    return rc;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct listed *)a)->key, ((const struct listed *)b)->key);
}

static int fs_obj_list(void *impl, const char *prefix, obj_list_fn fn, void *ctx, lk_buf *err)
{
    fs_store *s = impl;
    key_list l = { 0 };
    int rc = walk(s->root, "", prefix, &l, err);
    if (rc == LK_OK && l.n)
        qsort(l.v, l.n, sizeof *l.v, by_key);
    for (size_t i = 0; rc == LK_OK && i < l.n; i++)
        rc = fn(ctx, l.v[i].key, l.v[i].size);
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i].key);
    free(l.v);
    return rc;
}

/* ---- open and close */

static void fs_close(void *impl)
{
    fs_store *s = impl;
    if (!s)
        return;
    free(s->root);
    free(s->tmp);
    free(s);
}

static const obj_ops fs_ops = { "filesystem", fs_put, fs_get, fs_get_range, fs_head, fs_del,
                                fs_obj_list, fs_close };

int obj_open_fs(const char *dir, obj_store **out, lk_buf *err)
{
    fs_store *s = lk_calloc(1, sizeof *s);
    s->root = lk_strdup(dir);
    lk_buf tmp = { 0 };
    lk_buf_printf(&tmp, "%s/.tmp", dir);
    s->tmp = lk_buf_steal(&tmp);
    int rc = fs_mkdirs(dir, err);
    if (rc == LK_OK)
        rc = fs_remove_tree(s->tmp, err);
    if (rc == LK_OK)
        rc = fs_mkdirs(s->tmp, err);
    if (rc != LK_OK) {
        fs_close(s);
        return rc;
    }
    *out = obj_store_new(&fs_ops, s);
    return LK_OK;
}
