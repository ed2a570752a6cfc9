/* The WAL writer: segment files, group commit, deletion of old segments.
 *
 * Segment file <dir>/<id>.wal, id a 64-bit decimal number of at least 8
 * digits ("00000012.wal", "4294967296.wal"), 1 .. WAL_MAX_SEGMENT_ID; ids
 * only grow (a restart continues after the highest one found), and no
 * segment is started past WAL_MAX_SEGMENT_ID (its batches fail instead).
 * Integers little-endian.
 *
 *   Header (16 bytes)
 *     0   4  magic "LKWL"
 *     4   1  version: 1
 *     5   3  zero
 *     8   8  segment id (the one in the file name; segments written when
 *            ids were 32-bit have the same bytes)
 *   Records, back to back, from offset 16:
 *     0   4  L, payload length (1 <= L <= WAL_MAX_RECORD)
 *     4   4  CRC32C of bytes 0..3 followed by the payload
 *     8   L  payload (storage/walrec.c)
 *
 * A record is valid when its 8 framing bytes and L payload bytes lie inside
 * the file, L is in range, the CRC matches and the payload decodes. Replay
 * (walreplay.c) reads a segment up to its first invalid record: a write cut
 * short by a crash leaves at most a torn tail, which is dropped. A batch
 * that failed to write is cut off with ftruncate and the segment is
 * abandoned: the next batch opens a new segment, so a record never follows
 * garbage in the same file.
 *
 * Group commit, led by the waiters (no thread of its own): appenders copy
 * framed records into buf[cur] under mu and link their ticket into
 * `waiters`; a push appends its records (one for the whole request, or one
 * per stream), then waits. A waiter whose records nobody has taken yet
 * becomes the leader when the writer role and a sync slot are free: it
 * swaps the two buffers (taking everything appended so far, other pushes'
 * records included), writes the full one to the segment, hands the writer
 * role on, then calls fdatasync on its slot's descriptor. Meanwhile the
 * next waiter can lead the next batch and start its own fdatasync on the
 * other slot, so a push never waits for a sync that began before its
 * record was written (two syncs may be in flight), and pushes that arrive
 * during a sync share the next one. With one push at a time the pushing
 * thread does its own write and sync: no thread switch at all.
 * A successful fdatasync makes durable everything written to the segment
 * before it began: `durable` becomes the batch's last sequence number if
 * higher, and a waiter is done once durable reaches its ticket (each waiter
 * sleeps on its own condition variable and is woken alone: when it is
 * done, or when it may lead). Each slot has its own descriptor of the
 * segment, opened before anything is written to it, so a write-back error
 * is reported to every later fdatasync, whichever slot calls it (Linux
 * reports such an error once per open file). A failed batch fails the
 * tickets that overlap it and sends the next batch to a new segment. A new
 * segment is started only when no sync is in flight, so `durable` never
 * spans two files. */
#define _GNU_SOURCE
#include "storage/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/codec.h"
#include "storage/fsutil.h"
#include "storage/wal_int.h"

#define COMPRESS_MIN 256 /* smaller bodies are not worth compressing */

#define SLOTS 2 /* syncs in flight at most */

struct wal {
    char *dir;
    int dirfd;
    int64_t seg_max;
    bool compress;

    pthread_mutex_t mu;
    pthread_cond_t done;   /* wal_remove_all waits for batches */
    lk_buf buf[2];
    int cur;               /* buf[cur] receives appends */
    uint64_t appended;     /* last sequence number handed out */
    uint64_t taken;        /* last sequence number taken by a writer */
    uint64_t durable;      /* every record <= durable is on disk */
    wal_ticket *waiters;
    bool writing;          /* a leader holds the writer role */
    bool slot_busy[SLOTS]; /* a leader writes or syncs through fds[i] */
    bool need_new;         /* the next batch starts a new segment */
    uint64_t active_seg;   /* lower bound of the segment of the next batch */

    /* the writer role's (and wal_open's) */
    int fds[SLOTS];        /* one descriptor of the segment per slot */
    bool have_seg;
    uint64_t seg_id;       /* of fds, or the last id used */
    uint64_t seg_size;     /* valid bytes in the segment */

    pthread_mutex_t segmu; /* segment files on disk, sorted */
    uint64_t *segs;
    size_t n_segs, cap_segs;

    atomic_llong records, bytes, syncs, sync_ns, failures, removed;
    atomic_bool failing;          /* the last batch failed */
    atomic_llong fail_logged_ns;  /* when a failure was last logged */
};

#define FAIL_LOG_EVERY_NS (INT64_C(10) * 1000000000)

void wal_segment_name(uint64_t id, lk_buf *out)
{
    lk_buf_reset(out);
    lk_buf_printf(out, "%08" PRIu64 ".wal", id);
}

/* ---- the list of segment files */

static void segs_add(wal *w, uint64_t id)
{
    pthread_mutex_lock(&w->segmu);
    w->segs = lk_grow(w->segs, &w->cap_segs, w->n_segs + 1, sizeof(*w->segs));
    size_t i = w->n_segs;
    while (i > 0 && w->segs[i - 1] > id) {
        w->segs[i] = w->segs[i - 1];
        i--;
    }
    w->segs[i] = id;
    w->n_segs++;
    pthread_mutex_unlock(&w->segmu);
}

static void segs_drop(wal *w, uint64_t id)
{
    pthread_mutex_lock(&w->segmu);
    for (size_t i = 0; i < w->n_segs; i++) {
        if (w->segs[i] == id) {
            memmove(&w->segs[i], &w->segs[i + 1], (w->n_segs - i - 1) * sizeof(*w->segs));
            w->n_segs--;
            break;
        }
    }
    pthread_mutex_unlock(&w->segmu);
}

static int scan_segments(wal *w, lk_buf *err)
{
    fs_names l;
    int rc = fs_list(w->dir, &l, err);
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        uint64_t id;
        if (wal_parse_segment_name(l.v[i], &id) == WAL_NAME_SEGMENT) {
            segs_add(w, id);
            if (id > w->seg_id)
                w->seg_id = id;
        }
    }
    fs_names_free(&l);
    return rc;
}

/* ---- writing (leaders) */

/* Failures are logged when a streak of them begins, then at most every
 * FAIL_LOG_EVERY_NS (a full disk fails every batch). */
static bool log_failure_now(wal *w)
{
    int64_t now = lk_now_ns();
    if (!atomic_exchange(&w->failing, true) ||
        now - atomic_load(&w->fail_logged_ns) >= FAIL_LOG_EVERY_NS) {
        atomic_store(&w->fail_logged_ns, now);
        return true;
    }
    return false;
}

static void batch_succeeded(wal *w)
{
    if (atomic_exchange(&w->failing, false))
        log_info("writing the WAL works again", "dir=\"%s\"", w->dir);
}

static int write_all(int fd, const char *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno ? errno : EIO;
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static void close_segment(wal *w)
{
    for (int i = 0; i < SLOTS; i++) {
        if (w->fds[i] >= 0)
            close(w->fds[i]);
        w->fds[i] = -1;
    }
    w->have_seg = false;
}

/* Creates segment seg_id + 1 with its header, durably, and opens one
 * descriptor per slot before anything else is written to it.
 * errno value on failure (the id is used up either way; EOVERFLOW when
 * none is left). Only with no sync in flight. */
static int new_segment(wal *w)
{
    close_segment(w);
    if (w->seg_id >= WAL_MAX_SEGMENT_ID) {
        if (log_failure_now(w))
            log_error("no WAL segment id is left; pushes are refused until the WAL is emptied "
                      "(an orderly shutdown flushes and deletes it)",
                      "dir=\"%s\" last_segment=%" PRIu64, w->dir, w->seg_id);
        return EOVERFLOW;
    }
    uint64_t id = ++w->seg_id;
    lk_buf name = { 0 };
    wal_segment_name(id, &name);
    int e = 0;
    const char *call = "open";
    int fd = openat(w->dirfd, name.p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        e = errno;
        goto fail;
    }
    w->fds[0] = fd;
    for (int i = 1; i < SLOTS; i++) {
        if ((w->fds[i] = openat(w->dirfd, name.p, O_WRONLY | O_CLOEXEC)) < 0) {
            e = errno;
            goto fail;
        }
    }
    uint8_t h[WAL_SEG_HDR] = { 0 };
    memcpy(h, WAL_SEG_MAGIC, 4);
    h[4] = WAL_SEG_VERSION;
    codec_put_le64(h + 8, id);
    call = "write";
    e = write_all(fd, (const char *)h, sizeof(h), 0);
    if (!e && fdatasync(fd) != 0)
        e = errno, call = "fdatasync";
    if (!e && fsync(w->dirfd) != 0)
        e = errno, call = "fsync";
    if (e)
        goto fail;
    w->have_seg = true;
    w->seg_size = WAL_SEG_HDR;
    segs_add(w, id);
    pthread_mutex_lock(&w->mu);
    w->active_seg = id;
    pthread_mutex_unlock(&w->mu);
    lk_buf_free(&name);
    return 0;
fail:
    if (log_failure_now(w))
        log_error("creating a WAL segment failed", "call=%s file=\"%s/%s\" err=\"%s\"", call,
                  w->dir, name.p, strerror(e));
    close_segment(w);
    unlinkat(w->dirfd, name.p, 0);
    lk_buf_free(&name);
    return e;
}

/* Writes one batch at the end of the segment (a new one first when asked).
 * errno value on failure: the partial batch is cut off again and the next
 * batch goes to a new segment. */
static int write_batch(wal *w, int slot, const lk_buf *b, bool rotate)
{
    int e = 0;
    if ((rotate || !w->have_seg) && (e = new_segment(w)) != 0)
        return e;
    e = write_all(w->fds[slot], b->p, b->len, w->seg_size);
    if (e) {
        if (ftruncate(w->fds[slot], (off_t)w->seg_size) != 0)
            log_warn("truncating a failed WAL write failed", "segment=%" PRIu64 " err=\"%s\"",
                     w->seg_id, strerror(errno));
        if (log_failure_now(w))
            log_error("writing the WAL failed",
                      "call=write segment=%" PRIu64 " bytes=%zu err=\"%s\"",
                      w->seg_id, b->len, strerror(e));
        return e;
    }
    w->seg_size += b->len;
    return 0;
}

/* Under mu: wakes the waiters whose tickets are done. */
static void wake_done(wal *w)
{
    for (wal_ticket *t = w->waiters; t; t = t->next) {
        if (t->waiting && (t->err || t->hi <= w->durable))
            pthread_cond_signal(&t->cv);
    }
    pthread_cond_broadcast(&w->done);
}

/* Under mu: records lo..hi failed with e. */
static void fail_batch(wal *w, uint64_t lo, uint64_t hi, int e)
{
    atomic_fetch_add_explicit(&w->failures, 1, memory_order_relaxed);
    for (wal_ticket *t = w->waiters; t; t = t->next) {
        if (t->lo <= hi && t->hi >= lo && !t->err)
            t->err = e;
    }
    w->need_new = true;
    wake_done(w);
}

/* Under mu, with no leader writing: must the next batch start a new
 * segment? */
static bool rotation_due(const wal *w)
{
    return w->need_new || !w->have_seg || w->seg_size >= (uint64_t)w->seg_max;
}

/* Under mu: is a leader writing or syncing? (With no leader writing, a
 * busy slot is a sync in flight.) */
static bool any_slot_busy(const wal *w)
{
    for (int i = 0; i < SLOTS; i++) {
        if (w->slot_busy[i])
            return true;
    }
    return false;
}

/* Under mu: a free slot through which a leader can write the next batch
 * now, or -1. */
static int leader_slot(const wal *w)
{
    if (w->writing || w->taken == w->appended || (rotation_due(w) && any_slot_busy(w)))
        return -1; /* a new segment waits for the syncs in flight */
    for (int i = 0; i < SLOTS; i++) {
        if (!w->slot_busy[i])
            return i;
    }
    return -1;
}

/* Under mu: when a batch can be led, wakes one waiter whose records are
 * not taken yet to lead it. */
static void hand_on(wal *w)
{
    if (leader_slot(w) < 0)
        return;
    for (wal_ticket *t = w->waiters; t; t = t->next) {
        if (t->waiting && !t->err && t->hi > w->taken) {
            pthread_cond_signal(&t->cv);
            return;
        }
    }
}

/* Under mu (released during the I/O): writes everything appended so far
 * through slot as one batch and syncs it. */
static void lead(wal *w, int slot)
{
    w->writing = true;
    w->slot_busy[slot] = true;
    lk_buf *b = &w->buf[w->cur];
    w->cur ^= 1;
    uint64_t lo = w->taken + 1, hi = w->appended;
    w->taken = hi;
    bool rotate = rotation_due(w);
    w->need_new = false;
    pthread_mutex_unlock(&w->mu);
    int e = write_batch(w, slot, b, rotate);
    int fd = w->fds[slot];
    b->len = 0;
    pthread_mutex_lock(&w->mu);
    w->writing = false;
    if (!e) {
        hand_on(w); /* the next batch may be written while this one syncs */
        pthread_mutex_unlock(&w->mu);
        int64_t t0 = lk_now_ns();
        e = fdatasync(fd) != 0 ? (errno ? errno : EIO) : 0;
        atomic_fetch_add_explicit(&w->sync_ns, lk_now_ns() - t0, memory_order_relaxed);
        if (e && log_failure_now(w))
            log_error("writing the WAL failed", "call=fdatasync segment=%" PRIu64 " err=\"%s\"",
                      w->seg_id, strerror(e));
        else if (!e)
            batch_succeeded(w);
        pthread_mutex_lock(&w->mu);
    }
    w->slot_busy[slot] = false;
    if (e) {
        fail_batch(w, lo, hi, e);
    } else {
        atomic_fetch_add_explicit(&w->syncs, 1, memory_order_relaxed);
        if (hi > w->durable)
            w->durable = hi;
        wake_done(w);
    }
    hand_on(w);
}

/* Under mu: writes and syncs everything appended, and waits for the
 * batches in flight. */
static void drain(wal *w)
{
    while (w->taken < w->appended || any_slot_busy(w)) {
        int slot = leader_slot(w);
        if (slot >= 0)
            lead(w, slot);
        else
            pthread_cond_wait(&w->done, &w->mu);
    }
}

/* ---- open / close */

int wal_open(const wal_opts *o, wal **out, lk_buf *err)
{
    if (!o || !o->dir || !*o->dir)
        return LK_EINVAL;
    wal *w = lk_calloc(1, sizeof(*w));
    w->dir = lk_strdup(o->dir);
    w->dirfd = -1;
    for (int i = 0; i < SLOTS; i++)
        w->fds[i] = -1;
    w->seg_max = o->segment_size > 0 ? o->segment_size : WAL_DEFAULT_SEGMENT_SIZE;
    w->compress = o->compress;
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->segmu, NULL);
    pthread_cond_init(&w->done, NULL);
    int rc = fs_mkdirs(w->dir, err);
    if (rc == 0) {
        w->dirfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (w->dirfd < 0) {
            if (err)
                lk_buf_printf(err, "open(\"%s\") failed: %s", w->dir, strerror(errno));
            rc = LK_EIO;
        }
    }
    if (rc == 0)
        rc = scan_segments(w, err);
    if (rc != 0) {
        wal_close(w);
        return rc;
    }
    w->active_seg = w->seg_id;
    new_segment(w); /* a failure is retried by the first batch */
    *out = w;
    return 0;
}

void wal_close(wal *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    drain(w);
    pthread_mutex_unlock(&w->mu);
    close_segment(w);
    if (w->dirfd >= 0)
        close(w->dirfd);
    lk_buf_free(&w->buf[0]);
    lk_buf_free(&w->buf[1]);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->segmu);
    free(w->segs);
    free(w->dir);
    free(w);
}

/* ---- appending and waiting */

/* Frames prefix + body as one record, copies it into the current buffer
 * and links t. LK_ETOOLARGE when it would exceed WAL_MAX_RECORD. */
static int append_record(wal *w, const lk_buf *prefix, lk_str body, wal_ticket *t)
{
    uint64_t len = (uint64_t)prefix->len + body.len;
    if (len > WAL_MAX_RECORD)
        return LK_ETOOLARGE;
    uint8_t h[WAL_REC_HDR];
    codec_put_le32(h, (uint32_t)len);
    uint32_t crc = lk_crc32c(0, h, 4);
    crc = lk_crc32c(crc, prefix->p, prefix->len);
    crc = lk_crc32c(crc, body.p, body.len);
    codec_put_le32(h + 4, crc);

    pthread_mutex_lock(&w->mu);
    lk_buf *b = &w->buf[w->cur];
    lk_buf_reserve(b, sizeof(h) + len);
    lk_buf_append(b, h, sizeof(h));
    lk_buf_append(b, prefix->p, prefix->len);
    if (body.len)
        lk_buf_append(b, body.p, body.len);
    uint64_t seq = ++w->appended;
    if (!t->linked) {
        t->lo = seq;
        t->prev = NULL;
        t->next = w->waiters;
        if (w->waiters)
            w->waiters->prev = t;
        w->waiters = t;
        t->linked = true;
    }
    t->hi = seq;
    pthread_mutex_unlock(&w->mu); /* written when its push waits */
    atomic_fetch_add_explicit(&w->records, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->bytes, (long long)(sizeof(h) + len), memory_order_relaxed);
    return 0;
}

int wal_append(wal *w, lk_str tenant, lk_str canonical, uint32_t n, lk_str body, wal_ticket *t)
{
    lk_buf prefix = { 0 }, comp = { 0 };
    uint8_t flags = 0;
    if (w->compress && body.len >= COMPRESS_MIN) {
        size_t clen = snappy_max_compressed_length(body.len);
        lk_buf_reserve(&comp, clen);
        if (snappy_compress(body.p, body.len, comp.p, &clen) == SNAPPY_OK && clen < body.len) {
            comp.len = clen;
            body = lk_buf_str(&comp);
            flags |= WAL_FLAG_SNAPPY;
        }
    }
    wal_rec_put_prefix(&prefix, flags, tenant, canonical, n);
    int rc = append_record(w, &prefix, body, t);
    lk_buf_free(&prefix);
    lk_buf_free(&comp);
    return rc;
}

int wal_append_push(wal *w, lk_str tenant, uint8_t format, lk_str body, wal_ticket *t)
{
    if (format != WAL_PUSH_SNAPPY_PROTO || body.len == 0)
        return LK_EINVAL;
    lk_buf prefix = { 0 };
    wal_rec_put_push_prefix(&prefix, tenant, format);
    int rc = append_record(w, &prefix, body, t);
    lk_buf_free(&prefix);
    return rc;
}

int wal_wait(wal *w, wal_ticket *t, lk_buf *err)
{
    if (!t->linked)
        return 0;
    pthread_mutex_lock(&w->mu);
    bool cv = false;
    while (w->durable < t->hi && !t->err) {
        int slot = w->taken < t->hi ? leader_slot(w) : -1;
        if (slot >= 0) {
            lead(w, slot); /* ours, and whatever else is pending */
            continue;
        }
        if (!cv) {
            pthread_cond_init(&t->cv, NULL);
            cv = true;
        }
        t->waiting = true;
        pthread_cond_wait(&t->cv, &w->mu);
        t->waiting = false;
    }
    if (cv)
        pthread_cond_destroy(&t->cv);
    if (t->prev)
        t->prev->next = t->next;
    else
        w->waiters = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->linked = false;
    int e = t->err;
    pthread_mutex_unlock(&w->mu);
    if (!e)
        return 0;
    if (err)
        lk_buf_printf(err, "failed to write to the WAL: %s", strerror(e));
    return LK_EIO;
}

/* ---- segments */

uint64_t wal_active_segment(wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t id = w->active_seg;
    pthread_mutex_unlock(&w->mu);
    return id;
}

static size_t remove_ids(wal *w, const uint64_t *ids, size_t n)
{
    lk_buf name = { 0 };
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        wal_segment_name(ids[i], &name);
        if (unlinkat(w->dirfd, name.p, 0) != 0 && errno != ENOENT) {
            log_warn("deleting a WAL segment failed", "file=\"%s/%s\" err=\"%s\"", w->dir,
                     name.p, strerror(errno));
            continue;
        }
        segs_drop(w, ids[i]);
        k++;
    }
    if (k && fsync(w->dirfd) != 0)
        log_warn("syncing the WAL directory failed", "dir=\"%s\" err=\"%s\"", w->dir,
                 strerror(errno));
    lk_buf_free(&name);
    atomic_fetch_add_explicit(&w->removed, (long long)k, memory_order_relaxed);
    return k;
}

size_t wal_remove_before(wal *w, uint64_t seg)
{
    uint64_t active = wal_active_segment(w);
    if (seg > active)
        seg = active;
    pthread_mutex_lock(&w->segmu);
    size_t n = 0;
    while (n < w->n_segs && w->segs[n] < seg)
        n++;
    uint64_t *ids = n ? lk_memdup(w->segs, n * sizeof(*ids)) : NULL;
    pthread_mutex_unlock(&w->segmu);
    size_t k = remove_ids(w, ids, n);
    free(ids);
    if (k)
        log_debug("WAL segments deleted", "count=%zu before=%" PRIu64, k, seg);
    return k;
}

size_t wal_remove_all(wal *w)
{
    pthread_mutex_lock(&w->mu);
    drain(w);
    /* no leader until we let go of mu: the segment is ours */
    close_segment(w);
    pthread_mutex_lock(&w->segmu);
    size_t n = w->n_segs;
    uint64_t *ids = n ? lk_memdup(w->segs, n * sizeof(*ids)) : NULL;
    pthread_mutex_unlock(&w->segmu);
    size_t k = remove_ids(w, ids, n);
    pthread_mutex_unlock(&w->mu);
    free(ids);
    return k;
}

void wal_get_counters(wal *w, wal_counters *c)
{
    c->records = atomic_load_explicit(&w->records, memory_order_relaxed);
    c->bytes = atomic_load_explicit(&w->bytes, memory_order_relaxed);
    c->syncs = atomic_load_explicit(&w->syncs, memory_order_relaxed);
    c->sync_ns = atomic_load_explicit(&w->sync_ns, memory_order_relaxed);
    c->failures = atomic_load_explicit(&w->failures, memory_order_relaxed);
    c->segments_removed = atomic_load_explicit(&w->removed, memory_order_relaxed);
    pthread_mutex_lock(&w->segmu);
    c->segments = (int64_t)w->n_segs;
    pthread_mutex_unlock(&w->segmu);
}
