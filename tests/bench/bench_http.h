/* The HTTP client both benchmark programs push with (push_bench.c,
 * gen_bench.c): a keep-alive loopback connection and a reader for one
 * response. Header-only: the benchmarks are single-file programs. */
#ifndef LOKIC_BENCH_HTTP_H
#define LOKIC_BENCH_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connects to 127.0.0.1:port; exits the program when that fails. */
static inline int bench_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Reads one response whole (a long body is drained past the buffer); returns
 * its status, or -1 when the connection broke. The start of a body that is
 * not a 204 goes to stderr. */
static inline int bench_read_response(int fd)
{
    char buf[16384];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have - 1);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) {
            if (have == sizeof buf - 1)
                return -1; /* headers larger than the buffer */
            continue;
        }
        int status = atoi(buf + 9);
        char *cl = strcasestr(buf, "Content-Length:");
        size_t body = cl ? (size_t)atol(cl + 15) : 0;
        size_t got = have - (size_t)(end + 4 - buf);
        if (status != 204)
            fprintf(stderr, "push: HTTP %d: %.*s\n", status, (int)got, end + 4);
        char drain[8192];
        while (got < body) {
            n = read(fd, drain, sizeof drain);
            if (n <= 0)
                return -1;
            got += (size_t)n;
        }
        return status;
    }
}

#endif
