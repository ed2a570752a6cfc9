/* What the unit tests share (testutil.h): temporary directories, streams,
 * a seeded random generator and whole files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/mem.h"
#include "storage/fsutil.h"
#include "tests/unit/testutil.h"

char *tst_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    lk_buf path = { 0 };
    lk_buf_printf(&path, "%s/lokic-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    assert_non_null(mkdtemp(path.p));
    return lk_buf_steal(&path);
}

void tst_rmtree(char *dir)
{
    lk_buf err = { 0 };
    if (fs_remove_tree(dir, &err) != 0)
        fail_msg("removing %s: %s", dir, err.p);
    lk_buf_free(&err);
    free(dir);
}

void tst_stream_init(tst_stream *s, const char *text)
{
    memset(s, 0, sizeof(*s));
    lk_buf err = { 0 };
    if (labels_parse(lk_str_c(text), &s->labels, &err) != 0)
        fail_msg("labels %s: %s", text, err.p);
    lk_buf_free(&err);
    labels_canonical(&s->labels, &s->canonical);
    s->fp = labels_hash(lk_buf_str(&s->canonical));
    s->sid = chk_sid_of(lk_buf_str(&s->canonical));
}

void tst_stream_free(tst_stream *s)
{
    labels_free(&s->labels);
    lk_buf_free(&s->canonical);
}

uint64_t tst_rand(tst_rng *r)
{
    uint64_t x = r->x;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return r->x = x;
}

void tst_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fail_msg("fopen(%s): %s", path, strerror(errno));
    size_t n = strlen(text);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

bool tst_read_file(const char *path, lk_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        lk_buf_append(out, chunk, n);
    assert_false(ferror(f));
    fclose(f);
    return true;
}

void tst_flip_byte(const char *path, off_t off, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    if (fd < 0)
        fail_msg("open(%s): %s", path, strerror(errno));
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= mask;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

bool tst_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

char *tst_source_path(const char *rel)
{
    const char *root = getenv("LOKIC_SOURCE_DIR");
    if (!root)
        return NULL;
    lk_buf path = { 0 };
    lk_buf_printf(&path, "%s/%s", root, rel);
    return lk_buf_steal(&path);
}
