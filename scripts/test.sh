#!/usr/bin/env bash
# Installs what is missing, builds lokic and its tests with -Werror,
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs the whole suite:
# unit tests, black-box tests against the real binary, and the Loki
# conformance suite (../shared/conformance, pushed as protobuf and as JSON).
# Exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
dir=${LOKIC_TEST_BUILD_DIR:-build-test}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DLOKIC_WERROR=ON -DLOKIC_SANITIZE=ON >/dev/null
cmake --build "$dir" -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$dir"
ctest --output-on-failure -j"$(nproc)" "$@"
