/* The chunk directory (storage/chunkdir.h): paths, durable writes, mapped
 * reads, scanning (names parsed back into references) and retention by
 * period directory. */
#define _GNU_SOURCE
#include "storage/chunkdir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/fsutil.h"

#define STAGING "staging%"

struct cdir {
    char *root;
    char *staging;
};

int cdir_open(const char *root, cdir **out, lk_buf *err)
{
    lk_buf staging = { 0 };
    lk_buf_printf(&staging, "%s/%s", root, STAGING);
    /* leftovers of writes a crash interrupted: never renamed, never indexed */
    int rc = fs_remove_tree(staging.p, err);
    if (rc == 0)
        rc = fs_mkdirs(staging.p, err);
    if (rc != 0) {
        lk_buf_free(&staging);
        return rc;
    }
    cdir *d = lk_calloc(1, sizeof(*d));
    d->root = lk_strdup(root);
    d->staging = lk_buf_steal(&staging);
    *out = d;
    return 0;
}

void cdir_close(cdir *d)
{
    if (!d)
        return;
    free(d->root);
    free(d->staging);
    free(d);
}

/* ---- paths */

static bool plain_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!-_.*'()", c) != NULL);
}

static void put_tenant(lk_buf *out, lk_str t)
{
    bool dots = lk_str_eq_c(t, ".") || lk_str_eq_c(t, "..");
    for (size_t i = 0; i < t.len; i++) {
        unsigned char c = (unsigned char)t.p[i];
        if (plain_byte(c) && !dots)
            lk_buf_putc(out, (char)c);
        else
            lk_buf_printf(out, "%%%02X", c);
    }
    if (t.len == 0)
        lk_buf_puts(out, "%00");
}

static void put_dir(const cdir *d, lk_str tenant, int32_t period, lk_buf *out)
{
    lk_buf_reset(out);
    lk_buf_printf(out, "%s/", d->root);
    put_tenant(out, tenant);
    lk_buf_printf(out, "/%" PRId32, period);
}

static void put_name(const chk_ref *r, lk_buf *out)
{
    lk_buf_reset(out);
    lk_buf_printf(out, "%016" PRIx64 "-%016" PRIx64 "-%016" PRIx64 "-%016" PRIx64 "-%08" PRIx32
                       ".lkc",
                  r->sid.fp, r->sid.h2, (uint64_t)r->from, (uint64_t)r->through, r->crc);
}

void cdir_path(const cdir *d, lk_str tenant, const chk_ref *r, lk_buf *out)
{
    lk_buf name = { 0 };
    put_dir(d, tenant, chk_period(r->through), out);
    put_name(r, &name);
    lk_buf_putc(out, '/');
    lk_buf_put_str(out, lk_buf_str(&name));
    lk_buf_free(&name);
}

/* ---- writing */

/* The staging name of file i of a batch: numbered, as two tenants' files
 * may have the same name. */
static void put_tmp(const cdir *d, const cdir_file *v, size_t i, lk_buf *name, lk_buf *out)
{
    put_name(&v[i].ref, name);
    lk_buf_reset(out);
    lk_buf_printf(out, "%s/%zu-%s.tmp", d->staging, i, name->p);
}

/* Adds dir to the distinct directories written to. */
static void note_dir(char ***dirs, size_t *n, size_t *cap, const char *dir)
{
    for (size_t j = 0; j < *n; j++)
        if (strcmp((*dirs)[j], dir) == 0)
            return;
    *dirs = lk_grow(*dirs, cap, *n + 1, sizeof(**dirs));
    (*dirs)[(*n)++] = lk_strdup(dir);
}

/* Marks the files renamed into dir as not durable. */
static void fail_dir(const cdir *d, cdir_file *v, size_t n, const char *dir, lk_buf *tmp)
{
    for (size_t i = 0; i < n; i++) {
        put_dir(d, v[i].tenant, chk_period(v[i].ref.through), tmp);
        if (v[i].rc == 0 && strcmp(tmp->p, dir) == 0)
            v[i].rc = LK_EIO;
    }
}

/* Every file is written into staging unsynced, one syncfs makes them all
 * durable, then each is renamed into its directory and each directory
 * fsynced once: a few syncs per batch instead of one per file. */
int cdir_write(cdir *d, cdir_file *v, size_t n, lk_buf *err)
{
    lk_buf dir = { 0 }, name = { 0 }, tmp = { 0 }, path = { 0 };
    char **dirs = NULL; /* distinct directories written to */
    size_t n_dirs = 0, cap = 0, n_written = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        put_tmp(d, v, i, &name, &tmp);
        v[i].rc = fs_write_unsynced(tmp.p, v[i].bytes, rc ? NULL : err);
        if (v[i].rc != 0)
            rc = LK_EIO;
        else
            n_written++;
    }
    if (n_written && fs_syncfs(d->staging, rc ? NULL : err) != 0) {
        rc = LK_EIO;
        for (size_t i = 0; i < n; i++) {
            if (v[i].rc == 0) {
                put_tmp(d, v, i, &name, &tmp);
                unlink(tmp.p);
                v[i].rc = LK_EIO;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].rc != 0)
            continue;
        put_tmp(d, v, i, &name, &tmp);
        put_dir(d, v[i].tenant, chk_period(v[i].ref.through), &dir);
        v[i].rc = fs_mkdirs(dir.p, rc ? NULL : err);
        lk_buf_reset(&path);
        lk_buf_printf(&path, "%s/%s", dir.p, name.p);
        if (v[i].rc == 0 && rename(tmp.p, path.p) != 0) {
            if (!rc && err)
                lk_buf_printf(err, "rename(\"%s\") failed: %s", tmp.p, strerror(errno));
            v[i].rc = LK_EIO;
        }
        if (v[i].rc != 0) {
            unlink(tmp.p);
            rc = LK_EIO;
            continue;
        }
        note_dir(&dirs, &n_dirs, &cap, dir.p);
    }
    for (size_t j = 0; j < n_dirs; j++) {
        if (fs_fsync_dir(dirs[j], rc ? NULL : err) != 0) {
            rc = LK_EIO;
            fail_dir(d, v, n, dirs[j], &tmp); /* its files are not durable */
        }
        free(dirs[j]);
    }
    free(dirs);
    lk_buf_free(&dir);
    lk_buf_free(&name);
    lk_buf_free(&tmp);
    lk_buf_free(&path);
    return rc;
}

/* ---- reading */

static void unmap(void *ctx, const void *p, size_t n)
{
    (void)ctx;
    munmap((void *)p, n);
}

int cdir_read(const cdir *d, lk_str tenant, const chk_ref *r, lk_str canonical, chk_chunk **out,
              lk_buf *err)
{
    lk_buf path = { 0 }, canon = { 0 };
    cdir_path(d, tenant, r, &path);
    int rc = 0;
    void *m = MAP_FAILED;
    size_t n = 0;
    int fd = open(path.p, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        rc = errno == ENOENT ? LK_ENOTFOUND : LK_EIO;
        if (err)
            lk_buf_printf(err, "%s(\"%s\") failed: %s", fd < 0 ? "open" : "fstat", path.p,
                          strerror(errno));
        goto out;
    }
    n = (size_t)sb.st_size;
    if (n == 0 || (r->size && r->size != n)) {
        rc = LK_ECORRUPT;
        if (err)
            lk_buf_printf(err, "chunk file \"%s\" has %zu bytes, the index says %" PRIu64, path.p,
                          n, r->size);
        goto out;
    }
    m = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        rc = LK_EIO;
        if (err)
            lk_buf_printf(err, "mmap(\"%s\") failed: %s", path.p, strerror(errno));
        goto out;
    }
    uint64_t fp = 0;
    chk_chunk *c = NULL;
    rc = chk_file_decode(m, n, unmap, NULL, &c, &canon, &fp, err);
    if (rc != 0) {
        munmap(m, n);
        if (err)
            lk_buf_printf(err, " (file \"%s\")", path.p);
        goto out;
    }
    /* the mapping belongs to the chunk's blocks from here on */
    if (fp != r->sid.fp || !lk_str_eq(lk_buf_str(&canon), canonical) ||
        chk_file_crc(lk_str_n(m, n)) != r->crc) {
        chk_chunk_free(c);
        rc = LK_ECORRUPT;
        if (err)
            lk_buf_printf(err, "chunk file \"%s\" does not hold the stream the index names",
                          path.p);
        goto out;
    }
    *out = c;
out:
    if (fd >= 0)
        close(fd);
    lk_buf_free(&path);
    lk_buf_free(&canon);
    return rc;
}

int cdir_read_info(const cdir_entry *e, chk_file_info *info, lk_buf *canonical, uint64_t *size,
                   bool *damaged, lk_buf *err)
{
    int rc = 0;
    void *m = MAP_FAILED;
    size_t n = 0;
    int fd = open(e->path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        rc = errno == ENOENT ? LK_ENOTFOUND : LK_EIO;
        if (err)
            lk_buf_printf(err, "%s(\"%s\") failed: %s", fd < 0 ? "open" : "fstat", e->path,
                          strerror(errno));
        goto out;
    }
    n = (size_t)sb.st_size;
    if (n && (m = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        rc = LK_EIO;
        if (err)
            lk_buf_printf(err, "mmap(\"%s\") failed: %s", e->path, strerror(errno));
        goto out;
    }
    chk_file_info fi;
    bool bad = n == 0 || chk_file_info_get(m, n, &fi, err) != 0;
    if (bad && (n == 0 || chk_file_info_peek(m, n, &fi) != 0)) {
        rc = LK_ECORRUPT;
        if (err && n == 0)
            lk_buf_printf(err, "chunk file \"%s\" is empty", e->path);
        else if (err)
            lk_buf_printf(err, " (file \"%s\")", e->path);
        goto out;
    }
    lk_buf_reset(canonical);
    lk_buf_put_str(canonical, fi.canonical);
    fi.canonical = lk_buf_str(canonical);
    *info = fi;
    *size = n;
    *damaged = bad;
out:
    if (m != MAP_FAILED)
        munmap(m, n);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* ---- names */

static bool parse_period(const char *s, int32_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

/* n hex digits at s (lowercase only when lower) into *v. */
static bool parse_hex(const char *s, int n, bool lower, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < n; i++) {
        int d = lk_hex_val((unsigned char)s[i]);
        if (d < 0 || (lower && s[i] >= 'A' && s[i] <= 'F'))
            return false;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return true;
}

/* The tenant a directory name encodes (put_tenant's inverse); false for a
 * name put_tenant does not write. */
static bool parse_tenant(const char *name, lk_buf *out)
{
    lk_buf_reset(out);
    if (strcmp(name, "%00") == 0) /* the empty tenant */
        return true;
    for (const char *p = name; *p; p++) {
        uint64_t c;
        if (*p != '%') {
            if (!plain_byte((unsigned char)*p))
                return false;
            lk_buf_putc(out, *p);
        } else if (p[1] && p[2] && parse_hex(p + 1, 2, false, &c)) {
            lk_buf_putc(out, (char)c);
            p += 2;
        } else {
            return false;
        }
    }
    lk_buf reenc = { 0 }; /* one spelling per tenant: "%2e" is not "." */
    put_tenant(&reenc, lk_buf_str(out));
    bool same = strcmp(reenc.p ? reenc.p : "", name) == 0;
    lk_buf_free(&reenc);
    return same;
}

/* A chunk file name (put_name's format) into the reference's sid, from,
 * through and crc. */
static bool parse_name(const char *name, chk_ref *r)
{
    static const int widths[5] = { 16, 16, 16, 16, 8 };
    uint64_t v[5];
    const char *p = name;
    for (int i = 0; i < 5; i++) {
        if (!parse_hex(p, widths[i], true, &v[i]))
            return false;
        p += widths[i];
        if (*p++ != (i < 4 ? '-' : '.'))
            return false;
    }
    if (strcmp(p, "lkc") != 0)
        return false;
    *r = (chk_ref){ .sid = { v[0], v[1] }, .from = (int64_t)v[2], .through = (int64_t)v[3],
                    .crc = (uint32_t)v[4] };
    return true;
}

/* ---- scanning */

typedef struct scan {
    const cdir *d;
    cdir_scan_fn fn;
    void *ctx;
    cdir_entry e;
    lk_buf tenant, dir, path;
    size_t foreign;
} scan;

/* The chunk files of one period directory (s->dir). */
static int scan_period(scan *s, int32_t period)
{
    fs_names files;
    int rc = fs_list(s->dir.p, &files, NULL);
    if (rc != 0) {
        s->foreign++; /* not a directory */
        return 0;
    }
    for (size_t i = 0; rc == 0 && i < files.n; i++) {
        if (!parse_name(files.v[i], &s->e.ref)) {
            s->foreign++;
            continue;
        }
        lk_buf_reset(&s->path);
        lk_buf_printf(&s->path, "%s/%s", s->dir.p, files.v[i]);
        s->e.period = period;
        s->e.path = s->path.p;
        rc = s->fn(s->ctx, &s->e);
    }
    fs_names_free(&files);
    return rc;
}

static int scan_tenant(scan *s, const char *name)
{
    fs_names periods;
    lk_buf tdir = { 0 };
    lk_buf_printf(&tdir, "%s/%s", s->d->root, name);
    int rc = fs_list(tdir.p, &periods, NULL);
    if (rc != 0) {
        s->foreign++;
        rc = 0;
    }
    s->e.tenant = lk_buf_str(&s->tenant);
    for (size_t j = 0; rc == 0 && j < periods.n; j++) {
        int32_t p;
        if (!parse_period(periods.v[j], &p)) {
            s->foreign++;
            continue;
        }
        lk_buf_reset(&s->dir);
        lk_buf_printf(&s->dir, "%s/%s", tdir.p, periods.v[j]);
        rc = scan_period(s, p);
    }
    fs_names_free(&periods);
    lk_buf_free(&tdir);
    return rc;
}

int cdir_scan(const cdir *d, cdir_scan_fn fn, void *ctx, size_t *foreign, lk_buf *err)
{
    scan s = { .d = d, .fn = fn, .ctx = ctx };
    fs_names tenants;
    int rc = fs_list(d->root, &tenants, err);
    for (size_t i = 0; rc == 0 && i < tenants.n; i++) {
        if (strcmp(tenants.v[i], STAGING) == 0)
            continue;
        if (!parse_tenant(tenants.v[i], &s.tenant)) {
            s.foreign++;
            continue;
        }
        rc = scan_tenant(&s, tenants.v[i]);
    }
    if (rc == 0 && foreign)
        *foreign = s.foreign;
    fs_names_free(&tenants);
    lk_buf_free(&s.tenant);
    lk_buf_free(&s.dir);
    lk_buf_free(&s.path);
    return rc;
}

/* ---- retention */

static int32_t same_cut(void *ctx, lk_str tenant)
{
    (void)tenant;
    return *(const int32_t *)ctx;
}

int cdir_drop_before(cdir *d, int32_t period, size_t *removed, lk_buf *err)
{
    return cdir_drop_expired(d, same_cut, &period, removed, err);
}

int cdir_drop_expired(cdir *d, chk_cutoff_fn cut, void *ctx, size_t *removed, lk_buf *err)
{
    fs_names tenants;
    size_t k = 0;
    int rc = fs_list(d->root, &tenants, err);
    lk_buf tdir = { 0 }, pdir = { 0 }, tname = { 0 };
    for (size_t i = 0; rc == 0 && i < tenants.n; i++) {
        if (!parse_tenant(tenants.v[i], &tname))
            continue; /* staging, or not a tenant's directory */
        int32_t period = cut(ctx, lk_buf_str(&tname));
        lk_buf_reset(&tdir);
        lk_buf_printf(&tdir, "%s/%s", d->root, tenants.v[i]);
        fs_names periods;
        if (fs_list(tdir.p, &periods, NULL) != 0)
            continue; /* not a directory */
        size_t before = k;
        for (size_t j = 0; rc == 0 && j < periods.n; j++) {
            int32_t p;
            if (!parse_period(periods.v[j], &p) || p >= period)
                continue;
            lk_buf_reset(&pdir);
            lk_buf_printf(&pdir, "%s/%s", tdir.p, periods.v[j]);
            rc = fs_remove_tree(pdir.p, err);
            if (rc == 0)
                k++;
        }
        if (k > before && rc == 0)
            rc = fs_fsync_dir(tdir.p, err);
        fs_names_free(&periods);
    }
    fs_names_free(&tenants);
    lk_buf_free(&tdir);
    lk_buf_free(&pdir);
    lk_buf_free(&tname);
    if (removed)
        *removed = k;
    return rc;
}
