/* lokic: flags and config, then create, start, wait for a signal, stop,
 * destroy. Everything else lives in the libraries.
 *
 * Start: open the storage (chunk directory, LMDB index, rebuilt from the
 * chunk files when missing or damaged, or with -index.rebuild), start the
 * HTTP server (/ready answers 503), replay the WAL, then /ready answers 200.
 * SIGTERM/SIGINT: stop the HTTP server (new connections refused; requests
 * in flight answered within server.graceful_shutdown_timeout), flush every
 * chunk in memory, delete the WAL, close the index, exit 0 (1 when
 * something could not be flushed: the WAL keeps it). */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/push_replay.h"
#include "api/server.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/overrides.h"
#include "lokic_version.h"
#include "query/delfilter.h"
#include "query/ruler/ruler.h"
#include "storage/ingester.h"
#include "storage/readerr.h"

/* Snappy-compress WAL record bodies (less disk, some CPU). */
#ifndef LOKIC_WAL_COMPRESS
#define LOKIC_WAL_COMPRESS true
#endif

static double memory_streams(void *ctx)
{
    ing_counters c;
    ing_get_counters(ctx, &c);
    return (double)c.streams;
}

static double memory_chunks(void *ctx)
{
    ing_counters c;
    ing_get_counters(ctx, &c);
    return (double)c.chunks;
}

/* Storage counters exposed on /metrics: one function reads any field. */
typedef struct counter_metric {
    const char *name, *help;
    size_t off; /* into ing_counters */
    bool counter;
    double scale; /* 0: 1 */
} counter_metric;

static const counter_metric storage_metrics[] = {
    { "lokic_ingester_memory_compressed_bytes", "Bytes of compressed blocks held in memory.",
      offsetof(ing_counters, compressed_bytes), false },
    { "lokic_ingester_memory_head_bytes", "Bytes of uncompressed head blocks held in memory.",
      offsetof(ing_counters, head_bytes), false },
    { "loki_ingester_chunks_flushed_total", "Total flushed chunks.",
      offsetof(ing_counters, chunks_flushed), true },
    { "lokic_ingester_flush_failures_total", "Chunk flushes that failed (retried later).",
      offsetof(ing_counters, flush_failures), true },
    { "lokic_ingester_flushed_bytes_total", "Bytes of chunk files written.",
      offsetof(ing_counters, flushed_bytes), true },
    { "loki_ingester_wal_records_logged_total", "Total number of WAL records logged.",
      offsetof(ing_counters, wal_records), true },
    { "loki_ingester_wal_logged_bytes_total", "Total number of bytes written to disk for WAL "
      "records.", offsetof(ing_counters, wal_bytes), true },
    { "lokic_ingester_wal_syncs_total", "fdatasync calls on WAL segments (one per group commit).",
      offsetof(ing_counters, wal_syncs), true },
    { "lokic_ingester_wal_sync_seconds_total", "Time spent in fdatasync on WAL segments.",
      offsetof(ing_counters, wal_sync_ns), true, 1e-9 },
    { "lokic_ingester_wal_failures_total", "WAL writes or syncs that failed.",
      offsetof(ing_counters, wal_failures), true },
    { "lokic_ingester_wal_segments", "WAL segment files on disk.",
      offsetof(ing_counters, wal_segments), false },
    { "lokic_ingester_wal_replayed_records", "WAL records replayed at startup.",
      offsetof(ing_counters, wal_replayed_records), false },
    { "lokic_ingester_wal_dropped_bytes", "Bytes of torn or corrupt WAL tails dropped at startup.",
      offsetof(ing_counters, wal_dropped_bytes), false },
    { "lokic_retention_periods_deleted_total", "Chunk directory periods deleted by retention.",
      offsetof(ing_counters, retention_periods_deleted), true },
    { "lokic_query_blocks_skipped_total", "Blocks a query skipped without decompressing them "
      "because their token filter rules out a line filter.",
      offsetof(ing_counters, blocks_filtered), true },
    { "lokic_query_chunks_read_total", "Chunk files opened by queries.",
      offsetof(ing_counters, chunks_read), true },
    { "lokic_query_blocks_decoded_total", "Blocks queries decompressed.",
      offsetof(ing_counters, blocks_decoded), true },
    { "lokic_query_blocks_partial_total", "Blocks queries decompressed without their lines "
      "(timestamps, line lengths or metadata only).",
      offsetof(ing_counters, blocks_partial), true },
};

typedef struct metric_ctx {
    ing *g;
    const counter_metric *m;
} metric_ctx;

static metric_ctx metric_ctxs[sizeof storage_metrics / sizeof storage_metrics[0]];

static double storage_metric(void *ctx)
{
    const metric_ctx *c = ctx;
    ing_counters v;
    ing_get_counters(c->g, &v);
    double x = (double)*(const int64_t *)(const void *)((const char *)&v + c->m->off);
    return c->m->scale ? x * c->m->scale : x;
}

static void register_storage_metrics(ing *g)
{
    for (size_t i = 0; i < sizeof storage_metrics / sizeof storage_metrics[0]; i++) {
        const counter_metric *m = &storage_metrics[i];
        metric_ctxs[i] = (metric_ctx){ g, m };
        if (m->counter)
            lk_metric_counter_func(m->name, m->help, storage_metric, &metric_ctxs[i]);
        else
            lk_metric_gauge_func(m->name, m->help, storage_metric, &metric_ctxs[i]);
    }
}

/* Log deletion (limits_config.deletion_mode): queries hide the lines of
 * delete requests unless it is disabled. */
static bool deletion_on(const lk_config *cfg)
{
    return cfg->deletion_mode && strcmp(cfg->deletion_mode, "disabled") != 0;
}

/* The retention that applies: the compactor's, else the table manager's. */
static int64_t retention_of(const lk_config *cfg)
{
    if (cfg->retention_enabled && cfg->retention_period_ns > 0)
        return cfg->retention_period_ns;
    if (cfg->table_manager_retention_deletes_enabled && cfg->table_manager_retention_period_ns > 0)
        return cfg->table_manager_retention_period_ns;
    return 0;
}

/* Each tenant's retention for the retention thread (ing_opts.retention_of):
 * its limits under the runtime config's overrides, known once the server
 * that reads them exists (before ing_recover starts the thread). */
typedef struct tenant_limits {
    const lk_config *cfg;
    const lk_overrides *overrides;
} tenant_limits;

static int64_t tenant_retention(void *ctx, lk_str tenant)
{
    const tenant_limits *t = ctx;
    return retention_of(t->overrides ? lk_limits_for(t->overrides, tenant) : t->cfg);
}

static int load_config(int argc, char **argv, lk_config *cfg, lk_flags *fl)
{
    lk_buf err = { 0 };
    int rc = config_parse_flags(argc, argv, fl, &err);
    if (rc == LK_OK && !fl->help && !fl->version) {
        config_defaults(cfg);
        if (fl->config_file)
            rc = config_load_file(cfg, fl->config_file, fl->expand_env, &err);
        else
            rc = config_load_yaml(cfg, "<embedded default>", lk_str_c(config_embedded_default),
                                  false, &err);
        if (rc == LK_OK)
            rc = config_finish(cfg, fl, &err);
    }
    if (rc != LK_OK)
        fprintf(stderr, "lokic: %s\n", err.p ? err.p : lk_strerror(rc));
    lk_buf_free(&err);
    return rc;
}

static int run(const lk_config *cfg, const lk_flags *fl)
{
    int rc;
    ing *g = NULL;
    api_server *srv = NULL;
    rul_ruler *ruler = NULL;
    lk_buf err = { 0 };
    tenant_limits limits = { .cfg = cfg };
    ing_opts io = {
        .chunk_block_size = cfg->chunk_block_size,
        .chunk_target_size = cfg->chunk_target_size,
        .max_chunk_age_ns = cfg->max_chunk_age_ns,
        .max_streams_per_user = lk_max_streams(cfg),
        .chunk_encoding = cfg->chunk_encoding,
        .wal_dir = cfg->wal_enabled ? cfg->wal_dir : NULL,
        .chunk_dir = cfg->filesystem_directory,
        .index_dir = cfg->active_index_directory,
        .rebuild_index = fl->index_rebuild,
        .chunk_idle_period_ns = cfg->chunk_idle_period_ns,
        .chunk_retain_period_ns = cfg->chunk_retain_period_ns,
        .retention_period_ns = retention_of(cfg),
        /* per tenant: the compactor's retention_period is a limit */
        .retention_of = cfg->retention_enabled ? tenant_retention : NULL,
        .retention_ctx = &limits,
        .retention_interval_ns = cfg->compaction_interval_ns,
        .wal_compress = LOKIC_WAL_COMPRESS,
        .push_decoder = &push_wal_decoder,
        .delete_filter = deletion_on(cfg) ? &logql_delete_filter : NULL,
        .delete_compact = cfg->retention_enabled && deletion_on(cfg) &&
                          strcmp(cfg->deletion_mode, "filter-and-delete") == 0,
        .delete_cancel_period_ns = cfg->delete_request_cancel_period_ns,
    };
    if ((rc = ing_open(&io, &g, &err)) != LK_OK) {
        log_error("opening the storage failed", "err=\"%s\"", err.p ? err.p : lk_strerror(rc));
        goto out;
    }
    lk_metrics_register_process();
    sto_read_errors_register_metric();
    lk_metric_gauge_func("loki_ingester_memory_streams",
                         "The total number of streams in memory.", memory_streams, g);
    lk_metric_gauge_func("loki_ingester_memory_chunks", "The total number of chunks in memory.",
                         memory_chunks, g);
    register_storage_metrics(g);
    if ((rc = api_server_create(cfg, g, &srv, &err)) != LK_OK) {
        log_error("creating the HTTP server failed", "err=\"%s\"", err.p ? err.p : "");
        goto out;
    }
    if ((rc = rul_create(cfg, g, api_server_query_budget(srv), &ruler, &err)) != LK_OK) {
        log_error("creating the ruler failed", "err=\"%s\"", err.p ? err.p : lk_strerror(rc));
        goto out;
    }
    limits.overrides = api_server_overrides(srv);
    rul_set_overrides(ruler, api_server_overrides(srv));
    api_server_set_ruler(srv, ruler);
    if ((rc = api_server_start(srv, &err)) != LK_OK) {
        log_error("starting the HTTP server failed", "err=\"%s\"", err.p ? err.p : "");
        goto out;
    }
    /* /ready answers 503 until the WAL is replayed */
    if ((rc = ing_recover(g, &err)) != LK_OK) {
        log_error("starting the ingester failed", "err=\"%s\"", err.p ? err.p : lk_strerror(rc));
        goto out;
    }
    if (ruler && (rc = rul_start(ruler, &err)) != LK_OK) {
        log_error("starting the ruler failed", "err=\"%s\"", err.p ? err.p : lk_strerror(rc));
        goto out;
    }
    api_server_set_ready(srv, true);
    log_info("lokic started", "version=%s address=%s port=%u", LOKIC_VERSION,
             *cfg->http_listen_address ? cfg->http_listen_address : "0.0.0.0",
             api_server_port(srv));

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    log_info("stopping", "signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    api_server_stop(srv); /* no new pushes; those in flight are answered */
    rul_stop(ruler);      /* no evaluation reads the ingester from here on */
    lk_buf_reset(&err);
    if ((rc = ing_shutdown(g, &err)) != LK_OK)
        log_error("flushing at shutdown failed", "err=\"%s\"", err.p ? err.p : lk_strerror(rc));
out:
    api_server_destroy(srv);
    rul_destroy(ruler);
    ing_destroy(g);
    lk_metrics_reset();
    lk_buf_free(&err);
    if (rc == LK_OK)
        log_info("stopped", "");
    return rc;
}

int main(int argc, char **argv)
{
    /* Block the stop signals in every thread; main waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* a file-size limit makes writes fail with EFBIG, reported like a full
     * disk, instead of killing the process */
    signal(SIGXFSZ, SIG_IGN);

    lk_config cfg = { 0 };
    lk_flags fl = { 0 };
    if (load_config(argc, argv, &cfg, &fl) != LK_OK) {
        config_free(&cfg);
        return 1;
    }
    if (fl.help || fl.version) {
        lk_buf out = { 0 };
        if (fl.help)
            config_print_usage(&out);
        else
            lk_buf_printf(&out, "lokic, version %s (revision: %s, branch: %s)\n", LOKIC_VERSION,
                          LOKIC_REVISION, LOKIC_BRANCH);
        fputs(out.p ? out.p : "", stdout);
        lk_buf_free(&out);
        config_free(&cfg);
        return 0;
    }
    int lvl = lk_log_parse_level(cfg.log_level);
    lk_log_min_level = lvl < 0 ? LK_LOG_INFO : (lk_log_level)lvl;
    if (fl.print_config_stderr) {
        lk_buf y = { 0 };
        config_to_yaml(&cfg, &y);
        fputs(y.p ? y.p : "", stderr);
        lk_buf_free(&y);
    }
    int rc = run(&cfg, &fl);
    config_free(&cfg);
    return rc == LK_OK ? 0 : 1;
}
