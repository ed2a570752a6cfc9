/* The ruler's APIs (query/ruler/ruler.h), as Loki serves them:
 *   GET    /loki/api/v1/rules                      every namespace, YAML
 *   GET    /loki/api/v1/rules/{namespace}          one namespace, YAML
 *   GET    /loki/api/v1/rules/{namespace}/{group}  one group, YAML
 *   POST   /loki/api/v1/rules/{namespace}          a group's YAML: added or replaced
 *   DELETE /loki/api/v1/rules/{namespace}[/{group}]
 * (and the same under /api/prom/rules), answering 202 with Cortex's
 * {"status":"success",...} on writes, 404 "no rule groups found", 400 with
 * the error in Cortex's JSON; and Prometheus' read API for Grafana:
 *   GET /prometheus/api/v1/rules[?type=alert|record]
 *   GET /prometheus/api/v1/alerts
 * Everything answers 404 when the ruler is off or ruler.enable_api is
 * false. */
#include "api/handlers.h"

#include <string.h>

#include "api/state.h"
#include "lib/err.h"
#include "lib/jsonw.h"
#include "query/ruler/ruler.h"

static rul_ruler *ruler_of(api_req *rq, api_resp *rs)
{
    rul_ruler *r = rq->st->ruler;
    if (!r || !rq->st->cfg->ruler_enable_api) {
        api_reply_text(rs, 404, "404 page not found\n");
        return NULL;
    }
    return r;
}

/* Cortex's JSON answer: {"status":..,"data":null,"errorType":..,"error":..} */
static void reply_status(api_resp *rs, int code, const char *error_type, const char *error)
{
    jw w;
    lk_buf_reset(&rs->body);
    jw_init(&w, &rs->body);
    jw_obj_open(&w);
    jw_key(&w, "status");
    jw_cstr(&w, error ? "error" : "success");
    jw_key(&w, "data");
    jw_null(&w);
    jw_key(&w, "errorType");
    jw_cstr(&w, error_type);
    jw_key(&w, "error");
    jw_cstr(&w, error ? error : "");
    jw_obj_close(&w);
    api_reply_json(rs, code);
}

/* path_arg "ns" or "ns/group" */
static void split_arg(lk_str arg, lk_str *ns, lk_str *group)
{
    const char *slash = arg.p ? memchr(arg.p, '/', arg.len) : NULL;
    *ns = slash ? lk_str_n(arg.p, (size_t)(slash - arg.p)) : arg;
    *group = slash ? lk_str_n(slash + 1, arg.len - (size_t)(slash + 1 - arg.p)) : LK_STR_NULL;
}

static void get_rules(api_req *rq, api_resp *rs, rul_ruler *r, lk_str ns, lk_str group)
{
    int rc = rul_rules_yaml(r, rq->tenant, ns, group, &rs->body);
    if (rc == LK_ENOTFOUND) {
        lk_buf_reset(&rs->body);
        api_reply_text(rs, 404, group.len ? "group does not exist\n" : "no rule groups found\n");
        return;
    }
    rs->status = 200;
    rs->content_type = "application/yaml";
}

static void write_rules(api_req *rq, api_resp *rs, rul_ruler *r, bool post, lk_str ns,
                        lk_str group)
{
    lk_buf err = { 0 };
    int rc = post ? rul_set_group(r, rq->tenant, ns, rq->body, &err)
                  : rul_delete(r, rq->tenant, ns, group, &err);
    if (rc == LK_OK)
        reply_status(rs, 202, "", NULL);
    else if (rc == LK_ENOTFOUND)
        reply_status(rs, 404, "not_found", err.p ? err.p : "not found");
    else if (rc == LK_EINVAL || rc == LK_EPARSE)
        reply_status(rs, 400, "bad_data", err.p ? err.p : "invalid rule group");
    else
        reply_status(rs, 500, "server_error", err.p ? err.p : lk_strerror(rc));
    lk_buf_free(&err);
}

void api_h_rules(api_req *rq, api_resp *rs)
{
    rul_ruler *r = ruler_of(rq, rs);
    if (!r)
        return;
    lk_str ns, group;
    split_arg(rq->path_arg, &ns, &group);
    bool post = strcmp(rq->method, "POST") == 0;
    bool del = strcmp(rq->method, "DELETE") == 0;
    if ((post && (!ns.len || group.len)) || (del && !ns.len)) {
        api_reply_text(rs, 405, "method not allowed\n");
        return;
    }
    if (post || del)
        write_rules(rq, rs, r, post, ns, group);
    else
        get_rules(rq, rs, r, ns, group);
}

static void prom_answer(api_req *rq, api_resp *rs, bool alerts)
{
    rul_ruler *r = ruler_of(rq, rs);
    if (!r)
        return;
    lk_str type = LK_STR("");
    api_param_get(rq, "type", &type);
    if (type.len && !lk_str_eq_c(type, "alert") && !lk_str_eq_c(type, "record")) {
        reply_status(rs, 400, "bad_data", "unsupported rule type");
        return;
    }
    jw w;
    jw_init(&w, &rs->body);
    jw_obj_open(&w);
    jw_key(&w, "status");
    jw_cstr(&w, "success");
    jw_key(&w, "data");
    if (alerts)
        rul_alerts_json(r, rq->tenant, &w);
    else
        rul_rules_json(r, rq->tenant, type, &w);
    jw_key(&w, "errorType");
    jw_cstr(&w, "");
    jw_key(&w, "error");
    jw_cstr(&w, "");
    jw_obj_close(&w);
    api_reply_json(rs, 200);
}

void api_h_prom_rules(api_req *rq, api_resp *rs) { prom_answer(rq, rs, false); }
void api_h_prom_alerts(api_req *rq, api_resp *rs) { prom_answer(rq, rs, true); }
