/* Configuration: one table of options (YAML key, flag, type, default,
 * bounds, offset into lk_config, help) read by the YAML loader, the flag
 * parser, validation and the /config endpoint. Key names and defaults are
 * Loki's. */
#ifndef LOKIC_LIB_CONFIG_H
#define LOKIC_LIB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/otlp_config.h"
#include "lib/str.h"

/* A list of strings (CFG_LIST options), owned by the config. */
typedef struct lk_cfg_list {
    char **v;
    size_t n;
} lk_cfg_list;

typedef struct lk_config {
    /* top level */
    bool auth_enabled;               /* auth_enabled (true) */
    char *target;                    /* target ("all"; only "all" is accepted) */

    /* server */
    char *http_listen_address;       /* server.http_listen_address ("" = all) */
    int http_listen_port;            /* server.http_listen_port (3100) */
    char *log_level;                 /* server.log_level ("info") */
    int64_t http_server_read_timeout_ns;   /* server.http_server_read_timeout (30s) */
    int64_t http_server_write_timeout_ns;  /* server.http_server_write_timeout (30s) */
    int64_t http_server_read_header_timeout_ns; /* server.http_server_read_header_timeout (0) */
    int64_t http_server_idle_timeout_ns;   /* server.http_server_idle_timeout (2m) */
    int64_t graceful_shutdown_timeout_ns;  /* server.graceful_shutdown_timeout (30s) */
    int http_listen_conn_limit;      /* server.http_listen_conn_limit (0: lokic's 4096) */
    int http_listen_conn_limit_per_ip; /* server.http_listen_conn_limit_per_ip (1024; lokic) */

    /* common */
    char *path_prefix;               /* common.path_prefix ("" -> data dir default) */

    /* distributor */
    int64_t max_recv_msg_size;       /* distributor.max_recv_msg_size (100 MiB) */
    int64_t max_inflight_bytes;      /* distributor.max_inflight_bytes (512 MiB; 0: none) */

    /* ingester */
    int64_t chunk_block_size;        /* ingester.chunk_block_size (262144) */
    int64_t chunk_target_size;       /* ingester.chunk_target_size (1572864) */
    int64_t chunk_idle_period_ns;    /* ingester.chunk_idle_period (30m) */
    int64_t max_chunk_age_ns;        /* ingester.max_chunk_age (2h) */
    int64_t chunk_retain_period_ns;  /* ingester.chunk_retain_period (0s) */
    char *chunk_encoding;            /* ingester.chunk_encoding ("zstd"; Loki: "snappy") */
    bool wal_enabled;                /* ingester.wal.enabled (true) */
    char *wal_dir;                   /* ingester.wal.dir ("" -> <path_prefix>/wal) */

    /* limits_config */
    bool reject_old_samples;             /* true */
    int64_t reject_old_samples_max_age_ns; /* 1w */
    int64_t creation_grace_period_ns;    /* 10m */
    int64_t max_line_size;               /* 256KB (0 = no limit) */
    bool max_line_size_truncate;         /* false */
    int max_label_names_per_series;      /* 15 */
    int max_label_name_length;           /* 1024 */
    int max_label_value_length;          /* 2048 */
    double ingestion_rate_mb;            /* 4 */
    double ingestion_burst_size_mb;      /* 6 */
    int max_entries_limit_per_query;     /* 5000 */
    int max_concurrent_tail_requests;    /* 10 */
    int max_query_series;                /* 500 */
    int max_streams_per_user;            /* 0 = unlimited */
    int max_global_streams_per_user;     /* 5000 (single binary: same as local) */
    int64_t max_query_length_ns;         /* 30d1h (721h) */
    int64_t query_timeout_ns;            /* 1m */
    int64_t retention_period_ns;         /* 0 = keep forever */
    bool allow_structured_metadata;      /* true */
    int64_t max_structured_metadata_size; /* 64KB */
    int max_structured_metadata_entries_count; /* 128 */
    /* Loki 3 push-time discovery (api/push_discover.c); [] / false give
     * Loki 2.9's answers */
    lk_cfg_list discover_service_name;   /* Loki 3.6's list: service, app, ... */
    bool discover_log_levels;            /* true */
    lk_cfg_list log_level_fields;        /* level, LEVEL, Level, Severity, ... */
    int log_level_from_json_max_depth;   /* 2 (<= 0: no limit) */
    lk_otlp_config otlp;                 /* otlp_config (Loki's default: zeroed) */
    bool volume_enabled;                 /* true: index/volume, index/volume_range */
    int volume_max_series;               /* 1000 */

    /* runtime_config (lib/overrides.h): per-tenant limits, reloaded */
    char *runtime_config_file;       /* runtime_config.file ("": none; a comma-separated list) */
    int64_t runtime_config_period_ns; /* runtime_config.period (10s) */

    /* storage */
    char *filesystem_directory;      /* storage_config.filesystem.directory */
    char *active_index_directory;    /* storage_config.boltdb_shipper.active_index_directory */
    char *index_cache_location;      /* storage_config.boltdb_shipper.cache_location */
    int64_t index_cache_ttl_ns;      /* storage_config.boltdb_shipper.cache_ttl (24h) */
    int64_t index_resync_interval_ns; /* storage_config.boltdb_shipper.resync_interval (5m) */
    /* storage_config.aws (and common.storage.s3); secrets print as <secret> */
    char *aws_s3_url;                /* s3: s3://[KEY:SECRET@]region/bucket, http(s)://... */
    char *aws_endpoint;              /* endpoint */
    char *aws_region;                /* region */
    char *aws_bucketnames;           /* bucketnames (comma-separated) */
    char *aws_access_key_id;         /* access_key_id */
    char *aws_secret_access_key;     /* secret_access_key */
    char *aws_session_token;         /* session_token */
    bool aws_s3forcepathstyle;       /* s3forcepathstyle (false) */
    bool aws_insecure;               /* insecure: http, not https (false) */
    int64_t aws_idle_conn_timeout_ns;      /* http_config.idle_conn_timeout (1m30s) */
    int64_t aws_response_header_timeout_ns; /* http_config.response_header_timeout (0) */
    bool aws_insecure_skip_verify;   /* http_config.insecure_skip_verify (false) */
    char *aws_ca_file;               /* http_config.ca_file */
    char *aws_dynamodb_url;          /* dynamodb.dynamodb_url: dynamodb://region, http(s)://... */
    /* schema_config.configs[]: some period keeps chunks in S3 (object_store
     * s3 or aws) / its index in DynamoDB (store aws) */
    bool schema_s3;
    bool schema_dynamodb;

    /* compactor / retention */
    bool retention_enabled;          /* compactor.retention_enabled (false) */
    int64_t compaction_interval_ns;  /* compactor.compaction_interval (10m) */
    int64_t delete_request_cancel_period_ns; /* compactor.delete_request_cancel_period (24h) */
    int64_t delete_max_interval_ns;  /* compactor.delete_max_interval (24h; 0: none) */
    char *delete_request_store;      /* compactor.delete_request_store (accepted, unused) */
    char *deletion_mode;             /* limits_config.deletion_mode ("filter-and-delete") */
    bool table_manager_retention_deletes_enabled; /* table_manager.retention_deletes_enabled */
    int64_t table_manager_retention_period_ns;    /* table_manager.retention_period */
    /* table_manager.index_tables_provisioning: a DynamoDB index table's
     * throughput when lokic creates it */
    int64_t index_tables_read_throughput;  /* provisioned_read_throughput (300) */
    int64_t index_tables_write_throughput; /* provisioned_write_throughput (1000) */
    bool index_tables_on_demand;           /* enable_ondemand_throughput_mode (false) */

    /* querier */
    int64_t query_ingesters_within_ns; /* querier.query_ingesters_within (3h) */
    bool multi_tenant_queries_enabled; /* querier.multi_tenant_queries_enabled (false) */

    /* pattern ingester (query/pattern/store.h) */
    bool pattern_ingester_enabled;     /* pattern_ingester.enabled (false) */
    int64_t pattern_retain_for_ns;     /* pattern_ingester.retain_for (3h) */
    int64_t max_memory_per_query;      /* lokic's querier.max_memory_per_query (256MB; 0 = none) */
    int64_t max_memory_all_queries;    /* lokic's querier.max_memory_all_queries (1GB; 0 = none) */

    /* ruler (query/ruler/): on when ruler.storage.local.directory (or
     * common.storage.filesystem.rules_directory) is set. Map options
     * (CFG_MAP) are lists of name, value pairs. */
    char *ruler_storage_type;          /* ruler.storage.type ("local") */
    char *ruler_local_directory;       /* ruler.storage.local.directory ("") */
    char *ruler_rule_path;             /* ruler.rule_path ("/rules"; lokic reads rules in place) */
    int64_t ruler_evaluation_interval_ns; /* ruler.evaluation_interval (1m) */
    int64_t ruler_poll_interval_ns;    /* ruler.poll_interval (1m) */
    char *ruler_alertmanager_url;      /* ruler.alertmanager_url (comma-separated) */
    bool ruler_enable_alertmanager_v2; /* ruler.enable_alertmanager_v2 (lokic always speaks v2) */
    char *ruler_external_url;          /* ruler.external_url */
    lk_cfg_list ruler_external_labels; /* ruler.external_labels: name, value pairs */
    int64_t ruler_resend_delay_ns;     /* ruler.resend_delay (1m) */
    int64_t ruler_notification_timeout_ns; /* ruler.notification_timeout (10s) */
    int ruler_notification_queue_capacity; /* ruler.notification_queue_capacity (10000) */
    bool ruler_enable_api;             /* ruler.enable_api (true) */
    char *ruler_wal_dir;               /* ruler.wal.dir (<path_prefix>/ruler-wal) */
    int64_t ruler_for_outage_tolerance_ns; /* ruler.for_outage_tolerance (1h) */
    int64_t ruler_for_grace_period_ns; /* ruler.for_grace_period (10m) */
    bool ruler_remote_write_enabled;   /* ruler.remote_write.enabled (false) */
    char *ruler_rw_url;                /* ruler.remote_write.client.url */
    lk_cfg_list ruler_rw_headers;      /* ruler.remote_write.client.headers: pairs */
    char *ruler_rw_user;               /* ruler.remote_write.client.basic_auth.username */
    char *ruler_rw_password;           /* ruler.remote_write.client.basic_auth.password */
    /* ruler.remote_write.clients: <client>.url, <client>.headers.<name>,
     * <client>.basic_auth.username, ... pairs (query/ruler/remote.h reads them) */
    lk_cfg_list ruler_rw_clients;

    /* where the config came from (for messages); NULL when embedded */
    char *source;
} lk_config;

/* Fills every field with its default. */
void config_defaults(lk_config *c);
/* Loads YAML text (name is used in messages as file:line:column). Unknown or
 * inapplicable keys log one warning each (key and line). A malformed file or
 * bad value: LK_EPARSE / LK_EINVAL with "file:line:column: what was expected"
 * in *err. Unsupported stores (aws, s3, gcs, dynamodb, cassandra, ...) are
 * LK_EUNSUPPORTED with a message naming the key and value.
 * With expand_env, ${VAR} and ${VAR:default} are replaced first. */
int config_load_yaml(lk_config *c, const char *name, lk_str text, bool expand_env, lk_buf *err);
int config_load_file(lk_config *c, const char *path, bool expand_env, lk_buf *err);
/* The embedded default config used when no -config.file is given. */
extern const char config_embedded_default[];
/* Command-line parsing: -config.file=F / -config.file F, -config.expand-env,
 * -server.http-listen-port, -server.http-listen-address, -log.level,
 * -index.rebuild, -print-config-stderr, -version, -help (and -h, --flag
 * forms). Flags override the file. Returns LK_OK, or LK_EINVAL with a
 * message. */
typedef struct lk_flags {
    const char *config_file;
    bool expand_env;
    bool print_config_stderr;
    bool version;
    bool help;
    bool index_rebuild;     /* rebuild the index from the chunk files at start */
    /* overrides; <0 / NULL when not given */
    int http_listen_port;
    const char *http_listen_address;
    const char *log_level;
} lk_flags;
int config_parse_flags(int argc, char **argv, lk_flags *f, lk_buf *err);
void config_print_usage(lk_buf *out);
/* Applies flag overrides and derives dependent settings (wal_dir,
 * filesystem_directory, active_index_directory from path_prefix); validates
 * bounds. */
int config_finish(lk_config *c, const lk_flags *f, lk_buf *err);
/* Effective configuration as Loki-style YAML (for /config and
 * -print-config-stderr). */
void config_to_yaml(const lk_config *c, lk_buf *out);
/* /config?mode=diff as Loki answers it: the options whose value differs
 * from base's (the defaults), nested, keys sorted at each level as Go's
 * YAML encoder sorts a map's; "{}" when none differs. */
void config_to_yaml_diff(const lk_config *c, const lk_config *base, lk_buf *out);

/* Where S3 or DynamoDB is, resolved from storage_config.aws (lib/config_aws.c):
 * the URL forms, the separate keys (which win over a URL's parts) and, when
 * no keys are configured, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN and AWS_REGION. Strings owned; free with
 * config_aws_target_free. */
typedef struct lk_aws_target {
    char *endpoint;      /* "http://127.0.0.1:7480", a bare host, or "" for AWS's own */
    char *region;        /* never empty: us-east-1 when nothing says otherwise */
    char *bucket;        /* the first of bucketnames, or the URL's; "" for DynamoDB */
    char *access_key;
    char *secret_key;
    char *session_token;
    bool force_path_style;
    bool insecure;       /* http for a bare host */
} lk_aws_target;
/* LK_EINVAL with a reason for a malformed URL or, for S3, no bucket. */
int config_aws_s3(const lk_config *c, lk_aws_target *out, lk_buf *err);
int config_aws_dynamodb(const lk_config *c, lk_aws_target *out, lk_buf *err);
void config_aws_target_free(lk_aws_target *t);
/* The limits_config keys of c as YAML lines at depth (two spaces each);
 * with base, only those whose value differs from base's. */
void config_limits_to_yaml(const lk_config *c, const lk_config *base, int depth, lk_buf *out);
void config_free(lk_config *c);

#endif
