/* File-system helpers (storage/fsutil.h). */
#define _GNU_SOURCE
#include "storage/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/mem.h"

static int fail(lk_buf *err, const char *call, const char *path)
{
    int e = errno;
    if (err)
        lk_buf_printf(err, "%s(\"%s\") failed: %s", call, path, strerror(e));
    errno = e;
    return LK_EIO;
}

int fs_fsync_dir(const char *path, lk_buf *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, "open", path);
    int rc = fsync(fd) != 0 ? fail(err, "fsync", path) : 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return lk_strdup(".");
    if (slash == path)
        return lk_strdup("/");
    return lk_strndup(path, (size_t)(slash - path));
}

int fs_mkdirs(const char *path, lk_buf *err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
        return fail(err, "mkdir", path);
    }
    char *parent = parent_of(path);
    int rc = strcmp(parent, path) == 0 ? 0 : fs_mkdirs(parent, err);
    if (rc == 0 && mkdir(path, 0755) != 0 && errno != EEXIST)
        rc = fail(err, "mkdir", path);
    else if (rc == 0)
        rc = fs_fsync_dir(parent, err);
    free(parent);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int fs_write_durable(const char *tmp_dir, const char *dir, const char *name, lk_str bytes,
                     int sync_dir, lk_buf *err)
{
    lk_buf path = { 0 }, tmp = { 0 };
    lk_buf_printf(&path, "%s/%s", dir, name);
    lk_buf_printf(&tmp, "%s/%s.tmp", tmp_dir ? tmp_dir : dir, name);
    int rc = 0;
    int fd = open(tmp.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = fail(err, "open", tmp.p);
        goto out;
    }
    if (write_all(fd, bytes.p, bytes.len) != 0)
        rc = fail(err, "write", tmp.p);
    else if (fsync(fd) != 0)
        rc = fail(err, "fsync", tmp.p);
    int e = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = fail(err, "close", tmp.p);
        e = errno;
    }
    if (rc == 0 && rename(tmp.p, path.p) != 0) {
        rc = fail(err, "rename", tmp.p);
        e = errno;
    }
    if (rc != 0) {
        unlink(tmp.p);
        errno = e;
        goto out;
    }
    if (sync_dir)
        rc = fs_fsync_dir(dir, err);
out:
    lk_buf_free(&path);
    lk_buf_free(&tmp);
    return rc;
}

int fs_write_unsynced(const char *path, lk_str bytes, lk_buf *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(err, "open", path);
    int rc = write_all(fd, bytes.p, bytes.len) != 0 ? fail(err, "write", path) : 0;
    int e = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = fail(err, "close", path);
        e = errno;
    }
    if (rc != 0) {
        unlink(path);
        errno = e;
    }
    return rc;
}

int fs_syncfs(const char *path, lk_buf *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, "open", path);
    int rc = syncfs(fd) != 0 ? fail(err, "syncfs", path) : 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int fs_list(const char *path, fs_names *out, lk_buf *err)
{
    memset(out, 0, sizeof(*out));
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return fail(err, "opendir", path);
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        out->v = lk_grow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
        out->v[out->n++] = lk_strdup(de->d_name);
    }
    closedir(d);
    return 0;
}

void fs_names_free(fs_names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

int fs_remove_tree(const char *path, lk_buf *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : fail(err, "lstat", path);
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 || errno == ENOENT ? 0 : fail(err, "unlink", path);
    fs_names l;
    int rc = fs_list(path, &l, err);
    lk_buf child = { 0 };
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        lk_buf_reset(&child);
        lk_buf_printf(&child, "%s/%s", path, l.v[i]);
        rc = fs_remove_tree(child.p, err);
    }
    lk_buf_free(&child);
    fs_names_free(&l);
    if (rc == 0 && rmdir(path) != 0 && errno != ENOENT)
        rc = fail(err, "rmdir", path);
    return rc;
}
