/* Alerts to the Alertmanagers (ruler_int.h): the alerts of one rule that
 * need sending (alert.h's rule), queued for the notifier (notifier.h) in
 * the body Prometheus' notifier posts to <alertmanager_url>/api/v2/alerts:
 *   [{"labels":{...},"annotations":{...},"startsAt":"<RFC3339>",
 *     "endsAt":"<RFC3339>","generatorURL":"<external_url>"}]
 * startsAt is when the alert fired; endsAt its resolution, or for a firing
 * alert 4 x max(resend_delay, group interval) ahead (ValidUntil), so
 * Alertmanager resolves it by itself if the ruler stops. The external
 * labels are added where the alert has no label of that name. */
#include "query/ruler/ruler_int.h"

#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/timeutil.h"

static void write_labels(jw *w, const lk_labels *l, const lk_cfg_list *ext)
{
    jw_obj_open(w);
    for (size_t i = 0; i < l->n; i++) {
        jw_key_str(w, l->v[i].name);
        jw_str(w, l->v[i].value);
    }
    for (size_t i = 0; ext && i + 1 < ext->n; i += 2)
        if (!labels_get(l, lk_str_c(ext->v[i]))) {
            jw_key(w, ext->v[i]);
            jw_cstr(w, ext->v[i + 1]);
        }
    jw_obj_close(w);
}

static void write_time(jw *w, int64_t ns)
{
    lk_buf t = { 0 };
    lk_format_rfc3339nano(ns, &t);
    jw_str(w, lk_buf_str(&t));
    lk_buf_free(&t);
}

static void write_alert(rul_ruler *r, jw *w, const rul_alert *a)
{
    jw_obj_open(w);
    jw_key(w, "labels");
    write_labels(w, &a->labels, &r->cfg->ruler_external_labels);
    jw_key(w, "annotations");
    write_labels(w, &a->annotations, NULL);
    jw_key(w, "startsAt");
    write_time(w, a->fired_at);
    jw_key(w, "endsAt");
    write_time(w, a->resolved_at ? a->resolved_at : a->valid_until);
    jw_key(w, "generatorURL");
    jw_cstr(w, r->cfg->ruler_external_url ? r->cfg->ruler_external_url : "");
    jw_obj_close(w);
}

void rul_notify(rul_ruler *r, const rul_rgroup *grp, size_t rule, int64_t ts)
{
    rul_alerts *as = &grp->rules[rule].alerts;
    int64_t resend = r->cfg->ruler_resend_delay_ns;
    int64_t valid = 4 * (resend > grp->interval_ns ? resend : grp->interval_ns);
    lk_buf body = { 0 };
    jw w;
    jw_init(&w, &body);
    jw_arr_open(&w);
    size_t n = 0;
    for (size_t i = 0; i < as->n; i++) {
        rul_alert *a = &as->v[i];
        if (!rul_alert_needs_sending(a, ts, resend))
            continue;
        a->last_sent_at = ts;
        a->valid_until = ts + valid;
        write_alert(r, &w, a);
        n++;
    }
    jw_arr_close(&w);
    if (n)
        rul_notifier_push(r->notifier, grp->file->tenant, lk_buf_str(&body), n);
    lk_buf_free(&body);
}
