#!/usr/bin/env bash
# Workflow overhead (see BENCHMARKS.md): POST /v1/route for new conversations from
# directory customers, against two release concierge-routing services seeded alike — one with no
# workflow (default routing), one with an active 10-step workflow whose one lookup step calls a
# real concierge-crm-lookup over CUSTOMERS directory customers (Benchmarks/seed_workflow.py) —
# with wrk at each of WRK_CONFIGS, ROUNDS rounds alternating between the two (ABBA order), after
# a warm-up. Prints each run and the medians: req/s, p50, p99, server CPU per request (routing,
# and crm-lookup), and the p50 difference (target: ≤ 1 ms).
#   Benchmarks/workflow.sh     # release build; ROUNDS (3), DUR (10), CUSTOMERS (5000), LOG_LEVEL (info),
#                              # WRK_CONFIGS ("-t1 -c4;-t2 -c16"), SCRATCH (.build-wf-rel)
#   BIN=/other/release Benchmarks/workflow.sh   # measures already built executables (no build)
#   PERF=1 Benchmarks/workflow.sh               # also records perf profiles of routing during the last round
# Needs: apt-get install -y wrk curl python3 (perf for PERF=1); ../shared/bench beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH=${BENCH_DIR:-$ROOT/../shared/bench}
source "$BENCH/bench-lib.sh"
RESULTS=${RESULTS_DIR:-/tmp/concierge-bench-results}
mkdir -p "$RESULTS"
ROUNDS=${ROUNDS:-3} DUR=${DUR:-10} WARMUP=${WARMUP:-3} CUSTOMERS=${CUSTOMERS:-5000}
IFS=';' read -r -a CONFIGS <<< "${WRK_CONFIGS:--t1 -c4;-t2 -c16}"
if [ -z "${BIN:-}" ]; then
  SCRATCH=${SCRATCH:-.build-wf-rel}
  swift build -c release --scratch-path "$SCRATCH" >/dev/null
  BIN=$ROOT/$SCRATCH/release
fi
export CONCIERGE_JWT_SECRET=0123456789abcdef0123456789abcdef0123
CRM_PORT=${CRM_PORT:-18591} DEFAULT_PORT=${DEFAULT_PORT:-18592} WORKFLOW_PORT=${WORKFLOW_PORT:-18593}
UNUSED=http://127.0.0.1:${UNUSED_PORT:-18599}   # contacts and conversations: not called on this path
DATA=$(mktemp -d /tmp/concierge-workflow-bench.XXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DATA"' EXIT

ADMIN=$("$BIN/concierge" token --role administrator --sub bench --ttl 4h)
SERVICE=$("$BIN/concierge" token --role service --sub bench --ttl 4h)

start() { # NAME EXECUTABLE PORT -> sets LAST_PID
  mkdir -p "$DATA/$1"
  DATABASE_PATH=$DATA/$1/db.sqlite PORT=$3 LOG_LEVEL=${LOG_LEVEL:-info} CRM_LOOKUP_URL=http://127.0.0.1:$CRM_PORT \
    CONTACTS_URL=$UNUSED CONVERSATIONS_URL=$UNUSED ROUTING_URL=$UNUSED "$BIN/$2" > "$DATA/$1/service.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$3/readyz" >/dev/null && return; sleep 0.1; done
  echo "$1 did not start"; cat "$DATA/$1/service.log"; exit 1
}
start crm concierge-crm-lookup "$CRM_PORT"; CRM_PID=$LAST_PID
start default concierge-routing "$DEFAULT_PORT"; DEFAULT_PID=$LAST_PID
start workflow concierge-routing "$WORKFLOW_PORT"; WORKFLOW_PID=$LAST_PID
python3 "$ROOT/Benchmarks/seed_workflow.py" crm "http://127.0.0.1:$CRM_PORT" "$ADMIN" "$CUSTOMERS"
python3 "$ROOT/Benchmarks/seed_workflow.py" routing "http://127.0.0.1:$DEFAULT_PORT" "$ADMIN" "$DATA/default"
python3 "$ROOT/Benchmarks/seed_workflow.py" routing "http://127.0.0.1:$WORKFLOW_PORT" "$ADMIN" "$DATA/workflow" workflow

# wrk_route LABEL MODE WRK_ARGS SECONDS: one run; prints label, req/s, p50, p99, requests, non-2xx,
# socket errors, routing CPU µs/req, wrk CPU µs/req, crm-lookup CPU µs/req, load average.
wrk_route() {
  local label=$1 mode=$2 args=$3 seconds=$4 port pid t0 c0 t1 c1 TIMEFORMAT='%U %S'
  if [ "$mode" = default ]; then port=$DEFAULT_PORT pid=$DEFAULT_PID; else port=$WORKFLOW_PORT pid=$WORKFLOW_PID; fi
  t0=$(cpu_ticks "$pid") c0=$(cpu_ticks "$CRM_PID")
  # shellcheck disable=SC2086 # args is a list of wrk options
  { time RUN=$label TOKEN=$SERVICE CUSTOMERS=$CUSTOMERS wrk $args -d"$seconds"s --latency \
      -s "$ROOT/Benchmarks/wrk/route-workflow.lua" "http://127.0.0.1:$port" > "$RESULTS/$label.txt" 2>&1; } 2> "$RESULTS/$label.wrkcpu"
  t1=$(cpu_ticks "$pid") c1=$(cpu_ticks "$CRM_PID")
  local line requests
  line=$(python3 "$BENCH/parse-wrk.py" "$label" "$RESULTS/$label.txt" $((t1 - t0)) "$(getconf CLK_TCK)" "$RESULTS/$label.wrkcpu")
  requests=$(cut -f5 <<< "$line")
  printf '%s\t%s\t%s\n' "$line" "$(awk -v t=$((c1 - c0)) -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf (n ? "%.1f" : "-"), n ? t * 1e6 / hz / n : 0 }')" "$(cut -d' ' -f1 /proc/loadavg)"
}

: > "$DATA/runs.tsv"
printf 'label\treq/s\tp50\tp99\trequests\tnon2xx\tsocket errors\trouting CPU µs/req\twrk CPU µs/req\tcrm CPU µs/req\tload\n'
for config in "${CONFIGS[@]}"; do
  tag=$(tr -d ' -' <<< "$config")
  for mode in default workflow; do wrk_route "workflow-warmup-$mode-$tag" "$mode" "$config" "$WARMUP" >/dev/null; done
done
for round in $(seq "$ROUNDS"); do
  for config in "${CONFIGS[@]}"; do
    tag=$(tr -d ' -' <<< "$config")
    order="default workflow"; [ $((round % 2)) = 0 ] && order="workflow default"
    for mode in $order; do
      if [ -n "${PERF:-}" ] && [ "$round" = "$ROUNDS" ]; then
        pid=$DEFAULT_PID; [ "$mode" = workflow ] && pid=$WORKFLOW_PID
        perf record -g -o "$RESULTS/workflow-$mode-$tag.perf" -p "$pid" -- sleep "$DUR" >/dev/null 2>&1 &
        PERF_PID=$!
      fi
      wrk_route "workflow-$mode-$tag-r$round" "$mode" "$config" "$DUR" | tee -a "$DATA/runs.tsv"
      if [ -n "${PERF_PID:-}" ]; then wait "$PERF_PID" || true; PERF_PID=; fi
    done
  done
done
cp "$DATA/runs.tsv" "$RESULTS/workflow-runs.tsv"
grep -h "\"level\":\"error\"" "$DATA"/*/service.log | head -5 || true
for port in $DEFAULT_PORT $WORKFLOW_PORT; do  # every decision should have assigned (agents had capacity)
  curl -sf -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$port/metrics" | grep '^concierge_routing_decisions_total' \
    | sed "s/^/routing :$port /" || true
done

echo
echo "== medians of $ROUNDS rounds, ${DUR}s each, $CUSTOMERS directory customers, LOG_LEVEL=${LOG_LEVEL:-info}, $(nproc) cores"
python3 - "$DATA/runs.tsv" "${CONFIGS[@]}" <<'EOF'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
def ms(text):
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float("nan")
def med(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")
def num(text):
    try:
        return float(text)
    except ValueError:
        return float("nan")
print("| wrk | routing | req/s | p50 | p99 | routing CPU µs/req | crm-lookup CPU µs/req | non-2xx |")
print("|---|---|---|---|---|---|---|---|")
for config in sys.argv[2:]:
    tag = config.replace(" ", "").replace("-", "")
    p50s = {}
    for mode in ("default", "workflow"):
        runs = [r for r in rows if r[0].startswith(f"workflow-{mode}-{tag}-r")]
        p50s[mode] = [ms(r[2]) for r in runs]
        print(f"| {config} | {mode} | {med([num(r[1]) for r in runs]):,.0f} | {med(p50s[mode]):.2f} ms | "
              f"{med([ms(r[3]) for r in runs]):.2f} ms | {med([num(r[7]) for r in runs]):.0f} | {med([num(r[9]) for r in runs]):.1f} | "
              f"{sum(int(r[5]) for r in runs)} |")
    diffs = [w - d for d, w in zip(p50s["default"], p50s["workflow"])]
    diff = med(p50s["workflow"]) - med(p50s["default"])
    print(f"|   | p50 difference | | **{diff:+.2f} ms** (per round: {', '.join(f'{d:+.2f}' for d in diffs)}) | | | | "
          f"{'≤ 1 ms: met' if diff <= 1 else '> 1 ms: NOT met'} |")
EOF
