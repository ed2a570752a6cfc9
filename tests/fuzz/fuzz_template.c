/* libFuzzer driver for the Go text/template engine (query/template/template.h):
 * arbitrary text must never crash, read out of bounds or leak. A failed
 * parse must say why in Go's form ("template: line:N: ..."); a template
 * that parses is run on a few label sets (none, log-like labels, JSON and
 * odd bytes) and must either succeed within the output limit or fail with a
 * message and the output buffer left as it was. Execution limits (steps,
 * memory, output) keep every input bounded in time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "query/template/template.h"
#include "tests/fuzz/fuzz.h"

static const lk_label set_logs[] = {
    { LK_STR("app"), LK_STR("api") },
    { LK_STR("level"), LK_STR("info") },
    { LK_STR("method"), LK_STR("GET") },
    { LK_STR("n"), LK_STR("42") },
    { LK_STR("path"), LK_STR("/api/v1/items/12345") },
    { LK_STR("status"), LK_STR("200") },
    { LK_STR("ts"), LK_STR("2023-03-10T01:32:40.340485723Z") },
};

static const lk_label set_odd[] = {
    { LK_STR(""), LK_STR("empty name") },
    { LK_STR("bin"), { "a\xff\0\xc3\xa9", 5 } },
    { LK_STR("f"), LK_STR("-1.5e300") },
    { LK_STR("json"), LK_STR("{\"a\":[1,{\"b\":null},\"x\"],\"c\":{\"d\":true},\"e\":1e999}") },
    { LK_STR("x"), LK_STR("") },
};

static void run(const tmpl *t, const lk_label *l, size_t n, int64_t ts)
{
    tmpl_data d = { l, n, LK_STR("level=error msg=\"boom\" 3ms"), ts };
    lk_buf out = { 0 }, err = { 0 };
    lk_buf_puts(&out, "prefix");
    int rc = tmpl_exec(t, &d, &out, &err);
    if (rc == 0) {
        if (out.len < 6 || memcmp(out.p, "prefix", 6) != 0 || out.len > 6 + (1u << 20))
            abort();
    } else {
        if (rc != LK_EINVAL || err.len == 0 || strncmp(err.p, "template: ", 10) != 0)
            abort();
        if (out.len != 6)
            abort(); /* the output is rolled back */
    }
    lk_buf_free(&out);
    lk_buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    tmpl *t = NULL;
    lk_buf err = { 0 };
    if (tmpl_parse(lk_str_n((const char *)data, size), &t, &err) != 0) {
        if (err.len == 0 || strncmp(err.p, "template: line:", 15) != 0) {
            fprintf(stderr, "bad parse error: %s\n", err.p ? err.p : "(none)");
            abort();
        }
        lk_buf_free(&err);
        return 0;
    }
    size_t nf;
    const lk_str *f = tmpl_fields(t, &nf);
    for (size_t i = 0; i < nf; i++)
        if (f[i].len == 0)
            abort();
    run(t, NULL, 0, 0);
    run(t, set_logs, sizeof set_logs / sizeof set_logs[0], INT64_C(1656353124120000000));
    run(t, set_odd, sizeof set_odd / sizeof set_odd[0], INT64_MIN);
    tmpl_free(t);
    lk_buf_free(&err);
    return 0;
}
