/* Operational endpoints: /ready, /metrics, /config, buildinfo, /services,
 * /log_level, /flush. */
#include <stdatomic.h>
#include <stdio.h>

#include "api/handlers.h"
#include "api/state.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lokic_version.h"

/* The Loki API level lokic answers as. Grafana reads buildinfo's version
 * to pick features: from 3.x on its Loki data source and the Logs
 * Drilldown app use the Loki 3 endpoints (volume, detected_*, patterns). */
#define LOKI_API_VERSION "3.6.0"

const char *api_loki_version(void)
{
    return LOKI_API_VERSION "+lokic." LOKIC_VERSION;
}

void api_h_ready(api_req *rq, api_resp *rs)
{
    if (atomic_load(&rq->st->stopping))
        api_reply_text(rs, 503, "Application is stopping\n");
    else if (!atomic_load(&rq->st->ready))
        api_reply_text(rs, 503, "Ingester not ready: starting\n");
    else
        api_reply_text(rs, 200, "ready\n");
}

void api_h_metrics(api_req *rq, api_resp *rs)
{
    (void)rq;
    lk_metrics_render(&rs->body);
    rs->status = 200;
    rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* GET /config as Loki's config handler answers it: ?mode=diff only what
 * differs from the defaults, ?mode=defaults the defaults, anything else the
 * whole configuration in effect. */
void api_h_config(api_req *rq, api_resp *rs)
{
    lk_str mode = LK_STR("");
    api_param_get(rq, "mode", &mode);
    if (lk_str_eq_c(mode, "diff") || lk_str_eq_c(mode, "defaults")) {
        lk_config d;
        config_defaults(&d);
        if (lk_str_eq_c(mode, "diff"))
            config_to_yaml_diff(rq->st->cfg, &d, &rs->body);
        else
            config_to_yaml(&d, &rs->body);
        config_free(&d);
    } else {
        config_to_yaml(rq->st->cfg, &rs->body);
    }
    rs->status = 200;
    rs->content_type = "text/plain; charset=utf-8";
}

/* GET /runtime_config: the runtime config's overrides as Loki prints them
 * (every limit of each overridden tenant; ?mode=diff: those that differ
 * from the defaults), or Loki's text when there is no runtime config. */
void api_h_runtime_config(api_req *rq, api_resp *rs)
{
    lk_str mode = LK_STR("");
    api_param_get(rq, "mode", &mode);
    if (!lk_overrides_to_yaml(rq->st->overrides, lk_str_eq_c(mode, "diff"), &rs->body))
        lk_buf_puts(&rs->body, "runtime config file doesn't exist");
    rs->status = 200;
    rs->content_type = "text/plain; charset=utf-8";
}

void api_h_buildinfo(api_req *rq, api_resp *rs)
{
    (void)rq;
    jw w;
    jw_init(&w, &rs->body);
    jw_obj_open(&w);
    jw_key(&w, "version");
    jw_cstr(&w, api_loki_version());
    jw_key(&w, "revision");
    jw_cstr(&w, LOKIC_REVISION);
    jw_key(&w, "branch");
    jw_cstr(&w, LOKIC_BRANCH);
    jw_key(&w, "buildUser");
    jw_cstr(&w, "");
    jw_key(&w, "buildDate");
    jw_cstr(&w, __DATE__ " " __TIME__);
    jw_key(&w, "goVersion");
    jw_cstr(&w, "");
    jw_obj_close(&w);
    api_reply_json(rs, 200);
}

void api_h_services(api_req *rq, api_resp *rs)
{
    const char *state = atomic_load(&rq->st->stopping) ? "Stopping"
                        : atomic_load(&rq->st->ready) ? "Running"
                                                       : "Starting";
    static const char *const services[] = { "server", "distributor", "ingester", "querier",
                                            "query-frontend" };
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
        lk_buf_printf(&rs->body, "%s => %s\n", services[i], state);
    rs->status = 200;
    rs->content_type = "text/plain; charset=utf-8";
}

void api_h_log_level(api_req *rq, api_resp *rs)
{
    const char *lvl = api_param_cstr(rq, "log_level");
    if (!lvl || (rq->method[0] == 'G' && !*lvl)) {
        lk_buf_printf(&rs->body, "Current log level is %s\n",
                      lk_log_level_name(atomic_load(&lk_log_min_level)));
        rs->status = 200;
        rs->content_type = "text/plain; charset=utf-8";
        return;
    }
    int l = lk_log_parse_level(lvl);
    if (l < 0) {
        api_reply_error(rs, 400, "unrecognized log level \"%s\"", lvl);
        return;
    }
    atomic_store(&lk_log_min_level, (lk_log_level)l); /* read by every thread that logs */
    lk_buf_printf(&rs->body, "Log level set to %s\n", lk_log_level_name((lk_log_level)l));
    rs->status = 200;
    rs->content_type = "text/plain; charset=utf-8";
}

/* Loki's ingester FlushHandler: every stream's chunks are closed and queued
 * for flushing; the answer (204) does not wait for the disk. */
void api_h_flush(api_req *rq, api_resp *rs)
{
    ing_flush_all_async(rq->st->ingester);
    rs->status = 204;
    rs->content_type = "text/plain; charset=utf-8";
}
