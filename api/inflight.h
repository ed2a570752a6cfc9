/* The process-wide budget of bytes that requests may hold in memory while
 * they are received and decoded (distributor.max_inflight_bytes): request
 * bodies as they arrive (api/server.c), and a push body's decompressed
 * copy, its snappy-decoded protobuf and its decoded arrays (api/push*.c).
 * A request that would go past it is refused (503) instead of growing the
 * process's memory. A request that holds everything in use may always
 * take more, so that one request up to the size limits is always served:
 * the bytes held stay below the budget or one request's, whichever is
 * larger. */
#ifndef LOKIC_API_INFLIGHT_H
#define LOKIC_API_INFLIGHT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct api_inflight {
    atomic_llong used;       /* bytes held by all requests */
    int64_t limit;           /* 0: no limit */
} api_inflight;

/* One request's share; zero it, set b (NULL: not budgeted). */
typedef struct api_hold {
    api_inflight *b;
    int64_t n;               /* bytes this request holds */
} api_hold;

/* Takes n more bytes for the request: false (nothing taken) when that
 * would go past the limit while other requests hold bytes too. A NULL
 * hold or budget takes anything. */
bool api_hold_take(api_hold *h, size_t n);
/* Gives back everything the request holds (accepts NULL). */
void api_hold_release(api_hold *h);

/* Loki's answer to a request refused for the budget (with 503). */
#define API_INFLIGHT_REFUSED "The server cannot accept more requests at this time."

#endif
