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
SET ROLE "ingest";
CREATE TABLE IF NOT EXISTS "raw"."_ingest_offsets" (
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS "raw"."_dead_letters" (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL,
  key bytea,
  value bytea,
  headers jsonb,
  error text NOT NULL,
  stage text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (topic, partition, "offset")
);
ALTER TABLE "raw"."_dead_letters" ADD COLUMN IF NOT EXISTS replayed_at timestamptz, ADD COLUMN IF NOT EXISTS replayed_to text;
RESET ROLE;
GRANT USAGE ON SCHEMA "raw" TO "reader";
GRANT SELECT (topic, partition, "offset", stage, error, at) ON "raw"."_dead_letters" TO "reader";
COMMIT;
SQL
