#!/usr/bin/env bash
# Contacts service against the Hummingbird peer, measured the same way in one run (see BENCHMARKS.md).
#   Benchmarks/contacts.sh            # release build, then: peer GET, ours GET, resolve at 10k and 1M, idle RSS
# Needs: apt-get install -y wrk sqlite3 libsqlite3-dev; ../shared/bench beside the repository.
# DUR (seconds per run, default 15) and ROUNDS (alternating peer/ours GET rounds, default 2) can be set.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH=${BENCH_DIR:-$ROOT/../shared/bench}
source "$BENCH/bench-lib.sh"
export RESULTS_DIR=${RESULTS_DIR:-/tmp/concierge-bench-results}
mkdir -p "$RESULTS_DIR"; : > "$RESULTS_DIR/summary.tsv"
swift build -c release >/dev/null
BIN=$ROOT/.build/release
DATA=$(mktemp -d /tmp/concierge-bench.XXXX)
export CONCIERGE_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
PORT=18181
start_contacts() {
  DATABASE_PATH=$DATA/contacts.sqlite PORT=$PORT LOG_LEVEL=${LOG_LEVEL:-info} "$BIN/concierge-contacts" > "$DATA/contacts.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return; sleep 0.1; done
  echo "contacts did not start"; cat "$DATA/contacts.log"; exit 1
}
stop_contacts() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
trap '[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true' EXIT

# The service creates its schema, then the seeder fills it while it is stopped.
start_contacts; stop_contacts
"$ROOT/Benchmarks/seed-contacts.sh" "$DATA/contacts.sqlite" 100000
sqlite3 "$DATA/contacts.sqlite" "SELECT id FROM contacts ORDER BY random() LIMIT 20000" > "$DATA/ids.txt"
start_contacts
sleep 2
echo "idle RSS of concierge-contacts (KiB): $(awk '/VmRSS/ {print $2}' /proc/$PID/status)" | tee "$RESULTS_DIR/idle-rss.txt"
TOKEN=$("$BIN/concierge" token --role agent --sub bench --ttl 1h)
SERVICE_TOKEN=$("$BIN/concierge" token --role service --sub bench --ttl 1h)
DUR=3 TOKEN=$TOKEN IDS_FILE=$DATA/ids.txt wrk_run ours-warmup "http://127.0.0.1:$PORT" "$BENCH/wrk/get_contact.lua" $PID >/dev/null
stop_contacts

# Peer and ours alternate so drift hits both alike.
PEER_PORT=${PEER_PORT:-9081}
SCRATCH=${PEER_BUILD:-/tmp/concierge-peer-build}
(cd "$BENCH/hummingbird-peer" && swift build -c release --scratch-path "$SCRATCH" >/dev/null)
"$BENCH/seed-db.sh" "$DATA/peer.db" >/dev/null
for round in $(seq "${ROUNDS:-2}"); do
  DB_PATH="$DATA/peer.db" PORT=$PEER_PORT "$SCRATCH/release/HBPeer" > "$DATA/peer.log" 2>&1 &
  PEER=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PEER_PORT/ping" >/dev/null && break; sleep 0.1; done
  DUR=3 wrk_run peer-warmup "http://127.0.0.1:$PEER_PORT" "$BENCH/wrk/get_contact.lua" $PEER >/dev/null
  wrk_run "peer-get-r$round" "http://127.0.0.1:$PEER_PORT" "$BENCH/wrk/get_contact.lua" $PEER
  kill $PEER; wait $PEER 2>/dev/null || true
  start_contacts
  DUR=3 TOKEN=$TOKEN IDS_FILE=$DATA/ids.txt wrk_run ours-warmup "http://127.0.0.1:$PORT" "$BENCH/wrk/get_contact.lua" $PID >/dev/null
  TOKEN=$TOKEN IDS_FILE=$DATA/ids.txt wrk_run "ours-get-r$round" "http://127.0.0.1:$PORT" "$BENCH/wrk/get_contact.lua" $PID
  stop_contacts
done

# Resolve of known addresses at 10,000 and 1,000,000 contacts.
for count in 10000 1000000; do
  "$ROOT/Benchmarks/seed-contacts.sh" "$DATA/contacts.sqlite" $count
  start_contacts
  DUR=3 TOKEN=$SERVICE_TOKEN CONTACTS=$count wrk_run ours-warmup "http://127.0.0.1:$PORT" "$ROOT/Benchmarks/wrk/resolve.lua" $PID >/dev/null
  TOKEN=$SERVICE_TOKEN CONTACTS=$count wrk_run "ours-resolve-$count" "http://127.0.0.1:$PORT" "$ROOT/Benchmarks/wrk/resolve.lua" $PID
  stop_contacts
done
echo; column -t "$RESULTS_DIR/summary.tsv"
rm -rf "$DATA"
