#!/usr/bin/env bash
# Installs what is missing, builds lokic and its tests with -Werror,
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs the whole suite:
# unit tests, black-box tests against the real binary, and the Loki
# conformance suite (../shared/conformance, pushed as protobuf and as JSON).
# Exits non-zero when any test fails. Arguments go to ctest.
#   scripts/test.sh --tsan   ThreadSanitizer instead (in build-tsan), on the
#                            tests labelled "threads"; a race report fails
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
dir=${LOKIC_TEST_BUILD_DIR:-build-test} san=(-DLOKIC_SANITIZE=ON) only=()
if [[ "${1:-}" == "--tsan" ]]; then
  shift
  dir=${LOKIC_TSAN_BUILD_DIR:-build-tsan} san=(-DLOKIC_TSAN=ON) only=(-L threads)
fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DLOKIC_WERROR=ON "${san[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
cd "$dir"
ctest --output-on-failure -j"$(nproc)" "${only[@]}" "$@"
