/* Connection deadlines and the watchdog that enforces them (see
 * connwatch.h). Connections are a list under one mutex; the watchdog scans
 * it (at most the connection limit, 4096 entries) and shuts a late
 * connection's socket down for reading and writing, which libmicrohttpd's
 * connection thread sees as the peer gone: it closes the connection and
 * calls api_conn_close, and only then closes the fd. Entries leave the
 * list under the mutex, so the watchdog never touches a closed fd. */
#include "api/connwatch.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"

#define MS INT64_C(1000000)
#define NEW_CONN_GRACE_NS (5000 * MS) /* Go's Shutdown: a silent new connection counts as idle */
#define DRAIN_POLL_NS (20 * MS)

typedef enum conn_phase {
    PHASE_NEW,       /* accepted, no request line yet */
    PHASE_READING,   /* request line in, headers or body arriving */
    PHASE_ANSWERING, /* request read, the handler runs */
    PHASE_WRITING,   /* response queued */
    PHASE_UPGRADED,  /* a WebSocket owns the socket */
    PHASE_IDLE,      /* between requests */
} conn_phase;

struct api_conn {
    api_conn *prev, *next;
    int fd;
    conn_phase phase;
    int64_t accepted, req_start; /* monotonic ns */
    int64_t deadline;            /* monotonic ns; 0: none */
    unsigned requests;           /* request lines seen */
    bool cut;                    /* shut down by the watchdog or the drain */
};

struct api_connwatch {
    api_connwatch_opts o;
    int64_t tick_ns;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the watchdog's sleep, ended early to stop it */
    api_conn *head;
    bool quit;
    pthread_t thread;
    lk_metric *m_cut; /* lokic_http_connections_cut_total{reason} */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * LK_NS_PER_SEC + ts.tv_nsec;
}

static int64_t header_timeout(const api_connwatch *w)
{
    return w->o.read_header_timeout_ns ? w->o.read_header_timeout_ns : w->o.read_timeout_ns;
}

static int64_t idle_timeout(const api_connwatch *w)
{
    return w->o.idle_timeout_ns ? w->o.idle_timeout_ns : w->o.read_timeout_ns;
}

/* from + timeout, or 0 (none) for a timeout of 0. */
static int64_t after(int64_t from, int64_t timeout)
{
    return timeout > 0 ? from + timeout : 0;
}

/* The earlier of two deadlines (0: none). */
static int64_t earlier(int64_t a, int64_t b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    return a < b ? a : b;
}

static const char *cut_reason(conn_phase p)
{
    switch (p) {
    case PHASE_NEW:
    case PHASE_READING: return "read_timeout";
    case PHASE_WRITING: return "write_timeout";
    case PHASE_IDLE: return "idle_timeout";
    case PHASE_ANSWERING:
    case PHASE_UPGRADED: break;
    }
    return "other";
}

/* Under w->mu. */
static void cut(api_connwatch *w, api_conn *c, const char *reason)
{
    if (c->cut)
        return;
    c->cut = true;
    c->deadline = 0;
    shutdown(c->fd, SHUT_RDWR);
    const char *labels[1] = { reason };
    lk_counter_add(w->m_cut, labels, 1);
    log_debug("HTTP connection closed", "reason=%s fd=%d", reason, c->fd);
}

static void sweep(api_connwatch *w)
{
    int64_t now = mono_ns();
    pthread_mutex_lock(&w->mu);
    for (api_conn *c = w->head; c; c = c->next)
        if (c->deadline && now >= c->deadline)
            cut(w, c, cut_reason(c->phase));
    pthread_mutex_unlock(&w->mu);
}

static void *watchdog(void *arg)
{
    api_connwatch *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->quit) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t at = (int64_t)ts.tv_sec * LK_NS_PER_SEC + ts.tv_nsec + w->tick_ns;
        ts.tv_sec = (time_t)(at / LK_NS_PER_SEC);
        ts.tv_nsec = (long)(at % LK_NS_PER_SEC);
        pthread_cond_timedwait(&w->wake, &w->mu, &ts);
        if (w->quit)
            break;
        pthread_mutex_unlock(&w->mu);
        sweep(w);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* A tenth of the shortest timeout, within [10 ms, 1 s]. */
static int64_t tick_of(const api_connwatch_opts *o)
{
    int64_t t[] = { o->read_header_timeout_ns, o->read_timeout_ns, o->write_timeout_ns,
                    o->idle_timeout_ns };
    int64_t min = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        min = earlier(min, t[i] > 0 ? t[i] : 0);
    int64_t tick = min ? min / 10 : 1000 * MS;
    return tick < 10 * MS ? 10 * MS : tick > 1000 * MS ? 1000 * MS : tick;
}

int api_connwatch_create(const api_connwatch_opts *o, api_connwatch **out)
{
    api_connwatch *w = lk_calloc(1, sizeof *w);
    w->o = *o;
    w->tick_ns = tick_of(o);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    static const char *const reason[] = { "reason" };
    w->m_cut = lk_metric_counter("lokic_http_connections_cut_total",
                                 "HTTP connections closed by lokic past a deadline (reason: "
                                 "read_timeout, write_timeout, idle_timeout, shutdown).",
                                 1, reason);
    if (pthread_create(&w->thread, NULL, watchdog, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return LK_EIO;
    }
    *out = w;
    return LK_OK;
}

void api_connwatch_destroy(api_connwatch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    while (w->head) { /* none if every connection was closed */
        api_conn *c = w->head;
        w->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

api_conn *api_conn_open(api_connwatch *w, int fd)
{
    api_conn *c = lk_calloc(1, sizeof *c);
    c->fd = fd;
    c->phase = PHASE_NEW;
    c->accepted = c->req_start = mono_ns();
    c->deadline = earlier(after(c->accepted, header_timeout(w)),
                          after(c->accepted, w->o.read_timeout_ns));
    pthread_mutex_lock(&w->mu);
    c->next = w->head;
    if (w->head)
        w->head->prev = c;
    w->head = c;
    pthread_mutex_unlock(&w->mu);
    return c;
}

void api_conn_close(api_connwatch *w, api_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&w->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&w->mu);
    free(c);
}

/* Under w->mu: the phase and deadline an event leads to. */
static void step(api_connwatch *w, api_conn *c, api_conn_event ev, int64_t now)
{
    switch (ev) {
    case API_CONN_REQUEST_LINE:
        if (c->requests++ > 0) /* the first request's clock runs from the accept */
            c->req_start = now;
        c->phase = PHASE_READING;
        c->deadline = earlier(after(c->req_start, header_timeout(w)),
                              after(c->req_start, w->o.read_timeout_ns));
        break;
    case API_CONN_HEADERS:
        c->phase = PHASE_READING;
        c->deadline = after(c->req_start, w->o.read_timeout_ns);
        break;
    case API_CONN_REQUEST_READ:
        c->phase = PHASE_ANSWERING;
        c->deadline = 0;
        break;
    case API_CONN_RESPONSE:
        c->phase = PHASE_WRITING;
        c->deadline = after(now, w->o.write_timeout_ns);
        break;
    case API_CONN_UPGRADED:
        c->phase = PHASE_UPGRADED;
        c->deadline = 0;
        break;
    case API_CONN_DONE:
        c->phase = PHASE_IDLE;
        c->deadline = after(now, idle_timeout(w));
        break;
    }
}

bool api_conn_event_on(api_connwatch *w, api_conn *c, api_conn_event ev)
{
    if (!c)
        return true;
    int64_t now = mono_ns();
    pthread_mutex_lock(&w->mu);
    bool alive = !c->cut;
    if (alive)
        step(w, c, ev, now);
    pthread_mutex_unlock(&w->mu);
    return alive;
}

/* Under w->mu: closes what shutdown need not wait for; counts the rest. */
static size_t drain_pass(api_connwatch *w, int64_t now)
{
    size_t busy = 0;
    for (api_conn *c = w->head; c; c = c->next) {
        if (c->cut)
            continue;
        if (c->phase == PHASE_IDLE ||
            (c->phase == PHASE_NEW && now - c->accepted >= NEW_CONN_GRACE_NS))
            cut(w, c, "shutdown");
        else
            busy++;
    }
    return busy;
}

size_t api_connwatch_drain(api_connwatch *w, int64_t grace_ns)
{
    int64_t end = mono_ns() + grace_ns;
    for (;;) {
        int64_t now = mono_ns();
        pthread_mutex_lock(&w->mu);
        size_t busy = drain_pass(w, now);
        pthread_mutex_unlock(&w->mu);
        if (busy == 0 || now >= end)
            return busy;
        struct timespec ts = { 0, (long)DRAIN_POLL_NS };
        nanosleep(&ts, NULL);
    }
}
