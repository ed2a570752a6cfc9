/* The Alertmanager notifier (notifier.h): a FIFO of batches under one
 * mutex, bounded in alerts, and one sender thread posting each batch to
 * <url>/api/v2/alerts for every URL of ruler.alertmanager_url
 * (comma-separated) with ruler.notification_timeout. */
#include "query/ruler/notifier.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"
#include "query/ruler/http.h"

typedef struct nt_batch {
    struct nt_batch *next;
    char *tenant;
    lk_buf body;
    size_t n;
} nt_batch;

struct rul_notifier {
    char **urls; /* .../api/v2/alerts */
    size_t n_urls;
    int64_t timeout_ns;
    size_t capacity; /* alerts */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    nt_batch *head, *tail;
    size_t queued; /* alerts */
    bool stopping, started;
    int64_t stop_deadline;
    pthread_t thread;
    lk_metric *m_sent, *m_errors, *m_dropped, *m_queue;
};

static void batch_free(nt_batch *b)
{
    free(b->tenant);
    lk_buf_free(&b->body);
    free(b);
}

static void load_urls(rul_notifier *nt, const char *urls)
{
    while (urls && *urls) {
        const char *comma = strchr(urls, ',');
        size_t len = comma ? (size_t)(comma - urls) : strlen(urls);
        lk_str u = lk_str_trim(lk_str_n(urls, len));
        urls = comma ? comma + 1 : urls + len;
        while (u.len && u.p[u.len - 1] == '/')
            u.len--;
        if (!u.len)
            continue;
        lk_buf url = { 0 };
        lk_buf_put_str(&url, u);
        lk_buf_puts(&url, "/api/v2/alerts");
        nt->urls = lk_realloc(nt->urls, (nt->n_urls + 1) * sizeof *nt->urls);
        nt->urls[nt->n_urls++] = lk_buf_steal(&url);
    }
}

static void post_all(rul_notifier *nt, const nt_batch *b)
{
    const char *lv[] = { b->tenant };
    static const char *const hs[] = { "Content-Type: application/json", NULL };
    for (size_t i = 0; i < nt->n_urls; i++) {
        rul_post p = { .url = nt->urls[i], .headers = hs, .body = lk_buf_str(&b->body),
                       .timeout_ns = nt->timeout_ns };
        int status;
        lk_buf err = { 0 };
        if (rul_http_post(&p, &status, &err) == LK_OK) {
            lk_counter_add(nt->m_sent, lv, (double)b->n);
        } else {
            lk_counter_add(nt->m_errors, lv, 1);
            lk_counter_add(nt->m_dropped, lv, (double)b->n);
            log_warn("sending alerts failed", "tenant=%s alertmanager=%s count=%zu err=\"%s\"",
                     b->tenant, nt->urls[i], b->n, err.p ? err.p : "");
        }
        lk_buf_free(&err);
    }
}

/* Takes the head batch (mu held); NULL when none. */
static nt_batch *take(rul_notifier *nt)
{
    nt_batch *b = nt->head;
    if (!b)
        return NULL;
    nt->head = b->next;
    if (!nt->head)
        nt->tail = NULL;
    nt->queued -= b->n;
    const char *lv[] = { b->tenant };
    lk_gauge_add(nt->m_queue, lv, -(double)b->n);
    return b;
}

static void *sender(void *arg)
{
    rul_notifier *nt = arg;
    pthread_mutex_lock(&nt->mu);
    for (;;) {
        while (!nt->head && !nt->stopping)
            pthread_cond_wait(&nt->cv, &nt->mu);
        nt_batch *b = take(nt);
        if (!b)
            break;
        bool late = nt->stopping && lk_now_ns() >= nt->stop_deadline;
        pthread_mutex_unlock(&nt->mu);
        if (late) {
            const char *lv[] = { b->tenant };
            lk_counter_add(nt->m_dropped, lv, (double)b->n);
        } else {
            post_all(nt, b);
        }
        batch_free(b);
        pthread_mutex_lock(&nt->mu);
    }
    pthread_mutex_unlock(&nt->mu);
    return NULL;
}

int rul_notifier_create(const lk_config *cfg, rul_notifier **out)
{
    *out = NULL;
    rul_notifier *nt = lk_calloc(1, sizeof *nt);
    load_urls(nt, cfg->ruler_alertmanager_url);
    if (!nt->n_urls) {
        rul_notifier_destroy(nt, 0);
        return LK_OK;
    }
    nt->timeout_ns = cfg->ruler_notification_timeout_ns;
    nt->capacity = cfg->ruler_notification_queue_capacity > 0
                       ? (size_t)cfg->ruler_notification_queue_capacity
                       : 1;
    static const char *const user_lbl[] = { "user" };
    nt->m_sent = lk_metric_counter("loki_prometheus_notifications_sent_total",
                                   "Total number of alerts sent.", 1, user_lbl);
    nt->m_errors = lk_metric_counter("loki_prometheus_notifications_errors_total",
                                     "Total number of errors sending alert notifications.", 1,
                                     user_lbl);
    nt->m_dropped = lk_metric_counter("loki_prometheus_notifications_dropped_total",
                                      "Total number of alerts dropped due to errors when "
                                      "sending to Alertmanager.", 1, user_lbl);
    nt->m_queue = lk_metric_gauge("loki_prometheus_notifications_queue_length",
                                  "The number of alert notifications in the queue.", 1,
                                  user_lbl);
    pthread_mutex_init(&nt->mu, NULL);
    pthread_cond_init(&nt->cv, NULL);
    if (pthread_create(&nt->thread, NULL, sender, nt) != 0)
        LK_BUG("pthread_create failed");
    nt->started = true;
    *out = nt;
    return LK_OK;
}

void rul_notifier_push(rul_notifier *nt, const char *tenant, lk_str body, size_t n)
{
    if (!nt || !n)
        return;
    nt_batch *b = lk_calloc(1, sizeof *b);
    b->tenant = lk_strdup(tenant);
    b->n = n;
    lk_buf_put_str(&b->body, body);
    pthread_mutex_lock(&nt->mu);
    while (nt->head && nt->queued + n > nt->capacity) {
        nt_batch *old = take(nt);
        const char *lv[] = { old->tenant };
        lk_counter_add(nt->m_dropped, lv, (double)old->n);
        log_warn("alert queue full, dropping alerts", "tenant=%s count=%zu", old->tenant,
                 old->n);
        batch_free(old);
    }
    if (nt->tail)
        nt->tail->next = b;
    else
        nt->head = b;
    nt->tail = b;
    nt->queued += n;
    const char *lv[] = { tenant };
    lk_gauge_add(nt->m_queue, lv, (double)n);
    pthread_cond_broadcast(&nt->cv);
    pthread_mutex_unlock(&nt->mu);
}

void rul_notifier_destroy(rul_notifier *nt, int64_t timeout_ns)
{
    if (!nt)
        return;
    if (nt->started) {
        pthread_mutex_lock(&nt->mu);
        nt->stopping = true;
        nt->stop_deadline = lk_now_ns() + timeout_ns;
        pthread_cond_broadcast(&nt->cv);
        pthread_mutex_unlock(&nt->mu);
        pthread_join(nt->thread, NULL);
        pthread_mutex_destroy(&nt->mu);
        pthread_cond_destroy(&nt->cv);
    }
    for (size_t i = 0; i < nt->n_urls; i++)
        free(nt->urls[i]);
    free(nt->urls);
    free(nt);
}
