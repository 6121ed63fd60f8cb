#!/usr/bin/env python3
"""Seeds the services for the workflow benchmark (Benchmarks/workflow.sh).

    seed_workflow.py crm BASE_URL ADMIN_TOKEN COUNT
        Imports COUNT directory customers (POST /v1/customers/import, NDJSON): customer i has email
        customer<i>@wf-bench.example, phone +4530000000+i, every tenth is VIP, loyalty cycles through
        none/silver/gold/platinum, and each has an account manager, a lifetime value and attributes.
    seed_workflow.py routing BASE_URL ADMIN_TOKEN OUT_DIR [workflow]
        Creates three inboxes — Support (default for messaging and email, round robin, 100 agents),
        VIP (least busy, 10 agents), Managers (1 agent) — with every agent available and messaging
        and email capacities of 10,000 (the most allowed), so routes keep assigning for a million
        conversations (default routing takes ~600,000 in a whole run of workflow.sh). With "workflow", also saves (PUT /v1/workflow)
        the 10-step workflow below, written to OUT_DIR/workflow.json, and checks with two probe routes
        (a VIP and a regular customer) that a run executes exactly 10 steps, one of them the lookup,
        and assigns. Writes the inbox ids to OUT_DIR/inboxes.json.

The workflow is the vip-routing template (hero, ask for a missing email, directory lookup, VIP
branch) with tag, reply and branch steps added, so that every contact with a known email and no
dedicated hero runs 10 steps: hero, hasEmail, lookup, isVip, vipTag|regularTag,
vipReply|regularReply, loyalty, loyalTag|standardTag, team, vip|regular.
"""
import http.client, json, sys, urllib.parse

LOYALTY = ["none", "silver", "gold", "platinum"]
REGIONS = ["EU", "US", "APAC"]


def connect(base):
    url = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=120)


def call(conn, token, method, path, body=None, content_type="application/json"):
    headers = {"Authorization": "Bearer " + token, "Content-Type": content_type}
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    conn.request(method, path, body, headers)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {path} -> {response.status} {data[:300]!r}")
    return json.loads(data) if data else None


def customer(i):
    return {"email": f"customer{i}@wf-bench.example", "phone": f"+45{30000000 + i}",
            "customerType": "VIP" if i % 10 == 0 else "regular", "loyaltyStatus": LOYALTY[i % 4],
            "accountManager": f"Manager {i % 37}", "lifetimeValue": round((i * 7919) % 250000 / 10, 2),
            "attributes": {"region": REGIONS[i % 3], "segment": "smb" if i % 5 else "enterprise", "since": 2000 + i % 26}}


def seed_crm(base, token, count):
    body = "".join(json.dumps(customer(i), separators=(",", ":")) + "\n" for i in range(count)).encode()
    answer = call(connect(base), token, "POST", "/v1/customers/import", body, "application/x-ndjson")
    if answer["imported"] + answer["updated"] != count:
        raise SystemExit(f"import: {answer}")
    print(f"crm: imported {answer['imported']}, updated {answer['updated']} customers "
          f"({count // 10 + (1 if count % 10 else 0)} VIP)", file=sys.stderr)


def workflow(support, vip, manager):
    def branch(id, field, op, value, goto, otherwise):
        test = {"field": field, "op": op} | ({"value": value} if value is not None else {})
        return {"id": id, "type": "branch", "cases": [{"if": test, "goto": goto}], "else": otherwise}
    return {"start": "hero", "steps": [
        {"id": "hero", "type": "branch", "cases": [{"if": {"dedicatedHero": "assigned"}, "goto": "greet"}], "else": "hasEmail"},
        {"id": "greet", "type": "reply", "body": "Hi {{contact.name}}, we are connecting you with your dedicated agent.", "next": "toHero"},
        {"id": "toHero", "type": "assign", "to": "dedicatedHero"},
        branch("hasEmail", "contact.email", "exists", None, "lookup", "askEmail"),
        {"id": "askEmail", "type": "ask", "question": "What is your email address?", "expect": "email",
         "saveTo": "contact.email", "maxRetries": 3, "retryMessage": "That does not look like an email address, please try again.",
         "successMessage": "Thanks!", "next": "lookup", "onExhausted": "toManager"},
        {"id": "toManager", "type": "assign", "to": {"agent": manager}},
        {"id": "lookup", "type": "lookup", "by": "email", "source": "directory",
         "map": {"CustomerType": "$.customerType", "Loyalty": "$.loyaltyStatus", "AccountManager": "$.accountManager",
                 "Region": "$.attributes.region"},
         "next": "isVip", "onNotFound": "regularTag", "onError": "regularTag"},
        branch("isVip", "var.CustomerType", "equals", "VIP", "vipTag", "regularTag"),
        {"id": "vipTag", "type": "tag", "tags": ["vip"], "next": "vipReply"},
        {"id": "vipReply", "type": "reply",
         "body": "Hi {{contact.name}}, welcome back. {{var.AccountManager}}'s VIP team ({{var.Region}}) will be with you shortly.",
         "next": "loyalty"},
        {"id": "regularTag", "type": "tag", "tags": ["regular"], "next": "regularReply"},
        {"id": "regularReply", "type": "reply", "body": "Hi {{contact.name}}, thanks for your message on {{channel}}; we will answer shortly.",
         "next": "loyalty"},
        {"id": "loyalty", "type": "branch", "cases": [
            {"if": {"field": "var.Loyalty", "op": "in", "value": ["gold", "platinum"]}, "goto": "loyalTag"}], "else": "standardTag"},
        {"id": "loyalTag", "type": "tag", "tags": ["loyalty-gold-plus"], "next": "team"},
        {"id": "standardTag", "type": "tag", "tags": ["loyalty-standard"], "next": "team"},
        branch("team", "var.CustomerType", "equals", "VIP", "vip", "regular"),
        {"id": "vip", "type": "assign", "to": {"inbox": vip, "strategy": "least_busy"}},
        {"id": "regular", "type": "assign", "to": {"inbox": support}},
    ]}


def seed_routing(base, token, out, with_workflow):
    conn = connect(base)
    inboxes = {}
    for name, strategy, default_for, members in [("Support", "round_robin", ["messaging", "email"], 100),
                                                 ("VIP", "least_busy", [], 10), ("Managers", "round_robin", [], 1)]:
        inbox = call(conn, token, "POST", "/v1/inboxes", {"name": name, "strategy": strategy, "defaultFor": default_for})
        inboxes[name] = inbox["id"]
        for n in range(members):
            agent = call(conn, token, "POST", "/v1/agents", {
                "name": f"{name} agent {n}", "email": f"{name.lower()}{n}@wf-bench.example", "availability": "available",
                "inboxIds": [inbox["id"]], "capacity": {"messaging": 10000, "email": 10000}})
            inboxes.setdefault(name + "Agents", []).append(agent["id"])
    json.dump(inboxes, open(f"{out}/inboxes.json", "w"))
    if not with_workflow:
        print(f"routing {base}: 3 inboxes, 111 agents, no workflow", file=sys.stderr)
        return
    document = workflow(inboxes["Support"], inboxes["VIP"], inboxes["ManagersAgents"][0])
    json.dump(document, open(f"{out}/workflow.json", "w"), indent=1)
    version = call(conn, token, "PUT", "/v1/workflow", document)["version"]
    for i, team in [(0, inboxes["VIP"]), (1, inboxes["Support"])]:
        result = call(conn, token, "POST", "/v1/route", {
            "conversationId": f"probe-{i}", "event": "new", "channel": "messaging",
            "contact": {"id": f"probe-contact-{i}", "name": f"Customer {i}", "emails": [f"customer{i}@wf-bench.example"]},
            "message": {"id": "m1", "body": "hello"}})
        ran = [t["step"] for t in result["trace"]]
        lookup = [t for t in result["trace"] if t["step"] == "lookup"]
        if (result["routingState"] != "assigned" or result["inboxId"] != team or not lookup or "found" not in lookup[0]["outcome"]
                or len(result.get("replies", [])) != 1 or len(result.get("tags", [])) != 2):
            raise SystemExit(f"probe {i}: unexpected answer {json.dumps(result)}")
        workflow_steps = [s for s in ran if s in {step["id"] for step in document["steps"]}]
        if len(workflow_steps) != 10:
            raise SystemExit(f"probe {i}: {len(workflow_steps)} workflow steps ran, not 10: {ran}")
        print(f"routing {base}: workflow version {version}; probe customer{i} ran {len(workflow_steps)} steps "
              f"({' → '.join(workflow_steps)}), {lookup[0]['outcome']}, assigned to {result['assigneeId']}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "crm":
        seed_crm(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) >= 5 and sys.argv[1] == "routing":
        seed_routing(sys.argv[2], sys.argv[3], sys.argv[4], len(sys.argv) > 5 and sys.argv[5] == "workflow")
    else:
        sys.exit(__doc__)
