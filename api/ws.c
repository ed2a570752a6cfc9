/* WebSocket framing (api/ws.h). Frames out: FIN set, no mask, 7-bit,
 * 16-bit or 64-bit length. Frames in: must be masked (clients always
 * mask); control frames (at most 125 bytes) are read whole, other frames
 * up to WS_MAX_IN bytes are read and dropped, a larger one ends the
 * connection. */
#include "api/ws.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/sha1.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_MAX_IN 65536

void ws_accept_value(lk_str key, lk_buf *out)
{
    uint8_t d[LK_SHA1_LEN];
    lk_sha1(key.p, key.len, WS_GUID, sizeof WS_GUID - 1, d);
    lk_buf_reset(out);
    lk_base64_encode(d, sizeof d, out);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

int ws_send(int fd, int opcode, const void *p, size_t n)
{
    uint8_t h[10];
    size_t hl = 2;
    h[0] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (n < 126) {
        h[1] = (uint8_t)n;
    } else if (n <= 0xffff) {
        h[1] = 126;
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    if (write_all(fd, h, hl) != 0)
        return -1;
    return n ? write_all(fd, p, n) : 0;
}

void ws_send_close(int fd, uint16_t code, lk_str reason)
{
    uint8_t b[125];
    size_t n = reason.len < sizeof b - 2 ? reason.len : sizeof b - 2;
    b[0] = (uint8_t)(code >> 8);
    b[1] = (uint8_t)code;
    memcpy(b + 2, reason.p, n);
    ws_send(fd, WS_CLOSE, b, n + 2);
}

/* Reads exactly n bytes, waiting at most timeout_ms for each piece. */
static int read_full(int fd, uint8_t *p, size_t n, int timeout_ms)
{
    while (n) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int r = poll(&pf, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t k = recv(fd, p, n, 0);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads and handles one frame whose first byte is ready. true: gone. */
static bool read_frame(int fd)
{
    uint8_t h[14];
    if (read_full(fd, h, 2, 1000) != 0 || !(h[1] & 0x80))
        return true; /* EOF, or an unmasked client frame */
    int opcode = h[0] & 0x0f;
    uint64_t n = h[1] & 0x7f;
    if (n == 126 || n == 127) {
        size_t k = n == 126 ? 2 : 8;
        if (read_full(fd, h + 2, k, 1000) != 0)
            return true;
        n = 0;
        for (size_t i = 0; i < k; i++)
            n = n << 8 | h[2 + i];
    }
    uint8_t mask[4];
    if (n > WS_MAX_IN || (opcode >= 0x8 && n > 125) || read_full(fd, mask, 4, 1000) != 0)
        return true;
    uint8_t buf[WS_MAX_IN]; /* connection threads have 4 MiB stacks */
    if (n && read_full(fd, buf, (size_t)n, 1000) != 0)
        return true;
    for (uint64_t i = 0; i < n; i++)
        buf[i] ^= mask[i & 3];
    if (opcode == WS_CLOSE)
        return true;
    if (opcode == WS_PING)
        ws_send(fd, WS_PONG, buf, (size_t)n);
    return false;
}

bool ws_client_gone(int fd, int timeout_ms)
{
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    int r = poll(&pf, 1, timeout_ms);
    if (r < 0)
        return errno != EINTR;
    if (r == 0)
        return false;
    if (pf.revents & (POLLERR | POLLNVAL))
        return true;
    return read_frame(fd);
}
