#!/usr/bin/env bash
# Builds lokic and its tests with ThreadSanitizer (LOKIC_TSAN, -Werror) in
# build-tsan and runs the tests labelled "threads" (tests/CMakeLists.txt):
# the unit tests that start threads, the black-box tests and the
# conformance suite against the instrumented server. Exits non-zero on a
# failure or on any race report (halt_on_error). Arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
dir=${LOKIC_TSAN_BUILD_DIR:-build-tsan}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DLOKIC_WERROR=ON -DLOKIC_TSAN=ON >/dev/null
cmake --build "$dir" -j"$(nproc)"
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
cd "$dir"
ctest --output-on-failure -j"$(nproc)" -L threads "$@"
