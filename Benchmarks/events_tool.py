#!/usr/bin/env python3
"""Helper of Benchmarks/events-sse.sh and Benchmarks/webhooks.sh (issue 20, events out).

  events_tool.py seed-agents ROUTING_URL ADMIN_TOKEN COUNT SECRET TOKENS_OUT
      One round-robin inbox, the default for email, and COUNT agents in it with a large email
      capacity (every inbound message of a new sender is assigned); writes "<agent id> <agent token>"
      per line, each token an HS256 JWT for role agent and sub = the agent's id, signed with SECRET
      (as `concierge token --role agent --sub ID` would, without starting the CLI 1,000 times).
  events_tool.py match ANSWERS EVENTS LABEL
      Joins post_rate's dump (due sent answered status conversationId assigneeId) with sse_listen's
      (arrival stream agent seq type id assigneeId): for every answer that names an assignee, the
      conversation.assigned event of that conversation and assignee, and how long after the answer
      it arrived on the agent's stream. Prints one TSV line.
  events_tool.py catchup ANSWERS DELIVERIES RESTARTED_NS LABEL [DELIVERIES_BEFORE]
      Webhook outage: post_rate's dump of contact creates (… contact id) and webhook_sink's
      (arrival seq id) after the receiver came back at RESTARTED_NS (CLOCK_MONOTONIC): when the first
      delivery came, when the last event created before the restart arrived, and when deliveries
      were back to within 1 s of their creation.
  events_tool.py live ANSWERS DELIVERIES LABEL
      Webhook under steady load: for every contact created (post_rate's dump, the contact id last),
      its delivery in webhook_sink's dump and how long after the create's answer it arrived; the
      delivery rate over the run and the delay in its first and last 5 s (a growing delay is a
      dispatcher falling behind).
  events_tool.py rate DELIVERIES LABEL
      Deliveries per second between the first and the last arrival in webhook_sink's dump.
"""
import base64, hashlib, hmac, http.client, json, sys, time, urllib.parse


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret: str, sub: str, role: str, ttl: int = 7200) -> str:
    now = int(time.time())
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64url(json.dumps({"exp": now + ttl, "iat": now, "role": role, "sub": sub}, separators=(",", ":"), sort_keys=True).encode())
    signing = f"{header}.{payload}".encode()
    return f"{header}.{payload}.{b64url(hmac.new(secret.encode(), signing, hashlib.sha256).digest())}"


def seed_agents(base, token, count, secret, out):
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def call(method, path, body):
        conn.request(method, path, json.dumps(body), headers)
        response = conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise SystemExit(f"{method} {path} -> {response.status} {data[:300]!r}")
        return json.loads(data)

    inbox = call("POST", "/v1/inboxes", {"name": "Support", "defaultFor": ["email"], "strategy": "round_robin"})["id"]
    with open(out, "w") as file:
        for i in range(count):
            agent = call("POST", "/v1/agents", {"name": f"Agent {i}", "email": f"sse-agent{i}@bench.example",
                                                "inboxIds": [inbox], "capacity": {"email": 10000}})
            file.write(f"{agent['id']} {mint(secret, agent['id'], 'agent')}\n")


def pct(values, q):
    return values[min(len(values) - 1, int(q * (len(values) - 1)))] if values else float("nan")


def match(answers_path, events_path, label):
    answers = {}
    statuses = {}
    for line in open(answers_path):
        parts = line.split()
        if len(parts) < 6:
            continue
        statuses[parts[3]] = statuses.get(parts[3], 0) + 1
        if parts[5] != "-":
            answers[parts[4]] = (int(parts[2]), parts[5])
    events = {}
    wrong_stream = 0
    types = {}
    for line in open(events_path):
        at, stream, agent, seq, kind, cid, assignee = line.split()
        types[kind] = types.get(kind, 0) + 1
        if kind != "conversation.assigned":
            continue
        if assignee != agent:
            wrong_stream += 1
        events.setdefault(cid, []).append((int(at), assignee))
    delays, missing = [], 0
    for cid, (answered, assignee) in answers.items():
        found = [at for at, a in events.get(cid, []) if a == assignee]
        if not found:
            missing += 1
            continue
        delays.append((min(found) - answered) / 1e6)
    delays.sort()
    early = sum(1 for d in delays if d <= 0)
    clipped = [max(0.0, d) for d in delays]
    print(f"{label}\tassigned answers {len(answers)}\tevents matched {len(delays)}\tmissing {missing}\t"
          f"on another agent's stream {wrong_stream}\tbefore the answer {early}\t"
          f"event after answer (ms, ≤0 counted as 0) p50 {pct(clipped, .5):.2f} p90 {pct(clipped, .9):.2f} "
          f"p99 {pct(clipped, .99):.2f} p99.9 {pct(clipped, .999):.2f} max {clipped[-1] if clipped else float('nan'):.2f}\t"
          f"raw min {delays[0] if delays else float('nan'):.2f}\tstatuses {statuses}\tevent types {types}")


def catchup(answers_path, deliveries_path, restarted, label, before_path=None):
    created = {}
    for line in open(answers_path):
        parts = line.split()
        if len(parts) >= 5 and parts[4] != "-":
            created[parts[4]] = int(parts[2])
    arrivals = []
    for line in open(deliveries_path):
        at, seq, cid = line.split()
        arrivals.append((int(at), int(seq), cid))
    arrivals.sort()
    if not arrivals:
        print(f"{label}\tno deliveries")
        return
    first = arrivals[0][0]
    backlog = [created[c] for _, _, c in arrivals if c in created and created[c] < restarted]
    # the last delivery of an event created before the restart
    last_backlog = max((at for at, _, c in arrivals if c in created and created[c] < restarted), default=None)
    caught = None
    for at, _, c in arrivals:
        if c in created and at - created[c] <= 1e9 and at >= (last_backlog or 0):
            caught = at
            break
    delivered_ids = {c for _, _, c in arrivals}
    if before_path:
        delivered_ids |= {line.split()[2] for line in open(before_path)}
    undelivered = sum(1 for c in created if c not in delivered_ids)
    def s(ns):
        return f"{(ns - restarted) / 1e9:.1f} s" if ns is not None else "never"
    drain = len(backlog) / ((last_backlog - first) / 1e9) if last_backlog and last_backlog > first else float("nan")
    print(f"{label}\tbacklog events {len(backlog)}\tfirst delivery after restart {s(first)}\t"
          f"backlog delivered by {s(last_backlog)}\tdelay back under 1 s at {s(caught)}\t"
          f"drain rate {drain:.0f}/s\tdeliveries {len(arrivals)}\tcreated {len(created)}\tnever delivered {undelivered}")


def live(answers_path, deliveries_path, label):
    created = {}
    for line in open(answers_path):
        parts = line.split()
        if len(parts) >= 5 and parts[4] != "-":
            created[parts[4]] = int(parts[2])
    delays, pairs = [], []
    seen = set()
    for line in open(deliveries_path):
        at, seq, cid = line.split()
        if cid in created and cid not in seen:
            seen.add(cid)
            delays.append((int(at) - created[cid]) / 1e6)
            pairs.append((created[cid], (int(at) - created[cid]) / 1e6))
    delays.sort()
    pairs.sort()
    start, end = (pairs[0][0], pairs[-1][0]) if pairs else (0, 0)
    head = sorted(d for t, d in pairs if t - start < 5e9)
    tail = sorted(d for t, d in pairs if end - t < 5e9)
    span = (end - start) / 1e9 if pairs else 0
    print(f"{label}\tcreated {len(created)}\tdelivered {len(seen)}\tmissing {len(created) - len(seen)}\t"
          f"delivery after the create's answer (ms) p50 {pct(delays, .5):.1f} p90 {pct(delays, .9):.1f} p99 {pct(delays, .99):.1f} "
          f"max {delays[-1] if delays else float('nan'):.1f}\tfirst 5 s p50 {pct(head, .5):.1f} p99 {pct(head, .99):.1f}\t"
          f"last 5 s p50 {pct(tail, .5):.1f} p99 {pct(tail, .99):.1f}\tcreates/s {len(created) / span if span else 0:.0f}")


def rate(deliveries_path, label):
    times = sorted(int(line.split()[0]) for line in open(deliveries_path))
    if len(times) < 2:
        print(f"{label}\tdeliveries {len(times)}")
        return
    span = (times[-1] - times[0]) / 1e9
    # steadiest second-long windows: per-second counts
    per_second = {}
    for t in times:
        per_second[(t - times[0]) // 1_000_000_000] = per_second.get((t - times[0]) // 1_000_000_000, 0) + 1
    full = sorted(per_second[k] for k in sorted(per_second)[:-1]) or [len(times)]
    print(f"{label}\tdeliveries {len(times)}\tin {span:.2f} s\t{len(times) / span:.0f}/s\t"
          f"per whole second: min {full[0]} median {full[len(full) // 2]} max {full[-1]}")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "seed-agents":
        seed_agents(args[0], args[1], int(args[2]), args[3], args[4])
    elif command == "match":
        match(*args)
    elif command == "catchup":
        catchup(args[0], args[1], int(args[2]), args[3], *args[4:])
    elif command == "live":
        live(*args)
    elif command == "rate":
        rate(*args)
    else:
        raise SystemExit(__doc__)
