#!/usr/bin/env bash
# Docker: creates the roles, databases and grants that stack/postgres.py's bootstrap
# creates for the local stack (tests/stack checks the two agree). The postgres image
# runs this once, on an empty data directory, as its superuser.
set -euo pipefail

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v admin_pw="$STREAMMART_PG_ADMIN_PASSWORD" \
  -v ingest_pw="$STREAMMART_PG_INGEST_PASSWORD" \
  -v transform_pw="$STREAMMART_PG_TRANSFORM_PASSWORD" \
  -v reader_pw="$STREAMMART_PG_READER_PASSWORD" \
  -v airflow_pw="$STREAMMART_PG_AIRFLOW_PASSWORD" <<'SQL'
SET password_encryption = 'scram-sha-256';
CREATE ROLE streammart_admin WITH LOGIN SUPERUSER CREATEDB CREATEROLE PASSWORD :'admin_pw';
CREATE ROLE ingest WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'ingest_pw';
CREATE ROLE transform WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'transform_pw';
CREATE ROLE reader WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'reader_pw';
CREATE ROLE airflow WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'airflow_pw';

CREATE DATABASE streammart OWNER streammart_admin;
CREATE DATABASE airflow OWNER airflow;
REVOKE ALL ON DATABASE airflow FROM PUBLIC;

\connect streammart
BEGIN;
REVOKE ALL ON DATABASE streammart FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE streammart TO ingest, transform;
GRANT CONNECT ON DATABASE streammart TO reader;
GRANT CREATE ON DATABASE streammart TO transform;
CREATE SCHEMA IF NOT EXISTS raw AUTHORIZATION ingest;
GRANT USAGE ON SCHEMA raw TO transform;
GRANT SELECT ON ALL TABLES IN SCHEMA raw TO transform;
ALTER DEFAULT PRIVILEGES FOR ROLE ingest IN SCHEMA raw GRANT SELECT ON TABLES TO transform;
COMMIT;
SQL
