#!/usr/bin/env python3
"""Trains the conversations service's spam filter through its API, then sends MESSAGES inbound messages
of ~2 KB and reports `concierge_spam_classify_seconds` for them alone (the histogram read before and
after, subtracted): mean (sum ÷ count) and p50 / p99 interpolated within buckets.

    spam_classify.py CONVERSATIONS_URL SERVICE_TOKEN ADMIN_TOKEN AGENT_TOKEN [MESSAGES] [TRAINING]

Training (SPEC §6), TRAINING conversations of each class (default 200):
- spam: a spammy inbound message from a new sender, then POST /v1/conversations/{id}/spam;
- not spam: an ordinary inbound message, an agent's reply, then POST /v1/conversations/{id}/close,
  which trains a replied-to conversation's messages as not spam.
Messages are ~2,000 bytes of realistic English and Danish customer-service text (a fifth of them spam-like),
each from its own sender, so each makes a new conversation."""
import http.client
import json
import random
import re
import sys
import urllib.parse

url, service, admin, agent = sys.argv[1:5]
messages = int(sys.argv[5]) if len(sys.argv) > 5 else 3000
training = int(sys.argv[6]) if len(sys.argv) > 6 else 200
target = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(target.hostname, target.port)
rng = random.Random(2026)

ENGLISH = """hello hi thanks thank you please order delivery package parcel arrived yesterday today tomorrow week
invoice payment refund return label address account password login email phone number help support question
problem issue broken damaged missing wrong item size colour color exchange warranty receipt subscription cancel
change update shipping tracking status customer service agent reply waiting since monday tuesday wednesday
thursday friday saturday sunday morning afternoon evening could would should can will not sure understand
explain again soon possible kind regards best wishes sincerely apologies sorry inconvenience appreciate
quick response information details attached photo picture screenshot error message website app checkout cart
discount code voucher gift card price charge charged twice bank transfer credit card paypal store branch
manager complaint feedback experience quality product replacement repair technician appointment visit
the a an and or but of to in on at for with from by about as is was are were be been have has had do does did
my your our their this that these those it its we you they he she i me us them there here when where why how
what which who whose""".split()
DANISH = """hej tak for hjælpen venlig hilsen mvh bestilling ordre levering pakke kom ikke frem i går i dag i morgen
uge faktura betaling refusion returnering adresse konto adgangskode mail telefonnummer spørgsmål problem fejl
ødelagt mangler forkert vare størrelse farve bytte garanti kvittering abonnement opsige ændre opdatere fragt
sporing status kundeservice medarbejder svar venter siden mandag tirsdag onsdag torsdag fredag lørdag søndag
morgen eftermiddag aften kunne ville skulle kan vil ikke sikker forstår forklare igen snart muligt beklager
ulejligheden sætter pris på hurtigt information detaljer vedhæftet billede skærmbillede fejlbesked hjemmeside
kurv rabatkode gavekort pris trukket to gange bankoverførsel kreditkort butik afdeling leder klage oplevelse
kvalitet produkt erstatning reparation tekniker aftale besøg æblegrød smørrebrød rødgrød fløde øl kr moms
og eller men af til i på ved med fra om som er var har havde gør gjorde min din vores jeres deres den det de
jeg mig os dem der her hvornår hvor hvorfor hvordan hvad hvilken hvem""".split()
SPAM = """free money winner won prize claim now click here limited offer act fast cheap pills casino bonus
bitcoin crypto investment guaranteed returns million dollars inheritance lottery urgent transfer fee
viagra discount deal exclusive congratulations selected risk free no cost unsubscribe earn cash
gratis penge vinder vundet præmie klik her tilbud hurtigt billige piller kasino gevinst lån""".split()


def text(words, size, extra=(), share=0.0):
    out, length = [], 0
    while length < size:
        sentence = [rng.choice(extra) if extra and rng.random() < share else rng.choice(words)
                    for _ in range(rng.randint(6, 16))]
        line = " ".join(sentence).capitalize() + rng.choice([".", ".", "?", "!"])
        if rng.random() < 0.1:
            line += " Order #%d, %d kr." % (rng.randint(100000, 999999), rng.randint(50, 5000))
        out.append(line)
        length += len(line.encode()) + 1
    return " ".join(out)[:size]


def call(method, path, token, body=None):
    conn.request(method, path, json.dumps(body) if body is not None else None,
                 {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        sys.exit(f"{method} {path} answered {response.status}: {data[:300]!r}")
    return json.loads(data) if data else None


def inbound(sender, body):
    return call("POST", "/v1/inbound", service, {"channel": "email", "from": sender, "subject": "Hello", "body": body})


# Spam first: until there are 5 not-spam documents the filter judges nothing, so every spam message
# starts a conversation that is not spam yet and is trained when marked.
for i in range(training):
    spam = inbound(f"spammer{i}@spam.example", text(SPAM + ENGLISH[:60], rng.randint(300, 2000), SPAM, 0.6))
    call("POST", f"/v1/conversations/{spam['conversationId']}/spam", agent)
for i in range(training):
    words = ENGLISH if i % 2 else DANISH
    ham = inbound(f"customer{i}@train.example", text(words, rng.randint(300, 2000)))
    call("POST", f"/v1/conversations/{ham['conversationId']}/messages", agent, {"body": "Thanks, we are on it."})
    call("POST", f"/v1/conversations/{ham['conversationId']}/close", agent)
summary = call("GET", "/v1/spam-filter", agent)
print(f"filter after training: {summary}", flush=True)
assert summary["spamDocuments"] >= 5 and summary["hamDocuments"] >= 5


def histogram():
    conn.request("GET", "/metrics")
    body = conn.getresponse().read().decode()
    buckets = [(float(le), int(v)) for le, v in re.findall(r'^concierge_spam_classify_seconds_bucket\{le="([^"+]+)"\} (\d+)$', body, re.M)]
    count = int(re.search(r"^concierge_spam_classify_seconds_count (\d+)$", body, re.M).group(1))
    total = float(re.search(r"^concierge_spam_classify_seconds_sum (\S+)$", body, re.M).group(1))
    return buckets, count, total


def quantile(q, buckets, count):
    rank, lower, below = q * count, 0.0, 0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            inside = cumulative - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1)
        lower, below = bound, cumulative
    return float("inf")


rounds = int(__import__("os").environ.get("ROUNDS", "3"))
results = []
for r in range(rounds):
    before = histogram()
    spam_judged, sizes = 0, []
    for i in range(messages):
        body = text(ENGLISH if i % 2 else DANISH, 2000, SPAM, 0.5 if i % 5 == 0 else 0.0)
        sizes.append(len(body.encode()))
        spam_judged += inbound(f"sender{r}-{i}@bench.example", body)["spam"]
    after = histogram()
    buckets = [(bound, cumulative - b) for (bound, cumulative), (_, b) in zip(after[0], before[0])]
    count, total = after[1] - before[1], after[2] - before[2]
    mean, p50, p99 = total / count, quantile(0.5, buckets, count), quantile(0.99, buckets, count)
    results.append((mean, p50, p99))
    print(f"round {r + 1}: {count} messages of {min(sizes)}–{max(sizes)} bytes ({spam_judged} judged spam); "
          f"classify mean {mean * 1e6:.1f} µs, p50 {p50 * 1e6:.1f} µs, p99 {p99 * 1e6:.1f} µs (from buckets)")
    counts = [(bound, cumulative - below) for (bound, cumulative), below in zip(buckets, [0] + [c for _, c in buckets])]
    print("  messages per bucket (upper bound in µs: count): " + ", ".join(f"{b * 1e6:g}: {n}" for b, n in counts if n), flush=True)
median = lambda values: sorted(values)[len(values) // 2]
print("median of %d rounds: classify mean %.1f µs, p50 %.1f µs, p99 %.1f µs"
      % (rounds, *(median([x[i] for x in results]) * 1e6 for i in range(3))))
