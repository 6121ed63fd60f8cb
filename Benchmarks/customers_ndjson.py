#!/usr/bin/env python3
"""customers_ndjson.py COUNT PATH: writes COUNT customers as NDJSON for POST /v1/customers/import.

Customer i has email customer<i>@example.com (what Benchmarks/wrk/lookup.lua asks for), phone
+4520000000 + i, every tenth is VIP, and each carries an account manager, a lifetime value and two
attributes, so a line looks like a real CRM export (~200 bytes). Deterministic: same COUNT, same file.
"""
import sys

count, path = int(sys.argv[1]), sys.argv[2]
loyalty = ["none", "silver", "gold", "platinum"]
regions = ["EU", "US", "APAC"]
with open(path, "w", encoding="utf-8") as out:
    for i in range(count):
        out.write(
            '{"email":"customer%d@example.com","phone":"+45%08d","customerType":"%s","loyaltyStatus":"%s",'
            '"accountManager":"Manager %d","lifetimeValue":%d.%02d,'
            '"attributes":{"region":"%s","segment":"smb","since":%d}}\n'
            % (i, 20000000 + i, "VIP" if i % 10 == 0 else "regular", loyalty[i % 4], i % 97, i % 10000, i % 100,
               regions[i % 3], 2000 + i % 26))
print(f"wrote {count} customers to {path}")
