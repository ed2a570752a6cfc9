#!/usr/bin/env bash
# Ingest benchmark: builds lokic (Release), starts it on a free port with a
# temporary data dir, pushes promtail-shaped batches (10 streams x 100 lines
# per request, snappy protobuf) over 4 connections, and prints lines/s,
# MB/s, server CPU seconds and peak RSS.
#   tests/bench/push.sh [requests] [conns]
set -euo pipefail
cd "$(dirname "$0")/../.."
reqs=${1:-3000}
conns=${2:-4}
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DLOKIC_WERROR=ON >/dev/null
cmake --build build-bench -j"$(nproc)" --target lokic push_bench >/dev/null
tmp=$(mktemp -d)
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
YAML
build-bench/lokic -config.file="$tmp/config.yaml" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
read -r u0 s0 < <(awk '{print $14, $15}' /proc/$pid/stat)
build-bench/tests/push_bench -port "$port" -conns "$conns" -streams 10 -lines 100 -requests "$reqs" -seconds 60
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
tck=$(getconf CLK_TCK)
cpu=$(python3 -c "print('%.2f' % ((($u1+$s1)-($u0+$s0))/$tck))")
rss=$(awk '/VmHWM/ {print $2/1024 " MB"}' /proc/$pid/status)
lines=$((reqs * 1000))
echo "server_cpu_seconds=$cpu lines_per_cpu_second=$(python3 -c "print(int($lines/max($cpu,0.01)))") peak_rss=$rss"
