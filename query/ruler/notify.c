/* Alerts to the Alertmanagers (ruler_int.h): the alerts of one rule that
 * need sending (alert.h's rule), as Prometheus' notifier posts them to
 * <alertmanager_url>/api/v2/alerts:
 *   [{"labels":{...},"annotations":{...},"startsAt":"<RFC3339>",
 *     "endsAt":"<RFC3339>","generatorURL":"<external_url>"}]
 * startsAt is when the alert fired; endsAt its resolution, or for a firing
 * alert 4 x max(resend_delay, group interval) ahead (ValidUntil), so
 * Alertmanager resolves it by itself if the ruler stops. The external
 * labels are added where the alert has no label of that name. Each URL of
 * alertmanager_url (comma-separated) gets every batch; a failure counts in
 * loki_prometheus_notifications_errors_total and
 * loki_prometheus_notifications_dropped_total (no retry: the next resend
 * carries the alert again). */
#include "query/ruler/ruler_int.h"

#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "query/ruler/http.h"

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

static void post_all(rul_ruler *r, const char *tenant, lk_str body, size_t n)
{
    const char *urls = r->cfg->ruler_alertmanager_url;
    const char *lv[] = { tenant };
    while (urls && *urls) {
        const char *comma = strchr(urls, ',');
        size_t len = comma ? (size_t)(comma - urls) : strlen(urls);
        lk_str u = lk_str_trim(lk_str_n(urls, len));
        urls = comma ? comma + 1 : urls + len;
        if (!u.len)
            continue;
        lk_buf url = { 0 }, err = { 0 };
        lk_buf_put_str(&url, u);
        while (url.len && url.p[url.len - 1] == '/')
            url.p[--url.len] = '\0';
        lk_buf_puts(&url, "/api/v2/alerts");
        static const char *const hs[] = { "Content-Type: application/json", NULL };
        rul_post p = { .url = url.p, .headers = hs, .body = body,
                       .timeout_ns = r->cfg->ruler_notification_timeout_ns };
        int status;
        if (rul_http_post(&p, &status, &err) == LK_OK) {
            lk_counter_add(r->m_notif_sent, lv, (double)n);
        } else {
            lk_counter_add(r->m_notif_errors, lv, 1);
            lk_counter_add(r->m_notif_dropped, lv, (double)n);
            log_warn("sending alerts failed", "tenant=%s alertmanager=%s count=%zu err=\"%s\"",
                     tenant, url.p, n, err.p ? err.p : "");
        }
        lk_buf_free(&url);
        lk_buf_free(&err);
    }
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
        post_all(r, grp->file->tenant, lk_buf_str(&body), n);
    lk_buf_free(&body);
}
