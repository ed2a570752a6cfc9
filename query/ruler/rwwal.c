/* The remote-write queue's batch files (rwwal.h). One file per batch,
 * <dir>/<seq>.rwb, seq a 16-digit hexadecimal counter (so names sort in
 * write order), written with fs_write_durable (temporary name, fsync,
 * rename, directory fsync). Layout, little-endian:
 *
 *   0   4  magic "LKRW"
 *   4   1  version (1)
 *   5   3  zero
 *   8   4  tenant length T
 *   12  4  sample count
 *   16  4  body length B
 *   20  4  CRC-32C of the T + B bytes that follow
 *   24  T  tenant
 *   24+T B body: the snappy-compressed prometheus.WriteRequest
 *
 * A file counts when it is exactly 24 + T + B bytes long with a matching
 * checksum; anything else (a torn write cannot leave one: the rename is
 * atomic, but a disk can) is logged and removed at replay. */
#include "query/ruler/rwwal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/codec.h"
#include "storage/fsutil.h"

#define HDR 24
#define SUFFIX ".rwb"

struct rul_rwwal {
    char *dir;
    uint64_t next;
};

int rul_rwwal_open(const char *dir, rul_rwwal **out, lk_buf *err)
{
    int rc = fs_mkdirs(dir, err);
    if (rc != LK_OK)
        return rc;
    rul_rwwal *w = lk_calloc(1, sizeof *w);
    w->dir = lk_strdup(dir);
    w->next = 1;
    *out = w;
    return LK_OK;
}

static void file_name(uint64_t seq, char *buf, size_t n)
{
    snprintf(buf, n, "%016" PRIx64 SUFFIX, seq);
}

int rul_rwwal_append(rul_rwwal *w, const char *tenant, uint32_t n, lk_str body, uint64_t *seq)
{
    size_t tl = strlen(tenant);
    lk_buf b = { 0 };
    lk_buf_reserve(&b, HDR + tl + body.len);
    uint8_t *p = (uint8_t *)b.p;
    memcpy(p, "LKRW\1\0\0\0", 8);
    codec_put_le32(p + 8, (uint32_t)tl);
    codec_put_le32(p + 12, n);
    codec_put_le32(p + 16, (uint32_t)body.len);
    memcpy(p + HDR, tenant, tl);
    if (body.len)
        memcpy(p + HDR + tl, body.p, body.len);
    codec_put_le32(p + 20, lk_crc32c(0, p + HDR, tl + body.len));
    b.len = HDR + tl + body.len;
    char name[40];
    file_name(w->next, name, sizeof name);
    lk_buf e = { 0 };
    int rc = fs_write_durable(NULL, w->dir, name, lk_buf_str(&b), 1, &e);
    if (rc == LK_OK)
        *seq = w->next++;
    else
        log_warn("writing a remote-write batch to the WAL failed; it is kept in memory only",
                 "err=\"%s\"", e.p ? e.p : "");
    lk_buf_free(&e);
    lk_buf_free(&b);
    return rc;
}

static void remove_file(const rul_rwwal *w, const char *name)
{
    lk_buf path = { 0 };
    lk_buf_printf(&path, "%s/%s", w->dir, name);
    if (unlink(path.p) != 0 && errno != ENOENT)
        log_warn("removing a remote-write WAL file failed", "call=unlink path=%s err=\"%s\"",
                 path.p, strerror(errno));
    lk_buf_free(&path);
}

void rul_rwwal_remove(rul_rwwal *w, uint64_t seq)
{
    char name[40];
    file_name(seq, name, sizeof name);
    remove_file(w, name);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads path; LK_ECORRUPT when it is not a valid batch. */
static int read_batch(const char *path, lk_buf *data)
{
    if (lk_buf_read_file(data, path) != LK_OK)
        return LK_EIO;
    const uint8_t *p = (const uint8_t *)data->p;
    if (data->len < HDR || memcmp(p, "LKRW\1\0\0\0", 8) != 0)
        return LK_ECORRUPT;
    uint64_t tl = codec_get_le32(p + 8), bl = codec_get_le32(p + 16);
    if (HDR + tl + bl != data->len || tl == 0 ||
        lk_crc32c(0, p + HDR, tl + bl) != codec_get_le32(p + 20))
        return LK_ECORRUPT;
    return LK_OK;
}

static bool parse_seq(const char *name, uint64_t *seq)
{
    size_t n = strlen(name);
    if (n != 16 + strlen(SUFFIX) || strcmp(name + 16, SUFFIX) != 0)
        return false;
    char *end = NULL;
    *seq = strtoull(name, &end, 16);
    return end == name + 16;
}

size_t rul_rwwal_replay(rul_rwwal *w, rul_rwwal_fn fn, void *ctx)
{
    fs_names names = { 0 };
    lk_buf err = { 0 };
    if (fs_list(w->dir, &names, &err) != LK_OK)
        log_warn("listing the remote-write WAL failed", "err=\"%s\"", err.p ? err.p : "");
    if (names.n)
        qsort(names.v, names.n, sizeof *names.v, cmp_name);
    size_t replayed = 0;
    for (size_t i = 0; i < names.n; i++) {
        uint64_t seq;
        if (!parse_seq(names.v[i], &seq)) {
            if (strstr(names.v[i], ".tmp"))
                remove_file(w, names.v[i]); /* a write that did not finish */
            continue;
        }
        lk_buf path = { 0 }, data = { 0 };
        lk_buf_printf(&path, "%s/%s", w->dir, names.v[i]);
        int rc = read_batch(path.p, &data);
        if (rc == LK_OK) {
            const uint8_t *p = (const uint8_t *)data.p;
            uint32_t tl = codec_get_le32(p + 8);
            char *tenant = lk_strndup((const char *)p + HDR, tl);
            fn(ctx, seq, tenant, codec_get_le32(p + 12),
               lk_str_n(data.p + HDR + tl, data.len - HDR - tl));
            free(tenant);
            replayed++;
        } else {
            log_warn("skipping a remote-write WAL file that is not a valid batch; removed",
                     "path=%s err=%s", path.p, lk_strerror(rc));
            remove_file(w, names.v[i]);
        }
        if (seq >= w->next)
            w->next = seq + 1;
        lk_buf_free(&path);
        lk_buf_free(&data);
    }
    fs_names_free(&names);
    lk_buf_free(&err);
    return replayed;
}

void rul_rwwal_close(rul_rwwal *w)
{
    if (!w)
        return;
    free(w->dir);
    free(w);
}
