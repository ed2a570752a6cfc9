/* Unit tests: the index rebuilt from the chunk files (storage/reindex.h)
 * and the chunk directory scan it reads them with. Two tenants' streams
 * over three days are flushed by an orderly shutdown; the index is then
 * deleted, emptied, overwritten with garbage, or kept: idx_open_checked
 * rebuilds it exactly when it must, and the rebuilt index selects the same
 * streams and chunk references (with sizes and entry counts) as the one
 * written while flushing. A chunk file with a damaged block index is
 * indexed all the same (queries reading it will warn), one without a
 * readable header is left out, foreign names are ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/chunkdir.h"
#include "storage/fsutil.h"
#include "storage/index.h"
#include "storage/ingester.h"
#include "storage/reindex.h"
#include "tests/unit/testutil.h"

#define SEC LK_NS_PER_SEC
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define T0 (INT64_C(1793491200) * SEC) /* 2026-11-01T00:00:00Z */

static const char *const TENANTS[] = { "t1", "team-b" };

typedef struct env {
    char *root;
    lk_buf chunks, index, mdb;
} env;

/* Pushes 3 streams per tenant over three days (chunks cut every 2h, small
 * blocks) and shuts down: everything is in chunk files and the index. */
static void env_init(env *e)
{
    memset(e, 0, sizeof(*e));
    e->root = tst_tmpdir("reindex");
    lk_buf_printf(&e->chunks, "%s/chunks", e->root);
    lk_buf_printf(&e->index, "%s/index", e->root);
    lk_buf_printf(&e->mdb, "%s/data.mdb", e->index.p);
    ing_opts o = { .chunk_block_size = 2048, .chunk_target_size = 8192,
                   .max_chunk_age_ns = 2 * HOUR, .chunk_dir = e->chunks.p,
                   .index_dir = e->index.p };
    ing *g = NULL;
    assert_int_equal(ing_open(&o, &g, NULL), 0);
    assert_int_equal(ing_recover(g, NULL), 0);
    for (size_t t = 0; t < 2; t++) {
        for (int s = 0; s < 3; s++) {
            char text[96], line[64];
            snprintf(text, sizeof text, "{app=\"a%d\", tenant_tag=\"%s\"}", s, TENANTS[t]);
            lk_labels l;
            assert_int_equal(labels_parse(lk_str_c(text), &l, NULL), 0);
            lk_buf canon = { 0 };
            labels_canonical(&l, &canon);
            for (int i = 0; i < 300; i++) {
                snprintf(line, sizeof line, "%s a%d line %d", TENANTS[t], s, i);
                lk_entry en = { .ts = T0 + (int64_t)i * 15 * 60 * SEC + s, .line = lk_str_c(line) };
                assert_int_equal(ing_push(g, lk_str_c(TENANTS[t]), &l, lk_buf_str(&canon),
                                          labels_hash(lk_buf_str(&canon)), &en, 1, NULL, NULL),
                                 0);
            }
            labels_free(&l);
            lk_buf_free(&canon);
        }
    }
    assert_int_equal(ing_shutdown(g, NULL), 0);
    ing_destroy(g);
}

static void env_free(env *e)
{
    tst_rmtree(e->root);
    lk_buf_free(&e->chunks);
    lk_buf_free(&e->index);
    lk_buf_free(&e->mdb);
}

static int collect(void *ctx, const cdir_entry *e)
{
    lk_buf *paths = ctx;
    lk_buf_printf(paths, "%s\n", e->path);
    return 0;
}

/* Every chunk file's path, one a line. */
static size_t list_files(const env *e, lk_buf *paths)
{
    cdir *d;
    assert_int_equal(cdir_open(e->chunks.p, &d, NULL), 0);
    lk_buf_reset(paths);
    assert_int_equal(cdir_scan(d, collect, paths, NULL, NULL), 0);
    cdir_close(d);
    size_t n = 0;
    for (size_t i = 0; i < paths->len; i++)
        n += paths->p[i] == '\n';
    return n;
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What the index selects for every tenant over the whole range: one
 * sorted line per (series, chunk) with the reference's every field. */
static void dump(idx *x, lk_buf *out)
{
    char **lines = NULL;
    size_t n = 0, cap = 0;
    for (size_t t = 0; t < 2; t++) {
        idx_result r;
        assert_int_equal(idx_select(x, lk_str_c(TENANTS[t]), NULL, 0, T0 - DAY, T0 + 5 * DAY,
                                    true, &r, NULL),
                         0);
        assert_int_equal(r.skipped, 0);
        for (size_t i = 0; i < r.n; i++) {
            for (size_t k = 0; k < r.v[i].n_chunks; k++) {
                const chk_ref *c = &r.v[i].chunks[k];
                lk_buf l = { 0 };
                lk_buf_printf(&l, "%s %.*s %" PRId64 " %" PRId64 " %08x %" PRIu64 " %u",
                              TENANTS[t], LK_STR_FMT(r.v[i].canonical), c->from, c->through,
                              c->crc, c->size, c->entries);
                lines = lk_grow(lines, &cap, n + 1, sizeof(*lines));
                lines[n++] = lk_buf_steal(&l);
            }
        }
        idx_result_free(&r);
    }
    qsort(lines, n, sizeof(*lines), line_cmp);
    lk_buf_reset(out);
    for (size_t i = 0; i < n; i++) {
        lk_buf_printf(out, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
}

/* idx_open_checked on e; dumps the index into out. */
static void open_checked(env *e, bool force, lk_buf *out)
{
    cdir *d;
    idx *x = NULL;
    lk_buf err = { 0 };
    assert_int_equal(cdir_open(e->chunks.p, &d, NULL), 0);
    int rc = idx_open_checked(e->index.p, d, force, &x, &err);
    if (rc != 0)
        fail_msg("idx_open_checked: %s", err.p ? err.p : lk_strerror(rc));
    dump(x, out);
    idx_close(x);
    cdir_close(d);
    lk_buf_free(&err);
}

static ino_t inode(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

static void remove_index(env *e)
{
    lk_buf p = { 0 };
    lk_buf_printf(&p, "%s/lock.mdb", e->index.p);
    assert_int_equal(unlink(e->mdb.p), 0);
    assert_int_equal(unlink(p.p), 0);
    lk_buf_free(&p);
}

static void test_rebuilt_when_needed(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    lk_buf paths = { 0 }, before = { 0 }, after = { 0 };
    size_t files = list_files(&e, &paths);
    assert_true(files >= 2 * 3 * 3); /* every stream has chunks in every day */

    /* a consistent index is kept as it is */
    ino_t ino = inode(e.mdb.p);
    open_checked(&e, false, &before);
    assert_int_equal(inode(e.mdb.p), ino);
    size_t lines = 0;
    for (size_t i = 0; i < before.len; i++)
        lines += before.p[i] == '\n';
    assert_true(lines >= files);

    /* missing */
    remove_index(&e);
    open_checked(&e, false, &after);
    assert_string_equal(after.p, before.p);

    /* behind: an empty data.mdb */
    remove_index(&e);
    idx *x;
    assert_int_equal(idx_open(e.index.p, &x, NULL), 0);
    idx_close(x);
    open_checked(&e, false, &after);
    assert_string_equal(after.p, before.p);

    /* damaged: garbage where data.mdb was */
    FILE *f = fopen(e.mdb.p, "r+b");
    assert_non_null(f);
    for (int i = 0; i < 3 * 4096; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    open_checked(&e, false, &after);
    assert_string_equal(after.p, before.p);
    lk_buf damaged = { 0 };
    lk_buf_printf(&damaged, "%s.damaged", e.mdb.p);
    assert_int_not_equal(inode(damaged.p), 0);
    lk_buf_free(&damaged);

    /* forced */
    ino = inode(e.mdb.p);
    open_checked(&e, true, &after);
    assert_int_not_equal(inode(e.mdb.p), ino);
    assert_string_equal(after.p, before.p);

    lk_buf_free(&paths);
    lk_buf_free(&before);
    lk_buf_free(&after);
    env_free(&e);
}

/* The path on line i of paths, into out. */
static void nth_path(const lk_buf *paths, size_t i, lk_buf *out)
{
    const char *p = paths->p;
    for (; i; i--)
        p = strchr(p, '\n') + 1;
    lk_buf_reset(out);
    lk_buf_append(out, p, (size_t)(strchr(p, '\n') - p));
    lk_buf_putc(out, '\0');
}

static void test_damaged_files(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    lk_buf paths = { 0 }, path = { 0 }, stray = { 0 };
    size_t files = list_files(&e, &paths);

    /* a flipped byte in the footer: the file fails its checks, its header
     * still names its stream */
    nth_path(&paths, 0, &path);
    struct stat sb;
    assert_int_equal(stat(path.p, &sb), 0);
    int fd = open(path.p, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, sb.st_size - 2), 1);
    b ^= 0x10;
    assert_int_equal(pwrite(fd, &b, 1, sb.st_size - 2), 1);
    close(fd);
    /* truncated inside its header: left out */
    nth_path(&paths, 1, &path);
    assert_int_equal(truncate(path.p, 20), 0);
    /* not a chunk file name: ignored */
    nth_path(&paths, 2, &path);
    lk_buf_printf(&stray, "%s.tmp", path.p);
    FILE *f = fopen(stray.p, "w");
    assert_non_null(f);
    fclose(f);

    cdir *d;
    assert_int_equal(cdir_open(e.chunks.p, &d, NULL), 0);
    size_t foreign = 0;
    lk_buf seen = { 0 };
    assert_int_equal(cdir_scan(d, collect, &seen, &foreign, NULL), 0);
    assert_int_equal(foreign, 1);
    idx_rebuild_stats st;
    lk_buf err = { 0 };
    assert_int_equal(idx_rebuild(e.index.p, d, false, &st, &err), 0);
    assert_int_equal(st.files, files);
    assert_int_equal(st.indexed, files - 1);
    assert_int_equal(st.damaged, 1);
    assert_int_equal(st.skipped, 1);
    cdir_close(d);

    lk_buf_free(&err);
    lk_buf_free(&seen);
    lk_buf_free(&paths);
    lk_buf_free(&path);
    lk_buf_free(&stray);
    env_free(&e);
}

static int count_tenant(void *ctx, const cdir_entry *e)
{
    lk_buf *t = ctx;
    lk_buf_put_str(t, e->tenant);
    lk_buf_putc(t, '|');
    return 0;
}

/* Tenant directory names are decoded back into the tenants they encode;
 * other spellings of them, and names no tenant has, are foreign. */
static void test_scan_tenants(void **state)
{
    (void)state;
    char *tmpl = tst_tmpdir("reindex");
    cdir *d;
    assert_int_equal(cdir_open(tmpl, &d, NULL), 0);
    chk_ref r = { .sid = { 0x1234, 0xabcd }, .from = 5, .through = 6, .crc = 0x42 };
    cdir_file v[2] = { { .tenant = LK_STR("a/b%c"), .ref = r, .bytes = LK_STR("x") },
                       { .tenant = LK_STR(".."), .ref = r, .bytes = LK_STR("x") } };
    assert_int_equal(cdir_write(d, v, 2, NULL), 0);
    lk_buf p = { 0 };
    static const char *const foreign_dirs[] = { "%2e%2E", "a%2fb%25c", "bad%zz", "sp ace" };
    for (size_t i = 0; i < 4; i++) {
        lk_buf_reset(&p);
        lk_buf_printf(&p, "%s/%s/0", tmpl, foreign_dirs[i]);
        assert_int_equal(fs_mkdirs(p.p, NULL), 0);
    }
    lk_buf seen = { 0 };
    size_t foreign = 0;
    assert_int_equal(cdir_scan(d, count_tenant, &seen, &foreign, NULL), 0);
    assert_true(strcmp(seen.p, "a/b%c|..|") == 0 || strcmp(seen.p, "..|a/b%c|") == 0);
    assert_int_equal(foreign, 4);
    lk_buf_free(&seen);
    lk_buf_free(&p);
    cdir_close(d);
    tst_rmtree(tmpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rebuilt_when_needed),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_scan_tenants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
