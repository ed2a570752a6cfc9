#!/usr/bin/env bash
# Query memory benchmark: the query benchmark's dataset (gen_bench.c, 1.5M
# lines in 200 streams over one hour), then two high-cardinality shapes, each
# on a fresh peak-RSS mark (/proc/<pid>/clear_refs): the server's RSS before,
# its peak during the query, the answer's status, series and size, and the
# error when a limit stops it.
#   many values of a parsed field: sum by (bytes) (count_over_time({format="logfmt"} | logfmt [1m]))
#                                  over the hour, step 60s (50,000 values of bytes)
#   topk over many series:         topk(10, sum by (trace) (rate({format="logfmt"} | logfmt [1m])))
#                                  over the first 12 minutes, step 60s (about 100,000 traces)
#   tests/bench/qmem.sh [max_memory_per_query] [max_memory_all_queries]
# The limits default to 0 (none: lokic before query memory accounting);
# max_query_series is raised to 1,000,000 so that it does not stop them first.
# LOKIC_BIN=path uses an already built lokic instead of building one.
set -euo pipefail
cd "$(dirname "$0")/../.."
per_query=${1:-0}
all_queries=${2:-0}
. tests/bench/dataset.sh
# A fresh server and dataset per shape, so that no query inherits the heap
# another one grew.
serve() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$tmp/data"
  cat >"$tmp/config.yaml" <<YAML
auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: $port
  log_level: warn
common:
  path_prefix: $tmp/data
querier:
  max_memory_per_query: $per_query
  max_memory_all_queries: $all_queries
limits_config:
  reject_old_samples: false
  ingestion_rate_mb: 100000
  ingestion_burst_size_mb: 100000
  query_timeout: 10m
  max_query_series: 1000000
YAML
  "$LOKIC_BIN" -config.file="$tmp/config.yaml" &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
  gen=$("$tmp/gen_bench" -port "$port" -lines 1500000 -streams 200 -span 3600 -conns 4)
  start=$(sed -n 's/.*start_ns=\([0-9]*\).*/\1/p' <<<"$gen")
  end=$(sed -n 's/.*end_ns=\([0-9]*\).*/\1/p' <<<"$gen")
}

stop() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT

mb() { awk -v k="$1" '$1 == k":" {printf "%.0f", $2 / 1024}' "/proc/$pid/status"; }

run() {
  local name=$1 query=$2 qend=$3
  echo 5 >"/proc/$pid/clear_refs" # the peak RSS starts again from the RSS now
  local before code
  before=$(mb VmRSS)
  code=$(curl -sG -o "$tmp/out.json" -w '%{http_code}' "http://127.0.0.1:$port/loki/api/v1/query_range" \
    --data-urlencode "query=$query" --data-urlencode "start=$start" \
    --data-urlencode "end=$qend" --data-urlencode "step=60")
  local what
  if [ "$code" = 200 ]; then
    what=$(python3 -c "
import json, os
r = json.load(open('$tmp/out.json'))['data']['result']
print('series=%d answer=%.1fMB' % (len(r), os.path.getsize('$tmp/out.json') / 1e6))")
  else
    what="error: $(head -c 300 "$tmp/out.json")"
  fi
  printf '%-8s status=%s rss_before=%sMB peak=%sMB %s\n' "$name" "$code" "$before" "$(mb VmHWM)" "$what"
  curl -s "http://127.0.0.1:$port/metrics" | grep -E '^lokic_quer(y_memory_bytes|ies_refused_total)' || true
}

serve
run "sum_by" 'sum by (bytes) (count_over_time({format="logfmt"} | logfmt [1m]))' "$end"
stop
serve
run "topk" 'topk(10, sum by (trace) (rate({format="logfmt"} | logfmt [1m])))' \
  "$((start + 720 * 1000000000))"
stop
