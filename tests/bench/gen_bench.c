/* Query benchmark dataset: generates realistic log lines — logfmt API logs,
 * JSON worker logs and nginx access logs — for S streams over a time span,
 * deterministically, and pushes them to lokic as promtail does (snappy
 * logproto.PushRequest, each connection owning its streams and sending
 * them in time order).
 *
 *   gen_bench -port 3100 -streams 200 -lines 1500000 -span 3600 -conns 4 [-end <unix s>]
 *
 * Streams: 25 apps x 4 pods x 2 levels, labelled
 *   {job="bench/app-NN", app="app-NN", namespace="nsK", pod="app-NN-xxxx-P",
 *    level="info|error", format="logfmt|json|nginx", container="main"}
 * Prints the pushed lines, raw bytes and the [start, end] of the data (ns)
 * as `start_ns=... end_ns=...` for tests/bench/query.sh. */
#define _GNU_SOURCE
#include <pthread.h>
#include <snappy-c.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/proto/push.pb-c.h"
#include "tests/bench/bench_http.h"

#define APPS 25
#define BATCH 500 /* lines per stream per request */
#define STREAMS_PER_REQ 8

static int port = 3100, n_streams = 200, conns = 4;
static long long n_lines = 1500000, span_s = 3600, end_s;
static long long start_ns, step_ns; /* per stream line spacing */
static atomic_llong pushed_lines, pushed_bytes, errors;

static const char *const methods[] = { "GET", "GET", "GET", "POST", "PUT", "DELETE" };
static const char *const paths[] = { "/api/v1/users", "/api/v1/orders", "/api/v1/cart",
                                     "/healthz", "/login", "/api/v2/search", "/static/app.js" };
static const char *const queues[] = { "emails", "billing", "thumbnails", "exports", "webhooks" };
static const char *const agents[] = { "Mozilla/5.0 Chrome/126.0", "curl/8.5.0",
                                      "Go-http-client/1.1", "kube-probe/1.29" };
static const int ok_status[] = { 200, 200, 200, 200, 201, 204, 301, 304, 400, 404 };
static const int err_status[] = { 500, 502, 503, 504, 429 };

typedef struct stream {
    int id, app;
    char labels[320];
    unsigned long long rng;
    long long next; /* next line index */
    long long n;    /* lines of this stream */
} stream;

static stream *streams;

static unsigned long long rnd(stream *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static int fmt_of(int app)
{
    return app % 3; /* 0 logfmt, 1 json, 2 nginx */
}

static void init_stream(stream *s, int id)
{
    static const char *const fmts[] = { "logfmt", "json", "nginx" };
    s->id = id;
    s->app = id / 8;
    int pod = (id / 2) % 4;
    const char *level = id % 2 ? "error" : "info";
    snprintf(s->labels, sizeof s->labels,
             "{app=\"app-%02d\", container=\"main\", format=\"%s\", job=\"bench/app-%02d\", "
             "level=\"%s\", namespace=\"ns%d\", pod=\"app-%02d-%04x-%d\"}",
             s->app, fmts[fmt_of(s->app)], s->app, level, s->app % 8, s->app, 0x5a17 + s->app,
             pod);
    s->rng = 0x9e3779b97f4a7c15ull * (unsigned long long)(id + 1);
    s->n = n_lines / n_streams + (id < n_lines % n_streams ? 1 : 0);
}

static void make_line(stream *s, long long ts, char *out, size_t cap)
{
    bool err = s->id % 2;
    time_t sec = (time_t)(ts / 1000000000LL);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char when[40];
    int st = err ? err_status[rnd(s) % 5] : ok_status[rnd(s) % 10];
    unsigned long long tr = rnd(s);
    switch (fmt_of(s->app)) {
    case 0:
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out, cap,
                 "ts=%s.%03lldZ level=%s method=%s path=%s status=%d duration=%d.%dms "
                 "bytes=%d trace=%08llx msg=\"%s\"",
                 when, (ts / 1000000) % 1000, err ? "error" : "info", methods[rnd(s) % 6],
                 paths[rnd(s) % 7], st, (int)(rnd(s) % 900), (int)(rnd(s) % 10),
                 (int)(rnd(s) % 50000), tr & 0xffffffffull,
                 err ? "upstream timeout" : "ok");
        break;
    case 1:
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out, cap,
                 "{\"ts\":\"%s.%03lldZ\",\"level\":\"%s\",\"queue\":\"%s\",\"job_id\":%d,"
                 "\"latency_ms\":%d,\"msg\":\"%s\"}",
                 when, (ts / 1000000) % 1000, err ? "error" : "info", queues[rnd(s) % 5],
                 (int)(rnd(s) % 1000000), (int)(rnd(s) % 2000), err ? "job failed" : "job done");
        break;
    default:
        strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
        snprintf(out, cap, "10.%d.%d.%d - - [%s] \"%s %s HTTP/1.1\" %d %d \"-\" \"%s\"",
                 (int)(rnd(s) % 256), (int)(rnd(s) % 256), (int)(rnd(s) % 256), when,
                 methods[rnd(s) % 6], paths[rnd(s) % 7], st, (int)(rnd(s) % 40000),
                 agents[rnd(s) % 4]);
        break;
    }
}

/* A pusher's request under construction. */
typedef struct batch {
    Logproto__EntryAdapter ents[STREAMS_PER_REQ * BATCH];
    Logproto__EntryAdapter *ep[STREAMS_PER_REQ * BATCH];
    Logproto__Timestamp tss[STREAMS_PER_REQ * BATCH];
    char text[STREAMS_PER_REQ * BATCH][384];
} batch;

/* One request: the next BATCH lines of up to STREAMS_PER_REQ of the given
 * streams. Returns its size (0 when they are all done). */
static size_t build(batch *b, stream **ss, int n, char **wire, long long *lines,
                    long long *bytes)
{
    Logproto__PushRequest pr = LOGPROTO__PUSH_REQUEST__INIT;
    Logproto__StreamAdapter st[STREAMS_PER_REQ], *sp[STREAMS_PER_REQ];
    Logproto__EntryAdapter *ents = b->ents, **ep = b->ep;
    Logproto__Timestamp *tss = b->tss;
    char(*text)[384] = b->text;
    int k = 0, used = 0;
    *lines = *bytes = 0;
    for (int i = 0; i < n && used < STREAMS_PER_REQ; i++) {
        stream *s = ss[i];
        if (s->next >= s->n)
            continue;
        logproto__stream_adapter__init(&st[used]);
        st[used].labels = s->labels;
        st[used].entries = &ep[k];
        size_t m = 0;
        for (; m < BATCH && s->next < s->n; m++, s->next++, k++) {
            long long ts = start_ns + s->next * step_ns + (long long)(rnd(s) % (unsigned long long)(step_ns / 2)) + s->id;
            make_line(s, ts, text[k], sizeof text[k]);
            logproto__timestamp__init(&tss[k]);
            tss[k].seconds = ts / 1000000000LL;
            tss[k].nanos = (int)(ts % 1000000000LL);
            logproto__entry_adapter__init(&ents[k]);
            ents[k].timestamp = &tss[k];
            ents[k].line = text[k];
            ep[k] = &ents[k];
            *bytes += (long long)strlen(text[k]);
        }
        st[used].n_entries = m;
        *lines += (long long)m;
        sp[used] = &st[used];
        used++;
    }
    if (!used)
        return 0;
    pr.n_streams = (size_t)used;
    pr.streams = sp;
    size_t plen = logproto__push_request__get_packed_size(&pr);
    uint8_t *packed = malloc(plen);
    logproto__push_request__pack(&pr, packed);
    size_t clen = snappy_max_compressed_length(plen);
    char *comp = malloc(clen);
    snappy_compress((const char *)packed, plen, comp, &clen);
    char hdr[256];
    int hl = snprintf(hdr, sizeof hdr,
                      "POST /loki/api/v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                      clen);
    *wire = malloc((size_t)hl + clen);
    memcpy(*wire, hdr, (size_t)hl);
    memcpy(*wire + hl, comp, clen);
    free(comp);
    free(packed);
    return (size_t)hl + clen;
}

static void *pusher(void *arg)
{
    int id = (int)(long)arg;
    stream **mine = calloc((size_t)n_streams, sizeof *mine);
    int n = 0;
    for (int s = id; s < n_streams; s += conns)
        mine[n++] = &streams[s];
    int fd = bench_connect(port);
    batch *b = malloc(sizeof *b);
    for (int round = 0;; round++) {
        /* rotate so every stream advances at the same pace */
        int off = (round * STREAMS_PER_REQ) % (n ? n : 1);
        stream **order = calloc((size_t)n, sizeof *order);
        for (int i = 0; i < n; i++)
            order[i] = mine[(off + i) % n];
        char *wire = NULL;
        long long lines, bytes;
        size_t len = build(b, order, n, &wire, &lines, &bytes);
        free(order);
        if (!len)
            break;
        for (size_t o = 0; o < len;) {
            ssize_t w = write(fd, wire + o, len - o);
            if (w <= 0) {
                perror("write");
                exit(1);
            }
            o += (size_t)w;
        }
        free(wire);
        if (bench_read_response(fd) != 204) {
            atomic_fetch_add(&errors, 1);
            continue;
        }
        atomic_fetch_add(&pushed_lines, lines);
        atomic_fetch_add(&pushed_bytes, bytes);
    }
    close(fd);
    free(b);
    free(mine);
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        long long v = atoll(argv[i + 1]);
        if (!strcmp(argv[i], "-port")) port = (int)v;
        else if (!strcmp(argv[i], "-streams")) n_streams = (int)v;
        else if (!strcmp(argv[i], "-lines")) n_lines = v;
        else if (!strcmp(argv[i], "-span")) span_s = v;
        else if (!strcmp(argv[i], "-conns")) conns = (int)v;
        else if (!strcmp(argv[i], "-end")) end_s = v;
        else { fprintf(stderr, "unknown flag %s\n", argv[i]); return 2; }
    }
    if (n_streams < 1 || n_lines < n_streams || span_s < 1 || conns < 1) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    if (!end_s)
        end_s = (long long)time(NULL) / 60 * 60;
    start_ns = (end_s - span_s) * 1000000000LL;
    streams = calloc((size_t)n_streams, sizeof *streams);
    for (int s = 0; s < n_streams; s++)
        init_stream(&streams[s], s);
    step_ns = span_s * 1000000000LL / (n_lines / n_streams + 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t *th = calloc((size_t)conns, sizeof *th);
    for (long i = 0; i < conns; i++)
        pthread_create(&th[i], NULL, pusher, (void *)i);
    for (int i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("lines=%lld bytes=%lld push_seconds=%.2f errors=%lld start_ns=%lld end_ns=%lld\n",
           (long long)pushed_lines, (long long)pushed_bytes, dt, (long long)errors, start_ns,
           end_s * 1000000000LL);
    free(th);
    free(streams);
    return errors ? 1 : 0;
}
