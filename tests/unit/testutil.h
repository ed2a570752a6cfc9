/* What the unit tests share: temporary directories, a stream's label set
 * with its canonical form and ids, a seeded random generator, and whole
 * files written, read and corrupted. Linked into every unit test
 * (tests/CMakeLists.txt). A helper that cannot do its job fails the test
 * with a cmocka assertion instead of returning an error. */
#ifndef LOKIC_TESTS_UNIT_TESTUTIL_H
#define LOKIC_TESTS_UNIT_TESTUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "storage/chunkref.h"

/* ---- temporary directories */

/* A new empty directory $TMPDIR/lokic-<tag>-XXXXXX (/tmp without TMPDIR);
 * the path is malloc'd. */
char *tst_tmpdir(const char *tag);
/* Removes the directory and everything in it, then frees the path. */
void tst_rmtree(char *dir);

/* ---- streams */

/* A stream as the ingester and the index take it: the parsed label set,
 * its canonical form, its fingerprint and its chunk id. */
typedef struct tst_stream {
    lk_labels labels;
    lk_buf canonical;
    uint64_t fp;   /* labels_hash(canonical) */
    chk_sid sid;   /* chk_sid_of(canonical) */
} tst_stream;

/* From Loki's label syntax, e.g. {app="a", env="prod"}; must parse. */
void tst_stream_init(tst_stream *s, const char *text);
void tst_stream_free(tst_stream *s);

/* ---- random numbers */

/* xorshift64: the same seed gives the same sequence, so a failure
 * reproduces. The state is the seed; 0 (which xorshift never leaves) is
 * replaced by another constant. One generator per thread. */
typedef struct tst_rng {
    uint64_t x;
} tst_rng;

static inline tst_rng tst_rng_seed(uint64_t seed)
{
    return (tst_rng){ seed ? seed : UINT64_C(0x9e3779b97f4a7c15) };
}

uint64_t tst_rand(tst_rng *r);

/* ---- files */

/* Writes text to path, creating or truncating it. */
void tst_write_file(const char *path, const char *text);
/* Appends the whole file to out; false when it cannot be opened. */
bool tst_read_file(const char *path, lk_buf *out);
/* XORs the byte at off with mask: a corruption for a reader to notice. */
void tst_flip_byte(const char *path, off_t off, uint8_t mask);
bool tst_exists(const char *path);
/* rel under the source tree ($LOKIC_SOURCE_DIR, which CTest sets),
 * malloc'd; NULL when the variable is not set. */
char *tst_source_path(const char *rel);

#endif
