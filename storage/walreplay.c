/* WAL replay: reads every segment of a WAL directory in order and hands
 * each valid record to a callback (segment and record layout: wal.c and
 * walrec.c). A segment is read up to its first invalid record; what
 * follows is dropped with a warning naming the segment, the offset and
 * the number of bytes. Segments are read through mmap, one at a time, in
 * the order of their 64-bit ids. A file named like a segment whose id is 0
 * or past WAL_MAX_SEGMENT_ID (lokic never writes one) is left alone with a
 * warning. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/codec.h"
#include "storage/fsutil.h"
#include "storage/wal.h"
#include "storage/wal_int.h"

static void dropped(wal_replay_stats *st, uint64_t seg, size_t off, size_t n, const char *why)
{
    st->bad_segments++;
    st->bytes_dropped += n - off;
    log_warn("WAL segment tail dropped",
             "segment=%" PRIu64 " offset=%zu dropped_bytes=%zu reason=\"%s\"", seg, off, n - off,
             why);
}

int wal_replay_bytes(const uint8_t *p, size_t n, uint64_t seg, wal_replay_fn fn, void *ctx,
                     wal_replay_stats *st)
{
    st->segments++;
    if (seg > st->last_segment)
        st->last_segment = seg;
    if (n < WAL_SEG_HDR || memcmp(p, WAL_SEG_MAGIC, 4) != 0 || p[4] != WAL_SEG_VERSION ||
        codec_get_le64(p + 8) != seg) {
        dropped(st, seg, 0, n, "bad or missing segment header");
        return 0;
    }
    wal_rec rec = { 0 };
    lk_buf err = { 0 };
    size_t off = WAL_SEG_HDR;
    int rc = 0;
    while (off < n) {
        const char *why = NULL;
        uint32_t len = 0;
        if (n - off < WAL_REC_HDR) {
            why = "torn record header";
        } else {
            len = codec_get_le32(p + off);
            if (len == 0 || len > WAL_MAX_RECORD || len > n - off - WAL_REC_HDR)
                why = "record length out of bounds (torn write)";
            else if (lk_crc32c(lk_crc32c(0, p + off, 4), p + off + WAL_REC_HDR, len) !=
                     codec_get_le32(p + off + 4))
                why = "checksum mismatch";
        }
        if (!why) {
            lk_buf_reset(&err);
            if (wal_rec_decode(p + off + WAL_REC_HDR, len, &rec, &err) != 0)
                why = err.p;
        }
        if (why) {
            dropped(st, seg, off, n, why);
            break;
        }
        st->records++;
        st->entries += rec.n;
        if ((rc = fn(ctx, seg, &rec)) != 0)
            break;
        off += WAL_REC_HDR + len;
    }
    wal_rec_free(&rec);
    lk_buf_free(&err);
    return rc;
}

static int replay_file(const char *dir, uint64_t seg, wal_replay_fn fn, void *ctx,
                       wal_replay_stats *st, lk_buf *err)
{
    lk_buf path = { 0 };
    lk_buf name = { 0 };
    wal_segment_name(seg, &name);
    lk_buf_printf(&path, "%s/%s", dir, name.p);
    int rc = 0;
    int fd = open(path.p, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (err)
            lk_buf_printf(err, "%s(\"%s\") failed: %s", fd < 0 ? "open" : "fstat", path.p,
                          strerror(errno));
        rc = LK_EIO;
        goto out;
    }
    size_t n = (size_t)sb.st_size;
    void *m = n ? mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    if (n && m == MAP_FAILED) {
        if (err)
            lk_buf_printf(err, "mmap(\"%s\") failed: %s", path.p, strerror(errno));
        rc = LK_EIO;
        goto out;
    }
    if (n)
        madvise(m, n, MADV_SEQUENTIAL);
    rc = wal_replay_bytes(m ? m : (const void *)"", n, seg, fn, ctx, st);
    if (n)
        munmap(m, n);
out:
    if (fd >= 0)
        close(fd);
    lk_buf_free(&path);
    lk_buf_free(&name);
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

wal_name_kind wal_parse_segment_name(const char *name, uint64_t *id)
{
    size_t len = strlen(name);
    if (len < 12 || strcmp(name + len - 4, ".wal") != 0)
        return WAL_NAME_OTHER;
    uint64_t v = 0;
    bool overflow = false;
    for (size_t i = 0; i + 4 < len; i++) {
        if (name[i] < '0' || name[i] > '9')
            return WAL_NAME_OTHER;
        overflow |= __builtin_mul_overflow(v, 10, &v) ||
                    __builtin_add_overflow(v, (uint64_t)(name[i] - '0'), &v);
    }
    if (overflow || v == 0 || v > WAL_MAX_SEGMENT_ID)
        return WAL_NAME_BAD_ID;
    *id = v;
    return WAL_NAME_SEGMENT;
}

int wal_replay(const char *dir, wal_replay_fn fn, void *ctx, wal_replay_stats *st, lk_buf *err)
{
    memset(st, 0, sizeof(*st));
    fs_names l;
    int rc = fs_list(dir, &l, err);
    if (rc != 0)
        return rc;
    uint64_t *ids = lk_malloc((l.n ? l.n : 1) * sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; i < l.n; i++) {
        wal_name_kind k = wal_parse_segment_name(l.v[i], &ids[n]);
        if (k == WAL_NAME_SEGMENT)
            n++;
        else if (k == WAL_NAME_BAD_ID)
            log_warn("ignoring a file named like a WAL segment whose id is out of range",
                     "file=\"%s/%s\" max_id=%" PRIu64, dir, l.v[i], (uint64_t)WAL_MAX_SEGMENT_ID);
    }
    fs_names_free(&l);
    qsort(ids, n, sizeof(*ids), cmp_u64);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = replay_file(dir, ids[i], fn, ctx, st, err);
    free(ids);
    return rc;
}
