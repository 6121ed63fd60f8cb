#!/usr/bin/env bash
# What writing and publishing events costs per inbound message, at a fixed rate, for two checkouts
# (issue 20): Benchmarks/events-cost.sh BASE_DIR HEAD_DIR [ROUNDS]     # RATE (1000/s), DUR (15 s)
# Per run and checkout (alternating a, b): the four release services on fresh databases, one inbox with
# 20 agents of large email capacity, 5 s of warm-up, then inbound at RATE messages/s on a fixed schedule
# for DUR s (post_rate, 32 connections, every message from a new sender: a new contact, conversation
# and assignment each). Prints per service the CPU µs and context switches (all threads, voluntary and
# not, from /proc/PID/task/*/status) per message, and post_rate's open-loop latency. A throughput
# benchmark (ab.sh) says how much slower; this says where, at equal work. Lines go to
# $RESULTS_DIR/summary.tsv. Each checkout must have its release build (swift build -c release).
set -euo pipefail
BASE=$(cd "$1" && pwd); HEAD=$(cd "$2" && pwd); ROUNDS=${3:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export RESULTS_DIR=${RESULTS_DIR:-/tmp/concierge-bench-results}
mkdir -p "$RESULTS_DIR"
RATE=${RATE:-1000} DUR=${DUR:-15}
TOOL=$RESULTS_DIR/post_rate
cc -O2 -o "$TOOL" "$ROOT/Benchmarks/loadgen/post_rate.c"
one() {  # $1 checkout, $2 label
  local root=$1 label=$2 BIN=$1/.build/release DATA PIDS=() i name port
  DATA=$(mktemp -d /tmp/concierge-events-cost.XXXX)
  export CONCIERGE_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  export CONTACTS_URL=http://127.0.0.1:18781 CONVERSATIONS_URL=http://127.0.0.1:18782 ROUTING_URL=http://127.0.0.1:18783 CRM_LOOKUP_URL=http://127.0.0.1:18784
  for entry in contacts:18781 conversations:18782 routing:18783 crm-lookup:18784; do
    name=${entry%%:*}; port=${entry##*:}
    DATABASE_PATH=$DATA/$name.sqlite PORT=$port LOG_LEVEL=warning "$BIN/concierge-$name" > "$DATA/$name.log" 2>&1 &
    PIDS+=($!)
  done
  for port in 18781 18782 18783 18784; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  done
  local admin; admin=$("$BIN/concierge" token --role administrator --sub bench --ttl 2h)
  export TOKEN; TOKEN=$("$BIN/concierge" token --role service --sub bench --ttl 2h)
  local H=(-H "Authorization: Bearer $admin" -H 'Content-Type: application/json') inbox
  inbox=$(curl -sf -X POST "$ROUTING_URL/v1/inboxes" "${H[@]}" -d '{"name":"Support","defaultFor":["email"]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  for i in $(seq 20); do
    curl -sf -X POST "$ROUTING_URL/v1/agents" "${H[@]}" -d "{\"name\":\"Agent $i\",\"email\":\"a$i@bench.example\",\"inboxIds\":[\"$inbox\"],\"capacity\":{\"email\":10000}}" >/dev/null
  done
  export BODY='{"channel":"email","from":"c-%R-%N@bench.example","subject":"Order","body":"Hello, where is my order %N?","externalId":"c-%R-%N"}'
  RUN_ID=1 "$TOOL" 127.0.0.1 18782 /v1/inbound "$RATE" 5 32 > /dev/null || true
  sleep 1
  local b=() s=() p line out n=$((RATE * DUR))
  for p in "${PIDS[@]}"; do b+=($(ticks $p)); s+=($(switches $p)); done
  line=$(RUN_ID=2 "$TOOL" 127.0.0.1 18782 /v1/inbound "$RATE" "$DUR" 32 || true)
  out="events-cost-$label	$(echo "$line" | sed 's/ (µs)  latency/ latency (µs)/; s/  | service.*//')"
  i=0
  for name in contacts conversations routing; do
    kill -0 ${PIDS[$i]} 2>/dev/null || out="$out	$name DIED"
    out="$out	$name $(echo "($(ticks ${PIDS[$i]}) - ${b[$i]}) / $(getconf CLK_TCK) * 1000000 / $n" | bc -l | xargs printf '%.0f') µs $(echo "($(switches ${PIDS[$i]}) - ${s[$i]}) / $n" | bc -l | xargs printf '%.1f') cs"
    i=$((i + 1))
  done
  echo "$out	load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RESULTS_DIR/summary.tsv"
  kill "${PIDS[@]}" 2>/dev/null || true
  wait "${PIDS[@]}" 2>/dev/null || true
  rm -rf "$DATA"
}
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
switches() { cat /proc/$1/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n}'; }
echo "# events-cost $(date -u +%FT%TZ) a=$BASE b=$HEAD RATE=$RATE DUR=$DUR load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS_DIR/summary.tsv"
for round in $(seq "$ROUNDS"); do
  one "$BASE" "a-r$round"
  one "$HEAD" "b-r$round"
done
