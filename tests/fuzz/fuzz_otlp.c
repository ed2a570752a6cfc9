/* libFuzzer driver: /otlp/v1/logs bodies (api/otlp.h) on arbitrary bytes.
 * The first byte chooses protobuf or JSON, gzip or not, and whether a
 * non-default otlp_config (ignore_defaults) applies; every decoded request
 * is checked for its invariants (counts, label pairs, metadata pointers). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/otlp.h"
#include "lib/err.h"
#include "tests/fuzz/fuzz.h"


static size_t touch(lk_str s)
{
    size_t h = s.len;
    for (size_t i = 0; i < s.len; i++)
        h = h * 31 + (unsigned char)s.p[i];
    return h;
}

/* A discover_service_name list: two of Loki's names. */
static char *discover_names[] = { "app", "k8s_pod_name" };
static const lk_cfg_list discover = { discover_names, 2 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    lk_otlp_config cfg = { .ignore_defaults = (mode & 4) != 0 };
    otlp_input in = {
        .content_type = mode & 1 ? LK_STR("application/json") : LK_STR("application/x-protobuf"),
        .content_encoding = mode & 2 ? LK_STR("gzip") : LK_STR(""),
        .body = (const char *)data + 1,
        .len = size - 1,
        .max_decompressed = 1 << 20,
        .cfg = mode & 8 ? &cfg : NULL,
        .discover_service_name = mode & 16 ? &discover : NULL,
    };
    push_request req;
    lk_buf err = { 0 };
    int rc = otlp_decode(&in, &req, &err);
    if (rc == LK_OK) {
        size_t entries = 0, bytes = 0, sum = 0;
        for (size_t i = 0; i < req.n_streams; i++) {
            const push_stream *s = &req.streams[i];
            if (!s->has_pairs || s->n_entries == 0 || (s->n_pairs && !s->pairs))
                abort();
            entries += s->n_entries;
            for (size_t j = 0; j < s->n_entries; j++) {
                const lk_entry *e = &s->entries[j];
                bytes += e->line.len;
                if (e->n_meta && !e->meta)
                    abort();
                for (size_t k = 0; k < e->n_meta; k++) /* every byte readable (ASan) */
                    sum += touch(e->meta[k].name) + touch(e->meta[k].value);
            }
        }
        if (entries != req.n_entries || bytes != req.line_bytes || sum == SIZE_MAX)
            abort();
        push_request_free(&req);
    } else {
        int status = push_decode_status(rc);
        if ((status != 400 && status != 413) || err.len == 0)
            abort();
    }
    lk_buf_free(&err);
    return 0;
}
