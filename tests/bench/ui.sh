#!/usr/bin/env bash
# The log explorer's load time: builds lokic (Release, unless LOKIC_BIN names
# one), starts it with tests/browser/dataset.py's data and opens / in
# headless chromium (chromium and chromium-driver), each run with a fresh
# profile (nothing cached) and again with the cache warm (ETag revalidation),
# printing the median and worst of the browser's Navigation Timing: first
# byte, DOMContentLoaded, load (every file of the page in and run), and the
# time until a query given in the URL has drawn its lines and histogram; and,
# to compare, the same for a 1 KB text file (the browser's own cost here).
#   tests/bench/ui.sh [runs (10)]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build-bench
if [ -z "${LOKIC_BIN:-}" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DLOKIC_WERROR=ON >/dev/null
  cmake --build "$build" -j"$(nproc)" --target lokic >/dev/null
  LOKIC_BIN=$build/lokic
fi
LOKIC_BIN=$LOKIC_BIN exec python3 tests/bench/ui_load.py "${1:-10}"
