/* Per-tenant limits from the runtime config files (see overrides.h). */
#include "lib/overrides.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/config_priv.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

struct lk_overrides {
    const lk_config *base;
    _Atomic(cfg_tenants *) cur; /* NULL until a file was loaded */
    pthread_mutex_t mu;         /* reloads, retired sets, last bytes */
    cfg_tenants **retired;      /* replaced sets, freed at destroy */
    size_t n_retired, cap_retired;
    lk_buf last;                /* the files' bytes last applied */
    bool has_files;
    pthread_t thread;
    bool running, stop;
    pthread_cond_t cv;
};

/* Reads every file of the comma-separated list into *all (each file's
 * bytes prefixed by its name and length, so a change anywhere shows). */
static int read_files(const char *list, lk_buf *all, lk_buf *err)
{
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        lk_str name = lk_str_trim(lk_str_n(p, comma ? (size_t)(comma - p) : strlen(p)));
        p = comma ? comma + 1 : p + strlen(p);
        if (!name.len)
            continue;
        char *path = lk_strndup(name.p, name.len);
        lk_buf body = { 0 };
        if (lk_buf_read_file(&body, path) != LK_OK) {
            lk_buf_printf(err, "reading \"%s\" failed: %s", path, strerror(errno));
            free(path);
            lk_buf_free(&body);
            return LK_EIO;
        }
        lk_buf_printf(all, "%s\n%zu\n", path, body.len);
        lk_buf_put_str(all, lk_buf_str(&body));
        free(path);
        lk_buf_free(&body);
    }
    return LK_OK;
}

/* Parses the bytes read_files gathered into a new set. */
static int parse_files(const lk_config *base, lk_str all, cfg_tenants *set, lk_buf *err)
{
    const char *p = all.p, *end = all.p + all.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        char *name = lk_strndup(p, (size_t)(nl - p));
        size_t len = strtoul(nl + 1, NULL, 10);
        const char *body = memchr(nl + 1, '\n', (size_t)(end - nl - 1)) + 1;
        int rc = cfg_runtime_apply(base, name, lk_str_n(body, len), set, err);
        free(name);
        if (rc != LK_OK)
            return rc;
        p = body + len;
    }
    cfg_tenants_sort(set);
    return LK_OK;
}

int lk_overrides_reload(lk_overrides *o, lk_buf *err)
{
    if (!o->has_files)
        return LK_OK;
    lk_buf all = { 0 };
    pthread_mutex_lock(&o->mu);
    int rc = read_files(o->base->runtime_config_file, &all, err);
    if (rc != LK_OK || (atomic_load(&o->cur) && lk_str_eq(lk_buf_str(&all), lk_buf_str(&o->last))))
        goto out;
    cfg_tenants *set = lk_calloc(1, sizeof *set);
    rc = parse_files(o->base, lk_buf_str(&all), set, err);
    if (rc != LK_OK) {
        cfg_tenants_free(set);
        free(set);
        goto out;
    }
    cfg_tenants *old = atomic_exchange(&o->cur, set);
    if (old) {
        o->retired = lk_grow(o->retired, &o->cap_retired, o->n_retired + 1, sizeof *o->retired);
        o->retired[o->n_retired++] = old;
    }
    lk_buf_reset(&o->last);
    lk_buf_put_str(&o->last, lk_buf_str(&all));
    log_info("runtime config loaded", "files=\"%s\" tenants=%zu", o->base->runtime_config_file,
             set->n);
out:
    pthread_mutex_unlock(&o->mu);
    lk_buf_free(&all);
    return rc;
}

int lk_overrides_create(const lk_config *base, lk_overrides **out, lk_buf *err)
{
    lk_overrides *o = lk_calloc(1, sizeof *o);
    o->base = base;
    atomic_init(&o->cur, NULL);
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    o->has_files = base->runtime_config_file && lk_str_trim(lk_str_c(base->runtime_config_file)).len;
    int rc = lk_overrides_reload(o, err);
    if (rc != LK_OK) {
        lk_overrides_destroy(o);
        return rc;
    }
    *out = o;
    return LK_OK;
}

static void *reload_main(void *arg)
{
    lk_overrides *o = arg;
    pthread_mutex_lock(&o->mu);
    while (!o->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + o->base->runtime_config_period_ns;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&o->cv, &o->mu, &ts);
        if (o->stop)
            break;
        pthread_mutex_unlock(&o->mu);
        lk_buf err = { 0 };
        if (lk_overrides_reload(o, &err) != LK_OK)
            log_error("failed to reload runtime config, keeping the previous one", "err=\"%s\"",
                      err.p ? err.p : "");
        lk_buf_free(&err);
        pthread_mutex_lock(&o->mu);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

int lk_overrides_start(lk_overrides *o, lk_buf *err)
{
    if (!o->has_files || o->running || o->base->runtime_config_period_ns <= 0)
        return LK_OK;
    if (pthread_create(&o->thread, NULL, reload_main, o) != 0) {
        lk_buf_puts(err, "pthread_create(runtime config) failed");
        return LK_EIO;
    }
    o->running = true;
    return LK_OK;
}

void lk_overrides_destroy(lk_overrides *o)
{
    if (!o)
        return;
    if (o->running) {
        pthread_mutex_lock(&o->mu);
        o->stop = true;
        pthread_cond_signal(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->thread, NULL);
    }
    cfg_tenants *cur = atomic_load(&o->cur);
    if (cur) {
        cfg_tenants_free(cur);
        free(cur);
    }
    for (size_t i = 0; i < o->n_retired; i++) {
        cfg_tenants_free(o->retired[i]);
        free(o->retired[i]);
    }
    free(o->retired);
    lk_buf_free(&o->last);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
    free(o);
}

const lk_config *lk_limits_for(const lk_overrides *o, lk_str tenant)
{
    if (!o)
        return NULL;
    const cfg_tenants *set = atomic_load(&((lk_overrides *)o)->cur);
    size_t lo = 0, hi = set ? set->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *t = set->v[mid].tenant;
        size_t tl = strlen(t);
        int c = memcmp(t, tenant.p ? tenant.p : "", tl < tenant.len ? tl : tenant.len);
        if (c == 0)
            c = (tl > tenant.len) - (tl < tenant.len);
        if (c == 0)
            return &set->v[mid].cfg;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return o->base;
}

bool lk_overrides_to_yaml(const lk_overrides *o, bool diff, lk_buf *out)
{
    const cfg_tenants *set = o ? atomic_load(&((lk_overrides *)o)->cur) : NULL;
    if (!set)
        return false;
    lk_buf_puts(out, "overrides:");
    if (!set->n)
        lk_buf_puts(out, " {}");
    lk_buf_putc(out, '\n');
    for (size_t i = 0; i < set->n; i++) {
        lk_buf_printf(out, "  %s:\n", set->v[i].tenant);
        size_t before = out->len;
        config_limits_to_yaml(&set->v[i].cfg, diff ? o->base : NULL, 2, out);
        if (out->len == before) { /* nothing differs */
            out->len -= 1; /* "  tenant:" then " {}" */
            lk_buf_puts(out, " {}\n");
        }
    }
    return true;
}

int lk_max_streams(const lk_config *limits)
{
    int local = limits->max_streams_per_user, global = limits->max_global_streams_per_user;
    if (local == 0 || (global != 0 && local > global))
        return global;
    return local;
}
