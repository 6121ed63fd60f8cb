#!/usr/bin/env bash
# Usage: seed-contacts.sh DB_PATH COUNT
# Fills a contacts database (already migrated by the service) with COUNT contacts in one
# transaction: ids 00000000-0000-4000-8000-%012d, emails user<i>@example.com, as the service
# itself stores them (list columns joined by U+001F, an identities row per email).
set -euo pipefail
db=$1 count=$2
sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
BEGIN;
DELETE FROM identities; DELETE FROM contact_tags; DELETE FROM contacts;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $count - 1)
INSERT INTO contacts (seq, id, name, emails, phones, handles, tags, attributes, blocked, created_at, updated_at)
SELECT i + 1, printf('00000000-0000-4000-8000-%012d', i), 'Contact ' || i, 'user' || i || '@example.com',
       '', '', '', '', 0, '2026-11-23T00:00:00.000Z', '2026-11-23T00:00:00.000Z' FROM n;
INSERT INTO identities (kind, value, contact_seq) SELECT 'email', emails, seq FROM contacts;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
echo "seeded $db with $(sqlite3 "$db" 'SELECT count(*) FROM contacts') contacts"
