#!/bin/sh
# Creates the persistence and visibility databases when missing and brings their schemas to the newest version, as the
# cluster profile does (idempotent: setup-schema keeps an existing version, update-schema applies only what is newer).
set -eu
export SQL_PLUGIN=postgres12 SQL_HOST="${SQL_HOST:-postgres}" SQL_PORT="${SQL_PORT:-5432}" SQL_USER="${SQL_USER:-agents}"
: "${SQL_PASSWORD:?set SQL_PASSWORD}"
schemas=/etc/temporal/schema/postgresql/v12
for pair in temporal:temporal temporal_visibility:visibility; do
  db="${pair%%:*}" dir="$schemas/${pair#*:}/versioned"
  temporal-sql-tool --plugin postgres12 --db "$db" create-database >/dev/null 2>&1 || true
  temporal-sql-tool --plugin postgres12 --db "$db" setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --db "$db" update-schema -d "$dir"
done
