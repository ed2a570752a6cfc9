/* Unit tests: api/connwatch (connection deadlines, the watchdog, the drain
 * at shutdown) on socket pairs standing in for connections. Issue 9 item 4:
 * a request trickled a byte at a time was never cut (libmicrohttpd's
 * timeout restarts with each byte); item 8: SIGTERM closed requests in
 * flight unanswered. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/connwatch.h"
#include "lib/err.h"
#include "lib/metrics.h"

#define MS INT64_C(1000000)

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Has the server side of the pair been shut down (the peer reads EOF)? */
static bool is_cut(int peer)
{
    struct pollfd p = { .fd = peer, .events = POLLIN };
    if (poll(&p, 1, 0) <= 0)
        return false;
    char c;
    return recv(peer, &c, 1, MSG_DONTWAIT) == 0;
}

/* Waits up to max_ms for the cut; how long it took from t0, or -1. */
static int64_t wait_cut(int peer, int64_t t0, int max_ms)
{
    while (!is_cut(peer)) {
        if (mono_ms() - t0 > max_ms)
            return -1;
        sleep_ms(5);
    }
    return mono_ms() - t0;
}

typedef struct pair {
    int fd[2]; /* [0] the server's, [1] the client's */
} pair;

static pair mkpair(void)
{
    pair p;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p.fd), 0);
    return p;
}

static void closepair(pair p)
{
    close(p.fd[0]);
    close(p.fd[1]);
}

static api_connwatch *watch(int64_t header_ms, int64_t read_ms, int64_t write_ms, int64_t idle_ms)
{
    api_connwatch_opts o = { header_ms * MS, read_ms * MS, write_ms * MS, idle_ms * MS };
    api_connwatch *w = NULL;
    assert_int_equal(api_connwatch_create(&o, &w), LK_OK);
    return w;
}

/* A request trickled a byte at a time is cut at the read deadline, counted
 * from the accept, however often bytes arrive. */
static void test_read_deadline(void **state)
{
    (void)state;
    int64_t t0 = mono_ms();
    api_connwatch *w = watch(0, 300, 0, 0);
    pair p = mkpair();
    api_conn *c = api_conn_open(w, p.fd[0]);
    assert_true(api_conn_event_on(w, c, API_CONN_REQUEST_LINE));
    assert_true(api_conn_event_on(w, c, API_CONN_HEADERS));
    while (!is_cut(p.fd[1]) && mono_ms() - t0 < 3000) {
        ssize_t n = send(p.fd[1], "x", 1, MSG_DONTWAIT); /* the trickle */
        (void)n;
        sleep_ms(10);
    }
    assert_true(is_cut(p.fd[1]));
    assert_in_range(mono_ms() - t0, 300, 2000);
    /* the handler is not run for a connection cut while reading */
    assert_false(api_conn_event_on(w, c, API_CONN_REQUEST_READ));
    api_conn_close(w, c);
    closepair(p);
    api_connwatch_destroy(w);
}

/* The headers have their own, shorter deadline; the body then has the
 * rest of the read timeout. */
static void test_header_deadline(void **state)
{
    (void)state;
    int64_t t0 = mono_ms();
    api_connwatch *w = watch(100, 1500, 0, 0);
    pair slow = mkpair(), quick = mkpair();
    api_conn *cs = api_conn_open(w, slow.fd[0]);
    api_conn *cq = api_conn_open(w, quick.fd[0]);
    api_conn_event_on(w, cq, API_CONN_REQUEST_LINE);
    api_conn_event_on(w, cq, API_CONN_HEADERS);
    assert_in_range(wait_cut(slow.fd[1], t0, 1000), 100, 1000); /* no headers in 100 ms */
    assert_false(is_cut(quick.fd[1])); /* headers in: 1.5 s for the whole request */
    assert_in_range(wait_cut(quick.fd[1], t0, 4000), 1500, 4000);
    api_conn_close(w, cs);
    api_conn_close(w, cq);
    closepair(slow);
    closepair(quick);
    api_connwatch_destroy(w);
}

/* No deadline while the handler runs (a long query) or while a WebSocket
 * owns the socket; the write deadline starts with the response. */
static void test_answering_and_upgraded(void **state)
{
    (void)state;
    api_connwatch *w = watch(0, 100, 100, 100);
    pair a = mkpair(), u = mkpair();
    api_conn *ca = api_conn_open(w, a.fd[0]);
    api_conn *cu = api_conn_open(w, u.fd[0]);
    assert_true(api_conn_event_on(w, ca, API_CONN_REQUEST_LINE));
    assert_true(api_conn_event_on(w, ca, API_CONN_HEADERS));
    assert_true(api_conn_event_on(w, ca, API_CONN_REQUEST_READ));
    api_conn_event_on(w, cu, API_CONN_REQUEST_LINE);
    api_conn_event_on(w, cu, API_CONN_HEADERS);
    api_conn_event_on(w, cu, API_CONN_REQUEST_READ);
    api_conn_event_on(w, cu, API_CONN_RESPONSE);
    api_conn_event_on(w, cu, API_CONN_UPGRADED);
    sleep_ms(400);
    assert_false(is_cut(a.fd[1]));
    assert_false(is_cut(u.fd[1]));
    int64_t t0 = mono_ms();
    assert_true(api_conn_event_on(w, ca, API_CONN_RESPONSE));
    /* the client did not read the answer in time */
    assert_in_range(wait_cut(a.fd[1], t0, 2000), 100, 2000);
    assert_false(is_cut(u.fd[1]));
    api_conn_close(w, ca);
    api_conn_close(w, cu);
    closepair(a);
    closepair(u);
    api_connwatch_destroy(w);
}

/* Between requests the idle timeout applies; the next request line starts
 * that request's own read deadline. */
static void test_idle_then_next_request(void **state)
{
    (void)state;
    api_connwatch *w = watch(0, 1500, 0, 150);
    pair p = mkpair(), q = mkpair();
    api_conn *c = api_conn_open(w, p.fd[0]);
    api_conn *d = api_conn_open(w, q.fd[0]);
    api_conn_event_on(w, c, API_CONN_REQUEST_LINE);
    api_conn_event_on(w, d, API_CONN_REQUEST_LINE);
    int64_t t0 = mono_ms();
    api_conn_event_on(w, c, API_CONN_DONE);
    api_conn_event_on(w, d, API_CONN_DONE);
    api_conn_event_on(w, d, API_CONN_REQUEST_LINE); /* d's second request */
    assert_in_range(wait_cut(p.fd[1], t0, 1000), 150, 1000); /* idle past 150 ms */
    assert_false(is_cut(q.fd[1])); /* reading: 1.5 s from its request line */
    assert_in_range(wait_cut(q.fd[1], t0, 4000), 1500, 4000);
    api_conn_close(w, c);
    api_conn_close(w, d);
    closepair(p);
    closepair(q);
    api_connwatch_destroy(w);
}

/* A timeout of 0 is no deadline. */
static void test_zero_is_none(void **state)
{
    (void)state;
    api_connwatch *w = watch(0, 0, 0, 0);
    pair p = mkpair();
    api_conn *c = api_conn_open(w, p.fd[0]);
    sleep_ms(100);
    assert_false(is_cut(p.fd[1]));
    api_conn_event_on(w, c, API_CONN_DONE);
    sleep_ms(100);
    assert_false(is_cut(p.fd[1]));
    api_conn_close(w, c);
    closepair(p);
    api_connwatch_destroy(w);
}

typedef struct finisher {
    api_connwatch *w;
    api_conn *c;
    int after_ms;
} finisher;

static void *finish(void *arg)
{
    finisher *f = arg;
    sleep_ms(f->after_ms);
    api_conn_event_on(f->w, f->c, API_CONN_RESPONSE);
    api_conn_event_on(f->w, f->c, API_CONN_DONE);
    return NULL;
}

/* Shutdown closes idle connections at once and waits for the requests in
 * flight, as long as the grace lasts. */
static void test_drain(void **state)
{
    (void)state;
    api_connwatch *w = watch(0, 0, 0, 0);
    pair idle = mkpair(), busy = mkpair(), fresh = mkpair();
    api_conn *ci = api_conn_open(w, idle.fd[0]);
    api_conn *cb = api_conn_open(w, busy.fd[0]);
    api_conn *cf = api_conn_open(w, fresh.fd[0]); /* accepted, nothing sent yet */
    api_conn_event_on(w, ci, API_CONN_DONE);
    api_conn_event_on(w, cb, API_CONN_REQUEST_LINE);
    api_conn_event_on(w, cb, API_CONN_HEADERS);
    api_conn_event_on(w, cb, API_CONN_REQUEST_READ);
    api_conn_event_on(w, cf, API_CONN_REQUEST_LINE);
    api_conn_event_on(w, cf, API_CONN_HEADERS);

    /* the grace runs out with the request still running */
    int64_t t0 = mono_ms();
    assert_int_equal(api_connwatch_drain(w, 150 * MS), 2);
    assert_in_range(mono_ms() - t0, 150, 3000);
    assert_true(is_cut(idle.fd[1]));
    assert_false(is_cut(busy.fd[1]));

    /* the requests end within the grace: the drain returns then, and the
     * connections that went idle are closed */
    finisher f1 = { w, cb, 100 }, f2 = { w, cf, 200 };
    pthread_t t1, t2;
    pthread_create(&t1, NULL, finish, &f1);
    pthread_create(&t2, NULL, finish, &f2);
    t0 = mono_ms();
    assert_int_equal(api_connwatch_drain(w, 5000 * MS), 0);
    assert_in_range(mono_ms() - t0, 150, 3000);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_true(is_cut(busy.fd[1]));
    assert_true(is_cut(fresh.fd[1]));

    lk_buf m = { 0 };
    lk_metrics_render(&m);
    assert_non_null(strstr(m.p, "lokic_http_connections_cut_total{reason=\"shutdown\"} 3\n"));
    lk_buf_free(&m);
    api_conn_close(w, ci);
    api_conn_close(w, cb);
    api_conn_close(w, cf);
    closepair(idle);
    closepair(busy);
    closepair(fresh);
    api_connwatch_destroy(w);
    lk_metrics_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_deadline),
        cmocka_unit_test(test_header_deadline),
        cmocka_unit_test(test_answering_and_upgraded),
        cmocka_unit_test(test_idle_then_next_request),
        cmocka_unit_test(test_zero_is_none),
        cmocka_unit_test(test_drain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
