/* libFuzzer driver: the protobuf push path on arbitrary bytes. The first
 * byte chooses whether the rest is the HTTP body as is (snappy decoding of
 * garbage) or a raw protobuf that the driver snappy-compresses first (so the
 * wire reader sees structure). Every decoded stream is then validated, and
 * the request's invariants are checked. */
#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/push.h"
#include "api/push_validate.h"
#include "lib/err.h"
#include "tests/fuzz/fuzz.h"

static void fuzz_limits(lk_config *c)
{
    memset(c, 0, sizeof *c);
    c->reject_old_samples = true;
    c->reject_old_samples_max_age_ns = INT64_C(604800000000000);
    c->creation_grace_period_ns = INT64_C(600000000000);
    c->max_line_size = 64;
    c->max_line_size_truncate = false;
    c->max_label_names_per_series = 15;
    c->max_label_name_length = 1024;
    c->max_label_value_length = 2048;
    c->allow_structured_metadata = true;
    c->max_structured_metadata_size = 64;
    c->max_structured_metadata_entries_count = 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    char *body = NULL;
    size_t len = size;
    if (mode & 1) {
        size_t cap = snappy_max_compressed_length(size);
        body = malloc(cap ? cap : 1);
        len = cap;
        if (snappy_compress((const char *)data, size, body, &len) != SNAPPY_OK)
            abort();
    }
    push_input in = {
        .content_type = (mode & 2) ? LK_STR("application/x-protobuf") : LK_STR(""),
        .content_encoding = LK_STR(""),
        .body = body ? body : (const char *)data,
        .len = len,
        .max_decompressed = 1 << 20,
    };
    push_request req;
    lk_buf err = { 0 };
    int rc = push_decode(&in, &req, &err);
    int status = rc == LK_OK ? 0 : push_decode_status(rc);
    if (rc == LK_OK) {
        lk_config cfg;
        fuzz_limits(&cfg);
        cfg.max_line_size_truncate = (mode & 4) != 0;
        static char *services[] = { "service", "app", "job" };
        if (mode & 8) { /* Loki 3's discovery (default level fields) */
            cfg.discover_service_name = (lk_cfg_list){ services, 3 };
            cfg.discover_log_levels = true;
            cfg.log_level_from_json_max_depth = 2;
        }
        push_valid_stream v;
        memset(&v, 0, sizeof v);
        size_t entries = 0, bytes = 0;
        for (size_t i = 0; i < req.n_streams; i++) {
            const push_stream *s = &req.streams[i];
            entries += s->n_entries;
            for (size_t j = 0; j < s->n_entries; j++)
                bytes += s->entries[j].line.len;
            lk_buf verr = { 0 };
            push_validate_stream(&cfg, LK_STR("fuzz"), s, INT64_C(1793491200000000000), &v, &verr);
            if (v.n_entries + v.n_rejected != s->n_entries)
                abort();
            lk_buf_free(&verr);
        }
        if (entries != req.n_entries || bytes != req.line_bytes)
            abort();
        push_valid_stream_free(&v);
        push_request_free(&req);
    } else if (status != 400 && status != 413) {
        abort();
    } else if (err.len == 0) {
        abort();
    }
    lk_buf_free(&err);
    free(body);
    return 0;
}
