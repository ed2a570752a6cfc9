/* libFuzzer driver for the stream-label parser: any input either fails
 * cleanly or parses to a set whose canonical form parses back to the same
 * canonical form. Also checks Go quoting round-trips arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/labels.h"
#include "tests/fuzz/fuzz.h"

static void check_quote_roundtrip(lk_str in)
{
    lk_buf q = { 0 }, u = { 0 };
    lk_go_quote(in, &q);
    if (lk_go_unquote(lk_buf_str(&q), &u) != 0)
        abort();
    if (u.len != in.len || (in.len && memcmp(u.p, in.p, in.len) != 0))
        abort();
    lk_buf_free(&q);
    lk_buf_free(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lk_str text = { (const char *)data, size };
    lk_labels l, back;
    lk_buf err = { 0 }, c1 = { 0 }, c2 = { 0 };

    check_quote_roundtrip(text);
    /* Unquoting arbitrary input must not crash either. */
    lk_buf tmp = { 0 };
    (void)lk_go_unquote(text, &tmp);
    lk_buf_free(&tmp);

    if (labels_parse(text, &l, &err) != 0) {
        if (err.len == 0) /* every failure explains itself */
            abort();
        lk_buf_free(&err);
        return 0;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (!labels_valid_name(l.v[i].name) || l.v[i].value.len == 0)
            abort();
        if (i > 0 && lk_str_cmp(l.v[i - 1].name, l.v[i].name) > 0)
            abort();
    }
    labels_canonical(&l, &c1);
    if (labels_parse(lk_buf_str(&c1), &back, &err) != 0)
        abort();
    labels_canonical(&back, &c2);
    if (c1.len != c2.len || memcmp(c1.p, c2.p, c1.len) != 0)
        abort();
    if (labels_hash(lk_buf_str(&c1)) != labels_hash(lk_buf_str(&c2)))
        abort();
    labels_free(&l);
    labels_free(&back);
    lk_buf_free(&err);
    lk_buf_free(&c1);
    lk_buf_free(&c2);
    return 0;
}
