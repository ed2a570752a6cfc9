/* Rebuilding the index from the chunk files, and the check at start that
 * decides it (storage/reindex.h). */
#define _GNU_SOURCE
#include "storage/reindex.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/chunk.h"
#include "storage/fsutil.h"

#define BATCH 4096        /* chunks per write transaction */
#define WARN_FILES 10     /* files named in the log; the rest only counted */
#define BUILD_DIR "rebuild"

/* ---- building */

typedef struct builder {
    idx *x;
    idx_chunk *v;          /* the batch; labels point into labels[] at commit */
    lk_labels *labels;
    size_t n, cap, lcap;
    lk_arena arena;        /* tenants and canonical labels of the batch */
    lk_buf canonical, why;
    idx_rebuild_stats st;
    lk_buf *err;
} builder;

static int commit(builder *b)
{
    for (size_t i = 0; i < b->n; i++)
        b->v[i].labels = &b->labels[i];
    int rc = idx_add(b->x, b->v, b->n, b->err);
    for (size_t i = 0; i < b->n; i++)
        labels_free(&b->labels[i]);
    b->n = 0;
    lk_arena_free(&b->arena);
    return rc;
}

static void left_out(builder *b, const cdir_entry *e, const char *why)
{
    if (b->st.skipped++ < WARN_FILES)
        log_warn("leaving a chunk file out of the index", "path=\"%s\" err=\"%s\"", e->path,
                 why);
}

/* Does the file's header name the stream its name gives, where it lies? */
static const char *misplaced(const cdir_entry *e, const chk_file_info *fi)
{
    if (e->tenant.len > IDX_MAX_TENANT)
        return "tenant too long";
    if (e->ref.from > e->ref.through || chk_period(e->ref.through) != e->period)
        return "its name does not belong in its period directory";
    if (!chk_sid_eq(chk_sid_of(fi->canonical), e->ref.sid))
        return "its labels do not hash to the stream its name gives";
    return NULL;
}

static int add_file(void *ctx, const cdir_entry *e)
{
    builder *b = ctx;
    b->st.files++;
    chk_file_info fi;
    uint64_t size;
    bool damaged;
    lk_buf_reset(&b->why);
    if (cdir_read_info(e, &fi, &b->canonical, &size, &damaged, &b->why) != 0) {
        left_out(b, e, b->why.p ? b->why.p : "unreadable");
        return 0;
    }
    const char *bad = misplaced(e, &fi);
    lk_labels l;
    if (!bad && labels_parse(fi.canonical, &l, NULL) != 0)
        bad = "its labels do not parse";
    if (bad) {
        left_out(b, e, bad);
        return 0;
    }
    if (damaged && b->st.damaged < WARN_FILES)
        log_warn("indexing a damaged chunk file (queries reading it will warn)",
                 "path=\"%s\" err=\"%s\"", e->path, b->why.p ? b->why.p : "");
    b->st.damaged += damaged;
    b->st.indexed++;
    b->v = lk_grow(b->v, &b->cap, b->n + 1, sizeof(*b->v));
    b->labels = lk_grow(b->labels, &b->lcap, b->n + 1, sizeof(*b->labels));
    chk_ref r = e->ref;
    r.size = size;
    r.entries = damaged ? 0 : fi.entries;
    b->labels[b->n] = l;
    b->v[b->n++] = (idx_chunk){ .tenant = lk_arena_str(&b->arena, e->tenant),
                                .canonical = lk_arena_str(&b->arena, fi.canonical),
                                .ref = r };
    return b->n >= BATCH ? commit(b) : 0;
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->n; i++)
        labels_free(&b->labels[i]);
    free(b->v);
    free(b->labels);
    lk_arena_free(&b->arena);
    lk_buf_free(&b->canonical);
    lk_buf_free(&b->why);
}

/* ---- putting it in place */

static int fs_fail(lk_buf *err, const char *call, const char *path)
{
    if (err)
        lk_buf_printf(err, "%s(\"%s\") failed: %s", call, path, strerror(errno));
    return LK_EIO;
}

/* Renames tmp/data.mdb over dir/data.mdb (keeping the old one as
 * data.mdb.damaged when asked), drops the stale lock file and tmp. */
static int swap_in(const char *dir, const char *tmp, bool keep_old, lk_buf *err)
{
    lk_buf from = { 0 }, to = { 0 };
    int rc = 0;
    lk_buf_printf(&to, "%s/data.mdb", dir);
    if (keep_old) {
        lk_buf_printf(&from, "%s.damaged", to.p);
        if (rename(to.p, from.p) != 0 && errno != ENOENT)
            rc = fs_fail(err, "rename", to.p);
    }
    lk_buf_reset(&from);
    lk_buf_printf(&from, "%s/lock.mdb", dir);
    if (rc == 0 && unlink(from.p) != 0 && errno != ENOENT)
        rc = fs_fail(err, "unlink", from.p);
    lk_buf_reset(&from);
    lk_buf_printf(&from, "%s/data.mdb", tmp);
    if (rc == 0 && rename(from.p, to.p) != 0)
        rc = fs_fail(err, "rename", from.p);
    if (rc == 0)
        rc = fs_fsync_dir(dir, err);
    if (rc == 0)
        rc = fs_remove_tree(tmp, err);
    lk_buf_free(&from);
    lk_buf_free(&to);
    return rc;
}

int idx_rebuild(const char *dir, const cdir *d, bool keep_old, idx_rebuild_stats *st,
                lk_buf *err)
{
    int64_t t0 = lk_now_ns();
    lk_buf tmp = { 0 };
    lk_buf_printf(&tmp, "%s/%s", dir, BUILD_DIR);
    builder b = { .err = err };
    int rc = fs_remove_tree(tmp.p, err); /* what a crash left */
    if (rc == 0)
        rc = idx_open(tmp.p, &b.x, err);
    if (rc == 0)
        rc = cdir_scan(d, add_file, &b, NULL, err);
    if (rc == 0 && b.n)
        rc = commit(&b);
    idx_close(b.x);
    if (rc == 0)
        rc = swap_in(dir, tmp.p, keep_old, err);
    b.st.ns = lk_now_ns() - t0;
    if (rc == 0 && st)
        *st = b.st;
    builder_free(&b);
    lk_buf_free(&tmp);
    return rc;
}

/* ---- the check at start */

static int count_file(void *ctx, const cdir_entry *e)
{
    (void)e;
    (*(size_t *)ctx)++;
    return 0;
}

static bool has_data_file(const char *dir)
{
    lk_buf p = { 0 };
    lk_buf_printf(&p, "%s/data.mdb", dir);
    struct stat sb;
    bool yes = stat(p.p, &sb) == 0;
    lk_buf_free(&p);
    return yes;
}

/* Opens the index when it passes the check; otherwise says in *why why it
 * must be rebuilt (*damaged: the file is kept aside). */
static int check(const char *dir, const cdir *d, idx **out, lk_buf *why, bool *damaged,
                 lk_buf *err)
{
    size_t files = 0, keys = 0;
    bool exists = has_data_file(dir);
    int rc = 0;
    idx *x = NULL;
    lk_buf e = { 0 };
    if (exists && (rc = idx_open(dir, &x, &e)) == 0)
        rc = idx_check(x, &keys, &e);
    if (rc != 0) {
        lk_buf_printf(why, "the index is damaged: %s", e.p ? e.p : lk_strerror(rc));
        *damaged = true;
        rc = 0;
    } else if ((rc = cdir_scan(d, count_file, &files, NULL, err)) == 0 && files > keys) {
        if (exists)
            lk_buf_printf(why, "the index holds %zu chunk keys for %zu chunk files", keys,
                          files);
        else
            lk_buf_printf(why, "the index is missing (no data.mdb) and there are %zu chunk files",
                          files);
    }
    if (rc == 0 && !why->len && !x)
        rc = idx_open(dir, &x, err); /* a new, empty index */
    if (rc == 0 && !why->len)
        *out = x;
    else
        idx_close(x);
    lk_buf_free(&e);
    return rc;
}

int idx_open_checked(const char *dir, const cdir *d, bool force, idx **out, lk_buf *err)
{
    lk_buf why = { 0 };
    bool damaged = false;
    lk_buf tmp = { 0 };
    lk_buf_printf(&tmp, "%s/%s", dir, BUILD_DIR);
    int rc = fs_mkdirs(dir, err);
    if (rc == 0)
        rc = fs_remove_tree(tmp.p, err); /* a rebuild a crash interrupted */
    lk_buf_free(&tmp);
    if (rc == 0 && force)
        lk_buf_puts(&why, "forced (-index.rebuild)");
    else if (rc == 0)
        rc = check(dir, d, out, &why, &damaged, err);
    if (rc == 0 && why.len) {
        log_warn("rebuilding the index from the chunk files", "dir=\"%s\" reason=\"%s\"", dir,
                 why.p);
        idx_rebuild_stats st;
        if ((rc = idx_rebuild(dir, d, damaged, &st, err)) == 0) {
            log_info("index rebuilt", "chunk_files=%zu indexed=%zu damaged=%zu left_out=%zu "
                     "duration=%.3fs", st.files, st.indexed, st.damaged, st.skipped,
                     (double)st.ns / 1e9);
            rc = idx_open(dir, out, err);
        }
    }
    lk_buf_free(&why);
    return rc;
}
