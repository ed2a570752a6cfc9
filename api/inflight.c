/* The in-flight bytes budget (api/inflight.h): one atomic counter of the
 * bytes all requests hold, compare-and-swapped so that a request only
 * takes what fits. */
#include "api/inflight.h"

bool api_hold_take(api_hold *h, size_t n)
{
    if (!h || !h->b)
        return true;
    api_inflight *b = h->b;
    long long cur = atomic_load_explicit(&b->used, memory_order_relaxed);
    long long add = n > (size_t)INT64_MAX ? INT64_MAX : (long long)n;
    for (;;) {
        bool alone = cur == h->n; /* everything in use is this request's */
        if (b->limit > 0 && !alone && (add > b->limit || cur > b->limit - add))
            return false;
        if (atomic_compare_exchange_weak_explicit(&b->used, &cur, cur + add,
                                                  memory_order_relaxed, memory_order_relaxed))
            break;
    }
    h->n += add;
    return true;
}

void api_hold_release(api_hold *h)
{
    if (!h || !h->b || h->n == 0)
        return;
    atomic_fetch_sub_explicit(&h->b->used, h->n, memory_order_relaxed);
    h->n = 0;
}
