#!/usr/bin/env bash
# Runs the query rows of issue 15's tables against any server with Loki's
# HTTP API and prints one table: each row RUNS times (default 5), the median,
# fastest and slowest wall seconds as curl sees them, the HTTP status and
# the answer's size. Nothing here knows lokic: point it at Loki (or at lokic)
# after pushing the matching data set.
#
#   tests/bench/rows.sh URL [main|hicard|all]
#
#   main    the query benchmark's rows (gen_bench.c's 1.5M lines in 200
#           streams; tests/bench/query.sh pushes them)
#   hicard  the 100,000-stream rows (push_bench -hicard 1; tests/bench/hicard.sh)
#
# START and END (Unix ns; default the last hour) bound every query, STEP
# (default 60) is the metric queries' step, ORG (optional) is sent as
# X-Scope-OrgID.
set -euo pipefail
url=${1:?usage: rows.sh URL [main|hicard|all]}
set_=${2:-all}
runs=${RUNS:-5}
now=$(date +%s%N)
end=${END:-$now}
start=${START:-$((end - 3600 * 1000000000))}
step=${STEP:-60}
hdr=()
[[ -n "${ORG:-}" ]] && hdr=(-H "X-Scope-OrgID: $ORG")

# row <label> <path> [name=value ...]: GET path with the parameters (and
# start/end) url-encoded; prints one table row
row() {
  local label=$1 path=$2; shift 2
  local args=() times=() code size
  for kv in "$@"; do args+=(--data-urlencode "$kv"); done
  for _ in $(seq "$runs"); do
    read -r code size t < <(curl -sG "${hdr[@]}" "$url$path" "${args[@]}" \
      --data-urlencode "start=$start" --data-urlencode "end=$end" \
      -o /dev/null -w '%{http_code} %{size_download} %{time_total}\n')
    times+=("$t")
  done
  python3 - "$label" "$code" "$size" "${times[@]}" <<'PY'
import statistics, sys
label, code, size, *t = sys.argv[1:]
t = sorted(float(x) for x in t)
print("| %s | %.4f | %.4f | %.4f | %s | %d |" % (label, statistics.median(t), t[0], t[-1], code, int(size)))
PY
}

echo "| row | median s | fastest s | slowest s | status | answer bytes |"
echo "| --- | --- | --- | --- | --- | --- |"
if [[ $set_ == main || $set_ == all ]]; then
  row '`{namespace="ns1"} |= "deadlock timeout rollback"` limit 100' /loki/api/v1/query_range \
    'query={namespace="ns1"} |= "deadlock timeout rollback"' limit=100
  row '`{job=~"bench/.+"} |= "status=500"` limit 1000' /loki/api/v1/query_range \
    'query={job=~"bench/.+"} |= "status=500"' limit=1000
  row '`sum by (level) (count_over_time({job=~"bench/.+"}[1m]))`' /loki/api/v1/query_range \
    'query=sum by (level) (count_over_time({job=~"bench/.+"}[1m]))' "step=$step"
  row 'logfmt `sum by (status) (count_over_time(... | logfmt [5m]))`' /loki/api/v1/query_range \
    'query=sum by (status) (count_over_time({format="logfmt"} | logfmt [5m]))' "step=$step"
  row 'json unwrap `avg_over_time(... | json | unwrap latency_ms [5m])`' /loki/api/v1/query_range \
    'query=avg_over_time({format="json"} | json | unwrap latency_ms [5m]) by (namespace)' "step=$step"
  row '`sum(bytes_rate({namespace=~"ns.*"}[5m]))`' /loki/api/v1/query_range \
    'query=sum(bytes_rate({namespace=~"ns.*"}[5m]))' "step=$step"
fi
if [[ $set_ == hicard || $set_ == all ]]; then
  row '`/loki/api/v1/labels`' /loki/api/v1/labels
  row '`label/pod/values`' /loki/api/v1/label/pod/values
  row '`series{namespace="ns1"}`' /loki/api/v1/series 'match[]={namespace="ns1"}'
  row '`sum by (namespace) (count_over_time({container="main"}[5m]))`' /loki/api/v1/query_range \
    'query=sum by (namespace) (count_over_time({container="main"}[5m]))' "step=$step"
fi
