/* The evaluation state as Prometheus' HTTP API shows it, in the shapes of
 * Loki's /prometheus/api/v1/rules and /prometheus/api/v1/alerts (Cortex's
 * ruler API, pkg/ruler/base/api.go): per group its rules with health
 * ("ok", "err", "unknown" before the first evaluation), lastError,
 * evaluationTime (seconds), lastEvaluation (RFC3339, Go's zero time before
 * the first), and for alerting rules the state and the alerts (value as
 * strconv.FormatFloat(v, 'e', -1, 64)). */
#include "query/ruler/ruler_int.h"

#include "lib/gofloat.h"
#include "lib/timeutil.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"

static void put_time(jw *w, int64_t ns, bool set)
{
    if (!set) {
        jw_cstr(w, ZERO_TIME);
        return;
    }
    lk_buf t = { 0 };
    lk_format_rfc3339nano(ns, &t);
    jw_str(w, lk_buf_str(&t));
    lk_buf_free(&t);
}

static void put_map(jw *w, const lk_label *v, size_t n)
{
    jw_obj_open(w);
    for (size_t i = 0; i < n; i++) {
        jw_key_str(w, v[i].name);
        jw_str(w, v[i].value);
    }
    jw_obj_close(w);
}

static void put_alert(jw *w, const rul_alert *a)
{
    jw_obj_open(w);
    jw_key(w, "labels");
    put_map(w, a->labels.v, a->labels.n);
    jw_key(w, "annotations");
    put_map(w, a->annotations.v, a->annotations.n);
    jw_key(w, "state");
    jw_cstr(w, rul_state_name(a->state));
    jw_key(w, "activeAt");
    put_time(w, a->active_at, true);
    jw_key(w, "value");
    lk_buf v = { 0 };
    lk_gofloat_append(&v, a->value, 'e', -1);
    jw_str(w, lk_buf_str(&v));
    lk_buf_free(&v);
    jw_obj_close(w);
}

static rul_state rule_state(const rul_alerts *as)
{
    rul_state s = RUL_INACTIVE;
    for (size_t i = 0; i < as->n; i++)
        if (as->v[i].state > s)
            s = as->v[i].state;
    return s;
}

static void put_rule(jw *w, const rul_rule *rule, const rul_rstate *st)
{
    bool alerting = rule->alert.len > 0;
    jw_obj_open(w);
    if (alerting) {
        jw_key(w, "state");
        jw_cstr(w, rul_state_name(rule_state(&st->alerts)));
    }
    jw_key(w, "name");
    jw_str(w, alerting ? rule->alert : rule->record);
    jw_key(w, "query");
    jw_str(w, rule->expr);
    if (alerting) {
        jw_key(w, "duration");
        jw_f64(w, (double)rule->for_ns / 1e9);
        jw_key(w, "keepFiringFor");
        jw_f64(w, (double)rule->keep_firing_for_ns / 1e9);
    }
    jw_key(w, "labels");
    put_map(w, rule->labels, rule->n_labels);
    if (alerting) {
        jw_key(w, "annotations");
        put_map(w, rule->annotations, rule->n_annotations);
        jw_key(w, "alerts");
        jw_arr_open(w);
        for (size_t i = 0; i < st->alerts.n; i++)
            if (st->alerts.v[i].state != RUL_INACTIVE)
                put_alert(w, &st->alerts.v[i]);
        jw_arr_close(w);
    }
    jw_key(w, "health");
    jw_cstr(w, !st->evaluated ? "unknown" : st->last_error ? "err" : "ok");
    if (st->last_error) {
        jw_key(w, "lastError");
        jw_cstr(w, st->last_error);
    }
    jw_key(w, "type");
    jw_cstr(w, alerting ? "alerting" : "recording");
    jw_key(w, "lastEvaluation");
    put_time(w, st->last_eval, st->evaluated);
    jw_key(w, "evaluationTime");
    jw_f64(w, (double)st->eval_ns / 1e9);
    jw_obj_close(w);
}

static bool wanted(const rul_rule *rule, lk_str type)
{
    if (lk_str_eq_c(type, "alert"))
        return rule->alert.len > 0;
    if (lk_str_eq_c(type, "record"))
        return rule->record.len > 0;
    return true;
}

static void put_group(jw *w, const rul_rgroup *grp, lk_str type)
{
    jw_obj_open(w);
    jw_key(w, "name");
    jw_str(w, grp->g->name);
    jw_key(w, "file");
    jw_cstr(w, grp->file->ns);
    jw_key(w, "rules");
    jw_arr_open(w);
    for (size_t i = 0; i < grp->g->n_rules; i++)
        if (wanted(&grp->g->rules[i], type))
            put_rule(w, &grp->g->rules[i], &grp->rules[i]);
    jw_arr_close(w);
    jw_key(w, "interval");
    jw_f64(w, (double)grp->interval_ns / 1e9);
    jw_key(w, "limit");
    jw_i64(w, grp->g->limit);
    jw_key(w, "lastEvaluation");
    put_time(w, grp->last_eval, grp->last_eval != 0);
    jw_key(w, "evaluationTime");
    jw_f64(w, (double)grp->eval_ns / 1e9);
    jw_obj_close(w);
}

void rul_rules_json(rul_ruler *r, lk_str tenant, lk_str type, jw *w)
{
    jw_obj_open(w);
    jw_key(w, "groups");
    jw_arr_open(w);
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_groups; i++)
        if (lk_str_eq_c(tenant, r->groups[i].file->tenant))
            put_group(w, &r->groups[i], type);
    pthread_mutex_unlock(&r->mu);
    jw_arr_close(w);
    jw_obj_close(w);
}

void rul_alerts_json(rul_ruler *r, lk_str tenant, jw *w)
{
    jw_obj_open(w);
    jw_key(w, "alerts");
    jw_arr_open(w);
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_groups; i++) {
        const rul_rgroup *grp = &r->groups[i];
        if (!lk_str_eq_c(tenant, grp->file->tenant))
            continue;
        for (size_t j = 0; j < grp->g->n_rules; j++)
            for (size_t k = 0; k < grp->rules[j].alerts.n; k++)
                if (grp->rules[j].alerts.v[k].state != RUL_INACTIVE)
                    put_alert(w, &grp->rules[j].alerts.v[k]);
    }
    pthread_mutex_unlock(&r->mu);
    jw_arr_close(w);
    jw_obj_close(w);
}
