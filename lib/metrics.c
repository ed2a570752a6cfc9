/* The Prometheus metrics registry: a list of families under one mutex,
 * each family with its series in a hash table under a read-write lock.
 * Values are doubles kept as their bit patterns in 64-bit atomics, so a
 * counter add is a compare-and-swap loop and needs no lock; a series, once
 * created, never moves until lk_metrics_reset(). Histograms keep one
 * non-cumulative atomic count per bucket (the last is +Inf); rendering sums
 * them, so _count always equals the +Inf bucket. Process metrics, read from
 * /proc at scrape time, close the file. */
#include "lib/metrics.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/gofloat.h"
#include "lib/mem.h"

typedef enum mtype { M_COUNTER, M_GAUGE, M_HISTOGRAM, M_GAUGE_FUNC, M_COUNTER_FUNC } mtype;

typedef struct series {
    struct series *next; /* hash chain */
    uint64_t hash;
    char **values;       /* nlabels label values */
    _Atomic uint64_t value; /* counter / gauge: bits of a double */
    _Atomic uint64_t sum;   /* histogram: bits of a double */
    _Atomic uint64_t *counts; /* histogram: nbuckets + 1, not cumulative */
} series;

struct lk_metric {
    lk_metric *next;
    mtype type;
    char *name, *help;
    int nlabels;
    char **label_names;
    double *buckets;
    int nbuckets;
    double (*fn)(void *ctx);
    void *ctx;
    series solo; /* the one series of an unlabelled metric */
    pthread_rwlock_t lock;
    series **table;
    size_t tcap, count;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static lk_metric *reg_head;

static const char *type_name(mtype t)
{
    switch (t) {
    case M_COUNTER:
    case M_COUNTER_FUNC: return "counter";
    case M_GAUGE:
    case M_GAUGE_FUNC: return "gauge";
    case M_HISTOGRAM: return "histogram";
    }
    return "untyped";
}

/* ---- atomic doubles */

static double bits_to_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static void atomic_add_double(_Atomic uint64_t *p, double v)
{
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(p, &old, double_to_bits(bits_to_double(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

static double atomic_get_double(_Atomic uint64_t *p)
{
    return bits_to_double(atomic_load_explicit(p, memory_order_relaxed));
}

/* ---- registration */

static bool valid_name(const char *s, bool colon)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colon && c == ':') || (p > s && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static void series_init(lk_metric *m, series *s)
{
    if (m->type == M_HISTOGRAM)
        s->counts = lk_calloc((size_t)m->nbuckets + 1, sizeof *s->counts);
}

static bool same_shape(const lk_metric *m, mtype t, int nlabels, const char *const *names,
                       const double *buckets, int nbuckets)
{
    if (m->type != t || m->nlabels != nlabels || m->nbuckets != nbuckets)
        return false;
    for (int i = 0; i < nlabels; i++)
        if (strcmp(m->label_names[i], names[i]) != 0)
            return false;
    for (int i = 0; i < nbuckets; i++)
        if (m->buckets[i] != buckets[i])
            return false;
    return true;
}

static lk_metric *reg(mtype t, const char *name, const char *help, int nlabels,
                      const char *const *names, const double *buckets, int nbuckets)
{
    if (!valid_name(name, true))
        LK_BUG("invalid metric name \"%s\"", name ? name : "(null)");
    if (nlabels < 0 || (nlabels > 0 && !names) || nbuckets < 0 || (nbuckets > 0 && !buckets))
        LK_BUG("metric %s: bad label or bucket arguments", name);
    for (int i = 0; i < nlabels; i++)
        if (!valid_name(names[i], false) || strncmp(names[i], "__", 2) == 0 ||
            (t == M_HISTOGRAM && strcmp(names[i], "le") == 0))
            LK_BUG("metric %s: invalid label name \"%s\"", name, names[i] ? names[i] : "(null)");
    for (int i = 0; i < nbuckets; i++)
        if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
            LK_BUG("metric %s: buckets must be finite and increasing", name);

    pthread_mutex_lock(&reg_lock);
    lk_metric *m;
    for (m = reg_head; m; m = m->next)
        if (strcmp(m->name, name) == 0)
            break;
    if (m) {
        bool ok = same_shape(m, t, nlabels, names, buckets, nbuckets);
        pthread_mutex_unlock(&reg_lock);
        if (!ok)
            LK_BUG("metric %s registered twice with different types or labels", name);
        return m;
    }
    m = lk_calloc(1, sizeof *m);
    m->type = t;
    m->name = lk_strdup(name);
    m->help = lk_strdup(help ? help : "");
    m->nlabels = nlabels;
    m->label_names = lk_calloc((size_t)nlabels + 1, sizeof *m->label_names);
    for (int i = 0; i < nlabels; i++)
        m->label_names[i] = lk_strdup(names[i]);
    m->nbuckets = nbuckets;
    m->buckets = lk_memdup(buckets ? buckets : (const double[]){ 0 },
                           (size_t)(nbuckets ? nbuckets : 1) * sizeof *buckets);
    pthread_rwlock_init(&m->lock, NULL);
    series_init(m, &m->solo);
    m->next = reg_head;
    reg_head = m;
    pthread_mutex_unlock(&reg_lock);
    return m;
}

lk_metric *lk_metric_counter(const char *name, const char *help, int nlabels,
                             const char *const *label_names)
{
    return reg(M_COUNTER, name, help, nlabels, label_names, NULL, 0);
}

lk_metric *lk_metric_gauge(const char *name, const char *help, int nlabels,
                           const char *const *label_names)
{
    return reg(M_GAUGE, name, help, nlabels, label_names, NULL, 0);
}

lk_metric *lk_metric_histogram(const char *name, const char *help, int nlabels,
                               const char *const *label_names, const double *buckets,
                               int nbuckets)
{
    return reg(M_HISTOGRAM, name, help, nlabels, label_names, buckets, nbuckets);
}

static lk_metric *reg_func(mtype t, const char *name, const char *help, double (*fn)(void *),
                           void *ctx)
{
    if (!fn)
        LK_BUG("metric %s: no function", name ? name : "(null)");
    lk_metric *m = reg(t, name, help, 0, NULL, NULL, 0);
    pthread_mutex_lock(&reg_lock);
    m->fn = fn;
    m->ctx = ctx;
    pthread_mutex_unlock(&reg_lock);
    return m;
}

lk_metric *lk_metric_gauge_func(const char *name, const char *help, double (*fn)(void *ctx),
                                void *ctx)
{
    return reg_func(M_GAUGE_FUNC, name, help, fn, ctx);
}

lk_metric *lk_metric_counter_func(const char *name, const char *help, double (*fn)(void *ctx),
                                  void *ctx)
{
    return reg_func(M_COUNTER_FUNC, name, help, fn, ctx);
}

/* ---- finding a series */

static uint64_t hash_values(int n, const char *const *v)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (int i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)v[i]; *p; p++)
            h = (h ^ *p) * UINT64_C(1099511628211);
        h = (h ^ 0xff) * UINT64_C(1099511628211);
    }
    return h;
}

static series *chain_find(lk_metric *m, uint64_t h, const char *const *v)
{
    for (series *s = m->table[h & (m->tcap - 1)]; s; s = s->next) {
        if (s->hash != h)
            continue;
        int i = 0;
        while (i < m->nlabels && strcmp(s->values[i], v[i]) == 0)
            i++;
        if (i == m->nlabels)
            return s;
    }
    return NULL;
}

static void table_grow(lk_metric *m)
{
    size_t ncap = m->tcap ? m->tcap * 2 : 16;
    series **nt = lk_calloc(ncap, sizeof *nt);
    for (size_t i = 0; i < m->tcap; i++) {
        for (series *s = m->table[i], *next; s; s = next) {
            next = s->next;
            s->next = nt[s->hash & (ncap - 1)];
            nt[s->hash & (ncap - 1)] = s;
        }
    }
    free(m->table);
    m->table = nt;
    m->tcap = ncap;
}

static series *get_series(lk_metric *m, const char *const *v)
{
    if (m->nlabels == 0)
        return &m->solo;
    if (!v)
        LK_BUG("metric %s: label values missing", m->name);
    for (int i = 0; i < m->nlabels; i++)
        if (!v[i])
            LK_BUG("metric %s: label value %d is NULL", m->name, i);
    uint64_t h = hash_values(m->nlabels, v);
    pthread_rwlock_rdlock(&m->lock);
    series *s = m->tcap ? chain_find(m, h, v) : NULL;
    pthread_rwlock_unlock(&m->lock);
    if (s)
        return s;
    pthread_rwlock_wrlock(&m->lock);
    s = m->tcap ? chain_find(m, h, v) : NULL;
    if (!s) {
        if (m->count + 1 > m->tcap) /* load factor <= 1 */
            table_grow(m);
        s = lk_calloc(1, sizeof *s);
        s->hash = h;
        s->values = lk_calloc((size_t)m->nlabels, sizeof *s->values);
        for (int i = 0; i < m->nlabels; i++)
            s->values[i] = lk_strdup(v[i]);
        series_init(m, s);
        s->next = m->table[h & (m->tcap - 1)];
        m->table[h & (m->tcap - 1)] = s;
        m->count++;
    }
    pthread_rwlock_unlock(&m->lock);
    return s;
}

/* ---- updates */

void lk_counter_add(lk_metric *m, const char *const *label_values, double v)
{
    if (m->type != M_COUNTER)
        LK_BUG("metric %s is not a counter", m->name);
    if (!(v >= 0)) /* counters never go down; NaN is dropped too */
        return;
    atomic_add_double(&get_series(m, label_values)->value, v);
}

void lk_gauge_set(lk_metric *m, const char *const *label_values, double v)
{
    if (m->type != M_GAUGE)
        LK_BUG("metric %s is not a gauge", m->name);
    atomic_store_explicit(&get_series(m, label_values)->value, double_to_bits(v),
                          memory_order_relaxed);
}

void lk_gauge_add(lk_metric *m, const char *const *label_values, double v)
{
    if (m->type != M_GAUGE)
        LK_BUG("metric %s is not a gauge", m->name);
    atomic_add_double(&get_series(m, label_values)->value, v);
}

void lk_histogram_observe(lk_metric *m, const char *const *label_values, double v)
{
    if (m->type != M_HISTOGRAM)
        LK_BUG("metric %s is not a histogram", m->name);
    series *s = get_series(m, label_values);
    int lo = 0, hi = m->nbuckets; /* first bucket with v <= bound, or nbuckets (+Inf) */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (v <= m->buckets[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&s->counts[lo], 1, memory_order_relaxed);
    atomic_add_double(&s->sum, v);
}

/* ---- rendering */

void lk_metrics_format_value(lk_buf *out, double v)
{
    if (v == 0) /* Prometheus' writeFloat: -0 prints as 0 */
        lk_buf_putc(out, '0');
    else
        lk_gofloat_append(out, v, 'g', -1);
}

static void put_escaped(lk_buf *out, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            lk_buf_puts(out, "\\\\");
        else if (*s == '\n')
            lk_buf_puts(out, "\\n");
        else if (quote && *s == '"')
            lk_buf_puts(out, "\\\"");
        else
            lk_buf_putc(out, *s);
    }
}

/* name{a="x",b="y"[,le="..."]} */
static void put_series_name(lk_buf *out, const lk_metric *m, const char *suffix, const series *s,
                            const char *le)
{
    lk_buf_puts(out, m->name);
    lk_buf_puts(out, suffix);
    if (m->nlabels == 0 && !le)
        return;
    lk_buf_putc(out, '{');
    for (int i = 0; i < m->nlabels; i++) {
        if (i)
            lk_buf_putc(out, ',');
        lk_buf_puts(out, m->label_names[i]);
        lk_buf_puts(out, "=\"");
        put_escaped(out, s->values[i], true);
        lk_buf_putc(out, '"');
    }
    if (le) {
        if (m->nlabels)
            lk_buf_putc(out, ',');
        lk_buf_puts(out, "le=\"");
        lk_buf_puts(out, le);
        lk_buf_putc(out, '"');
    }
    lk_buf_putc(out, '}');
}

static void put_sample(lk_buf *out, const lk_metric *m, const char *suffix, const series *s,
                       const char *le, double v)
{
    put_series_name(out, m, suffix, s, le);
    lk_buf_putc(out, ' ');
    lk_metrics_format_value(out, v);
    lk_buf_putc(out, '\n');
}

static void render_histogram(lk_buf *out, const lk_metric *m, series *s)
{
    uint64_t cum = 0;
    lk_buf le = { 0 };
    for (int i = 0; i <= m->nbuckets; i++) {
        cum += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
        lk_buf_reset(&le);
        if (i < m->nbuckets)
            lk_metrics_format_value(&le, m->buckets[i]);
        else
            lk_buf_puts(&le, "+Inf");
        put_sample(out, m, "_bucket", s, le.p, (double)cum);
    }
    lk_buf_free(&le);
    put_sample(out, m, "_sum", s, NULL, atomic_get_double(&s->sum));
    put_sample(out, m, "_count", s, NULL, (double)cum);
}

static void render_series(lk_buf *out, const lk_metric *m, series *s)
{
    if (m->type == M_HISTOGRAM)
        render_histogram(out, m, s);
    else
        put_sample(out, m, "", s, NULL, atomic_get_double(&s->value));
}

/* Label count for series_cmp (qsort has no context argument); only
 * rendering sorts, and it holds reg_lock. */
static int g_sort_nlabels;

static int series_cmp(const void *a, const void *b)
{
    const series *x = *(series *const *)a, *y = *(series *const *)b;
    for (int i = 0; i < g_sort_nlabels; i++) {
        int c = strcmp(x->values[i], y->values[i]);
        if (c)
            return c;
    }
    return 0;
}

static int metric_cmp(const void *a, const void *b)
{
    return strcmp((*(lk_metric *const *)a)->name, (*(lk_metric *const *)b)->name);
}

static void render_header(lk_buf *out, const lk_metric *m)
{
    lk_buf_printf(out, "# HELP %s ", m->name);
    put_escaped(out, m->help, false);
    lk_buf_printf(out, "\n# TYPE %s %s\n", m->name, type_name(m->type));
}

static void render_family(lk_buf *out, lk_metric *m)
{
    if (m->type == M_GAUGE_FUNC || m->type == M_COUNTER_FUNC) {
        render_header(out, m);
        put_sample(out, m, "", &m->solo, NULL, m->fn(m->ctx));
        return;
    }
    if (m->nlabels == 0) {
        render_header(out, m);
        render_series(out, m, &m->solo);
        return;
    }
    pthread_rwlock_rdlock(&m->lock);
    size_t n = 0;
    series **all = lk_calloc(m->count ? m->count : 1, sizeof *all);
    for (size_t i = 0; i < m->tcap; i++)
        for (series *s = m->table[i]; s; s = s->next)
            all[n++] = s;
    pthread_rwlock_unlock(&m->lock);
    if (n > 0) {
        g_sort_nlabels = m->nlabels;
        qsort(all, n, sizeof *all, series_cmp);
        render_header(out, m);
        for (size_t i = 0; i < n; i++)
            render_series(out, m, all[i]);
    }
    free(all);
}

void lk_metrics_render(lk_buf *out)
{
    pthread_mutex_lock(&reg_lock);
    size_t n = 0, cap = 0;
    lk_metric **all = NULL;
    for (lk_metric *m = reg_head; m; m = m->next) {
        all = lk_grow(all, &cap, n + 1, sizeof *all);
        all[n++] = m;
    }
    if (n)
        qsort(all, n, sizeof *all, metric_cmp);
    for (size_t i = 0; i < n; i++)
        render_family(out, all[i]);
    pthread_mutex_unlock(&reg_lock);
    free(all);
}

static void series_free(const lk_metric *m, series *s)
{
    if (s->values)
        for (int i = 0; i < m->nlabels; i++)
            free(s->values[i]);
    free(s->values);
    free(s->counts);
}

void lk_metrics_reset(void)
{
    pthread_mutex_lock(&reg_lock);
    lk_metric *m = reg_head;
    reg_head = NULL;
    pthread_mutex_unlock(&reg_lock);
    while (m) {
        lk_metric *next = m->next;
        for (size_t i = 0; i < m->tcap; i++) {
            for (series *s = m->table[i], *sn; s; s = sn) {
                sn = s->next;
                series_free(m, s);
                free(s);
            }
        }
        series_free(m, &m->solo);
        free(m->table);
        for (int i = 0; i < m->nlabels; i++)
            free(m->label_names[i]);
        free(m->label_names);
        free(m->buckets);
        free(m->name);
        free(m->help);
        pthread_rwlock_destroy(&m->lock);
        free(m);
        m = next;
    }
}

/* ---- process metrics, with the names of Prometheus' Go client */

enum { PS_UTIME, PS_STIME, PS_STARTTIME, PS_VSIZE, PS_RSS, PS_N };

/* Fields 14, 15, 22, 23 and 24 of /proc/self/stat (1-based, man 5 proc). */
static int read_stat(double out[PS_N])
{
    static const int want[PS_N] = { 14, 15, 22, 23, 24 };
    char buf[4096];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* field 2, the command, may hold spaces */
    if (!p)
        return -1;
    int k = 0, field = 3;
    char *save = NULL;
    for (char *tok = strtok_r(p + 1, " ", &save); tok && k < PS_N;
         tok = strtok_r(NULL, " ", &save), field++)
        if (field == want[k])
            out[k++] = strtod(tok, NULL);
    return k == PS_N ? 0 : -1;
}

static double stat_field(int k)
{
    double v[PS_N];
    if (read_stat(v) != 0)
        return 0;
    return v[k];
}

static double cpu_seconds(void *ctx)
{
    (void)ctx;
    double v[PS_N];
    if (read_stat(v) != 0)
        return 0;
    return (v[PS_UTIME] + v[PS_STIME]) / (double)sysconf(_SC_CLK_TCK);
}

static double resident_bytes(void *ctx)
{
    (void)ctx;
    return stat_field(PS_RSS) * (double)sysconf(_SC_PAGESIZE);
}

static double virtual_bytes(void *ctx)
{
    (void)ctx;
    return stat_field(PS_VSIZE);
}

static double boot_time(void)
{
    char line[256];
    double bt = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "btime ", 6) == 0) {
            bt = strtod(line + 6, NULL);
            break;
        }
    fclose(f);
    return bt;
}

static double start_time(void *ctx)
{
    (void)ctx;
    return boot_time() + stat_field(PS_STARTTIME) / (double)sysconf(_SC_CLK_TCK);
}

static double open_fds(void *ctx)
{
    (void)ctx;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    double n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory being read */
}

static double max_fds(void *ctx)
{
    (void)ctx;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    return rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur;
}

void lk_metrics_register_process(void)
{
    lk_metric_counter_func("process_cpu_seconds_total",
                           "Total user and system CPU time spent in seconds.", cpu_seconds, NULL);
    lk_metric_gauge_func("process_resident_memory_bytes", "Resident memory size in bytes.",
                         resident_bytes, NULL);
    lk_metric_gauge_func("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         virtual_bytes, NULL);
    lk_metric_gauge_func("process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds.", start_time,
                         NULL);
    lk_metric_gauge_func("process_open_fds", "Number of open file descriptors.", open_fds, NULL);
    lk_metric_gauge_func("process_max_fds", "Maximum number of open file descriptors.", max_fds,
                         NULL);
}
