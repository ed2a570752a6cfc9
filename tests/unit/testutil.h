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
char *tu_tmpdir(const char *tag);
/* Removes the directory and everything in it, then frees the path. */
void tu_rmtree(char *dir);

/* ---- streams */

/* A stream as the ingester and the index take it: the parsed label set,
 * its canonical form, its fingerprint and its chunk id. */
typedef struct tu_stream {
    lk_labels labels;
    lk_buf canonical;
    uint64_t fp;   /* labels_hash(canonical) */
    chk_sid sid;   /* chk_sid_of(canonical) */
} tu_stream;

/* From Loki's label syntax, e.g. {app="a", env="prod"}; must parse. */
void tu_stream_init(tu_stream *s, const char *text);
void tu_stream_free(tu_stream *s);

/* ---- random numbers */

/* xorshift64: the same seed gives the same sequence, so a failure
 * reproduces. The state is the seed; 0 (which xorshift never leaves) is
 * replaced by another constant. One generator per thread. */
typedef struct tu_rng {
    uint64_t x;
} tu_rng;

static inline tu_rng tu_rng_seed(uint64_t seed)
{
    return (tu_rng){ seed ? seed : UINT64_C(0x9e3779b97f4a7c15) };
}

uint64_t tu_rand(tu_rng *r);

/* ---- files */

/* Writes text to path, creating or truncating it. */
void tu_write_file(const char *path, const char *text);
/* Appends the whole file to out; false when it cannot be opened. */
bool tu_read_file(const char *path, lk_buf *out);
/* XORs the byte at off with mask: a corruption for a reader to notice. */
void tu_flip_byte(const char *path, off_t off, uint8_t mask);
bool tu_exists(const char *path);
/* rel under the source tree ($LOKIC_SOURCE_DIR, which CTest sets),
 * malloc'd; NULL when the variable is not set. */
char *tu_source_path(const char *rel);

#endif
