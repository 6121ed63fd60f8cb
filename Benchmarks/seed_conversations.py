#!/usr/bin/env python3
"""Fills a conversations database (created and migrated by the service, which must be stopped) with
COUNT realistic conversations, as the service itself stores them.

    seed_conversations.py DB_PATH COUNT [META_JSON]

Deterministic (seeded): the same COUNT gives the same rows, and the 12 inboxes and 200 agents have the
same ids at every COUNT, so an agent's share of the conversations stays the same from 10k to 1M.

- `conversations`: one contact per ~3 conversations; channels email 50 %, messaging 30 %, voice 12 %,
  voicemail 8 %; status by age (the newest 5 %: 40 % waiting, 35 % open, 25 % closed; older: 90 % closed,
  5 % open, 5 % waiting); 1.5 % spam; inbox by channel, assignee a member of that inbox (8 % of the
  waiting ones unassigned and queued); tags: 0–3 from a skewed vocabulary, stored as given (`Billing`)
  joined by U+001F, and lower-cased in `conversation_tags`; `subject_lower` = the subject lower-cased.
- Contact snapshots: `contact_emails` (85 % of contacts have an email; 2 % at
  `@super-important-customer.com`, 33 % at one of 5,000 company domains, the rest at webmail domains;
  `reversed` filled when the schema has it), `contact_tags` (vip 2 %, gold 5 %, b2b 10 %, …),
  `contact_snapshots`.
- Messages are not seeded (no list or folder reads them).

Indexes are dropped during the load and recreated with their exact stored SQL, so whatever the
migrations created (now or later) is what the service reads; the trigram index of subjects
(`conversation_subjects`, migration 6) is rebuilt. Rows replace any already there.
"""
import json
import random
import sqlite3
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

db_path, count = sys.argv[1], int(sys.argv[2])
meta_path = sys.argv[3] if len(sys.argv) > 3 else None
start = time.time()


def uid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


fixed = random.Random(7)  # inboxes and agents: the same at every COUNT
inbox_names = ["Support", "Billing", "Sales", "VIP", "Returns", "Danmark", "Deutschland", "Technical", "Chat",
               "Phone", "Voicemail", "Escalations"]
inboxes = [uid(fixed) for _ in inbox_names]
by_channel = {  # inboxes (indexes) that take each channel, with weights
    "email": [(0, 30), (1, 15), (2, 10), (3, 5), (4, 12), (5, 10), (6, 8), (7, 8), (11, 2)],
    "messaging": [(8, 50), (0, 20), (3, 5), (5, 10), (6, 10), (7, 5)],
    "voice": [(9, 80), (3, 10), (11, 10)],
    "voicemail": [(10, 90), (3, 10)],
}
agents = [uid(fixed) for _ in range(200)]
members = {i: [] for i in range(len(inboxes))}
for n, agent in enumerate(agents):  # every agent in one or two inboxes
    members[n % len(inboxes)].append(agent)
    if n % 3 == 0:
        members[(n * 7 + 3) % len(inboxes)].append(agent)
queue_of = {i: uid(fixed) for i in range(len(inboxes))}

rng = random.Random(20261123 + count)
tag_vocabulary = [  # (as agents type it, weight per 1000 tag slots)
    ("Billing", 110), ("shipping", 130), ("order", 150), ("refund", 45), ("Complaint", 30), ("urgent", 40),
    ("feedback", 50), ("technical", 80), ("account", 70), ("cancellation", 30), ("invoice", 55),
    ("payment-failed", 15), ("returns", 60), ("password-reset", 40), ("delivery-delay", 35), ("warranty", 20),
    ("GDPR", 4), ("legal", 3), ("press", 1), ("vip-escalation", 2), ("fraud", 5), ("faktura", 25), ("levering", 20),
]
tag_names = [t for t, _ in tag_vocabulary]
tag_weights = [w for _, w in tag_vocabulary]
subjects = ["Where is my order #{n}?", "Refund request for order {n}", "Invoice {n} is wrong", "Cannot log in",
            "Password reset not working", "Hvor er min pakke?", "Faktura {n} mangler", "Return label needed",
            "Damaged item in order {n}", "Change my delivery address", "Question about my subscription",
            "Complaint about delivery", "Betaling fejlede", "Warranty claim {n}", "Cancel my account",
            "Rabatkode virker ikke", "Überweisung für Rechnung {n}", "Zamówienie {n} nie dotarło"]
domains = ["gmail.com", "hotmail.com", "outlook.dk", "yahoo.com", "live.dk", "icloud.com", "mail.dk", "gmx.de"]
contact_tag_vocabulary = [("vip", 0.02), ("gold", 0.05), ("silver", 0.08), ("b2b", 0.10), ("newsletter", 0.20),
                          ("churn-risk", 0.03), ("blocked-before", 0.005), ("partner", 0.01)]

contacts = max(1, count // 3)
contact_ids = [uid(rng) for _ in range(contacts)]
contact_emails, contact_tags, snapshots = [], [], []
for i, cid in enumerate(contact_ids):
    r = rng.random()
    if r < 0.85:
        if r < 0.02:
            domain = "super-important-customer.com"
        elif r < 0.35:
            domain = "company%d.%s" % (rng.randrange(5000), rng.choice(["dk", "com", "de", "se"]))
        else:
            domain = rng.choice(domains)
        contact_emails.append(("customer%d@%s" % (i, domain), cid))
    for tag, p in contact_tag_vocabulary:
        if rng.random() < p:
            contact_tags.append((tag, cid))
    snapshots.append((cid, "2026-11-01T00:00:00.000Z"))

channels, channel_weights = ["email", "messaging", "voice", "voicemail"], [50, 30, 12, 8]
t0 = datetime(2024, 11, 23, tzinfo=timezone.utc)
span = (datetime(2026, 11, 23, tzinfo=timezone.utc) - t0).total_seconds()


def stamp(seconds):
    moment = t0 + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


rows, tag_rows = [], []
recent = count - count // 20
for seq in range(1, count + 1):
    channel = rng.choices(channels, channel_weights)[0]
    r = rng.random()
    if seq > recent:
        status = "waiting" if r < 0.40 else "open" if r < 0.75 else "closed"
    else:
        status = "closed" if r < 0.90 else "open" if r < 0.95 else "waiting"
    spam = 1 if rng.random() < 0.015 else 0
    choices = by_channel[channel]
    inbox = rng.choices([i for i, _ in choices], [w for _, w in choices])[0]
    assignee, queue, routing = rng.choice(members[inbox]), None, "assigned"
    if status == "waiting" and rng.random() < 0.08:
        assignee, queue, routing = None, queue_of[inbox], "queued"
    if status == "closed" or spam:
        routing, queue = "none", None
    n = rng.random()
    k = 0 if n < 0.35 else 1 if n < 0.75 else 2 if n < 0.93 else 3
    tags = list(dict.fromkeys(rng.choices(tag_names, tag_weights, k=k)))
    subject = rng.choice(subjects).format(n=rng.randrange(10000, 99999)) if channel == "email" or rng.random() < 0.1 else None
    created = span * seq / (count + 1)
    replied = 1 if status != "waiting" or rng.random() < 0.3 else 0
    rows.append((
        seq, uid(rng), contact_ids[rng.randrange(contacts)], channel, inboxes[inbox], assignee, queue, routing,
        1 if routing != "pending" else 0, status, subject, "\x1f".join(tags), spam, replied, stamp(created),
        stamp(created + 3600), stamp(created + 7200) if status == "closed" else None,
        stamp(created + 600) if replied else None, subject.lower() if subject else None))
    for tag in tags:
        tag_rows.append((tag.lower(), seq))

db = sqlite3.connect(db_path, isolation_level=None)
db.execute("PRAGMA synchronous=OFF")
indexes = db.execute(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
    "('conversations', 'conversation_tags', 'contact_emails', 'contact_tags', 'contact_snapshots')").fetchall()
db.execute("BEGIN")
for name, _ in indexes:
    db.execute("DROP INDEX %s" % name)
for table in ["conversation_tags", "conversations", "contact_emails", "contact_tags", "contact_snapshots"]:
    db.execute("DELETE FROM %s" % table)
db.executemany(
    "INSERT INTO conversations (seq, id, contact_id, channel, inbox_id, assignee_id, queue_id, routing_state, "
    "routing_version, status, subject, tags, spam, replied, created_at, updated_at, closed_at, first_response_at, "
    "subject_lower) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
db.executemany("INSERT INTO conversation_tags (tag, conversation_seq) VALUES (?, ?)", sorted(tag_rows))
email_columns = [row[1] for row in db.execute("PRAGMA table_info(contact_emails)")]
if "reversed" in email_columns:  # migration 5: the email with its code points reversed
    db.executemany("INSERT INTO contact_emails (email, contact_id, reversed) VALUES (?, ?, ?)",
                   [(email, cid, email[::-1]) for email, cid in sorted(contact_emails)])
else:
    db.executemany("INSERT INTO contact_emails (email, contact_id) VALUES (?, ?)", sorted(contact_emails))
db.executemany("INSERT INTO contact_tags (tag, contact_id) VALUES (?, ?)", sorted(contact_tags))
db.executemany("INSERT INTO contact_snapshots (contact_id, updated_at) VALUES (?, ?)", sorted(snapshots))
for _, sql in indexes:
    db.execute(sql)
if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'conversation_subjects'").fetchone():
    # migration 6: the trigram index over conversations.subject_lower (external content)
    db.execute("INSERT INTO conversation_subjects (conversation_subjects) VALUES ('rebuild')")
db.execute("COMMIT")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()

if meta_path:
    with open(meta_path, "w") as f:
        json.dump({"inboxes": dict(zip(inbox_names, inboxes)), "agents": agents}, f)
print("seeded %s with %d conversations (%d tags), %d contacts in %.0f s"
      % (db_path, count, len(tag_rows), contacts, time.time() - start), file=sys.stderr)
