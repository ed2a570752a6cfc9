/* libFuzzer driver for the YAML config loader: config_load_yaml on arbitrary
 * bytes must never crash or leak. The first byte picks the mode (bit 0:
 * ${VAR} expansion); the rest is the YAML text. When a text loads, the
 * effective config must survive config_finish and round-trip through
 * config_to_yaml unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "tests/fuzz/fuzz.h"

static void round_trip(lk_config *c)
{
    if (config_finish(c, NULL, NULL) != LK_OK)
        LK_BUG("config_finish failed on a loaded config");
    lk_buf y1 = { 0 }, y2 = { 0 }, err = { 0 };
    config_to_yaml(c, &y1);
    lk_config again;
    config_defaults(&again);
    if (config_load_yaml(&again, "dump", lk_buf_str(&y1), false, &err) != LK_OK)
        LK_BUG("config_to_yaml output does not load: %s\n%s", err.p, y1.p);
    config_to_yaml(&again, &y2);
    if (y1.len != y2.len || memcmp(y1.p, y2.p, y1.len) != 0)
        LK_BUG("config_to_yaml round trip differs:\n%s\n---\n%s", y1.p, y2.p);
    config_free(&again);
    lk_buf_free(&y1);
    lk_buf_free(&y2);
    lk_buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lk_log_min_level = LK_LOG_ERROR; /* unknown keys warn; keep the fuzzer quiet */
    if (size == 0)
        return 0;
    bool expand = data[0] & 1;
    lk_str text = lk_str_n((const char *)data + 1, size - 1);
    lk_config c;
    config_defaults(&c);
    lk_buf err = { 0 };
    if (config_load_yaml(&c, "fuzz.yaml", text, expand, &err) == LK_OK)
        round_trip(&c);
    config_free(&c);
    lk_buf_free(&err);
    return 0;
}
