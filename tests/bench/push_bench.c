/* Ingest benchmark client: pushes promtail-shaped batches (S streams x L
 * realistic lines per request, snappy-compressed logproto.PushRequest) over C
 * keep-alive connections for D seconds, then prints lines/s and MB/s.
 *
 *   push_bench -port 3100 -conns 4 -streams 10 -lines 100 -seconds 20
 *
 * With -sustain 1 the requests are built as they are sent (timestamps keep
 * advancing) for the whole -seconds, at most -rate lines per second in all
 * (0: as fast as possible), and a line of progress is printed every 10 s:
 * the sustained-ingest mode of tests/bench/push.sh.
 *
 * With -hicard 1 every stream is new: request i carries streams
 * i*S .. i*S+S-1, labelled {app, container, namespace, pod} with a unique
 * pod (the 100,000-stream benchmark, tests/bench/hicard.sh).
 *
 * Like promtail on C nodes, each connection owns its own streams (a `node`
 * label) and sends their entries in time order. Requests are built up front
 * (timestamps advance per request) so the client spends its time sending. Server CPU and RSS are measured by the wrapper
 * script (tests/bench/push.sh) from /proc. */
#define _GNU_SOURCE
#include <pthread.h>
#include <snappy-c.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/proto/push.pb-c.h"
#include "tests/bench/bench_http.h"

#define HICARD_NAMESPACES 20

static int port = 3100, conns = 4, n_streams = 10, n_lines = 100, seconds = 20, n_prebuilt = 512;
static int sustain, rate, hicard; /* -sustain: build requests as they go; -rate: lines/s cap */
static long long start_base_ns; /* timestamps of request 0 */
static atomic_llong total_lines, total_bytes, total_reqs, total_errors;
static atomic_int stop;

typedef struct req {
    char *buf;
    size_t len;
    long long lines, raw_bytes;
} req;
static req *reqs;

static const char *const methods[] = { "GET", "GET", "GET", "POST", "PUT", "DELETE" };
static const char *const paths[] = { "/api/v1/users", "/api/v1/orders", "/healthz", "/login",
                                     "/api/v1/search?q=boots", "/static/app.js" };
static const char *const users[] = { "alice", "bob", "carol", "dave", "erin", "frank" };
static const int statuses[] = { 200, 200, 200, 201, 204, 301, 400, 404, 500, 503 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_line(char *out, size_t cap, unsigned *seed, long long ts_ms)
{
    int st = statuses[rand_r(seed) % 10];
    snprintf(out, cap,
             "ts=%lld level=%s caller=handler.go:%d method=%s path=%s status=%d duration=%d.%dms "
             "bytes=%d user=%s trace_id=%08x%08x msg=\"%s\"",
             ts_ms, st >= 500 ? "error" : st >= 400 ? "warn" : "info", rand_r(seed) % 400,
             methods[rand_r(seed) % 6], paths[rand_r(seed) % 6], st, rand_r(seed) % 900,
             rand_r(seed) % 10, rand_r(seed) % 200000, users[rand_r(seed) % 6], rand_r(seed),
             rand_r(seed), st >= 500 ? "request failed: upstream timeout" : "request completed");
}

static void build(req *r, int idx, long long base_ns)
{
    unsigned seed = (unsigned)idx * 7919u + 1;
    int node = idx % conns, seq = idx / conns; /* sent by connection `node`, in seq order */
    Logproto__PushRequest pr = LOGPROTO__PUSH_REQUEST__INIT;
    Logproto__StreamAdapter *streams = calloc((size_t)n_streams, sizeof *streams);
    Logproto__StreamAdapter **sp = calloc((size_t)n_streams, sizeof *sp);
    Logproto__EntryAdapter *ents = calloc((size_t)(n_streams * n_lines), sizeof *ents);
    Logproto__EntryAdapter **ep = calloc((size_t)(n_streams * n_lines), sizeof *ep);
    Logproto__Timestamp *tss = calloc((size_t)(n_streams * n_lines), sizeof *tss);
    char **labels = calloc((size_t)n_streams, sizeof *labels);
    char **lines = calloc((size_t)(n_streams * n_lines), sizeof *lines);
    r->lines = 0;
    r->raw_bytes = 0;
    for (int s = 0; s < n_streams; s++) {
        labels[s] = malloc(256);
        int gid = idx * n_streams + s; /* -hicard: the stream's number */
        if (hicard)
            snprintf(labels[s], 256,
                     "{app=\"app-%d\", container=\"main\", namespace=\"ns%d\", "
                     "pod=\"app-%d-%07d\"}",
                     gid % 100, gid % HICARD_NAMESPACES, gid % 100, gid);
        else
            snprintf(labels[s], 256,
                 "{app=\"app-%d\", container=\"main\", job=\"bench/app-%d\", namespace=\"ns-%d\", "
                 "node=\"node-%d\", pod=\"app-%d-7d9f-%05d\", stream=\"stdout\"}",
                 s % 20, s % 20, s % 5, node, s % 20, s);
        logproto__stream_adapter__init(&streams[s]);
        streams[s].labels = labels[s];
        streams[s].n_entries = (size_t)n_lines;
        streams[s].entries = &ep[s * n_lines];
        sp[s] = &streams[s];
        for (int l = 0; l < n_lines; l++) {
            int k = s * n_lines + l;
            long long ts = base_ns + (long long)seq * 1000000LL * n_lines + l * 1000000LL + s;
            lines[k] = malloc(512);
            make_line(lines[k], 512, &seed, ts / 1000000);
            logproto__timestamp__init(&tss[k]);
            tss[k].seconds = ts / 1000000000LL;
            tss[k].nanos = (int)(ts % 1000000000LL);
            logproto__entry_adapter__init(&ents[k]);
            ents[k].timestamp = &tss[k];
            ents[k].line = lines[k];
            ep[k] = &ents[k];
            r->lines++;
            r->raw_bytes += (long long)strlen(lines[k]);
        }
    }
    pr.n_streams = (size_t)n_streams;
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
    r->buf = malloc((size_t)hl + clen);
    memcpy(r->buf, hdr, (size_t)hl);
    memcpy(r->buf + hl, comp, clen);
    r->len = (size_t)hl + clen;
    free(comp);
    free(packed);
    for (int k = 0; k < n_streams * n_lines; k++)
        free(lines[k]);
    for (int s = 0; s < n_streams; s++)
        free(labels[s]);
    free(lines);
    free(labels);
    free(tss);
    free(ep);
    free(ents);
    free(sp);
    free(streams);
}

static void free_req(req *r)
{
    free(r->buf);
    r->buf = NULL;
}

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    int fd = bench_connect(port);
    double t0 = now_s();
    long long sent = 0;
    for (int i = id; !atomic_load(&stop); i += conns) {
        req own = { 0 };
        req *r = &own;
        if (sustain) {
            build(r, i, start_base_ns);
            if (rate > 0) { /* this connection's share of the rate */
                double due = t0 + (double)sent / ((double)rate / conns);
                double wait = due - now_s();
                if (wait > 0)
                    usleep((useconds_t)(wait * 1e6));
            }
        } else {
            if (i >= n_prebuilt) /* past the prebuilt set: new timestamps are needed */
                break;
            r = &reqs[i];
        }
        size_t off = 0;
        while (off < r->len) {
            ssize_t n = write(fd, r->buf + off, r->len - off);
            if (n <= 0) {
                perror("write");
                free_req(&own);
                return NULL;
            }
            off += (size_t)n;
        }
        int st = bench_read_response(fd);
        sent += r->lines;
        if (st != 204) {
            atomic_fetch_add(&total_errors, 1);
            if (st < 0) {
                close(fd);
                fd = bench_connect(port);
            }
            free_req(&own);
            continue;
        }
        atomic_fetch_add(&total_lines, r->lines);
        atomic_fetch_add(&total_bytes, r->raw_bytes);
        atomic_fetch_add(&total_reqs, 1);
        free_req(&own);
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "-port")) port = v;
        else if (!strcmp(argv[i], "-conns")) conns = v;
        else if (!strcmp(argv[i], "-streams")) n_streams = v;
        else if (!strcmp(argv[i], "-lines")) n_lines = v;
        else if (!strcmp(argv[i], "-seconds")) seconds = v;
        else if (!strcmp(argv[i], "-requests")) n_prebuilt = v;
        else if (!strcmp(argv[i], "-sustain")) sustain = v;
        else if (!strcmp(argv[i], "-rate")) rate = v;
        else if (!strcmp(argv[i], "-hicard")) hicard = v;
        else { fprintf(stderr, "unknown flag %s\n", argv[i]); return 2; }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long base = (long long)ts.tv_sec * 1000000000LL - 30LL * 60 * 1000000000LL;
    start_base_ns = base;
    if (sustain)
        n_prebuilt = 0;
    reqs = calloc((size_t)(n_prebuilt ? n_prebuilt : 1), sizeof *reqs);
    long long wire = 0;
    for (int i = 0; i < n_prebuilt; i++) {
        build(&reqs[i], i, base);
        wire += (long long)reqs[i].len;
    }
    if (!sustain)
        fprintf(stderr, "prebuilt %d requests (%.1f KB on the wire each)\n", n_prebuilt,
                (double)wire / n_prebuilt / 1024);
    pthread_t *th = calloc((size_t)conns, sizeof *th);
    double t0 = now_s();
    for (long i = 0; i < conns; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    double next_report = t0 + 10;
    while (now_s() - t0 < seconds &&
           (sustain || atomic_load(&total_reqs) + atomic_load(&total_errors) < n_prebuilt)) {
        usleep(10000);
        if (sustain && now_s() >= next_report) {
            printf("progress seconds=%.0f lines=%lld errors=%lld\n", now_s() - t0,
                   (long long)total_lines, (long long)total_errors);
            fflush(stdout);
            next_report += 10;
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    double dt = now_s() - t0;
    printf("requests=%lld errors=%lld seconds=%.2f lines_per_sec=%.0f mb_per_sec=%.1f\n",
           (long long)total_reqs, (long long)total_errors, dt, (double)total_lines / dt,
           (double)total_bytes / dt / 1e6);
    return total_errors ? 1 : 0;
}
