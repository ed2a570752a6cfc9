/* The object stores' shared test body (tests/unit/objstore_suite.h) run on
 * an S3 bucket (storage/objstore.h's obj_open_s3), configured like
 * aws_tool by LOKIC_S3_ENDPOINT, _REGION, _BUCKET, _ACCESS_KEY,
 * _SECRET_KEY and _PATH_STYLE=1; the bucket must exist. Keys go under
 * "run-<pid>/". Exit 0 when every test passed (cmocka's count otherwise). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "objstore_suite.h"

static const char *env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static int setup(void **state)
{
    static objstore_fixture f;
    s3_config cfg = {
        .endpoint = env("LOKIC_S3_ENDPOINT", NULL),
        .region = env("LOKIC_S3_REGION", NULL),
        .bucket = env("LOKIC_S3_BUCKET", NULL),
        .access_key = env("LOKIC_S3_ACCESS_KEY", ""),
        .secret_key = env("LOKIC_S3_SECRET_KEY", ""),
        .force_path_style = strcmp(env("LOKIC_S3_PATH_STYLE", "0"), "1") == 0,
        .http = { .max_retries = 3 },
    };
    lk_buf err = { 0 };
    int rc = obj_open_s3(&cfg, &f.store, &err);
    if (rc != LK_OK)
        fprintf(stderr, "objstore_s3: %s\n", err.p ? err.p : "");
    lk_buf_free(&err);
    snprintf(f.prefix, sizeof f.prefix, "run-%ld/", (long)getpid());
    *state = &f;
    return rc;
}

static int teardown(void **state)
{
    objstore_fixture *f = *state;
    if (strcmp(obj_kind(f->store), "s3") != 0)
        return 1;
    obj_close(f->store);
    return 0;
}

int main(void)
{
    return _cmocka_run_group_tests("objstore_suite (s3)", objstore_suite, objstore_suite_len,
                                   setup, teardown);
}
