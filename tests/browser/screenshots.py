#!/usr/bin/env python3
"""Screenshots of the log explorer for the README: each view (query with
its histogram and an opened line, metric chart, label browser, live tail)
in the light and the dark theme, taken with headless chromium against a
lokic started here with tests/browser/dataset.py's data. Usage:
  LOKIC_BIN=build/lokic tests/browser/screenshots.py [OUT_DIR (docs/img)]
Writes ui-<view>-<theme>.png, made small by pngquant when it is installed
(apt-get install pngquant)."""
import glob
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
sys.path.insert(0, HERE)

import dataset  # noqa: E402
from harness import Lokic  # noqa: E402
from webdriver import Browser  # noqa: E402

W, H = 1100, 640


def url(lk, **p):
    p.setdefault("from", "now-1h")
    p.setdefault("to", "now")
    return lk.url + "/?" + urllib.parse.urlencode(p)


def settle(b, script="return document.body.dataset.state === 'done'"):
    b.wait(script, 20)
    time.sleep(0.4)


def feed(lk, stop):
    i = 0
    while not stop.is_set():
        level = dataset.LEVELS[i % len(dataset.LEVELS)]
        dataset.push(lk, [{"stream": {"app": "checkout", "env": "prod", "level": level},
                           "values": [[str(time.time_ns()),
                                       'level=%s msg="order placed" order=%d total=%d.%02d' %
                                       (level, 1000 + i, 10 + i % 90, i % 100)]]}])
        i += 1
        time.sleep(0.15)


def shoot(lk, out, theme):
    with Browser(width=W, height=H, dark=theme == "dark") as b:
        b.get(url(lk, query='{env="prod"} |= "request"'))
        settle(b)
        b.js("document.querySelectorAll('#loglist .row')[2].click()")
        time.sleep(0.2)
        b.screenshot(os.path.join(out, "ui-query-%s.png" % theme))

        b.get(url(lk, query='sum by (level) (count_over_time({env=~".+"} | logfmt [2m]))'))
        settle(b)
        b.screenshot(os.path.join(out, "ui-metric-%s.png" % theme))

        b.get(lk.url + "/?view=labels")
        settle(b, "return document.querySelectorAll('#label-names li[data-name]').length")
        b.click('#label-names li[data-name="app"]')
        settle(b, "return document.querySelectorAll('#label-values .vol').length")
        b.click('#label-values li[data-value="api"]')
        b.click('#label-values li[data-value="web"]')
        b.screenshot(os.path.join(out, "ui-labels-%s.png" % theme))

        b.get(url(lk, query='{app="checkout"}', view="live"))
        settle(b)
        b.click("#live-toggle")
        stop = threading.Event()
        t = threading.Thread(target=feed, args=(lk, stop))
        t.start()
        time.sleep(4.5)
        b.screenshot(os.path.join(out, "ui-live-%s.png" % theme))
        stop.set()
        t.join()
        b.click("#live-toggle")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "docs", "img")
    os.makedirs(out, exist_ok=True)
    with Lokic() as lk:
        dataset.push(lk, dataset.streams())
        for theme in ("light", "dark"):
            shoot(lk, out, theme)
    if shutil.which("pngquant"):
        subprocess.run(["pngquant", "--quality", "70-95", "--speed", "1", "--strip", "-f",
                        "--ext", ".png"] + glob.glob(os.path.join(out, "ui-*.png")), check=True)
    print("screenshots in %s" % os.path.abspath(out))


if __name__ == "__main__":
    main()
