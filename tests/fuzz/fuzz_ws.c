/* libFuzzer driver for the WebSocket frame reader (api/ws.h): arbitrary
 * bytes from a client — truncated headers, huge lengths, unmasked frames,
 * pings to answer — must end in "gone" or be consumed without crashing,
 * reading out of bounds or blocking. The bytes arrive through a socket
 * pair whose other end is shut for writing once they are written. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/ws.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 32768) /* stays within the socket buffer: the write never blocks */
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t k = write(sv[1], data + off, size - off);
        if (k <= 0)
            abort();
        off += (size_t)k;
    }
    shutdown(sv[1], SHUT_WR); /* EOF after the bytes; pongs can still be written */
    /* nobody reads the pongs: once the buffer is full, sending fails instead
     * of blocking (lokic sets a send timeout on a tail's socket) */
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    int rounds = 0;
    while (!ws_client_gone(sv[0], 0)) {
        if (++rounds > 100000) /* each round consumes a frame: no endless loop */
            abort();
    }
    close(sv[0]);
    close(sv[1]);
    return 0;
}
