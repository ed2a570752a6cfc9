"""Push encoders for tests: Loki's protobuf PushRequest in block-snappy
(literal-only blocks, valid for every snappy decoder), v1 JSON, gzip."""
import gzip
import json
import zlib


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num, wire, payload):
    key = _varint((num << 3) | wire)
    if wire == 2:
        return key + _varint(len(payload)) + payload
    return key + payload


def _timestamp(ns):
    sec, nanos = divmod(ns, 10**9)
    b = b""
    if sec:
        b += _field(1, 0, _varint(sec))
    if nanos:
        b += _field(2, 0, _varint(nanos))
    return b


def proto_push(streams):
    """streams: [(label_string, [(ns, line) or (ns, line, {meta})...])]"""
    req = b""
    for labels, entries in streams:
        s = _field(1, 2, labels.encode())
        for e in entries:
            ns, line = e[0], e[1]
            body = _field(1, 2, _timestamp(ns)) + _field(2, 2, line.encode() if isinstance(line, str) else line)
            for k, v in (e[2] if len(e) > 2 else {}).items():
                body += _field(3, 2, _field(1, 2, k.encode()) + _field(2, 2, v.encode()))
            s += _field(2, 2, body)
        req += _field(1, 2, s)
    return req


def snappy(data):
    out = bytearray(_varint(len(data)))
    i = 0
    while i < len(data):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2, n & 0xFF, n >> 8])
        out += chunk
        i += len(chunk)
    return bytes(out)


def proto_body(streams):
    return snappy(proto_push(streams))


def json_body(streams):
    """streams: [({label: value}, [(ns, line) or (ns, line, {meta})])]"""
    return json.dumps({"streams": [
        {"stream": lab, "values": [[str(e[0]), e[1]] + ([e[2]] if len(e) > 2 else []) for e in ents]}
        for lab, ents in streams]}).encode()


def gz(data):
    return gzip.compress(data)


def deflate(data):
    return zlib.compress(data)


PROTO = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
