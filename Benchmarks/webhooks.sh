#!/usr/bin/env bash
# Webhook delivery from one service (issue 20, "Events out", SPEC §9): contacts' contact.created events
# to one webhook whose receiver is Benchmarks/loadgen/webhook_sink.c (answers 204 at once, keep-alive,
# records each delivery's arrival; C, epoll, one thread — its own capacity is measured first with wrk).
#   Benchmarks/webhooks.sh
# Settings (defaults): BACKLOG (60000) GEN_RATE (4000/s), LIVE_RATE (3000/s) LIVE_DUR (30 s),
# OUTAGE (122 s: not a multiple of the retry interval, so the wait for the next retry shows) OUTAGE_RATE (200/s) LEAD (10 s) TAIL (70 s), RETRY_SCHEDULE (5: a failed delivery is
# retried every 5 s — CONCIERGE_WEBHOOK_RETRY_SCHEDULE), PARTS ("sink drain live outage"), PERF (1:
# perf record of the service during the live part).
# The release concierge-contacts, with CONCIERGE_ALLOW_PRIVATE_TARGETS=true (the receiver is on
# 127.0.0.1). Events come from `POST /v1/contacts` (one contact.created each) sent by post_rate on a
# fixed schedule.
#  sink    wrk -t1 -c4 against the receiver alone: its requests/s.
#  drain   the webhook paused, BACKLOG contacts created, the webhook re-activated: deliveries/s until
#          the receiver has them all (contacts' CPU per delivery beside it).
#  live    the webhook active, contacts created at LIVE_RATE for LIVE_DUR: is each delivered, and how
#          long after the create's answer (p50/p99 over the run and in its first and last 5 s).
#  outage  contacts created at OUTAGE_RATE for LEAD + OUTAGE + TAIL s; the receiver is stopped after
#          LEAD s and started again OUTAGE s later: when the first delivery comes after the restart,
#          when the backlog is delivered and when deliveries are back within 1 s of their create.
# Lines go to $RESULTS_DIR/summary.tsv, dumps to $RESULTS_DIR/webhooks/. NOBUILD=1, BIN as events-sse.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export RESULTS_DIR=${RESULTS_DIR:-/tmp/concierge-bench-results}
OUT=$RESULTS_DIR/webhooks
mkdir -p "$OUT"
BACKLOG=${BACKLOG:-60000} GEN_RATE=${GEN_RATE:-4000} LIVE_RATE=${LIVE_RATE:-3000} LIVE_DUR=${LIVE_DUR:-30}
OUTAGE=${OUTAGE:-122} OUTAGE_RATE=${OUTAGE_RATE:-200} LEAD=${LEAD:-10} TAIL=${TAIL:-70} RETRY_SCHEDULE=${RETRY_SCHEDULE:-5}
PARTS=${PARTS:-sink drain live outage}
[ -n "${NOBUILD:-}" ] || swift build -c release >/dev/null
BIN=${BIN:-$ROOT/.build/release}
for tool in post_rate webhook_sink; do cc -O2 -o "$OUT/$tool" "$ROOT/Benchmarks/loadgen/$tool.c"; done
DATA=$(mktemp -d /tmp/concierge-webhooks.XXXX)
export CONCIERGE_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
PORT=${PORT:-18691} SINK_PORT=${SINK_PORT:-18699}
URL=http://127.0.0.1:$PORT
DATABASE_PATH=$DATA/contacts.sqlite PORT=$PORT LOG_LEVEL=warning CONCIERGE_ALLOW_PRIVATE_TARGETS=true \
  CONCIERGE_WEBHOOK_RETRY_SCHEDULE=$RETRY_SCHEDULE "$BIN/concierge-contacts" > "$DATA/contacts.log" 2>&1 &
PID=$!
SINK=
cleanup() { [ -n "$SINK" ] && kill "$SINK" 2>/dev/null; kill "$PID" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done
ADMIN=$("$BIN/concierge" token --role administrator --sub bench --ttl 4h)
export TOKEN=$ADMIN
H=(-H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json')
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
switches() { cat /proc/$1/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n}'; }  # all threads, voluntary + not
RUN_BASE=$(date +%s)
creates() {  # $1 run number, $2 rate, $3 seconds — contacts created on a fixed schedule
  RUN_ID=$((RUN_BASE * 100 + $1)) BODY='{"name":"Bench %N","emails":["wh-%R-%N@bench.example"]}' \
    "$OUT/post_rate" 127.0.0.1 "$PORT" /v1/contacts "$2" "$3" 16
}
start_sink() {  # $1 dump file
  DUMP=$1 "$OUT/webhook_sink" "$SINK_PORT" > "$DATA/sink.out" 2>&1 &
  SINK=$!
  for _ in $(seq 50); do grep -q listening "$DATA/sink.out" 2>/dev/null && break; sleep 0.1; done
}
stop_sink() { kill -TERM "$SINK"; wait "$SINK" || true; SINK=; }
delivered() { awk '/^t / {n = $4} END {print n + 0}' "$DATA/sink.out"; }
wait_for() {  # $1 deliveries, $2 seconds at most
  for _ in $(seq $(($2 * 10))); do [ "$(delivered)" -ge "$1" ] && return 0; sleep 0.1; done; return 1
}
echo "# webhooks $(date -u +%FT%TZ) BACKLOG=$BACKLOG LIVE_RATE=$LIVE_RATE LIVE_DUR=$LIVE_DUR OUTAGE=$OUTAGE OUTAGE_RATE=$OUTAGE_RATE RETRY_SCHEDULE=$RETRY_SCHEDULE load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS_DIR/summary.tsv"
creates 0 1000 3 > /dev/null   # warm-up
if [[ " $PARTS " == *" sink "* ]]; then
  start_sink /dev/null
  out=$(wrk -t1 -c4 -d5s -s "$ROOT/Benchmarks/wrk/webhook-sink.lua" "http://127.0.0.1:$SINK_PORT/")
  stop_sink
  echo "webhook-sink-alone	$(echo "$out" | awk '/Requests\/sec/ {print $2}') requests/s (wrk -t1 -c4)	$(tail -1 "$DATA/sink.out")" | tee -a "$RESULTS_DIR/summary.tsv"
fi
HOOK=$(curl -sf -X POST "$URL/v1/webhooks" "${H[@]}" -d "{\"url\":\"http://127.0.0.1:$SINK_PORT/hook\",\"types\":[\"contact.*\"]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
if [[ " $PARTS " == *" drain "* ]]; then
  curl -sf -X PATCH "$URL/v1/webhooks/$HOOK" "${H[@]}" -d '{"status":"paused"}' > /dev/null
  echo "webhook-backlog-creates	$(creates 1 "$GEN_RATE" "$(echo "$BACKLOG / $GEN_RATE" | bc -l)")" | tee -a "$RESULTS_DIR/summary.tsv"
  sleep 2
  start_sink "$OUT/drain-deliveries.txt"
  t0=$(ticks $PID); s0=$(switches $PID)
  curl -sf -X PATCH "$URL/v1/webhooks/$HOOK" "${H[@]}" -d '{"status":"active"}' > /dev/null
  wait_for "$BACKLOG" 300 || echo "drain: only $(delivered) of $BACKLOG delivered in 300 s"
  t1=$(ticks $PID); s1=$(switches $PID)
  stop_sink
  n=$(wc -l < "$OUT/drain-deliveries.txt")
  echo "webhook-drain	$(python3 "$ROOT/Benchmarks/events_tool.py" rate "$OUT/drain-deliveries.txt" drain | cut -f2-)	contacts CPU $(echo "($t1 - $t0) / $(getconf CLK_TCK) * 1000000 / $n" | bc -l | xargs printf '%.0f') µs/delivery, $(echo "($s1 - $s0) / $n" | bc -l | xargs printf '%.1f') context switches/delivery (threads alive at the end)	receiver: $(tail -1 "$DATA/sink.out")	load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RESULTS_DIR/summary.tsv"
fi
if [[ " $PARTS " == *" live "* ]]; then
  start_sink "$OUT/live-deliveries.txt"
  sleep 1
  # PERF=1: a profile of the service during 10 s of the steady run (perf report -i $OUT/live.perf).
  [ -n "${PERF:-}" ] && { sleep 5; perf record -F 999 -g -p $PID -o "$OUT/live.perf" -- sleep 10 > /dev/null 2>&1; } &
  t0=$(ticks $PID)
  line=$(DUMP=$OUT/live-answers.txt FIELDS=id creates 2 "$LIVE_RATE" "$LIVE_DUR" || true)
  created=$(wc -l < "$OUT/live-answers.txt")
  wait_for "$created" 120 || echo "live: only $(delivered) of $created delivered 120 s after the last create"
  t1=$(ticks $PID)
  sleep 1
  stop_sink
  echo "webhook-live-creates	$line	contacts CPU $(echo "($t1 - $t0) / $(getconf CLK_TCK) * 1000000 / $created" | bc -l | xargs printf '%.0f') µs/contact (create + delivery)" | tee -a "$RESULTS_DIR/summary.tsv"
  python3 "$ROOT/Benchmarks/events_tool.py" live "$OUT/live-answers.txt" "$OUT/live-deliveries.txt" webhook-live | tee -a "$RESULTS_DIR/summary.tsv"
  echo "webhook-live-receiver	$(tail -1 "$DATA/sink.out")" | tee -a "$RESULTS_DIR/summary.tsv"
fi
if [[ " $PARTS " == *" outage "* ]]; then
  start_sink "$OUT/outage-before.txt"
  DUMP=$OUT/outage-answers.txt FIELDS=id creates 3 "$OUTAGE_RATE" $((LEAD + OUTAGE + TAIL)) > "$DATA/outage-creates.out" 2>&1 &
  GEN=$!
  sleep "$LEAD"
  stop_sink
  echo "webhook-outage: receiver down for $OUTAGE s at $(date -u +%T)"
  sleep "$OUTAGE"
  start_sink "$OUT/outage-after.txt"
  restarted=$(awk '/listening/ {print $NF}' "$DATA/sink.out")
  wait "$GEN" || true
  echo "webhook-outage-creates	$(cat "$DATA/outage-creates.out")" | tee -a "$RESULTS_DIR/summary.tsv"
  sleep 5
  stop_sink
  python3 "$ROOT/Benchmarks/events_tool.py" catchup "$OUT/outage-answers.txt" "$OUT/outage-after.txt" "$restarted" "webhook-outage-${OUTAGE}s" "$OUT/outage-before.txt" | tee -a "$RESULTS_DIR/summary.tsv"
  echo "webhook-outage-receiver	$(tail -1 "$DATA/sink.out")" | tee -a "$RESULTS_DIR/summary.tsv"
fi
