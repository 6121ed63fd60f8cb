#!/usr/bin/env bash
# A/B of two commits with the same benchmark scripts, alternating so the machine's drift hits both:
#   Benchmarks/ab.sh BASE_DIR HEAD_DIR [ROUNDS]     # each a checkout (git worktree) of the commit to run
#   SCRIPTS="contacts" Benchmarks/ab.sh …           # only some of: routing inbound contacts
# Runs, per round and checkout: routing.sh at 5,000 agents (DUR 10: 64 connections, 2 connections,
# 5,000/s open loop with its read floor, closed loop at 2, drain of 100 agents) and inbound.sh (DUR 15,
# 16 connections), then a contacts GET by id at 64 connections (the peer benchmark's wrk script) on
# 100,000 seeded contacts. Each run's summary goes to $OUT/<round>-<a|b>-<script>.tsv, and the rows
# are printed side by side at the end. Needs what routing.sh and inbound.sh need.
set -euo pipefail
BASE=$(cd "$1" && pwd); HEAD=$(cd "$2" && pwd); ROUNDS=${3:-2}
OUT=${OUT:-/tmp/concierge-ab}; mkdir -p "$OUT"
BENCH=${BENCH_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/shared/bench}
contacts_get() {  # $1 checkout, $2 results dir
  local root=$1 res=$2 data; data=$(mktemp -d /tmp/concierge-ab-contacts.XXXX)
  (cd "$root" && swift build -c release >/dev/null)
  export CONCIERGE_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  DATABASE_PATH=$data/contacts.sqlite PORT=18191 LOG_LEVEL=warning "$root/.build/release/concierge-contacts" > "$data/log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:18191/readyz >/dev/null && break; sleep 0.1; done
  kill $pid; wait $pid 2>/dev/null || true
  "$root/Benchmarks/seed-contacts.sh" "$data/contacts.sqlite" 100000 >/dev/null
  sqlite3 "$data/contacts.sqlite" "SELECT id FROM contacts ORDER BY random() LIMIT 20000" > "$data/ids.txt"
  DATABASE_PATH=$data/contacts.sqlite PORT=18191 LOG_LEVEL=warning "$root/.build/release/concierge-contacts" > "$data/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:18191/readyz >/dev/null && break; sleep 0.1; done
  local token; token=$("$root/.build/release/concierge" token --role agent --sub bench --ttl 1h)
  ( export RESULTS_DIR=$res; source "$BENCH/bench-lib.sh"
    DUR=3 TOKEN=$token IDS_FILE=$data/ids.txt wrk_run contacts-warmup http://127.0.0.1:18191 "$BENCH/wrk/get_contact.lua" $pid >/dev/null
    DUR=15 TOKEN=$token IDS_FILE=$data/ids.txt wrk_run contacts-get-c64 http://127.0.0.1:18191 "$BENCH/wrk/get_contact.lua" $pid )
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$data"
}
for round in $(seq "$ROUNDS"); do
  for side in a b; do
    root=$([ $side = a ] && echo "$BASE" || echo "$HEAD")
    for script in ${SCRIPTS:-routing inbound contacts}; do
      res=$(mktemp -d /tmp/concierge-ab-res.XXXX); : > "$res/summary.tsv"
      case $script in
        routing) RESULTS_DIR=$res AGENT_COUNTS=5000 DUR=10 CONNS=2 BENCH_DIR=$BENCH "$root/Benchmarks/routing.sh" >/dev/null 2>&1 || echo "routing failed ($side)" ;;
        inbound) RESULTS_DIR=$res DUR=15 CONNS=16 BENCH_DIR=$BENCH "$root/Benchmarks/inbound.sh" >/dev/null 2>&1 || echo "inbound failed ($side)" ;;
        contacts) contacts_get "$root" "$res" >/dev/null 2>&1 || echo "contacts failed ($side)" ;;
      esac
      cp "$res/summary.tsv" "$OUT/$round-$side-$script.tsv"
      rm -rf "$res"
    done
  done
done
for f in "$OUT"/*.tsv; do echo "== $(basename "$f")"; cat "$f"; done
