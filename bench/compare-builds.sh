#!/usr/bin/env bash
# Compares the broker throughput of two builds of Warren on this machine: each round starts one
# build's broker alone (fresh data directory), runs bench/perf.mjs against it, stops it, then
# does the same for the other build, so the two never share the CPU and drifts in machine speed
# hit both alike. Print the medians of the rounds (the figures on a shared VM are bimodal; one
# run proves nothing).
#
#   bash bench/compare-builds.sh /path/to/checkout-A /path/to/checkout-B [rounds] [scenarios]
#
# Each checkout must be built (npm run build). Defaults: 8 rounds; noack,confirm-ack,persistent.
set -euo pipefail
A=$1 B=$2 ROUNDS=${3:-8} SCENARIOS=${4:-noack,confirm-ack,persistent}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp)
for round in $(seq "$ROUNDS"); do
  for build in "$A" "$B"; do
    dir=$(mktemp -d)
    port=$((5800 + RANDOM % 100))
    # No HTTP endpoints (builds with them would take 15672/15692, which may be taken); older
    # builds ignore these variables.
    (cd "$build" && WARREN_MANAGEMENT_PORT=0 WARREN_PROMETHEUS_PORT=0 exec node packages/cli/dist/main.js server --port "$port" --data-dir "$dir") >/dev/null 2>&1 &
    pid=$!
    sleep 1.5
    echo "== $build" >>"$OUT"
    node "$HERE/perf.mjs" --url "amqp://guest:guest@127.0.0.1:$port" --broker-pid "$pid" \
      --scenario "$SCENARIOS" --duration 6 --warmup 2 2>&1 | grep -E '^  [a-z0-9:-]+: pub' >>"$OUT" || true
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
  done
done
# "  noack: pub 824,572/s, ..." -> median publish rate per build and scenario
awk '/^== /{b=$2; next} {s=$1; sub(":", "", s); r=$3; gsub(/[,\/s]/, "", r); print b, s, r}' "$OUT" |
  sort -k1,1 -k2,2 -k3,3n |
  awk '{k=$1" "$2; v[k]=v[k]" "$3; n[k]++} END {for (k in v) {split(substr(v[k],2), a, " "); m=n[k]; med=(m%2)?a[(m+1)/2]:(a[m/2]+a[m/2+1])/2; printf "%-60s %-14s median %9.0f msg/s over %d runs:%s\n", substr(k,1,index(k," ")-1), substr(k,index(k," ")+1), med, m, v[k]}}' | sort
rm -f "$OUT"
