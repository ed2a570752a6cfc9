/* The in-memory label index of one tenant's streams (mix_): label name ->
 * label value -> the streams having it, kept as streams are created and
 * removed, so that label names, label values and an equality matcher's
 * streams are found without walking every stream. It holds a reference
 * to each stream it lists; a removed stream is dropped lazily (a value's
 * list is compacted when most of it is removed streams). Private to
 * storage/.
 *
 * Thread safety: all functions may be called concurrently (one rwlock).
 * Lock order: a shard's lock, then this index's, then a stream's. */
#ifndef LOKIC_STORAGE_MEMIDX_H
#define LOKIC_STORAGE_MEMIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/matcher.h"
#include "lib/str.h"
#include "storage/stream.h"

typedef struct mix mix;

mix *mix_new(void);
void mix_free(mix *x); /* accepts NULL; drops its references */

/* Lists s under each of its labels (takes a reference). */
void mix_add(mix *x, st_stream *s);
/* s was taken out of the tenant's table (st_stream_try_remove). */
void mix_remove(mix *x, st_stream *s);

/* Calls fn(ctx, name) for each label name some stream in memory with a
 * chunk overlapping [from, through] has, in no particular order. The
 * name is valid during the call. */
typedef void (*mix_str_fn)(void *ctx, lk_str s);
void mix_names(mix *x, int64_t from, int64_t through, mix_str_fn fn, void *ctx);
/* The same for the values of label `name`. */
void mix_values(mix *x, lk_str name, int64_t from, int64_t through, mix_str_fn fn, void *ctx);

/* The streams listed under the equality matcher of ms with the fewest
 * streams (new references, removed ones left out), a superset of the
 * streams matching all of ms. false (nothing allocated) when ms has no
 * equality matcher with a non-empty value. */
bool mix_candidates(mix *x, const lk_matcher *ms, size_t nm, st_stream ***out, size_t *n);

#endif
