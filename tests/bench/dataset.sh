# Sourced by the query benchmarks (query.sh, qmem.sh): builds lokic (Release,
# unless LOKIC_BIN names one) and the dataset generator gen_bench.c, and
# makes a temporary directory. Sets LOKIC_BIN, build and tmp; the generator
# is "$tmp/gen_bench".
build=build-bench
if [ -z "${LOKIC_BIN:-}" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DLOKIC_WERROR=ON >/dev/null
  cmake --build "$build" -j"$(nproc)" --target lokic >/dev/null
  LOKIC_BIN=$build/lokic
fi
proto=$(ls "$build"/api/proto/push.pb-c.c 2>/dev/null || true)
if [ -z "$proto" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target lokic_api >/dev/null
  proto=$build/api/proto/push.pb-c.c
fi
tmp=$(mktemp -d)
cc -std=gnu11 -O2 -I. -I"$build" tests/bench/gen_bench.c "$proto" -lprotobuf-c -lsnappy \
  -lpthread -o "$tmp/gen_bench"
