/* A command-line driver of the S3 client (storage/s3.h) for the tests in
 * tests/s3 against real servers:
 *   aws_tool s3 mkbucket | put KEY (body on stdin) | get KEY [OFF LEN] |
 *               head KEY | delete KEY | list PREFIX PAGE_SIZE
 * configured by LOKIC_S3_ENDPOINT, _REGION, _BUCKET, _ACCESS_KEY,
 * _SECRET_KEY, _PATH_STYLE=1, _RETRIES, _TIMEOUT_MS. get writes the bytes to
 * stdout, head the size, list "key size" lines. With LOKIC_AWS_METRICS=FILE
 * the metrics are written there at the end. Exit 0, 2 for LK_ENOTFOUND,
 * 1 for other errors (the message on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"
#include "storage/s3.h"

static const char *env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static void read_stdin(lk_buf *b)
{
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, stdin)) > 0)
        lk_buf_append(b, tmp, n);
}

static int print_key(void *ctx, const char *key, int64_t size)
{
    (void)ctx;
    printf("%s %lld\n", key, (long long)size);
    return 0;
}

static int s3_cmd(s3_client *c, int argc, char **argv, lk_buf *err)
{
    const char *cmd = argv[0];
    lk_buf b = { 0 };
    int rc = LK_EINVAL;
    if (strcmp(cmd, "mkbucket") == 0) {
        rc = s3_create_bucket(c, err);
    } else if (strcmp(cmd, "put") == 0 && argc == 2) {
        read_stdin(&b);
        rc = s3_put(c, argv[1], b.p ? b.p : "", b.len, err);
    } else if (strcmp(cmd, "get") == 0 && (argc == 2 || argc == 4)) {
        rc = argc == 2 ? s3_get(c, argv[1], &b, err)
                       : s3_get_range(c, argv[1], strtoull(argv[2], NULL, 10),
                                      strtoull(argv[3], NULL, 10), &b, err);
        if (rc == LK_OK && b.len)
            fwrite(b.p, 1, b.len, stdout);
    } else if (strcmp(cmd, "head") == 0 && argc == 2) {
        int64_t size = 0;
        rc = s3_head(c, argv[1], &size, err);
        if (rc == LK_OK)
            printf("%lld\n", (long long)size);
    } else if (strcmp(cmd, "delete") == 0 && argc == 2) {
        rc = s3_delete(c, argv[1], err);
    } else if (strcmp(cmd, "list") == 0 && argc == 3) {
        rc = s3_list(c, argv[1], atoi(argv[2]), print_key, NULL, err);
    } else {
        lk_buf_printf(err, "usage: aws_tool s3 mkbucket|put|get|head|delete|list ...");
    }
    lk_buf_free(&b);
    return rc;
}

static int run_s3(int argc, char **argv, lk_buf *err)
{
    s3_config cfg = {
        .endpoint = env("LOKIC_S3_ENDPOINT", NULL),
        .region = env("LOKIC_S3_REGION", NULL),
        .bucket = env("LOKIC_S3_BUCKET", NULL),
        .access_key = env("LOKIC_S3_ACCESS_KEY", ""),
        .secret_key = env("LOKIC_S3_SECRET_KEY", ""),
        .force_path_style = strcmp(env("LOKIC_S3_PATH_STYLE", "0"), "1") == 0,
        .http = { .max_retries = atoi(env("LOKIC_S3_RETRIES", "5")),
                  .timeout_ns = atoll(env("LOKIC_S3_TIMEOUT_MS", "0")) * LK_NS_PER_MS },
    };
    s3_client *c = NULL;
    int rc = s3_create(&cfg, &c, err);
    if (rc == LK_OK)
        rc = s3_cmd(c, argc, argv, err);
    s3_destroy(c);
    return rc;
}

static void write_metrics(void)
{
    const char *path = getenv("LOKIC_AWS_METRICS");
    if (!path)
        return;
    lk_buf m = { 0 };
    lk_metrics_render(&m);
    FILE *f = fopen(path, "w");
    if (f) {
        fwrite(m.p ? m.p : "", 1, m.len, f);
        fclose(f);
    }
    lk_buf_free(&m);
}

int main(int argc, char **argv)
{
    lk_buf err = { 0 };
    int rc = LK_EINVAL;
    if (argc >= 3 && strcmp(argv[1], "s3") == 0)
        rc = run_s3(argc - 2, argv + 2, &err);
    else
        lk_buf_puts(&err, "usage: aws_tool s3 COMMAND ...");
    write_metrics();
    lk_metrics_reset();
    if (rc != LK_OK)
        fprintf(stderr, "aws_tool: %s: %s\n", lk_strerror(rc), err.p ? err.p : "");
    lk_buf_free(&err);
    return rc == LK_OK ? 0 : rc == LK_ENOTFOUND ? 2 : 1;
}
