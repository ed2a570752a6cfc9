/* lokic: flags and config, then create, start, wait for a signal, stop,
 * destroy. Everything else lives in the libraries. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/server.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lokic_version.h"
#include "storage/ingester.h"

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

static int run(const lk_config *cfg)
{
    int rc;
    ing *g = NULL;
    api_server *srv = NULL;
    lk_buf err = { 0 };
    ing_opts io = {
        .chunk_block_size = cfg->chunk_block_size,
        .chunk_target_size = cfg->chunk_target_size,
        .max_chunk_age_ns = cfg->max_chunk_age_ns,
        .max_streams_per_user = cfg->max_streams_per_user,
    };
    if ((rc = ing_create(&io, &g)) != LK_OK) {
        log_error("creating the ingester failed", "err=\"%s\"", lk_strerror(rc));
        goto out;
    }
    lk_metrics_register_process();
    lk_metric_gauge_func("loki_ingester_memory_streams",
                         "The total number of streams in memory.", memory_streams, g);
    lk_metric_gauge_func("loki_ingester_memory_chunks", "The total number of chunks in memory.",
                         memory_chunks, g);
    if ((rc = api_server_create(cfg, g, &srv, &err)) != LK_OK ||
        (rc = api_server_start(srv, &err)) != LK_OK) {
        log_error("starting the HTTP server failed", "err=\"%s\"", err.p ? err.p : "");
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
    api_server_stop(srv);
out:
    api_server_destroy(srv);
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
    int rc = run(&cfg);
    config_free(&cfg);
    return rc == LK_OK ? 0 : 1;
}
