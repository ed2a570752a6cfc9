#!/usr/bin/env python3
"""Black-box: regex line filters answer as Go's regexp does, in time linear in
the line (issue 9 item 2). With a backtracking matcher `(a|aa)+b` gave up on a
long line and read the give-up as 'no match': `|~` dropped a line that
contains "aab" and `!~` kept it. Here a ReDoS battery (nested quantifiers,
overlapping alternations, no literal) runs over lines of 25 KB and 50 KB:
every answer must be Go's, every query must finish within seconds, and the
50 KB lines must not cost much more than twice the 25 KB ones."""
import time

from harness import Lokic, Result
import wire

T0 = 1793491200 * 10**9  # 2026-11-01T00:00:00Z
S = 10**9
QUERY_BUDGET_S = 8.0  # one query over 9 long lines, ASan build on a loaded 2-core machine


def subjects(n):
    words = ("word " * (n // 5)).rstrip()
    return ["a" * n, "a" * n + "b", "a" * n + "caab", words + "!", words,
            "x" * n + "a" * 5, "ax" * (n // 2), "1" * n + "x", "1" * n]


# pattern -> indexes of subjects(n) it matches, as Go's regexp answers
# (checked with Go's regexp.MatchString on the same lines).
BATTERY = [
    (r"(a|aa)+b", [1, 2]),
    (r"(a+)+b", [1, 2]),
    (r"(a|a)*b", [1, 2]),
    (r"(.*a){12}", [0, 1, 2, 6]),
    (r"(\w+\s?)+$", [0, 1, 2, 4, 5, 6, 7, 8]),
    (r"^(\d+)*$", [8]),
    (r"(x+x+)+y", []),
    (r"(\w|\d)+!", [3]),
    (r"(a|ab|b)*c", [2]),
    (r"([a-z]+)*[0-9]", [7, 8]),
    (r"(.*)*[bc]", [1, 2]),
    (r"(?i)(A|a)+B", [1, 2]),
]


def logql_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    t = Result()
    with Lokic() as srv:
        lim = [(T0, "a" * 40 + "caab"), (T0 + S, "aab plain")]
        streams = [('{job="lim"}', lim)]
        for size in (25000, 50000):
            streams.append(('{job="redos", size="%d"}' % size,
                            [(T0 + i * S, line) for i, line in enumerate(subjects(size))]))
        st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body(streams), wire.PROTO)
        t.eq(st, 204, "push")
        base = {"start": str(T0), "end": str(T0 + 60 * S), "limit": "100"}

        def lines(q):
            t0 = time.monotonic()
            st, doc = srv.get_json("/loki/api/v1/query_range", dict(base, query=q), timeout=120)
            took = time.monotonic() - t0
            if st != 200:
                t.check(False, "%s: status %d %r" % (q, st, doc))
                return [], took
            return sorted((int(v[0]), v[1]) for s in doc["data"]["result"] for v in s["values"]), took

        # The lines: both contain "ab" after a run of a's.
        got, _ = lines('{job="lim"} |~ "(a|aa)+b"')
        t.eq([l for _, l in got], [lim[0][1], lim[1][1]], "issue 9: |~ (a|aa)+b keeps both lines")
        got, _ = lines('{job="lim"} !~ "(a|aa)+b"')
        t.eq(got, [], "issue 9: !~ (a|aa)+b drops both lines")

        totals = {}
        for size in (25000, 50000):
            total = 0.0
            for pat, want in BATTERY:
                for neg in (False, True):
                    q = '{job="redos", size="%d"} %s %s' % (size, "!~" if neg else "|~", logql_string(pat))
                    got, took = lines(q)
                    idx = [(ts - T0) // S for ts, _ in got]
                    expect = [i for i in range(9) if (i in want) != neg]
                    t.eq(idx, expect, "%s: matching lines" % q)
                    t.check(took < QUERY_BUDGET_S, "%s took %.2fs (budget %.0fs)" % (q, took, QUERY_BUDGET_S))
                    total += took
            totals[size] = total
        # Linear in the line: doubling the lines may double the matching time;
        # quadratic or worse would quadruple it. The constant absorbs the
        # per-query HTTP and selection cost and a loaded machine's noise.
        t.check(totals[50000] < 3 * totals[25000] + 2.0,
                "time grows linearly: 25 KB lines %.2fs, 50 KB lines %.2fs" % (totals[25000], totals[50000]))
        print("battery: 25 KB lines %.3fs, 50 KB lines %.3fs" % (totals[25000], totals[50000]))
    t.done()


if __name__ == "__main__":
    main()
