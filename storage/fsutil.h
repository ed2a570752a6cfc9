/* File-system helpers the storage files share: creating directory trees
 * durably, writing a file durably (temporary name, fsync, rename, fsync of
 * the directory) or many to be synced together (syncfs) before the caller
 * renames them and fsyncs their directories, listing and removing
 * directories. Every failure appends the call, the path and
 * strerror(errno) to *err (may be NULL) and returns LK_EIO; errno is left
 * as the failed call set it. Private to storage/. */
#ifndef LOKIC_STORAGE_FSUTIL_H
#define LOKIC_STORAGE_FSUTIL_H

#include <stddef.h>

#include "lib/str.h"

/* mkdir -p: creates path and its missing parents (mode 0755), fsyncing
 * each parent that gained an entry. */
int fs_mkdirs(const char *path, lk_buf *err);
/* fsync of a directory. */
int fs_fsync_dir(const char *path, lk_buf *err);
/* Writes bytes to dir/name durably: a temporary file (in tmp_dir, on the
 * same file system, or in dir when tmp_dir is NULL; named name.tmp),
 * fsync, rename to dir/name, fsync of dir unless sync_dir is false (the
 * caller then fsyncs dir itself, once for many files). The temporary file
 * is removed on failure. */
int fs_write_durable(const char *tmp_dir, const char *dir, const char *name, lk_str bytes,
                     int sync_dir, lk_buf *err);
/* Writes bytes to path (created or truncated) without syncing it: one of
 * many files made durable together by fs_syncfs. The file is removed on
 * failure. */
int fs_write_unsynced(const char *path, lk_str bytes, lk_buf *err);
/* syncfs(2) of the file system holding path: every file written there so
 * far is on disk on return (Linux reports a write-back error of any of
 * them here). */
int fs_syncfs(const char *path, lk_buf *err);
/* Removes a directory tree (files and subdirectories). */
int fs_remove_tree(const char *path, lk_buf *err);

/* Names in a directory (no "." and ".."), malloc'd; free with
 * fs_names_free. A missing directory is an empty list. */
typedef struct fs_names {
    char **v;
    size_t n, cap;
} fs_names;
int fs_list(const char *path, fs_names *out, lk_buf *err);
void fs_names_free(fs_names *l);

#endif
