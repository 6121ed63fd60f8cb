#!/usr/bin/env bash
# Server-Sent Events fan-out of the conversations service (issue 20, "Events out", SPEC §9):
#   Benchmarks/events-sse.sh     # STREAMS (1000), RATE (1000 messages/s), DUR (30 s), ROUNDS (3), CONNS (32)
# The four release services on one machine; STREAMS agents in one round-robin inbox, the default for
# email, each with email capacity 10,000 (`events_tool.py seed-agents`), and an agent token for each.
#
# 1. Memory: VmRSS of concierge-conversations (/proc/PID/status) after a warm-up, then with STREAMS
#    idle streams open (`sse_listen`, 5 s after the last one opened, and again 10 s later), then 5 s
#    after they closed.
# 2. ROUNDS rounds of two runs each, in ABBA order: inbound at RATE messages/s on a fixed schedule for
#    DUR seconds (`post_rate`, open loop over CONNS connections, every message from a new sender, so
#    each is a new conversation assigned to an agent), once without streams and once with STREAMS
#    streams open, one per agent, `Accept: text/event-stream` with the agent's own token. In the
#    streamed run every answer's (conversationId, assigneeId) is matched with the
#    conversation.assigned event of that conversation on that agent's stream, and the time from the
#    answer's arrival to the event's (both CLOCK_MONOTONIC, in the two load tools) is reported
#    (`events_tool.py match`). Each run's line also has conversations' CPU per message.
# Lines go to $RESULTS_DIR/summary.tsv (default /tmp/concierge-bench-results), raw dumps to
# $RESULTS_DIR/events-sse/. NOBUILD=1 skips `swift build`; BIN overrides the binaries' folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export RESULTS_DIR=${RESULTS_DIR:-/tmp/concierge-bench-results}
OUT=$RESULTS_DIR/events-sse
mkdir -p "$OUT"
STREAMS=${STREAMS:-1000} RATE=${RATE:-1000} DUR=${DUR:-30} ROUNDS=${ROUNDS:-3} CONNS=${CONNS:-32}
[ -n "${NOBUILD:-}" ] || swift build -c release >/dev/null
BIN=${BIN:-$ROOT/.build/release}
for tool in post_rate sse_listen; do cc -O2 -o "$OUT/$tool" "$ROOT/Benchmarks/loadgen/$tool.c"; done
ulimit -n 20000 2>/dev/null || true
DATA=$(mktemp -d /tmp/concierge-events-sse.XXXX)
export CONCIERGE_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
P=${PORT_BASE:-18680}
export CONTACTS_URL=http://127.0.0.1:$((P + 1)) CONVERSATIONS_URL=http://127.0.0.1:$((P + 2)) ROUTING_URL=http://127.0.0.1:$((P + 3)) CRM_LOOKUP_URL=http://127.0.0.1:$((P + 4))
PIDS=()
i=1
for name in contacts conversations routing crm-lookup; do
  DATABASE_PATH=$DATA/$name.sqlite PORT=$((P + i)) LOG_LEVEL=warning "$BIN/concierge-$name" > "$DATA/$name.log" 2>&1 &
  PIDS+=($!)
  i=$((i + 1))
done
CONV_PID=${PIDS[1]}
LISTENER=
cleanup() { [ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null; kill "${PIDS[@]}" 2>/dev/null || true; }
trap cleanup EXIT
for port in $((P + 1)) $((P + 2)) $((P + 3)) $((P + 4)); do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done
ADMIN=$("$BIN/concierge" token --role administrator --sub bench --ttl 4h)
TOKEN=$("$BIN/concierge" token --role service --sub bench --ttl 4h)
python3 "$ROOT/Benchmarks/events_tool.py" seed-agents "$ROUTING_URL" "$ADMIN" "$STREAMS" "$CONCIERGE_JWT_SECRET" "$DATA/tokens.txt"
export TOKEN BODY='{"channel":"email","from":"sse-%R-%N@bench.example","subject":"Order","body":"Hello, where is my order %N?","externalId":"sse-%R-%N"}'
RUN_BASE=$(date +%s)
inbound() {  # $1 run number (senders and externalIds are new for each), $2 seconds; prints post_rate's line
  RUN_ID=$((RUN_BASE * 100 + $1)) "$OUT/post_rate" 127.0.0.1 $((P + 2)) /v1/inbound "$RATE" "$2" "$CONNS"
}
rss() { awk '/^VmRSS/ {print $2}' /proc/$CONV_PID/status; }   # kB
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
open_streams() {  # $1 dump file; starts sse_listen in the background, waits until every stream is open
  rm -f "$DATA/ready"
  DUMP=$1 READY=$DATA/ready "$OUT/sse_listen" 127.0.0.1 $((P + 2)) "$DATA/tokens.txt" > "$DATA/listen.out" 2>&1 &
  LISTENER=$!
  for _ in $(seq 600); do [ -f "$DATA/ready" ] && break; kill -0 $LISTENER 2>/dev/null || break; sleep 0.1; done
  [ -f "$DATA/ready" ] || { cat "$DATA/listen.out"; echo "streams did not open"; exit 1; }
}
close_streams() {
  kill -TERM "$LISTENER"; wait "$LISTENER" || true; LISTENER=
}
echo "# events-sse $(date -u +%FT%TZ) STREAMS=$STREAMS RATE=$RATE DUR=$DUR ROUNDS=$ROUNDS CONNS=$CONNS load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS_DIR/summary.tsv"
inbound 0 5 > /dev/null
sleep 3
# 1. Memory of idle streams.
before=$(rss)
open_streams "$DATA/idle-events.txt"
opened=$(head -1 "$DATA/listen.out")
sleep 5
with=$(rss)
sleep 10
with_later=$(rss)
close_streams
sleep 5
after=$(rss)
printf 'sse-idle-rss\t%s\tVmRSS before %.1f MB\twith %s idle streams %.1f MB (+%.1f MB), 10 s later %.1f MB (+%.1f MB)\tafter closing %.1f MB\t%s\n' \
  "$STREAMS" "$(echo "$before / 1024" | bc -l)" "$STREAMS" "$(echo "$with / 1024" | bc -l)" "$(echo "($with - $before) / 1024" | bc -l)" \
  "$(echo "$with_later / 1024" | bc -l)" "$(echo "($with_later - $before) / 1024" | bc -l)" "$(echo "$after / 1024" | bc -l)" "$opened" \
  | tee -a "$RESULTS_DIR/summary.tsv"
# 2. Fan-out under inbound load, with and without the streams, ABBA.
one_run() {  # $1 round, $2 with|without
  local label=sse-$2-r$1 t0 t1 line number=$(($1 * 2 + $([ "$2" = with ] && echo 1 || echo 0)))
  if [ "$2" = with ]; then open_streams "$OUT/$label-events.txt"; sleep 1; fi
  t0=$(ticks $CONV_PID)
  line=$(DUMP=$OUT/$label-answers.txt FIELDS=conversationId,assigneeId inbound "$number" "$DUR" || true)
  t1=$(ticks $CONV_PID)
  printf '%s\t%s\tconversations CPU %.0f µs/message\tload %s\n' "$label" "$line" \
    "$(echo "($t1 - $t0) / $(getconf CLK_TCK) * 1000000 / ($RATE * $DUR)" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RESULTS_DIR/summary.tsv"
  if [ "$2" = with ]; then
    sleep 2
    close_streams
    python3 "$ROOT/Benchmarks/events_tool.py" match "$OUT/$label-answers.txt" "$OUT/$label-events.txt" "$label-events" | tee -a "$RESULTS_DIR/summary.tsv"
    echo "$label-listener	$(tail -1 "$DATA/listen.out")" | tee -a "$RESULTS_DIR/summary.tsv"
  fi
  sleep 2
}
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then one_run "$round" without; one_run "$round" with
  else one_run "$round" with; one_run "$round" without; fi
done
echo "outbox backlog: $(curl -s "$CONVERSATIONS_URL/metrics" | grep '^concierge_outbox_depth' || echo none)"
