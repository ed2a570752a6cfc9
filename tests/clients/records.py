"""What a real-client test finds in lokic: every entry of a log selector
since t0, with its stream labels and structured metadata, as Grafana asks
for them (categorize-labels)."""
import time

S = 10**9


def records(srv, selector, t0):
    """[(stream labels, line, structured metadata)] oldest first, or None
    when the query fails."""
    st, body = srv.get_json("/loki/api/v1/query_range", {
        "query": selector, "start": str(t0 - 60 * S), "end": str(time.time_ns() + 60 * S),
        "limit": "5000", "direction": "forward"},
        headers={"X-Loki-Response-Encoding-Flags": "categorize-labels"})
    if st != 200:
        return None
    got = []
    for s in body["data"]["result"]:
        for v in s["values"]:
            got.append((s["stream"], v[1], v[2].get("structuredMetadata", {})))
    return got
