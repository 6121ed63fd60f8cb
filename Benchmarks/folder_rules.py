#!/usr/bin/env python3
"""The smart-folder rules of Benchmarks/folders.sh: creates one folder per rule through the API, checks
that the service's first two pages equal a reference (the rule compiled straightforwardly, with
`IN (SELECT …)` lists, run by python's sqlite3 on the same file), and writes one paths file per rule.

    folder_rules.py BASE_URL MANAGER_TOKEN AGENT_TOKEN DB_PATH META_JSON OUT_DIR [RULE_NAMES…]

Prints: name, conversations matching (of the non-spam ones), and the folder id."""
import json
import sqlite3
import sys
import urllib.request

base, manager, agent, db_path, meta_path, out_dir = sys.argv[1:7]
only = sys.argv[7:]
meta = json.load(open(meta_path))
vip_inbox = meta["inboxes"]["VIP"]


def f(field, op, value=None):
    rule = {"field": field, "op": op}
    if value is not None:
        rule["value"] = value
    return rule


RULES = {
    # The example: three conditions, one a substring of a tag.
    "issue7-open-email-billing": {"all": [f("conversation.status", "equals", "open"),
                                          f("conversation.channel", "equals", "email"),
                                          f("conversation.tag", "contains", "billing")]},
    # Rare combination of common values (waiting voicemails about refunds).
    "rare-waiting-voicemail-refund": {"all": [f("conversation.status", "equals", "waiting"),
                                              f("conversation.channel", "equals", "voicemail"),
                                              f("conversation.tag", "equals", "refund")]},
    # A rare tag (0.1 % of conversations) under a common status.
    "rare-tag-closed-email-press": {"all": [f("conversation.status", "equals", "closed"),
                                            f("conversation.channel", "equals", "email"),
                                            f("conversation.tag", "equals", "press")]},
    # any + in + inbox: the VIP desk's open work.
    "any-vip-desk": {"all": [{"any": [f("conversation.tag", "equals", "urgent"), f("contact.tag", "equals", "vip")]},
                             f("conversation.status", "in", ["waiting", "open"]),
                             f("conversation.inboxId", "equals", vip_inbox)]},
    # Unassigned, not closed, written channels: a typical triage folder.
    "not-unassigned-written": {"all": [f("conversation.status", "notEquals", "closed"),
                                       {"not": f("conversation.assigneeId", "exists")},
                                       {"any": [f("conversation.channel", "equals", "email"),
                                                f("conversation.channel", "equals", "messaging")]}]},
    # The SPEC's example, narrowed to open email work.
    "spec-domain-open-email": {"all": [f("contact.email", "endsWith", "@super-important-customer.com"),
                                       f("conversation.status", "notEquals", "closed"),
                                       f("conversation.channel", "equals", "email")]},
    # The SPEC's example for a small customer: one of 5,000 company domains (~20 conversations in 1M).
    "spec-domain-rare": f("contact.email", "endsWith", "@company17.dk"),
    # Matches nothing: four conditions whose intersection is empty.
    "empty-open-voice-legal-press": {"all": [f("conversation.status", "equals", "open"),
                                             f("conversation.channel", "equals", "voice"),
                                             f("conversation.tag", "equals", "legal"),
                                             f("conversation.tag", "equals", "press")]},
    # No indexed part and no match: a subject word nobody wrote (the worst case, a walk over everything).
    "worst-subject-nomatch": {"all": [f("conversation.subject", "contains", "chargeback"),
                                      f("conversation.channel", "equals", "email"),
                                      f("conversation.status", "notEquals", "closed")]},
}


def escape(text):
    return "".join("\\" + c if c in "%_\\" else c for c in text)


def reference(rule, values):
    """The rule as the service first compiled it, before FolderQuery and FolderPlan: IN lists and coalesce()."""
    if "all" in rule or "any" in rule:
        key = "all" if "all" in rule else "any"
        return "(" + (" AND " if key == "all" else " OR ").join(reference(r, values) for r in rule[key]) + ")"
    if "not" in rule:
        return "NOT " + reference(rule["not"], values)
    field, op, value = rule["field"], rule["op"], rule.get("value")
    wanted = str(value).lower() if isinstance(value, str) else ""
    options = [str(v).lower() for v in value] if isinstance(value, list) else []
    tables = {"conversation.tag": ("seq", "conversation_tags", "conversation_seq", "tag", "tags != ''"),
              "contact.tag": ("contact_id", "contact_tags", "contact_id", "tag", None),
              "contact.email": ("contact_id", "contact_emails", "contact_id", "email", None)}
    if field in tables:
        outer, table, key, column, exists = tables[field]
        prefix = f"{outer} IN (SELECT {key} FROM {table} WHERE {column}"
        if op == "exists":
            return exists or f"{outer} IN (SELECT {key} FROM {table})"
        expr_close = ")"
    else:
        prefix = {"conversation.subject": "coalesce(subject_lower, '')", "conversation.status": "status",
                  "conversation.channel": "channel", "conversation.inboxId": "coalesce(inbox_id, '')",
                  "conversation.assigneeId": "coalesce(assignee_id, '')"}[field]
        if op == "exists":
            return f"{prefix} != ''"
        expr_close = ""
    if op == "in":
        values.extend(options)
        return f"{prefix} IN ({', '.join('?' for _ in options)}){expr_close}"
    pattern = {"equals": wanted, "notEquals": wanted, "contains": "%" + escape(wanted) + "%",
               "startsWith": escape(wanted) + "%", "endsWith": "%" + escape(wanted)}[op]
    values.append(pattern)
    sql = {"equals": "= ?", "notEquals": "= ?" if expr_close else "!= ?"}.get(op, "LIKE ? ESCAPE '\\'")
    text = f"{prefix} {sql}{expr_close}"
    return "NOT " + text if op == "notEquals" and expr_close else text


def call(method, path, token, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


db = sqlite3.connect(db_path)
for name, rule in RULES.items():
    if only and name not in only:
        continue
    folder = call("POST", "/v1/folders", manager, {"name": name, "rule": rule})["id"]
    values = []
    where = "spam = 0 AND " + reference(rule, values)
    total = db.execute(f"SELECT count(*) FROM conversations WHERE {where}", values).fetchone()[0]
    expected = [r[0] for r in db.execute(f"SELECT id FROM conversations WHERE {where} ORDER BY seq DESC LIMIT 100", values)]
    first = call("GET", f"/v1/folders/{folder}/conversations", agent)
    pages = [item["id"] for item in first["items"]]
    if first["nextCursor"]:
        pages += [item["id"] for item in call("GET", f"/v1/folders/{folder}/conversations?cursor={first['nextCursor']}", agent)["items"]]
    if pages != expected:
        sys.exit(f"{name}: the service's first pages differ from the reference ({len(pages)} vs {len(expected)} ids)")
    with open(f"{out_dir}/{name}.paths", "w") as out:
        out.write(f"/v1/folders/{folder}/conversations\n")
    print(f"{name:32} {total:8d} matching  (first two pages checked)  folder {folder}", flush=True)
