#!/usr/bin/env bash
# GET /v1/conversations?assigneeId=X from 10,000 to 1,000,000 conversations: the first page
# (limit 50) should cost the same at every size. Same seed shape at each size (Benchmarks/seed_conversations.py):
# the same 200 agents, so each agent's share of the conversations is the same; requests cycle through the
# 20 agents with the most conversations (every first page a full 50 rows, also at 10,000).
#   Benchmarks/assignee-list.sh     # COUNTS (default "10000 1000000"), ROUNDS (3), DUR (5 s), CONNS (4)
# One release service per size runs at once; wrk rounds (-t1 -c$CONNS -d$DUR) alternate between them
# after a 2 s warm-up each, and each figure is the median of ROUNDS.
# Needs: apt-get install -y wrk sqlite3; python3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SCRATCH=${SCRATCH:-.build-cbench-rel}
swift build -c release --scratch-path "$SCRATCH" >/dev/null
BIN=$ROOT/$SCRATCH/release
export RESULTS_DIR=${RESULTS_DIR:-/tmp/concierge-bench-results}
mkdir -p "$RESULTS_DIR"
export CONCIERGE_JWT_SECRET=${CONCIERGE_JWT_SECRET:-0123456789abcdef0123456789abcdef0123}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Nothing listens on port 1: reads need neither contacts nor routing.
export CONTACTS_URL=http://127.0.0.1:1 ROUTING_URL=http://127.0.0.1:1 CRM_LOOKUP_URL=http://127.0.0.1:1
AGENT=$("$BIN/concierge" token --role agent --sub bench --ttl 2h)
DATA=$(mktemp -d /tmp/concierge-assignee-bench.XXXX)
PIDS=()
trap 'kill ${PIDS[*]:-} 2>/dev/null || true; wait 2>/dev/null; rm -rf "$DATA"' EXIT
start() { # DIR PORT
  DATABASE_PATH=$1/conversations.sqlite PORT=$2 LOG_LEVEL=warning "$BIN/concierge-conversations" > "$1/conversations.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do kill -0 $PID 2>/dev/null && curl -sf "http://127.0.0.1:$2/readyz" >/dev/null && return; sleep 0.1; done
  echo "conversations did not start"; cat "$1/conversations.log"; exit 1
}
targets=()
for count in ${COUNTS:-10000 1000000}; do
  dir=$DATA/$count; mkdir -p "$dir"; port=$(free_port)
  start "$dir" $port; kill $PID; wait $PID 2>/dev/null || true
  python3 "$ROOT/Benchmarks/seed_conversations.py" "$dir/conversations.sqlite" "$count" "$dir/meta.json"
  python3 - "$dir/meta.json" "$dir/conversations.sqlite" > "$dir/assignees.paths" <<'PY'
import json, sqlite3, sys
# The 20 agents with the most conversations, so that every first page is a full page (50) at 10,000 too.
agents = json.load(open(sys.argv[1]))["agents"]
db = sqlite3.connect(sys.argv[2])
counted = sorted(((db.execute("SELECT count(*) FROM conversations WHERE assignee_id = ? AND spam = 0", [a]).fetchone()[0], a)
                  for a in agents), reverse=True)[:20]
shares, agents = [c for c, _ in counted], [a for _, a in counted]
total = db.execute("SELECT count(*) FROM conversations").fetchone()[0]
print(f"the 20 agents asked for have {min(shares)}–{max(shares)} of {total} conversations each "
      f"({100 * sum(shares) / len(shares) / total:.2f} % on average)", file=sys.stderr)
for agent in agents:
    print(f"/v1/conversations?assigneeId={agent}")
PY
  start "$dir" $port; PIDS+=($PID)
  DUR=2 ROUNDS=1 TOKEN=$AGENT RESULTS_DIR=$dir python3 "$ROOT/Benchmarks/wrk_latency.py" warmup "http://127.0.0.1:$port" "$dir/assignees.paths" - >/dev/null
  targets+=("assignee-list-$count" "http://127.0.0.1:$port" "$dir/assignees.paths" "$PID")
done
echo "== first page of GET /v1/conversations?assigneeId=X, wrk -t1 -c${CONNS:-4} -d${DUR:-5}s, median of ${ROUNDS:-3} alternating rounds; $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
TOKEN=$AGENT python3 "$ROOT/Benchmarks/wrk_latency.py" "${targets[@]}"
