/* The YAML loader: walks a libyaml document with Loki's key layout and
 * assigns the options of the table in config.c.
 *
 * Every key is one of:
 *   an option       its value (a scalar; null keeps the current value) is
 *                   parsed with the option's type; errors name
 *                   file:line:column, the key and what was expected;
 *   unsupported     a store lokic cannot use (storage_config.gcs, azure, ...,
 *                   schema_config.configs[].store: cassandra): LK_EUNSUPPORTED
 *                   naming key and value; all of them are reported at once;
 *   not applicable  a Loki key without meaning here (grpc, ring, caches,
 *                   frontend, ...): one warning, its subtree is skipped;
 *   a section       a mapping that holds any of the above: walked;
 *   unknown         one warning, skipped.
 * Weak keys (common.storage.filesystem.chunks_directory, ...) are applied
 * after the others and only where no stronger key set the same field. */
#include "lib/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/config_priv.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timeutil.h"

#define CFG_MAX_FILE (64u << 20)

/* Stores lokic cannot use. In both lists a path ending in '*' matches every
 * path that starts with what precedes the star. */
static const char *const unsupported_paths[] = {
    "storage_config.s3", "storage_config.gcs", "storage_config.gcp",
    "storage_config.azure", "storage_config.swift", "storage_config.bos", "storage_config.cos",
    "storage_config.alibabacloud", "storage_config.bigtable", "storage_config.cassandra",
    "storage_config.grpc_store", "storage_config.dynamodb",
    "storage_config.named_stores.aws", "storage_config.named_stores.s3",
    "storage_config.named_stores.gcs", "storage_config.named_stores.azure",
    "storage_config.named_stores.swift", "storage_config.named_stores.bos",
    "storage_config.named_stores.cos", "storage_config.named_stores.alibabacloud",
    "storage_config.object_store.s3", "storage_config.object_store.gcs",
    "storage_config.object_store.azure", "storage_config.object_store.swift",
    "storage_config.object_store.bos", "storage_config.object_store.cos",
    "storage_config.object_store.alibabacloud",
    "common.storage.gcs", "common.storage.azure", "common.storage.swift",
    "common.storage.bos", "common.storage.cos", "common.storage.alibabacloud",
    NULL,
};

/* Loki keys that lokic knows and ignores. */
static const char *const na_paths[] = {
    /* whole blocks */
    "ballast_bytes", "shutdown_delay", "use_buffered_logger", "use_sync_logger",
    "query_scheduler", "frontend", "frontend_worker", "query_range", "ruler_storage",
    "ingester_client", "block_builder", "block_scheduler", "pattern_ingester.*", "index_gateway",
    "bloom_build", "bloom_gateway", "bloom_compactor", "chunk_store_config",
    "compactor_grpc_client", "memberlist", "kafka_config", "dataobj",
    "operational_config", "tracing", "analytics", "profiling", "internal_server", "ui",
    "partition_ring", "distributor_rf1", "ingester_rf1", "querier_rf1", "metastore",
    "metastore_client", "tenant_limits",
    /* server */
    "server.http_listen_network", "server.grpc_listen_network",
    "server.grpc_listen_address", "server.grpc_listen_port", "server.grpc_listen_conn_limit",
    "server.proxy_protocol_enabled", "server.tls_cipher_suites", "server.tls_min_version",
    "server.http_tls_config", "server.grpc_tls_config", "server.register_instrumentation",
    "server.report_grpc_codes_in_instrumentation_label_enabled",
    "server.http_log_closed_connections_without_response_enabled", "server.grpc_server_*",
    "server.grpc_collect_max_streams_by_conn", "server.log_format", "server.log_source_ips_*",
    "server.log_request_*", "server.http_path_prefix", "server.http_middleware_*",
    "server.cluster_validation",
    /* common */
    "common.replication_factor", "common.ring", "common.instance_addr",
    "common.instance_interface_names", "common.instance_enable_ipv6",
    "common.compactor_address", "common.compactor_grpc_address", "common.persist_tokens",
    "common.storage.hedging",
    "common.storage.congestion_control", "common.storage.object_store",
    "common.storage.use_thanos_objstore",
    /* ruler: what needs a cluster (ring, sharding) and Loki's other stores */
    "ruler.ring", "ruler.enable_sharding", "ruler.sharding_strategy", "ruler.sharding_algo",
    "ruler.search_pending_for", "ruler.flush_period", "ruler.ruler_client",
    "ruler.alertmanager_client", "ruler.alertmanager_refresh_interval",
    "ruler.enable_alertmanager_discovery", "ruler.notification_queue_*",
    "ruler.datasource_uid", "ruler.query_stats_enabled", "ruler.disabled_*",
    "ruler.remote_write.config_refresh_period", "ruler.remote_write.add_org_id_header",
    "ruler.wal.truncate_frequency", "ruler.wal.min_age",
    "ruler.wal.max_age", "ruler.wal_cleaner", "ruler.evaluation",
    /* distributor */
    "distributor.ring", "distributor.rate_store", "distributor.write_failures_logging",
    "distributor.otlp_config", "distributor.push_worker_count",
    "distributor.kafka_writes_enabled", "distributor.ingester_writes_enabled",
    "distributor.tenant_topic", "distributor.max_decompressed_size",
    "distributor.data_object_writes_enabled", "distributor.default_policy_stream_mappings",
    /* ingester */
    "ingester.lifecycler", "ingester.max_transfer_retries", "ingester.concurrent_flushes",
    "ingester.flush_check_period", "ingester.flush_op_backoff", "ingester.flush_op_timeout",
    "ingester.sync_period", "ingester.sync_min_utilization", "ingester.max_returned_stream_errors",
    "ingester.query_store_max_look_back_period", "ingester.autoforget_unhealthy",
    "ingester.index_shards", "ingester.max_dropped_streams", "ingester.shutdown_marker_path",
    "ingester.owned_streams_check_interval", "ingester.chunk_filter", "ingester.tailer",
    "ingester.kafka_ingestion", "ingester.wal.checkpoint_duration",
    "ingester.wal.flush_on_shutdown", "ingester.wal.replay_memory_ceiling",
    "ingester.wal.disk_full_threshold",
    /* limits */
    "limits_config.ingestion_rate_strategy", "limits_config.per_stream_rate_limit",
    "limits_config.per_stream_rate_limit_burst", "limits_config.unordered_writes",
    "limits_config.enforce_metric_name", "limits_config.max_cache_freshness_per_query",
    "limits_config.max_stats_cache_freshness", "limits_config.max_metadata_cache_freshness",
    "limits_config.max_query_parallelism", "limits_config.tsdb_max_query_parallelism",
    "limits_config.tsdb_max_bytes_per_shard", "limits_config.tsdb_sharding_strategy",
    "limits_config.tsdb_precompute_chunks", "limits_config.max_query_lookback",
    "limits_config.max_chunks_per_query", "limits_config.split_*",
    "limits_config.retention_stream", "limits_config.shard_streams",
    "limits_config.increment_duplicate_timestamp", "limits_config.cardinality_limit",
    "limits_config.max_streams_matchers_per_query",
    "limits_config.per_tenant_override_config", "limits_config.per_tenant_override_period",
    "limits_config.max_queriers_per_tenant", "limits_config.max_query_capacity",
    "limits_config.query_ready_index_num_days", "limits_config.min_sharding_lookback",
    "limits_config.ruler_*", "limits_config.bloom_*",
    "limits_config.allow_deletes", "limits_config.use_owned_stream_count",
    "limits_config.discover_generic_fields", "limits_config.log_level_fields",
    "limits_config.max_query_bytes_read", "limits_config.max_querier_bytes_read",
    "limits_config.blocked_queries", "limits_config.required_labels",
    "limits_config.required_number_labels", "limits_config.index_gateway_shard_size",
    "limits_config.pattern_persistence_enabled", "limits_config.metric_aggregation_enabled",
    "limits_config.shard_aggregations", "limits_config.ingestion_partitions_tenant_shard_size",
    "limits_config.log_push_request", "limits_config.log_push_request_streams",
    "limits_config.log_duplicate_metrics", "limits_config.log_duplicate_stream_info",
    "limits_config.block_ingestion_*", "limits_config.enforced_labels",
    "limits_config.policy_*", "limits_config.query_sharding_*",
    "limits_config.max_recent_*", "limits_config.simulated_push_latency",
    "limits_config.max_line_size_truncate_identifier", "limits_config.volume_*",
    /* storage */
    "storage_config.boltdb_shipper.shared_store",
    "storage_config.boltdb_shipper.shared_store_key_prefix",
    "storage_config.boltdb_shipper.query_ready_num_days",
    "storage_config.boltdb_shipper.index_gateway_client",
    "storage_config.boltdb_shipper.build_per_tenant_index",
    "storage_config.boltdb_shipper.ingestername",
    "storage_config.boltdb_shipper.mode",
    "storage_config.tsdb_shipper.shared_store",
    "storage_config.tsdb_shipper.shared_store_key_prefix",
    "storage_config.tsdb_shipper.query_ready_num_days",
    "storage_config.tsdb_shipper.index_gateway_client",
    "storage_config.tsdb_shipper.ingestername", "storage_config.tsdb_shipper.mode",
    "storage_config.boltdb",
    "storage_config.index_queries_cache_config", "storage_config.disable_broad_index_queries",
    "storage_config.max_parallel_get_chunk", "storage_config.max_chunk_batch_size",
    "storage_config.bloom_shipper", "storage_config.hedging", "storage_config.congestion_control",
    "storage_config.use_thanos_objstore", "storage_config.object_store.*",
    "storage_config.named_stores.*", "storage_config.object_prefix",
    "storage_config.index_cache_validity",
    "storage_config.aws.sse", "storage_config.aws.storage_class", "storage_config.aws.backoff_config",
    "storage_config.aws.signature_version", "storage_config.aws.disable_dualstack",
    "storage_config.aws.http_config.tls_*", "storage_config.aws.dynamodb.api_limit",
    "storage_config.aws.dynamodb.throttle_limit", "storage_config.aws.dynamodb.metrics",
    "storage_config.aws.dynamodb.chunk_*", "storage_config.aws.dynamodb.backoff_config",
    "common.storage.s3.sse", "common.storage.s3.storage_class", "common.storage.s3.backoff_config",
    "common.storage.s3.http_config", "common.storage.s3.signature_version",
    /* compactor */
    "compactor.working_directory", "compactor.shared_store", "compactor.shared_store_key_prefix",
    "compactor.apply_retention_interval", "compactor.retention_delete_delay",
    "compactor.retention_delete_worker_count", "compactor.retention_table_timeout",
    "compactor.retention_backoff_config",
    "compactor.delete_request_store_key_prefix", "compactor.delete_request_store_db_type",
    "compactor.delete_batch_size", "compactor.max_compaction_parallelism",
    "compactor.upload_parallelism", "compactor.compactor_ring", "compactor.run_once",
    "compactor.tables_to_compact", "compactor.skip_latest_n_tables",
    "compactor.horizontal_scaling_mode", "compactor.worker_config", "compactor.jobs_config",
    /* table manager */
    "table_manager.throughput_updates_disabled", "table_manager.creation_grace_period",
    "table_manager.poll_interval", "table_manager.index_tables_provisioning.inactive_*",
    "table_manager.index_tables_provisioning.write_scale",
    "table_manager.index_tables_provisioning.read_scale",
    "table_manager.chunk_tables_provisioning",
    /* querier */
    "querier.max_concurrent", "querier.tail_max_duration", "querier.extra_query_delay",
    "querier.query_store_only", "querier.query_ingester_only",
    "querier.per_request_limits_enabled",
    "querier.engine", "querier.query_partition_ingesters",
    "querier.ingester_query_store_max_look_back_period",
    NULL,
};

typedef struct cfg_assign {
    const cfg_opt *opt;
    yaml_node_t *node;
    char *path;
} cfg_assign;

typedef struct cfg_loader {
    const char *name;
    lk_str text;
    yaml_document_t doc;
    lk_buf *err;
    lk_buf unsup; /* LK_EUNSUPPORTED messages, "; "-separated */
    cfg_assign *as;
    size_t nas, cap;
    yaml_node_t *otlp; /* limits_config.otlp_config, read after the options */
    bool schema_s3, schema_dynamodb; /* a period with object_store s3/aws, store aws */
} cfg_loader;

static bool pattern_match(const char *pat, lk_str path)
{
    size_t n = strlen(pat);
    if (n && pat[n - 1] == '*')
        return path.len >= n - 1 && memcmp(path.p, pat, n - 1) == 0;
    return lk_str_eq_c(path, pat);
}

static bool in_list(const char *const *list, lk_str path)
{
    for (int i = 0; list[i]; i++)
        if (pattern_match(list[i], path))
            return true;
    return false;
}

/* True when a known path lies below path (so it is walked as a mapping). */
static bool has_prefix_dot(const char *known, lk_str path)
{
    return strlen(known) > path.len && memcmp(known, path.p, path.len) == 0 &&
           known[path.len] == '.';
}

static bool is_section(lk_str path)
{
    for (size_t i = 0; i < cfg_nopts; i++)
        if (has_prefix_dot(cfg_opts[i].path, path))
            return true;
    for (int i = 0; unsupported_paths[i]; i++)
        if (has_prefix_dot(unsupported_paths[i], path))
            return true;
    for (int i = 0; na_paths[i]; i++)
        if (has_prefix_dot(na_paths[i], path))
            return true;
    return false;
}

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

/* "file:line:column: " of a node. */
static void put_where(cfg_loader *L, const yaml_node_t *n)
{
    if (L->err)
        lk_buf_printf(L->err, "%s:%d:%d: ", L->name, line_of(n), (int)n->start_mark.column + 1);
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a sequence";
    default: return "a scalar";
    }
}

static lk_str scalar(const yaml_node_t *n)
{
    return lk_str_n((const char *)n->data.scalar.value, n->data.scalar.length);
}

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    lk_str s = scalar(n);
    return s.len == 0 || lk_str_eq_c(s, "~") || lk_str_eq_c(s, "null") ||
           lk_str_eq_c(s, "Null") || lk_str_eq_c(s, "NULL");
}

static bool is_empty(yaml_document_t *doc, yaml_node_t *n)
{
    (void)doc;
    if (is_null(n))
        return true;
    if (n->type == YAML_MAPPING_NODE)
        return n->data.mapping.pairs.top == n->data.mapping.pairs.start;
    if (n->type == YAML_SEQUENCE_NODE)
        return n->data.sequence.items.top == n->data.sequence.items.start;
    return false;
}

/* A sequence of scalars (a CFG_LIST value). */
static bool scalar_list(yaml_document_t *doc, yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return false;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++)
        if (yaml_document_get_node(doc, *it)->type != YAML_SCALAR_NODE)
            return false;
    return true;
}

/* The items of a sequence of scalars joined with commas (CFG_LIST's text). */
static void join_list(yaml_document_t *doc, yaml_node_t *n, lk_buf *out)
{
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        if (out->len)
            lk_buf_putc(out, ',');
        lk_buf_put_str(out, scalar(yaml_document_get_node(doc, *it)));
    }
}

static void warn_key(lk_str path, const yaml_node_t *key, const char *reason)
{
    if (LK_LOG_WARN < lk_log_min_level)
        return;
    lk_buf k = { 0 };
    cfg_logfmt_value(&k, path);
    log_warn("config key ignored", "key=%s line=%d reason=\"%s\"", k.p, line_of(key), reason);
    lk_buf_free(&k);
}

static int expect_mapping(cfg_loader *L, lk_str path, yaml_node_t *val)
{
    if (val->type == YAML_MAPPING_NODE || is_null(val))
        return LK_OK;
    put_where(L, val);
    if (L->err)
        lk_buf_printf(L->err, "expected a mapping for %.*s, got %s", LK_STR_FMT(path),
                      node_kind(val));
    return LK_EINVAL;
}

static void add_unsupported(cfg_loader *L, const yaml_node_t *n, lk_str path, const char *what,
                            lk_str value)
{
    if (L->unsup.len)
        lk_buf_puts(&L->unsup, "; ");
    lk_buf_printf(&L->unsup, "%s:%d:%d: %.*s: unsupported %s", L->name, line_of(n),
                  (int)n->start_mark.column + 1, LK_STR_FMT(path), what);
    if (value.p) {
        lk_buf_putc(&L->unsup, ' ');
        cfg_quote(&L->unsup, value, 100);
    }
    lk_buf_puts(&L->unsup, " (lokic supports the filesystem and s3 object stores with its own "
                           "index, boltdb-shipper or tsdb, or aws)");
}

static void push_path(lk_buf *path, lk_str seg)
{
    if (path->len)
        lk_buf_putc(path, '.');
    lk_buf_put_str(path, seg);
}

static void truncate_path(lk_buf *path, size_t len)
{
    path->len = len;
    if (path->p)
        path->p[len] = '\0';
}

/* ---- duplicate keys */

typedef struct keyref {
    lk_str key;
    const yaml_node_t *node;
} keyref;

static int keyref_cmp(const void *a, const void *b)
{
    const keyref *x = a, *y = b;
    int c = lk_str_cmp(x->key, y->key);
    if (c)
        return c;
    return x->node->start_mark.index < y->node->start_mark.index ? -1
           : x->node->start_mark.index > y->node->start_mark.index;
}

/* Keys must be scalars and unique within a mapping (as Go's yaml says
 * "key already set in map"). */
static int check_keys(cfg_loader *L, yaml_node_t *map, lk_buf *path)
{
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    keyref *keys = lk_calloc(n ? n : 1, sizeof *keys);
    int rc = LK_OK;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *k = yaml_document_get_node(&L->doc, map->data.mapping.pairs.start[i].key);
        if (k->type != YAML_SCALAR_NODE) {
            put_where(L, k);
            if (L->err)
                lk_buf_printf(L->err, "expected a scalar key in %s, got %s",
                              path->len ? path->p : "the top level", node_kind(k));
            rc = LK_EINVAL;
            goto out;
        }
        keys[i] = (keyref){ scalar(k), k };
    }
    qsort(keys, n, sizeof *keys, keyref_cmp);
    for (size_t i = 1; i < n; i++) {
        if (!lk_str_eq(keys[i].key, keys[i - 1].key))
            continue;
        put_where(L, keys[i].node);
        if (L->err) {
            lk_buf_puts(L->err, "duplicate key ");
            lk_buf_put_str(L->err, lk_buf_str(path));
            if (path->len)
                lk_buf_putc(L->err, '.');
            lk_buf_put_str(L->err, keys[i].key);
        }
        rc = LK_EINVAL;
        goto out;
    }
out:
    free(keys);
    return rc;
}

/* ---- schema_config */

static bool is_date(lk_str s)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (s.len != 10 || s.p[4] != '-' || s.p[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s.p[i] < '0' || s.p[i] > '9'))
            return false;
    int y = atoi(s.p), m = (s.p[5] - '0') * 10 + (s.p[6] - '0'),
        d = (s.p[8] - '0') * 10 + (s.p[9] - '0');
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

static int bad_value(cfg_loader *L, yaml_node_t *val, lk_buf *path, const char *expected)
{
    put_where(L, val);
    if (L->err) {
        if (val->type == YAML_SCALAR_NODE) {
            lk_buf_puts(L->err, "invalid value ");
            cfg_quote(L->err, scalar(val), 100);
            lk_buf_printf(L->err, " for %s: %s", path->p, expected);
        } else {
            lk_buf_printf(L->err, "invalid value for %s: %s, got %s", path->p, expected,
                          node_kind(val));
        }
    }
    return LK_EINVAL;
}

/* One key of a mapping: k and its value v, path already names it. */
typedef int (*pair_fn)(cfg_loader *L, yaml_node_t *k, yaml_node_t *v, lk_buf *path);

/* Checks map's keys (duplicates, non-scalars), then calls fn for each pair
 * with the key appended to path; stops at the first error. */
static int walk_pairs(cfg_loader *L, yaml_node_t *map, lk_buf *path, pair_fn fn)
{
    int rc = check_keys(L, map, path);
    if (rc != LK_OK)
        return rc;
    size_t base = path->len;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&L->doc, p->value);
        push_path(path, scalar(k));
        rc = fn(L, k, v, path);
        truncate_path(path, base);
        if (rc != LK_OK)
            return rc;
    }
    return LK_OK;
}

static int schema_index_key(cfg_loader *L, yaml_node_t *k, yaml_node_t *v, lk_buf *path)
{
    lk_str key = scalar(k);
    int64_t ns;
    if (lk_str_eq_c(key, "period")) {
        if (v->type != YAML_SCALAR_NODE || (!is_null(v) && lk_parse_duration(scalar(v), &ns)))
            return bad_value(L, v, path, "expected a duration such as 24h");
    } else if (lk_str_eq_c(key, "prefix")) {
        if (v->type != YAML_SCALAR_NODE)
            return bad_value(L, v, path, "expected a string");
    } else {
        warn_key(lk_buf_str(path), k, "not applicable to lokic");
    }
    return LK_OK;
}

static int schema_index(cfg_loader *L, yaml_node_t *map, lk_buf *path)
{
    int rc = expect_mapping(L, lk_buf_str(path), map);
    if (rc != LK_OK || map->type != YAML_MAPPING_NODE)
        return rc;
    return walk_pairs(L, map, path, schema_index_key);
}

static int schema_store(cfg_loader *L, yaml_node_t *v, lk_buf *path, bool object_store)
{
    static const char *const stores[] = { "boltdb-shipper", "boltdb", "tsdb", "aws",
                                          "aws-dynamo", NULL };
    static const char *const object_stores[] = { "filesystem", "s3", "aws", NULL };
    if (v->type != YAML_SCALAR_NODE)
        return bad_value(L, v, path, "expected a store name");
    if (is_null(v))
        return LK_OK;
    lk_str s = scalar(v);
    if (object_store && (lk_str_eq_c(s, "s3") || lk_str_eq_c(s, "aws")))
        L->schema_s3 = true;
    if (!object_store && (lk_str_eq_c(s, "aws") || lk_str_eq_c(s, "aws-dynamo")))
        L->schema_dynamodb = true;
    const char *const *ok = object_store ? object_stores : stores;
    for (int i = 0; ok[i]; i++)
        if (lk_str_eq_c(s, ok[i]))
            return LK_OK;
    add_unsupported(L, v, lk_buf_str(path), object_store ? "object store" : "store", s);
    return LK_OK;
}

static int schema_period_key(cfg_loader *L, yaml_node_t *k, yaml_node_t *v, lk_buf *path)
{
    lk_str key = scalar(k);
    if (lk_str_eq_c(key, "from")) {
        if (v->type != YAML_SCALAR_NODE || !is_date(scalar(v)))
            return bad_value(L, v, path, "expected a date such as 2020-10-24");
    } else if (lk_str_eq_c(key, "store")) {
        return schema_store(L, v, path, false);
    } else if (lk_str_eq_c(key, "object_store")) {
        return schema_store(L, v, path, true);
    } else if (lk_str_eq_c(key, "schema")) {
        if (v->type != YAML_SCALAR_NODE)
            return bad_value(L, v, path, "expected a schema version such as v13");
    } else if (lk_str_eq_c(key, "index")) {
        return schema_index(L, v, path);
    } else if (lk_str_eq_c(key, "chunks") || lk_str_eq_c(key, "row_shards") ||
               lk_str_eq_c(key, "index_tables_period")) {
        warn_key(lk_buf_str(path), k, "not applicable to lokic");
    } else {
        warn_key(lk_buf_str(path), k, "unknown key");
    }
    return LK_OK;
}

static int schema_period(cfg_loader *L, yaml_node_t *map, lk_buf *path)
{
    if (map->type != YAML_MAPPING_NODE) {
        put_where(L, map);
        if (L->err)
            lk_buf_printf(L->err, "expected a mapping for %s, got %s", path->p, node_kind(map));
        return LK_EINVAL;
    }
    return walk_pairs(L, map, path, schema_period_key);
}

static int schema_key(cfg_loader *L, yaml_node_t *k, yaml_node_t *v, lk_buf *path)
{
    if (!lk_str_eq_c(scalar(k), "configs")) {
        warn_key(lk_buf_str(path), k, "unknown key");
        return LK_OK;
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return is_null(v) ? LK_OK : bad_value(L, v, path, "expected a list of periods");
    size_t base = path->len;
    int rc = LK_OK, i = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start;
         it < v->data.sequence.items.top && rc == LK_OK; it++, i++) {
        lk_buf_printf(path, "[%d]", i);
        rc = schema_period(L, yaml_document_get_node(&L->doc, *it), path);
        truncate_path(path, base);
    }
    return rc;
}

/* schema_config is validated; of it lokic keeps only whether a period puts
 * chunks in S3 or the index in DynamoDB (its own index has 24-hour periods
 * whatever the schema says). */
static int walk_schema(cfg_loader *L, yaml_node_t *map, lk_buf *path)
{
    int rc = expect_mapping(L, lk_buf_str(path), map);
    if (rc != LK_OK || map->type != YAML_MAPPING_NODE)
        return rc;
    return walk_pairs(L, map, path, schema_key);
}

/* ---- map options (CFG_MAP): nested mappings of scalars, read as pairs */

/* Checks that every value under map is a scalar or a mapping of them. */
static int check_map(cfg_loader *L, yaml_node_t *map, lk_buf *path)
{
    if (map->type == YAML_SCALAR_NODE)
        return is_null(map) ? LK_OK : bad_value(L, map, path, "expected a mapping");
    if (map->type != YAML_MAPPING_NODE)
        return bad_value(L, map, path, "expected a mapping");
    int rc = check_keys(L, map, path);
    size_t base = path->len;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         rc == LK_OK && p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *v = yaml_document_get_node(&L->doc, p->value);
        push_path(path, scalar(yaml_document_get_node(&L->doc, p->key)));
        if (v->type != YAML_SCALAR_NODE)
            rc = check_map(L, v, path);
        truncate_path(path, base);
    }
    return rc;
}

static void map_items(yaml_document_t *doc, yaml_node_t *map, lk_buf *prefix, lk_cfg_list *out,
                      size_t *cap)
{
    if (map->type != YAML_MAPPING_NODE)
        return;
    size_t base = prefix->len;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        push_path(prefix, scalar(yaml_document_get_node(doc, p->key)));
        if (v->type == YAML_MAPPING_NODE) {
            map_items(doc, v, prefix, out, cap);
        } else {
            lk_str val = is_null(v) ? LK_STR("") : scalar(v);
            out->v = lk_grow(out->v, cap, out->n + 2, sizeof *out->v);
            out->v[out->n++] = lk_strndup(prefix->p, prefix->len);
            out->v[out->n++] = lk_strndup(val.p, val.len);
        }
        truncate_path(prefix, base);
    }
}

/* ---- the walk */

static void add_assign(cfg_loader *L, const cfg_opt *o, yaml_node_t *v, lk_str path)
{
    L->as = lk_grow(L->as, &L->cap, L->nas + 1, sizeof *L->as);
    L->as[L->nas++] = (cfg_assign){ o, v, lk_strndup(path.p, path.len) };
}

static int walk_mapping(cfg_loader *L, yaml_node_t *map, lk_buf *path);

static int walk_key(cfg_loader *L, yaml_node_t *k, yaml_node_t *v, lk_buf *path)
{
    lk_str p = lk_buf_str(path);
    const cfg_opt *o = cfg_find(p);
    if (o) {
        if (o->flags & CFG_MAP) {
            int rc = check_map(L, v, path);
            if (rc == LK_OK)
                add_assign(L, o, v, p);
            return rc;
        }
        if (v->type == YAML_SCALAR_NODE || (o->type == CFG_LIST && scalar_list(&L->doc, v))) {
            /* null keeps a default, but empties a list, as Go's YAML does */
            if (!is_null(v) || o->type == CFG_LIST)
                add_assign(L, o, v, p);
            return LK_OK;
        }
        return bad_value(L, v, path, cfg_expected(o));
    }
    if (in_list(unsupported_paths, p)) {
        if (is_empty(&L->doc, v))
            warn_key(p, k, "not applicable to lokic");
        else
            add_unsupported(L, k, p, "storage backend", LK_STR_NULL);
        return LK_OK;
    }
    if (lk_str_eq_c(p, "schema_config"))
        return walk_schema(L, v, path);
    if (lk_str_eq_c(p, "limits_config.otlp_config")) {
        L->otlp = is_null(v) ? NULL : v;
        return LK_OK;
    }
    if (in_list(na_paths, p)) {
        warn_key(p, k, "not applicable to lokic");
        return LK_OK;
    }
    if (is_section(p)) {
        int rc = expect_mapping(L, p, v);
        if (rc != LK_OK || v->type != YAML_MAPPING_NODE)
            return rc;
        return walk_mapping(L, v, path);
    }
    warn_key(p, k, "unknown key");
    return LK_OK;
}

static int walk_mapping(cfg_loader *L, yaml_node_t *map, lk_buf *path)
{
    return walk_pairs(L, map, path, walk_key);
}

/* ---- applying the values */

static int apply_one(cfg_loader *L, lk_config *c, const cfg_assign *a)
{
    lk_str text;
    lk_buf joined = { 0 };
    if (a->opt->flags & CFG_MAP) {
        lk_cfg_list items = { 0 };
        size_t cap = 0;
        map_items(&L->doc, a->node, &joined, &items, &cap);
        cfg_set_items(c, a->opt, items);
        lk_buf_free(&joined);
        return LK_OK;
    }
    if (a->node->type == YAML_SEQUENCE_NODE) { /* CFG_LIST */
        join_list(&L->doc, a->node, &joined);
        text = lk_buf_str(&joined);
    } else {
        text = is_null(a->node) ? LK_STR("") : scalar(a->node);
    }
    lk_buf why = { 0 };
    int rc = cfg_set(c, a->opt, text, &why);
    if (rc != LK_OK) {
        put_where(L, a->node);
        if (L->err) {
            lk_buf_puts(L->err, rc == LK_EUNSUPPORTED ? "unsupported value " : "invalid value ");
            cfg_quote(L->err, text, 100);
            lk_buf_printf(L->err, " for %s: %s", a->path, why.p ? why.p : "");
        }
    }
    lk_buf_free(&why);
    lk_buf_free(&joined);
    return rc;
}

/* Strong keys first in file order, then weak ones where the field is still
 * untouched by a strong key. */
static int apply(cfg_loader *L, lk_config *c)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < L->nas; i++) {
            const cfg_assign *a = &L->as[i];
            bool weak = (a->opt->flags & CFG_WEAK) != 0;
            if (weak != (pass == 1))
                continue;
            if (weak) {
                bool taken = false;
                for (size_t j = 0; j < L->nas && !taken; j++)
                    taken = !(L->as[j].opt->flags & CFG_WEAK) && L->as[j].opt->off == a->opt->off;
                if (taken)
                    continue;
            }
            int rc = apply_one(L, c, a);
            if (rc != LK_OK)
                return rc;
        }
    }
    return LK_OK;
}

/* libyaml's reader errors carry a byte offset, not a mark. */
static void offset_to_mark(lk_str text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < text.len; i++) {
        if (text.p[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int parse_error(cfg_loader *L, yaml_parser_t *y)
{
    if (!L->err)
        return LK_EPARSE;
    int line, col;
    if (y->error == YAML_READER_ERROR) {
        offset_to_mark(L->text, y->problem_offset, &line, &col);
    } else {
        line = (int)y->problem_mark.line + 1;
        col = (int)y->problem_mark.column + 1;
    }
    lk_buf_printf(L->err, "%s:%d:%d: %s", L->name, line, col,
                  y->problem ? y->problem : "malformed YAML");
    if (y->context)
        lk_buf_printf(L->err, " (%s at line %d, column %d)", y->context,
                      (int)y->context_mark.line + 1, (int)y->context_mark.column + 1);
    return LK_EPARSE;
}

static int load_document(cfg_loader *L, lk_config *c)
{
    yaml_parser_t y;
    if (!yaml_parser_initialize(&y))
        LK_BUG("yaml_parser_initialize failed");
    yaml_parser_set_input_string(&y, (const unsigned char *)L->text.p, L->text.len);
    int rc = LK_OK;
    if (!yaml_parser_load(&y, &L->doc)) {
        rc = parse_error(L, &y);
        yaml_parser_delete(&y);
        return rc;
    }
    yaml_parser_delete(&y);

    lk_buf path = { 0 };
    yaml_node_t *root = yaml_document_get_root_node(&L->doc);
    if (root && !is_null(root)) {
        if (root->type != YAML_MAPPING_NODE) {
            put_where(L, root);
            if (L->err)
                lk_buf_printf(L->err, "expected a mapping at the top level, got %s",
                              node_kind(root));
            rc = LK_EINVAL;
        } else {
            rc = walk_mapping(L, root, &path);
        }
    }
    if (rc == LK_OK && L->unsup.len) {
        if (L->err)
            lk_buf_put_str(L->err, lk_buf_str(&L->unsup));
        rc = LK_EUNSUPPORTED;
    }
    if (rc == LK_OK)
        rc = apply(L, c);
    if (rc == LK_OK) {
        c->schema_s3 = L->schema_s3;
        c->schema_dynamodb = L->schema_dynamodb;
    }
    if (rc == LK_OK && L->otlp)
        rc = cfg_load_otlp(&L->doc, L->otlp, L->name, &c->otlp, L->err);
    lk_buf_free(&path);
    yaml_document_delete(&L->doc);
    return rc;
}

int config_load_yaml(lk_config *c, const char *name, lk_str text, bool expand_env, lk_buf *err)
{
    cfg_loader L = { .name = name ? name : "<config>", .text = text, .err = err };
    lk_buf expanded = { 0 };
    int rc = LK_OK;
    if (expand_env) {
        rc = cfg_expand_env(L.name, text, &expanded, err);
        if (rc != LK_OK)
            goto out;
        L.text = lk_buf_str(&expanded);
        if (!L.text.p)
            L.text = LK_STR("");
    }
    lk_config work;
    cfg_copy(&work, c);
    rc = load_document(&L, &work);
    if (rc == LK_OK) {
        if (!L.otlp) { /* the file left otlp_config as it was */
            work.otlp = c->otlp;
            memset(&c->otlp, 0, sizeof c->otlp);
        }
        config_free(c);
        *c = work;
    } else {
        config_free(&work);
    }
out:
    for (size_t i = 0; i < L.nas; i++)
        free(L.as[i].path);
    free(L.as);
    lk_buf_free(&L.unsup);
    lk_buf_free(&expanded);
    return rc;
}

static int read_file(const char *path, lk_buf *out, lk_buf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (err)
            lk_buf_printf(err, "open(\"%s\") failed: %s", path, strerror(errno));
        return LK_EIO;
    }
    int rc = LK_OK;
    char tmp[65536];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (err)
                lk_buf_printf(err, "read(\"%s\") failed: %s", path, strerror(errno));
            rc = LK_EIO;
            break;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > CFG_MAX_FILE) {
            if (err)
                lk_buf_printf(err, "%s: config file larger than %u bytes", path, CFG_MAX_FILE);
            rc = LK_ETOOLARGE;
            break;
        }
        lk_buf_append(out, tmp, (size_t)n);
    }
    close(fd);
    return rc;
}

int config_load_file(lk_config *c, const char *path, bool expand_env, lk_buf *err)
{
    lk_buf text = { 0 };
    int rc = read_file(path, &text, err);
    if (rc == LK_OK) {
        lk_str s = text.p ? lk_buf_str(&text) : LK_STR("");
        rc = config_load_yaml(c, path, s, expand_env, err);
    }
    if (rc == LK_OK) {
        free(c->source);
        c->source = lk_strdup(path);
    }
    lk_buf_free(&text);
    return rc;
}
