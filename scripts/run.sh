#!/usr/bin/env bash
# Installs what is missing, builds lokic (release) and starts it. With no
# arguments it serves on :3100 with the embedded default config and keeps its
# data under ./data; any arguments are passed to lokic (e.g. -config.file=...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLOKIC_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target lokic
exec build/lokic "$@"
