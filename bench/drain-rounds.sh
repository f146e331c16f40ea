#!/usr/bin/env bash
# Drain rate of a deep durable queue for several builds, alternated round after round so that
# drifts in machine speed hit all builds alike: per round and build, a fresh broker and data
# directory, then `bench/backlog.mjs --phases publish,drain` (persistent messages with confirms
# into one durable queue, then a consumer with manual acks).
#
#   bash bench/drain-rounds.sh ROUNDS COUNT SIZE /path/to/checkout-A [/path/to/checkout-B ...]
#
# Each checkout must be built (npm run build). Prints one line per run with the load average.
set -euo pipefail
ROUNDS=$1 COUNT=$2 SIZE=$3
shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
for round in $(seq "$ROUNDS"); do
  for build in "$@"; do
    dir=$(mktemp -d)
    port=$((5900 + RANDOM % 100))
    (cd "$build" && WARREN_MANAGEMENT_PORT=0 WARREN_PROMETHEUS_PORT=0 exec node packages/cli/dist/main.js server --port "$port" --data-dir "$dir") >/dev/null 2>&1 &
    pid=$!
    sleep 2
    result=$(node "$HERE/backlog.mjs" --url "amqp://guest:guest@127.0.0.1:$port" --count "$COUNT" \
      --size "$SIZE" --phases publish,drain 2>&1 | grep -o 'publish: [0-9,]* x .* msg/s\|drain: [0-9,]* of .* msg/s' | tr '\n' ' ' || true)
    echo "round $round $build (load $(cut -d' ' -f1 /proc/loadavg)): $result"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
  done
done
