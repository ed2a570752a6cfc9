/* Unit tests for lib/config: defaults, every value type, durations and byte
 * sizes, warnings for unknown and inapplicable keys, error text with
 * file:line:column, malformed YAML, the loki-stack and loki-aws configs of
 * shared/configs, ${VAR} expansion, flags and overrides, derived paths and
 * the config_to_yaml round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "tests/unit/testutil.h"

#define NS_S LK_NS_PER_SEC
#define NS_M (60 * NS_S)
#define NS_H (60 * NS_M)

/* shared/configs/loki-stack-default.yaml, verbatim. */
static const char loki_stack_default[] =
    "# The default loki.yaml of the loki-stack Helm chart (Loki 2.1), as shown in the seed\n"
    "# article. lokic must start on it unchanged: keys that do not apply are warned about.\n"
    "auth_enabled: false\n"
    "chunk_store_config:\n"
    "  max_look_back_period: 0s\n"
    "compactor:\n"
    "  shared_store: filesystem\n"
    "  working_directory: /data/loki/boltdb-shipper-compactor\n"
    "ingester:\n"
    "  chunk_block_size: 262144\n"
    "  chunk_idle_period: 3m\n"
    "  chunk_retain_period: 1m\n"
    "  lifecycler:\n"
    "    ring:\n"
    "      kvstore:\n"
    "        store: inmemory\n"
    "      replication_factor: 1\n"
    "  max_transfer_retries: 0\n"
    "limits_config:\n"
    "  enforce_metric_name: false\n"
    "  reject_old_samples: true\n"
    "  reject_old_samples_max_age: 168h\n"
    "schema_config:\n"
    "  configs:\n"
    "  - from: \"2020-10-24\"\n"
    "    index:\n"
    "      period: 24h\n"
    "      prefix: index_\n"
    "    object_store: filesystem\n"
    "    schema: v11\n"
    "    store: boltdb-shipper\n"
    "server:\n"
    "  http_listen_port: 3100\n"
    "storage_config:\n"
    "  boltdb_shipper:\n"
    "    active_index_directory: /data/loki/boltdb-shipper-active\n"
    "    cache_location: /data/loki/boltdb-shipper-cache\n"
    "    cache_ttl: 24h\n"
    "    shared_store: filesystem\n"
    "  filesystem:\n"
    "    directory: /data/loki/chunks\n"
    "table_manager:\n"
    "  retention_deletes_enabled: false\n"
    "  retention_period: 0s\n";

/* shared/configs/loki-aws.yaml, verbatim. */
static const char loki_aws[] =
    "# The seed article's second config: DynamoDB index + S3 chunks (Loki 2.1, schema v11).\n"
    "# Until lokic has an object-storage backend it must refuse this config with an error that\n"
    "# names the unsupported key (store: aws / object_store: s3), never silently use the disk.\n"
    "auth_enabled: false\n"
    "schema_config:\n"
    "  configs:\n"
    "  - from: \"2020-10-24\"\n"
    "    index:\n"
    "      period: 0\n"
    "      prefix: loki_index\n"
    "    object_store: s3\n"
    "    schema: v11\n"
    "    store: aws\n"
    "server:\n"
    "  http_listen_port: 3100\n"
    "storage_config:\n"
    "  aws:\n"
    "    s3: s3://us-east-1/loki-shtian\n"
    "    dynamodb:\n"
    "      dynamodb_url: dynamodb://us-east-1\n";

/* ---- helpers */

/* Captures what is written to fd 2 (the logger) between begin and end. */
typedef struct capture {
    int saved;
    FILE *tmp;
} capture;

static void cap_begin(capture *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    c->saved = dup(2);
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->tmp), 2) >= 0);
}

static char *cap_end(capture *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    long n = ftell(c->tmp);
    char *s = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    rewind(c->tmp);
    if (n > 0)
        assert_int_equal(fread(s, 1, (size_t)n, c->tmp), (size_t)n);
    fclose(c->tmp);
    return s;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

typedef struct loaded {
    int rc;
    char *err;  /* the error text */
    char *logs; /* what was logged */
} loaded;

static loaded load_env(lk_config *c, const char *name, const char *yaml, bool env)
{
    lk_buf err = { 0 };
    capture cap;
    cap_begin(&cap);
    int rc = config_load_yaml(c, name, lk_str_c(yaml), env, &err);
    loaded r = { rc, lk_buf_steal(&err), cap_end(&cap) };
    return r;
}

static loaded load(lk_config *c, const char *yaml)
{
    return load_env(c, "test.yaml", yaml, false);
}

static void loaded_free(loaded *r)
{
    free(r->err);
    free(r->logs);
}

/* Loads yaml into a fresh default config, expecting success. */
static void load_ok(lk_config *c, const char *yaml)
{
    config_defaults(c);
    loaded r = load(c, yaml);
    if (r.rc != LK_OK)
        fail_msg("load failed: %s", r.err);
    loaded_free(&r);
}

/* Expects yaml to fail with rc and exactly the message want. */
static void load_fails(const char *yaml, int rc, const char *want)
{
    lk_config c;
    config_defaults(&c);
    loaded r = load(&c, yaml);
    assert_int_equal(r.rc, rc);
    assert_string_equal(r.err, want);
    /* a failed load leaves the config as it was */
    assert_int_equal(c.http_listen_port, 3100);
    assert_int_equal(c.max_line_size, 262144);
    loaded_free(&r);
    config_free(&c);
}

static char *to_yaml(const lk_config *c)
{
    lk_buf b = { 0 };
    config_to_yaml(c, &b);
    return lk_buf_steal(&b);
}

/* ---- defaults */

static void test_defaults(void **state)
{
    (void)state;
    lk_config c;
    config_defaults(&c);
    assert_true(c.auth_enabled);
    assert_string_equal(c.target, "all");
    assert_string_equal(c.http_listen_address, "");
    assert_int_equal(c.http_listen_port, 3100);
    assert_string_equal(c.log_level, "info");
    assert_true(c.http_server_read_timeout_ns == 30 * NS_S);
    assert_true(c.http_server_write_timeout_ns == 30 * NS_S);
    assert_string_equal(c.path_prefix, "");
    assert_true(c.max_recv_msg_size == 100 << 20);
    assert_true(c.chunk_block_size == 262144);
    assert_true(c.chunk_target_size == 1572864);
    assert_true(c.chunk_idle_period_ns == 30 * NS_M);
    assert_true(c.max_chunk_age_ns == 2 * NS_H);
    assert_true(c.chunk_retain_period_ns == 0);
    assert_string_equal(c.chunk_encoding, "zstd");
    assert_true(c.wal_enabled);
    assert_string_equal(c.wal_dir, "");
    assert_true(c.reject_old_samples);
    assert_true(c.reject_old_samples_max_age_ns == 168 * NS_H);
    assert_true(c.creation_grace_period_ns == 10 * NS_M);
    assert_true(c.max_line_size == 256 * 1024);
    assert_false(c.max_line_size_truncate);
    assert_int_equal(c.max_label_names_per_series, 15);
    assert_int_equal(c.max_label_name_length, 1024);
    assert_int_equal(c.max_label_value_length, 2048);
    assert_true(c.ingestion_rate_mb == 4.0);
    assert_true(c.ingestion_burst_size_mb == 6.0);
    assert_int_equal(c.max_entries_limit_per_query, 5000);
    assert_int_equal(c.max_query_series, 500);
    assert_int_equal(c.max_streams_per_user, 0);
    assert_int_equal(c.max_global_streams_per_user, 5000);
    assert_true(c.max_query_length_ns == 721 * NS_H);
    assert_true(c.query_timeout_ns == NS_M);
    assert_true(c.retention_period_ns == 0);
    assert_true(c.allow_structured_metadata);
    assert_true(c.max_structured_metadata_size == 64 * 1024);
    assert_int_equal(c.max_structured_metadata_entries_count, 128);
    /* Loki 3.6's push-time discovery defaults */
    assert_int_equal(c.discover_service_name.n, 13);
    assert_string_equal(c.discover_service_name.v[0], "service");
    assert_string_equal(c.discover_service_name.v[12], "k8s_job_name");
    assert_true(c.discover_log_levels);
    assert_int_equal(c.log_level_fields.n, 12);
    assert_string_equal(c.log_level_fields.v[3], "Severity");
    assert_int_equal(c.log_level_from_json_max_depth, 2);
    assert_string_equal(c.filesystem_directory, "");
    assert_string_equal(c.active_index_directory, "");
    assert_false(c.retention_enabled);
    assert_true(c.compaction_interval_ns == 10 * NS_M);
    assert_false(c.table_manager_retention_deletes_enabled);
    assert_true(c.table_manager_retention_period_ns == 0);
    assert_true(c.query_ingesters_within_ns == 3 * NS_H);
    assert_false(c.multi_tenant_queries_enabled);
    assert_null(c.source);
    config_free(&c);
}

static void test_embedded_default(void **state)
{
    (void)state;
    lk_config c;
    config_defaults(&c);
    loaded r = load(&c, config_embedded_default);
    assert_int_equal(r.rc, LK_OK);
    assert_string_equal(r.logs, ""); /* no warnings at all */
    assert_false(c.auth_enabled);
    assert_int_equal(c.http_listen_port, 3100);
    assert_string_equal(c.path_prefix, "./data");
    assert_true(c.chunk_idle_period_ns == 30 * NS_M);
    assert_true(c.max_line_size == 262144);
    assert_int_equal(config_finish(&c, NULL, NULL), LK_OK);
    assert_string_equal(c.wal_dir, "./data/wal");
    assert_string_equal(c.filesystem_directory, "./data/chunks");
    assert_string_equal(c.active_index_directory, "./data/index");
    loaded_free(&r);
    config_free(&c);
}

/* ---- value types */

static void test_types(void **state)
{
    (void)state;
    lk_config c;
    load_ok(&c, "auth_enabled: no\n"
                "server:\n"
                "  http_listen_address: 127.0.0.1\n"
                "  http_listen_port: 8080\n"
                "  log_level: debug\n"
                "  http_server_read_timeout: 1m30s\n"
                "ingester:\n"
                "  chunk_idle_period: 1.5h\n"
                "  max_chunk_age: 1d\n"
                "  chunk_retain_period: 0\n"
                "  wal:\n"
                "    enabled: False\n"
                "    dir: '/var/lib/lokic wal'\n"
                "limits_config:\n"
                "  ingestion_rate_mb: 2.5\n"
                "  ingestion_burst_size_mb: 1e1\n"
                "  max_line_size: 1.5MB\n"
                "  max_structured_metadata_size: 1024\n"
                "  max_query_length: 30d1h\n"
                "  max_label_names_per_series: +30\n"
                "  discover_service_name: [service, app]\n"
                "  discover_log_levels: ON\n"
                "  max_line_size_truncate: true\n"
                "distributor:\n"
                "  max_recv_msg_size: 4mb\n");
    assert_false(c.auth_enabled);
    assert_string_equal(c.http_listen_address, "127.0.0.1");
    assert_int_equal(c.http_listen_port, 8080);
    assert_string_equal(c.log_level, "debug");
    assert_true(c.http_server_read_timeout_ns == 90 * NS_S);
    assert_true(c.chunk_idle_period_ns == 90 * NS_M);
    assert_true(c.max_chunk_age_ns == 24 * NS_H);
    assert_true(c.chunk_retain_period_ns == 0);
    assert_false(c.wal_enabled);
    assert_string_equal(c.wal_dir, "/var/lib/lokic wal");
    assert_true(c.ingestion_rate_mb == 2.5);
    assert_true(c.ingestion_burst_size_mb == 10);
    assert_true(c.max_line_size == 1572864);
    assert_true(c.max_structured_metadata_size == 1024);
    assert_true(c.max_query_length_ns == 721 * NS_H);
    assert_int_equal(c.max_label_names_per_series, 30);
    assert_int_equal(c.discover_service_name.n, 2);
    assert_string_equal(c.discover_service_name.v[0], "service");
    assert_string_equal(c.discover_service_name.v[1], "app");
    assert_true(c.discover_log_levels);
    assert_true(c.max_line_size_truncate);
    assert_true(c.max_recv_msg_size == 4 << 20);
    config_free(&c);

    load_ok(&c, "limits_config:\n  discover_service_name: []\n  log_level_fields: []\n");
    assert_int_equal(c.discover_service_name.n, 0);
    assert_int_equal(c.log_level_fields.n, 0);
    config_free(&c);
    load_ok(&c, "limits_config:\n  discover_service_name:\n  log_level_fields: ~\n");
    assert_int_equal(c.discover_service_name.n, 0); /* null: empty, as in Loki */
    assert_int_equal(c.log_level_fields.n, 0);
    config_free(&c);
    /* a scalar is a comma-separated list, as Loki's flag takes it */
    load_ok(&c, "limits_config:\n  discover_service_name: ' svc , ,app'\n");
    assert_int_equal(c.discover_service_name.n, 2);
    assert_string_equal(c.discover_service_name.v[0], "svc");
    assert_string_equal(c.discover_service_name.v[1], "app");
    config_free(&c);
}

static void test_byte_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t want;
    } ok[] = {
        { "0", 0 },
        { "1024", 1024 },
        { "256KB", 262144 },
        { "256kb", 262144 },
        { "256k", 262144 },
        { "64KiB", 65536 },
        { "1MB", 1048576 },
        { "1.5MB", 1572864 },
        { "2 MiB", 2097152 },
        { "1GB", INT64_C(1) << 30 },
        { "3TB", INT64_C(3) << 40 },
        { "100B", 100 },
        { "7bytes", 7 },
        { "'42'", 42 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "limits_config:\n  max_line_size: %s\n", ok[i].in);
        lk_config c;
        load_ok(&c, yaml);
        if (c.max_line_size != ok[i].want)
            fail_msg("%s: got %lld want %lld", ok[i].in, (long long)c.max_line_size,
                     (long long)ok[i].want);
        config_free(&c);
    }
    static const char *const bad[] = { "abc", "1.5", "-1", "1XB", "\"\"", "1.MB", "MB",
                                       "99999999999999999999", "9EB", "1e3", "0x10" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "limits_config:\n  max_line_size: %s\n", bad[i]);
        lk_config c;
        config_defaults(&c);
        loaded r = load(&c, yaml);
        if (r.rc != LK_EINVAL)
            fail_msg("%s: rc %d", bad[i], r.rc);
        assert_non_null(strstr(r.err, "for limits_config.max_line_size: "));
        loaded_free(&r);
        config_free(&c);
    }
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t want;
    } ok[] = {
        { "0", 0 },        { "0s", 0 },           { "90s", 90 * NS_S },
        { "1m30s", 90 * NS_S }, { "1h30m", 90 * NS_M }, { "2h", 2 * NS_H },
        { "1w", 168 * NS_H }, { "500ms", 500 * LK_NS_PER_MS }, { "1.5h", 90 * NS_M },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "ingester:\n  chunk_retain_period: %s\n", ok[i].in);
        lk_config c;
        load_ok(&c, yaml);
        if (c.chunk_retain_period_ns != ok[i].want)
            fail_msg("%s: got %lld want %lld", ok[i].in, (long long)c.chunk_retain_period_ns,
                     (long long)ok[i].want);
        config_free(&c);
    }
    load_fails("ingester:\n  chunk_idle_period: soon\n", LK_EINVAL,
               "test.yaml:2:22: invalid value \"soon\" for ingester.chunk_idle_period: expected "
               "a duration such as 1h30m or 90s");
    load_fails("ingester:\n  chunk_retain_period: -5m\n", LK_EINVAL,
               "test.yaml:2:24: invalid value \"-5m\" for ingester.chunk_retain_period: must be "
               "between 0s and 2562047h47m16.854775807s");
    load_fails("ingester:\n  max_chunk_age: 0s\n", LK_EINVAL,
               "test.yaml:2:18: invalid value \"0s\" for ingester.max_chunk_age: must be between "
               "1ns and 2562047h47m16.854775807s");
}

/* ---- errors */

static void test_bad_values(void **state)
{
    (void)state;
    load_fails("server:\n  http_listen_port: 3200\nlimits_config:\n  max_line_size: abc\n",
               LK_EINVAL,
               "test.yaml:4:18: invalid value \"abc\" for limits_config.max_line_size: expected "
               "a byte size such as 256KB");
    load_fails("server:\n  http_listen_port: 70000\n", LK_EINVAL,
               "test.yaml:2:21: invalid value \"70000\" for server.http_listen_port: must be "
               "between 0 and 65535");
    load_fails("server:\n  http_listen_port: 99999999999999999999\n", LK_EINVAL,
               "test.yaml:2:21: invalid value \"99999999999999999999\" for "
               "server.http_listen_port: must be between 0 and 65535");
    load_fails("server:\n  http_listen_port: 31.5\n", LK_EINVAL,
               "test.yaml:2:21: invalid value \"31.5\" for server.http_listen_port: expected an "
               "integer");
    load_fails("auth_enabled: maybe\n", LK_EINVAL,
               "test.yaml:1:15: invalid value \"maybe\" for auth_enabled: expected true or false");
    load_fails("limits_config:\n  ingestion_rate_mb: fast\n", LK_EINVAL,
               "test.yaml:2:22: invalid value \"fast\" for limits_config.ingestion_rate_mb: "
               "expected a number");
    load_fails("limits_config:\n  ingestion_rate_mb: -1\n", LK_EINVAL,
               "test.yaml:2:22: invalid value \"-1\" for limits_config.ingestion_rate_mb: must "
               "be between 0 and 1099511627776");
    load_fails("server:\n  log_level: loud\n", LK_EINVAL,
               "test.yaml:2:14: invalid value \"loud\" for server.log_level: expected one of: "
               "debug, info, warn, error");
    load_fails("ingester:\n  chunk_encoding: brotli\n", LK_EINVAL,
               "test.yaml:2:19: invalid value \"brotli\" for ingester.chunk_encoding: expected "
               "one of: none, gzip, lz4-64k, snappy, lz4-256k, lz4-1M, lz4, flate, zstd");
    load_fails("target: write\n", LK_EUNSUPPORTED,
               "test.yaml:1:9: unsupported value \"write\" for target: expected one of: all");
    /* structure */
    load_fails("server:\n  http_listen_port:\n    a: 1\n", LK_EINVAL,
               "test.yaml:3:5: invalid value for server.http_listen_port: expected an integer, "
               "got a mapping");
    load_fails("server:\n  http_listen_address: [a, b]\n", LK_EINVAL,
               "test.yaml:2:24: invalid value for server.http_listen_address: expected a "
               "string, got a sequence");
    load_fails("server: 3100\n", LK_EINVAL,
               "test.yaml:1:9: expected a mapping for server, got a scalar");
    load_fails("ingester:\n  wal: [true]\n", LK_EINVAL,
               "test.yaml:2:8: expected a mapping for ingester.wal, got a sequence");
    load_fails("- a\n- b\n", LK_EINVAL,
               "test.yaml:1:1: expected a mapping at the top level, got a sequence");
    load_fails("server:\n  http_listen_port: 1\n  http_listen_port: 2\n", LK_EINVAL,
               "test.yaml:3:3: duplicate key server.http_listen_port");
    load_fails("? [a]\n: 1\n", LK_EINVAL,
               "test.yaml:1:3: expected a scalar key in the top level, got a sequence");
    load_fails("schema_config:\n  configs:\n  - from: yesterday\n    store: tsdb\n", LK_EINVAL,
               "test.yaml:3:11: invalid value \"yesterday\" for schema_config.configs[0].from: "
               "expected a date such as 2020-10-24");
    load_fails("schema_config:\n  configs:\n  - from: 2021-02-29\n", LK_EINVAL,
               "test.yaml:3:11: invalid value \"2021-02-29\" for schema_config.configs[0].from: "
               "expected a date such as 2020-10-24");
    load_fails("schema_config:\n  configs:\n  - index:\n      period: daily\n", LK_EINVAL,
               "test.yaml:4:15: invalid value \"daily\" for "
               "schema_config.configs[0].index.period: expected a duration such as 24h");
    load_fails("schema_config:\n  configs: tsdb\n", LK_EINVAL,
               "test.yaml:2:12: invalid value \"tsdb\" for schema_config.configs: expected a "
               "list of periods");
}

static void test_malformed_yaml(void **state)
{
    (void)state;
    load_fails("server:\n  http_listen_port: [3100\n", LK_EPARSE,
               "test.yaml:3:1: did not find expected ',' or ']' (while parsing a flow sequence "
               "at line 2, column 21)");
    load_fails("server:\n  a: 1\n b: 2\n", LK_EPARSE,
               "test.yaml:3:2: did not find expected key (while parsing a block mapping at line "
               "1, column 1)");
    load_fails("a: \"unterminated\n", LK_EPARSE,
               "test.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar at "
               "line 1, column 4)");
    load_fails("server:\n\thttp_listen_port: 1\n", LK_EPARSE,
               "test.yaml:2:1: found character that cannot start any token (while scanning for "
               "the next token at line 2, column 1)");
    /* invalid UTF-8: a reader error, positioned from its byte offset */
    load_fails("auth_enabled: true\nx: \xff\n", LK_EPARSE,
               "test.yaml:2:4: invalid leading UTF-8 octet");
}

static void test_empty_and_null(void **state)
{
    (void)state;
    lk_config c;
    load_ok(&c, "");
    assert_int_equal(c.http_listen_port, 3100);
    config_free(&c);
    load_ok(&c, "# only a comment\n");
    config_free(&c);
    load_ok(&c, "~\n");
    config_free(&c);
    load_ok(&c, "server:\nlimits_config: ~\ningester:\n  chunk_idle_period:\n");
    assert_int_equal(c.http_listen_port, 3100);
    assert_true(c.chunk_idle_period_ns == 30 * NS_M);
    config_free(&c);
    load_ok(&c, "server:\n  http_listen_address: \"\"\n  log_level: 'warn'\n");
    assert_string_equal(c.http_listen_address, "");
    assert_string_equal(c.log_level, "warn");
    config_free(&c);
    /* loading onto a loaded config changes only what the second file sets */
    load_ok(&c, "server:\n  http_listen_port: 1234\n");
    loaded r = load(&c, "auth_enabled: false\n");
    assert_int_equal(r.rc, LK_OK);
    assert_int_equal(c.http_listen_port, 1234);
    assert_false(c.auth_enabled);
    loaded_free(&r);
    config_free(&c);
}

/* ---- warnings */

static void test_unknown_and_inapplicable_keys(void **state)
{
    (void)state;
    lk_config c;
    config_defaults(&c);
    loaded r = load(&c, "server:\n"
                        "  http_listen_port: 3101\n"
                        "  grpc_listen_port: 9095\n"
                        "  no_such_option: 1\n"
                        "ingester:\n"
                        "  lifecycler:\n"
                        "    ring:\n"
                        "      replication_factor: 1\n"
                        "  max_transfer_retries: 0\n"
                        "memberlist:\n"
                        "  join_members: [a, b]\n"
                        "frobnicate:\n"
                        "  deeply:\n"
                        "    nested: true\n"
                        "limits_config:\n"
                        "  max_line_sise: 1KB\n"
                        "  ruler_evaluation_delay_duration: 1m\n"
                        "schema_config:\n"
                        "  configs:\n"
                        "  - from: 2020-10-24\n"
                        "    store: tsdb\n"
                        "    colour: blue\n"
                        "storage_config:\n"
                        "  gcs: {}\n");
    assert_int_equal(r.rc, LK_OK);
    assert_string_equal(r.err, "");
    assert_int_equal(c.http_listen_port, 3101);
    const char *na = "reason=\"not applicable to lokic\"";
    const char *unk = "reason=\"unknown key\"";
    assert_non_null(strstr(r.logs, "key=server.grpc_listen_port line=3 reason=\"not applicable "
                                   "to lokic\""));
    assert_non_null(strstr(r.logs, "key=server.no_such_option line=4 reason=\"unknown key\""));
    assert_non_null(strstr(r.logs, "key=ingester.lifecycler line=6 reason=\"not applicable to "
                                   "lokic\""));
    assert_non_null(strstr(r.logs, "key=ingester.max_transfer_retries line=9 reason=\"not "
                                   "applicable to lokic\""));
    assert_non_null(strstr(r.logs, "key=memberlist line=10 reason=\"not applicable to lokic\""));
    assert_non_null(strstr(r.logs, "key=frobnicate line=12 reason=\"unknown key\""));
    assert_non_null(strstr(r.logs, "key=limits_config.max_line_sise line=16 reason=\"unknown "
                                   "key\""));
    assert_non_null(strstr(r.logs, "key=limits_config.ruler_evaluation_delay_duration line=17 "));
    assert_non_null(strstr(r.logs, "key=schema_config.configs[0].colour line=22 reason=\"unknown "
                                   "key\""));
    assert_non_null(strstr(r.logs, "key=storage_config.gcs line=24 reason=\"not applicable"));
    /* one warning per key, none for what lies below an ignored key */
    assert_int_equal(count(r.logs, "msg=\"config key ignored\""), 10);
    assert_int_equal(count(r.logs, na), 6);
    assert_int_equal(count(r.logs, unk), 4);
    assert_null(strstr(r.logs, "replication_factor"));
    assert_null(strstr(r.logs, "nested"));
    assert_non_null(strstr(r.logs, "level=warn "));
    loaded_free(&r);
    config_free(&c);
}

/* Every Loki chunk_encoding is honoured now (storage/compress.h): none
 * warns any more. */
static void test_chunk_encoding_warning(void **state)
{
    (void)state;
    lk_config c;
    config_defaults(&c);
    loaded r = load(&c, "ingester:\n  chunk_encoding: gzip\n");
    assert_int_equal(r.rc, LK_OK);
    assert_string_equal(c.chunk_encoding, "gzip");
    assert_string_equal(r.logs, "");
    loaded_free(&r);
    r = load(&c, "ingester:\n  chunk_encoding: snappy\n");
    assert_string_equal(r.logs, "");
    loaded_free(&r);
    config_free(&c);
}

/* ---- the shared configs */

static void test_loki_stack_default(void **state)
{
    (void)state;
    lk_config c;
    config_defaults(&c);
    loaded r = load_env(&c, "loki-stack-default.yaml", loki_stack_default, false);
    assert_int_equal(r.rc, LK_OK);
    assert_false(c.auth_enabled);
    assert_true(c.chunk_idle_period_ns == 3 * NS_M);
    assert_true(c.chunk_retain_period_ns == NS_M);
    assert_true(c.chunk_block_size == 262144);
    assert_true(c.reject_old_samples);
    assert_true(c.reject_old_samples_max_age_ns == 168 * NS_H);
    assert_int_equal(c.http_listen_port, 3100);
    assert_string_equal(c.filesystem_directory, "/data/loki/chunks");
    assert_string_equal(c.active_index_directory, "/data/loki/boltdb-shipper-active");
    assert_false(c.table_manager_retention_deletes_enabled);
    assert_true(c.table_manager_retention_period_ns == 0);
    /* warnings only, each naming a key that does not apply */
    /* (boltdb_shipper's cache_location and cache_ttl are options since issue 11) */
    assert_int_equal(count(r.logs, "level=warn"), 7);
    assert_int_equal(count(r.logs, "reason=\"not applicable to lokic\""), 7);
    assert_null(strstr(r.logs, "unknown key"));
    static const char *const keys[] = {
        "key=chunk_store_config line=4 ", "key=compactor.shared_store line=7 ",
        "key=compactor.working_directory line=8 ", "key=ingester.lifecycler line=13 ",
        "key=ingester.max_transfer_retries line=18 ",
        "key=limits_config.enforce_metric_name line=20 ",
        "key=storage_config.boltdb_shipper.shared_store line=39 ",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strstr(r.logs, keys[i]))
            fail_msg("no warning %s in:\n%s", keys[i], r.logs);
    assert_string_equal(c.index_cache_location, "/data/loki/boltdb-shipper-cache");
    /* everything lands beside the chunk directory */
    assert_int_equal(config_finish(&c, NULL, NULL), LK_OK);
    assert_string_equal(c.path_prefix, "/data/loki");
    assert_string_equal(c.wal_dir, "/data/loki/wal");
    assert_string_equal(c.filesystem_directory, "/data/loki/chunks");
    assert_string_equal(c.active_index_directory, "/data/loki/boltdb-shipper-active");
    loaded_free(&r);
    config_free(&c);
}

/* Also reads the real file when the source tree is at hand, so the copy
 * above cannot drift from it unnoticed. */
static void test_shared_files(void **state)
{
    (void)state;
    char *path = tst_source_path("../shared/configs/loki-stack-default.yaml");
    if (!path || access(path, R_OK) != 0) {
        free(path);
        skip();
    }
    lk_config c;
    config_defaults(&c);
    lk_buf err = { 0 };
    capture cap;
    cap_begin(&cap);
    int rc = config_load_file(&c, path, false, &err);
    free(cap_end(&cap));
    assert_int_equal(rc, LK_OK);
    assert_string_equal(c.source, path);
    assert_true(c.chunk_idle_period_ns == 3 * NS_M);
    config_free(&c);
    free(path);

    path = tst_source_path("../shared/configs/loki-aws.yaml");
    config_defaults(&c);
    cap_begin(&cap);
    rc = config_load_file(&c, path, false, &err);
    free(cap_end(&cap));
    assert_int_equal(rc, LK_OK); /* parses; config_finish refuses it (test_loki_aws_parsed) */
    assert_true(c.schema_s3 && c.schema_dynamodb);
    free(path);
    lk_buf_free(&err);
    config_free(&c);
}

/* The article's S3 + DynamoDB config parses and validates; lokic refuses to
 * start on it (config_finish) only because the storage path is not built. */
static void test_loki_aws_parsed(void **state)
{
    (void)state;
    lk_config c;
    load_ok(&c, loki_aws);
    assert_true(c.schema_s3);
    assert_true(c.schema_dynamodb);
    lk_aws_target t;
    lk_buf err = { 0 };
    assert_int_equal(config_aws_s3(&c, &t, &err), LK_OK);
    assert_string_equal(t.region, "us-east-1");
    assert_string_equal(t.bucket, "loki-shtian");
    assert_string_equal(t.endpoint, "");
    config_aws_target_free(&t);
    assert_int_equal(config_aws_dynamodb(&c, &t, &err), LK_OK);
    assert_string_equal(t.region, "us-east-1");
    assert_string_equal(t.endpoint, "");
    config_aws_target_free(&t);
    assert_int_equal(config_finish(&c, NULL, &err), LK_EUNSUPPORTED);
    assert_string_equal(err.p, "schema_config uses object_store s3 and store aws: the "
                               "configuration is valid, but lokic's storage path for S3 and "
                               "DynamoDB is not built yet (issue 11); use object_store: "
                               "filesystem with store: tsdb or boltdb-shipper");
    lk_buf_free(&err);
    config_free(&c);
}

/* table_manager.index_tables_provisioning: Loki's defaults (300 read, 1000
 * write), set values, on-demand mode; its autoscaling and inactive-table
 * keys are known but do not apply (a warning, not an error). */
static void test_index_tables_provisioning(void **state)
{
    (void)state;
    lk_config c;
    load_ok(&c, "auth_enabled: false\n");
    assert_true(c.index_tables_read_throughput == 300);
    assert_true(c.index_tables_write_throughput == 1000);
    assert_false(c.index_tables_on_demand);
    config_free(&c);
    load_ok(&c, "table_manager:\n  index_tables_provisioning:\n"
                "    provisioned_read_throughput: 7\n    provisioned_write_throughput: 9\n"
                "    enable_ondemand_throughput_mode: true\n"
                "    inactive_read_throughput: 1\n    write_scale: {enabled: false}\n");
    assert_true(c.index_tables_read_throughput == 7);
    assert_true(c.index_tables_write_throughput == 9);
    assert_true(c.index_tables_on_demand);
    config_free(&c);
}

static const char s3_keys[] =
    "schema_config:\n  configs:\n  - from: 2024-01-01\n    store: tsdb\n"
    "    object_store: s3\n    schema: v13\n"
    "storage_config:\n  aws:\n    endpoint: 127.0.0.1:7480\n    region: eu-west-1\n"
    "    bucketnames: chunks, other\n    access_key_id: AK\n    secret_access_key: SK-secret\n"
    "    s3forcepathstyle: true\n    insecure: true\n    sse: {type: SSE-S3}\n"
    "    http_config:\n      response_header_timeout: 5s\n      idle_conn_timeout: 1m\n"
    "  tsdb_shipper:\n    cache_location: /tmp/cache\n    cache_ttl: 1h\n";

static void test_aws_keys(void **state)
{
    (void)state;
    lk_config c;
    load_ok(&c, s3_keys);
    lk_aws_target t;
    lk_buf err = { 0 };
    assert_int_equal(config_aws_s3(&c, &t, &err), LK_OK);
    assert_string_equal(t.endpoint, "127.0.0.1:7480");
    assert_string_equal(t.region, "eu-west-1");
    assert_string_equal(t.bucket, "chunks");
    assert_string_equal(t.access_key, "AK");
    assert_string_equal(t.secret_key, "SK-secret");
    assert_true(t.force_path_style && t.insecure);
    config_aws_target_free(&t);
    assert_true(c.aws_response_header_timeout_ns == 5 * NS_S);
    assert_true(c.aws_idle_conn_timeout_ns == 60 * NS_S);
    assert_string_equal(c.index_cache_location, "/tmp/cache");
    assert_true(c.index_cache_ttl_ns == 3600 * NS_S);
    lk_buf_free(&err);
    config_free(&c);
}

static void check_url(const char *yaml, const char *endpoint, const char *region,
                      const char *bucket, const char *key, const char *secret, bool path_style)
{
    lk_config c;
    load_ok(&c, yaml);
    lk_aws_target t;
    lk_buf err = { 0 };
    assert_int_equal(config_aws_s3(&c, &t, &err), LK_OK);
    assert_string_equal(t.endpoint, endpoint);
    assert_string_equal(t.region, region);
    assert_string_equal(t.bucket, bucket);
    assert_string_equal(t.access_key, key);
    assert_string_equal(t.secret_key, secret);
    assert_int_equal(t.force_path_style, path_style);
    config_aws_target_free(&t);
    lk_buf_free(&err);
    config_free(&c);
}

static void test_aws_url_forms(void **state)
{
    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    check_url("storage_config: {aws: {s3: \"s3://eu-west-2/b1\"}}\n", "", "eu-west-2", "b1",
              "ENVKEY", "ENVSECRET", false);
    check_url("storage_config: {aws: {s3: \"s3://K%2F1:S%40x@us-west-1/b2\"}}\n", "",
              "us-west-1", "b2", "K/1", "S@x", false);
    check_url("storage_config: {aws: {s3: \"http://K:S@127.0.0.1:7480/b3\"}}\n",
              "http://127.0.0.1:7480", "us-east-1", "b3", "K", "S", true);
    check_url("common: {storage: {s3: {endpoint: minio.local:9000, bucketnames: b4, "
              "access_key_id: A, secret_access_key: B}}}\n",
              "minio.local:9000", "us-east-1", "b4", "A", "B", false);
    /* storage_config.aws wins over common.storage.s3 */
    check_url("common: {storage: {s3: {bucketnames: weak}}}\n"
              "storage_config: {aws: {bucketnames: strong}}\n",
              "", "us-east-1", "strong", "ENVKEY", "ENVSECRET", false);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");

    lk_config c;
    lk_buf err = { 0 };
    load_ok(&c, "schema_config: {configs: [{object_store: aws, store: tsdb}]}\n");
    assert_int_equal(config_finish(&c, NULL, &err), LK_EINVAL);
    assert_string_equal(err.p, "object_store s3 needs a bucket: storage_config.aws.bucketnames, "
                               "or storage_config.aws.s3 as s3://region/bucket");
    config_free(&c);
    lk_buf_reset(&err);
    load_ok(&c, "schema_config: {configs: [{object_store: s3, store: aws}]}\n"
                "storage_config: {aws: {s3: \"ftp://x/b\", dynamodb: {dynamodb_url: x}}}\n");
    assert_int_equal(config_finish(&c, NULL, &err), LK_EINVAL);
    assert_string_equal(err.p, "storage_config.aws.s3: unsupported URL scheme \"ftp\" "
                               "(expected s3, http or https)");
    config_free(&c);
    lk_buf_reset(&err);
    load_ok(&c, "schema_config: {configs: [{object_store: filesystem, store: aws}]}\n"
                "storage_config: {aws: {dynamodb: {dynamodb_url: "
                "\"http://K:S@127.0.0.1:8000\"}}}\n");
    lk_aws_target t;
    assert_int_equal(config_aws_dynamodb(&c, &t, &err), LK_OK);
    assert_string_equal(t.endpoint, "http://127.0.0.1:8000");
    assert_string_equal(t.access_key, "K");
    config_aws_target_free(&t);
    assert_int_equal(config_finish(&c, NULL, &err), LK_EUNSUPPORTED);
    config_free(&c);
    lk_buf_free(&err);
}

/* /config and -print-config-stderr never print a secret. */
static void test_aws_secrets_not_printed(void **state)
{
    (void)state;
    lk_config c;
    load_ok(&c, "storage_config:\n  aws:\n    s3: s3://KEYID:SECRETVALUE@us-east-1/b\n"
                "    secret_access_key: SECRETVALUE2\n    session_token: SECRETVALUE3\n"
                "    access_key_id: KEYID\n"
                "    dynamodb:\n      dynamodb_url: http://KEYID:SECRETVALUE4@h:1\n"
                "ruler:\n  remote_write:\n    client:\n      basic_auth:\n"
                "        password: SECRETVALUE5\n");
    lk_buf out = { 0 };
    config_to_yaml(&c, &out);
    assert_null(strstr(out.p, "SECRETVALUE"));
    assert_non_null(strstr(out.p, "    s3: \"<secret>\"\n"));
    assert_non_null(strstr(out.p, "    secret_access_key: \"<secret>\"\n"));
    assert_non_null(strstr(out.p, "      dynamodb_url: \"<secret>\"\n"));
    assert_non_null(strstr(out.p, "        password: \"<secret>\"\n"));
    assert_non_null(strstr(out.p, "    access_key_id: \"KEYID\"\n"));
    assert_non_null(strstr(out.p, "    region: \"\"\n")); /* unset ones print empty */
    lk_buf_free(&out);
    config_free(&c);
}

static void test_unsupported_stores(void **state)
{
    (void)state;
    load_fails("common:\n  storage:\n    azure:\n      container_name: logs\n", LK_EUNSUPPORTED,
               "test.yaml:3:5: common.storage.azure: unsupported storage backend (lokic supports "
               "the filesystem and s3 object stores with its own index, boltdb-shipper or tsdb, "
               "or aws)");
    load_fails("schema_config:\n  configs:\n  - store: cassandra\n", LK_EUNSUPPORTED,
               "test.yaml:3:12: schema_config.configs[0].store: unsupported store \"cassandra\" "
               "(lokic supports the filesystem and s3 object stores with its own index, "
               "boltdb-shipper or tsdb, or aws)");
    load_fails("schema_config:\n  configs:\n  - store: tsdb\n    object_store: gcs\n  - store: "
               "tsdb\n    object_store: azure\n",
               LK_EUNSUPPORTED,
               "test.yaml:4:19: schema_config.configs[0].object_store: unsupported object store "
               "\"gcs\" (lokic supports the filesystem and s3 object stores with its own index, "
               "boltdb-shipper or tsdb, or aws); test.yaml:6:19: "
               "schema_config.configs[1].object_store: unsupported object store \"azure\" (lokic "
               "supports the filesystem and s3 object stores with its own index, boltdb-shipper or "
               "tsdb, or aws)");
    load_fails("storage_config:\n  gcs:\n    bucket_name: x\n", LK_EUNSUPPORTED,
               "test.yaml:2:3: storage_config.gcs: unsupported storage backend (lokic supports "
               "the filesystem and s3 object stores with its own index, boltdb-shipper or tsdb, "
               "or aws)");
    /* boltdb and the filesystem are fine, and so is a filesystem named store */
    lk_config c;
    load_ok(&c, "schema_config:\n  configs:\n  - from: 2019-01-01\n    store: boltdb\n"
                "    object_store: filesystem\n    schema: v9\n    index:\n      period: 168h\n"
                "  - from: 2024-01-01\n    store: tsdb\n    object_store: filesystem\n"
                "    schema: v13\nstorage_config:\n  named_stores:\n    filesystem:\n"
                "      other:\n        directory: /x\n");
    config_free(&c);
}

/* ---- common / deprecated spellings */

static void test_weak_keys(void **state)
{
    (void)state;
    lk_config c;
    load_ok(&c, "common:\n  storage:\n    filesystem:\n      chunks_directory: /x/chunks\n");
    assert_string_equal(c.filesystem_directory, "/x/chunks");
    config_free(&c);
    /* the specific key wins, wherever it stands */
    load_ok(&c, "storage_config:\n  filesystem:\n    directory: /y/chunks\n"
                "common:\n  storage:\n    filesystem:\n      chunks_directory: /x/chunks\n");
    assert_string_equal(c.filesystem_directory, "/y/chunks");
    config_free(&c);
    load_ok(&c, "querier:\n  query_timeout: 5m\n");
    assert_true(c.query_timeout_ns == 5 * NS_M);
    config_free(&c);
    load_ok(&c, "querier:\n  query_timeout: 5m\nlimits_config:\n  query_timeout: 2m\n");
    assert_true(c.query_timeout_ns == 2 * NS_M);
    config_free(&c);
    load_ok(&c, "storage_config:\n  tsdb_shipper:\n    active_index_directory: /t/index\n");
    assert_string_equal(c.active_index_directory, "/t/index");
    config_free(&c);
    /* log deletion: limits_config.deletion_mode, compactor.deletion_mode its
     * deprecated spelling */
    load_ok(&c, "compactor:\n  delete_request_cancel_period: 10m\n");
    assert_string_equal(c.deletion_mode, "filter-and-delete");
    assert_true(c.delete_request_cancel_period_ns == 10 * NS_M);
    assert_true(c.delete_max_interval_ns == 24 * 60 * NS_M);
    config_free(&c);
    load_ok(&c, "compactor:\n  deletion_mode: filter-only\n");
    assert_string_equal(c.deletion_mode, "filter-only");
    config_free(&c);
    load_ok(&c, "compactor:\n  deletion_mode: filter-only\nlimits_config:\n"
                "  deletion_mode: disabled\n");
    assert_string_equal(c.deletion_mode, "disabled");
    config_free(&c);
    load_fails("limits_config:\n  deletion_mode: sometimes\n", LK_EINVAL,
               "test.yaml:2:18: invalid value \"sometimes\" for limits_config.deletion_mode: "
               "expected one of: disabled, filter-only, filter-and-delete");
    /* a weak key's bad value is still an error */
    load_fails("querier:\n  query_timeout: never\n", LK_EINVAL,
               "test.yaml:2:18: invalid value \"never\" for querier.query_timeout: expected a "
               "duration such as 1h30m or 90s");
}

/* ---- anchors, aliases and cycles terminate */

static void test_aliases(void **state)
{
    (void)state;
    lk_config c;
    config_defaults(&c);
    loaded r = load(&c, "x: &x [*x]\n"
                        "common: &c\n  storage: *c\n"
                        "limits: &l {max_line_size: 1KB}\n"
                        "limits_config: *l\n");
    assert_int_equal(r.rc, LK_OK);
    assert_true(c.max_line_size == 1024);
    loaded_free(&r);
    config_free(&c);
}

/* ---- environment expansion */

static void test_expand_env(void **state)
{
    (void)state;
    setenv("LKT_PORT", "4100", 1);
    setenv("LKT_DIR", "/srv", 1);
    setenv("LKT_EMPTY", "", 1);
    unsetenv("LKT_UNSET");
    const char *yaml = "server:\n"
                       "  http_listen_port: ${LKT_PORT}\n"
                       "  http_listen_address: ${LKT_UNSET:-127.0.0.1}\n"
                       "  log_level: ${LKT_UNSET:warn}\n"
                       "common:\n"
                       "  path_prefix: $LKT_DIR/lokic$$x${LKT_EMPTY-unused}${LKT_EMPTY:+no}\n"
                       "storage_config:\n"
                       "  filesystem:\n"
                       "    directory: \"${LKT_EMPTY:-${LKT_DIR}/chunks}\"\n"
                       "  boltdb_shipper:\n"
                       "    active_index_directory: ${LKT_DIR:+/alt}${LKT_UNSET}/i$ $5\n";
    lk_config c;
    config_defaults(&c);
    loaded r = load_env(&c, "env.yaml", yaml, true);
    if (r.rc != LK_OK)
        fail_msg("%s", r.err);
    assert_int_equal(c.http_listen_port, 4100);
    assert_string_equal(c.http_listen_address, "127.0.0.1");
    assert_string_equal(c.log_level, "warn");
    assert_string_equal(c.path_prefix, "/srv/lokic$x");
    assert_string_equal(c.filesystem_directory, "/srv/chunks");
    assert_string_equal(c.active_index_directory, "/alt/i$ $5");
    loaded_free(&r);

    /* without expansion the text is taken literally */
    r = load_env(&c, "env.yaml", yaml, false);
    assert_int_equal(r.rc, LK_EINVAL);
    assert_string_equal(r.err, "env.yaml:2:21: invalid value \"${LKT_PORT}\" for "
                               "server.http_listen_port: expected an integer");
    loaded_free(&r);

    r = load_env(&c, "env.yaml", "a: 1\nb: ${LKT_PORT\n", true);
    assert_int_equal(r.rc, LK_EPARSE);
    assert_string_equal(r.err, "env.yaml:2:4: unterminated ${");
    loaded_free(&r);
    r = load_env(&c, "env.yaml", "a: ${}\n", true);
    assert_int_equal(r.rc, LK_EPARSE);
    assert_string_equal(r.err,
                        "env.yaml:1:4: bad substitution: expected a variable name after ${");
    loaded_free(&r);
    r = load_env(&c, "env.yaml", "a: ${A?x}\n", true);
    assert_int_equal(r.rc, LK_EPARSE);
    loaded_free(&r);
    config_free(&c);
}

/* ---- flags */

static int parse(lk_flags *f, lk_buf *err, int argc, ...)
{
    char *argv[32];
    va_list ap;
    va_start(ap, argc);
    argv[0] = (char *)"lokic";
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    lk_buf_reset(err);
    return config_parse_flags(argc, argv, f, err);
}

static void test_flags(void **state)
{
    (void)state;
    lk_flags f;
    lk_buf err = { 0 };
    assert_int_equal(parse(&f, &err, 1), LK_OK);
    assert_null(f.config_file);
    assert_false(f.expand_env);
    assert_int_equal(f.http_listen_port, -1);
    assert_null(f.http_listen_address);
    assert_null(f.log_level);
    assert_false(f.help || f.version || f.print_config_stderr || f.index_rebuild);

    assert_int_equal(parse(&f, &err, 3, "-config.file", "/etc/loki/loki.yaml"), LK_OK);
    assert_string_equal(f.config_file, "/etc/loki/loki.yaml");
    assert_int_equal(parse(&f, &err, 2, "--config.file=a.yaml"), LK_OK);
    assert_string_equal(f.config_file, "a.yaml");
    assert_int_equal(parse(&f, &err, 6, "-config.expand-env", "-print-config-stderr",
                           "--server.http-listen-port=8080", "-server.http-listen-address",
                           "127.0.0.1"),
                     LK_OK);
    assert_true(f.expand_env);
    assert_true(f.print_config_stderr);
    assert_int_equal(f.http_listen_port, 8080);
    assert_string_equal(f.http_listen_address, "127.0.0.1");
    assert_int_equal(parse(&f, &err, 3, "-config.expand-env=false", "-log.level=debug"), LK_OK);
    assert_false(f.expand_env);
    assert_string_equal(f.log_level, "debug");
    assert_int_equal(parse(&f, &err, 2, "-version"), LK_OK);
    assert_true(f.version);
    assert_int_equal(parse(&f, &err, 2, "-index.rebuild"), LK_OK);
    assert_true(f.index_rebuild);
    assert_int_equal(parse(&f, &err, 2, "-h"), LK_OK);
    assert_true(f.help);
    assert_int_equal(parse(&f, &err, 2, "--help"), LK_OK);
    assert_true(f.help);
    assert_int_equal(parse(&f, &err, 3, "-version", "--"), LK_OK);

    assert_int_equal(parse(&f, &err, 2, "-x"), LK_EINVAL);
    assert_string_equal(err.p, "flag provided but not defined: -x");
    assert_int_equal(parse(&f, &err, 2, "--ingester.max-chunk-age=1h"), LK_EINVAL);
    assert_string_equal(err.p, "flag provided but not defined: -ingester.max-chunk-age");
    assert_int_equal(parse(&f, &err, 2, "-config.file"), LK_EINVAL);
    assert_string_equal(err.p, "flag needs an argument: -config.file");
    assert_int_equal(parse(&f, &err, 3, "-server.http-listen-port", "abc"), LK_EINVAL);
    assert_string_equal(err.p,
                        "invalid value \"abc\" for flag -server.http-listen-port: parse error");
    assert_int_equal(parse(&f, &err, 2, "-server.http-listen-port=70000"), LK_EINVAL);
    assert_string_equal(err.p, "invalid value \"70000\" for flag -server.http-listen-port: must "
                               "be between 0 and 65535");
    assert_int_equal(parse(&f, &err, 2, "-config.expand-env=maybe"), LK_EINVAL);
    assert_string_equal(err.p, "invalid boolean value \"maybe\" for -config.expand-env: parse "
                               "error");
    assert_int_equal(parse(&f, &err, 2, "-log.level=loud"), LK_EINVAL);
    assert_string_equal(err.p, "invalid value \"loud\" for flag -log.level: expected one of "
                               "debug, info, warn, error");
    assert_int_equal(parse(&f, &err, 2, "loki.yaml"), LK_EINVAL);
    assert_string_equal(err.p, "unexpected argument: loki.yaml");
    assert_int_equal(parse(&f, &err, 2, "---x"), LK_EINVAL);
    assert_string_equal(err.p, "bad flag syntax: ---x");
    assert_int_equal(parse(&f, &err, 2, "-=x"), LK_EINVAL);
    lk_buf_free(&err);
}

static void test_flag_overrides(void **state)
{
    (void)state;
    lk_config c;
    load_ok(&c, "server:\n  http_listen_port: 3200\n  http_listen_address: 10.0.0.1\n"
                "  log_level: warn\n");
    lk_flags f;
    lk_buf err = { 0 };
    assert_int_equal(parse(&f, &err, 4, "-server.http-listen-port=0",
                           "-server.http-listen-address=::1", "-log.level=error"),
                     LK_OK);
    assert_int_equal(config_finish(&c, &f, &err), LK_OK);
    assert_int_equal(c.http_listen_port, 0);
    assert_string_equal(c.http_listen_address, "::1");
    assert_string_equal(c.log_level, "error");
    config_free(&c);

    /* no overrides: the file's values stay */
    load_ok(&c, "server:\n  http_listen_port: 3200\n");
    assert_int_equal(parse(&f, &err, 1), LK_OK);
    assert_int_equal(config_finish(&c, &f, &err), LK_OK);
    assert_int_equal(c.http_listen_port, 3200);
    config_free(&c);
    lk_buf_free(&err);
}

static void test_usage(void **state)
{
    (void)state;
    lk_buf b = { 0 };
    config_print_usage(&b);
    assert_true(strncmp(b.p, "Usage of lokic:\n", 16) == 0);
    assert_non_null(strstr(b.p, "\n  -config.file string\n    \t"));
    assert_non_null(strstr(b.p, "\n  -config.expand-env\n    \t"));
    assert_non_null(strstr(b.p, "\n  -server.http-listen-port int\n    \tHTTP server listen "
                                "port. (default 3100)\n"));
    assert_non_null(strstr(b.p, "(default \"info\")"));
    assert_non_null(strstr(b.p, "\n  -version\n"));
    assert_non_null(strstr(b.p, "\n  -print-config-stderr\n"));
    lk_buf_free(&b);
}

/* ---- finish: derived paths and validation */

static void test_finish(void **state)
{
    (void)state;
    lk_config c;
    config_defaults(&c);
    assert_int_equal(config_finish(&c, NULL, NULL), LK_OK);
    assert_string_equal(c.path_prefix, "./data");
    assert_string_equal(c.wal_dir, "./data/wal");
    assert_string_equal(c.filesystem_directory, "./data/chunks");
    assert_string_equal(c.active_index_directory, "./data/index");
    config_free(&c);

    load_ok(&c, "common:\n  path_prefix: /var/lib/lokic/\ningester:\n  wal:\n    dir: /fast/wal\n");
    assert_int_equal(config_finish(&c, NULL, NULL), LK_OK);
    assert_string_equal(c.wal_dir, "/fast/wal");
    assert_string_equal(c.filesystem_directory, "/var/lib/lokic/chunks");
    assert_string_equal(c.active_index_directory, "/var/lib/lokic/index");
    config_free(&c);

    load_ok(&c, "storage_config:\n  filesystem:\n    directory: chunks\n");
    assert_int_equal(config_finish(&c, NULL, NULL), LK_OK);
    assert_string_equal(c.path_prefix, ".");
    assert_string_equal(c.wal_dir, "./wal");
    config_free(&c);

    /* values set behind the loader's back are still validated */
    config_defaults(&c);
    c.http_listen_port = 70000;
    lk_buf err = { 0 };
    assert_int_equal(config_finish(&c, NULL, &err), LK_EINVAL);
    assert_string_equal(err.p, "invalid value 70000 for server.http_listen_port: must be "
                               "between 0 and 65535");
    config_free(&c);
    lk_buf_free(&err);
}

/* ---- YAML output */

static void test_to_yaml(void **state)
{
    (void)state;
    lk_config c;
    config_defaults(&c);
    char *y = to_yaml(&c);
    assert_true(strncmp(y, "auth_enabled: true\ntarget: \"all\"\nserver:\n", 41) == 0);
    assert_non_null(strstr(y, "\nserver:\n  http_listen_address: \"\"\n  http_listen_port: "
                              "3100\n  log_level: \"info\"\n  http_server_read_timeout: 30s\n"));
    assert_non_null(strstr(y, "\ningester:\n  chunk_block_size: 262144\n"));
    assert_non_null(strstr(y, "  chunk_idle_period: 30m0s\n  max_chunk_age: 2h0m0s\n"));
    assert_non_null(strstr(y, "\n  wal:\n    enabled: true\n    dir: \"\"\nlimits_config:\n"));
    assert_non_null(strstr(y, "\n  reject_old_samples_max_age: 1w\n"));
    assert_non_null(strstr(y, "\n  max_line_size: 262144\n"));
    assert_non_null(strstr(y, "\n  max_query_length: 30d1h\n"));
    assert_non_null(strstr(y, "\n  ingestion_rate_mb: 4\n"));
    assert_non_null(strstr(y, "\nstorage_config:\n  filesystem:\n    directory: \"\"\n  "
                              "boltdb_shipper:\n    active_index_directory: \"\"\n"));
    assert_null(strstr(y, "querier:\n  query_timeout")); /* aliases are not printed */
    assert_null(strstr(y, "chunks_directory"));
    free(y);
    config_free(&c);
}

/* /config?mode=diff printed the whole configuration (bug): only what
 * differs from the defaults, each level's keys sorted as Go's YAML encoder
 * sorts a map's. */
static void test_to_yaml_diff(void **state)
{
    (void)state;
    lk_config c, d;
    config_defaults(&d);
    load_ok(&c, "server:\n  http_listen_port: 3200\nlimits_config:\n  max_query_length: 2h\n"
                "  max_entries_limit_per_query: 10\nauth_enabled: false\n"
                "querier:\n  query_ingesters_within: 1h\n");
    lk_buf b = { 0 };
    config_to_yaml_diff(&c, &d, &b);
    assert_string_equal(b.p, "auth_enabled: false\n"
                                         "limits_config:\n"
                                         "  max_entries_limit_per_query: 10\n"
                                         "  max_query_length: 2h\n"
                                         "querier:\n"
                                         "  query_ingesters_within: 1h0m0s\n"
                                         "server:\n"
                                         "  http_listen_port: 3200\n");
    lk_buf_reset(&b);
    config_to_yaml_diff(&d, &d, &b);
    assert_string_equal(b.p, "{}\n");
    lk_buf_free(&b);
    config_free(&c);
    config_free(&d);
}

static void round_trip(const char *yaml, bool finish)
{
    lk_config a, b;
    load_ok(&a, yaml);
    if (finish)
        assert_int_equal(config_finish(&a, NULL, NULL), LK_OK);
    char *y1 = to_yaml(&a);
    config_defaults(&b);
    loaded r = load(&b, y1);
    if (r.rc != LK_OK)
        fail_msg("reload failed: %s\n%s", r.err, y1);
    /* the dump has only keys lokic uses */
    assert_null(strstr(r.logs, "config key ignored"));
    char *y2 = to_yaml(&b);
    assert_string_equal(y1, y2);
    assert_int_equal(a.auth_enabled, b.auth_enabled);
    assert_int_equal(a.http_listen_port, b.http_listen_port);
    assert_true(a.chunk_idle_period_ns == b.chunk_idle_period_ns);
    assert_true(a.max_line_size == b.max_line_size);
    assert_true(a.ingestion_rate_mb == b.ingestion_rate_mb);
    assert_true(a.reject_old_samples_max_age_ns == b.reject_old_samples_max_age_ns);
    assert_string_equal(a.http_listen_address, b.http_listen_address);
    assert_string_equal(a.wal_dir, b.wal_dir);
    assert_string_equal(a.filesystem_directory, b.filesystem_directory);
    loaded_free(&r);
    free(y1);
    free(y2);
    config_free(&a);
    config_free(&b);
}

static void test_round_trip(void **state)
{
    (void)state;
    round_trip("", false);
    round_trip("", true);
    round_trip(loki_stack_default, true);
    round_trip(config_embedded_default, false);
    round_trip("auth_enabled: false\n"
               "server:\n"
               "  http_listen_address: \"we\\\"ird\\\\ \\t\\x01 'addr' é: #x\"\n"
               "  http_server_write_timeout: 1.5s\n"
               "ingester:\n"
               "  chunk_idle_period: 1500ns\n"
               "  max_chunk_age: 26h3m\n"
               "  chunk_encoding: zstd\n"
               "  wal:\n"
               "    dir: \"C:\\\\wal\\ndir\"\n"
               "limits_config:\n"
               "  ingestion_rate_mb: 0.1\n"
               "  ingestion_burst_size_mb: 123456789.123\n"
               "  reject_old_samples_max_age: 1y2w\n"
               "  creation_grace_period: 1.5us\n"
               "  max_query_length: 0\n"
               "  max_line_size: 1.3MB\n"
               "  discover_service_name: [app]\n"
               "compactor:\n"
               "  retention_enabled: true\n"
               "  compaction_interval: 1h\n"
               "querier:\n"
               "  query_timeout: 7m\n",
               true);
}

/* ---- files */

static void test_load_file(void **state)
{
    (void)state;
    lk_config c;
    config_defaults(&c);
    lk_buf err = { 0 };
    assert_int_equal(config_load_file(&c, "/nonexistent/lokic.yaml", false, &err), LK_EIO);
    assert_string_equal(err.p,
                        "open(\"/nonexistent/lokic.yaml\") failed: No such file or directory");
    lk_buf_reset(&err);

    char *dir = tst_tmpdir("config");
    lk_buf file = { 0 };
    lk_buf_printf(&file, "%s/lokic.yaml", dir);
    const char *path = file.p;
    tst_write_file(path, "server:\n  http_listen_port: 3333\n  log_level: [x]\n");
    assert_int_equal(config_load_file(&c, path, false, &err), LK_EINVAL);
    char want[256];
    snprintf(want, sizeof want,
             "%s:3:14: invalid value for server.log_level: expected one of the listed values, "
             "got a sequence",
             path);
    assert_string_equal(err.p, want);
    assert_null(c.source);

    tst_write_file(path, "server:\n  http_listen_port: 3333\n");
    assert_int_equal(config_load_file(&c, path, false, &err), LK_OK);
    assert_int_equal(c.http_listen_port, 3333);
    assert_string_equal(c.source, path);
    lk_buf_free(&file);
    tst_rmtree(dir);
    lk_buf_free(&err);
    config_free(&c);
}

/* The ruler block (issue 13): Loki's keys, maps read as name/value pairs,
 * common.storage.filesystem.rules_directory as a weak key, cluster keys
 * warned about. */
static void test_ruler(void **state)
{
    (void)state;
    lk_config c;
    config_defaults(&c);
    loaded r = load(&c, "common:\n  storage:\n    filesystem:\n      rules_directory: /r\n"
                        "ruler:\n  alertmanager_url: http://a:9093,http://b:9093\n"
                        "  evaluation_interval: 15s\n  enable_api: true\n"
                        "  ring:\n    kvstore:\n      store: inmemory\n"
                        "  external_labels:\n    cluster: c1\n    env: \"a, b\"\n"
                        "  remote_write:\n    enabled: true\n    clients:\n"
                        "      prom:\n        url: http://p/api/v1/write\n"
                        "        headers:\n          X-A: b\n");
    assert_int_equal(r.rc, LK_OK);
    assert_non_null(strstr(r.logs, "key=ruler.ring"));
    assert_string_equal(c.ruler_local_directory, "/r");
    assert_string_equal(c.ruler_alertmanager_url, "http://a:9093,http://b:9093");
    assert_int_equal(c.ruler_evaluation_interval_ns, 15 * LK_NS_PER_SEC);
    assert_int_equal(c.ruler_external_labels.n, 4);
    assert_string_equal(c.ruler_external_labels.v[1], "c1");
    assert_string_equal(c.ruler_external_labels.v[3], "a, b");
    assert_true(c.ruler_remote_write_enabled);
    assert_int_equal(c.ruler_rw_clients.n, 4);
    assert_string_equal(c.ruler_rw_clients.v[0], "prom.url");
    assert_string_equal(c.ruler_rw_clients.v[2], "prom.headers.X-A");
    assert_string_equal(c.ruler_rw_clients.v[3], "b");
    loaded_free(&r);
    lk_buf y = { 0 };
    config_to_yaml(&c, &y);
    assert_non_null(strstr(y.p, "external_labels: {\"cluster\": \"c1\""));
    lk_buf_free(&y);
    r = load(&c, "ruler:\n  storage:\n    type: s3\n");
    assert_int_equal(r.rc, LK_EUNSUPPORTED);
    loaded_free(&r);
    r = load(&c, "ruler:\n  external_labels: [a]\n");
    assert_int_equal(r.rc, LK_EINVAL);
    assert_non_null(strstr(r.err, "test.yaml:2:20"));
    loaded_free(&r);
    config_free(&c);
}

int main(void)
{
    lk_log_min_level = LK_LOG_INFO;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_embedded_default),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_byte_sizes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_malformed_yaml),
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_unknown_and_inapplicable_keys),
        cmocka_unit_test(test_chunk_encoding_warning),
        cmocka_unit_test(test_loki_stack_default),
        cmocka_unit_test(test_shared_files),
        cmocka_unit_test(test_loki_aws_parsed),
        cmocka_unit_test(test_index_tables_provisioning),
        cmocka_unit_test(test_aws_keys),
        cmocka_unit_test(test_aws_url_forms),
        cmocka_unit_test(test_aws_secrets_not_printed),
        cmocka_unit_test(test_unsupported_stores),
        cmocka_unit_test(test_weak_keys),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_expand_env),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_flag_overrides),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_to_yaml),
        cmocka_unit_test(test_to_yaml_diff),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_ruler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
