#!/usr/bin/env bash
# Routing decisions under load (see BENCHMARKS.md): POST /v1/route with AGENTS agents in
# INBOXES inboxes and WAITING conversations waiting, for AGENTS in 50 500 5000 (25 per inbox),
# then the time for 100 agents becoming available to drain their queues.
#   Benchmarks/routing.sh             # release build; DUR (seconds per run, default 15)
# At 5,000 agents, runs of DUR seconds at each of CONNS (default "4 2") connections follow, for the
# latency of a decision when requests do not queue: connections, decisions/s, p50, p90, p99. Then
# Benchmarks/loadgen/route_rate (C, one thread): at each of RATES (default 5000) decisions/s on a fixed
# schedule over 16 connections (open loop: latency counted from when a request was due), and as
# fast as 2 connections go (closed loop, like wrk -c2 but lighter on the shared cores). After each open-loop
# run, the same rate and connections reading GET /v1/inboxes/{id} (never waits for the writer): the floor
# this machine and client set for any route. route_rate's lines end with the CPU share stolen by the host.
# Needs: apt-get install -y wrk gcc; ../shared/bench beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH=${BENCH_DIR:-$ROOT/../shared/bench}
source "$BENCH/bench-lib.sh"
export RESULTS_DIR=${RESULTS_DIR:-/tmp/concierge-bench-results}
mkdir -p "$RESULTS_DIR"
swift build -c release >/dev/null
BIN=$ROOT/.build/release
cc -O2 -o "$RESULTS_DIR/route_rate" "$ROOT/Benchmarks/loadgen/route_rate.c"
export CONCIERGE_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
PORT=18383
TOKEN=$("$BIN/concierge" token --role service --sub bench --ttl 2h)
ADMIN=$("$BIN/concierge" token --role administrator --sub bench --ttl 2h)
for agents in ${AGENT_COUNTS:-50 500 5000}; do
  DATA=$(mktemp -d /tmp/concierge-routing-bench.XXXX)
  DATABASE_PATH=$DATA/routing.sqlite PORT=$PORT LOG_LEVEL=warning "$BIN/concierge-routing" > "$DATA/routing.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
  inboxes=$(( agents / 25 ))
  python3 "$ROOT/Benchmarks/seed_routing.py" "http://127.0.0.1:$PORT" "$ADMIN" "$agents" "$inboxes" "${WAITING:-50000}" "$DATA"
  DUR=3 TOKEN=$TOKEN INBOXES_FILE=$DATA/inboxes.txt wrk_run routing-warmup "http://127.0.0.1:$PORT" "$ROOT/Benchmarks/wrk/route.lua" $PID >/dev/null
  TOKEN=$TOKEN INBOXES_FILE=$DATA/inboxes.txt wrk_run "route-$agents-agents" "http://127.0.0.1:$PORT" "$ROOT/Benchmarks/wrk/route.lua" $PID
  if [ "$agents" -ge 5000 ]; then
    for conns in ${CONNS:-4 2}; do
      TOKEN=$TOKEN INBOXES_FILE=$DATA/inboxes.txt wrk -t2 -c"$conns" -d"${DUR:-15}"s --latency -s "$ROOT/Benchmarks/wrk/route.lua" \
        "http://127.0.0.1:$PORT" > "$RESULTS_DIR/route-$agents-agents-c$conns.txt"
      awk -v c="$conns" -v a="$agents" '/Requests\/sec/ { r = $2 } $1 == "50%" { p50 = $2 } $1 == "90%" { p90 = $2 } $1 == "99%" { p99 = $2 }
        END { printf "route-%s-agents-c%s\t%s\tp50 %s\tp90 %s\tp99 %s\n", a, c, r, p50, p90, p99 }' \
        "$RESULTS_DIR/route-$agents-agents-c$conns.txt" | tee -a "$RESULTS_DIR/summary.tsv"
    done
    for rate in ${RATES:-5000} 0; do
      label=$([ "$rate" = 0 ] && echo "closed-c2" || echo "open-$rate")
      TOKEN=$TOKEN INBOXES_FILE=$DATA/inboxes.txt "$RESULTS_DIR/route_rate" 127.0.0.1 "$PORT" "$rate" "${DUR:-15}" \
        "$([ "$rate" = 0 ] && echo 2 || echo 16)" | sed "s/^/route-$agents-agents-$label\t/" | tee -a "$RESULTS_DIR/summary.tsv"
      [ "$rate" = 0 ] && continue
      READ_PREFIX=/v1/inboxes/ TOKEN=$TOKEN INBOXES_FILE=$DATA/inboxes.txt "$RESULTS_DIR/route_rate" 127.0.0.1 "$PORT" "$rate" \
        "${DUR:-15}" 16 | sed "s/^/floor-read-inbox-$label\t/" | tee -a "$RESULTS_DIR/summary.tsv"
    done
    python3 "$ROOT/Benchmarks/drain_routing.py" "http://127.0.0.1:$PORT" "$ADMIN" "$DATA/agents.txt" | tee -a "$RESULTS_DIR/summary.tsv"
  fi
  kill $PID; wait $PID 2>/dev/null || true
  rm -rf "$DATA"
done
column -t "$RESULTS_DIR/summary.tsv"
