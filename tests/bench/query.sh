#!/usr/bin/env bash
# Query benchmark: builds lokic (Release) and the dataset generator, starts
# lokic on a free port with a temporary data dir, pushes 1.5M realistic
# lines in 200 streams over one hour (tests/bench/gen_bench.c: logfmt, JSON
# and nginx lines, about 180 MB), then times four metric queries over that
# hour (step 60s), each run 3 times, printing the best wall seconds and the
# server CPU seconds of that run.
#   tests/bench/query.sh [lines] [streams]
# LOKIC_BIN=path uses an already built lokic instead of building one.
# ENCODING=snappy sets ingester.chunk_encoding (default zstd, lokic's).
# DISCOVERY=0 turns Loki 3's push-time discovery off (no service_name or
# detected_level added: Loki 2.9's data).
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-1500000}
streams=${2:-200}
. tests/bench/dataset.sh
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/config.yaml" <<YAML
auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: $port
  log_level: warn
common:
  path_prefix: $tmp/data
ingester:
  chunk_encoding: ${ENCODING:-zstd}
limits_config:
  reject_old_samples: false
  ingestion_rate_mb: 100000
  ingestion_burst_size_mb: 100000
  query_timeout: 10m
$([[ ${DISCOVERY:-1} == 0 ]] && printf '  discover_service_name: []\n  discover_log_levels: false\n')
YAML
"$LOKIC_BIN" -config.file="$tmp/config.yaml" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
gen=$("$tmp/gen_bench" -port "$port" -streams "$streams" -lines "$lines" -span 3600 -conns 4)
echo "$gen"
start=$(sed -n 's/.*start_ns=\([0-9]*\).*/\1/p' <<<"$gen")
end=$(sed -n 's/.*end_ns=\([0-9]*\).*/\1/p' <<<"$gen")
tck=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

run() {
  local name=$1 query=$2 best_wall="" best_cpu="" summary=""
  for _ in 1 2 3; do
    local c0 c1 t0 t1
    c0=$(cpu_ticks)
    t0=$(date +%s.%N)
    curl -sfG "http://127.0.0.1:$port/loki/api/v1/query_range" \
      --data-urlencode "query=$query" --data-urlencode "start=$start" \
      --data-urlencode "end=$end" --data-urlencode "step=60" -o "$tmp/out.json" \
      || { echo "$name: query failed: $(cat "$tmp/out.json" 2>/dev/null)"; return 1; }
    t1=$(date +%s.%N)
    c1=$(cpu_ticks)
    local wall cpu
    wall=$(python3 -c "print('%.3f' % ($t1 - $t0))")
    cpu=$(python3 -c "print('%.2f' % (($c1 - $c0) / $tck))")
    if [ -z "$best_wall" ] || python3 -c "import sys; sys.exit(0 if $wall < $best_wall else 1)"; then
      best_wall=$wall
      best_cpu=$cpu
    fi
  done
  summary=$(python3 -c "
import json
d = json.load(open('$tmp/out.json'))['data']
r = d['result']
print('series=%d points=%d lines=%d' % (len(r), sum(len(s['values']) for s in r),
      d['stats']['summary']['totalLinesProcessed']))")
  printf '%-4s wall_s=%-7s server_cpu_s=%-6s %s  %s\n' "$name" "$best_wall" "$best_cpu" "$summary" "$query"
}

run q1 'sum by (level) (count_over_time({job=~"bench/.+"}[1m]))'
run q2 'sum(bytes_rate({namespace=~"ns.*"}[5m]))'
run q3 'avg_over_time({format="json"} | json | unwrap latency_ms [5m]) by (namespace)'
run q4 'sum by (status) (count_over_time({format="logfmt"} | logfmt [5m]))'
rss=$(awk '/VmHWM/ {print $2/1024 " MB"}' /proc/$pid/status)
echo "server_peak_rss=$rss"
