#!/usr/bin/env bash
# Ingest benchmark: builds lokic (Release), starts it on a free port with a
# temporary data dir, pushes promtail-shaped batches (10 streams x 100 lines
# per request, snappy protobuf) over 4 connections, and prints lines/s,
# MB/s, server CPU seconds, peak RSS, and what ended up on disk.
#
#   tests/bench/push.sh [requests] [conns]          burst, WAL on (durable acks)
#   WAL=0 tests/bench/push.sh [requests] [conns]    burst, ingester.wal.enabled: false
#   DISCOVERY=0 tests/bench/push.sh ...             with Loki 3's push-time
#                                                   service_name and detected_level
#                                                   discovery off (Loki 2.9's pushes)
#   PATTERNS=1 tests/bench/push.sh ...              with pattern_ingester.enabled: true
#   ENCODING=snappy tests/bench/push.sh ...         with that ingester.chunk_encoding (zstd)
#   tests/bench/push.sh compare [requests] [conns] [runs]
#                                                   WAL off and on, alternating runs,
#                                                   best of each and the ratio
#   tests/bench/push.sh sustain [seconds] [lines/s] [conns]
#                                                   sustained ingest (default 300 s,
#                                                   100000 lines/s): RSS every 10 s
#   tests/bench/push.sh disk                        bytes on disk for the query
#                                                   benchmark's set (gen_bench.c: 1.5M
#                                                   lines, about 180 MB), the set
#                                                   Loki's disk figures are for
#
# Disk figures (burst): WAL bytes written, WAL on disk when the push ends,
# and after a SIGTERM (every chunk flushed) the chunk files and the LMDB
# index, each per stored line.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=burst
case "${1:-}" in
  compare|sustain|disk) mode=$1; shift ;;
esac

bdir=${BENCH_BUILD_DIR:-build-bench}
cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DLOKIC_WERROR="${BENCH_WERROR:-ON}" >/dev/null
cmake --build "$bdir" -j"$(nproc)" --target lokic push_bench >/dev/null

tmp=$(mktemp -d)
pid=
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server <wal: 1|0>: a fresh data dir; sets pid, port, data
start_server() {
  local wal=$1
  data="$tmp/data-$RANDOM"
  port=$(free_port)
  cat >"$tmp/config.yaml" <<YAML
auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: $port
  log_level: warn
common:
  path_prefix: $data
ingester:
  chunk_encoding: ${ENCODING:-zstd}
  wal:
    enabled: $([[ $wal == 1 ]] && echo true || echo false)
limits_config:
  reject_old_samples: false
  ingestion_rate_mb: 100000
  ingestion_burst_size_mb: 100000
$([[ ${DISCOVERY:-1} == 0 ]] && printf '  discover_service_name: []\n  discover_log_levels: false\n')
pattern_ingester:
  enabled: $([[ ${PATTERNS:-0} == 1 ]] && echo true || echo false)
YAML
  "$bdir/lokic" -config.file="$tmp/config.yaml" &
  pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && return; sleep 0.05; done
  echo "lokic did not become ready" >&2
  exit 1
}

stop_server() {
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
}

metric() {
  curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

dir_bytes() { if [[ -d "$1" ]]; then du -sb "$1" | awk '{print $1}'; else echo 0; fi; }

# disk_report <lines> <wal bytes written> <wal bytes on disk>: after the
# server stopped (everything flushed), the bytes per stored line
disk_report() {
  python3 - "$1" "$2" "$3" "$(dir_bytes "$data/chunks")" "$(dir_bytes "$data/index")" <<'PY'
import sys
lines, walw, waldisk, chunks, index = (float(x) for x in sys.argv[1:])
mb = lambda b: b / 1e6
print("  disk: wal_written=%.1f MB (%.1f B/line) wal_on_disk_at_end=%.1f MB chunks=%.1f MB "
      "(%.1f B/line) index=%.1f MB (%.2f B/line) stored=%.1f B/line"
      % (mb(walw), walw / lines, mb(waldisk), mb(chunks), chunks / lines, mb(index),
         index / lines, (chunks + index) / lines))
PY
}

# burst <wal> <requests> <conns>: prints one result line, sets lps
burst() {
  local wal=$1 reqs=$2 conns=$3
  start_server "$wal"
  local c0 out c1 tck cpu rss lines
  c0=$(cpu_ticks)
  out=$("$bdir/tests/push_bench" -port "$port" -conns "$conns" -streams 10 -lines 100 \
        -requests "$reqs" -seconds 120 2>/dev/null)
  c1=$(cpu_ticks)
  tck=$(getconf CLK_TCK)
  cpu=$(python3 -c "print('%.2f' % (($c1-$c0)/$tck))")
  rss=$(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/$pid/status")
  lines=$((reqs * 1000))
  lps=$(sed -n 's/.*lines_per_sec=\([0-9]*\).*/\1/p' <<<"$out")
  local walw waldisk syncs sync_s
  walw=$(metric loki_ingester_wal_logged_bytes_total)
  waldisk=$(dir_bytes "$data/wal")
  syncs=$(metric lokic_ingester_wal_syncs_total)
  sync_s=$(metric lokic_ingester_wal_sync_seconds_total)
  stop_server
  echo "wal=$([[ $wal == 1 ]] && echo on || echo off) $out server_cpu_seconds=$cpu" \
       "lines_per_cpu_second=$(python3 -c "print(int($lines/max($cpu,0.01)))") peak_rss=$rss"
  [[ $wal == 1 ]] && python3 -c "print('  wal: syncs=%d pushes_per_sync=%.1f avg_sync_ms=%.2f' % \
      ($syncs, $reqs / max($syncs, 1), 1000 * $sync_s / max($syncs, 1)))"
  disk_report "$lines" "${walw:-0}" "$waldisk"
  rm -rf "$data"
}

case $mode in
disk)
  cc -std=gnu11 -O2 -I. -I"$bdir" tests/bench/gen_bench.c "$bdir/api/proto/push.pb-c.c" \
    -lprotobuf-c -lsnappy -lpthread -o "$tmp/gen_bench"
  start_server 1
  gen=$("$tmp/gen_bench" -port "$port" -streams 200 -lines 1500000 -span 3600 -conns 4)
  echo "$gen"
  raw=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$gen")
  walw=$(metric loki_ingester_wal_logged_bytes_total)
  waldisk=$(dir_bytes "$data/wal")
  stop_server
  [[ -n "$raw" ]] && echo "  raw line bytes: $(python3 -c "print('%.1f MB' % ($raw/1e6))")"
  disk_report 1500000 "${walw:-0}" "$waldisk"
  ;;
burst)
  burst "${WAL:-1}" "${1:-3000}" "${2:-4}"
  ;;
compare)
  reqs=${1:-3000}; conns=${2:-4}; runs=${3:-3}
  best_off=0; best_on=0
  for r in $(seq "$runs"); do
    burst 0 "$reqs" "$conns"; (( lps > best_off )) && best_off=$lps
    burst 1 "$reqs" "$conns"; (( lps > best_on )) && best_on=$lps
  done
  python3 -c "print('best of $runs: wal_off=%d lines/s wal_on=%d lines/s ratio=%.2f' % ($best_off, $best_on, $best_on / $best_off))"
  ;;
sustain)
  secs=${1:-300}; rate=${2:-100000}; conns=${3:-4}
  start_server 1
  echo "sustained ingest: $secs s at up to $rate lines/s over $conns connections"
  "$bdir/tests/push_bench" -port "$port" -conns "$conns" -streams 10 -lines 100 \
    -sustain 1 -rate "$rate" -seconds "$secs" &
  bench=$!
  t0=$(date +%s)
  while kill -0 "$bench" 2>/dev/null; do
    sleep 10
    kill -0 "$bench" 2>/dev/null || break
    printf "t=%4ds rss=%s MB memory_chunks=%s wal_segments=%s wal_on_disk=%.1f MB chunks_flushed=%s\n" \
      $(( $(date +%s) - t0 )) "$(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$pid/status)" \
      "$(metric loki_ingester_memory_chunks)" "$(metric lokic_ingester_wal_segments)" \
      "$(python3 -c "print($(dir_bytes "$data/wal")/1e6)")" "$(metric loki_ingester_chunks_flushed_total)"
  done
  wait "$bench" || true
  echo "peak_rss=$(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$pid/status)"
  stop_server
  ;;
esac
