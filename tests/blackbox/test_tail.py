#!/usr/bin/env python3
"""Black-box: /loki/api/v1/tail over a WebSocket (a small client written
here: handshake with the accept check, masked client frames). The history
since `start` comes first, then entries pushed after the tail opened,
filtered by the query's pipeline; pings arrive; a close from the client
ends it; bad parameters are a plain 400 before any upgrade; a server
stopping with a tail open exits cleanly; a tenant over
max_concurrent_tail_requests gets Loki's 400 until a tail closes."""
import time

from harness import LOKI29, Lokic, Result
import wire
from wsclient import WS

S = 10**9
def lines_of(msgs):
    return [v[1] for m in msgs for s in m["streams"] for v in s["values"]]


def main():
    t = Result()
    now = time.time_ns()
    with Lokic(limits=LOKI29) as srv:
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
    with Lokic(limits={**LOKI29, "max_concurrent_tail_requests": 1}) as srv:
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

    # Regression: an entry that arrived after the tail's last poll had passed
    # its timestamp was never sent (each poll read from the previous poll's
    # end; promtail batches for up to 1 s, so its entries arrive that late).
    # Polls now read back TAIL_LATE_NS and leave out what they sent.
    with Lokic(limits=LOKI29) as srv:
        ws = WS(srv.port, {"query": '{app="late"}'})
        ws.messages(1.5)  # the (empty) history and a poll past the late entry's time
        late = [(time.time_ns() - 2 * 10**9, "late line")]
        st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="late"}', late)]), wire.PROTO)
        now = [(time.time_ns(), "on-time line")]
        st2, _, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="late"}', now)]), wire.PROTO)
        t.check(st == 204 and st2 == 204, "pushes while tailing")
        msgs, _ = ws.messages(3.5)
        t.eq(sorted(lines_of(msgs)), ["late line", "on-time line"],
             "an entry 2 s late is sent, and each entry once over several polls")
        ws.close()
    t.done()


if __name__ == "__main__":
    main()
