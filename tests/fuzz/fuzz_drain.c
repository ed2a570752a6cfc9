/* libFuzzer driver for the pattern miner: the input's lines are mined by
 * Drain in the format its first byte picks (or the one guessed from the
 * first line), one second apart. Every line a cluster took is counted
 * exactly once, at most DRAIN_MAX_CLUSTERS clusters live, every pattern
 * joins without a crash, and the store answers a query over the same
 * lines with no more than were pushed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/labels.h"
#include "query/pattern/drain.h"
#include "query/pattern/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(1793577600) * SEC)

typedef struct tally {
    int64_t lines;
    size_t clusters;
} tally;

static void count(void *ctx, lk_str pattern, const pat_chunks *c)
{
    tally *t = ctx;
    (void)pattern;
    t->clusters++;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < c->c[i].n; j++)
            t->lines += c->c[i].v[j].v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    lk_str in = { (const char *)data + 1, size - 1 };
    size_t first_end = 0;
    while (first_end < in.len && in.p[first_end] != '\n')
        first_end++;
    pat_format f = data[0] % 4 == 3 ? pat_detect_format(lk_str_n(in.p, first_end))
                                    : (pat_format)(data[0] % 3);
    drain *d = drain_create(f);
    lk_entry *e = calloc(in.len + 1, sizeof *e);
    size_t n = 0;
    int64_t trained = 0;
    for (size_t at = 0; at <= in.len;) {
        size_t end = at;
        while (end < in.len && in.p[end] != '\n')
            end++;
        lk_str line = lk_str_n(in.p + at, end - at);
        int64_t ts = T0 + (int64_t)n * SEC;
        e[n++] = (lk_entry){ ts, line, 0, NULL };
        if (drain_train(d, line, ts, (int64_t)n))
            trained++;
        at = end + 1;
    }
    tally t = { 0 };
    drain_each(d, count, &t);
    if (t.clusters > DRAIN_MAX_CLUSTERS || t.lines > trained)
        abort();
    if (t.clusters < DRAIN_MAX_CLUSTERS && t.lines != trained) /* nothing evicted */
        abort();
    drain_destroy(d);

    pat_store *s = pat_store_create(0);
    lk_labels l = { 0 };
    lk_buf err = { 0 }, canon = { 0 };
    if (labels_parse(LK_STR("{app=\"fuzz\"}"), &l, &err) != 0)
        abort();
    labels_canonical(&l, &canon);
    pat_store_push(s, LK_STR("t"), lk_buf_str(&canon), 1, &l, e, n);
    pat_result r;
    if (pat_store_query(s, LK_STR("t"), NULL, 0, T0, T0 + (int64_t)n * SEC, 30 * SEC, &r) != 0)
        abort();
    int64_t total = 0;
    for (size_t i = 0; i < r.n; i++)
        total += r.s[i].total;
    if (total > (int64_t)n)
        abort();
    pat_result_free(&r);
    pat_store_destroy(s);
    labels_free(&l);
    lk_buf_free(&canon);
    lk_buf_free(&err);
    free(e);
    return 0;
}
