/* libFuzzer driver for the ruler's rule files (query/ruler/rules.c):
 * rul_file_parse on arbitrary bytes (and, with the first byte odd,
 * rul_group_parse, the rules API's body) must never crash or leak; a file
 * that parses must read back the same from the YAML the API writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/ruler/rules.h"
#include "tests/fuzz/fuzz.h"

static void round_trip(const rul_file *f)
{
    lk_buf y = { 0 }, err = { 0 };
    lk_buf_puts(&y, "groups:\n");
    for (size_t i = 0; i < f->n_groups; i++)
        rul_group_yaml(&f->groups[i], 2, true, &y);
    rul_file *back = NULL;
    if (rul_file_parse("dump", lk_buf_str(&y), &back, &err) != LK_OK)
        LK_BUG("rul_group_yaml output does not parse: %s\n%s", err.p, y.p);
    if (back->n_groups != f->n_groups)
        LK_BUG("round trip: %zu groups, then %zu", f->n_groups, back->n_groups);
    for (size_t i = 0; i < f->n_groups; i++) {
        const rul_group *a = &f->groups[i], *b = &back->groups[i];
        if (!lk_str_eq(a->name, b->name) || a->n_rules != b->n_rules ||
            a->interval_ns != b->interval_ns)
            LK_BUG("round trip: group %zu differs", i);
        for (size_t j = 0; j < a->n_rules; j++)
            if (!lk_str_eq(a->rules[j].expr, b->rules[j].expr) ||
                a->rules[j].for_ns != b->rules[j].for_ns ||
                a->rules[j].n_annotations != b->rules[j].n_annotations)
                LK_BUG("round trip: rule %zu of group %zu differs", j, i);
    }
    rul_file_free(back);
    lk_buf_free(&y);
    lk_buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool group = data[0] & 1;
    lk_str text = lk_str_n((const char *)data + 1, size - 1);
    rul_file *f = NULL;
    lk_buf err = { 0 };
    int rc = group ? rul_group_parse("fuzz", text, &f, &err)
                   : rul_file_parse("fuzz", text, &f, &err);
    if (rc == LK_OK) {
        round_trip(f);
        rul_file_free(f);
    }
    lk_buf_free(&err);
    return 0;
}
