#!/usr/bin/env bash
# Smart folders over many conversations (target: ≤ 20 ms p50 for a three-condition rule): the first page of GET /v1/folders/{id}/conversations
# for rules common and rare, through the real concierge-conversations (release build).
#   Benchmarks/folders.sh          # COUNT (default 1000000), ROUNDS (3), DUR (5 s), CONNS (4), RULES (all)
# The service creates and migrates its database, is stopped, Benchmarks/seed_conversations.py fills it,
# and it is started again. Contacts and routing are not needed for reads (their URLs point nowhere).
# Each rule's folder is checked against a reference query before it is timed (Benchmarks/folder_rules.py);
# each figure is the median of ROUNDS wrk runs (-t1 -c$CONNS -d$DUR).
# Needs: apt-get install -y wrk sqlite3; python3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SCRATCH=${SCRATCH:-.build-cbench-rel}
swift build -c release --scratch-path "$SCRATCH" >/dev/null
BIN=$ROOT/$SCRATCH/release
export RESULTS_DIR=${RESULTS_DIR:-/tmp/concierge-bench-results}
mkdir -p "$RESULTS_DIR"
DATA=$(mktemp -d /tmp/concierge-folders-bench.XXXX)
export CONCIERGE_JWT_SECRET=${CONCIERGE_JWT_SECRET:-0123456789abcdef0123456789abcdef0123}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Nothing listens on port 1: reads need neither contacts nor routing.
export CONTACTS_URL=http://127.0.0.1:1 ROUTING_URL=http://127.0.0.1:1 CRM_LOOKUP_URL=http://127.0.0.1:1
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
start() {
  DATABASE_PATH=$DATA/conversations.sqlite PORT=$PORT LOG_LEVEL=warning "$BIN/concierge-conversations" > "$DATA/conversations.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do kill -0 $PID 2>/dev/null && curl -sf "$URL/readyz" >/dev/null && return; sleep 0.1; done
  echo "conversations did not start"; cat "$DATA/conversations.log"; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
trap '[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; rm -rf "$DATA"' EXIT

start; stop
python3 "$ROOT/Benchmarks/seed_conversations.py" "$DATA/conversations.sqlite" "${COUNT:-1000000}" "$DATA/meta.json"
start
MANAGER=$("$BIN/concierge" token --role team_manager --sub bench --ttl 2h)
AGENT=$("$BIN/concierge" token --role agent --sub bench --ttl 2h)
echo "== rules (matching = non-spam conversations the rule selects, of ${COUNT:-1000000})"
python3 "$ROOT/Benchmarks/folder_rules.py" "$URL" "$MANAGER" "$AGENT" "$DATA/conversations.sqlite" "$DATA/meta.json" "$DATA" ${RULES:-}
echo "== first page (limit 50), wrk -t1 -c${CONNS:-4} -d${DUR:-5}s, median of ${ROUNDS:-3} (rounds alternate between rules); $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
targets=()
for paths in "$DATA"/*.paths; do
  name=$(basename "$paths" .paths)
  DUR=1 ROUNDS=1 TOKEN=$AGENT RESULTS_DIR=$DATA python3 "$ROOT/Benchmarks/wrk_latency.py" warmup "$URL" "$paths" - >/dev/null
  targets+=("folder-$name" "$URL" "$paths" "$PID")
done
TOKEN=$AGENT python3 "$ROOT/Benchmarks/wrk_latency.py" "${targets[@]}"
echo "RSS of concierge-conversations after the runs (KiB): $(awk '/VmRSS/ {print $2}' /proc/$PID/status)"
stop
