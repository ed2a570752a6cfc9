/* A command-line driver of the S3 and DynamoDB clients (storage/s3.h,
 * storage/dynamo.h) for the tests in tests/s3 against real servers:
 *   aws_tool s3 mkbucket | put KEY (body on stdin) | get KEY [OFF LEN] |
 *               head KEY | delete KEY | list PREFIX PAGE_SIZE
 * configured by LOKIC_S3_ENDPOINT, _REGION, _BUCKET, _ACCESS_KEY,
 * _SECRET_KEY, _PATH_STYLE=1, _RETRIES, _TIMEOUT_MS. get writes the bytes to
 * stdout, head the size, list "key size" lines.
 *   aws_tool ddb mktable TABLE READ WRITE [ondemand] | describe TABLE |
 *                droptable TABLE | write TABLE (stdin: "+ HASH RANGE VALUE"
 *                puts and "- HASH RANGE" deletes, one a line) |
 *                delitem TABLE HASH RANGE |
 *                query TABLE HASH [prefix=R] [start=R] [end=R] [value=V] [page=N]
 * configured by LOKIC_DDB_ENDPOINT, _REGION, _ACCESS_KEY, _SECRET_KEY,
 * _RETRIES. Ranges and values are hex ("-" for empty); describe prints
 * "STATUS READ WRITE ondemand|provisioned ITEMS", query "RANGE VALUE" lines.
 * With LOKIC_AWS_METRICS=FILE the metrics are written there at the end.
 * Exit 0, 2 for LK_ENOTFOUND, 1 for other errors (the message on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/hex.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"
#include "storage/dynamo.h"
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

/* ---- DynamoDB */

/* Hex text ("-": empty) into bytes appended to b; false when malformed. */
static bool unhex(const char *s, lk_buf *b)
{
    if (strcmp(s, "-") == 0)
        return true;
    size_t n = strlen(s);
    for (size_t i = 0; i + 1 < n; i += 2) {
        if (!lk_is_hex(s[i]) || !lk_is_hex(s[i + 1]))
            return false;
        lk_buf_putc(b, (char)(lk_hex_val(s[i]) * 16 + lk_hex_val(s[i + 1])));
    }
    return n % 2 == 0;
}

static void print_hex(lk_str s)
{
    if (!s.len)
        fputs("-", stdout);
    for (size_t i = 0; i < s.len; i++)
        printf("%02x", (unsigned char)s.p[i]);
}

/* One line of a write command: hash, range and value bytes in b. */
typedef struct write_line {
    lk_buf b;
    size_t hl, rl;
    bool put;
} write_line;

static bool parse_write(const char *text, write_line *l)
{
    char op[2], hash[1024], range[4096], value[8192];
    int n = sscanf(text, "%1s %1023s %4095s %8191s", op, hash, range, value);
    l->put = n == 4 && op[0] == '+';
    if (!l->put && !(n == 3 && op[0] == '-'))
        return false;
    lk_buf_puts(&l->b, hash);
    l->hl = l->b.len;
    if (!unhex(range, &l->b))
        return false;
    l->rl = l->b.len - l->hl;
    return !l->put || unhex(value, &l->b);
}

static int ddb_write(ddb_client *c, const char *table, lk_buf *err)
{
    write_line *lines = NULL;
    size_t n = 0, np = 0, nd = 0;
    char text[16384];
    int rc = LK_OK;
    while (rc == LK_OK && fgets(text, sizeof text, stdin)) {
        lines = realloc(lines, (n + 1) * sizeof *lines);
        lines[n] = (write_line){ 0 };
        if (!parse_write(text, &lines[n]))
            rc = LK_EINVAL;
        n++;
    }
    ddb_item *puts = calloc(n + 1, sizeof *puts), *dels = calloc(n + 1, sizeof *dels);
    for (size_t i = 0; i < n && rc == LK_OK; i++) {
        const write_line *l = &lines[i];
        ddb_item it = { lk_str_n(l->b.p, l->hl), lk_str_n(l->b.p + l->hl, l->rl),
                        lk_str_n(l->b.p + l->hl + l->rl, l->b.len - l->hl - l->rl) };
        if (l->put)
            puts[np++] = it;
        else
            dels[nd++] = it;
    }
    if (rc == LK_OK)
        rc = ddb_batch_write(c, table, puts, np, dels, nd, err);
    else
        lk_buf_puts(err, "write: lines \"+ HASH RANGE VALUE\" or \"- HASH RANGE\" (hex)");
    for (size_t i = 0; i < n; i++)
        lk_buf_free(&lines[i].b);
    free(lines);
    free(puts);
    free(dels);
    return rc;
}

static int print_item(void *ctx, const ddb_item *it)
{
    (void)ctx;
    print_hex(it->range);
    fputs(" ", stdout);
    print_hex(it->value);
    fputs("\n", stdout);
    return 0;
}

/* query's options name=HEX (page=N) into q, their bytes in bufs[4]. */
static bool query_opts(int argc, char **argv, ddb_query_spec *q, lk_buf bufs[4])
{
    static const char *const names[] = { "prefix=", "start=", "end=", "value=" };
    lk_str *slots[] = { &q->range_prefix, &q->range_start, &q->range_end, &q->value_equal };
    for (int i = 0; i < argc; i++) {
        bool known = false;
        for (int k = 0; k < 4 && !known; k++) {
            size_t nl = strlen(names[k]);
            if (strncmp(argv[i], names[k], nl) != 0)
                continue;
            if (!unhex(argv[i] + nl, &bufs[k]))
                return false;
            *slots[k] = lk_buf_str(&bufs[k]);
            q->filter_value |= k == 3;
            known = true;
        }
        if (!known && strncmp(argv[i], "page=", 5) == 0)
            q->page_size = atoi(argv[i] + 5);
        else if (!known)
            return false;
    }
    return true;
}

static int ddb_query_cmd(ddb_client *c, int argc, char **argv, lk_buf *err)
{
    ddb_query_spec q = { .hash = lk_str_c(argv[2]) };
    lk_buf bufs[4] = { { 0 } };
    int rc = LK_EINVAL;
    if (query_opts(argc - 3, argv + 3, &q, bufs))
        rc = ddb_query(c, argv[1], &q, print_item, NULL, err);
    else
        lk_buf_puts(err, "query TABLE HASH [prefix=|start=|end=|value=HEX] [page=N]");
    for (int k = 0; k < 4; k++)
        lk_buf_free(&bufs[k]);
    return rc;
}

static int ddb_describe(ddb_client *c, const char *table, lk_buf *err)
{
    ddb_table_info info;
    int rc = ddb_describe_table(c, table, &info, err);
    if (rc == LK_OK)
        printf("%s %lld %lld %s %lld\n", info.status, (long long)info.throughput.read,
               (long long)info.throughput.write,
               info.throughput.on_demand ? "ondemand" : "provisioned",
               (long long)info.item_count);
    return rc;
}

static int ddb_cmd(ddb_client *c, int argc, char **argv, lk_buf *err)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "mktable") == 0 && (argc == 4 || argc == 5)) {
        ddb_throughput tp = { atoll(argv[2]), atoll(argv[3]), argc == 5 };
        return ddb_create_table(c, argv[1], &tp, 0, err);
    }
    if (strcmp(cmd, "describe") == 0 && argc == 2)
        return ddb_describe(c, argv[1], err);
    if (strcmp(cmd, "droptable") == 0 && argc == 2)
        return ddb_delete_table(c, argv[1], err);
    if (strcmp(cmd, "write") == 0 && argc == 2)
        return ddb_write(c, argv[1], err);
    if (strcmp(cmd, "query") == 0 && argc >= 3)
        return ddb_query_cmd(c, argc, argv, err);
    if (strcmp(cmd, "delitem") == 0 && argc == 4) {
        lk_buf r = { 0 };
        int rc = unhex(argv[3], &r) ? ddb_delete_item(c, argv[1], lk_str_c(argv[2]),
                                                      lk_buf_str(&r), err)
                                    : LK_EINVAL;
        lk_buf_free(&r);
        return rc;
    }
    lk_buf_puts(err, "usage: aws_tool ddb mktable|describe|droptable|write|delitem|query ...");
    return LK_EINVAL;
}

static int run_ddb(int argc, char **argv, lk_buf *err)
{
    ddb_config cfg = {
        .endpoint = env("LOKIC_DDB_ENDPOINT", NULL),
        .region = env("LOKIC_DDB_REGION", NULL),
        .access_key = env("LOKIC_DDB_ACCESS_KEY", ""),
        .secret_key = env("LOKIC_DDB_SECRET_KEY", ""),
        .http = { .max_retries = atoi(env("LOKIC_DDB_RETRIES", "5")) },
    };
    ddb_client *c = NULL;
    int rc = ddb_create(&cfg, &c, err);
    if (rc == LK_OK)
        rc = ddb_cmd(c, argc, argv, err);
    ddb_destroy(c);
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
    else if (argc >= 3 && strcmp(argv[1], "ddb") == 0)
        rc = run_ddb(argc - 2, argv + 2, &err);
    else
        lk_buf_puts(&err, "usage: aws_tool s3|ddb COMMAND ...");
    write_metrics();
    lk_metrics_reset();
    if (rc != LK_OK)
        fprintf(stderr, "aws_tool: %s: %s\n", lk_strerror(rc), err.p ? err.p : "");
    lk_buf_free(&err);
    return rc == LK_OK ? 0 : rc == LK_ENOTFOUND ? 2 : 1;
}
