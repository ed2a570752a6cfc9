/* Configuration: the one table of options (STYLE.md 10) and everything that
 * reads it except the YAML walker (config_yaml.c) and the command line
 * (config_flags.c): defaults, value parsing and bounds, validation, derived
 * paths, the YAML dump for /config, copying and freeing.
 *
 * Key names and defaults are Loki's. Value syntax:
 *   duration  a Prometheus duration ("1w", "30d1h", "0") or a Go one
 *             ("1m30s", "1.5h"); printed as Loki prints it: Go style for
 *             time.Duration fields ("30m0s"), Prometheus style for
 *             model.Duration fields ("1w").
 *   bytes     Loki's flagext.ByteSize: a plain integer, or a number with a
 *             binary unit, case-insensitive: "256KB" = 262144, "1.5MB",
 *             "100mb", "1GiB"; printed as plain bytes.
 *
 * Derived paths (config_finish): when common.path_prefix is empty it becomes
 * the parent of storage_config.filesystem.directory if that is set (so a
 * loki-stack config keeps everything under /data/loki), else "./data". Then
 * an empty ingester.wal.dir is <path_prefix>/wal, an empty
 * storage_config.filesystem.directory <path_prefix>/chunks and an empty
 * storage_config.boltdb_shipper.active_index_directory <path_prefix>/index,
 * an empty ruler.wal.dir <path_prefix>/ruler-wal. */
#include "lib/config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config_priv.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"

#define F(field) offsetof(lk_config, field)
#define NS_H (INT64_C(3600) * LK_NS_PER_SEC)
#define MAXDUR INT64_MAX
#define MAXSIZE INT64_MAX

static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };
static const char *const targets[] = { "all", NULL };
static const char *const ruler_stores[] = { "local", NULL };
/* Loki's deletion modes (pkg/compactor/deletionmode). */
static const char *const deletion_modes[] = { "disabled", "filter-only", "filter-and-delete",
                                              NULL };
/* Loki's compression codecs (pkg/compression), all honoured
 * (storage/compress.h). */
static const char *const encodings[] = { "none", "gzip", "lz4-64k", "snappy", "lz4-256k",
                                         "lz4-1M", "lz4", "flate", "zstd", NULL };

/* storage_config.aws's S3 keys; common.storage.s3 has the same as weak
 * aliases (Loki's common config). */
#define AWS_OPTS(sec, fl)                                                                      \
    { sec ".s3", CFG_STRING, (fl) | CFG_SECRET, "", 0, 0, F(aws_s3_url), NULL,                 \
      "S3 URL: s3://region/bucket, s3://KEY:SECRET@region/bucket or "                          \
      "http(s)://KEY:SECRET@host:port/bucket." },                                              \
    { sec ".endpoint", CFG_STRING, (fl), "", 0, 0, F(aws_endpoint), NULL,                      \
      "S3 endpoint, host[:port] or a URL (empty: AWS's for the region)." },                    \
    { sec ".region", CFG_STRING, (fl), "", 0, 0, F(aws_region), NULL, "AWS region." },        \
    { sec ".bucketnames", CFG_STRING, (fl), "", 0, 0, F(aws_bucketnames), NULL,                \
      "Bucket names, comma-separated." },                                                      \
    { sec ".access_key_id", CFG_STRING, (fl), "", 0, 0, F(aws_access_key_id), NULL,            \
      "Access key (empty: AWS_ACCESS_KEY_ID)." },                                              \
    { sec ".secret_access_key", CFG_STRING, (fl) | CFG_SECRET, "", 0, 0,                       \
      F(aws_secret_access_key), NULL, "Secret key (empty: AWS_SECRET_ACCESS_KEY)." },          \
    { sec ".session_token", CFG_STRING, (fl) | CFG_SECRET, "", 0, 0, F(aws_session_token),     \
      NULL, "Session token (empty: AWS_SESSION_TOKEN)." },                                     \
    { sec ".s3forcepathstyle", CFG_BOOL, (fl), "false", 0, 0, F(aws_s3forcepathstyle), NULL,   \
      "Path-style requests (host/bucket/key) instead of virtual-host style." },                \
    { sec ".insecure", CFG_BOOL, (fl), "false", 0, 0, F(aws_insecure), NULL,                   \
      "Plain http to the endpoint." },

/* The table. Entries sharing a dotted prefix stay together: config_to_yaml
 * nests them by walking the table in order. */
const cfg_opt cfg_opts[] = {
    { "auth_enabled", CFG_BOOL, 0, "true", 0, 0, F(auth_enabled), NULL,
      "Requires X-Scope-OrgID on every request; when false every request is tenant \"fake\"." },
    { "target", CFG_ENUM, CFG_UNSUP_OTHER, "all", 0, 0, F(target), targets,
      "Components to run; lokic is one process and runs them all." },

    { "server.http_listen_address", CFG_STRING, 0, "", 0, 0, F(http_listen_address), NULL,
      "HTTP server listen address (empty: all addresses)." },
    { "server.http_listen_port", CFG_INT, 0, "3100", 0, 65535, F(http_listen_port), NULL,
      "HTTP server listen port." },
    { "server.log_level", CFG_ENUM, 0, "info", 0, 0, F(log_level), log_levels,
      "Only log messages with the given severity or above." },
    { "server.http_server_read_timeout", CFG_DURATION, 0, "30s", 0, MAXDUR,
      F(http_server_read_timeout_ns), NULL,
      "Time to read an entire HTTP request, headers and body (0: no limit)." },
    { "server.http_server_write_timeout", CFG_DURATION, 0, "30s", 0, MAXDUR,
      F(http_server_write_timeout_ns), NULL,
      "Time to send an HTTP response once it is ready (0: no limit)." },
    { "server.http_server_read_header_timeout", CFG_DURATION, 0, "0s", 0, MAXDUR,
      F(http_server_read_header_timeout_ns), NULL,
      "Read timeout for HTTP request headers (0: http_server_read_timeout)." },
    { "server.http_server_idle_timeout", CFG_DURATION, 0, "2m", 0, MAXDUR,
      F(http_server_idle_timeout_ns), NULL,
      "How long a kept-alive connection may wait for its next request." },
    { "server.graceful_shutdown_timeout", CFG_DURATION, 0, "30s", 0, MAXDUR,
      F(graceful_shutdown_timeout_ns), NULL,
      "At shutdown, how long requests in flight may take to be answered." },
    { "server.http_listen_conn_limit", CFG_INT, 0, "0", 0, 1 << 20, F(http_listen_conn_limit),
      NULL, "Most simultaneous HTTP connections (0: 4096)." },
    { "server.http_listen_conn_limit_per_ip", CFG_INT, 0, "1024", 0, 1 << 20,
      F(http_listen_conn_limit_per_ip), NULL,
      "lokic: most simultaneous HTTP connections from one client address (0: no limit)." },

    { "common.path_prefix", CFG_STRING, 0, "", 0, 0, F(path_prefix), NULL,
      "Directory under which the WAL, chunks and index live unless set one by one." },
    { "common.storage.filesystem.chunks_directory", CFG_STRING, CFG_ALIAS | CFG_WEAK, "", 0, 0,
      F(filesystem_directory), NULL,
      "Chunk directory, when storage_config.filesystem.directory is not set." },
    AWS_OPTS("common.storage.s3", CFG_ALIAS | CFG_WEAK)

    { "distributor.max_recv_msg_size", CFG_BYTES, 0, "100MB", 1, MAXSIZE, F(max_recv_msg_size),
      NULL, "Largest push request body accepted, in bytes, before and after decompression." },
    { "distributor.max_inflight_bytes", CFG_BYTES, 0, "512MB", 0, MAXSIZE,
      F(max_inflight_bytes), NULL,
      "Bytes that requests being received and decoded may hold together (0: no limit); "
      "a push past it gets 503 (Loki's default is 0)." },

    { "ingester.chunk_block_size", CFG_BYTES, 0, "262144", 1, INT64_C(1) << 30,
      F(chunk_block_size), NULL, "Uncompressed size at which a head block is compressed." },
    { "ingester.chunk_target_size", CFG_BYTES, 0, "1572864", 0, INT64_C(1) << 32,
      F(chunk_target_size), NULL,
      "Compressed size at which a chunk is cut; 0 cuts after a fixed 10 blocks." },
    { "ingester.chunk_idle_period", CFG_DURATION, 0, "30m", 1, MAXDUR, F(chunk_idle_period_ns),
      NULL, "Flush a stream's chunk after it received nothing for this long." },
    { "ingester.max_chunk_age", CFG_DURATION, 0, "2h", 1, MAXDUR, F(max_chunk_age_ns), NULL,
      "Flush chunks older than this; half of it is the out-of-order window." },
    { "ingester.chunk_retain_period", CFG_DURATION, 0, "0s", 0, MAXDUR,
      F(chunk_retain_period_ns), NULL, "Keep flushed chunks in memory for this long." },
    { "ingester.chunk_encoding", CFG_ENUM, 0, "zstd", 0, 0, F(chunk_encoding),
      encodings, "Compression of new chunk blocks, each column on its own (lz4-* are lz4)." },
    { "ingester.wal.enabled", CFG_BOOL, 0, "true", 0, 0, F(wal_enabled), NULL,
      "Write every push to the write-ahead log before acknowledging it." },
    { "ingester.wal.dir", CFG_STRING, 0, "", 0, 0, F(wal_dir), NULL,
      "WAL directory (empty: <path_prefix>/wal)." },

    { "limits_config.reject_old_samples", CFG_BOOL, 0, "true", 0, 0, F(reject_old_samples), NULL,
      "Reject entries older than reject_old_samples_max_age." },
    { "limits_config.reject_old_samples_max_age", CFG_DURATION, CFG_PROM, "1w", 0, MAXDUR,
      F(reject_old_samples_max_age_ns), NULL, "Oldest entry accepted, relative to now." },
    { "limits_config.creation_grace_period", CFG_DURATION, CFG_PROM, "10m", 0, MAXDUR,
      F(creation_grace_period_ns), NULL, "How far in the future an entry may be." },
    { "limits_config.max_line_size", CFG_BYTES, 0, "256KB", 0, MAXSIZE, F(max_line_size), NULL,
      "Longest line accepted (0: no limit)." },
    { "limits_config.max_line_size_truncate", CFG_BOOL, 0, "false", 0, 0,
      F(max_line_size_truncate), NULL, "Truncate long lines instead of rejecting them." },
    { "limits_config.max_label_names_per_series", CFG_INT, 0, "15", 1, 1000000,
      F(max_label_names_per_series), NULL, "Most labels a stream may have." },
    { "limits_config.max_label_name_length", CFG_INT, 0, "1024", 1, 1 << 30,
      F(max_label_name_length), NULL, "Longest label name accepted." },
    { "limits_config.max_label_value_length", CFG_INT, 0, "2048", 1, 1 << 30,
      F(max_label_value_length), NULL, "Longest label value accepted." },
    { "limits_config.ingestion_rate_mb", CFG_FLOAT, 0, "4", 0, INT64_C(1) << 40,
      F(ingestion_rate_mb), NULL, "Per-tenant ingestion rate limit in MB/s." },
    { "limits_config.ingestion_burst_size_mb", CFG_FLOAT, 0, "6", 0, INT64_C(1) << 40,
      F(ingestion_burst_size_mb), NULL, "Per-tenant ingestion burst size in MB." },
    { "limits_config.max_entries_limit_per_query", CFG_INT, 0, "5000", 0, INT32_MAX,
      F(max_entries_limit_per_query), NULL, "Largest limit a log query may ask for." },
    { "limits_config.max_concurrent_tail_requests", CFG_INT, 0, "10", 0, INT32_MAX,
      F(max_concurrent_tail_requests), NULL, "Live tails a tenant may have open at once." },
    { "limits_config.max_query_series", CFG_INT, 0, "500", 0, INT32_MAX, F(max_query_series),
      NULL, "Most series a metric query may return." },
    { "limits_config.max_streams_per_user", CFG_INT, 0, "0", 0, INT32_MAX,
      F(max_streams_per_user), NULL, "Most active streams per tenant (0: no limit)." },
    { "limits_config.max_global_streams_per_user", CFG_INT, 0, "5000", 0, INT32_MAX,
      F(max_global_streams_per_user), NULL, "Most active streams per tenant (0: no limit)." },
    { "limits_config.max_query_length", CFG_DURATION, CFG_PROM, "721h", 0, MAXDUR,
      F(max_query_length_ns), NULL, "Longest time range a query may cover (0: no limit)." },
    { "limits_config.query_timeout", CFG_DURATION, CFG_PROM, "1m", 0, MAXDUR,
      F(query_timeout_ns), NULL, "Timeout of a query." },
    { "limits_config.retention_period", CFG_DURATION, CFG_PROM, "0s", 0, MAXDUR,
      F(retention_period_ns), NULL, "Delete data older than this (0: keep forever)." },
    { "limits_config.deletion_mode", CFG_ENUM, 0, "filter-and-delete", 0, 0, F(deletion_mode),
      deletion_modes, "Log deletion: disabled, filter-only (queries hide deleted lines) or "
      "filter-and-delete (the compactor also rewrites the chunks)." },
    { "limits_config.allow_structured_metadata", CFG_BOOL, 0, "true", 0, 0,
      F(allow_structured_metadata), NULL, "Accept structured metadata on pushed entries." },
    { "limits_config.max_structured_metadata_size", CFG_BYTES, 0, "64KB", 0, MAXSIZE,
      F(max_structured_metadata_size), NULL, "Largest structured metadata of one entry." },
    { "limits_config.max_structured_metadata_entries_count", CFG_INT, 0, "128", 0, INT32_MAX,
      F(max_structured_metadata_entries_count), NULL,
      "Most structured metadata pairs on one entry." },
    { "limits_config.discover_service_name", CFG_LIST, 0,
      "service,app,application,app_name,name,app_kubernetes_io_name,container,container_name,"
      "k8s_container_name,component,workload,job,k8s_job_name", 0, 0, F(discover_service_name),
      NULL, "Labels whose first present value becomes service_name at push time, else "
      "unknown_service (Loki 3; []: off)." },
    { "limits_config.discover_log_levels", CFG_BOOL, 0, "true", 0, 0, F(discover_log_levels),
      NULL, "Add detected_level structured metadata at push time (Loki 3)." },
    { "limits_config.log_level_fields", CFG_LIST, 0,
      "level,LEVEL,Level,Severity,severity,SEVERITY,lvl,LVL,Lvl,severity_text,Severity_Text,"
      "SEVERITY_TEXT", 0, 0, F(log_level_fields), NULL,
      "Label, metadata and line field names detected_level is taken from." },
    { "limits_config.volume_enabled", CFG_BOOL, 0, "true", 0, 0, F(volume_enabled), NULL,
      "Answer /loki/api/v1/index/volume and volume_range (else 404)." },
    { "limits_config.volume_max_series", CFG_INT, 0, "1000", 0, INT32_MAX, F(volume_max_series),
      NULL, "Most series a volume query may aggregate into (0: no limit)." },
    { "limits_config.log_level_from_json_max_depth", CFG_INT, 0, "2", INT32_MIN, INT32_MAX,
      F(log_level_from_json_max_depth), NULL,
      "JSON object depth searched for a level field (<= 0: no limit)." },

    { "storage_config.filesystem.directory", CFG_STRING, 0, "", 0, 0, F(filesystem_directory),
      NULL, "Chunk directory (empty: <path_prefix>/chunks)." },
    { "storage_config.boltdb_shipper.active_index_directory", CFG_STRING, 0, "", 0, 0,
      F(active_index_directory), NULL, "Index directory (empty: <path_prefix>/index)." },
    { "storage_config.tsdb_shipper.active_index_directory", CFG_STRING, CFG_ALIAS | CFG_WEAK, "",
      0, 0, F(active_index_directory), NULL,
      "Index directory, when the boltdb_shipper one is not set." },
    { "storage_config.boltdb_shipper.cache_location", CFG_STRING, 0, "", 0, 0,
      F(index_cache_location), NULL,
      "Where index files downloaded from the object store are kept (object storage only)." },
    { "storage_config.boltdb_shipper.cache_ttl", CFG_DURATION, 0, "24h", 0, MAXDUR,
      F(index_cache_ttl_ns), NULL, "How long a downloaded index file is kept unused." },
    { "storage_config.boltdb_shipper.resync_interval", CFG_DURATION, 0, "5m", 0, MAXDUR,
      F(index_resync_interval_ns), NULL, "How often the object store's index list is read." },
    { "storage_config.tsdb_shipper.cache_location", CFG_STRING, CFG_ALIAS | CFG_WEAK, "", 0, 0,
      F(index_cache_location), NULL, "The boltdb_shipper key's other spelling." },
    { "storage_config.tsdb_shipper.cache_ttl", CFG_DURATION, CFG_ALIAS | CFG_WEAK, "24h", 0,
      MAXDUR, F(index_cache_ttl_ns), NULL, "The boltdb_shipper key's other spelling." },
    { "storage_config.tsdb_shipper.resync_interval", CFG_DURATION, CFG_ALIAS | CFG_WEAK, "5m", 0,
      MAXDUR, F(index_resync_interval_ns), NULL, "The boltdb_shipper key's other spelling." },
    AWS_OPTS("storage_config.aws", 0)
    { "storage_config.aws.http_config.idle_conn_timeout", CFG_DURATION, 0, "1m30s", 0, MAXDUR,
      F(aws_idle_conn_timeout_ns), NULL, "A kept-alive connection idle this long is closed." },
    { "storage_config.aws.http_config.response_header_timeout", CFG_DURATION, 0, "0s", 0, MAXDUR,
      F(aws_response_header_timeout_ns), NULL, "Longest wait for one answer (0: none)." },
    { "storage_config.aws.http_config.insecure_skip_verify", CFG_BOOL, 0, "false", 0, 0,
      F(aws_insecure_skip_verify), NULL, "Do not check the server's TLS certificate." },
    { "storage_config.aws.http_config.ca_file", CFG_STRING, 0, "", 0, 0, F(aws_ca_file), NULL,
      "CA certificates for the object store's TLS (empty: the system's)." },
    { "storage_config.aws.dynamodb.dynamodb_url", CFG_STRING, CFG_SECRET, "", 0, 0,
      F(aws_dynamodb_url), NULL,
      "DynamoDB: dynamodb://region or http(s)://KEY:SECRET@host:port." },

    { "compactor.retention_enabled", CFG_BOOL, 0, "false", 0, 0, F(retention_enabled), NULL,
      "Apply limits_config.retention_period." },
    { "compactor.compaction_interval", CFG_DURATION, 0, "10m", 1, MAXDUR,
      F(compaction_interval_ns), NULL, "How often retention and deletion run." },
    { "compactor.delete_request_cancel_period", CFG_DURATION, 0, "24h", 0, MAXDUR,
      F(delete_request_cancel_period_ns), NULL,
      "How long a delete request may be cancelled before the compactor applies it." },
    { "compactor.delete_max_interval", CFG_DURATION, 0, "24h", 0, MAXDUR,
      F(delete_max_interval_ns), NULL,
      "Longest max_interval a delete request with line filters may ask for (0: no limit)." },
    { "compactor.delete_request_store", CFG_STRING, 0, "", 0, 0, F(delete_request_store), NULL,
      "Accepted; lokic keeps delete requests in <index directory>/deletes." },
    { "compactor.deletion_mode", CFG_ENUM, CFG_ALIAS | CFG_WEAK, "filter-and-delete", 0, 0,
      F(deletion_mode), deletion_modes, "Deprecated spelling of limits_config.deletion_mode." },

    { "table_manager.retention_deletes_enabled", CFG_BOOL, 0, "false", 0, 0,
      F(table_manager_retention_deletes_enabled), NULL,
      "Delete whole index periods older than table_manager.retention_period." },
    { "table_manager.retention_period", CFG_DURATION, CFG_PROM, "0s", 0, MAXDUR,
      F(table_manager_retention_period_ns), NULL, "Retention of the table manager (0: none)." },
    { "table_manager.index_tables_provisioning.provisioned_read_throughput", CFG_INT64, 0, "300",
      1, INT64_C(1) << 40, F(index_tables_read_throughput), NULL,
      "Read capacity units of a DynamoDB index table lokic creates." },
    { "table_manager.index_tables_provisioning.provisioned_write_throughput", CFG_INT64, 0,
      "1000", 1, INT64_C(1) << 40, F(index_tables_write_throughput), NULL,
      "Write capacity units of a DynamoDB index table lokic creates." },
    { "table_manager.index_tables_provisioning.enable_ondemand_throughput_mode", CFG_BOOL, 0,
      "false", 0, 0, F(index_tables_on_demand), NULL,
      "Create DynamoDB index tables billed per request (no provisioned throughput)." },

    { "querier.query_ingesters_within", CFG_DURATION, 0, "3h", 0, MAXDUR,
      F(query_ingesters_within_ns), NULL, "Only ask the in-memory data for newer queries." },
    { "querier.multi_tenant_queries_enabled", CFG_BOOL, 0, "false", 0, 0,
      F(multi_tenant_queries_enabled), NULL,
      "Read endpoints accept X-Scope-OrgID: a|b and answer for every tenant named, each "
      "stream labelled __tenant_id__." },
    { "querier.max_memory_per_query", CFG_BYTES, 0, "256MB", 0, MAXSIZE,
      F(max_memory_per_query), NULL,
      "lokic: memory one query may hold before it fails with 400 (0: no limit)." },
    { "querier.max_memory_all_queries", CFG_BYTES, 0, "1GB", 0, MAXSIZE,
      F(max_memory_all_queries), NULL,
      "lokic: memory all running queries may hold; past it queries get 429 (0: no limit)." },
    { "querier.query_timeout", CFG_DURATION, CFG_ALIAS | CFG_WEAK | CFG_PROM, "1m", 0, MAXDUR,
      F(query_timeout_ns), NULL, "Deprecated spelling of limits_config.query_timeout." },

    { "runtime_config.file", CFG_STRING, 0, "", 0, 0, F(runtime_config_file), NULL,
      "Per-tenant overrides of limits_config (a comma-separated list of YAML files)." },
    { "runtime_config.period", CFG_DURATION, 0, "10s", 0, MAXDUR, F(runtime_config_period_ns),
      NULL, "How often the runtime config files are read again." },

    { "common.storage.filesystem.rules_directory", CFG_STRING, CFG_ALIAS | CFG_WEAK, "", 0, 0,
      F(ruler_local_directory), NULL,
      "Rule files directory, when ruler.storage.local.directory is not set." },
    { "ruler.storage.type", CFG_ENUM, CFG_UNSUP_OTHER, "local", 0, 0, F(ruler_storage_type),
      ruler_stores, "Where rule files live: local (ruler.storage.local.directory)." },
    { "ruler.storage.local.directory", CFG_STRING, 0, "", 0, 0, F(ruler_local_directory), NULL,
      "Rule files, <directory>/<tenant>/*.yaml; the ruler runs when it is set." },
    { "ruler.rule_path", CFG_STRING, 0, "/rules", 0, 0, F(ruler_rule_path), NULL,
      "Loki's temporary rule files; lokic reads the rule files in place." },
    { "ruler.evaluation_interval", CFG_DURATION, 0, "1m", 1000000, MAXDUR,
      F(ruler_evaluation_interval_ns), NULL, "Default interval of a rule group." },
    { "ruler.poll_interval", CFG_DURATION, 0, "1m", 1000000, MAXDUR, F(ruler_poll_interval_ns),
      NULL, "How often the rule files are read again." },
    { "ruler.alertmanager_url", CFG_STRING, 0, "", 0, 0, F(ruler_alertmanager_url), NULL,
      "Alertmanager URLs, comma-separated (their v2 API)." },
    { "ruler.enable_alertmanager_v2", CFG_BOOL, 0, "true", 0, 0,
      F(ruler_enable_alertmanager_v2), NULL,
      "Use Alertmanager's v2 API (lokic always does: v1 is gone from Alertmanager)." },
    { "ruler.external_url", CFG_STRING, 0, "", 0, 0, F(ruler_external_url), NULL,
      "URL of this ruler in alerts (generatorURL) and templates ($externalURL)." },
    { "ruler.external_labels", CFG_LIST, CFG_MAP, "", 0, 0, F(ruler_external_labels), NULL,
      "Labels added to alerts sent to the Alertmanager." },
    { "ruler.resend_delay", CFG_DURATION, 0, "1m", 0, MAXDUR, F(ruler_resend_delay_ns), NULL,
      "How long to wait before sending a firing alert again." },
    { "ruler.notification_timeout", CFG_DURATION, 0, "10s", 1000000, MAXDUR,
      F(ruler_notification_timeout_ns), NULL, "Timeout of a request to the Alertmanager." },
    { "ruler.notification_queue_capacity", CFG_INT, 0, "10000", 1, 1 << 24,
      F(ruler_notification_queue_capacity), NULL, "Alerts queued for the Alertmanager." },
    { "ruler.enable_api", CFG_BOOL, 0, "true", 0, 0, F(ruler_enable_api), NULL,
      "Serve the rules API (/loki/api/v1/rules, /prometheus/api/v1/rules, ...)." },
    { "ruler.wal.dir", CFG_STRING, 0, "", 0, 0, F(ruler_wal_dir), NULL,
      "Remote-write queue and alerts' for state on disk (empty: <path_prefix>/ruler-wal)." },
    { "ruler.for_outage_tolerance", CFG_DURATION, 0, "1h", 0, MAXDUR,
      F(ruler_for_outage_tolerance_ns), NULL,
      "How long the ruler may be down and still restore the for state of alerts." },
    { "ruler.for_grace_period", CFG_DURATION, 0, "10m", 0, MAXDUR, F(ruler_for_grace_period_ns),
      NULL, "Least time a restored alert waits before firing (for >= this)." },
    { "ruler.remote_write.enabled", CFG_BOOL, 0, "false", 0, 0, F(ruler_remote_write_enabled),
      NULL, "Write recording rules' samples through Prometheus remote write." },
    { "ruler.remote_write.client.url", CFG_STRING, 0, "", 0, 0, F(ruler_rw_url), NULL,
      "Remote-write endpoint (deprecated client block)." },
    { "ruler.remote_write.client.headers", CFG_LIST, CFG_MAP, "", 0, 0, F(ruler_rw_headers),
      NULL, "Headers of the remote-write requests." },
    { "ruler.remote_write.client.basic_auth.username", CFG_STRING, 0, "", 0, 0,
      F(ruler_rw_user), NULL, "Basic auth user of the remote-write requests." },
    { "ruler.remote_write.client.basic_auth.password", CFG_STRING, CFG_SECRET, "", 0, 0,
      F(ruler_rw_password), NULL, "Basic auth password of the remote-write requests." },
    { "ruler.remote_write.clients", CFG_LIST, CFG_MAP, "", 0, 0, F(ruler_rw_clients), NULL,
      "Remote-write clients by name: url, headers, basic_auth." },

    { "pattern_ingester.enabled", CFG_BOOL, 0, "false", 0, 0, F(pattern_ingester_enabled), NULL,
      "Mine log patterns at push time for /loki/api/v1/patterns (Loki 3)." },
    { "pattern_ingester.retain_for", CFG_DURATION, 0, "3h", 0, MAXDUR,
      F(pattern_retain_for_ns), NULL, "How long mined pattern counts are kept." },
};
const size_t cfg_nopts = sizeof cfg_opts / sizeof cfg_opts[0];

const char config_embedded_default[] =
    "# lokic's built-in configuration, used when no -config.file is given:\n"
    "# one tenant (\"fake\"), port 3100, everything under ./data.\n"
    "auth_enabled: false\n"
    "\n"
    "server:\n"
    "  http_listen_port: 3100\n"
    "  log_level: info\n"
    "\n"
    "common:\n"
    "  path_prefix: ./data\n"
    "\n"
    "ingester:\n"
    "  chunk_block_size: 262144\n"
    "  chunk_target_size: 1572864\n"
    "  chunk_idle_period: 30m\n"
    "  max_chunk_age: 2h\n"
    "  chunk_retain_period: 0s\n"
    "  chunk_encoding: zstd\n"
    "  wal:\n"
    "    enabled: true\n"
    "\n"
    "limits_config:\n"
    "  reject_old_samples: true\n"
    "  reject_old_samples_max_age: 1w\n"
    "  creation_grace_period: 10m\n"
    "  max_line_size: 256KB\n"
    "  ingestion_rate_mb: 4\n"
    "  ingestion_burst_size_mb: 6\n"
    "  max_entries_limit_per_query: 5000\n"
    "  max_query_series: 500\n"
    "  max_global_streams_per_user: 5000\n"
    "  query_timeout: 1m\n"
    "  retention_period: 0s\n"
    "\n"
    "schema_config:\n"
    "  configs:\n"
    "    - from: \"2020-10-24\"\n"
    "      store: tsdb\n"
    "      object_store: filesystem\n"
    "      schema: v13\n"
    "      index:\n"
    "        prefix: index_\n"
    "        period: 24h\n"
    "\n"
    "compactor:\n"
    "  compaction_interval: 10m\n"
    "  retention_enabled: false\n";

const cfg_opt *cfg_find(lk_str path)
{
    for (size_t i = 0; i < cfg_nopts; i++)
        if (lk_str_eq_c(path, cfg_opts[i].path))
            return &cfg_opts[i];
    return NULL;
}

const char *cfg_expected(const cfg_opt *o)
{
    switch (o->type) {
    case CFG_BOOL: return "expected true or false";
    case CFG_LIST: return "expected a list of strings";
    case CFG_INT:
    case CFG_INT64: return "expected an integer";
    case CFG_FLOAT: return "expected a number";
    case CFG_STRING: return "expected a string";
    case CFG_DURATION: return "expected a duration such as 1h30m or 90s";
    case CFG_BYTES: return "expected a byte size such as 256KB";
    case CFG_ENUM: return "expected one of the listed values";
    }
    return "unexpected value";
}

static void *field(lk_config *c, const cfg_opt *o)
{
    return (char *)c + o->off;
}

static const void *cfield(const lk_config *c, const cfg_opt *o)
{
    return (const char *)c + o->off;
}

/* ---- parsing scalars */

static int parse_bool(lk_str s, bool *out)
{
    static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
                                       "on", "On", "ON", "y", "Y", NULL };
    static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
                                      "off", "Off", "OFF", "n", "N", NULL };
    for (int i = 0; yes[i]; i++)
        if (lk_str_eq_c(s, yes[i])) {
            *out = true;
            return LK_OK;
        }
    for (int i = 0; no[i]; i++)
        if (lk_str_eq_c(s, no[i])) {
            *out = false;
            return LK_OK;
        }
    return LK_EINVAL;
}

/* A decimal integer with an optional sign; LK_ERANGE past int64. */
static int parse_i64(lk_str s, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < s.len && (s.p[i] == '+' || s.p[i] == '-'))
        neg = s.p[i++] == '-';
    if (i == s.len)
        return LK_EINVAL;
    uint64_t v = 0;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return LK_EINVAL;
        unsigned d = (unsigned)(s.p[i] - '0');
        if (v > (lim - d) / 10)
            return LK_ERANGE;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return LK_OK;
}

static int parse_double(lk_str s, double *out)
{
    char tmp[64];
    if (s.len == 0 || s.len >= sizeof tmp)
        return LK_EINVAL;
    memcpy(tmp, s.p, s.len);
    tmp[s.len] = '\0';
    for (size_t i = 0; i < s.len; i++) /* no hex floats, inf, nan or spaces */
        if (!strchr("0123456789+-.eE", tmp[i]))
            return LK_EINVAL;
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + s.len || errno == ERANGE || !isfinite(v))
        return LK_EINVAL;
    *out = v;
    return LK_OK;
}

/* Loki's flagext.ByteSize (c2h5oh/datasize on the upper-cased text: units
 * are powers of 1024), plus fractions ("1.5MB") and the IEC spellings. */
static int parse_bytes(lk_str s, int64_t *out)
{
    static const struct {
        const char *name;
        int shift;
    } units[] = {
        { "", 0 },   { "b", 0 },    { "byte", 0 },     { "bytes", 0 },
        { "k", 10 }, { "kb", 10 },  { "kib", 10 },     { "kilo", 10 },  { "kilobyte", 10 },
        { "kilobytes", 10 }, { "m", 20 }, { "mb", 20 }, { "mib", 20 },  { "mega", 20 },
        { "megabyte", 20 }, { "megabytes", 20 }, { "g", 30 }, { "gb", 30 }, { "gib", 30 },
        { "giga", 30 }, { "gigabyte", 30 }, { "gigabytes", 30 }, { "t", 40 }, { "tb", 40 },
        { "tib", 40 }, { "tera", 40 }, { "terabyte", 40 }, { "terabytes", 40 }, { "p", 50 },
        { "pb", 50 }, { "pib", 50 }, { "peta", 50 }, { "petabyte", 50 }, { "petabytes", 50 },
        { "e", 60 }, { "eb", 60 }, { "eib", 60 }, { "exa", 60 }, { "exabyte", 60 },
        { "exabytes", 60 },
    };
    s = lk_str_trim(s);
    size_t i = 0;
    uint64_t whole = 0;
    while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9') {
        if (whole > (UINT64_MAX - 9) / 10)
            return LK_ERANGE;
        whole = whole * 10 + (uint64_t)(s.p[i++] - '0');
    }
    if (i == 0)
        return LK_EINVAL;
    double frac = 0, scale = 0.1;
    bool has_frac = false;
    if (i < s.len && s.p[i] == '.') {
        size_t start = ++i;
        for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++, scale /= 10)
            frac += (s.p[i] - '0') * scale;
        if (i == start)
            return LK_EINVAL;
        has_frac = true;
    }
    while (i < s.len && s.p[i] == ' ')
        i++;
    char unit[16];
    size_t ulen = s.len - i;
    if (ulen >= sizeof unit)
        return LK_EINVAL;
    for (size_t k = 0; k < ulen; k++) {
        char ch = s.p[i + k];
        unit[k] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    unit[ulen] = '\0';
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        if (strcmp(unit, units[u].name) != 0)
            continue;
        int sh = units[u].shift;
        if (has_frac && sh == 0)
            return LK_EINVAL; /* a fraction of a byte */
        if (whole > ((uint64_t)INT64_MAX >> sh))
            return LK_ERANGE;
        uint64_t v = whole << sh;
        uint64_t f = (uint64_t)(frac * (double)(UINT64_C(1) << sh));
        if (v > (uint64_t)INT64_MAX - f)
            return LK_ERANGE;
        *out = (int64_t)(v + f);
        return LK_OK;
    }
    return LK_EINVAL;
}

static void put_bound(lk_buf *b, const cfg_opt *o, int64_t v)
{
    if (o->type == CFG_DURATION)
        lk_format_go_duration(v, b);
    else
        lk_buf_put_i64(b, v);
}

static int range_error(const cfg_opt *o, lk_buf *why)
{
    if (why) {
        lk_buf_puts(why, "must be between ");
        put_bound(why, o, o->min);
        lk_buf_puts(why, " and ");
        put_bound(why, o, o->max);
    }
    return LK_EINVAL;
}

static bool in_enum(const cfg_opt *o, const char *v)
{
    for (int i = 0; o->enums[i]; i++)
        if (strcmp(o->enums[i], v) == 0)
            return true;
    return false;
}

static void put_enum_list(lk_buf *b, const cfg_opt *o)
{
    for (int i = 0; o->enums[i]; i++) {
        if (i)
            lk_buf_puts(b, ", ");
        lk_buf_puts(b, o->enums[i]);
    }
}

int cfg_check(const lk_config *c, const cfg_opt *o, lk_buf *why)
{
    const void *p = cfield(c, o);
    int64_t v;
    switch (o->type) {
    case CFG_BOOL:
    case CFG_LIST:
    case CFG_STRING:
        return LK_OK;
    case CFG_ENUM: {
        const char *s = *(char *const *)p;
        if (s && in_enum(o, s))
            return LK_OK;
        if (why) {
            lk_buf_puts(why, "expected one of: ");
            put_enum_list(why, o);
        }
        return (o->flags & CFG_UNSUP_OTHER) ? LK_EUNSUPPORTED : LK_EINVAL;
    }
    case CFG_FLOAT: {
        double d = *(const double *)p;
        if (isfinite(d) && d >= (double)o->min && d <= (double)o->max)
            return LK_OK;
        return range_error(o, why);
    }
    case CFG_INT:
        v = *(const int *)p;
        break;
    case CFG_INT64:
    case CFG_DURATION:
    case CFG_BYTES:
        v = *(const int64_t *)p;
        break;
    default:
        LK_BUG("config option %s has type %d", o->path, (int)o->type);
    }
    if (v < o->min || v > o->max)
        return range_error(o, why);
    return LK_OK;
}

static void set_string(lk_config *c, const cfg_opt *o, lk_str text)
{
    char **sp = field(c, o);
    free(*sp);
    *sp = lk_strndup(text.p ? text.p : "", text.len);
}

static void list_free(lk_cfg_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Comma-separated items, each trimmed; empty items are skipped. */
static void set_list(lk_cfg_list *l, lk_str text)
{
    list_free(l);
    size_t cap = 0;
    if (text.len == 0)
        return;
    for (size_t i = 0; i <= text.len;) {
        size_t j = i;
        while (j < text.len && text.p[j] != ',')
            j++;
        lk_str item = lk_str_trim((lk_str){ text.p + i, j - i });
        if (item.len) {
            l->v = lk_grow(l->v, &cap, l->n + 1, sizeof *l->v);
            l->v[l->n++] = lk_strndup(item.p, item.len);
        }
        i = j + 1;
    }
}

static void copy_list(lk_cfg_list *dst, const lk_cfg_list *src)
{
    dst->v = src->n ? lk_calloc(src->n, sizeof *dst->v) : NULL;
    for (size_t i = 0; i < src->n; i++)
        dst->v[i] = lk_strdup(src->v[i]);
    dst->n = src->n;
}

/* A CFG_MAP's pairs as a YAML flow mapping. */
static void put_map(lk_buf *out, const lk_cfg_list *l)
{
    lk_buf_putc(out, '{');
    for (size_t i = 0; i + 1 < l->n; i += 2) {
        if (i)
            lk_buf_puts(out, ", ");
        cfg_quote(out, lk_str_c(l->v[i]), SIZE_MAX);
        lk_buf_puts(out, ": ");
        cfg_quote(out, lk_str_c(l->v[i + 1]), SIZE_MAX);
    }
    lk_buf_putc(out, '}');
}

void cfg_set_items(lk_config *c, const cfg_opt *o, lk_cfg_list items)
{
    lk_cfg_list *l = field(c, o);
    list_free(l);
    *l = items;
}

static void put_list(lk_buf *out, const lk_cfg_list *l)
{
    lk_buf_putc(out, '[');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            lk_buf_puts(out, ", ");
        cfg_quote(out, lk_str_c(l->v[i]), SIZE_MAX);
    }
    lk_buf_putc(out, ']');
}

/* Parses into a scratch copy of the field, checks bounds there, then
 * stores, so a bad value leaves c untouched. */
int cfg_set(lk_config *c, const cfg_opt *o, lk_str text, lk_buf *why)
{
    lk_config tmp = *c;
    int rc = LK_OK;
    int64_t v = 0;
    switch (o->type) {
    case CFG_BOOL:
        rc = parse_bool(text, (bool *)field(&tmp, o));
        break;
    case CFG_LIST:
        set_list(field(c, o), text);
        return LK_OK;
    case CFG_INT:
        rc = parse_i64(text, &v);
        if (rc == LK_OK && (v < INT32_MIN || v > INT32_MAX))
            return range_error(o, why);
        *(int *)field(&tmp, o) = (int)v;
        break;
    case CFG_INT64:
        rc = parse_i64(text, (int64_t *)field(&tmp, o));
        break;
    case CFG_FLOAT:
        rc = parse_double(text, (double *)field(&tmp, o));
        break;
    case CFG_DURATION:
        rc = lk_parse_duration(text, (int64_t *)field(&tmp, o)) == 0 ? LK_OK : LK_EINVAL;
        break;
    case CFG_BYTES:
        rc = parse_bytes(text, (int64_t *)field(&tmp, o));
        break;
    case CFG_STRING:
        set_string(c, o, text);
        return LK_OK;
    case CFG_ENUM: {
        char *s = lk_strndup(text.p ? text.p : "", text.len);
        *(char **)field(&tmp, o) = s;
        if (strlen(s) != text.len)
            *s = '\0'; /* an embedded NUL never matches */
        rc = cfg_check(&tmp, o, why);
        if (rc != LK_OK) {
            free(s);
            return rc;
        }
        free(*(char **)field(c, o));
        *(char **)field(c, o) = s;
        return LK_OK;
    }
    }
    if (rc == LK_ERANGE)
        return range_error(o, why);
    if (rc != LK_OK) {
        if (why)
            lk_buf_puts(why, cfg_expected(o));
        return LK_EINVAL;
    }
    rc = cfg_check(&tmp, o, why);
    if (rc != LK_OK)
        return rc;
    *c = tmp;
    return LK_OK;
}

/* ---- printing values */

static void put_double(lk_buf *b, double v)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    lk_buf_puts(b, tmp);
}

void cfg_quote(lk_buf *b, lk_str s, size_t max)
{
    lk_buf_putc(b, '"');
    for (size_t i = 0; i < s.len; i++) {
        if (i == max) {
            lk_buf_puts(b, "...");
            break;
        }
        unsigned char ch = (unsigned char)s.p[i];
        switch (ch) {
        case '"': lk_buf_puts(b, "\\\""); break;
        case '\\': lk_buf_puts(b, "\\\\"); break;
        case '\n': lk_buf_puts(b, "\\n"); break;
        case '\t': lk_buf_puts(b, "\\t"); break;
        case '\r': lk_buf_puts(b, "\\r"); break;
        default:
            if (ch < 0x20 || ch == 0x7f)
                lk_buf_printf(b, "\\x%02x", ch);
            else
                lk_buf_putc(b, (char)ch);
        }
    }
    lk_buf_putc(b, '"');
}

void cfg_logfmt_value(lk_buf *b, lk_str s)
{
    bool plain = s.len > 0;
    for (size_t i = 0; i < s.len && plain; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch <= ' ' || ch == '"' || ch == '=' || ch == '\\' || ch >= 0x7f)
            plain = false;
    }
    if (plain)
        lk_buf_put_str(b, s);
    else
        cfg_quote(b, s, 200);
}

void cfg_format(const lk_config *c, const cfg_opt *o, lk_buf *out)
{
    const void *p = cfield(c, o);
    switch (o->type) {
    case CFG_BOOL:
        lk_buf_puts(out, *(const bool *)p ? "true" : "false");
        return;
    case CFG_LIST:
        if (o->flags & CFG_MAP)
            put_map(out, p);
        else
            put_list(out, p);
        return;
    case CFG_INT:
        lk_buf_put_i64(out, *(const int *)p);
        return;
    case CFG_INT64:
    case CFG_BYTES:
        lk_buf_put_i64(out, *(const int64_t *)p);
        return;
    case CFG_FLOAT:
        put_double(out, *(const double *)p);
        return;
    case CFG_DURATION: {
        int64_t ns = *(const int64_t *)p;
        if ((o->flags & CFG_PROM) && ns % LK_NS_PER_MS == 0)
            lk_format_prom_duration(ns, out);
        else
            lk_format_go_duration(ns, out);
        return;
    }
    case CFG_STRING:
    case CFG_ENUM: {
        const char *s = *(char *const *)p;
        if ((o->flags & CFG_SECRET) && s && *s)
            s = "<secret>";
        cfg_quote(out, lk_str_c(s ? s : ""), SIZE_MAX);
        return;
    }
    }
}

/* ---- whole configurations */

static bool owns_string(const cfg_opt *o)
{
    return (o->type == CFG_STRING || o->type == CFG_ENUM) && !(o->flags & CFG_ALIAS);
}

void config_defaults(lk_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < cfg_nopts; i++) {
        const cfg_opt *o = &cfg_opts[i];
        if (o->flags & CFG_ALIAS)
            continue;
        if (cfg_set(c, o, lk_str_c(o->def), NULL) != LK_OK)
            LK_BUG("bad default \"%s\" for config option %s", o->def, o->path);
    }
}

void cfg_copy(lk_config *dst, const lk_config *src)
{
    *dst = *src;
    for (size_t i = 0; i < cfg_nopts; i++) {
        const cfg_opt *o = &cfg_opts[i];
        if (o->type == CFG_LIST && !(o->flags & CFG_ALIAS))
            copy_list(field(dst, o), cfield(src, o));
        if (!owns_string(o))
            continue;
        char *const *s = cfield(src, o);
        *(char **)field(dst, o) = *s ? lk_strdup(*s) : NULL;
    }
    dst->source = src->source ? lk_strdup(src->source) : NULL;
    memset(&dst->otlp, 0, sizeof dst->otlp); /* not copied: config_load_yaml moves it */
}

void config_free(lk_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < cfg_nopts; i++) {
        const cfg_opt *o = &cfg_opts[i];
        if (o->type == CFG_LIST && !(o->flags & CFG_ALIAS))
            list_free(field(c, o));
        if (!owns_string(o))
            continue;
        char **s = field(c, o);
        free(*s);
        *s = NULL;
    }
    free(c->source);
    c->source = NULL;
    lk_otlp_config_free(&c->otlp);
}

static char *path_join(const char *dir, const char *name)
{
    lk_buf b = { 0 };
    lk_buf_puts(&b, dir);
    if (b.len == 0 || b.p[b.len - 1] != '/')
        lk_buf_putc(&b, '/');
    lk_buf_puts(&b, name);
    return lk_buf_steal(&b);
}

/* The parent directory of path: "/data/loki/chunks/" -> "/data/loki". */
static char *path_parent(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    while (n > 0 && path[n - 1] != '/')
        n--;
    if (n == 0)
        return lk_strdup(".");
    while (n > 1 && path[n - 1] == '/')
        n--;
    return lk_strndup(path, n);
}

static bool empty(const char *s)
{
    return !s || !*s;
}

static void replace(char **slot, char *v)
{
    free(*slot);
    *slot = v;
}

static void derive_paths(lk_config *c)
{
    if (empty(c->path_prefix))
        replace(&c->path_prefix, empty(c->filesystem_directory)
                                     ? lk_strdup("./data")
                                     : path_parent(c->filesystem_directory));
    if (empty(c->wal_dir))
        replace(&c->wal_dir, path_join(c->path_prefix, "wal"));
    if (empty(c->filesystem_directory))
        replace(&c->filesystem_directory, path_join(c->path_prefix, "chunks"));
    if (empty(c->active_index_directory))
        replace(&c->active_index_directory, path_join(c->path_prefix, "index"));
    if (empty(c->ruler_wal_dir))
        replace(&c->ruler_wal_dir, path_join(c->path_prefix, "ruler-wal"));
}

static int flag_override(lk_config *c, const char *flag, const char *path, const char *value,
                         lk_buf *err)
{
    const cfg_opt *o = cfg_find(lk_str_c(path));
    lk_buf why = { 0 };
    int rc = cfg_set(c, o, lk_str_c(value), &why);
    if (rc != LK_OK && err) {
        lk_buf_printf(err, "invalid value ");
        cfg_quote(err, lk_str_c(value), 100);
        lk_buf_printf(err, " for flag -%s: %s", flag, why.p ? why.p : "");
    }
    lk_buf_free(&why);
    return rc;
}

int config_finish(lk_config *c, const lk_flags *f, lk_buf *err)
{
    int rc = LK_OK;
    if (f && f->http_listen_port >= 0) {
        char port[24];
        snprintf(port, sizeof port, "%d", f->http_listen_port);
        rc = flag_override(c, "server.http-listen-port", "server.http_listen_port", port, err);
        if (rc != LK_OK)
            return rc;
    }
    if (f && f->http_listen_address) {
        rc = flag_override(c, "server.http-listen-address", "server.http_listen_address",
                           f->http_listen_address, err);
        if (rc != LK_OK)
            return rc;
    }
    if (f && f->log_level) {
        rc = flag_override(c, "log.level", "server.log_level", f->log_level, err);
        if (rc != LK_OK)
            return rc;
    }
    derive_paths(c);
    lk_buf why = { 0 };
    for (size_t i = 0; i < cfg_nopts && rc == LK_OK; i++) {
        const cfg_opt *o = &cfg_opts[i];
        if (o->flags & CFG_ALIAS)
            continue;
        lk_buf_reset(&why);
        rc = cfg_check(c, o, &why);
        if (rc != LK_OK && err) {
            lk_buf_printf(err, "invalid value ");
            cfg_format(c, o, err);
            lk_buf_printf(err, " for %s: %s", o->path, why.p ? why.p : "");
        }
    }
    lk_buf_free(&why);
    if (rc == LK_OK)
        rc = cfg_check_aws(c, err);
    return rc;
}

/* ---- YAML output */

/* Number of leading dotted segments two paths share, counting only the
 * sections (every segment but the last of each). */
static int common_sections(const char *a, const char *b)
{
    int n = 0;
    for (;;) {
        const char *da = strchr(a, '.'), *db = strchr(b, '.');
        if (!da || !db || da - a != db - b || memcmp(a, b, (size_t)(da - a)) != 0)
            return n;
        n++;
        a = da + 1;
        b = db + 1;
    }
}

static void indent(lk_buf *out, int depth)
{
    for (int i = 0; i < depth; i++)
        lk_buf_puts(out, "  ");
}

/* One option as a YAML line, nested under the sections it does not share
 * with prev (the option printed before it; "" at first). */
static void put_option(const lk_config *c, const cfg_opt *o, const char *prev, lk_buf *out)
{
    int depth = common_sections(prev, o->path);
    const char *seg = o->path;
    for (int k = 0; k < depth; k++)
        seg = strchr(seg, '.') + 1;
    for (const char *dot; (dot = strchr(seg, '.')); seg = dot + 1, depth++) {
        indent(out, depth);
        lk_buf_append(out, seg, (size_t)(dot - seg));
        lk_buf_puts(out, ":\n");
    }
    indent(out, depth);
    lk_buf_puts(out, seg);
    lk_buf_puts(out, ": ");
    cfg_format(c, o, out);
    lk_buf_putc(out, '\n');
}

void config_to_yaml(const lk_config *c, lk_buf *out)
{
    const char *prev = "";
    for (size_t i = 0; i < cfg_nopts; i++) {
        const cfg_opt *o = &cfg_opts[i];
        if (o->flags & CFG_ALIAS)
            continue;
        put_option(c, o, prev, out);
        prev = o->path;
    }
}

/* Dotted paths in the order Go's YAML encoder writes map keys: segment by
 * segment, each compared bytewise. */
static int path_cmp(const void *a, const void *b)
{
    const char *x = (*(const cfg_opt *const *)a)->path, *y = (*(const cfg_opt *const *)b)->path;
    for (;;) {
        size_t nx = strcspn(x, "."), ny = strcspn(y, ".");
        int d = memcmp(x, y, nx < ny ? nx : ny);
        if (d || nx != ny)
            return d ? d : (nx < ny ? -1 : 1);
        if (!x[nx] || !y[ny])
            return (x[nx] ? 1 : 0) - (y[ny] ? 1 : 0);
        x += nx + 1;
        y += ny + 1;
    }
}

void config_to_yaml_diff(const lk_config *c, const lk_config *base, lk_buf *out)
{
    const cfg_opt **diff = lk_calloc(cfg_nopts, sizeof(*diff));
    size_t n = 0;
    lk_buf v = { 0 }, b = { 0 };
    for (size_t i = 0; i < cfg_nopts; i++) {
        const cfg_opt *o = &cfg_opts[i];
        if (o->flags & CFG_ALIAS)
            continue;
        lk_buf_reset(&v);
        lk_buf_reset(&b);
        cfg_format(c, o, &v);
        cfg_format(base, o, &b);
        if (!lk_str_eq(lk_buf_str(&v), lk_buf_str(&b)))
            diff[n++] = o;
    }
    qsort(diff, n, sizeof(*diff), path_cmp);
    const char *prev = "";
    for (size_t i = 0; i < n; i++) {
        put_option(c, diff[i], prev, out);
        prev = diff[i]->path;
    }
    if (!n)
        lk_buf_puts(out, "{}\n");
    lk_buf_free(&v);
    lk_buf_free(&b);
    free(diff);
}

void config_limits_to_yaml(const lk_config *c, const lk_config *base, int depth, lk_buf *out)
{
    static const char prefix[] = "limits_config.";
    lk_buf v = { 0 }, b = { 0 };
    for (size_t i = 0; i < cfg_nopts; i++) {
        const cfg_opt *o = &cfg_opts[i];
        if ((o->flags & CFG_ALIAS) || strncmp(o->path, prefix, sizeof prefix - 1) != 0)
            continue;
        lk_buf_reset(&v);
        cfg_format(c, o, &v);
        if (base) {
            lk_buf_reset(&b);
            cfg_format(base, o, &b);
            if (lk_str_eq(lk_buf_str(&v), lk_buf_str(&b)))
                continue;
        }
        indent(out, depth);
        lk_buf_puts(out, o->path + sizeof prefix - 1);
        lk_buf_puts(out, ": ");
        lk_buf_put_str(out, lk_buf_str(&v));
        lk_buf_putc(out, '\n');
    }
    lk_buf_free(&v);
    lk_buf_free(&b);
}
