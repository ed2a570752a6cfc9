#!/usr/bin/env python3
"""Black-box: /loki/api/v1/tail over a WebSocket (a small client written
here: handshake with the accept check, masked client frames). The history
since `start` comes first, then entries pushed after the tail opened,
filtered by the query's pipeline; pings arrive; a close from the client
ends it; bad parameters are a plain 400 before any upgrade; a server
stopping with a tail open exits cleanly; a tenant over
max_concurrent_tail_requests gets Loki's 400 until a tail closes."""
import base64
import hashlib
import json
import os
import socket
import struct
import time
import urllib.parse

from harness import Lokic, Result
import wire

S = 10**9
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WS:
    def __init__(self, port, params):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        path = "/loki/api/v1/tail?" + urllib.parse.urlencode(params)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            head += chunk
        self.head = head.decode("latin-1")
        self.expected_accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()

    def read_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out

    def frame(self):
        b0, b1 = self.read_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self.read_exact(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self.read_exact(8))[0]
        return b0 & 0x0F, self.read_exact(n)

    def messages(self, seconds):
        """Text messages (decoded) and the number of pings within seconds."""
        msgs, pings = [], 0
        end = time.time() + seconds
        self.sock.settimeout(0.5)
        while time.time() < end:
            try:
                op, data = self.frame()
            except socket.timeout:
                continue
            if op == 1:
                msgs.append(json.loads(data))
            elif op == 9:
                pings += 1
            elif op == 8:
                break
        self.sock.settimeout(10)
        return msgs, pings

    def close(self):
        mask = os.urandom(4)
        payload = struct.pack(">H", 1000)
        self.sock.sendall(bytes([0x88, 0x80 | len(payload)]) + mask +
                          bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def lines_of(msgs):
    return [v[1] for m in msgs for s in m["streams"] for v in s["values"]]


def main():
    t = Result()
    now = time.time_ns()
    with Lokic() as srv:
        old = [(now - 60 * S + i, "old line %d" % i) for i in range(3)]
        st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="tail"}', old)]), wire.PROTO)
        t.eq(st, 204, "push history")
        ws = WS(srv.port, {"query": '{app="tail"} != "skip"', "start": str(now - 120 * S)})
        t.check(ws.head.startswith("HTTP/1.1 101"), "101 Switching Protocols: %r" % ws.head[:40])
        t.check("sec-websocket-accept: " + ws.expected_accept.lower() in ws.head.lower(),
                "the accept value matches the key")
        msgs, _ = ws.messages(1.5)
        t.eq(sorted(lines_of(msgs)), ["old line 0", "old line 1", "old line 2"], "history first")
        t.eq(msgs[0]["streams"][0]["stream"] if msgs else None, {"app": "tail"}, "stream labels")
        new = [(time.time_ns() + i, "new line %d" % i) for i in range(2)] + [(time.time_ns() + 5, "skip me")]
        st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="tail"}', new)]), wire.PROTO)
        t.eq(st, 204, "push while tailing")
        msgs, pings = ws.messages(3.5)
        t.eq(sorted(lines_of(msgs)), ["new line 0", "new line 1"], "new entries, filtered by the pipeline")
        t.check(pings >= 2, "pings every second: %d" % pings)
        ws.close()
        ws.sock.settimeout(5)
        try:
            op, _ = ws.frame()
            while op != 8:
                op, _ = ws.frame()
            closed = True
        except (EOFError, OSError):
            closed = True
        t.check(closed, "the server ends the tail after the client's close")

        for params, want in [({"query": '{app="tail"}', "delay_for": "6"}, "delay_for can't be greater than 5"),
                             ({"query": 'rate({app="tail"}[1m])'}, "only log selector is supported"),
                             ({"query": '{app="tail"'}, "parse error")]:
            st, body, _ = srv.get("/loki/api/v1/tail", params)
            t.check(st == 400 and want.encode() in body, "400 %r: %s %r" % (params, st, body[:100]))
        st, body, _ = srv.get("/loki/api/v1/tail", {"query": '{app="tail"}'})
        t.check(st == 400 and b"websocket" in body, "not a WebSocket request: %s %r" % (st, body[:100]))

        # a tail still open when the server stops
        ws2 = WS(srv.port, {"query": '{app="tail"}'})
        t.check(ws2.head.startswith("HTTP/1.1 101"), "second tail open")
        t0 = time.time()
        srv.stop()
        t.check(time.time() - t0 < 10, "stopped with a tail open in %.1fs" % (time.time() - t0))

    # max_concurrent_tail_requests per tenant, freed when a tail ends
    with Lokic(limits={"max_concurrent_tail_requests": 1}) as srv:
        first = WS(srv.port, {"query": '{app="tail"}'})
        t.check(first.head.startswith("HTTP/1.1 101"), "first tail under the limit")
        second = WS(srv.port, {"query": '{app="tail"}'})
        t.check(second.head.startswith("HTTP/1.1 400"), "second tail over the limit: %r" % second.head[:40])
        body = second.sock.recv(200)
        t.check(b"max concurrent tail requests limit exceeded, count > limit (2 > 1)" in body,
                "Loki's message: %r" % body)
        first.close()
        first.messages(2)
        deadline = time.time() + 5
        third = WS(srv.port, {"query": '{app="tail"}'})
        while not third.head.startswith("HTTP/1.1 101") and time.time() < deadline:
            time.sleep(0.1)  # the slot is freed as the first tail's thread ends
            third = WS(srv.port, {"query": '{app="tail"}'})
        t.check(third.head.startswith("HTTP/1.1 101"), "a slot is free again after a close: %r" % third.head[:40])
    t.done()


if __name__ == "__main__":
    main()
