/* The entries a tail has sent lately (api/h_tail.c), so that a poll reading
 * back over them, for entries that arrived after their time, sends each one
 * once: a set of entry hashes (stream, timestamp, line) with their
 * timestamps. Used by one tail's thread only. */
#ifndef LOKIC_API_TAIL_SEEN_H
#define LOKIC_API_TAIL_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"

typedef struct api_tail_seen {
    struct api_seen_slot *slot; /* open addressing; hash 0 is an empty slot */
    size_t n, cap;
} api_tail_seen;

/* Adds the entry; false when it was there already. */
bool api_tail_seen_add(api_tail_seen *s, lk_str stream, int64_t ts, lk_str line);
/* Forgets the entries older than ts. */
void api_tail_seen_prune(api_tail_seen *s, int64_t ts);
void api_tail_seen_free(api_tail_seen *s);

#endif
