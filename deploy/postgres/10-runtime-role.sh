#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d). It creates the app's runtime role: it logs in and may read
# and write rows, but owns nothing, so the audit tables' triggers refuse it UPDATE, DELETE
# and TRUNCATE (docs/audit.md). The tables belong to POSTGRES_USER, the owner, which the
# `migrate` service connects as; that service also runs `grant_runtime_role` after every
# migrate, so an existing data directory (where this script never runs) gets the role too.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v role="${TAXSERVICE_RUNTIME_DB_USER:-taxservice_app}" \
  -v password="${TAXSERVICE_RUNTIME_DB_PASSWORD:?set TAXSERVICE_RUNTIME_DB_PASSWORD}" \
  -v owner="$POSTGRES_USER" -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
GRANT CONNECT ON DATABASE :"db" TO :"role";
GRANT USAGE ON SCHEMA public TO :"role";
-- The owner creates every table (migrations): the runtime role gets row rights on each.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"role";
SQL
