"""tests/bench/ui.sh's measurement: the explorer's page load in headless
chromium against a lokic with data, cold and warm, from Navigation Timing."""
import os
import statistics
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
sys.path.insert(0, os.path.join(HERE, "..", "browser"))

import dataset  # noqa: E402
from harness import Lokic  # noqa: E402
from webdriver import Browser  # noqa: E402

TIMING = """const n = performance.getEntriesByType('navigation')[0];
return n.loadEventEnd > 0 && [n.responseStart, n.domContentLoadedEventEnd, n.loadEventEnd,
  n.transferSize];"""


def measure(b, url, wait_query=False):
    b.get("about:blank")
    b.get(url)
    t = b.wait(TIMING, 20, "the load event")
    if wait_query:
        b.wait("return document.body.dataset.state === 'done'", 20, "the query")
        t = t + [b.js("return performance.now()")]
    return t


def report(name, rows, cols):
    print(name)
    for i, c in enumerate(cols):
        v = [r[i] for r in rows]
        print("  %-26s median %7.1f ms   worst %7.1f ms" % (c, statistics.median(v), max(v)))


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    cols = ["first byte", "DOMContentLoaded", "load (page ready)"]
    with Lokic() as lk:
        dataset.push(lk, dataset.streams())
        page = lk.url + "/"
        cold, warm, query, base = [], [], [], []
        for _ in range(runs):
            with Browser() as b:  # a fresh profile: nothing cached
                # the browser's own cost on this machine: one small text file
                base.append(measure(b, lk.url + "/ui/uplot-LICENSE.txt"))
            with Browser() as b:
                cold.append(measure(b, page))
                warm.append(measure(b, page))
                q = lk.url + "/?" + urllib.parse.urlencode(
                    {"query": '{env="prod"} |= "request"', "from": "now-1h", "to": "now"})
                r = measure(b, q, wait_query=True)
                query.append([r[4]])
        print("lokic %s, %d runs, %d bytes over the wire cold, load average %.1f" % (
            os.environ.get("LOKIC_BIN"), runs, cold[0][3], os.getloadavg()[0]))
        report("baseline: a 1 KB text file, cold", base, cols)
        report("cold (empty cache)", cold, cols)
        report("warm (revalidated by ETag)", warm, cols)
        report("a query in the URL: 800 lines and the histogram drawn", query, ["from navigation"])


if __name__ == "__main__":
    main()
