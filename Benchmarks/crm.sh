#!/usr/bin/env bash
# CRM-lookup service against its targets (import of 1,000,000 ≤ 10 s within 100 MB; lookups ≥ 20,000/s,
# p99 ≤ 5 ms; a hanging CRM answered within its timeout + 50 ms; see BENCHMARKS.md), each measured ROUNDS times:
#  import  POST /v1/customers/import of COUNT NDJSON customers (curl, streamed body) into an empty
#          directory, each round on a fresh service and database: wall time, and the service's peak RSS
#          (VmRSS sampled every 50 ms, and VmHWM at the end);
#  lookup  GET /v1/lookup?email= of random known customers over the last import's COUNT customers
#          (wrk WRK_ARGS, default -t1 -c32, DUR seconds after a 3 s warm-up);
#  timeout lookups through a source (timeoutMs 500) whose CRM accepts and never answers: 5 that
#          wait for the timeout (502), then 3 with the breaker open (503), each timed by curl.
#   Benchmarks/crm.sh        # release build; ROUNDS (3), COUNT (1000000), DUR (15), WRK_ARGS, SCRATCH (.build)
#   BIN=/other/release Benchmarks/crm.sh   # measures already built executables instead (no build)
#   NDJSON=file Benchmarks/crm.sh          # imports that file (default: Benchmarks/customers_ndjson.py's, in /tmp)
#   SHUFFLE=1 Benchmarks/crm.sh            # imports the file's lines in random order (shuf with a fixed source,
#                                          # once, beside it): a real CRM export is not in e-mail/phone order
# PORT and CRM_PORT (18774, 18775) move the service and the hanging CRM; KEEP=1 keeps the temp folder.
# Needs: apt-get install -y wrk curl python3; ../shared/bench beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH=${BENCH_DIR:-$ROOT/../shared/bench}
source "$BENCH/bench-lib.sh"
RESULTS=${RESULTS_DIR:-/tmp/concierge-bench-results}
mkdir -p "$RESULTS"
ROUNDS=${ROUNDS:-3} COUNT=${COUNT:-1000000} DUR=${DUR:-15} WRK_ARGS=${WRK_ARGS:--t1 -c32}
if [ -z "${BIN:-}" ]; then
  SCRATCH=${SCRATCH:-.build}
  swift build -c release --scratch-path "$SCRATCH" --product concierge-crm-lookup >/dev/null
  swift build -c release --scratch-path "$SCRATCH" --product concierge >/dev/null
  BIN=$ROOT/$SCRATCH/release
fi
export CONCIERGE_JWT_SECRET=0123456789abcdef0123456789abcdef0123
PORT=${PORT:-18774} CRM_PORT=${CRM_PORT:-18775}
URL=http://127.0.0.1:$PORT
DATA=$(mktemp -d /tmp/concierge-crm-bench.XXXX)
NDJSON=${NDJSON:-/tmp/concierge-crm-customers-$COUNT.ndjson}
[ -s "$NDJSON" ] || python3 "$ROOT/Benchmarks/customers_ndjson.py" "$COUNT" "$NDJSON"
if [ -n "${SHUFFLE:-}" ]; then
  shuffled=${NDJSON%.ndjson}-shuffled.ndjson
  [ -s "$shuffled" ] || shuf "$NDJSON" -o "$shuffled" --random-source=<(yes)
  NDJSON=$shuffled
fi
ADMIN=$("$BIN/concierge" token --role administrator --sub bench --ttl 2h)
SERVICE=$("$BIN/concierge" token --role service --sub bench --ttl 2h)

start_crm() {
  if curl -s -o /dev/null "$URL/healthz"; then echo "port $PORT is taken by another process; set PORT"; exit 1; fi
  DATABASE_PATH=$DATA/crm.sqlite PORT=$PORT LOG_LEVEL=${LOG_LEVEL:-info} "$BIN/concierge-crm-lookup" >> "$DATA/crm.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do
    kill -0 "$PID" 2>/dev/null || break
    curl -sf "$URL/readyz" >/dev/null && return
    sleep 0.1
  done
  echo "crm-lookup did not start"; tail -5 "$DATA/crm.log"; exit 1
}
stop_crm() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
cleanup() {
  for pid in ${PID:-} ${SAMPLER:-} ${HANG:-}; do kill "$pid" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$DATA"
}
trap cleanup EXIT
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
kib_to_mb() { awk '{ printf "%.1f\n", $1 / 1024 }'; }

echo "== import of $COUNT customers ($(du -m "$NDJSON" | cut -f1) MB NDJSON${SHUFFLE:+, shuffled}), $ROUNDS rounds"
: > "$DATA/import.tsv"
for round in $(seq "$ROUNDS"); do
  rm -f "$DATA"/crm.sqlite*
  start_crm
  idle=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
  (while [ -r "/proc/$PID/status" ]; do awk '/VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null; sleep 0.05; done) > "$DATA/rss.txt" &
  SAMPLER=$!
  ticks=$(cpu_ticks "$PID") load=$(cut -d' ' -f1 /proc/loadavg)
  seconds=$(curl -sS -o "$DATA/import.json" -w '%{time_total}' -X POST -T "$NDJSON" \
    -H 'Content-Type: application/x-ndjson' -H "Authorization: Bearer $ADMIN" "$URL/v1/customers/import")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
  cpu=$(awk -v t="$ticks" -v now="$(cpu_ticks "$PID")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (now - t) / hz }')
  kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null || true
  peak=$(sort -n "$DATA/rss.txt" | tail -1)
  answer=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["imported"], r["updated"], r["rejectedCount"])' "$DATA/import.json")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$seconds" "$(kib_to_mb <<< "$peak")" "$(kib_to_mb <<< "$hwm")" "$(kib_to_mb <<< "$idle")" \
    "$answer" "$cpu" "$load" | tee -a "$DATA/import.tsv" | awk -v r="$round" -F'\t' '{ printf "round %s: %.2f s, service CPU %s s,"\
      " peak VmRSS %s MB, VmHWM %s MB (idle %s MB); imported/updated/rejected %s; load average before %s\n", r, $1, $6, $2, $3, $4, $5, $7 }'
  [ "$round" = "$ROUNDS" ] || stop_crm
done
import_s=$(cut -f1 "$DATA/import.tsv" | median) import_rss=$(cut -f2 "$DATA/import.tsv" | median)
import_hwm=$(cut -f3 "$DATA/import.tsv" | median) import_cpu=$(cut -f6 "$DATA/import.tsv" | median)

echo "== lookup by email over $COUNT customers: wrk $WRK_ARGS, ${DUR}s, $ROUNDS rounds"
stop_crm
start_crm
wrk_lookup() {
  local label=$1 t0 t1 TIMEFORMAT='%U %S'
  t0=$(cpu_ticks "$PID")
  # shellcheck disable=SC2086 # WRK_ARGS is a list of options
  { time TOKEN=$SERVICE CUSTOMERS=$COUNT wrk $WRK_ARGS -d"$2"s --latency -s "$ROOT/Benchmarks/wrk/lookup.lua" "$URL" \
    > "$RESULTS/$label.txt" 2>&1; } 2> "$RESULTS/$label.wrkcpu"
  t1=$(cpu_ticks "$PID")
  python3 "$BENCH/parse-wrk.py" "$label" "$RESULTS/$label.txt" $((t1 - t0)) "$(getconf CLK_TCK)" "$RESULTS/$label.wrkcpu"
}
wrk_lookup crm-lookup-warmup 3 >/dev/null
: > "$DATA/lookup.tsv"
for round in $(seq "$ROUNDS"); do wrk_lookup "crm-lookup-r$round" "$DUR" | tee -a "$DATA/lookup.tsv"; done
to_ms() { awk '{ v = $1; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print v }'; }
lookup_rps=$(cut -f2 "$DATA/lookup.tsv" | median) lookup_p99=$(cut -f4 "$DATA/lookup.tsv" | to_ms | median)
lookup_cpu=$(cut -f8 "$DATA/lookup.tsv" | median)
echo "service RSS after the lookups: $(awk '/VmRSS/ {print $2}' "/proc/$PID/status" | kib_to_mb) MB"

echo "== lookups through a hanging CRM (timeoutMs 500), $ROUNDS rounds"
python3 "$ROOT/Benchmarks/hanging_crm.py" "$CRM_PORT" &
HANG=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$CRM_PORT") 2>/dev/null && break; sleep 0.1; done
: > "$DATA/timeout.tsv"
for round in $(seq "$ROUNDS"); do
  # Putting the source again resets its breaker.
  curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN" "$URL/v1/sources/hanging" \
    -d "{\"urlTemplate\":\"http://127.0.0.1:$CRM_PORT/customers?email={{email}}\",\"timeoutMs\":500,\"cacheTtlSeconds\":0}"
  for attempt in $(seq 8); do
    curl -s -o /dev/null -w "$round\t$attempt\t%{http_code}\t%{time_total}\n" -H "Authorization: Bearer $SERVICE" \
      "$URL/v1/lookup?email=hang$round-$attempt%40example.com&source=hanging"
  done | tee -a "$DATA/timeout.tsv"
done
timeout_s=$(awk -F'\t' '$3 == 502 { print $4 }' "$DATA/timeout.tsv" | median)
timeout_max=$(awk -F'\t' '$3 == 502 { print $4 }' "$DATA/timeout.tsv" | sort -g | tail -1)
open_s=$(awk -F'\t' '$3 == 503 { print $4 }' "$DATA/timeout.tsv" | median)
open_max=$(awk -F'\t' '$3 == 503 { print $4 }' "$DATA/timeout.tsv" | sort -g | tail -1)
stop_crm

echo
echo "== medians of $ROUNDS rounds"
echo "import $COUNT: ${import_s} s (target ≤ 10 s), service CPU ${import_cpu} s;" \
  "peak VmRSS ${import_rss} MB, VmHWM ${import_hwm} MB (target ≤ 100 MB)"
echo "lookup: ${lookup_rps} req/s (target ≥ 20000), p99 ${lookup_p99} ms (target ≤ 5 ms), server CPU ${lookup_cpu} µs/req"
echo "hanging CRM, timeoutMs 500: ${timeout_s} s (max ${timeout_max} s; target ≤ 0.55 s); breaker open: ${open_s} s (max ${open_max} s)"
