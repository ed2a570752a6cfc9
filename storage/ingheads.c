/* Idle heads: a stream that has had no push for a few seconds keeps its
 * newest entries compressed, not as an uncompressed head. At high
 * cardinality most streams are idle between their pushes and their heads
 * were most of their memory (issue 15). The background thread runs this
 * pass often (storage/flush.c); the cut block stays in the stream's open
 * chunk, so readers see every entry as before, and the next push starts a
 * new head in the same chunk. */
#include <malloc.h>
#include <stdlib.h>

#include "lib/timeutil.h"
#include "storage/ing_int.h"

/* Pass over every stream's head; returns the heads cut. */
static size_t cut_tenant(ing_tenant *t, int64_t now_ns, int64_t idle_ns, st_sweep *sw)
{
    size_t ns, cut = 0;
    st_stream **all = ing_tenant_streams(t, &ns);
    for (size_t i = 0; i < ns; i++) {
        if (st_stream_cut_idle_head(all[i], now_ns, idle_ns, ING_HEAD_MIN_BYTES, sw))
            cut++;
        st_stream_unref(all[i]);
    }
    free(all);
    return cut;
}

size_t ing_cut_idle_heads(ing *g, int64_t now_ns, int64_t idle_ns)
{
    st_sweep sw = { .now_ns = now_ns };
    size_t nt, cut = 0;
    ing_tenant **ts = ing_all_tenants(g, &nt);
    for (size_t i = 0; i < nt; i++)
        cut += cut_tenant(ts[i], now_ns, idle_ns, &sw);
    free(ts);
    ing_add_deltas(g, 0, sw.d_blocks, sw.d_head_bytes, sw.d_comp_bytes);
    /* the freed heads are small allocations spread over the heap: hand the
     * pages they leave empty back to the system */
    if (cut >= ING_TRIM_AFTER_CUTS)
        malloc_trim(0);
    return cut;
}
