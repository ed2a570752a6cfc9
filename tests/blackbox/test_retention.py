#!/usr/bin/env python3
"""Black-box: retention. With a 24h retention (compactor.retention_enabled
and limits_config.retention_period, or the older table_manager settings),
data pushed with timestamps three days old is flushed, then its period is
deleted on the next compaction interval: the period's chunk directory and
index keys are gone, queries, labels and series no longer return it, also
after a restart, while recent data stays."""
import glob
import os
import time

from harness import LOKI29, Lokic, Result, wait_for
import wire

S = 10**9
DAY = 86400 * S


def period_dir(srv, ts):
    return os.path.join(srv.tmp, "data", "chunks", "fake", str(ts // DAY))



def values(srv, query, start, end):
    st, doc = srv.get_json("/loki/api/v1/query_range", {"query": query, "start": str(start),
                                                         "end": str(end), "limit": "1000"})
    assert st == 200, (st, doc)
    return sorted(v[1] for s in doc["data"]["result"] for v in s["values"])


def run(t, name, config, limits):
    now = time.time_ns()
    old = now - 3 * DAY
    recent = now - 3600 * S
    with Lokic(config=config, limits=dict(LOKI29, **limits)) as srv:
        streams = [('{app="old"}', [(old + i * S, "old line %d" % i) for i in range(20)]),
                   ('{app="recent"}', [(recent + i * S, "recent line %d" % i) for i in range(20)])]
        st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body(streams), wire.PROTO)
        t.eq(st, 204, "%s: push" % name)
        # flushed after the 1s idle period, then deleted by the next pass
        t.check(wait_for(lambda: (srv.metric("loki_ingester_chunks_flushed_total") or 0) >= 2),
                "%s: chunks flushed" % name)
        t.check(wait_for(lambda: (srv.metric("lokic_retention_periods_deleted_total") or 0) >= 1),
                "%s: retention ran" % name)
        t.check(not os.path.exists(period_dir(srv, old)), "%s: the old period's directory is gone" % name)
        t.check(os.path.isdir(period_dir(srv, recent + 19 * S)), "%s: the recent period stays" % name)
        t.eq(values(srv, '{app="old"}', old - S, old + DAY), [], "%s: old data no longer returned" % name)
        st, doc = srv.get_json("/loki/api/v1/label/app/values", {"start": str(old - S), "end": str(now)})
        t.eq(doc.get("data"), ["recent"], "%s: label values without the old stream" % name)
        st, doc = srv.get_json("/loki/api/v1/series", {"match[]": '{app=~".+"}', "start": str(old - S),
                                                        "end": str(now)})
        t.eq(doc.get("data"), [{"app": "recent"}], "%s: series without the old stream" % name)
        t.eq(len(values(srv, '{app="recent"}', recent - S, now)), 20, "%s: recent data kept" % name)
        srv.stop()
        srv.start()
        t.eq(values(srv, '{app="old"}', old - S, old + DAY), [], "%s: still gone after a restart" % name)
        t.eq(len(values(srv, '{app="recent"}', recent - S, now)), 20,
             "%s: recent data after a restart" % name)
        t.eq(glob.glob(os.path.join(srv.tmp, "data", "chunks", "fake", str(old // DAY), "*")), [],
             "%s: no file of the old period" % name)


def main():
    t = Result()
    ingester = {"chunk_idle_period": "1s", "chunk_retain_period": "0s"}
    run(t, "compactor",
        {"ingester": ingester, "compactor": {"retention_enabled": True, "compaction_interval": "1s"}},
        {"retention_period": "24h"})
    run(t, "table_manager",
        {"ingester": ingester, "compactor": {"compaction_interval": "1s"},
         "table_manager": {"retention_deletes_enabled": True, "retention_period": "24h"}},
        {})
    t.done()


if __name__ == "__main__":
    main()
