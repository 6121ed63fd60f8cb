#!/usr/bin/env python3
"""Times 100 agents becoming available: each is away with 3 free messaging places (capacity
raised while away), then all 100 are set available one after another; every PUT drains that
agent's inbox queue before it answers. Prints the wall time and how many conversations were assigned.

usage: drain_routing.py BASE_URL TOKEN AGENTS_FILE
"""
import http.client, json, sys, time, urllib.parse

base, token, agents_file = sys.argv[1], sys.argv[2], sys.argv[3]
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

agents = [line.strip() for line in open(agents_file) if line.strip()][:100]  # 100 agents of 100 different inboxes
before = 0
for agent in agents:
    call("PUT", f"/v1/agents/{agent}/availability", {"availability": "away"})
    a = call("PATCH", f"/v1/agents/{agent}", {"capacity": {"messaging": 6}})
    before += a["load"]["messaging"]
started = time.perf_counter()
for agent in agents:
    call("PUT", f"/v1/agents/{agent}/availability", {"availability": "available"})
elapsed = time.perf_counter() - started
after = sum(call("GET", f"/v1/agents/{agent}")["load"]["messaging"] for agent in agents)
print(f"drain\t{len(agents)} agents\t{after - before} conversations assigned\t{elapsed * 1000:.0f} ms")
