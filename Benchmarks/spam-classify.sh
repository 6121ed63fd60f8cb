#!/usr/bin/env bash
# The spam filter's time per message inside the real service (target: ≤ 100 µs for 2 KB): the four
# release services, the filter trained through the API past its 5 + 5 threshold (Benchmarks/spam_classify.py),
# then ROUNDS batches of MESSAGES ~2 KB inbound emails (English and Danish); each batch's
# concierge_spam_classify_seconds histogram (from /metrics, before and after) gives mean, p50 and p99.
#   Benchmarks/spam-classify.sh     # MESSAGES (default 3000), ROUNDS (3), TRAINING (200 per class)
# Needs: python3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SCRATCH=${SCRATCH:-.build-cbench-rel}
swift build -c release --scratch-path "$SCRATCH" >/dev/null
BIN=$ROOT/$SCRATCH/release
DATA=$(mktemp -d /tmp/concierge-spam-bench.XXXX)
export CONCIERGE_JWT_SECRET=${CONCIERGE_JWT_SECRET:-0123456789abcdef0123456789abcdef0123}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORTS=($(free_port) $(free_port) $(free_port) $(free_port))
export CONTACTS_URL=http://127.0.0.1:${PORTS[0]} CONVERSATIONS_URL=http://127.0.0.1:${PORTS[1]} ROUTING_URL=http://127.0.0.1:${PORTS[2]} CRM_LOOKUP_URL=http://127.0.0.1:${PORTS[3]}
PIDS=()
i=0
for name in contacts conversations routing crm-lookup; do
  port=${PORTS[$i]}; i=$((i + 1))
  DATABASE_PATH=$DATA/$name.sqlite PORT=$port LOG_LEVEL=warning "$BIN/concierge-$name" > "$DATA/$name.log" 2>&1 &
  PIDS+=($!)
done
trap 'kill ${PIDS[*]} 2>/dev/null || true; wait 2>/dev/null; rm -rf "$DATA"' EXIT
for i in 0 1 2 3; do
  for _ in $(seq 100); do kill -0 ${PIDS[$i]} && curl -sf "http://127.0.0.1:${PORTS[$i]}/readyz" >/dev/null && break; sleep 0.1; done
done
ADMIN=$("$BIN/concierge" token --role administrator --sub bench --ttl 2h)
SERVICE=$("$BIN/concierge" token --role service --sub bench --ttl 2h)
H=(-H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json')
INBOX=$(curl -sf -X POST "$ROUTING_URL/v1/inboxes" "${H[@]}" -d '{"name":"Support","defaultFor":["email"]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
AGENT_ID=$(curl -sf -X POST "$ROUTING_URL/v1/agents" "${H[@]}" -d "{\"name\":\"Ada\",\"email\":\"ada@bench.example\",\"inboxIds\":[\"$INBOX\"],\"capacity\":{\"email\":10000}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
AGENT=$("$BIN/concierge" token --role agent --sub "$AGENT_ID" --ttl 2h)
echo "== spam classification of ~2 KB messages; $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$ROOT/Benchmarks/spam_classify.py" "$CONVERSATIONS_URL" "$SERVICE" "$ADMIN" "$AGENT" "${MESSAGES:-3000}" "${TRAINING:-200}"
