/* The object-store interface the storage path puts chunks and index files
 * in: whole objects put from a buffer or a file, read whole or by byte
 * range, sized, deleted and listed by key prefix. Two implementations with
 * the same behaviour (one test body, tests/unit/objstore_suite.c, runs on
 * both): a directory of the local file system (objstore_fs.c) and an S3
 * bucket (objstore_s3.c, over s3.h).
 *
 * Keys: 1 to 1024 bytes of UTF-8 (no NUL), '/'-separated components, none
 * empty, "." or "..", or starting with '.' (names the file-system store
 * keeps for itself); so no leading or trailing '/'. Any other key is
 * LK_EINVAL in both implementations. Every call is thread-safe; errors are
 * LK_EINVAL (a key), LK_ENOTFOUND (get, get_range and head of a missing
 * key), LK_EIO (the disk or the service, with what failed in err). */
#ifndef LOKIC_STORAGE_OBJSTORE_H
#define LOKIC_STORAGE_OBJSTORE_H

#include <stdint.h>

#include "lib/str.h"
#include "storage/s3.h"

typedef struct obj_store obj_store;

/* Keys as paths under dir (created when missing). A put writes a
 * temporary file under dir/.tmp, fsyncs it, renames it into place and
 * fsyncs the directory (fsutil.h), so an object is either whole or absent;
 * open removes what a crash left in dir/.tmp, so one process at a time
 * writes a directory. A key cannot also be the directory of other keys
 * ("a" and "a/b": the second put fails with LK_EIO), which S3 allows;
 * directories emptied by deletes stay. */
int obj_open_fs(const char *dir, obj_store **out, lk_buf *err);
/* One bucket (s3_create's errors). */
int obj_open_s3(const s3_config *cfg, obj_store **out, lk_buf *err);
void obj_close(obj_store *s);
/* "filesystem" or "s3": for logs and metrics. */
const char *obj_kind(const obj_store *s);

/* Creates or replaces the object. */
int obj_put(obj_store *s, const char *key, const void *p, size_t n, lk_buf *err);
/* The object is the file's bytes at the time of the call. */
int obj_put_file(obj_store *s, const char *key, const char *path, lk_buf *err);
/* Appends the object to out. */
int obj_get(obj_store *s, const char *key, lk_buf *out, lk_buf *err);
/* Appends bytes [off, off+len) of the object to out: fewer when it ends
 * sooner, none when off is past its end or len is 0. */
int obj_get_range(obj_store *s, const char *key, uint64_t off, uint64_t len, lk_buf *out,
                  lk_buf *err);
int obj_head(obj_store *s, const char *key, int64_t *size, lk_buf *err);
/* Deleting a missing key is not an error. */
int obj_delete(obj_store *s, const char *key, lk_buf *err);

/* Calls fn for every key that begins with prefix ("" for all), in
 * bytewise order of the keys, with its size. fn returning non-zero stops
 * the listing and is returned. */
typedef int (*obj_list_fn)(void *ctx, const char *key, int64_t size);
int obj_list(obj_store *s, const char *prefix, obj_list_fn fn, void *ctx, lk_buf *err);

#endif
