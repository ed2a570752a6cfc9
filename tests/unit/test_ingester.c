/* Unit tests: the ingester (storage/ingester.h): push and query in both
 * directions with equal timestamps in arrival order, the three duplicate
 * layers, Loki's out-of-order window and its message, the stream limit,
 * select with matchers and ranges, block skipping and stats, a corrupt
 * block skipped, a randomized comparison with a reference model,
 * concurrent pushes and queries, and a push request's one call into the
 * ingester (ing_push_request): what it stores, the records it leaves in
 * the WAL by the time it returns (the request whole, or each stream's
 * kept entries), its results and messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/matcher.h"
#include "lib/timeutil.h"
#include "lib/mem.h"
#include "storage/chunk.h"
#include "storage/ingester.h"
#include "storage/wal.h"
#include "tests/unit/testutil.h"
#include "storage/ing_int.h" /* ing_cut_idle_heads */
#include "storage/stream.h" /* st_view internals, for the corrupt-block test */

#define SEC LK_NS_PER_SEC
#define HOUR (3600 * SEC)
#define T0 (INT64_C(1793491200) * SEC) /* 2026-11-01T00:00:00Z */

static const lk_str FAKE = { "fake", 4 };

/* ---- helpers */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

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

static ing *new_ing(int64_t block_size, int64_t target, int64_t max_age, int max_streams)
{
    ing_opts o = { .chunk_block_size = block_size, .chunk_target_size = target,
                   .max_chunk_age_ns = max_age, .max_streams_per_user = max_streams };
    ing *g = NULL;
    assert_int_equal(ing_create(&o, &g), 0);
    return g;
}

static int push(ing *g, lk_str tenant, const stream_id *s, const lk_entry *e, size_t n,
                ing_push_result *res, lk_buf *err)
{
    return ing_push(g, tenant, &s->labels, lk_buf_str(&s->canonical), s->fp, e, n, res, err);
}

static lk_entry ent(int64_t ts, const char *line)
{
    return (lk_entry){ .ts = ts, .line = lk_str_c(line) };
}

/* An entry read back, with its own copy of the line. */
typedef struct got {
    int64_t ts;
    char *line;
    size_t n_meta;
} got;

typedef struct got_list {
    got *v;
    size_t n, cap;
} got_list;

static void got_free(got_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].line);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void read_all(const st_view *v, int64_t from, int64_t through, bool backward,
                     sto_stats *stats, got_list *out)
{
    sto_iter *it = st_view_iter(v, from, through, backward, stats);
    lk_entry e;
    int rc;
    while ((rc = sto_iter_next(it, &e)) == 1) {
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 64;
            out->v = realloc(out->v, out->cap * sizeof(*out->v));
        }
        got *g = &out->v[out->n++];
        g->ts = e.ts;
        g->line = strndup(e.line.p, e.line.len);
        g->n_meta = e.n_meta;
    }
    assert_int_equal(rc, 0);
    sto_iter_destroy(it);
}

/* The entries of the one stream of tenant in [from, through). */
static void query(ing *g, lk_str tenant, int64_t from, int64_t through, bool backward,
                  sto_stats *stats, got_list *out)
{
    st_view **v;
    size_t n;
    assert_int_equal(ing_select(g, tenant, NULL, 0, from, through, true, &v, &n), 0);
    assert_true(n <= 1);
    if (n == 1)
        read_all(v[0], from, through, backward, stats, out);
    st_views_free(v, n);
}

static void expect_lines(const got_list *l, const char *const *want, size_t n)
{
    if (l->n != n) {
        for (size_t i = 0; i < l->n; i++)
            fprintf(stderr, "  got[%zu] = %lld %s\n", i, (long long)l->v[i].ts, l->v[i].line);
    }
    assert_int_equal(l->n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l->v[i].line, want[i]);
}

/* ---- order */

static void test_equal_timestamps_arrival_order(void **state)
{
    (void)state;
    /* tiny blocks: every 2 entries cut a block */
    ing *g = new_ing(8, 0, 2 * HOUR, 0);
    stream_id s;
    sid_init(&s, "{app=\"a\"}");
    lk_entry p1[] = { ent(T0 + 10, "a1"), ent(T0 + 10, "a2"), ent(T0 + 20, "b1"),
                      ent(T0 + 10, "a3") };
    lk_entry p2[] = { ent(T0 + 5, "z1"), ent(T0 + 10, "a4"), ent(T0 + 20, "b2"),
                      ent(T0 + 10, "a5"), ent(T0 + 30, "c1") };
    ing_push_result r;
    assert_int_equal(push(g, FAKE, &s, p1, 4, &r, NULL), 0);
    assert_true(r.created);
    assert_int_equal(r.accepted, 4);
    assert_int_equal(r.bytes, 8);
    assert_int_equal(push(g, FAKE, &s, p2, 5, &r, NULL), 0);
    assert_false(r.created);
    assert_int_equal(r.accepted, 5);

    got_list fw = { 0 }, bw = { 0 };
    sto_stats st = { 0 };
    query(g, FAKE, T0, T0 + 100, false, &st, &fw);
    const char *want[] = { "z1", "a1", "a2", "a3", "a4", "a5", "b1", "b2", "c1" };
    expect_lines(&fw, want, 9);
    query(g, FAKE, T0, T0 + 100, true, NULL, &bw);
    const char *rwant[] = { "c1", "b2", "b1", "a5", "a4", "a3", "a2", "a1", "z1" };
    expect_lines(&bw, rwant, 9);
    assert_true(st.decompressed_lines + st.head_chunk_lines >= 9);
    assert_int_equal(st.duplicates, 0);
    got_free(&fw);
    got_free(&bw);

    /* end exclusive, start inclusive */
    query(g, FAKE, T0 + 10, T0 + 20, false, NULL, &fw);
    const char *mid[] = { "a1", "a2", "a3", "a4", "a5" };
    expect_lines(&fw, mid, 5);
    got_free(&fw);
    query(g, FAKE, T0 + 10, T0 + 20, true, NULL, &fw);
    const char *rmid[] = { "a5", "a4", "a3", "a2", "a1" };
    expect_lines(&fw, rmid, 5);
    got_free(&fw);
    sid_free(&s);
    ing_destroy(g);
}

/* ---- duplicates */

static void test_duplicates(void **state)
{
    (void)state;
    ing *g = new_ing(1 << 20, 0, 2 * HOUR, 0);
    stream_id s;
    sid_init(&s, "{app=\"dup\"}");
    lk_label m1[] = { { LK_STR("trace_id"), LK_STR("1") } };
    lk_entry with_meta = { .ts = T0 + 1, .line = LK_STR("x"), .n_meta = 1, .meta = m1 };
    lk_entry p[] = { ent(T0 + 1, "x"), ent(T0 + 1, "x"), ent(T0 + 1, "y"), ent(T0 + 1, "x"),
                     with_meta, with_meta };
    ing_push_result r;
    assert_int_equal(push(g, FAKE, &s, p, 6, &r, NULL), 0);
    assert_int_equal(r.accepted, 3); /* x, y, x+meta */
    assert_int_equal(r.duplicates, 3);
    assert_int_equal(r.rejected, 0);
    assert_int_equal(r.bytes, 3);

    got_list l = { 0 };
    query(g, FAKE, T0, T0 + 10, false, NULL, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].line, "x");
    assert_int_equal(l.v[0].n_meta, 0);
    assert_string_equal(l.v[1].line, "y");
    assert_int_equal(l.v[2].n_meta, 1);
    got_free(&l);
    sid_free(&s);
    ing_destroy(g);
}

/* Layer (1): the last line is remembered across block cuts; layer (3): an
 * identical entry stored in two blocks is merged when read. */
static void test_duplicates_across_blocks(void **state)
{
    (void)state;
    ing *g = new_ing(4, 0, 2 * HOUR, 0); /* each 4-byte line cuts a block */
    stream_id s;
    sid_init(&s, "{app=\"dup2\"}");
    ing_push_result r;
    lk_entry a = ent(T0 + 5, "aaaa");
    assert_int_equal(push(g, FAKE, &s, &a, 1, &r, NULL), 0);
    assert_int_equal(r.accepted, 1);
    /* now in a block; the same entry again is the last line: dropped */
    assert_int_equal(push(g, FAKE, &s, &a, 1, &r, NULL), 0);
    assert_int_equal(r.duplicates, 1);
    assert_int_equal(r.accepted, 0);

    /* another line at the same ts, then a again: stored (not the last line,
     * not in the head), merged on read */
    lk_entry p[] = { ent(T0 + 5, "bbbb"), a };
    assert_int_equal(push(g, FAKE, &s, p, 2, &r, NULL), 0);
    assert_int_equal(r.accepted, 2);

    sto_stats st = { 0 };
    got_list fw = { 0 }, bw = { 0 };
    query(g, FAKE, T0, T0 + 10, false, &st, &fw);
    const char *want[] = { "aaaa", "bbbb" };
    expect_lines(&fw, want, 2);
    assert_int_equal(st.duplicates, 1);
    query(g, FAKE, T0, T0 + 10, true, &st, &bw);
    const char *rwant[] = { "bbbb", "aaaa" };
    expect_lines(&bw, rwant, 2);
    assert_int_equal(st.duplicates, 2);
    got_free(&fw);
    got_free(&bw);

    ing_counters c;
    ing_get_counters(g, &c);
    assert_int_equal(c.streams, 1);
    assert_int_equal(c.blocks, 3);
    assert_int_equal(c.head_bytes, 0);
    sid_free(&s);
    ing_destroy(g);
}

/* Idle heads (issue 15, memory per stream): the head of a stream idle long
 * enough becomes a block of its open chunk and frees its buffers; a small
 * or busy head stays; readers see every entry before and after, the last
 * entry is still a duplicate, and later pushes go on in the same chunk. */
static void test_idle_head_cut(void **state)
{
    (void)state;
    ing *g = new_ing(1 << 20, 0, 2 * HOUR, 0);
    stream_id big, small;
    sid_init(&big, "{app=\"idle\"}");
    sid_init(&small, "{app=\"small\"}");
    char lines[20][128];
    lk_entry e[20];
    for (int i = 0; i < 20; i++) {
        snprintf(lines[i], sizeof(lines[i]), "%03d %0100d", i, i);
        e[i] = ent(T0 + 2 * i, lines[i]);
    }
    ing_push_result r;
    assert_int_equal(push(g, FAKE, &big, e, 20, &r, NULL), 0);
    lk_entry one = ent(T0, "short");
    assert_int_equal(push(g, FAKE, &small, &one, 1, &r, NULL), 0);

    assert_int_equal(ing_cut_idle_heads(g, lk_now_ns(), HOUR), 0); /* not idle yet */
    assert_int_equal(ing_cut_idle_heads(g, lk_now_ns() + HOUR, HOUR), 1);
    ing_counters c;
    ing_get_counters(g, &c);
    assert_int_equal(c.blocks, 1);
    assert_int_equal(c.head_bytes, 5); /* the small stream's head stays */
    assert_int_equal(c.chunks, 2);

    /* the last entry again is a duplicate; entries between the cut ones
     * are merged in order */
    lk_entry more[] = { e[19], ent(T0 + 1, "odd 1"), ent(T0 + 39, "odd 39") };
    assert_int_equal(push(g, FAKE, &big, more, 3, &r, NULL), 0);
    assert_int_equal(r.duplicates, 1);
    assert_int_equal(r.accepted, 2);
    ing_get_counters(g, &c);
    assert_int_equal(c.chunks, 2);

    st_view **v;
    size_t n;
    lk_matcher m;
    assert_int_equal(matcher_init(&m, LK_MATCH_EQ, lk_str_c("app"), lk_str_c("idle"), NULL), 0);
    assert_int_equal(ing_select(g, FAKE, &m, 1, T0, T0 + HOUR, true, &v, &n), 0);
    matcher_free(&m);
    assert_int_equal(n, 1);
    for (int dir = 0; dir < 2; dir++) {
        got_list l = { 0 };
        sto_stats st = { 0 };
        read_all(v[0], T0, T0 + HOUR, dir == 1, &st, &l);
        assert_int_equal(l.n, 22);
        for (size_t i = 0; i < l.n; i++) {
            size_t k = dir ? l.n - 1 - i : i;
            int64_t want = k == 0 ? 0 : k == 1 ? 1 : k == 21 ? 39 : 2 * ((int64_t)k - 1);
            assert_int_equal(l.v[i].ts - T0, want);
        }
        got_free(&l);
    }
    st_views_free(v, n);
    sid_free(&big);
    sid_free(&small);
    ing_destroy(g);
}

/* Partial reads (sto_iter_opts.partial): a block alone in its time range
 * gives timestamps and line lengths without lines; blocks whose ranges
 * meet are read whole, so an entry stored twice is still merged into one
 * (a count must not see it twice). */
static void test_partial_reads(void **state)
{
    (void)state;
    ing *g = new_ing(4, 0, 2 * HOUR, 0); /* each 4-byte line cuts a block */
    stream_id s;
    sid_init(&s, "{app=\"partial\"}");
    lk_entry a = ent(T0 + 5, "aaaa");
    lk_entry p[] = { a, ent(T0 + 5, "bbbb"), a, ent(T0 + 9, "cccc"), ent(T0 + 20, "dddddd") };
    assert_int_equal(push(g, FAKE, &s, p, 1, NULL, NULL), 0);
    assert_int_equal(push(g, FAKE, &s, p + 1, 4, NULL, NULL), 0);
    st_view **v;
    size_t n;
    assert_int_equal(ing_select(g, FAKE, NULL, 0, T0, T0 + 30, true, &v, &n), 0);
    assert_int_equal(n, 1);
    for (int backward = 0; backward < 2; backward++) {
        sto_iter_opts o = { .partial = true, .columns = STO_COL_LEN };
        sto_stats st = { 0 };
        sto_iter *it = st_view_iter_opts(v[0], T0, T0 + 30, backward, &o, &st);
        lk_entry e;
        int64_t ts[8];
        size_t len[8], k = 0, no_line = 0;
        while (sto_iter_next(it, &e) == 1) {
            assert_true(k < 8);
            ts[k] = e.ts;
            len[k++] = e.line.len;
            no_line += e.line.p == NULL;
        }
        sto_iter_destroy(it);
        assert_int_equal(k, 4); /* aaaa once, bbbb, cccc, dddddd */
        assert_int_equal(st.duplicates, 1);
        assert_int_equal(ts[backward ? 0 : 3], T0 + 20);
        assert_int_equal(len[backward ? 0 : 3], 6);
        assert_int_equal(ts[backward ? 3 : 0], T0 + 5);
        /* the blocks at T0 + 9 and T0 + 20 stand alone: no lines decoded */
        assert_int_equal(no_line, 2);
    }
    st_views_free(v, n);
    sid_free(&s);
    ing_destroy(g);
}

/* ---- the out-of-order window */

static void test_too_far_behind(void **state)
{
    (void)state;
    ing *g = new_ing(0, 0, 2 * HOUR, 0); /* window: 1h */
    stream_id s;
    sid_init(&s, "{foo=\"bar\"}");
    lk_entry first = ent(T0 + 2 * HOUR + 123456789, "newest");
    ing_push_result r;
    assert_int_equal(push(g, FAKE, &s, &first, 1, &r, NULL), 0);

    lk_entry p[] = { ent(T0 + HOUR + 123456789, "exactly at the cutoff"),
                     ent(T0 + HOUR + 123456788, "1ns too old"),
                     ent(T0 + 500 * LK_NS_PER_MS, "way too old"),
                     ent(T0 + 3 * HOUR, "raises newest"),
                     ent(T0 + 2 * HOUR - 1, "now too old") };
    lk_buf err = { 0 };
    assert_int_equal(push(g, FAKE, &s, p, 5, &r, &err), LK_EINVAL);
    assert_int_equal(r.accepted, 2);
    assert_int_equal(r.rejected, 3);
    const char *want =
        "entry with timestamp 2026-11-01 01:00:00.123456788 +0000 UTC ignored, reason: 'entry "
        "too far behind, entry timestamp is: 2026-11-01T01:00:00Z, oldest acceptable timestamp "
        "is: 2026-11-01T01:00:00Z',\n"
        "entry with timestamp 2026-11-01 00:00:00.5 +0000 UTC ignored, reason: 'entry too far "
        "behind, entry timestamp is: 2026-11-01T00:00:00Z, oldest acceptable timestamp is: "
        "2026-11-01T01:00:00Z',\n"
        "entry with timestamp 2026-11-01 01:59:59.999999999 +0000 UTC ignored, reason: 'entry "
        "too far behind, entry timestamp is: 2026-11-01T01:59:59Z, oldest acceptable timestamp "
        "is: 2026-11-01T02:00:00Z',\n"
        "user 'fake', total ignored: 3 out of 5 for stream: {foo=\"bar\"}";
    assert_string_equal(err.p, want);

    /* at most 10 entries listed, all counted */
    lk_entry old[12];
    for (int i = 0; i < 12; i++)
        old[i] = ent(T0 + i, "old");
    lk_buf_reset(&err);
    assert_int_equal(push(g, FAKE, &s, old, 12, &r, &err), LK_EINVAL);
    assert_int_equal(r.rejected, 12);
    size_t lines = 0;
    for (const char *q = err.p; (q = strstr(q, "ignored, reason")); q++)
        lines++;
    assert_int_equal(lines, 10);
    assert_non_null(strstr(err.p, "user 'fake', total ignored: 12 out of 12 for stream: "
                                  "{foo=\"bar\"}"));

    /* a new stream has no newest yet: anything goes */
    stream_id s2;
    sid_init(&s2, "{foo=\"baz\"}");
    lk_entry far[] = { ent(T0 + 100 * HOUR, "late"), ent(T0 + 99 * HOUR, "in window"),
                       ent(T0 + 99 * HOUR - 1, "behind") };
    assert_int_equal(push(g, FAKE, &s2, far, 1, &r, NULL), 0);
    assert_int_equal(push(g, FAKE, &s2, far + 1, 1, &r, NULL), 0);
    assert_int_equal(push(g, FAKE, &s2, far + 2, 1, &r, NULL), LK_EINVAL);
    lk_buf_free(&err);
    sid_free(&s);
    sid_free(&s2);
    ing_destroy(g);
}

/* ---- limits, tenants, select */

static void test_stream_limit(void **state)
{
    (void)state;
    ing *g = new_ing(0, 0, 0, 2);
    stream_id a, b, c;
    sid_init(&a, "{n=\"1\"}");
    sid_init(&b, "{n=\"2\"}");
    sid_init(&c, "{n=\"3\"}");
    lk_entry e = ent(T0, "x");
    ing_push_result r;
    lk_buf err = { 0 };
    assert_int_equal(push(g, FAKE, &a, &e, 1, &r, NULL), 0);
    assert_int_equal(push(g, FAKE, &b, &e, 1, &r, NULL), 0);
    assert_int_equal(push(g, FAKE, &c, &e, 1, &r, &err), LK_ELIMIT);
    assert_int_equal(r.accepted, 0);
    assert_string_equal(err.p,
                        "maximum active stream limit exceeded when trying to create stream "
                        "{n=\"3\"}, reduce the number of active streams (reduce labels or reduce "
                        "label values), or contact your Loki administrator to see if the limit "
                        "can be increased, user: 'fake'");
    /* existing streams still take pushes; other tenants have their own limit */
    e.ts++;
    assert_int_equal(push(g, FAKE, &a, &e, 1, &r, NULL), 0);
    assert_int_equal(push(g, LK_STR("other"), &c, &e, 1, &r, NULL), 0);
    ing_counters cn;
    ing_get_counters(g, &cn);
    assert_int_equal(cn.streams, 3);
    assert_int_equal(cn.streams_created, 3);
    lk_buf_free(&err);
    sid_free(&a);
    sid_free(&b);
    sid_free(&c);
    ing_destroy(g);
}

static void test_select_matchers(void **state)
{
    (void)state;
    ing *g = new_ing(0, 0, 0, 0);
    const char *names[] = { "{app=\"web\", env=\"prod\"}", "{app=\"web\", env=\"dev\"}",
                            "{app=\"db\", env=\"prod\"}", "{app=\"cache\"}" };
    stream_id s[4];
    for (int i = 0; i < 4; i++) {
        sid_init(&s[i], names[i]);
        lk_entry e = ent(T0 + i * SEC, "line");
        assert_int_equal(push(g, FAKE, &s[i], &e, 1, NULL, NULL), 0);
    }
    struct {
        lk_match_type t;
        const char *name, *value;
        size_t want;
    } cases[] = {
        { LK_MATCH_EQ, "app", "web", 2 },   { LK_MATCH_NEQ, "env", "prod", 2 },
        { LK_MATCH_RE, "app", "w.*|db", 3 }, { LK_MATCH_NRE, "env", ".+", 1 },
        { LK_MATCH_EQ, "env", "", 1 },      { LK_MATCH_EQ, "nope", "x", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lk_matcher m;
        assert_int_equal(matcher_init(&m, cases[i].t, lk_str_c(cases[i].name),
                                      lk_str_c(cases[i].value), NULL), 0);
        st_view **v;
        size_t n;
        assert_int_equal(ing_select(g, FAKE, &m, 1, T0, T0 + 10 * SEC, false, &v, &n), 0);
        assert_int_equal(n, cases[i].want);
        for (size_t k = 0; k < n; k++) {
            assert_true(matchers_match_labels(&m, 1, st_view_labels(v[k])));
            if (k)
                assert_true(lk_str_cmp(st_view_canonical(v[k - 1]), st_view_canonical(v[k])) <
                            0);
        }
        st_views_free(v, n);
        matcher_free(&m);
    }
    /* all streams, fingerprints and canonical forms */
    st_view **v;
    size_t n;
    assert_int_equal(ing_select(g, FAKE, NULL, 0, T0, T0 + 10 * SEC, false, &v, &n), 0);
    assert_int_equal(n, 4);
    for (size_t k = 0; k < n; k++)
        assert_true(st_view_fp(v[k]) == labels_hash(st_view_canonical(v[k])));
    st_views_free(v, n);
    /* unknown tenant: nothing */
    assert_int_equal(ing_select(g, LK_STR("nobody"), NULL, 0, T0, T0 + 10 * SEC, true, &v, &n),
                     0);
    assert_int_equal(n, 0);
    st_views_free(v, n);
    for (int i = 0; i < 4; i++)
        sid_free(&s[i]);
    ing_destroy(g);
}

static size_t count_views(ing *g, int64_t from, int64_t through, bool with_data)
{
    st_view **v;
    size_t n;
    assert_int_equal(ing_select(g, FAKE, NULL, 0, from, through, with_data, &v, &n), 0);
    st_views_free(v, n);
    return n;
}

static void test_select_range(void **state)
{
    (void)state;
    ing *g = new_ing(0, 0, 0, 0);
    stream_id s;
    sid_init(&s, "{r=\"1\"}");
    lk_entry p[] = { ent(T0 + 100, "a"), ent(T0 + 200, "b") };
    assert_int_equal(push(g, FAKE, &s, p, 2, NULL, NULL), 0);
    for (int wd = 0; wd < 2; wd++) {
        /* [from, through] inclusive at both ends against [mint, maxt] */
        assert_int_equal(count_views(g, T0, T0 + 99, wd), 0);
        assert_int_equal(count_views(g, T0, T0 + 100, wd), 1);
        assert_int_equal(count_views(g, T0 + 150, T0 + 160, wd), 1); /* inside the span */
        assert_int_equal(count_views(g, T0 + 200, T0 + 300, wd), 1);
        assert_int_equal(count_views(g, T0 + 201, T0 + 300, wd), 0);
        assert_int_equal(count_views(g, T0 + 300, T0 + 100, wd), 0); /* empty range */
    }
    /* the snapshot does not see later pushes */
    st_view **v;
    size_t n;
    assert_int_equal(ing_select(g, FAKE, NULL, 0, T0, T0 + 1000, true, &v, &n), 0);
    lk_entry later = ent(T0 + 150, "later");
    assert_int_equal(push(g, FAKE, &s, &later, 1, NULL, NULL), 0);
    got_list l = { 0 };
    read_all(v[0], T0, T0 + 1000, false, NULL, &l);
    assert_int_equal(l.n, 2);
    got_free(&l);
    /* a view without data iterates nothing */
    st_views_free(v, n);
    assert_int_equal(ing_select(g, FAKE, NULL, 0, T0, T0 + 1000, false, &v, &n), 0);
    read_all(v[0], T0, T0 + 1000, false, NULL, &l);
    assert_int_equal(l.n, 0);
    st_views_free(v, n);
    sid_free(&s);
    ing_destroy(g);
}

/* ---- block skipping and stats */

static void test_block_skipping(void **state)
{
    (void)state;
    /* 100 in-order entries of 10 bytes, a block every 10 entries */
    ing *g = new_ing(100, 0, 2 * HOUR, 0);
    stream_id s;
    sid_init(&s, "{skip=\"1\"}");
    char lines[100][16];
    lk_entry p[100];
    for (int i = 0; i < 100; i++) {
        snprintf(lines[i], sizeof(lines[i]), "entry-%04d", i);
        p[i] = ent(T0 + i * SEC, lines[i]);
    }
    assert_int_equal(push(g, FAKE, &s, p, 100, NULL, NULL), 0);
    ing_counters c;
    ing_get_counters(g, &c);
    assert_int_equal(c.blocks, 10);
    assert_int_equal(c.chunks, 1);
    assert_int_equal(c.head_bytes, 0);
    assert_true(c.compressed_bytes > 0);

    /* entries 25..34: blocks 2 and 3 only */
    st_view **v;
    size_t n;
    assert_int_equal(ing_select(g, FAKE, NULL, 0, T0, T0 + 100 * SEC, true, &v, &n), 0);
    sto_stats st = { 0 };
    got_list l = { 0 };
    read_all(v[0], T0 + 25 * SEC, T0 + 35 * SEC, false, &st, &l);
    assert_int_equal(l.n, 10);
    assert_string_equal(l.v[0].line, "entry-0025");
    assert_string_equal(l.v[9].line, "entry-0034");
    assert_int_equal(st.blocks_skipped, 8);
    assert_int_equal(st.decompressed_lines, 20);
    assert_int_equal(st.decompressed_bytes, 200);
    assert_true(st.compressed_bytes > 0);
    assert_int_equal(st.head_chunk_lines, 0);
    assert_int_equal(st.total_chunks_ref, 1);
    assert_int_equal(st.total_chunks_matched, 1);
    got_free(&l);

    /* backward, stopping early: only the last block is decoded */
    memset(&st, 0, sizeof(st));
    sto_iter *it = st_view_iter(v[0], T0, T0 + 100 * SEC, true, &st);
    lk_entry e;
    for (int i = 99; i >= 95; i--) {
        assert_int_equal(sto_iter_next(it, &e), 1);
        assert_int_equal(e.ts, T0 + i * SEC);
    }
    sto_iter_destroy(it);
    assert_int_equal(st.decompressed_lines, 10);
    st_views_free(v, n);

    /* a select for a narrow range leaves other blocks out of the view */
    assert_int_equal(ing_select(g, FAKE, NULL, 0, T0 + 50 * SEC, T0 + 51 * SEC, true, &v, &n), 0);
    memset(&st, 0, sizeof(st));
    read_all(v[0], T0 + 50 * SEC, T0 + 52 * SEC, false, &st, &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(st.blocks_skipped, 9);
    got_free(&l);
    st_views_free(v, n);

    /* the head is counted as head data */
    lk_entry h = ent(T0 + 200 * SEC, "in the head");
    assert_int_equal(push(g, FAKE, &s, &h, 1, NULL, NULL), 0);
    memset(&st, 0, sizeof(st));
    query(g, FAKE, T0 + 150 * SEC, T0 + 250 * SEC, false, &st, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(st.head_chunk_lines, 1);
    assert_int_equal(st.head_chunk_bytes, 11);
    assert_int_equal(st.decompressed_lines, 0);
    got_free(&l);
    sid_free(&s);
    ing_destroy(g);
}

/* A damaged block is skipped, counted, and the rest still reads. */
static void test_corrupt_block_skipped(void **state)
{
    (void)state;
    ing *g = new_ing(100, 0, 2 * HOUR, 0);
    stream_id s;
    sid_init(&s, "{bad=\"1\"}");
    char lines[30][16];
    lk_entry p[30];
    for (int i = 0; i < 30; i++) {
        snprintf(lines[i], sizeof(lines[i]), "entry-%04d", i);
        p[i] = ent(T0 + i, lines[i]);
    }
    assert_int_equal(push(g, FAKE, &s, p, 30, NULL, NULL), 0);
    st_view **v;
    size_t n;
    assert_int_equal(ing_select(g, FAKE, NULL, 0, T0, T0 + 100, true, &v, &n), 0);
    assert_int_equal(v[0]->n_blocks, 3);
    /* test-only surgery: flip a byte of the middle block's payload (memory
     * the block owns; the view's blocks are the stream's) */
    char *payload = (char *)chk_block_payload(v[0]->blocks[1]).p;
    payload[0] ^= 0x40;
    for (int dir = 0; dir < 2; dir++) {
        sto_stats st = { 0 };
        got_list l = { 0 };
        read_all(v[0], T0, T0 + 100, dir, &st, &l);
        assert_int_equal(l.n, 20);
        assert_int_equal(st.corrupt_blocks, 1);
        /* blocks 0 and 2: entries 0-9 and 20-29 */
        for (size_t i = 0; i < l.n; i++) {
            size_t k = dir ? (i < 10 ? 29 - i : 19 - i) : (i < 10 ? i : i + 10);
            assert_string_equal(l.v[i].line, lines[k]);
        }
        got_free(&l);
    }
    payload[0] ^= 0x40;
    got_list l = { 0 };
    read_all(v[0], T0, T0 + 100, false, NULL, &l);
    assert_int_equal(l.n, 30);
    got_free(&l);
    st_views_free(v, n);
    sid_free(&s);
    ing_destroy(g);
}

/* ---- random comparison with a model */

typedef struct model_ent {
    int64_t ts;
    char line[8];
    int meta; /* -1: none, else the value of label k */
} model_ent;

static bool model_same(const model_ent *a, const model_ent *b)
{
    return a->ts == b->ts && strcmp(a->line, b->line) == 0 && a->meta == b->meta;
}

static int model_cmp_ts(const void *a, const void *b)
{
    const model_ent *x = *(model_ent *const *)a, *y = *(model_ent *const *)b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x < y ? -1 : x > y; /* arrival order (array position) */
}

static void test_random_against_model(void **state)
{
    (void)state;
    int64_t dups_merged = 0, rejected = 0, push_dups = 0;
    for (int round = 0; round < 12; round++) {
        int64_t max_age = 1000;
        ing *g = new_ing(16 + (int64_t)(rnd() % 64), (int64_t)(rnd() % 3) * 100, max_age, 0);
        stream_id s;
        sid_init(&s, "{model=\"1\"}");
        size_t cap = 3000, n = 0;
        model_ent *acc = calloc(cap, sizeof(*acc)); /* accepted, first copies only */
        int64_t newest = 0;
        bool has_newest = false;
        int64_t base = (int64_t)(rnd() % 1000);
        for (int push_i = 0; push_i < 200; push_i++) {
            lk_entry batch[16];
            model_ent tmp[16];
            lk_label meta[16];
            size_t nb = 1 + rnd() % 16;
            for (size_t k = 0; k < nb; k++) {
                /* mostly forward, sometimes back inside (or outside) the window */
                base += (int64_t)(rnd() % 7);
                int64_t ts = base - (rnd() % 4 == 0 ? (int64_t)(rnd() % 700) : 0);
                tmp[k].ts = ts;
                snprintf(tmp[k].line, sizeof(tmp[k].line), "l%d", (int)(rnd() % 3));
                tmp[k].meta = rnd() % 3 == 0 ? (int)(rnd() % 2) : -1;
                meta[k] = (lk_label){ LK_STR("k"), tmp[k].meta == 1 ? LK_STR("1") : LK_STR("0") };
                batch[k] = (lk_entry){ .ts = ts, .line = lk_str_c(tmp[k].line),
                                       .n_meta = tmp[k].meta >= 0, .meta = &meta[k] };
            }
            ing_push_result r;
            push(g, FAKE, &s, batch, nb, &r, NULL);
            size_t want_rejected = 0;
            for (size_t k = 0; k < nb; k++) {
                if (has_newest && tmp[k].ts < newest - max_age / 2) {
                    want_rejected++;
                    continue;
                }
                if (!has_newest || tmp[k].ts > newest)
                    newest = tmp[k].ts;
                has_newest = true;
                bool seen = false;
                for (size_t j = 0; j < n && !seen; j++)
                    seen = model_same(&acc[j], &tmp[k]);
                if (!seen && n < cap)
                    acc[n++] = tmp[k];
            }
            assert_int_equal(r.rejected, want_rejected);
            rejected += (int64_t)r.rejected;
            push_dups += (int64_t)r.duplicates;
        }
        /* expected order: by ts, then arrival */
        model_ent **ord = malloc(n * sizeof(*ord));
        for (size_t i = 0; i < n; i++)
            ord[i] = &acc[i];
        qsort(ord, n, sizeof(*ord), model_cmp_ts);

        for (int q = 0; q < 8; q++) {
            int64_t from = q == 0 ? INT64_MIN / 2 : ord[rnd() % n]->ts - (int64_t)(rnd() % 5);
            int64_t through = q == 0 ? INT64_MAX / 2 : from + (int64_t)(rnd() % 3000);
            for (int dir = 0; dir < 2; dir++) {
                got_list l = { 0 };
                sto_stats st = { 0 };
                query(g, FAKE, from, through, dir, &st, &l);
                size_t k = 0;
                for (size_t i = 0; i < n; i++) {
                    const model_ent *m = ord[dir ? n - 1 - i : i];
                    if (m->ts < from || m->ts >= through)
                        continue;
                    assert_true(k < l.n);
                    assert_int_equal(l.v[k].ts, m->ts);
                    assert_string_equal(l.v[k].line, m->line);
                    assert_int_equal(l.v[k].n_meta, m->meta >= 0);
                    k++;
                }
                assert_int_equal(k, l.n);
                assert_int_equal(st.corrupt_blocks, 0);
                dups_merged += st.duplicates;
                got_free(&l);
            }
        }
        free(ord);
        free(acc);
        sid_free(&s);
        ing_destroy(g);
    }
    /* the data exercised all three paths */
    assert_true(dups_merged > 0);
    assert_true(push_dups > 0);
    assert_true(rejected > 0);
}

/* ---- chunks */

static void test_chunk_cutting(void **state)
{
    (void)state;
    /* age 100ns; entries 10ns apart: a chunk per 10 entries */
    ing *g = new_ing(1, 0, 100, 0);
    stream_id s;
    sid_init(&s, "{age=\"1\"}");
    lk_entry p[50];
    for (int i = 0; i < 50; i++)
        p[i] = ent(T0 + i * 10, "x");
    assert_int_equal(push(g, FAKE, &s, p, 50, NULL, NULL), 0);
    ing_counters c;
    ing_get_counters(g, &c);
    assert_int_equal(c.chunks, 5);
    assert_int_equal(c.blocks, 50);
    sto_stats st = { 0 };
    got_list l = { 0 };
    query(g, FAKE, T0 + 95, T0 + 205, false, &st, &l);
    assert_int_equal(l.n, 11); /* 100 .. 200, from chunks [100, 190] and [200, 290] */
    assert_int_equal(st.total_chunks_ref, 2);
    assert_int_equal(st.total_chunks_matched, 2);
    assert_int_equal(st.blocks_skipped, 39); /* 30 outside the view, 210..290 */
    got_free(&l);
    memset(&st, 0, sizeof(st));
    query(g, FAKE, T0 + 100, T0 + 200, false, &st, &l);
    assert_int_equal(l.n, 10);
    assert_int_equal(st.total_chunks_ref, 2);    /* select's range is inclusive */
    assert_int_equal(st.total_chunks_matched, 1); /* the iterator's end is not */
    got_free(&l);
    sid_free(&s);
    ing_destroy(g);

    /* target size: 10 blocks with target 0 */
    g = new_ing(1, 0, 2 * HOUR, 0);
    sid_init(&s, "{size=\"1\"}");
    for (int i = 0; i < 50; i++)
        p[i] = ent(T0 + i, "y");
    assert_int_equal(push(g, FAKE, &s, p, 50, NULL, NULL), 0);
    ing_get_counters(g, &c);
    assert_int_equal(c.chunks, 5);
    query(g, FAKE, T0, T0 + 50, true, NULL, &l);
    assert_int_equal(l.n, 50);
    assert_int_equal(l.v[0].ts, T0 + 49);
    got_free(&l);
    sid_free(&s);
    ing_destroy(g);
    ing_destroy(NULL);

    ing_opts bad = { .chunk_block_size = -1 };
    assert_int_equal(ing_create(&bad, &g), LK_EINVAL);
}

/* ---- concurrency */

#define N_WRITERS 4
#define N_READERS 3
#define N_STREAMS 32
#define N_PUSHES 300

typedef struct conc {
    ing *g;
    stream_id s[N_STREAMS];
    int writers_done;
    pthread_mutex_t mu;
    int id;
    long entries_read;
} conc;

typedef struct thr_arg {
    conc *c;
    int id;
} thr_arg;

static void *writer(void *p)
{
    thr_arg *a = p;
    conc *c = a->c;
    char line[64];
    for (int i = 0; i < N_PUSHES; i++) {
        lk_entry batch[8];
        char lines[8][64];
        int si = (a->id * 7 + i) % N_STREAMS;
        for (int k = 0; k < 8; k++) {
            snprintf(lines[k], sizeof(lines[k]), "w%d i%d k%d", a->id, i, k);
            batch[k] = ent(T0 + (int64_t)i * 1000 + a->id * 10 + k, lines[k]);
        }
        (void)line;
        ing_push_result r;
        assert_int_equal(push(c->g, FAKE, &c->s[si], batch, 8, &r, NULL), 0);
        assert_int_equal(r.accepted, 8);
    }
    return NULL;
}

static void *reader(void *p)
{
    thr_arg *a = p;
    conc *c = a->c;
    long total = 0;
    for (int round = 0;; round++) {
        pthread_mutex_lock(&c->mu);
        int done = c->writers_done;
        pthread_mutex_unlock(&c->mu);
        st_view **v;
        size_t n;
        assert_int_equal(ing_select(c->g, FAKE, NULL, 0, T0, T0 + 10000000, true, &v, &n), 0);
        for (size_t i = 0; i < n; i++) {
            bool back = (round + a->id) % 2;
            sto_iter *it = st_view_iter(v[i], T0, T0 + 10000000, back, NULL);
            lk_entry e;
            int64_t prev = back ? INT64_MAX : INT64_MIN;
            while (sto_iter_next(it, &e) == 1) {
                assert_true(back ? e.ts <= prev : e.ts >= prev);
                assert_true(e.line.len > 0 && e.line.p[0] == 'w');
                prev = e.ts;
                total++;
            }
            sto_iter_destroy(it);
        }
        st_views_free(v, n);
        ing_counters cn;
        ing_get_counters(c->g, &cn);
        assert_true(cn.streams <= N_STREAMS);
        if (done == N_WRITERS)
            break;
    }
    pthread_mutex_lock(&c->mu);
    c->entries_read += total;
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void test_concurrent_push_and_query(void **state)
{
    (void)state;
    conc c = { 0 };
    c.g = new_ing(512, 4096, 2 * HOUR, 0);
    pthread_mutex_init(&c.mu, NULL);
    for (int i = 0; i < N_STREAMS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "{s=\"%d\"}", i);
        sid_init(&c.s[i], name);
    }
    pthread_t w[N_WRITERS], r[N_READERS];
    thr_arg wa[N_WRITERS], ra[N_READERS];
    for (int i = 0; i < N_READERS; i++) {
        ra[i] = (thr_arg){ &c, i };
        pthread_create(&r[i], NULL, reader, &ra[i]);
    }
    for (int i = 0; i < N_WRITERS; i++) {
        wa[i] = (thr_arg){ &c, i };
        pthread_create(&w[i], NULL, writer, &wa[i]);
    }
    for (int i = 0; i < N_WRITERS; i++) {
        pthread_join(w[i], NULL);
        pthread_mutex_lock(&c.mu);
        c.writers_done++;
        pthread_mutex_unlock(&c.mu);
    }
    for (int i = 0; i < N_READERS; i++)
        pthread_join(r[i], NULL);

    /* everything is there, each stream in order */
    st_view **v;
    size_t n;
    assert_int_equal(ing_select(c.g, FAKE, NULL, 0, T0, T0 + 10000000, true, &v, &n), 0);
    assert_int_equal(n, N_STREAMS);
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        got_list l = { 0 };
        read_all(v[i], T0, T0 + 10000000, false, NULL, &l);
        for (size_t k = 1; k < l.n; k++)
            assert_true(l.v[k - 1].ts <= l.v[k].ts);
        total += (long)l.n;
        got_free(&l);
    }
    st_views_free(v, n);
    assert_int_equal(total, N_WRITERS * N_PUSHES * 8);
    ing_counters cn;
    ing_get_counters(c.g, &cn);
    assert_int_equal(cn.streams, N_STREAMS);
    assert_true(cn.blocks > 0 && cn.chunks >= N_STREAMS);
    for (int i = 0; i < N_STREAMS; i++)
        sid_free(&c.s[i]);
    pthread_mutex_destroy(&c.mu);
    ing_destroy(c.g);
}

/* ---- one call per push request: store, log, wait */

/* What the WAL holds: one line per record, "push <tenant> <bytes>" or
 * "entries <tenant> <labels> <line>,<line>...". */
static int wal_line(void *ctx, uint64_t seg, const wal_rec *r)
{
    lk_buf *out = ctx;
    (void)seg;
    if (r->type == WAL_REC_PUSH) {
        lk_buf_printf(out, "push %.*s %.*s\n", LK_STR_FMT(r->tenant), LK_STR_FMT(r->push));
        return 0;
    }
    lk_buf_printf(out, "entries %.*s %.*s ", LK_STR_FMT(r->tenant), LK_STR_FMT(r->canonical));
    for (size_t i = 0; i < r->n; i++)
        lk_buf_printf(out, "%s%.*s", i ? "," : "", LK_STR_FMT(r->e[i].line));
    lk_buf_putc(out, '\n');
    return 0;
}

/* The WAL's records since the last call (every record on disk, the ones
 * already seen dropped). */
static void wal_records(const char *dir, size_t *seen, lk_buf *out)
{
    lk_buf all = { 0 };
    wal_replay_stats st;
    assert_int_equal(wal_replay(dir, wal_line, &all, &st, NULL), 0);
    lk_buf_reset(out);
    size_t k = 0;
    for (const char *p = all.p; p && *p; k++) {
        const char *nl = strchr(p, '\n');
        if (k >= *seen)
            lk_buf_append(out, p, (size_t)(nl - p + 1));
        p = nl + 1;
    }
    *seen = k;
    lk_buf_free(&all);
}

typedef struct durable {
    char *dir;
    ing *g;
    size_t seen;
    stream_id a, b, c;
    ing_stream_in in[3];
    ing_push_result res[3];
    lk_buf err, recs;
} durable;

static void durable_start(durable *d, int max_streams)
{
    memset(d, 0, sizeof(*d));
    d->dir = tst_tmpdir("ing");
    ing_opts o = { .max_streams_per_user = max_streams, .wal_dir = d->dir };
    assert_int_equal(ing_open(&o, &d->g, NULL), 0);
    ing_stream_in in = { 0 };
    assert_int_equal(ing_push_request(d->g, &(ing_request){ .tenant = FAKE, .streams = &in,
                                                            .n_streams = 1 },
                                      d->res, &d->err),
                     LK_EIO);
    assert_string_equal(d->err.p, "ingester not ready: replaying the write-ahead log");
    lk_buf_reset(&d->err);
    assert_int_equal(ing_recover(d->g, NULL), 0);
    sid_init(&d->a, "{app=\"a\"}");
    sid_init(&d->b, "{app=\"b\"}");
    sid_init(&d->c, "{app=\"c\"}");
}

static void durable_stop(durable *d)
{
    ing_destroy(d->g);
    tst_rmtree(d->dir);
    sid_free(&d->a);
    sid_free(&d->b);
    sid_free(&d->c);
    lk_buf_free(&d->err);
    lk_buf_free(&d->recs);
}

/* Pushes streams a, b (and c when ec) with the entries given, raw bytes or
 * not; the records it left in the WAL go to d->recs. */
static int push_request(durable *d, const lk_entry *ea, size_t na, const lk_entry *eb,
                        size_t nb, const lk_entry *ec, size_t nc, const char *raw)
{
    const stream_id *s[3] = { &d->a, &d->b, &d->c };
    const lk_entry *e[3] = { ea, eb, ec };
    size_t n[3] = { na, nb, nc };
    for (int i = 0; i < 3; i++)
        d->in[i] = (ing_stream_in){ &s[i]->labels, lk_buf_str(&s[i]->canonical), s[i]->fp,
                                    e[i], n[i] };
    ing_request rq = { .tenant = FAKE, .streams = d->in, .n_streams = ec ? 3 : 2 };
    if (raw) {
        rq.format = WAL_PUSH_SNAPPY_PROTO;
        rq.raw = lk_str_c(raw);
    }
    lk_buf_reset(&d->err);
    int rc = ing_push_request(d->g, &rq, d->res, &d->err);
    wal_records(d->dir, &d->seen, &d->recs);
    return rc;
}

static void test_request_logged_whole(void **state)
{
    (void)state;
    durable d;
    durable_start(&d, 0);
    lk_entry ea[2] = { ent(T0, "a1"), ent(T0 + 1, "a2") }, eb[1] = { ent(T0, "b1") };
    /* stored whole: the raw bytes, one record, on disk when the call returns */
    assert_int_equal(push_request(&d, ea, 2, eb, 1, NULL, 0, "RAW1"), 0);
    assert_string_equal(d.recs.p, "push fake RAW1\n");
    assert_int_equal(d.res[0].accepted, 2);
    assert_true(d.res[0].created && d.res[1].created);
    assert_int_equal(d.res[1].rc, 0);
    assert_int_equal(d.err.len, 0);
    /* the same again: all duplicates, still logged whole (a retry after a
     * failed WAL write must become durable) */
    assert_int_equal(push_request(&d, ea, 2, eb, 1, NULL, 0, "RAW1"), 0);
    assert_string_equal(d.recs.p, "push fake RAW1\n");
    assert_int_equal(d.res[0].duplicates, 2);
    assert_false(d.res[0].created);
    /* no raw bytes (JSON, or validation changed something): per stream */
    lk_entry ea3[1] = { ent(T0 + 2, "a3") }, eb2[1] = { ent(T0 + 2, "b2") };
    assert_int_equal(push_request(&d, ea3, 1, eb2, 1, NULL, 0, NULL), 0);
    assert_string_equal(d.recs.p, "entries fake {app=\"a\"} a3\nentries fake {app=\"b\"} b2\n");
    /* nothing to store: nothing logged */
    assert_int_equal(push_request(&d, NULL, 0, NULL, 0, NULL, 0, "RAW2"), 0);
    assert_int_equal(d.recs.len, 0);
    durable_stop(&d);
}

static void test_request_with_refusals(void **state)
{
    (void)state;
    durable d;
    durable_start(&d, 2);
    lk_entry ea[1] = { ent(T0 + 3 * HOUR, "new") }, eb[1] = { ent(T0, "b1") };
    assert_int_equal(push_request(&d, ea, 1, eb, 1, NULL, 0, "RAW1"), 0);
    /* an entry of a too far behind: that stream logs what it kept, the
     * other stream its entries; nothing is logged whole */
    lk_entry ea2[3] = { ent(T0 + 3 * HOUR + 1, "a-kept1"), ent(T0, "a-old"),
                        ent(T0 + 3 * HOUR + 2, "a-kept2") };
    lk_entry eb2[1] = { ent(T0 + 1, "b2") };
    assert_int_equal(push_request(&d, ea2, 3, eb2, 1, NULL, 0, "RAW2"), LK_EINVAL);
    assert_string_equal(d.recs.p, "entries fake {app=\"a\"} a-kept1,a-kept2\n"
                                  "entries fake {app=\"b\"} b2\n");
    assert_int_equal(d.res[0].rc, LK_EINVAL);
    assert_int_equal(d.res[0].accepted, 2);
    assert_int_equal(d.res[0].rejected, 1);
    assert_int_equal(d.res[1].rc, 0);
    assert_non_null(strstr(d.err.p, "ignored, reason: 'entry too far behind"));
    /* a third stream over the limit: refused whole (429's rc beats 400's),
     * logs nothing; the others per stream; one message per line */
    lk_entry ea3[2] = { ent(T0 + 3 * HOUR + 3, "a3"), ent(T0, "a-old2") };
    lk_entry eb3[1] = { ent(T0 + 2, "b3") }, ec[1] = { ent(T0, "c1") };
    assert_int_equal(push_request(&d, ea3, 2, eb3, 1, ec, 1, "RAW3"), LK_ELIMIT);
    assert_string_equal(d.recs.p, "entries fake {app=\"a\"} a3\nentries fake {app=\"b\"} b3\n");
    assert_int_equal(d.res[2].rc, LK_ELIMIT);
    assert_int_equal(d.res[2].rejected, 1);
    const char *nl = strchr(d.err.p, '\n');
    assert_non_null(nl);
    assert_non_null(strstr(d.err.p, "user 'fake', total ignored: 1 out of 2 for stream: "
                                    "{app=\"a\"}\nmaximum active stream limit exceeded"));
    /* the limit alone refuses nothing of the others, which are not logged whole */
    lk_entry eb4[1] = { ent(T0 + 3, "b4") }, ec2[1] = { ent(T0, "c2") };
    lk_entry ea4[1] = { ent(T0 + 3 * HOUR + 4, "a4") };
    assert_int_equal(push_request(&d, ea4, 1, eb4, 1, ec2, 1, "RAW4"), LK_ELIMIT);
    assert_string_equal(d.recs.p, "entries fake {app=\"a\"} a4\nentries fake {app=\"b\"} b4\n");
    durable_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_timestamps_arrival_order),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_duplicates_across_blocks),
        cmocka_unit_test(test_idle_head_cut),
        cmocka_unit_test(test_partial_reads),
        cmocka_unit_test(test_too_far_behind),
        cmocka_unit_test(test_stream_limit),
        cmocka_unit_test(test_select_matchers),
        cmocka_unit_test(test_select_range),
        cmocka_unit_test(test_block_skipping),
        cmocka_unit_test(test_corrupt_block_skipped),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_chunk_cutting),
        cmocka_unit_test(test_concurrent_push_and_query),
        cmocka_unit_test(test_request_logged_whole),
        cmocka_unit_test(test_request_with_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
