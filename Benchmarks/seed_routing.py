#!/usr/bin/env python3
"""Seeds a running routing service for the routing benchmark.

usage: seed_routing.py BASE_URL TOKEN AGENTS INBOXES WAITING OUT_DIR

Creates INBOXES inboxes and AGENTS agents spread evenly over them (membership order = creation
order), all "away"; routes WAITING + AGENTS*3 conversations to random inboxes (as their hero
inbox) so they queue; then makes every agent available with messaging capacity 3, which drains
AGENTS*3 of them and leaves WAITING waiting with every agent at capacity. Writes inbox ids to
OUT_DIR/inboxes.txt and agent ids to OUT_DIR/agents.txt. Uses one keep-alive connection.
"""
import http.client, json, random, sys, time, urllib.parse

base, token, agents, inboxes, waiting, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
url = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

def call(method, path, body=None):
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {path} -> {response.status} {data[:300]!r}")
    return json.loads(data) if data else None

random.seed(42)
inbox_ids = [call("POST", "/v1/inboxes", {"name": f"Team {i}", "strategy": "round_robin" if i % 2 else "least_busy"})["id"] for i in range(inboxes)]
agent_ids = []
for i in range(agents):
    agent = call("POST", "/v1/agents", {"name": f"Agent {i}", "email": f"agent{i}@bench.example", "availability": "away",
                                         "inboxIds": [inbox_ids[i % inboxes]], "capacity": {"messaging": 3}})
    agent_ids.append(agent["id"])
started = time.time()
for n in range(waiting + agents * 3):
    inbox = random.choice(inbox_ids)
    call("POST", "/v1/route", {"conversationId": f"seed-{n}", "event": "new", "channel": "messaging",
                               "contact": {"id": f"seed-contact-{n}", "dedicatedHero": {"type": "inbox", "id": inbox}},
                               "message": {"id": "m1", "body": "hi"}})
print(f"routed {waiting + agents * 3} conversations in {time.time() - started:.1f}s", file=sys.stderr)
for agent in agent_ids:
    call("PUT", f"/v1/agents/{agent}/availability", {"availability": "available"})
open(f"{out}/inboxes.txt", "w").write("\n".join(inbox_ids) + "\n")
open(f"{out}/agents.txt", "w").write("\n".join(agent_ids) + "\n")
