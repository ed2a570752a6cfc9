/* Unit tests: the durable ingester (storage/ingester.h with a WAL, a chunk
 * directory and an index): pushes refused until recovery; chunks flushed,
 * dropped from memory and read back from disk in both directions with
 * metadata; an orderly shutdown leaves chunk files and no WAL, and a
 * restart answers from disk; a crash (no shutdown) is replayed from the
 * WAL, also over chunks that were already flushed, without duplicates; a
 * chunk retained in memory after its flush is not read twice; WAL segments
 * deleted once their chunks are flushed; idle streams flushed and removed
 * from memory; a corrupt chunk file answered from its valid blocks; block
 * skipping by the token filter; retention of old periods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/matcher.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/index.h"
#include "storage/ingester.h"
#include "tests/unit/testutil.h"

#define SEC LK_NS_PER_SEC
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define T0 (INT64_C(1793491200) * SEC) /* 2026-11-01T00:00:00Z */

static const lk_str FAKE = { "fake", 4 };

/* ---- thread creation that fails on demand */

/* The errno value the next pthread_create fails with (0: it works). */
static int fail_next_thread;

/* Stands in for libc's (the static libraries under test link against this
 * one); passes through to the real one unless told to fail. */
int pthread_create(pthread_t *restrict t, const pthread_attr_t *restrict attr,
                   void *(*fn)(void *), void *restrict arg)
{
    typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (fail_next_thread) {
        int e = fail_next_thread;
        fail_next_thread = 0;
        return e;
    }
    create_fn real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    if (!real)
        abort();
    return real(t, attr, fn, arg);
}

/* ---- a data directory */

typedef struct env {
    char *root;
    lk_buf wal, chunks, index;
    ing_opts o;
} env;

static void env_init(env *e)
{
    memset(e, 0, sizeof(*e));
    e->root = tst_tmpdir("flush");
    lk_buf_printf(&e->wal, "%s/wal", e->root);
    lk_buf_printf(&e->chunks, "%s/chunks", e->root);
    lk_buf_printf(&e->index, "%s/index", e->root);
    e->o = (ing_opts){ .chunk_block_size = 2048, .chunk_target_size = 8192,
                       .flush_write_bytes = 20000, /* several writes per flush batch */
                       .max_chunk_age_ns = 2 * HOUR, .wal_dir = e->wal.p,
                       .chunk_dir = e->chunks.p, .index_dir = e->index.p,
                       .chunk_idle_period_ns = HOUR, .flush_check_period_ns = HOUR };
}

static void env_free(env *e)
{
    tst_rmtree(e->root);
    lk_buf_free(&e->wal);
    lk_buf_free(&e->chunks);
    lk_buf_free(&e->index);
}

static ing *start(env *e)
{
    ing *g = NULL;
    lk_buf err = { 0 };
    assert_int_equal(ing_open(&e->o, &g, &err), 0);
    assert_int_equal(ing_recover(g, &err), 0);
    assert_true(ing_ready(g));
    lk_buf_free(&err);
    return g;
}

/* Files under dir (recursively) whose name ends with suffix. */
static size_t count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    lk_buf p = { 0 };
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        lk_buf_reset(&p);
        lk_buf_printf(&p, "%s/%s", dir, de->d_name);
        struct stat sb;
        assert_int_equal(stat(p.p, &sb), 0);
        if (S_ISDIR(sb.st_mode))
            n += count_files(p.p, suffix);
        else if (strlen(de->d_name) >= strlen(suffix) &&
                 !strcmp(de->d_name + strlen(de->d_name) - strlen(suffix), suffix))
            n++;
    }
    closedir(d);
    lk_buf_free(&p);
    return n;
}

/* First file under dir ending with suffix, into out. */
static bool find_file(const char *dir, const char *suffix, lk_buf *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *de;
    bool found = false;
    lk_buf p = { 0 };
    while (!found && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        lk_buf_reset(&p);
        lk_buf_printf(&p, "%s/%s", dir, de->d_name);
        struct stat sb;
        assert_int_equal(stat(p.p, &sb), 0);
        if (S_ISDIR(sb.st_mode)) {
            found = find_file(p.p, suffix, out);
        } else if (strlen(de->d_name) >= strlen(suffix) &&
                   !strcmp(de->d_name + strlen(de->d_name) - strlen(suffix), suffix)) {
            lk_buf_reset(out);
            lk_buf_put_str(out, lk_buf_str(&p));
            found = true;
        }
    }
    closedir(d);
    lk_buf_free(&p);
    return found;
}

/* ---- streams and entries */

typedef struct stream_id {
    lk_labels labels;
    lk_buf canonical;
    uint64_t fp;
} stream_id;

static void sid_init(stream_id *s, const char *text)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(labels_parse(lk_str_c(text), &s->labels, NULL), 0);
    labels_canonical(&s->labels, &s->canonical);
    s->fp = labels_hash(lk_buf_str(&s->canonical));
}

static void sid_free(stream_id *s)
{
    labels_free(&s->labels);
    lk_buf_free(&s->canonical);
}

/* Pushes n entries "<tag> line <i> ..." at ts0 + i ms, every third with
 * metadata; one request of up to 100 entries at a time. */
static void push_lines(ing *g, const stream_id *s, const char *tag, size_t n, int64_t ts0)
{
    lk_label meta[1] = { { LK_STR("trace_id"), LK_STR("t123") } };
    lk_entry *e = lk_calloc(100, sizeof(*e));
    char **lines = lk_calloc(100, sizeof(*lines));
    for (size_t i = 0; i < n; i += 100) {
        size_t k = n - i < 100 ? n - i : 100;
        for (size_t j = 0; j < k; j++) {
            char buf[128];
            snprintf(buf, sizeof buf, "%s line %zu level=info msg=\"request served\" user=u%zu",
                     tag, i + j, (i + j) % 7);
            lines[j] = lk_strdup(buf);
            e[j] = (lk_entry){ .ts = ts0 + (int64_t)(i + j) * LK_NS_PER_MS,
                               .line = lk_str_c(lines[j]),
                               .n_meta = (i + j) % 3 == 0 ? 1 : 0,
                               .meta = (i + j) % 3 == 0 ? meta : NULL };
        }
        ing_push_result r;
        lk_buf err = { 0 };
        assert_int_equal(ing_push(g, FAKE, &s->labels, lk_buf_str(&s->canonical), s->fp, e, k,
                                  &r, &err),
                         0);
        assert_int_equal(r.rejected, 0);
        lk_buf_free(&err);
        for (size_t j = 0; j < k; j++)
            free(lines[j]);
    }
    free(e);
    free(lines);
}

/* Reads one stream back: checks n entries of push_lines(tag, ts0) in both
 * directions, each once, with their metadata. */
static void check_stream(ing *g, const char *selector_value, const char *tag, size_t n,
                         int64_t ts0, sto_stats *stats)
{
    lk_matcher m;
    assert_int_equal(matcher_init(&m, LK_MATCH_EQ, LK_STR("app"), lk_str_c(selector_value), NULL),
                     0);
    st_view **v;
    size_t nv;
    assert_int_equal(ing_select(g, FAKE, &m, 1, ts0, ts0 + DAY, true, &v, &nv), 0);
    assert_int_equal(nv, 1);
    for (int back = 0; back < 2; back++) {
        sto_iter *it = st_view_iter(v[0], ts0, ts0 + DAY, back, stats);
        lk_entry e;
        size_t k = 0;
        int rc;
        while ((rc = sto_iter_next(it, &e)) == 1) {
            size_t i = back ? n - 1 - k : k;
            char want[128];
            snprintf(want, sizeof want, "%s line %zu level=info msg=\"request served\" user=u%zu",
                     tag, i, i % 7);
            assert_true(k < n);
            assert_int_equal(e.ts, ts0 + (int64_t)i * LK_NS_PER_MS);
            assert_true(lk_str_eq(e.line, lk_str_c(want)));
            assert_int_equal(e.n_meta, i % 3 == 0 ? 1 : 0);
            if (e.n_meta)
                assert_true(lk_str_eq(e.meta[0].value, LK_STR("t123")));
            k++;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(k, n);
        sto_iter_destroy(it);
    }
    st_views_free(v, nv);
    /* labels only */
    assert_int_equal(ing_select(g, FAKE, &m, 1, ts0, ts0 + DAY, false, &v, &nv), 0);
    assert_int_equal(nv, 1);
    assert_true(lk_str_eq(*labels_get(st_view_labels(v[0]), LK_STR("app")),
                          lk_str_c(selector_value)));
    st_views_free(v, nv);
    matcher_free(&m);
}

/* ---- tests */

static void test_not_ready_before_recovery(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    ing *g;
    assert_int_equal(ing_open(&e.o, &g, NULL), 0);
    assert_false(ing_ready(g));
    stream_id s;
    sid_init(&s, "{app=\"a\"}");
    lk_entry en = { .ts = T0, .line = LK_STR("x") };
    lk_buf err = { 0 };
    assert_int_equal(ing_push(g, FAKE, &s.labels, lk_buf_str(&s.canonical), s.fp, &en, 1, NULL,
                              &err),
                     LK_EIO);
    assert_non_null(strstr(err.p, "not ready"));
    assert_int_equal(ing_recover(g, NULL), 0);
    assert_int_equal(ing_push(g, FAKE, &s.labels, lk_buf_str(&s.canonical), s.fp, &en, 1, NULL,
                              NULL),
                     0);
    ing_destroy(g);
    /* a chunk directory without an index directory */
    ing_opts bad = e.o;
    bad.index_dir = NULL;
    lk_buf_reset(&err);
    assert_int_equal(ing_open(&bad, &g, &err), LK_EINVAL);
    lk_buf_free(&err);
    sid_free(&s);
    env_free(&e);
}

/* Regression: the flusher's pthread_create result was ignored, so recovery
 * reported success without a flusher, and destroying the ingester joined
 * a thread that never started. */
static void test_flusher_thread_failure(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    ing *g = NULL;
    lk_buf err = { 0 };
    assert_int_equal(ing_open(&e.o, &g, &err), 0);
    fail_next_thread = EAGAIN;
    assert_int_equal(ing_recover(g, &err), LK_EIO);
    assert_non_null(err.p);
    assert_non_null(strstr(err.p, "pthread_create: Resource temporarily unavailable"));
    assert_false(ing_ready(g));
    ing_destroy(g); /* joins nothing */
    /* a second attempt starts it */
    assert_int_equal(ing_open(&e.o, &g, &err), 0);
    lk_buf_reset(&err);
    assert_int_equal(ing_recover(g, &err), 0);
    assert_true(ing_ready(g));
    ing_destroy(g);
    lk_buf_free(&err);
    env_free(&e);
}

static void test_flush_and_read_back(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    ing *g = start(&e);
    stream_id a, b;
    sid_init(&a, "{app=\"a\", env=\"prod\"}");
    sid_init(&b, "{app=\"b\"}");
    push_lines(g, &a, "alpha", 3000, T0);
    push_lines(g, &b, "beta", 500, T0 + HOUR);
    ing_counters c;
    ing_get_counters(g, &c);
    /* closed chunks may already be on their way to disk (the flusher
     * thread wakes up when a push closes one) */
    assert_true(c.chunks + c.chunks_flushed > 2);
    assert_true(c.wal_records > 0);
    assert_true(c.wal_syncs > 0);

    size_t left = 99;
    assert_int_equal(ing_flush(g, true, &left, NULL), 0);
    assert_int_equal(left, 0);
    ing_get_counters(g, &c);
    assert_true(c.chunks_flushed > 2);
    assert_int_equal(c.chunks, 0); /* retain period 0: dropped at once */
    assert_int_equal(c.blocks, 0);
    assert_int_equal(c.compressed_bytes, 0);
    assert_int_equal(count_files(e.chunks.p, ".lkc"), (size_t)c.chunks_flushed);
    assert_int_equal(count_files(e.chunks.p, ".tmp"), 0);

    sto_stats st = { 0 };
    check_stream(g, "a", "alpha", 3000, T0, &st);
    check_stream(g, "b", "beta", 500, T0 + HOUR, &st);
    assert_true(st.total_chunks_ref > 2);
    assert_int_equal(st.head_chunk_lines, 0); /* all from disk */
    assert_int_equal(st.corrupt_blocks, 0);
    ing_get_counters(g, &c);
    assert_true(c.chunks_read > 2);

    /* new data goes to memory and is read together with the disk */
    push_lines(g, &a, "alpha", 3100, T0); /* 3000 duplicates and 100 new */
    check_stream(g, "a", "alpha", 3100, T0, NULL);
    ing_destroy(g);
    sid_free(&a);
    sid_free(&b);
    env_free(&e);
}

static void test_shutdown_and_restart(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    ing *g = start(&e);
    stream_id a;
    sid_init(&a, "{app=\"a\"}");
    push_lines(g, &a, "alpha", 1234, T0);
    lk_buf err = { 0 };
    assert_int_equal(ing_shutdown(g, &err), 0);
    ing_destroy(g);
    assert_int_equal(count_files(e.wal.p, ".wal"), 0);
    assert_true(count_files(e.chunks.p, ".lkc") > 0);
    assert_true(count_files(e.index.p, ".mdb") > 0);
    /* a chunk write a crash interrupted: the staging area is emptied */
    lk_buf tmp = { 0 };
    lk_buf_printf(&tmp, "%s/staging%%/abc.lkc.tmp", e.chunks.p);
    FILE *f = fopen(tmp.p, "w");
    assert_non_null(f);
    fputs("partial", f);
    fclose(f);

    g = start(&e);
    assert_int_equal(count_files(e.chunks.p, ".tmp"), 0);
    lk_buf_free(&tmp);
    ing_counters c;
    ing_get_counters(g, &c);
    assert_int_equal(c.wal_replayed_records, 0);
    assert_int_equal(c.streams, 0);
    check_stream(g, "a", "alpha", 1234, T0, NULL);
    ing_destroy(g);
    lk_buf_free(&err);
    sid_free(&a);
    env_free(&e);
}

static void test_crash_replay(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    ing *g = start(&e);
    stream_id a, b;
    sid_init(&a, "{app=\"a\"}");
    sid_init(&b, "{app=\"b\"}");
    push_lines(g, &a, "alpha", 2000, T0);
    /* flushed, but the WAL segment being written stays: a crash now
     * replays entries that are also in chunk files */
    assert_int_equal(ing_flush(g, true, NULL, NULL), 0);
    assert_true(count_files(e.wal.p, ".wal") > 0);
    push_lines(g, &a, "alpha", 2500, T0); /* 500 more, in memory only */
    push_lines(g, &b, "beta", 300, T0);
    ing_destroy(g); /* no shutdown: as after kill -9 */

    g = start(&e);
    ing_counters c;
    ing_get_counters(g, &c);
    assert_true(c.wal_replayed_records > 0);
    assert_int_equal(c.wal_dropped_bytes, 0);
    sto_stats st = { 0 };
    check_stream(g, "a", "alpha", 2500, T0, &st);
    assert_true(st.duplicates > 0); /* replayed over flushed chunks */
    check_stream(g, "b", "beta", 300, T0, NULL);
    /* replayed data flushes again; still no duplicates */
    assert_int_equal(ing_flush(g, true, NULL, NULL), 0);
    check_stream(g, "a", "alpha", 2500, T0, NULL);
    assert_int_equal(ing_shutdown(g, NULL), 0);
    ing_destroy(g);
    g = start(&e);
    check_stream(g, "a", "alpha", 2500, T0, NULL);
    check_stream(g, "b", "beta", 300, T0, NULL);
    ing_destroy(g);
    sid_free(&a);
    sid_free(&b);
    env_free(&e);
}

static void test_torn_wal_tail(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    ing *g = start(&e);
    stream_id a;
    sid_init(&a, "{app=\"a\"}");
    push_lines(g, &a, "alpha", 700, T0);
    ing_destroy(g);
    /* garbage after the last record: a write cut short */
    lk_buf seg = { 0 };
    assert_true(find_file(e.wal.p, ".wal", &seg));
    int fd = open(seg.p, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x40\x00\x00\x00garbage", 11), 11);
    close(fd);
    g = start(&e);
    ing_counters c;
    ing_get_counters(g, &c);
    assert_int_equal(c.wal_dropped_bytes, 11);
    check_stream(g, "a", "alpha", 700, T0, NULL);
    ing_destroy(g);
    lk_buf_free(&seg);
    sid_free(&a);
    env_free(&e);
}

static void test_retained_chunk_not_read_twice(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.o.chunk_retain_period_ns = HOUR;
    ing *g = start(&e);
    stream_id a;
    sid_init(&a, "{app=\"a\"}");
    push_lines(g, &a, "alpha", 2000, T0);
    assert_int_equal(ing_flush(g, true, NULL, NULL), 0);
    ing_counters c0, c;
    ing_get_counters(g, &c0);
    assert_true(c0.chunks > 0); /* flushed and still in memory */
    assert_int_equal(count_files(e.chunks.p, ".lkc"), (size_t)c0.chunks_flushed);
    sto_stats st = { 0 };
    check_stream(g, "a", "alpha", 2000, T0, &st);
    assert_int_equal(st.duplicates, 0); /* skipped by reference, not merged */
    ing_get_counters(g, &c);
    assert_int_equal(c.chunks_read, c0.chunks_read); /* no file opened */
    ing_destroy(g);
    sid_free(&a);
    env_free(&e);
}

static void test_wal_segments_deleted(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.o.wal_segment_size = 16 << 10;
    ing *g = start(&e);
    stream_id a;
    sid_init(&a, "{app=\"a\"}");
    push_lines(g, &a, "alpha", 5000, T0);
    assert_int_equal(ing_flush(g, false, NULL, NULL), 0);
    ing_counters c;
    ing_get_counters(g, &c);
    /* many segments were written; the closed chunks are flushed and only
     * the segments the open chunk may need are left */
    assert_true(c.wal_bytes > 10 * (16 << 10));
    size_t mid = count_files(e.wal.p, ".wal");
    assert_true(mid <= 3);
    assert_int_equal(ing_flush(g, true, NULL, NULL), 0);
    assert_int_equal(count_files(e.wal.p, ".wal"), 1); /* the one being written */
    ing_get_counters(g, &c);
    assert_int_equal(c.wal_segments, 1);
    ing_destroy(g);
    g = start(&e);
    check_stream(g, "a", "alpha", 5000, T0, NULL);
    ing_destroy(g);
    sid_free(&a);
    env_free(&e);
}

static void test_idle_stream_flushed_and_removed(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.o.chunk_idle_period_ns = 50 * LK_NS_PER_MS;
    e.o.flush_check_period_ns = 20 * LK_NS_PER_MS;
    ing *g = start(&e); /* the flusher thread runs */
    stream_id a;
    sid_init(&a, "{app=\"a\"}");
    push_lines(g, &a, "alpha", 50, T0);
    ing_counters c;
    for (int i = 0; i < 1000; i++) { /* up to 10 s on a busy machine */
        ing_get_counters(g, &c);
        if (c.streams == 0 && c.chunks_flushed > 0)
            break;
        usleep(10000);
    }
    assert_int_equal(c.streams, 0);
    assert_int_equal(c.chunks, 0);
    assert_int_equal(c.head_bytes, 0);
    check_stream(g, "a", "alpha", 50, T0, NULL);
    /* the stream comes back on the next push */
    push_lines(g, &a, "alpha", 60, T0);
    check_stream(g, "a", "alpha", 60, T0, NULL);
    ing_destroy(g);
    sid_free(&a);
    env_free(&e);
}

static void flip(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char ch;
    assert_int_equal(pread(fd, &ch, 1, off), 1);
    ch ^= 0x55;
    assert_int_equal(pwrite(fd, &ch, 1, off), 1);
    close(fd);
}

static size_t read_count(ing *g, int64_t from, int64_t through, sto_stats *st)
{
    st_view **v;
    size_t nv, k = 0;
    assert_int_equal(ing_select(g, FAKE, NULL, 0, from, through, true, &v, &nv), 0);
    for (size_t i = 0; i < nv; i++) {
        sto_iter *it = st_view_iter(v[i], from, through, false, st);
        lk_entry en;
        while (sto_iter_next(it, &en) == 1)
            k++;
        sto_iter_destroy(it);
    }
    st_views_free(v, nv);
    return k;
}

static void test_corrupt_chunk_file(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.o.chunk_target_size = 1 << 20; /* one chunk of many blocks */
    ing *g = start(&e);
    stream_id a;
    sid_init(&a, "{app=\"a\"}");
    push_lines(g, &a, "alpha", 2000, T0);
    assert_int_equal(ing_flush(g, true, NULL, NULL), 0);
    assert_int_equal(count_files(e.chunks.p, ".lkc"), 1);
    lk_buf path = { 0 };
    assert_true(find_file(e.chunks.p, ".lkc", &path));
    /* a byte inside the first block's payload (after the header) */
    flip(path.p, 44 + (off_t)lk_buf_str(&a.canonical).len + 10);
    sto_stats st = { 0 };
    size_t n = read_count(g, T0, T0 + DAY, &st);
    assert_true(n > 0 && n < 2000);
    assert_int_equal(st.corrupt_blocks, 1);
    /* the header: the whole file is skipped, the query still answers */
    flip(path.p, 2);
    memset(&st, 0, sizeof st);
    assert_int_equal(read_count(g, T0, T0 + DAY, &st), 0);
    assert_int_equal(st.corrupt_blocks, 1);
    /* a missing file */
    assert_int_equal(unlink(path.p), 0);
    memset(&st, 0, sizeof st);
    assert_int_equal(read_count(g, T0, T0 + DAY, &st), 0);
    assert_int_equal(st.corrupt_blocks, 1);
    lk_buf_free(&path);
    ing_destroy(g);
    sid_free(&a);
    env_free(&e);
}

static void test_block_filter_skipping(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.o.chunk_target_size = 1 << 20;
    ing *g = start(&e);
    stream_id a;
    sid_init(&a, "{app=\"a\"}");
    push_lines(g, &a, "alpha", 1500, T0);
    lk_entry rare = { .ts = T0 + 2000 * LK_NS_PER_MS, .line = LK_STR("found the rare zebra needle") };
    assert_int_equal(ing_push(g, FAKE, &a.labels, lk_buf_str(&a.canonical), a.fp, &rare, 1, NULL,
                              NULL),
                     0);
    push_lines(g, &a, "omega", 1500, T0 + 3000 * LK_NS_PER_MS);
    assert_int_equal(ing_flush(g, true, NULL, NULL), 0);

    const lk_str needles[1] = { LK_STR(" zebra ") };
    sto_iter_opts opts = { .required = needles, .n_required = 1 };
    ing_counters c0, c1;
    ing_get_counters(g, &c0);
    st_view **v;
    size_t nv;
    assert_int_equal(ing_select(g, FAKE, NULL, 0, T0, T0 + DAY, true, &v, &nv), 0);
    assert_int_equal(nv, 1);
    sto_stats st = { 0 };
    sto_iter *it = st_view_iter_opts(v[0], T0, T0 + DAY, false, &opts, &st);
    lk_entry en;
    size_t found = 0, total = 0;
    while (sto_iter_next(it, &en) == 1) {
        total++;
        found += lk_str_eq(en.line, rare.line);
    }
    sto_iter_destroy(it);
    assert_int_equal(found, 1);
    assert_true(st.blocks_skipped > 5);
    assert_true(total < 1000); /* only the blocks that may hold the needle */
    ing_get_counters(g, &c1);
    assert_int_equal(c1.blocks_filtered - c0.blocks_filtered, st.blocks_skipped);
    /* without the option every block is read */
    sto_stats all = { 0 };
    it = st_view_iter(v[0], T0, T0 + DAY, false, &all);
    total = 0;
    while (sto_iter_next(it, &en) == 1)
        total++;
    sto_iter_destroy(it);
    assert_int_equal(total, 3001);
    assert_int_equal(all.blocks_skipped, 0);
    assert_true(all.decompressed_lines > st.decompressed_lines);
    st_views_free(v, nv);
    ing_destroy(g);
    sid_free(&a);
    env_free(&e);
}

static void test_retention(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.o.retention_period_ns = DAY;
    ing *g = start(&e);
    stream_id a, b;
    sid_init(&a, "{app=\"old\"}");
    sid_init(&b, "{app=\"new\"}");
    int64_t now = lk_now_ns();
    int64_t old = now - 3 * DAY;
    push_lines(g, &a, "alpha", 300, old);
    push_lines(g, &b, "beta", 300, now - HOUR);
    assert_int_equal(ing_flush(g, true, NULL, NULL), 0);
    assert_true(count_files(e.chunks.p, ".lkc") >= 2);
    assert_int_equal(read_count(g, old - HOUR, now + HOUR, NULL), 600);
    assert_int_equal(ing_apply_retention(g, NULL), 0);
    ing_counters c;
    ing_get_counters(g, &c);
    assert_true(c.retention_periods_deleted >= 1);
    /* the old period's directory and index keys are gone */
    lk_buf dir = { 0 };
    lk_buf_printf(&dir, "%s/fake/%d", e.chunks.p, (int)chk_period(old + 299 * LK_NS_PER_MS));
    struct stat sb;
    assert_int_not_equal(stat(dir.p, &sb), 0);
    assert_int_equal(read_count(g, old - HOUR, now + HOUR, NULL), 300);
    check_stream(g, "new", "beta", 300, now - HOUR, NULL);
    ing_destroy(g);
    lk_buf_free(&dir);
    sid_free(&a);
    sid_free(&b);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_ready_before_recovery),
        cmocka_unit_test(test_flusher_thread_failure),
        cmocka_unit_test(test_flush_and_read_back),
        cmocka_unit_test(test_shutdown_and_restart),
        cmocka_unit_test(test_crash_replay),
        cmocka_unit_test(test_torn_wal_tail),
        cmocka_unit_test(test_retained_chunk_not_read_twice),
        cmocka_unit_test(test_wal_segments_deleted),
        cmocka_unit_test(test_idle_stream_flushed_and_removed),
        cmocka_unit_test(test_corrupt_chunk_file),
        cmocka_unit_test(test_block_filter_skipping),
        cmocka_unit_test(test_retention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
