#!/usr/bin/env bash
# End to end through the four real services (target: ≥ 2,000 messages/s for 60 s, p99 ≤ 25 ms, no
# errors): POST /v1/inbound of new and existing
# contacts. One support inbox (default for email) with AGENTS agents of large email capacity, so
# messages are assigned. Reports wrk's figures and each service's CPU per inbound message.
#   Benchmarks/inbound.sh        # DUR (default 60), AGENTS (default 20), EXISTING (default 2000)
#   CONNS="16 32" (default) adds a run of DUR seconds at each of those connection counts after the
#   64-connection run (bench-lib's wrk_run always uses 64), each line: connections, messages/s, p50,
#   p99, non-2xx + socket errors, then the mean time per hop in that run (each service's own
#   request-duration histogram, sum / count over the run): the inbound handler, and inside it
#   contacts' resolve and routing's route handlers.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH=${BENCH_DIR:-$ROOT/../shared/bench}
source "$BENCH/bench-lib.sh"
export RESULTS_DIR=${RESULTS_DIR:-/tmp/concierge-bench-results}
mkdir -p "$RESULTS_DIR"
swift build -c release >/dev/null
BIN=$ROOT/.build/release
DATA=$(mktemp -d /tmp/concierge-inbound-bench.XXXX)
export CONCIERGE_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export CONTACTS_URL=http://127.0.0.1:18481 CONVERSATIONS_URL=http://127.0.0.1:18482 ROUTING_URL=http://127.0.0.1:18483 CRM_LOOKUP_URL=http://127.0.0.1:18484
PIDS=()
for entry in contacts:18481 conversations:18482 routing:18483 crm-lookup:18484; do
  name=${entry%%:*}; port=${entry##*:}
  DATABASE_PATH=$DATA/$name.sqlite PORT=$port LOG_LEVEL=warning "$BIN/concierge-$name" > "$DATA/$name.log" 2>&1 &
  PIDS+=($!)
done
trap 'kill ${PIDS[*]} 2>/dev/null || true' EXIT
for port in 18481 18482 18483 18484; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done
ADMIN=$("$BIN/concierge" token --role administrator --sub bench --ttl 2h)
TOKEN=$("$BIN/concierge" token --role service --sub bench --ttl 2h)
H=(-H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json')
INBOX=$(curl -sf -X POST "$ROUTING_URL/v1/inboxes" "${H[@]}" -d '{"name":"Support","defaultFor":["email"]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for i in $(seq "${AGENTS:-20}"); do
  curl -sf -X POST "$ROUTING_URL/v1/agents" "${H[@]}" -d "{\"name\":\"Agent $i\",\"email\":\"a$i@bench.example\",\"inboxIds\":[\"$INBOX\"],\"capacity\":{\"email\":10000}}" >/dev/null
done
# The existing contacts, each with an open conversation.
python3 - "$CONVERSATIONS_URL" "$TOKEN" "${EXISTING:-2000}" <<'PY'
import http.client, json, sys, urllib.parse
url, token, count = urllib.parse.urlparse(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection(url.hostname, url.port)
for i in range(count):
    conn.request("POST", "/v1/inbound", json.dumps({"channel": "email", "from": f"user{i}@bench.example", "body": "first"}),
                 {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = conn.getresponse(); r.read()
    assert r.status < 300, r.status
PY
DUR=5 TOKEN=$TOKEN EXISTING=${EXISTING:-2000} wrk_run inbound-warmup "$CONVERSATIONS_URL" "$ROOT/Benchmarks/wrk/inbound.lua" "${PIDS[@]}" >/dev/null
before=(); for pid in "${PIDS[@]}"; do before+=($(cpu_ticks $pid)); done
DUR=${DUR:-60} TOKEN=$TOKEN EXISTING=${EXISTING:-2000} wrk_run inbound-e2e "$CONVERSATIONS_URL" "$ROOT/Benchmarks/wrk/inbound.lua" "${PIDS[@]}"
requests=$(awk '/requests in/ {print $1}' "$RESULTS_DIR/inbound-e2e.txt")
i=0
for name in contacts conversations routing crm-lookup; do
  after=$(cpu_ticks ${PIDS[$i]})
  echo "cpu-per-message	$name	$(python3 -c "print(round(($after - ${before[$i]}) / $(getconf CLK_TCK) * 1e6 / $requests, 1))") µs"
  i=$((i + 1))
done | tee -a "$RESULTS_DIR/summary.tsv"
echo "outbox backlog: $(curl -s "$CONVERSATIONS_URL/metrics" | grep '^concierge_outbox_depth' || echo none)"
# "sum count" of the request-duration histogram of each hop's route, in one line.
hop_totals() {
  local hop
  for hop in "$CONVERSATIONS_URL /v1/inbound" "$CONTACTS_URL /v1/contacts/resolve" "$ROUTING_URL /v1/route"; do
    set -- $hop
    curl -s "$1/metrics" | awk -v series="route=\"$2\"" \
      'index($0, series) && /_sum\{/ { s = $2 } index($0, series) && /_count\{/ { c = $2 } END { printf "%s %s ", s + 0, c + 0 }'
  done
}
for conns in ${CONNS:-16 32}; do
  hops_before=$(hop_totals)
  out=$(TOKEN=$TOKEN EXISTING=${EXISTING:-2000} wrk -t2 -c"$conns" -d"${DUR:-60}"s --latency -s "$ROOT/Benchmarks/wrk/inbound.lua" "$CONVERSATIONS_URL")
  echo "$out" > "$RESULTS_DIR/inbound-e2e-c$conns.txt"
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}')
  printf 'inbound-e2e-c%s\t%s\t%s\t%s\terrors %s\n' "$conns" "$rps" "$p50" "$p99" "$errors" | tee -a "$RESULTS_DIR/summary.tsv"
  python3 - "$conns" $hops_before $(hop_totals) <<'PY' | tee -a "$RESULTS_DIR/summary.tsv"
import sys
conns, v = sys.argv[1], [float(x) for x in sys.argv[2:]]
mean = lambda i: 1000 * (v[6 + 2 * i] - v[2 * i]) / max(v[7 + 2 * i] - v[2 * i + 1], 1)
print(f"inbound-e2e-c{conns}-hops\tinbound handler {mean(0):.2f} ms\tcontacts resolve {mean(1):.2f} ms\trouting route {mean(2):.2f} ms (mean per request)")
PY
done
