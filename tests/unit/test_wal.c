/* Unit tests: the write-ahead log (storage/wal.h): records round-trip
 * through segments (plain and compressed, with metadata), a torn tail and
 * a bad CRC are cut at the last valid record while later segments are still
 * read, segment rotation and deletion, group commit (concurrent appenders
 * share syncs), a failed write (file-size limit) reported to its waiters
 * and followed by successful writes once the limit is lifted, the record
 * decoder on bad input, and 64-bit segment ids (names, ids past 2^32,
 * the last id refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "storage/codec.h"
#include "storage/wal.h"
#include "storage/wal_int.h"
#include "tests/unit/testutil.h"

#define T0 INT64_C(1793491200000000000)

/* ---- what replay saw */

typedef struct seen {
    size_t records, entries;
    uint64_t segs[64];
    size_t n_segs;
    lk_buf text; /* "tenant|labels|ts:line[;k=v...]\n" per entry */
} seen;

static int collect(void *ctx, uint64_t seg, const wal_rec *r)
{
    seen *s = ctx;
    s->records++;
    if (s->n_segs == 0 || s->segs[s->n_segs - 1] != seg)
        s->segs[s->n_segs++] = seg;
    if (r->type == WAL_REC_PUSH) {
        assert_int_equal(r->n, 0);
        lk_buf_printf(&s->text, "%.*s|push%u|%.*s\n", LK_STR_FMT(r->tenant), r->format,
                      LK_STR_FMT(r->push));
    }
    for (size_t i = 0; i < r->n; i++) {
        const lk_entry *e = &r->e[i];
        lk_buf_printf(&s->text, "%.*s|%.*s|%lld:%.*s", LK_STR_FMT(r->tenant),
                      LK_STR_FMT(r->canonical), (long long)e->ts, LK_STR_FMT(e->line));
        for (size_t k = 0; k < e->n_meta; k++)
            lk_buf_printf(&s->text, ";%.*s=%.*s", LK_STR_FMT(e->meta[k].name),
                          LK_STR_FMT(e->meta[k].value));
        lk_buf_putc(&s->text, '\n');
        s->entries++;
    }
    return 0;
}

static void seen_free(seen *s)
{
    lk_buf_free(&s->text);
}

/* Appends one record of n entries (line "<tag>-<i>") and returns what its
 * replay text must be. */
static void append_rec(wal *w, wal_ticket *t, const char *tenant, const char *labels,
                       const char *tag, size_t n, int64_t ts0, lk_buf *expect)
{
    lk_buf body = { 0 }, line = { 0 };
    int64_t prev = 0;
    lk_label meta[1] = { { LK_STR("trace"), LK_STR("abc") } };
    for (size_t i = 0; i < n; i++) {
        lk_buf_reset(&line);
        lk_buf_printf(&line, "%s-%zu level=info some text to make it compressible", tag, i);
        /* out of order on purpose: deltas may be negative */
        int64_t ts = ts0 + (int64_t)((i * 7919) % n) * 1000;
        lk_entry e = { .ts = ts, .line = lk_buf_str(&line), .n_meta = i % 3 == 0 ? 1 : 0,
                       .meta = i % 3 == 0 ? meta : NULL };
        wal_body_put_entry(&body, &e, &prev);
        lk_buf_printf(expect, "%s|%s|%lld:%s%s\n", tenant, labels, (long long)ts, line.p,
                      i % 3 == 0 ? ";trace=abc" : "");
    }
    assert_int_equal(wal_append(w, lk_str_c(tenant), lk_str_c(labels), (uint32_t)n,
                                lk_buf_str(&body), t),
                     0);
    lk_buf_free(&body);
    lk_buf_free(&line);
}

static void roundtrip(bool compress)
{
    char *dir = tst_tmpdir("wal");
    wal *w;
    wal_opts o = { .dir = dir, .compress = compress };
    assert_int_equal(wal_open(&o, &w, NULL), 0);
    lk_buf expect = { 0 };
    wal_ticket t = { 0 };
    append_rec(w, &t, "fake", "{app=\"a\"}", "one", 50, T0, &expect);
    append_rec(w, &t, "tenant-2", "{app=\"b\", env=\"prod\"}", "two", 1, T0 - 5, &expect);
    /* a push request kept as it arrived (any bytes: replay does not look) */
    assert_int_equal(wal_append_push(w, LK_STR("fake"), WAL_PUSH_SNAPPY_PROTO,
                                     LK_STR("request bytes"), &t), 0);
    lk_buf_puts(&expect, "fake|push1|request bytes\n");
    assert_int_equal(wal_append_push(w, LK_STR("fake"), 7, LK_STR("x"), &t), LK_EINVAL);
    assert_int_equal(wal_append_push(w, LK_STR("fake"), WAL_PUSH_SNAPPY_PROTO, LK_STR(""), &t),
                     LK_EINVAL);
    append_rec(w, &t, "fake", "{app=\"a\"}", "three", 200, T0 + 1000000, &expect);
    assert_int_equal(wal_wait(w, &t, NULL), 0);
    wal_counters c;
    wal_get_counters(w, &c);
    assert_int_equal(c.records, 4);
    assert_true(c.syncs >= 1);
    assert_int_equal(c.segments, 1);
    wal_close(w);

    seen s = { 0 };
    wal_replay_stats st;
    assert_int_equal(wal_replay(dir, collect, &s, &st, NULL), 0);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.entries, 251);
    assert_int_equal(st.bad_segments, 0);
    assert_int_equal(st.last_segment, 1);
    assert_string_equal(s.text.p, expect.p);
    seen_free(&s);

    /* reopening continues with a new segment after the old one */
    assert_int_equal(wal_open(&o, &w, NULL), 0);
    assert_int_equal(wal_active_segment(w), 2);
    wal_close(w);
    lk_buf_free(&expect);
    tst_rmtree(dir);
}

static void test_roundtrip_plain(void **state)
{
    (void)state;
    roundtrip(false);
}

static void test_roundtrip_compressed(void **state)
{
    (void)state;
    roundtrip(true);
}

static void segment_path(const char *dir, uint64_t id, lk_buf *out)
{
    lk_buf name = { 0 };
    wal_segment_name(id, &name);
    lk_buf_reset(out);
    lk_buf_printf(out, "%s/%s", dir, name.p);
    lk_buf_free(&name);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

/* Two segments: the first with 3 records, the second with 1. Returns the
 * expected text of each record in exp[]. */
static void two_segments(const char *dir, lk_buf exp[4], off_t ends[3])
{
    wal *w;
    wal_opts o = { .dir = dir };
    assert_int_equal(wal_open(&o, &w, NULL), 0);
    lk_buf p = { 0 };
    segment_path(dir, 1, &p);
    for (int i = 0; i < 3; i++) {
        wal_ticket t = { 0 };
        char tag[8];
        snprintf(tag, sizeof tag, "r%d", i);
        append_rec(w, &t, "fake", "{app=\"a\"}", tag, 10, T0 + i, &exp[i]);
        assert_int_equal(wal_wait(w, &t, NULL), 0);
        ends[i] = file_size(p.p);
    }
    wal_close(w);
    assert_int_equal(wal_open(&o, &w, NULL), 0);
    wal_ticket t = { 0 };
    append_rec(w, &t, "fake", "{app=\"b\"}", "seg2", 5, T0, &exp[3]);
    assert_int_equal(wal_wait(w, &t, NULL), 0);
    wal_close(w);
    lk_buf_free(&p);
}

static void test_torn_tail(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("wal");
    lk_buf exp[4] = { { 0 } };
    off_t ends[3];
    two_segments(dir, exp, ends);
    lk_buf p = { 0 };
    segment_path(dir, 1, &p);
    /* a crash in the middle of the third record */
    assert_int_equal(truncate(p.p, ends[1] + (ends[2] - ends[1]) / 2), 0);

    seen s = { 0 };
    wal_replay_stats st;
    assert_int_equal(wal_replay(dir, collect, &s, &st, NULL), 0);
    assert_int_equal(st.records, 3); /* 2 of the first segment, 1 of the second */
    assert_int_equal(st.bad_segments, 1);
    assert_int_equal(st.bytes_dropped, (uint64_t)(ends[2] - ends[1]) / 2);
    lk_buf want = { 0 };
    lk_buf_printf(&want, "%s%s%s", exp[0].p, exp[1].p, exp[3].p);
    assert_string_equal(s.text.p, want.p);
    assert_int_equal(s.n_segs, 2);

    /* a tail of only a few bytes of the next record header */
    assert_int_equal(truncate(p.p, ends[1] + 3), 0);
    seen s2 = { 0 };
    assert_int_equal(wal_replay(dir, collect, &s2, &st, NULL), 0);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.bytes_dropped, 3);

    /* zeros after the last record (a size extended, data never written) */
    int fd = open(p.p, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, ends[1] + 4096), 0);
    close(fd);
    seen s3 = { 0 };
    assert_int_equal(wal_replay(dir, collect, &s3, &st, NULL), 0);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.bytes_dropped, 4096);

    seen_free(&s);
    seen_free(&s2);
    seen_free(&s3);
    lk_buf_free(&want);
    lk_buf_free(&p);
    for (int i = 0; i < 4; i++)
        lk_buf_free(&exp[i]);
    tst_rmtree(dir);
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x20;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

static void test_bad_crc(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("wal");
    lk_buf exp[4] = { { 0 } };
    off_t ends[3];
    two_segments(dir, exp, ends);
    lk_buf p = { 0 };
    segment_path(dir, 1, &p);
    /* a flipped byte inside the second record's payload */
    flip_byte(p.p, ends[0] + 20);
    seen s = { 0 };
    wal_replay_stats st;
    assert_int_equal(wal_replay(dir, collect, &s, &st, NULL), 0);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.bytes_dropped, (uint64_t)(ends[2] - ends[0]));
    lk_buf want = { 0 };
    lk_buf_printf(&want, "%s%s", exp[0].p, exp[3].p);
    assert_string_equal(s.text.p, want.p);

    /* a bad segment header drops the whole segment */
    flip_byte(p.p, 1);
    seen s2 = { 0 };
    assert_int_equal(wal_replay(dir, collect, &s2, &st, NULL), 0);
    assert_int_equal(st.records, 1);
    assert_string_equal(s2.text.p, exp[3].p);

    seen_free(&s);
    seen_free(&s2);
    lk_buf_free(&want);
    lk_buf_free(&p);
    for (int i = 0; i < 4; i++)
        lk_buf_free(&exp[i]);
    tst_rmtree(dir);
}

static void test_rotation_and_removal(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("wal");
    wal *w;
    wal_opts o = { .dir = dir, .segment_size = 4096 };
    assert_int_equal(wal_open(&o, &w, NULL), 0);
    lk_buf expect = { 0 };
    for (int i = 0; i < 40; i++) {
        wal_ticket t = { 0 };
        append_rec(w, &t, "fake", "{app=\"a\"}", "rot", 20, T0 + i * 1000000, &expect);
        assert_int_equal(wal_wait(w, &t, NULL), 0);
    }
    wal_counters c;
    wal_get_counters(w, &c);
    assert_true(c.segments >= 5);
    uint64_t active = wal_active_segment(w);
    assert_int_equal((int64_t)active, c.segments);
    /* the active segment survives any bound */
    size_t k = wal_remove_before(w, active + 10);
    assert_int_equal(k, (size_t)active - 1);
    wal_get_counters(w, &c);
    assert_int_equal(c.segments, 1);
    assert_int_equal(wal_remove_before(w, 1), 0);
    wal_close(w);

    seen s = { 0 };
    wal_replay_stats st;
    assert_int_equal(wal_replay(dir, collect, &s, &st, NULL), 0);
    assert_int_equal(st.segments, 1);
    assert_int_equal(s.segs[0], active);

    /* remove_all also takes the active one; appends then start anew */
    assert_int_equal(wal_open(&o, &w, NULL), 0);
    assert_int_equal(wal_remove_all(w), 2);
    wal_ticket t = { 0 };
    append_rec(w, &t, "fake", "{app=\"a\"}", "after", 3, T0, &expect);
    assert_int_equal(wal_wait(w, &t, NULL), 0);
    wal_get_counters(w, &c);
    assert_int_equal(c.segments, 1);
    wal_close(w);
    seen s2 = { 0 };
    assert_int_equal(wal_replay(dir, collect, &s2, &st, NULL), 0);
    assert_int_equal(st.records, 1);
    assert_int_equal(s2.entries, 3);

    seen_free(&s);
    seen_free(&s2);
    lk_buf_free(&expect);
    tst_rmtree(dir);
}

/* ---- group commit */

typedef struct pusher {
    wal *w;
    int id;
    int n;
    int failures;
} pusher;

static void *push_main(void *arg)
{
    pusher *p = arg;
    char labels[32];
    snprintf(labels, sizeof labels, "{app=\"p%d\"}", p->id);
    lk_buf expect = { 0 };
    for (int i = 0; i < p->n; i++) {
        wal_ticket t = { 0 };
        append_rec(p->w, &t, "fake", labels, "gc", 5, T0 + i, &expect);
        append_rec(p->w, &t, "fake", labels, "gc2", 5, T0 + i, &expect);
        if (wal_wait(p->w, &t, NULL) != 0)
            p->failures++;
        lk_buf_reset(&expect);
    }
    lk_buf_free(&expect);
    return NULL;
}

static void test_group_commit(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("wal");
    wal *w;
    wal_opts o = { .dir = dir };
    assert_int_equal(wal_open(&o, &w, NULL), 0);
    enum { N = 8, PER = 200 };
    pusher ps[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        ps[i] = (pusher){ .w = w, .id = i, .n = PER };
        pthread_create(&th[i], NULL, push_main, &ps[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ps[i].failures, 0);
    }
    wal_counters c;
    wal_get_counters(w, &c);
    assert_int_equal(c.records, 2 * N * PER);
    /* every push waited for its own sync; shared syncs mean fewer syncs
     * than pushes */
    assert_true(c.syncs < N * PER);
    wal_close(w);
    seen s = { 0 };
    wal_replay_stats st;
    assert_int_equal(wal_replay(dir, collect, &s, &st, NULL), 0);
    assert_int_equal(st.records, 2 * N * PER);
    assert_int_equal(st.entries, 10 * N * PER);
    seen_free(&s);
    tst_rmtree(dir);
}

/* ---- a failed write */

static void test_failed_write_then_recovery(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("wal");
    wal *w;
    wal_opts o = { .dir = dir };
    assert_int_equal(wal_open(&o, &w, NULL), 0);
    lk_buf expect = { 0 }, good = { 0 };
    wal_ticket t = { 0 };
    append_rec(w, &t, "fake", "{app=\"a\"}", "before", 10, T0, &good);
    assert_int_equal(wal_wait(w, &t, NULL), 0);

    /* writes past 64 KiB now fail with EFBIG, as on a full disk */
    void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit saved, lim;
    getrlimit(RLIMIT_FSIZE, &saved);
    lim = saved;
    lim.rlim_cur = 64 << 10;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    wal_ticket t2 = { 0 };
    append_rec(w, &t2, "fake", "{app=\"a\"}", "toobig", 2000, T0, &expect);
    lk_buf err = { 0 };
    assert_int_equal(wal_wait(w, &t2, &err), LK_EIO);
    assert_non_null(strstr(err.p, "failed to write to the WAL: "));
    assert_non_null(strstr(err.p, strerror(EFBIG)));
    wal_counters c;
    wal_get_counters(w, &c);
    assert_int_equal(c.failures, 1);

    /* the limit lifted: the next write goes to a new segment and works */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, old);
    wal_ticket t3 = { 0 };
    append_rec(w, &t3, "fake", "{app=\"a\"}", "after", 10, T0, &good);
    assert_int_equal(wal_wait(w, &t3, NULL), 0);
    assert_int_equal(wal_active_segment(w), 2);
    wal_close(w);

    /* the failed batch left nothing behind; both good records replay */
    seen s = { 0 };
    wal_replay_stats st;
    assert_int_equal(wal_replay(dir, collect, &s, &st, NULL), 0);
    assert_int_equal(st.bad_segments, 0);
    assert_string_equal(s.text.p, good.p);
    seen_free(&s);
    lk_buf_free(&err);
    lk_buf_free(&expect);
    lk_buf_free(&good);
    tst_rmtree(dir);
}

/* ---- the record decoder on bad input */

static void test_decode_bad_records(void **state)
{
    (void)state;
    wal_rec r = { 0 };
    lk_buf err = { 0 };
    const uint8_t empty[1] = { 0 };
    assert_int_equal(wal_rec_decode(empty, 0, &r, &err), LK_ECORRUPT);
    const uint8_t type3[] = { 3, 0, 0, 0, 1, 0, 0, 0 };
    assert_int_equal(wal_rec_decode(type3, sizeof type3, &r, NULL), LK_ECORRUPT);
    /* push records: tenant "t", format 1, body "xy" */
    const uint8_t push[] = { 2, 0, 1, 't', 1, 'x', 'y' };
    assert_int_equal(wal_rec_decode(push, sizeof push, &r, NULL), 0);
    assert_int_equal(r.type, WAL_REC_PUSH);
    assert_true(lk_str_eq(r.tenant, LK_STR("t")) && lk_str_eq(r.push, LK_STR("xy")));
    const uint8_t push_flags[] = { 2, 1, 1, 't', 1, 'x', 'y' };
    assert_int_equal(wal_rec_decode(push_flags, sizeof push_flags, &r, NULL), LK_ECORRUPT);
    const uint8_t push_format[] = { 2, 0, 1, 't', 2, 'x', 'y' };
    assert_int_equal(wal_rec_decode(push_format, sizeof push_format, &r, NULL), LK_ECORRUPT);
    const uint8_t push_empty[] = { 2, 0, 1, 't', 1 };
    assert_int_equal(wal_rec_decode(push_empty, sizeof push_empty, &r, NULL), LK_ECORRUPT);
    const uint8_t push_tenant[] = { 2, 0, 9, 't', 1, 'x' };
    assert_int_equal(wal_rec_decode(push_tenant, sizeof push_tenant, &r, NULL), LK_ECORRUPT);
    const uint8_t flags[] = { 1, 2, 0, 0, 1, 0, 0, 0 };
    assert_int_equal(wal_rec_decode(flags, sizeof flags, &r, NULL), LK_ECORRUPT);
    /* tenant "" labels "" 1 entry: ts 0, line "", no metadata */
    const uint8_t ok[] = { 1, 0, 0, 0, 1, 0, 0, 0 };
    assert_int_equal(wal_rec_decode(ok, sizeof ok, &r, NULL), 0);
    assert_int_equal(r.n, 1);
    /* count 2 with one entry's bytes */
    const uint8_t short2[] = { 1, 0, 0, 0, 2, 0, 0, 0 };
    assert_int_equal(wal_rec_decode(short2, sizeof short2, &r, NULL), LK_ECORRUPT);
    /* trailing byte */
    const uint8_t trail[] = { 1, 0, 0, 0, 1, 0, 0, 0, 0 };
    assert_int_equal(wal_rec_decode(trail, sizeof trail, &r, NULL), LK_ECORRUPT);
    /* line length past the end */
    const uint8_t longline[] = { 1, 0, 0, 0, 1, 0, 9, 'a', 0 };
    assert_int_equal(wal_rec_decode(longline, sizeof longline, &r, NULL), LK_ECORRUPT);
    /* zero entries */
    const uint8_t zero[] = { 1, 0, 0, 0, 0 };
    assert_int_equal(wal_rec_decode(zero, sizeof zero, &r, NULL), LK_ECORRUPT);
    /* compressed flag on bytes that are not snappy */
    const uint8_t badsnappy[] = { 1, 1, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x7f };
    assert_int_equal(wal_rec_decode(badsnappy, sizeof badsnappy, &r, &err), LK_ECORRUPT);
    assert_non_null(strstr(err.p, "corrupt WAL record"));
    /* random bytes never crash */
    uint8_t buf[64];
    uint32_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(i % 64);
        for (size_t k = 0; k < n; k++) {
            x = x * 1103515245u + 12345u;
            buf[k] = (uint8_t)(x >> 16);
        }
        if (n > 0)
            buf[0] = 1;
        if (n > 1)
            buf[1] &= 1;
        (void)wal_rec_decode(buf, n, &r, NULL);
    }
    wal_rec_free(&r);
    lk_buf_free(&err);
}

static void test_segment_names(void **state)
{
    (void)state;
    lk_buf n = { 0 };
    wal_segment_name(12, &n);
    assert_string_equal(n.p, "00000012.wal");
    wal_segment_name(4000000000u, &n);
    assert_string_equal(n.p, "4000000000.wal");
    wal_segment_name(UINT64_C(4294967296), &n);
    assert_string_equal(n.p, "4294967296.wal");
    wal_segment_name(WAL_MAX_SEGMENT_ID, &n);
    assert_string_equal(n.p, "18446744073709551614.wal");
    lk_buf_free(&n);
    uint64_t id = 0;
    assert_int_equal(wal_parse_segment_name("00000012.wal", &id), WAL_NAME_SEGMENT);
    assert_true(id == 12);
    assert_int_equal(wal_parse_segment_name("4294967296.wal", &id), WAL_NAME_SEGMENT);
    assert_true(id == UINT64_C(4294967296));
    assert_int_equal(wal_parse_segment_name("18446744073709551614.wal", &id), WAL_NAME_SEGMENT);
    assert_true(id == WAL_MAX_SEGMENT_ID);
    assert_int_equal(wal_parse_segment_name("00000000.wal", &id), WAL_NAME_BAD_ID);
    assert_int_equal(wal_parse_segment_name("18446744073709551615.wal", &id), WAL_NAME_BAD_ID);
    assert_int_equal(wal_parse_segment_name("99999999999999999999999.wal", &id), WAL_NAME_BAD_ID);
    assert_int_equal(wal_parse_segment_name("1234567.wal", &id), WAL_NAME_OTHER);
    assert_int_equal(wal_parse_segment_name("0000001a.wal", &id), WAL_NAME_OTHER);
    assert_int_equal(wal_parse_segment_name("00000012.wal.tmp", &id), WAL_NAME_OTHER);
    /* other files in the directory are ignored */
    char *dir = tst_tmpdir("wal");
    lk_buf p = { 0 };
    lk_buf_printf(&p, "%s/notes.txt", dir);
    FILE *f = fopen(p.p, "w");
    fputs("hello", f);
    fclose(f);
    seen s = { 0 };
    wal_replay_stats st;
    assert_int_equal(wal_replay(dir, collect, &s, &st, NULL), 0);
    assert_int_equal(st.segments, 0);
    /* a missing directory is an empty log */
    assert_int_equal(wal_replay("/nonexistent/lokic-wal", collect, &s, &st, NULL), 0);
    seen_free(&s);
    lk_buf_free(&p);
    tst_rmtree(dir);
}

/* An empty segment id as the writer makes it (header only). */
static void plant_segment(const char *dir, uint64_t id)
{
    uint8_t h[WAL_SEG_HDR] = { 0 };
    memcpy(h, WAL_SEG_MAGIC, 4);
    h[4] = WAL_SEG_VERSION;
    codec_put_le64(h + 8, id);
    lk_buf path = { 0 };
    segment_path(dir, id, &path);
    FILE *f = fopen(path.p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    lk_buf_free(&path);
}

/* Regression: segment ids were 32-bit, so the segment after
 * 4294967295.wal was 00000000.wal, which replay does not read: the
 * acknowledged records in it were lost at the next restart. */
static void test_ids_past_32_bits(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("wal");
    plant_segment(dir, UINT32_MAX);
    wal *w;
    wal_opts o = { .dir = dir };
    assert_int_equal(wal_open(&o, &w, NULL), 0);
    assert_true(wal_active_segment(w) == UINT64_C(4294967296));
    lk_buf expect = { 0 };
    wal_ticket t = { 0 };
    append_rec(w, &t, "fake", "{app=\"a\"}", "past", 2, T0, &expect);
    assert_int_equal(wal_wait(w, &t, NULL), 0);
    wal_close(w);
    lk_buf path = { 0 };
    segment_path(dir, UINT64_C(4294967296), &path);
    assert_true(file_size(path.p) > WAL_SEG_HDR);
    seen s = { 0 };
    wal_replay_stats st;
    assert_int_equal(wal_replay(dir, collect, &s, &st, NULL), 0);
    assert_int_equal(st.segments, 2);
    assert_int_equal(st.bad_segments, 0);
    assert_int_equal(s.n_segs, 1);
    assert_true(s.segs[0] == UINT64_C(4294967296));
    assert_true(st.last_segment == UINT64_C(4294967296));
    assert_string_equal(s.text.p, expect.p);
    seen_free(&s);
    lk_buf_free(&expect);
    lk_buf_free(&path);
    tst_rmtree(dir);
}

/* No segment can follow the last id: appends fail (nothing is
 * acknowledged) and the segments on disk are left as they are. */
static void test_last_id_refused(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("wal");
    plant_segment(dir, WAL_MAX_SEGMENT_ID);
    wal *w;
    wal_opts o = { .dir = dir };
    assert_int_equal(wal_open(&o, &w, NULL), 0);
    lk_buf expect = { 0 }, err = { 0 };
    for (int i = 0; i < 2; i++) {
        wal_ticket t = { 0 };
        append_rec(w, &t, "fake", "{app=\"a\"}", "none", 1, T0, &expect);
        assert_int_equal(wal_wait(w, &t, &err), LK_EIO);
        assert_non_null(strstr(err.p, "failed to write to the WAL: Value too large"));
        lk_buf_reset(&err);
    }
    wal_close(w);
    seen s = { 0 };
    wal_replay_stats st;
    assert_int_equal(wal_replay(dir, collect, &s, &st, NULL), 0);
    assert_int_equal(st.segments, 1);
    assert_int_equal(st.records, 0);
    assert_true(st.last_segment == WAL_MAX_SEGMENT_ID);
    seen_free(&s);
    lk_buf_free(&expect);
    lk_buf_free(&err);
    tst_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_plain),
        cmocka_unit_test(test_roundtrip_compressed),
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_bad_crc),
        cmocka_unit_test(test_rotation_and_removal),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_failed_write_then_recovery),
        cmocka_unit_test(test_decode_bad_records),
        cmocka_unit_test(test_segment_names),
        cmocka_unit_test(test_ids_past_32_bits),
        cmocka_unit_test(test_last_id_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
