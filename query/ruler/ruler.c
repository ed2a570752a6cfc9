/* The ruler's life cycle, thread and loading (ruler.h). The thread holds
 * mu while it reloads and evaluates, but not while a rule's query runs
 * (eval.c), and sleeps on cv until the next group is due, the next poll, a
 * change through the API or the stop. Groups are
 * rebuilt on every reload; a rule keeps its state (alerts, health) when its
 * tenant, namespace, group, name and expression are unchanged. The alerts'
 * for state is saved after each round that evaluated alerting rules and
 * restored after each group's first evaluation since the start
 * (forstate.h). */
#include "query/ruler/ruler_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <xxhash.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/fsutil.h"

#define STOP_SEND_NS (5 * INT64_C(1000000000))

static void file_free(rul_nsfile *f)
{
    free(f->tenant);
    free(f->ns);
    lk_buf_free(&f->text);
    rul_file_free(f->f);
}

static void group_state_free(rul_rgroup *grp)
{
    for (size_t i = 0; grp->rules && i < grp->g->n_rules; i++) {
        rul_alerts_free(&grp->rules[i].alerts);
        free(grp->rules[i].last_error);
    }
    free(grp->rules);
}

void rul_group_key(const rul_rgroup *grp, lk_buf *out)
{
    lk_buf_printf(out, "%s;%.*s", grp->file->ns, LK_STR_FMT(grp->g->name));
}

/* ---- loading */

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static rul_nsfile *find_file(rul_nsfile *v, size_t n, const char *tenant, const char *ns)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].tenant && strcmp(v[i].tenant, tenant) == 0 && strcmp(v[i].ns, ns) == 0)
            return &v[i];
    return NULL;
}

/* Reads one file into *out, reusing the old parse when the bytes are the
 * same. */
static void load_file(rul_nsfile *old, size_t n_old, const char *tenant, const char *ns,
                      const char *path, rul_nsfile *out)
{
    memset(out, 0, sizeof *out);
    if (lk_buf_read_file(&out->text, path) != LK_OK) {
        log_warn("reading a rule file failed", "file=%s err=\"%s\"", path, strerror(errno));
        lk_buf_free(&out->text);
        return;
    }
    out->tenant = lk_strdup(tenant);
    out->ns = lk_strdup(ns);
    rul_nsfile *prev = find_file(old, n_old, tenant, ns);
    if (prev && prev->text.len == out->text.len &&
        memcmp(prev->text.p ? prev->text.p : "", out->text.p ? out->text.p : "",
               out->text.len) == 0) {
        out->f = prev->f;
        prev->f = NULL;
        return;
    }
    lk_buf err = { 0 };
    if (rul_file_parse(path, lk_buf_str(&out->text), &out->f, &err) != LK_OK)
        log_error("rule file ignored", "tenant=%s file=%s err=\"%s\"", tenant, path,
                  err.p ? err.p : "");
    lk_buf_free(&err);
}

static void load_tenant(rul_ruler *r, rul_nsfile *old, size_t n_old, const char *tenant,
                        rul_nsfile **files, size_t *n, size_t *cap)
{
    lk_buf dir = { 0 };
    lk_buf_printf(&dir, "%s/%s", r->dir, tenant);
    fs_names names = { 0 };
    if (fs_list(dir.p, &names, NULL) == LK_OK) {
        for (size_t i = 0; i < names.n; i++) {
            if (!rul_name_ok(lk_str_c(names.v[i])) || strstr(names.v[i], ".tmp"))
                continue;
            lk_buf path = { 0 };
            lk_buf_printf(&path, "%s/%s", dir.p, names.v[i]);
            if (!is_dir(path.p)) {
                *files = lk_grow(*files, cap, *n + 1, sizeof **files);
                load_file(old, n_old, tenant, names.v[i], path.p, &(*files)[*n]);
                if ((*files)[*n].tenant)
                    (*n)++;
            }
            lk_buf_free(&path);
        }
    }
    fs_names_free(&names);
    lk_buf_free(&dir);
}

/* The rule's old state when the same rule existed before. */
static rul_rstate *old_state(rul_rgroup *og, size_t n_og, const rul_nsfile *f, const rul_group *g,
                                const rul_rule *rule)
{
    for (size_t i = 0; i < n_og; i++) {
        rul_rgroup *o = &og[i];
        if (strcmp(o->file->tenant, f->tenant) || strcmp(o->file->ns, f->ns) ||
            !lk_str_eq(o->g->name, g->name))
            continue;
        for (size_t j = 0; j < o->g->n_rules; j++) {
            const rul_rule *orl = &o->g->rules[j];
            if (o->rules[j].last_eval >= 0 && lk_str_eq(orl->alert, rule->alert) &&
                lk_str_eq(orl->record, rule->record) && lk_str_eq(orl->expr, rule->expr))
                return &o->rules[j];
        }
    }
    return NULL;
}

/* A group read again keeps its schedule and last evaluation. */
static void carry_group(const rul_rgroup *og, size_t n_og, rul_rgroup *grp)
{
    for (size_t i = 0; i < n_og; i++)
        if (!strcmp(og[i].file->tenant, grp->file->tenant) &&
            !strcmp(og[i].file->ns, grp->file->ns) && lk_str_eq(og[i].g->name, grp->g->name) &&
            og[i].interval_ns == grp->interval_ns) {
            grp->next_eval = og[i].next_eval;
            grp->last_eval = og[i].last_eval;
            grp->eval_ns = og[i].eval_ns;
            grp->restore = og[i].restore;
            return;
        }
}

/* Prometheus' EvalTimestamp: the aligned time at or before now. */
static int64_t aligned(const rul_rgroup *grp, int64_t now)
{
    lk_buf key = { 0 };
    lk_buf_printf(&key, "%s;", grp->file->tenant);
    rul_group_key(grp, &key);
    uint64_t h = XXH3_64bits(key.p, key.len);
    lk_buf_free(&key);
    int64_t offset = (int64_t)(h % (uint64_t)grp->interval_ns);
    int64_t adj = now - offset;
    return adj - ((adj % grp->interval_ns) + grp->interval_ns) % grp->interval_ns + offset;
}

static void build_groups(rul_ruler *r, rul_rgroup *og, size_t n_og, int64_t now)
{
    size_t cap = 0;
    for (size_t i = 0; i < r->n_files; i++) {
        const rul_nsfile *f = &r->files[i];
        for (size_t k = 0; f->f && k < f->f->n_groups; k++) {
            const rul_group *g = &f->f->groups[k];
            r->groups = lk_grow(r->groups, &cap, r->n_groups + 1, sizeof *r->groups);
            rul_rgroup *grp = &r->groups[r->n_groups++];
            memset(grp, 0, sizeof *grp);
            grp->file = f;
            grp->g = g;
            grp->interval_ns = g->interval_ns ? g->interval_ns : r->cfg->ruler_evaluation_interval_ns;
            grp->next_eval = aligned(grp, now) + grp->interval_ns;
            grp->restore = !r->loaded && r->wal_dir;
            carry_group(og, n_og, grp);
            grp->rules = lk_calloc(g->n_rules ? g->n_rules : 1, sizeof *grp->rules);
            for (size_t j = 0; j < g->n_rules; j++) {
                rul_rstate *o = old_state(og, n_og, f, g, &g->rules[j]);
                if (o) {
                    grp->rules[j] = *o;
                    memset(o, 0, sizeof *o);
                    o->last_eval = -1; /* taken */
                }
            }
        }
    }
}

/* True when the files read are the ones loaded before, byte for byte;
 * then their parses go back to the old entries (load_file moved them). */
static bool unchanged(rul_nsfile *old, size_t n_old, rul_nsfile *files, size_t n)
{
    if (n != n_old)
        return false;
    for (size_t i = 0; i < n; i++) {
        rul_nsfile *o = find_file(old, n_old, files[i].tenant, files[i].ns);
        if (!o || o->text.len != files[i].text.len ||
            memcmp(o->text.p ? o->text.p : "", files[i].text.p ? files[i].text.p : "",
                   o->text.len) != 0)
            return false;
    }
    for (size_t i = 0; i < n; i++) {
        rul_nsfile *o = find_file(old, n_old, files[i].tenant, files[i].ns);
        if (!o->f) {
            o->f = files[i].f;
            files[i].f = NULL;
        }
    }
    return true;
}

/* Reads the files again; when they changed, rebuilds the groups (a query
 * running without mu then finds gen changed). */
void rul_reload(rul_ruler *r, int64_t now)
{
    rul_nsfile *old = r->files;
    size_t n_old = r->n_files;
    rul_rgroup *og = r->groups;
    size_t n_og = r->n_groups;
    rul_nsfile *files = NULL;
    size_t n = 0, cap = 0;
    fs_names tenants = { 0 };
    if (fs_list(r->dir, &tenants, NULL) == LK_OK)
        for (size_t i = 0; i < tenants.n; i++) {
            lk_buf p = { 0 };
            lk_buf_printf(&p, "%s/%s", r->dir, tenants.v[i]);
            if (tenants.v[i][0] != '.' && is_dir(p.p))
                load_tenant(r, old, n_old, tenants.v[i], &files, &n, &cap);
            lk_buf_free(&p);
        }
    fs_names_free(&tenants);
    if (r->loaded && unchanged(old, n_old, files, n)) {
        for (size_t i = 0; i < n; i++)
            file_free(&files[i]);
        free(files);
        r->reload = false;
        return;
    }
    r->files = files;
    r->n_files = n;
    r->groups = NULL;
    r->n_groups = 0;
    build_groups(r, og, n_og, now);
    for (size_t i = 0; i < n_og; i++)
        group_state_free(&og[i]);
    free(og);
    for (size_t i = 0; i < n_old; i++) {
        if (r->in_query && old[i].f) { /* the running query may use its rules */
            r->buried = lk_realloc(r->buried, (r->n_buried + 1) * sizeof *r->buried);
            r->buried[r->n_buried++] = old[i].f;
            old[i].f = NULL;
        }
        file_free(&old[i]);
    }
    free(old);
    r->reload = false;
    r->loaded = true;
    r->gen++;
}

void rul_unbury(rul_ruler *r)
{
    for (size_t i = 0; i < r->n_buried; i++)
        rul_file_free(r->buried[i]);
    free(r->buried);
    r->buried = NULL;
    r->n_buried = 0;
}

/* ---- the for state across restarts (forstate.h) */

static void restore_group(rul_ruler *r, rul_rgroup *grp, int64_t now)
{
    lk_buf key = { 0 };
    rul_group_key(grp, &key);
    for (size_t i = 0; i < grp->g->n_rules; i++)
        if (grp->g->rules[i].alert.len)
            rul_fstate_restore(&r->for_state, grp->file->tenant, lk_buf_str(&key),
                               &grp->rules[i].alerts, grp->g->rules[i].for_ns, now,
                               r->cfg->ruler_for_outage_tolerance_ns,
                               r->cfg->ruler_for_grace_period_ns);
    grp->restore = false;
    lk_buf_free(&key);
}

/* The records of one group: its active alerts, or what was read at start
 * while its restore is still to come. */
static void group_records(const rul_ruler *r, const rul_rgroup *grp, rul_fstate *out)
{
    lk_buf key = { 0 }, k = { 0 };
    rul_group_key(grp, &key);
    if (grp->restore) {
        for (size_t i = 0; i < r->for_state.n; i++)
            if (rul_fstate_in_group(&r->for_state.v[i], grp->file->tenant, lk_buf_str(&key)))
                rul_fstate_add(out, lk_str_n(r->for_state.v[i].key, r->for_state.v[i].key_len),
                               r->for_state.v[i].active_at_s, r->for_state.v[i].down_at_ms);
    } else {
        for (size_t i = 0; i < grp->g->n_rules; i++) {
            const rul_alerts *as = &grp->rules[i].alerts;
            for (size_t j = 0; j < as->n; j++) {
                if (as->v[j].state == RUL_INACTIVE)
                    continue;
                k.len = 0;
                rul_fstate_key(grp->file->tenant, lk_buf_str(&key), &as->v[j].labels, &k);
                rul_fstate_add(out, lk_buf_str(&k), as->v[j].active_at / 1000000000,
                               grp->rules[i].last_eval / 1000000);
            }
        }
    }
    lk_buf_free(&k);
    lk_buf_free(&key);
}

static void save_for_state(rul_ruler *r)
{
    rul_fstate s = { 0 };
    for (size_t i = 0; i < r->n_groups; i++)
        group_records(r, &r->groups[i], &s);
    lk_buf err = { 0 };
    if (rul_fstate_save(&s, r->wal_dir, &err) != LK_OK)
        log_warn("saving the alerts' for state failed", "err=\"%s\"", err.p ? err.p : "");
    lk_buf_free(&err);
    rul_fstate_free(&s);
}

/* Evaluates a group at ts and, after its first evaluation since the start,
 * restores its alerts' for state; *alerting set when it has alerting
 * rules. False when a reload came meanwhile (grp is gone). */
static bool eval_group(rul_ruler *r, rul_rgroup *grp, int64_t ts, int64_t now, bool *alerting)
{
    if (!rul_eval_group(r, grp, ts))
        return false;
    if (grp->restore)
        restore_group(r, grp, now);
    for (size_t i = 0; i < grp->g->n_rules; i++)
        if (grp->g->rules[i].alert.len)
            *alerting = true;
    return true;
}

/* ---- the thread */

static void wait_until(rul_ruler *r, int64_t when)
{
    int64_t now = lk_now_ns();
    if (when <= now)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t abs = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (when - now);
    ts.tv_sec = abs / 1000000000;
    ts.tv_nsec = abs % 1000000000;
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

static void *ruler_main(void *arg)
{
    rul_ruler *r = arg;
    int64_t next_poll = 0;
    pthread_mutex_lock(&r->mu);
    while (!r->stopping) {
        int64_t now = lk_now_ns();
        if (r->reload || now >= next_poll) {
            rul_reload(r, now);
            next_poll = now + r->cfg->ruler_poll_interval_ns;
        }
        int64_t next = next_poll;
        bool alerting = false;
        for (size_t i = 0; i < r->n_groups && !r->stopping; i++) {
            rul_rgroup *grp = &r->groups[i];
            if (grp->next_eval <= now) {
                if (!eval_group(r, grp, aligned(grp, now), lk_now_ns(), &alerting)) {
                    next = now; /* the groups changed: look at them again */
                    break;
                }
                grp->next_eval = aligned(grp, now) + grp->interval_ns;
            }
            if (grp->next_eval < next)
                next = grp->next_eval;
        }
        if (alerting && r->wal_dir)
            save_for_state(r);
        if (!r->stopping && !r->reload)
            wait_until(r, next);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- life cycle */

void rul_set_overrides(rul_ruler *r, const lk_overrides *o)
{
    if (r)
        r->overrides = o;
}

int rul_create(const lk_config *cfg, ing *g, qm_budget *qmem, rul_ruler **out, lk_buf *err)
{
    *out = NULL;
    if (!cfg->ruler_local_directory || !*cfg->ruler_local_directory)
        return LK_OK;
    rul_ruler *r = lk_calloc(1, sizeof *r);
    r->cfg = cfg;
    r->g = g;
    r->qmem = qmem;
    r->dir = lk_strdup(cfg->ruler_local_directory);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    int rc = fs_mkdirs(r->dir, err);
    if (rc == LK_OK && cfg->ruler_wal_dir && *cfg->ruler_wal_dir) {
        r->wal_dir = lk_strdup(cfg->ruler_wal_dir);
        rc = fs_mkdirs(r->wal_dir, err);
    }
    if (rc == LK_OK) {
        lk_buf ferr = { 0 };
        if (r->wal_dir && rul_fstate_load(r->wal_dir, &r->for_state, &ferr) != LK_OK)
            log_warn("the alerts' for state is not restored", "err=\"%s\"",
                     ferr.p ? ferr.p : "");
        lk_buf_free(&ferr);
        rc = rul_rw_create(cfg, &r->rw, err);
    }
    if (rc == LK_OK)
        rc = rul_notifier_create(cfg, &r->notifier);
    if (rc != LK_OK) {
        rul_destroy(r);
        return rc;
    }
    static const char *const grp_lbl[] = { "rule_group", "user" };
    static const char *const user_lbl[] = { "user" };
    static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
    r->m_evals = lk_metric_counter("loki_prometheus_rule_evaluations_total",
                                   "The total number of rule evaluations.", 2, grp_lbl);
    r->m_eval_failures = lk_metric_counter("loki_prometheus_rule_evaluation_failures_total",
                                           "The total number of rule evaluation failures.", 2,
                                           grp_lbl);
    r->m_eval_duration = lk_metric_histogram("loki_prometheus_rule_evaluation_duration_seconds",
                                             "The duration for a rule to execute.", 1, user_lbl,
                                             buckets, 11);
    *out = r;
    return LK_OK;
}

int rul_start(rul_ruler *r, lk_buf *err)
{
    if (pthread_create(&r->thread, NULL, ruler_main, r) != 0) {
        if (err)
            lk_buf_printf(err, "pthread_create failed: %s", strerror(errno));
        return LK_EIO;
    }
    r->started = true;
    log_info("ruler started", "directory=%s", r->dir);
    return LK_OK;
}

void rul_stop(rul_ruler *r)
{
    if (!r || !r->started)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    r->started = false;
}

void rul_destroy(rul_ruler *r)
{
    if (!r)
        return;
    rul_stop(r);
    rul_rw_destroy(r->rw, STOP_SEND_NS);
    rul_notifier_destroy(r->notifier, STOP_SEND_NS);
    rul_unbury(r);
    for (size_t i = 0; i < r->n_groups; i++)
        group_state_free(&r->groups[i]);
    free(r->groups);
    for (size_t i = 0; i < r->n_files; i++)
        file_free(&r->files[i]);
    free(r->files);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r->dir);
    free(r->wal_dir);
    rul_fstate_free(&r->for_state);
    free(r);
}

void rul_run_once(rul_ruler *r, int64_t ts)
{
    pthread_mutex_lock(&r->mu);
    rul_reload(r, ts);
    bool alerting = false;
    for (size_t i = 0; i < r->n_groups; i++)
        if (!eval_group(r, &r->groups[i], ts, ts, &alerting))
            break;
    if (alerting && r->wal_dir)
        save_for_state(r);
    pthread_mutex_unlock(&r->mu);
}
