#!/usr/bin/env bash
# The 100,000-stream benchmark (issue 15's high-cardinality table): builds
# lokic (Release) and push_bench, starts lokic on a free port with a
# temporary data dir, pushes STREAMS (default 100,000) new streams
# {app, container, namespace (20), pod (unique)} of 20 lines each with
# push_bench -hicard 1 (1,000 streams per request, 4 connections), then
# prints ingest lines per server CPU second, the RSS each active stream
# costs (1 s after the push, and once idle heads were cut into blocks), the query rows of tests/bench/rows.sh (hicard set) with the peak
# RSS while they ran, and how long a SIGTERM takes to flush every stream.
#
#   tests/bench/hicard.sh [streams]
#   LOKIC_BIN=path tests/bench/hicard.sh    an already built lokic
set -euo pipefail
cd "$(dirname "$0")/../.."
streams=${1:-100000}
per_req=1000
bdir=${BENCH_BUILD_DIR:-build-bench}
cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DLOKIC_WERROR=ON >/dev/null
cmake --build "$bdir" -j2 --target lokic push_bench >/dev/null
bin=${LOKIC_BIN:-$bdir/lokic}

tmp=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/config.yaml" <<YAML
auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: $port
  log_level: warn
common:
  path_prefix: $tmp/data
limits_config:
  reject_old_samples: false
  ingestion_rate_mb: 100000
  ingestion_burst_size_mb: 100000
  max_query_series: 100000
  max_global_streams_per_user: 0 # Loki's default 5000 would refuse most streams
YAML
"$bin" -config.file="$tmp/config.yaml" &
pid=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.05; done

kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

rss0=$(kb VmRSS)
c0=$(cpu_ticks)
"$bdir/tests/push_bench" -port "$port" -conns 4 -hicard 1 -streams "$per_req" -lines 20 \
  -requests $((streams / per_req)) -seconds 600 2>/dev/null
c1=$(cpu_ticks)
sleep 1
rss1=$(kb VmRSS)
python3 - "$streams" "$c0" "$c1" "$(getconf CLK_TCK)" "$rss0" "$rss1" <<'PY'
import sys
n, c0, c1, tck, r0, r1 = (float(x) for x in sys.argv[1:])
cpu = (c1 - c0) / tck
print("ingest: %d lines, server_cpu_seconds=%.2f lines_per_cpu_second=%d" % (n * 20, cpu, n * 20 / max(cpu, 0.01)))
print("rss: before=%.0f MB after=%.0f MB per_active_stream=%.2f KB" % (r0 / 1024, r1 / 1024, (r1 - r0) / n))
PY
sleep 8 # the streams are idle: their heads are cut into blocks (storage/ingheads.c)
rss2=$(kb VmRSS)
python3 -c "print('rss once the heads are idle: %.0f MB per_active_stream=%.2f KB' % ($rss2 / 1024, ($rss2 - $rss0) / $streams))"
echo 5 >"/proc/$pid/clear_refs" # the peak RSS starts again from the RSS now
tests/bench/rows.sh "http://127.0.0.1:$port" hicard
echo "peak rss while querying: $(( $(kb VmHWM) / 1024 )) MB"

t0=$(date +%s.%N)
kill -TERM "$pid"
wait "$pid" || true
pid=
t1=$(date +%s.%N)
files=$(find "$tmp/data/chunks" -type f 2>/dev/null | wc -l)
python3 -c "print('sigterm flush: %.2f s, %d files under chunks/' % ($t1 - $t0, $files))"
