#!/usr/bin/env bash
# Builds the libFuzzer drivers with clang and runs each for N seconds
# (default 30). Exits non-zero when a fuzzer finds a crash, a leak, or an input
# that runs longer than 25 s (a hang).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
scripts/deps.sh --fuzz
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DLOKIC_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)"
status=0
for f in build-fuzz/tests/fuzz_*; do
  [[ -x "$f" ]] || continue
  name=$(basename "$f")
  corpus="tests/fuzz/corpus-$name"
  mkdir -p "$corpus" "tests/fuzz/seeds/$name"
  echo "== $name ($secs s)"
  if ! "$f" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=25 \
       -artifact_prefix="build-fuzz/$name-" "$corpus" "tests/fuzz/seeds/$name" 2>"build-fuzz/$name.log"; then
    echo "FAILED: $name"; tail -n 40 "build-fuzz/$name.log"; status=1
  else
    grep -E "^Done|stat::number_of_executed_units" "build-fuzz/$name.log" | tail -n 1 || true
  fi
done
exit $status
